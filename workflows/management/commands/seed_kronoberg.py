"""Load the country's municipalities, create the roles and, with --demo, demo users and contacts."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

# Read by `make run`'s welcome to show the demo logins once the site is up.
from policyflow.welcome import DEMO_USERS_FILE
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
        if result.new_passwords:
            self._keep_for_the_quick_start(result.new_passwords)
        if demo and not result.new_passwords:
            self.stdout.write("Demo users already exist (passwords were printed when created).")
        if demo:
            from enterprises.seeding import seed_demo_enterprises

            added = seed_demo_enterprises()
            self.stdout.write(f"Demo ASF added to Kronoberg's register: {added}.")
            from network.seeding import seed_demo_network
            from outreach.seeding import seed_demo_activities

            added = seed_demo_activities()
            self.stdout.write(f"Demo knowledge-spreading activities added: {added}.")
            if seed_demo_network():
                self.stdout.write("Demo collaboration organisation added.")

    def _keep_for_the_quick_start(self, passwords: dict[str, str]) -> None:
        """Demo passwords, readable by this user only, under var/ (local use: DEBUG only)."""
        var_dir = getattr(settings, "VAR_DIR", None)
        if not settings.DEBUG or var_dir is None:
            return
        path = Path(var_dir) / DEMO_USERS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.writelines(f"{user} / {password}\n" for user, password in passwords.items())
