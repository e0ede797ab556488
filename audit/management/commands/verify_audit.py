"""`manage.py verify_audit`: re-compute the audit chains, record it, exit non-zero if broken."""

import os

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import parse_head, published_head, take_checkpoint
from audit.verification import record_verification, verify_chain


class Command(BaseCommand):
    help = (
        "Take a checkpoint of every chain, then re-compute the audit trail's hash chains from the "
        "last verified checkpoint (--full: from the start) and name the first row that was "
        "altered, inserted out of order or removed, and check that every append-only trigger is "
        "installed. With --expect-head, also that a checkpoint published outside the database "
        "(the nightly email, an archive manifest) is still there unchanged. Exits with status 1 "
        "when any check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=None, help="Rows per round trip.")
        parser.add_argument(
            "--jobs",
            type=int,
            default=min(os.cpu_count() or 1, 4),
            help="Processes checking id ranges in parallel (default: the CPUs, at most 4).",
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="Verify every event, not only those since the last verified checkpoint.",
        )
        parser.add_argument(
            "--no-record",
            action="store_true",
            help="Neither take a checkpoint nor store the result (dry run).",
        )
        parser.add_argument(
            "--expect-head",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help=(
                "A checkpoint published earlier (the nightly verification email, an archive's "
                "manifest.json): it must still be there unchanged. Repeatable."
            ),
        )

    def handle(
        self, *args, chunk_size=None, jobs=1, full=False, no_record=False, expect_head=(), **options
    ):
        try:
            expected = [parse_head(text) for text in expect_head]
        except ValueError as error:
            raise CommandError(str(error)) from error
        if not no_record:
            take_checkpoint()
        result = verify_chain(
            chunk_size=chunk_size, jobs=max(jobs, 1), expect_heads=expected, full=full
        )
        if not no_record:
            record_verification(result=result, source="verify_audit")
        scope = "every event" if result.is_full else "since the last verified checkpoint"
        self.stdout.write(
            f"Checked {result.rows_checked} events in {result.seconds:.1f} s ({scope}); "
            f"checkpoint {result.head_seq} hash {result.head_hash}.\n"
            f"Head to publish: {published_head(result.head_seq, result.head_hash) or '-'}"
        )
        if not result.is_ok:
            for problem in result.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(
                f"The audit chain is broken at {result.problems[0]} "
                f"({len(result.problems)} problem(s))."
            )
        self.stdout.write(self.style.SUCCESS("The audit chain is intact."))
