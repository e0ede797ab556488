"""`manage.py recompute_appeal_deadlines`: once after upgrading, correct the appeal deadlines
recorded as announcement + 21 days to the deadline of lag (1930:173), with history."""

from django.core.management.base import BaseCommand

from workflows.legal_force import recompute_appeal_deadlines


class Command(BaseCommand):
    help = "Recompute stored appeal deadlines under lag (1930:173) (audited, idempotent)."

    def handle(self, *args, **options):
        changed = recompute_appeal_deadlines()
        self.stdout.write(f"{changed} appeal deadline(s) corrected.")
