"""Recompute the overview's summary of the process history (`ProcessStageTime`) from the history,
and each municipality's current process (`CurrentProcess`) from the processes: after a data
import that wrote history rows without saving processes, or to check nothing drifted (the history
is the record; the summary is derived from it)."""

from django.core.management.base import BaseCommand

from workflows import stage_summary


class Command(BaseCommand):
    help = "Rebuild the time each process spent in each stage from the process history."

    def handle(self, *args, **options):
        count = stage_summary.rebuild()
        current = stage_summary.rebuild_current()
        stage_summary.all_summaries_changed()  # the overview's cached figures are stale
        self.stdout.write(
            f"{count} rows of time per process and stage, {current} current processes written."
        )
