"""`manage.py verify_audit`: re-compute the audit chain, record it, exit non-zero if broken."""

import os

from django.core.management.base import BaseCommand, CommandError

from audit.services import record_verification
from audit.verification import parse_head, published_head, verify_chain


class Command(BaseCommand):
    help = (
        "Re-compute the audit trail's hash chain in id order and name the first row that was "
        "altered, inserted out of order or removed, and check that every append-only trigger is "
        "installed. With --expect-head, also that the chain still holds a head published outside "
        "the database (the nightly email, an archive manifest). Exits with status 1 when any "
        "check fails."
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
            "--no-record", action="store_true", help="Do not store the result (dry run)."
        )
        parser.add_argument(
            "--expect-head",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help=(
                "A chain head published earlier (the nightly verification email, an archive's "
                "manifest.json): the chain must still hold it unchanged. Repeatable."
            ),
        )

    def handle(self, *args, chunk_size=None, jobs=1, no_record=False, expect_head=(), **options):
        try:
            expected = [parse_head(text) for text in expect_head]
        except ValueError as error:
            raise CommandError(str(error)) from error
        result = verify_chain(chunk_size=chunk_size, jobs=max(jobs, 1), expect_heads=expected)
        if not no_record:
            record_verification(result=result, source="verify_audit")
        self.stdout.write(
            f"Checked {result.rows_checked} events in {result.seconds:.1f} s; "
            f"head seq {result.head_seq} id {result.head_id} hash {result.head_hash}.\n"
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
