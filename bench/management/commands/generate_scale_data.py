"""`manage.py generate_scale_data`: country-scale data for the benchmark (bench.scale_data)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from bench.scale_data import ScaleDataError, generate


class _Progress:
    """tqdm's bar when it is installed (dev dependency), else a line every 10 %."""

    def __init__(self, total: int, stream):
        self.total, self.done, self.stream, self.next_line = total, 0, stream, 0.1
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(
                total=total, unit=" events", unit_scale=True, file=sys.stderr, mininterval=1.0
            )

    def __call__(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif self.done >= self.next_line * self.total:
            self.stream.write(f"  {self.done:,} / {self.total:,} events")
            self.next_line += 0.1

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Command(BaseCommand):
    help = (
        "Fill a fresh PostgreSQL database with country-scale data: the 290 municipalities, "
        "years of policy processes in every stage (closed ones and one open per municipality), "
        "drafts, answers, task links, decisions, notifications, viewflow tasks, their history and "
        "exactly --events audit events on a valid hash chain. Running it again with the same "
        "arguments does nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--municipalities", type=int, default=290)
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data.")

    def handle(self, *args, municipalities, events, seed, verbosity=1, **options):
        progress = _Progress(events, self.stdout) if verbosity > 0 else None
        try:
            result = generate(
                municipalities=municipalities, events=events, seed=seed, progress=progress
            )
        except ScaleDataError as error:
            raise CommandError(str(error)) from error
        finally:
            if progress:
                progress.close()
        if not result.created:
            self.stdout.write(result.message + " Nothing to do.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.events:,} audit events, {result.processes:,} processes in "
                f"{municipalities} municipalities, written in {result.seconds:.0f} s."
            )
        )
        if verbosity > 1:
            for table, count in sorted(result.rows.items()):
                self.stdout.write(f"  {table}: {count:,}")
