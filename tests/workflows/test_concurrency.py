"""A step completed by several people at the same moment is completed once.

These run real threads against the real PostgreSQL: each thread has its own database connection
(closed when it ends) and the test commits for real, so the flow's row lock is what is tested.
"""

import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from viewflow.workflow.models import Task

from municipalities.models import Municipality
from tests.support.locks import LOCK_WAIT_TIMEOUT, join_all, wait_until_waiting_on_a_lock
from workflows import services
from workflows.flows import PolicyAdoptionFlow
from workflows.models import ApprovalAnswer, PolicyDraft, PolicyProcess

from .helpers import OPEN, english, valid_step_data, walk_to  # noqa: F401

# Real commits. (No serialized_rollback: Django then skips post_migrate after the flush, and a
# following transactional test would find no permissions. pytest-django runs these tests last.)
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("english"),
]


def at_once(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released together; return each result or exception."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=LOCK_WAIT_TIMEOUT)
            results[i] = work(i)
        except Exception as exc:  # the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    join_all(*threads)
    return results


def kinds(results) -> Counter:
    return Counter(type(r).__name__ for r in results)


@pytest.fixture
def process(leader, vaxjo):
    return services.start_process(municipality=vaxjo, user=leader)


def open_tasks(process, name: str):
    return Task.objects.filter(
        process_id=process.pk, flow_task=getattr(PolicyAdoptionFlow, name), status__in=OPEN
    )


def done_rows(task) -> int:
    """Rows in the audit trail that record ``task`` being completed."""
    return Task.history.filter(id=task.pk, status="DONE").count()


@pytest.mark.parametrize("threads", [2, 8])
def test_draft_written_by_several_at_once_is_written_once(process, leader, vaxjo_contact, threads):
    task = walk_to(process, leader, vaxjo_contact, "draft")

    def write(i):
        return services.write_draft(
            task=Task.objects.get(pk=task.pk),
            user=type(leader).objects.get(pk=leader.pk),
            competition_section=f"Konkurrens {i}",
            customer_section=f"Kund {i}",
        )

    results = at_once(threads, write)

    assert kinds(results) == {"PolicyDraft": 1, "StepAlreadyDone": threads - 1}
    assert PolicyDraft.objects.filter(process=process).count() == 1
    assert open_tasks(process, "request_approval").count() == 1
    assert done_rows(task) == 1
    process.refresh_from_db()
    assert process.stage == "drafting"


def test_a_draft_written_while_another_holds_the_step_waits_and_finds_it_done(
    process, leader, vaxjo_contact
):
    """The second writer is seen blocked on the step's lock before the first commits, so the
    race happens however slow the machine: it then finds the step done, not a second draft."""
    task = walk_to(process, leader, vaxjo_contact, "draft")
    holding, release = threading.Event(), threading.Event()
    results = {}

    def write(name):
        try:
            with transaction.atomic():
                results[name] = services.write_draft(
                    task=Task.objects.get(pk=task.pk),
                    user=type(leader).objects.get(pk=leader.pk),
                    competition_section=f"Konkurrens {name}",
                    customer_section=f"Kund {name}",
                )
                if name == "holder":
                    holding.set()
                    release.wait(timeout=LOCK_WAIT_TIMEOUT)
        except Exception as exc:  # the test inspects what each writer got
            results[name] = exc
        finally:
            connection.close()

    holder = threading.Thread(target=write, args=("holder",))
    holder.start()
    assert holding.wait(timeout=LOCK_WAIT_TIMEOUT)
    waiter = threading.Thread(target=write, args=("waiter",))
    waiter.start()
    wait_until_waiting_on_a_lock(waiter)
    release.set()
    join_all(holder, waiter)

    assert kinds(results.values()) == {"PolicyDraft": 1, "StepAlreadyDone": 1}
    assert isinstance(results["holder"], PolicyDraft)
    assert PolicyDraft.objects.get(process=process).competition_section == "Konkurrens holder"
    assert done_rows(task) == 1


@pytest.mark.parametrize("threads", [2, 8])
def test_contact_step_posted_by_several_leaders_at_once_completes_once(
    process, leader, vaxjo_contact, threads
):
    task = walk_to(process, leader, vaxjo_contact, "contact")
    url = reverse("workflows:step", args=[task.pk])
    data = valid_step_data("contact", vaxjo_contact)
    clients = []
    for _ in range(threads):
        client = Client()
        client.force_login(leader)
        clients.append(client)

    responses = at_once(threads, lambda i: clients[i].post(url, data))

    assert all(not isinstance(r, Exception) for r in responses), responses
    codes = Counter(r.status_code for r in responses)
    assert codes == {302: 1, 409: threads - 1}
    for response in responses:
        if response.status_code == 409:
            assert "This step has already been completed" in response.content.decode()
    assert process.first_contacts.count() == 1
    assert open_tasks(process, "dialogue").count() == 1
    assert done_rows(task) == 1


@pytest.mark.parametrize("threads", [2, 8])
def test_approval_answered_by_several_at_once_is_answered_once(
    process, leader, vaxjo_contact, threads
):
    task = walk_to(process, leader, vaxjo_contact, "approval")
    answers = ["approved", "changes_requested"] * threads

    def answer(i):
        return services.answer_approval(
            task=Task.objects.get(pk=task.pk),
            contact=type(vaxjo_contact).objects.get(pk=vaxjo_contact.pk),
            answer=answers[i],
            comment="Ändra stycke 2." if answers[i] == "changes_requested" else "",
        )

    results = at_once(threads, answer)

    assert kinds(results) == {"ApprovalAnswer": 1, "StepAlreadyDone": threads - 1}
    assert ApprovalAnswer.objects.filter(process=process).count() == 1
    winner = next(r for r in results if isinstance(r, ApprovalAnswer))
    following = "decision" if winner.answer == "approved" else "draft"
    assert open_tasks(process, following).count() == 1
    assert not open_tasks(process, "approval").exists()
    assert done_rows(task) == 1


def test_two_bulk_starts_at_once_open_one_process_per_municipality(leader, seeded):
    kronoberg = Municipality.objects.get(code="0780").county

    results = at_once(
        2,
        lambda i: services.start_processes_for_county(
            county=kronoberg, user=type(leader).objects.get(pk=leader.pk)
        ),
    )

    assert all(isinstance(r, list) for r in results), results
    assert sum(len(r) for r in results) == 8
    assert PolicyProcess.objects.count() == 8
    assert Task.objects.filter(flow_task=PolicyAdoptionFlow.contact, status__in=OPEN).count() == 8
