"""The history rows against their events (`audit.binding`): every history row has its event and
every event's row is there, unchanged. Part of `audit.verification`."""

from __future__ import annotations

import hmac

from . import binding
from .models import AuditEvent
from .results import MAX_PROBLEMS, Problem

_MASK = (1 << 64) - 1


def check_table(using, chunk_size, label) -> tuple[str, int, int]:
    """(label, rows, sum of the first 64 bits of their digests) of one history table."""
    model = binding.history_models()[label]
    count = total = 0
    for _history_id, digest in binding.table_digests(model, using, chunk_size):
        count += 1
        total = (total + int.from_bytes(digest[:8], "big")) & _MASK
    return label, count, total


def compare_history(using, chunk_size, ranges, tables) -> list[Problem]:
    """Every history row has its event and every event's row is there, unchanged: per table,
    the events' digests (with pseudonymisations' rewrites) must add up to the rows' digests.
    Only a table where they do not is read again, row by row, to name what differs."""
    expected: dict[str, list[int]] = {}
    for found in ranges:
        for label, (count, total) in found.bound.items():
            sums = expected.setdefault(label, [0, 0])
            sums[0] += count
            sums[1] = (sums[1] + total) & _MASK
    rewrites = sorted((r for found in ranges for r in found.rewrites), key=lambda r: r[0])
    for _event_id, _seq, label, _history_id, old, new in rewrites:
        sums = expected.setdefault(label, [0, 0])
        sums[1] = (sums[1] - int(old[:16] or "0", 16) + int(new[:16] or "0", 16)) & _MASK
    problems = []
    seen = set()
    for label, count, total in tables:
        seen.add(label)
        if expected.get(label, [0, 0]) != [count, total]:
            problems += _locate(using, chunk_size, label, rewrites)
    for label in sorted(set(expected) - seen):
        problems.append(
            Problem(None, None, f"events name history rows of {label}, which has no history table")
        )
    return problems


def _locate(using, chunk_size, label, rewrites) -> list[Problem]:
    model = binding.history_models()[label]
    table = model._meta.db_table
    events = (
        AuditEvent.objects.using(using)
        .filter(model_label=label, history_id__isnull=False)
        .values_list("history_id", "record_digest", "id", "seq")
    )
    expected = {row[0]: row[1:] for row in events.iterator(chunk_size=chunk_size)}
    problems = []
    for event_id, seq, rewritten_label, history_id, old, new in rewrites:
        if rewritten_label != label:
            continue
        current = expected.get(history_id)
        if current is None or current[0] != old:
            problems.append(
                Problem(
                    event_id,
                    seq,
                    f"rewrote history row {table} #{history_id}, which had already been altered",
                )
            )
        expected[history_id] = (new, event_id, seq)
    for history_id, digest in binding.table_digests(model, using, chunk_size):
        entry = expected.pop(history_id, None)
        if entry is None:
            problems.append(
                Problem(
                    None,
                    None,
                    f"history row {table} #{history_id} has no audit event: added behind the "
                    "application's back",
                )
            )
        elif not hmac.compare_digest(entry[0], digest.hex()):
            problems.append(
                Problem(
                    entry[1],
                    entry[2],
                    f"its history row ({table} #{history_id}) does not match its digest: altered",
                )
            )
        if len(problems) >= MAX_PROBLEMS:
            return problems
    for history_id, (_digest, event_id, seq) in sorted(expected.items()):
        problems.append(
            Problem(event_id, seq, f"its history row ({table} #{history_id}) is gone: deleted")
        )
    return problems[:MAX_PROBLEMS]


def check_events_rows(using: str, events: list[tuple], rewrites: list[tuple]) -> list[Problem]:
    """For an incremental verification: each of ``events`` (event id, seq, label, history id,
    record digest) still has its history row, unchanged but for the ``rewrites`` of the
    pseudonymisations among them (one query per table, and one per row with many-to-many
    history)."""
    models = binding.history_models()
    by_label: dict[str, dict[int, tuple]] = {}
    for event_id, seq, label, history_id, digest in events:
        by_label.setdefault(label, {})[history_id] = (event_id, seq, digest)
    for _event_id, _seq, label, history_id, _old, new in rewrites:
        entry = by_label.get(label, {}).get(history_id)
        if entry is not None:
            by_label[label][history_id] = (*entry[:2], new)
    problems = []
    for label, expected in sorted(by_label.items()):
        model = models.get(label)
        if model is None:
            problems.append(
                Problem(
                    None, None, f"events name history rows of {label}, which has no history table"
                )
            )
            continue
        table = model._meta.db_table
        found = model._default_manager.using(using).filter(pk__in=list(expected))
        for record in found.iterator(chunk_size=2000):
            event_id, seq, digest = expected.pop(record.pk)
            if not hmac.compare_digest(binding.digest_of_record(record), digest):
                problems.append(
                    Problem(
                        event_id,
                        seq,
                        f"its history row ({table} #{record.pk}) does not match its digest: "
                        "altered",
                    )
                )
        for history_id, (event_id, seq, _digest) in sorted(expected.items()):
            problems.append(
                Problem(event_id, seq, f"its history row ({table} #{history_id}) is gone: deleted")
            )
    return problems[:MAX_PROBLEMS]
