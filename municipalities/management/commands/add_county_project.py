"""Add a county's project (idempotent) and give existing users a role in it.

manage.py add_county_project 08 --name "ASF i Kalmar" --leader karin --steering kent
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from municipalities.models import Membership
from municipalities.services import create_county_project, set_membership

ROLE_OPTIONS = {
    "leader": Membership.Role.LEADER,
    "steering": Membership.Role.STEERING,
    "reference": Membership.Role.REFERENCE,
}


class Command(BaseCommand):
    help = "Create a county's project (by county code) and give users a role in it."

    def add_arguments(self, parser):
        parser.add_argument("county_code", help="SCB's two-digit county code, e.g. 08.")
        parser.add_argument("--name", default="", help='The project\'s name, e.g. "ASF i Kalmar".')
        for option in ROLE_OPTIONS:
            parser.add_argument(
                f"--{option}",
                action="append",
                default=[],
                metavar="USERNAME",
                help=f"A user to make {option} of the county (repeatable).",
            )

    def handle(self, *args, county_code, name, **options):
        User = get_user_model()
        wanted = [
            (username, role)
            for option, role in ROLE_OPTIONS.items()
            for username in options[option]
        ]
        users = {
            u.get_username(): u for u in User.objects.filter(username__in=[w for w, _r in wanted])
        }
        missing = sorted({username for username, _role in wanted} - set(users))
        if missing:
            raise CommandError(f"No such user: {', '.join(missing)} (create them first).")
        try:
            project = create_county_project(county_code=county_code, name=name)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"County project: {project} ({county_code}).")
        for username, role in wanted:
            set_membership(user=users[username], project=project, role=role)
            self.stdout.write(f"{username}: {Membership.Role(role).label}.")
