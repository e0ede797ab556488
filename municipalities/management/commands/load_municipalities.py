"""Load SCB's official list of 21 counties and 290 municipalities (idempotent)."""

from django.core.management.base import BaseCommand

from municipalities.services import load_municipalities


class Command(BaseCommand):
    help = "Load or update all Swedish counties and municipalities from the shipped data file."

    def handle(self, *args, **options):
        result = load_municipalities()
        self.stdout.write(
            f"Counties created: {result.counties_created}; municipalities created: "
            f"{result.municipalities_created}, updated: {result.municipalities_updated}."
        )
