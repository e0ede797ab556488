"""Plain helpers for the browser tests: run axe-core on a page, log a user in, launch options.

Kept out of conftest.py so that the one-off UI-kit check in docs/decisions/ can reuse them.
"""

from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from django.urls import reverse

# Debian's chromium: Playwright cannot download its own browser on these machines.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# WCAG 2.1 level A and AA: what the Swedish accessibility act requires. axe's best-practice
# rules add what WCAG leaves to judgement: landmarks, unique landmark names, heading order.
WCAG21AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BEST_PRACTICE_TAGS = ["best-practice"]
# factory-boy's UserFactory sets this password.
PASSWORD = "secret-pass-123"
# The browser tests save their screenshots here, a git-ignored build folder: a test run never
# rewrites a tracked file. `make screenshots` copies them into docs/screenshots for the README.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"

_axe = Axe()


def axe_violations(page, tags=WCAG21AA_TAGS) -> list[dict]:
    """The violations of rules with these tags that axe-core (bundled, offline) finds on the page
    as it is now."""
    options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
    return _axe.run(page, options=options).response["violations"]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(str(t) for t in node['target'])}")
    return "\n".join(lines)


def axe_check(page) -> None:
    """Fail, naming each violated rule and the offending elements, unless axe finds nothing
    against WCAG 2.1 A/AA and its best practices."""
    violations = axe_violations(page, WCAG21AA_TAGS + BEST_PRACTICE_TAGS)
    assert not violations, f"axe-core on {page.url}:\n{describe_violations(violations)}"


def login_with_form(page, base_url: str, user, password: str = PASSWORD) -> None:
    """Log in through the real login form, as a person would."""
    page.goto(base_url + reverse("login"))
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert reverse("login") not in page.url, "the login form did not accept the user"


def login(page, base_url: str, user) -> None:
    """Give the browser a logged-in session cookie: two page loads fewer than the form."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": urlsplit(base_url).hostname,
                "path": "/",
                "httpOnly": True,
            }
        ]
    )
