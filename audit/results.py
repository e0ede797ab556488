"""What a verification of the audit trail found (`audit.verification`)."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    event_id: int | None
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"event id {self.event_id} (seq {self.seq})" if self.event_id else "chain"
        return f"{where}: {self.message}"


@dataclass
class Result:
    started_at: object
    finished_at: object = None
    rows_checked: int = 0
    # The checkpoint verified up to (the head published outside the database).
    head_id: int | None = None
    head_seq: int | None = None
    head_hash: str | None = None
    is_full: bool = True
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def is_ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_id(self) -> int | None:
        return self.problems[0].event_id if self.problems else None

    @property
    def first_problem(self) -> str:
        return str(self.problems[0]) if self.problems else ""
