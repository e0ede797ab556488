"""One-off check behind docs/decisions/ui-kit.md: our own templates or viewflow's Material frontend?

Serves the login page, the inbox and one process page twice, from our templates and from
viewflow's Material frontend (mounted here only, in a throwaway URLconf), and measures in Debian's
chromium: axe-core's WCAG 2.1 A/AA violations (and its best-practice rules), the page's ``lang``,
landmarks, icon names a screen reader would read, Content-Security-Policy errors, and how much
of the visible interface text is Swedish (the share of text lines that differ between a Swedish
and an English browser). Screenshots go to the temporary directory.
Not part of the test suite and not part of the app. Run it explicitly:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pf_uikit \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/6 \\
    .venv/bin/pytest -p no:cacheprovider docs/decisions/ui_kit_check.py -s -q
"""

from django.conf import settings

# The Material frontend needs its site middleware, and its pages are only mounted here. The live
# server builds its handler on first use, so this must happen before any fixture runs.
if "viewflow.middleware.SiteMiddleware" not in settings.MIDDLEWARE:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "viewflow.middleware.SiteMiddleware"]

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import viewflow  # noqa: E402
from django.contrib.auth import views as auth_views  # noqa: E402
from django.template.backends.django import DjangoTemplates  # noqa: E402
from django.template.response import TemplateResponse  # noqa: E402
from django.urls import path  # noqa: E402
from viewflow.contrib.auth import AuthenticationForm, AuthViewset  # noqa: E402
from viewflow.urls import Site  # noqa: E402
from viewflow.workflow.flow import FlowAppViewset  # noqa: E402

from policyflow.urls import urlpatterns as policyflow_urlpatterns  # noqa: E402
from workflows.flows import PolicyAdoptionFlow  # noqa: E402

# Our templates/registration/login.html shadows Material's; this engine finds viewflow's first.
MATERIAL_TEMPLATES = DjangoTemplates(
    {
        "NAME": "material",
        "DIRS": [Path(viewflow.__file__).parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": settings.TEMPLATES[0]["OPTIONS"]["context_processors"]},
    }
)


class MaterialLoginView(auth_views.LoginView):
    form_class = AuthenticationForm

    def render_to_response(self, context, **kwargs):
        template = MATERIAL_TEMPLATES.get_template("registration/login.html")
        return TemplateResponse(self.request, template, context, **kwargs)


material_site = Site(
    title="PolicyFlow", viewsets=[FlowAppViewset(PolicyAdoptionFlow, icon="assignment")]
)
urlpatterns = [
    path(
        "material/accounts/",
        AuthViewset(with_profile_view=False, login_view=MaterialLoginView.as_view()).urls,
    ),
    path("material/", material_site.urls),
    *policyflow_urlpatterns,
]
settings.ROOT_URLCONF = __name__

# The project's fixtures, imported after the URLconf exists (tests.conftest resolves it).
from tests.browser.conftest import (  # noqa: E402, F401
    browser_type_launch_args,
    county_work,
    login,
)
from tests.browser.helpers import _axe, axe_violations  # noqa: E402
from tests.browser.helpers import login_with_form as log_in  # noqa: E402
from tests.conftest import leader, seeded  # noqa: E402, F401

pytestmark = pytest.mark.django_db(transaction=True)

RESULTS = []
SHOTS = Path(tempfile.gettempdir())


def _visible_lines(page) -> list[str]:
    """The page's visible text lines that are interface words: lines with digits are data
    (dates, numbers, case numbers) whose format changes with the language anyway."""
    lines = (line.strip() for line in page.inner_text("body").splitlines())
    return [
        line
        for line in lines
        if any(c.isalpha() for c in line) and not any(c.isdigit() for c in line)
    ]


def _measure(browser, base_url, user, kit, name, url, needs_login):
    row = {"kit": kit, "page": name}
    texts = {}
    for locale in ("sv-SE", "en-GB"):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        csp_errors = []
        page.on(
            "console",
            lambda msg, errors=csp_errors: (
                errors.append(msg.text[:160]) if "Content Security Policy" in msg.text else None
            ),
        )
        if needs_login:
            log_in(page, base_url, user)
        page.goto(base_url + url)
        page.wait_for_load_state("networkidle")
        texts[locale] = _visible_lines(page)
        if locale == "sv-SE":
            violations = axe_violations(page)
            row.update(
                status=page.evaluate("document.readyState"),
                lang=page.locator("html").get_attribute("lang"),
                violations=sum(len(v["nodes"]) for v in violations),
                rules=", ".join(f"{v['id']} ×{len(v['nodes'])}" for v in violations) or "–",
                best_practice=", ".join(
                    f"{v['id']} ×{len(v['nodes'])}"
                    for v in _axe.run(
                        page, options={"runOnly": {"type": "tag", "values": ["best-practice"]}}
                    ).response["violations"]
                )
                or "–",
                # Icon-font ligatures ("account_box") that a screen reader would read out.
                spoken_icons=page.evaluate(
                    """() => [...document.querySelectorAll('.material-icons')]
                        .filter(e => !e.closest('[aria-hidden=true]')).length"""
                ),
                h1=page.locator("h1").count(),
                main=page.locator("main, [role=main]").count(),
                csp_errors=csp_errors,
                title=page.title(),
            )
            page.screenshot(path=SHOTS / f"ui-kit-{kit}-{name}.png", full_page=True)
        context.close()
    english = set(texts["en-GB"])
    swedish = [line for line in texts["sv-SE"] if line not in english]
    row["swedish_lines"] = f"{len(swedish)}/{len(texts['sv-SE'])}"
    row["sample_english"] = [line for line in texts["sv-SE"] if line in english][:12]
    RESULTS.append(row)
    return row


def test_compare_our_templates_with_material(browser, live_server, leader, county_work):  # noqa: F811
    process = county_work["vaxjo"]
    pages = [
        ("ours", "login", "/accounts/login/", False),
        ("ours", "inbox", "/tasks/", True),
        ("ours", "process", f"/processes/{process.pk}/", True),
        ("material", "login", "/material/accounts/login/", False),
        ("material", "inbox", "/material/policyadoption/inbox/", True),
        ("material", "process", f"/material/policyadoption/{process.pk}/", True),
    ]
    for kit, name, url, needs_login in pages:
        _measure(browser, live_server.url, leader, kit, name, url, needs_login)
    print()
    print(
        "| kit | page | html lang | WCAG 2.1 A/AA violations | best-practice | <main> | <h1> "
        "| icon names read aloud | CSP errors | Swedish UI lines |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in RESULTS:
        print(
            f"| {r['kit']} | {r['page']} | {r['lang']} | {r['violations']} {r['rules']} "
            f"| {r['best_practice']} | {r['main']} | {r['h1']} | {r['spoken_icons']} "
            f"| {len(r['csp_errors'])} | {r['swedish_lines']} |"
        )
    for r in RESULTS:
        print(r["kit"], r["page"], "title:", r["title"])
        print("   still English:", r["sample_english"])
