"""One rule for "past its stage limit" (workflows.stage_limits), counted alike in Python, as a
queryset filter and in SQL: the board, the country board, the stall alerts and the task list's
due dates cannot disagree."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from workflows import selectors, services, stage_limits
from workflows.models import PolicyProcess, StageLimit

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)


def test_a_process_is_past_its_limit_from_the_same_moment_everywhere(leader, vaxjo):
    with time_machine.travel(START, tick=False):
        process = services.start_process(municipality=vaxjo, user=leader)
    days = StageLimit.objects.get(stage=process.stage).days
    due = START + datetime.timedelta(days=days)
    limits = stage_limits.stage_limits()
    open_processes = PolicyProcess.objects.filter(pk=process.pk)

    for now, past in ((due, False), (due + datetime.timedelta(seconds=1), True)):
        assert stage_limits.is_past_limit(process.stage, START, limits, now) is past
        assert open_processes.filter(stage_limits.past_limit(limits, now)).exists() is past

    (task,) = selectors.inbox_tasks(user=leader)
    assert task.due == stage_limits.due_at(process.stage, START, limits) == due


def test_a_closed_stage_or_a_stage_without_a_limit_is_never_past_it():
    long_ago = timezone.now() - datetime.timedelta(days=10_000)
    assert stage_limits.due_at("adopted", long_ago, {"adopted": 1}) is None
    assert stage_limits.is_past_limit("dialogue", long_ago, {}, timezone.now()) is False
    assert stage_limits.past_limit({"adopted": 1}, timezone.now()) is None
