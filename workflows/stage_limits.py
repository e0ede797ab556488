"""The one rule for "past its stage limit": an open process is due when the days of its stage's
`StageLimit` have passed since it entered the stage, and past its limit after that moment. A
closed stage, or a stage without a limit, is never due.

The stage board, the country board, the stall alerts and the task list's due dates all count it
here: in Python (`due_at`, `is_past_limit`), as a queryset filter (`past_limit`) and as a SQL
expression (`due_expression`), each the same rule.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models import Value as V

from .models import CLOSED_STAGES, StageLimit


def stage_limits() -> dict[str, int]:
    """Stage → days (one query)."""
    return dict(StageLimit.objects.values_list("stage", "days"))


def due_at(stage: str, entered_at: datetime.datetime, limits: dict[str, int]):
    """When a process in ``stage`` since ``entered_at`` runs past its limit; None if never."""
    days = None if stage in CLOSED_STAGES else limits.get(stage)
    return entered_at + datetime.timedelta(days=days) if days else None


def is_past_limit(stage, entered_at, limits: dict[str, int], now: datetime.datetime) -> bool:
    due = due_at(stage, entered_at, limits)
    return due is not None and now > due


def past_limit(limits: dict[str, int], now: datetime.datetime) -> Q | None:
    """A filter of processes (PolicyProcess) past their limit at ``now``; None if no stage has
    one."""
    overdue = None
    for stage, days in limits.items():
        if stage in CLOSED_STAGES or not days:
            continue
        one = Q(stage=stage, stage_entered_at__lt=now - datetime.timedelta(days=days))
        overdue = one if overdue is None else overdue | one
    return overdue


def due_expression(process: str = "") -> ExpressionWrapper:
    """`due_at` in SQL, for a queryset whose process (PolicyProcess) is reached through
    ``process`` (e.g. "process__policyprocess__" from a task): no extra query for a page that
    lists open steps. The tasks it is used on belong to open processes."""
    limit_days = StageLimit.objects.filter(stage=OuterRef(f"{process}stage"))
    return ExpressionWrapper(
        F(f"{process}stage_entered_at") + _as_days(Subquery(limit_days.values("days")[:1])),
        output_field=DateTimeField(),
    )


def _as_days(days) -> ExpressionWrapper:
    """An integer expression as a number of days, in the database's own terms: an interval in
    PostgreSQL; microseconds in SQLite (the quick-start database), as Django stores durations."""
    if connection.vendor == "postgresql":
        return ExpressionWrapper(days * V(datetime.timedelta(days=1)), output_field=DurationField())
    return ExpressionWrapper(days * V(86_400_000_000), output_field=DurationField())
