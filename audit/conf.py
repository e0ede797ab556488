"""The audit app's settings, with their defaults (the project sets them in policyflow.settings)."""

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULTS = {
    # Who may read the timelines and exports (project leaders and the steering group).
    "AUDIT_READ_PERMISSION": "workflows.view_policyprocess",
    # Which counties a reader's timelines and exports cover: the dotted path of a callable
    # (user -> list of county codes, or None for every county); None here: no county scoping.
    "AUDIT_COUNTY_SCOPE": None,
    # Who is emailed when the nightly verification finds the chain broken (plus ADMINS).
    "AUDIT_ALERT_PERMISSION": "workflows.follow_policyprocess",
    # Rows fetched per round trip while verifying.
    "AUDIT_VERIFY_CHUNK_SIZE": 5000,
    # Seconds a rendered page part is kept at most (audit.page_cache).
    "PAGE_CACHE_SECONDS": 600,
    # Which counties' writes may change what a reader's pages show: the dotted path of a callable
    # (user -> list of county codes, or None for every county); None here: every write changes
    # every page. A page is kept until a write in one of them (`audit.page_cache`).
    "PAGE_CACHE_SCOPE": None,
    # A CSV download up to this size (characters) is kept like a page; larger ones only stream.
    "PAGE_CACHE_MAX_DOWNLOAD_CHARS": 2_000_000,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


def counties_of(name: str, user) -> list[str] | None:
    """The county codes the callable named by the setting ``name`` (a dotted path) gives for
    ``user``; None (every county) when the setting names none."""
    path = setting(name)
    return None if not path else import_string(path)(user)
