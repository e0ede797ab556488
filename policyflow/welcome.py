"""`make run`'s last word: once the web server answers, say where PolicyFlow is, who to log in
as and where the emails are, below the migration output and Celery's banners.

Runs as a Procfile.dev process (honcho stops every process when one ends, so it then waits for
honcho's SIGTERM). The demo passwords come from var/demo-users.txt, which `seed_kronoberg
--demo` writes when it creates the demo users (only their hashes are in the database).
"""

import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyflow.settings.base")

# Written by seed_kronoberg --demo (which imports it from here: one name for both sides). This
# module imports nothing of Django at load time, so the command can import it.
DEMO_USERS_FILE = "demo-users.txt"
# Who is who in the demo (workflows.seeding.DEMO_USERS): each sees only their own counties.
DEMO_ROLES = [
    "Roles: projektledare and projektledare2 lead Kronoberg (07), kalmar leads Kalmar (08);",
    "  styrgrupp and referensgrupp are Kronoberg's steering and reference groups;",
    "  nationell reads every county; admin is the administrator.",
]


def wait_for(url: str, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (our own local server)
            return True
        except urllib.error.HTTPError:
            return True  # it answers
        except OSError:
            time.sleep(0.5)
    return False


def still_works(username: str, password: str) -> bool:
    """Whether the password kept at creation still logs the user in."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    return user is not None and user.check_password(password)


def banner(url: str, var_dir: Path, email_dir: Path | None = None) -> str:
    lines = ["", "=" * 72, f"PolicyFlow is running: {url}", ""]
    users = var_dir / DEMO_USERS_FILE
    if users.exists():
        lines.append("Log in as (user / password, as created by seed_kronoberg --demo):")
        for line in users.read_text().splitlines():
            username, _, password = line.partition(" / ")
            if not password:
                continue
            if still_works(username, password):
                lines.append(f"  {username} / {password}")
            else:
                lines.append(
                    f"  {username}: password changed since (reset it with "
                    f".venv/bin/python manage.py changepassword {username})"
                )
    else:
        lines.append("Demo users: projektledare, projektledare2, styrgrupp, referensgrupp, kalmar,")
        lines.append("nationell, admin (passwords were printed when they were created; reset one")
        lines.append("with: .venv/bin/python manage.py changepassword projektledare).")
    lines += ["", *DEMO_ROLES]
    lines += [
        "",
        f"Emails are written to {email_dir or var_dir / 'emails'} and listed for staff (admin) at",
        f"  {url.rstrip('/')}/notifications/files/",
        "Stop with Ctrl+C.",
        "=" * 72,
        "",
    ]
    return "\n".join(lines)


def main(url: str) -> None:
    import django
    from django.conf import settings

    django.setup()

    if wait_for(url):
        email_dir = Path(settings.EMAIL_FILE_PATH)
        print(banner(url, Path(settings.VAR_DIR), email_dir), flush=True)
    else:
        print(f"The web server did not answer at {url}: see the web lines above.", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/")
