"""Country-wide checkpoints: every chain's head at one moment, chained checkpoint to checkpoint.

The chains grow independently (one per municipality, `audit.chain`), so no single event is "the"
head any more. A checkpoint records each chain's head (seq and hash) and is itself hashed with
the HMAC over the previous checkpoint's hash: a chain edited, cut short or rolled back after a
checkpoint no longer holds the head the checkpoint recorded, and a checkpoint removed or edited
breaks the checkpoints' own chain. The latest checkpoint's `SEQ:HASH` is what is published outside
the database (the nightly email, an archive's manifest; `verify_audit --expect-head`).

Taken by Celery beat every few minutes (`audit.take_checkpoint`, `AUDIT_CHECKPOINT_MINUTES`) and
before every verification; a checkpoint with nothing new since the last one is not taken again.
"""

from __future__ import annotations

import hmac

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import chain
from .models import GENESIS_HASH, LEGACY_CHAIN, AuditCheckpoint, AuditEvent, ChainHead
from .results import Problem

PAYLOAD_VERSION = 1


def checkpoint_hash(*, seq: int, created_at, heads: dict, events: int, prev_hash: str, key=None):
    """HMAC-SHA256 of a checkpoint: its number, time, every chain's head, the number of events and
    the previous checkpoint's hash."""
    created = created_at if isinstance(created_at, str) else chain.timestamp(created_at)
    data = {
        "seq": seq,
        "created_at": created,
        "heads": heads,
        "events": events,
        "prev_hash": prev_hash,
        "v": PAYLOAD_VERSION,
    }
    payload = b"checkpoint:" + chain.canonical(data)
    return hmac.digest(key or chain.hmac_key(), payload, "sha256").hex()


def current_heads(using: str = "default") -> dict[str, list]:
    """{chain: [seq, hash]} of every chain with events, as committed (one statement: one
    consistent moment)."""
    rows = ChainHead.objects.using(using).filter(seq__gt=0).values_list("key", "seq", "hash")
    return {key: [seq, hash_] for key, seq, hash_ in rows.order_by("key")}


def take_checkpoint(using: str = "default") -> AuditCheckpoint | None:
    """Record every chain's head as the next checkpoint (None while there are no events); the
    latest one again when no chain moved since."""
    try:
        return _take(using)
    except IntegrityError:
        # Another checkpoint got the same number first (both found none before them): follow it.
        return _take(using)


def _take(using: str) -> AuditCheckpoint | None:
    with transaction.atomic(using=using):
        # The latest checkpoint's row, locked: checkpoints are taken one at a time.
        last = AuditCheckpoint.objects.using(using).select_for_update().order_by("-seq").first()
        heads = current_heads(using)
        if not heads:
            return None
        if last is not None and last.heads == heads:
            return last
        checkpoint = AuditCheckpoint(
            seq=(last.seq if last else 0) + 1,
            created_at=timezone.now(),
            heads=heads,
            events=sum(seq for seq, _hash in heads.values()),
            prev_hash=last.hash if last else GENESIS_HASH,
        )
        checkpoint.hash = checkpoint_hash(
            seq=checkpoint.seq,
            created_at=checkpoint.created_at,
            heads=heads,
            events=checkpoint.events,
            prev_hash=checkpoint.prev_hash,
        )
        checkpoint.save(using=using, force_insert=True)
        return checkpoint


def latest(using: str = "default") -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.using(using).order_by("-seq").first()


def published_head(seq: int | None, hash_: str | None) -> str:
    """A checkpoint as it is published outside the database (`SEQ:HASH`), for
    `verify_audit --expect-head`."""
    return f"{seq}:{hash_}" if seq else ""


def parse_head(text: str) -> tuple[int, str]:
    """`SEQ:HASH` (as `published_head` writes it) → (seq, hash); ValueError when malformed."""
    seq, sep, hash_ = text.strip().partition(":")
    hash_ = hash_.strip().lower()
    if not sep or not seq.strip().isdigit() or int(seq) < 1 or len(hash_) != 64:
        raise ValueError(f"not a published chain head (SEQ:HASH): {text!r}")
    int(hash_, 16)  # hex only
    return int(seq), hash_


# --- Verifying (`audit.verification`) ----------------------------------------------------------


def check_chain(marks: list[AuditCheckpoint], *, from_start: bool) -> list[Problem]:
    """The checkpoints chain (seq without gaps, prev_hash, hash) and no chain goes back."""
    problems = []
    key = chain.hmac_key()
    previous = None
    for mark in marks:
        where = f"checkpoint {mark.seq}"
        if previous is None and from_start and (mark.seq != 1 or mark.prev_hash != GENESIS_HASH):
            problems.append(Problem(None, None, f"{where} does not start the checkpoints: removed"))
        if previous is not None:
            if mark.seq != previous.seq + 1 or mark.prev_hash != previous.hash:
                problems.append(
                    Problem(None, None, f"{where} does not follow checkpoint {previous.seq}")
                )
            for name, (seq, _hash) in previous.heads.items():
                if mark.heads.get(name, (0, ""))[0] < seq:
                    problems.append(
                        Problem(None, None, f"{where}: chain {name} went back (rolled back)")
                    )
        computed = checkpoint_hash(
            seq=mark.seq,
            created_at=mark.created_at,
            heads=mark.heads,
            events=mark.events,
            prev_hash=mark.prev_hash,
            key=key,
        )
        if not hmac.compare_digest(computed, mark.hash):
            problems.append(
                Problem(None, None, f"{where}: hash does not match its content: altered")
            )
        previous = mark
    return problems


def heads_still_held(marks, remembered: dict) -> list[Problem]:
    """Every head a checkpoint recorded is still in its chain with the same hash."""
    problems, seen = [], set()
    for mark in marks:
        for name, (seq, hash_) in sorted(mark.heads.items()):
            if (name, seq) in seen:
                continue
            seen.add((name, seq))
            found = remembered.get((name, seq))
            if found is None:
                problems.append(
                    Problem(
                        None,
                        None,
                        f"checkpoint {mark.seq}: chain {name} no longer holds seq {seq}: rows "
                        "were removed from the end (or the chain rolled back)",
                    )
                )
            elif not hmac.compare_digest(found, hash_):
                problems.append(
                    Problem(
                        None,
                        None,
                        f"checkpoint {mark.seq}: chain {name} holds another seq {seq}: the record "
                        "was rewritten",
                    )
                )
    return problems


def published_still_there(using: str, expect_heads: list[tuple[int, str]]) -> list[Problem]:
    """Each published head is a checkpoint still there unchanged (a head published before the
    checkpoints existed is an event of the legacy chain)."""
    problems = []
    for seq, hash_ in expect_heads:
        text = published_head(seq, hash_)
        held = AuditCheckpoint.objects.using(using).filter(seq=seq).values_list("hash", flat=True)
        legacy = AuditEvent.objects.using(using).filter(chain=LEGACY_CHAIN, seq=seq)
        found = [*held, *legacy.values_list("hash", flat=True)]
        if not found:
            problems.append(
                Problem(
                    None,
                    None,
                    f"the published head {text} is not in the chain of checkpoints: the record "
                    "was wiped or shortened",
                )
            )
        elif not any(hmac.compare_digest(value, hash_) for value in found):
            problems.append(
                Problem(
                    None,
                    None,
                    f"checkpoint {seq} does not have the published head's hash ({text}): the "
                    "record was rewritten",
                )
            )
    return problems
