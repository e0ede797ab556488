"""PolicyFlow is Swedish first, English available: the catalogue is complete and current.

When a string is added or changed in the code, refresh and translate the catalogue:

    .venv/bin/python manage.py makemessages -l sv -l en --ignore=.venv --ignore=.uv \
        --ignore=tests --ignore=docs --ignore=staticfiles --ignore=node_modules

then fill in every empty or fuzzy entry of locale/sv/LC_MESSAGES/django.po (the English
catalogue may stay empty: English is the source language).
"""

import datetime
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import polib
import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from workflows import services

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SV_CATALOGUE = BASE_DIR / "locale" / "sv" / "LC_MESSAGES" / "django.po"
# The same folders the documented makemessages command ignores, plus what is never source.
MAKEMESSAGES_IGNORED = [".venv", ".uv", "tests", "docs", "staticfiles", "node_modules"]
NOT_SOURCE = [".git", "var", "media", "__pycache__", "*.pyc", "*.mo", ".*_cache", ".env"]

# Printf-style placeholders (named and positional) and HTML tags must survive translation.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def _live_entries(path: Path) -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(path)) if not entry.obsolete]


def _key(entry: polib.POEntry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


def _kept(source: str, translated: str) -> bool:
    return Counter(PLACEHOLDER.findall(source)) == Counter(PLACEHOLDER.findall(translated)) and (
        Counter(HTML_TAG.findall(source)) == Counter(HTML_TAG.findall(translated))
    )


# --- The catalogue ------------------------------------------------------------------------------


def test_every_swedish_entry_is_translated_and_none_is_fuzzy():
    entries = _live_entries(SV_CATALOGUE)
    assert len(entries) > 500
    untranslated = [e.msgid for e in entries if not e.translated() and "fuzzy" not in e.flags]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    empty_plurals = [
        e.msgid for e in entries if e.msgid_plural and not all(e.msgstr_plural.values())
    ]
    assert untranslated == [], "Translate these in locale/sv/LC_MESSAGES/django.po"
    assert fuzzy == [], "Check these translations and remove their fuzzy flag"
    assert empty_plurals == []


def test_swedish_translations_keep_the_placeholders_and_html_of_the_english():
    broken = []
    for entry in _live_entries(SV_CATALOGUE):
        if entry.msgid_plural:
            pairs = [
                (entry.msgid, entry.msgstr_plural[0]),
                (entry.msgid_plural, entry.msgstr_plural[1]),
            ]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        broken += [
            (source, translated) for source, translated in pairs if not _kept(source, translated)
        ]
    assert broken == []


def test_the_swedish_catalogue_holds_every_string_the_code_marks(tmp_path):
    """makemessages, run on a copy of the project, finds nothing the committed catalogue lacks."""
    copy = tmp_path / "project"
    shutil.copytree(
        BASE_DIR, copy, ignore=shutil.ignore_patterns(*MAKEMESSAGES_IGNORED, *NOT_SOURCE)
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "policyflow.settings.base"}
    ignores = [f"--ignore={name}" for name in MAKEMESSAGES_IGNORED]
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "sv", *ignores],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    committed = {_key(e) for e in _live_entries(SV_CATALOGUE)}
    extracted = {_key(e) for e in _live_entries(copy / SV_CATALOGUE.relative_to(BASE_DIR))}
    missing = sorted(extracted - committed, key=lambda key: (key[0] or "", key[1]))
    assert missing == [], "Run makemessages (see this module's docstring), then translate:\n" + (
        "\n".join(msgid for _context, msgid in missing)
    )


def test_vendor_task_statuses_are_shown_in_swedish():
    from viewflow.workflow.models import Process, Task
    from viewflow.workflow.status import PROCESS, STATUS

    with translation.override("sv"):
        assert Task(status=STATUS.NEW).get_status_display() == "Ny"
        assert Task(status=STATUS.STARTED).get_status_display() == "Påbörjad"
        assert Task(status=STATUS.DONE).get_status_display() == "Klar"
        assert Task(status=STATUS.CANCELED).get_status_display() == "Avbruten"
        assert Process(status=PROCESS.DONE).get_status_display() == "Klar"
    with translation.override("en"):
        assert Task(status=STATUS.DONE).get_status_display() == "Done"


# --- Pages ------------------------------------------------------------------------------------


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_login_page_is_in_swedish_by_default(client):
    page = _page(client, reverse("login"))
    assert '<html lang="sv">' in page
    assert "Logga in" in page


def test_accessibility_statement_is_in_swedish_by_default(client):
    page = _page(client, reverse("accessibility"))
    assert "Tillgänglighetsredogörelse" in page
    assert "Accessibility statement" not in page


def test_choosing_english_shows_the_pages_in_english(client):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("login")}, follow=True
    )
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Log in" in page
    assert "Logga in" not in page

    page = _page(client, reverse("accessibility"))
    assert "Accessibility statement" in page
    assert "Tillgänglighetsredogörelse" not in page


def test_the_language_cookie_alone_chooses_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Log in" in _page(client, reverse("login"))


@pytest.mark.django_db
def test_process_page_shows_swedish_dates_step_names_and_statuses(leader_client, leader, vaxjo):
    stockholm = ZoneInfo("Europe/Stockholm")
    with time_machine.travel(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=stockholm), tick=False):
        process = services.start_process(municipality=vaxjo, user=leader)
    url = reverse("workflows:process", args=[process.pk])

    page = _page(leader_client, url)
    assert "2026-11-25" in page
    assert "Registrera första kontakt" in page  # the step's title, not viewflow's node name
    assert "Record first contact" not in page

    leader_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _page(leader_client, url)
    assert "2026-11-25" in page
    assert "Record first contact" in page
