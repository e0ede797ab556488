"""Load the country's municipalities, create the roles and, with --demo, demo users and contacts."""

from django.core.management.base import BaseCommand

from workflows.seeding import seed


class Command(BaseCommand):
    help = "Load counties and municipalities, create roles; --demo adds demo users and contacts."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="Also create demo users/contacts.")

    def handle(self, *args, demo=False, **options):
        result = seed(demo=demo)
        self.stdout.write("Municipalities and roles are in place.")
        for username, password in result.new_passwords.items():
            self.stdout.write(f"Demo user {username!r} created, password: {password}")
        if demo and not result.new_passwords:
            self.stdout.write("Demo users already exist (passwords were printed when created).")
