"""Strings that third-party packages show in PolicyFlow's pages, listed so we can translate them.

django-viewflow and django-simple-history ship no Swedish catalogue. Gettext looks a msgid up in
every catalogue Django has loaded, ours (`LOCALE_PATHS`) first, so a vendor's string is shown in
Swedish as soon as the same msgid (and context) is in `locale/sv/LC_MESSAGES/django.po`.
`makemessages` only extracts strings from our own code, so this module repeats the ones users
see; nothing imports it. Strings Django's own catalogues already translate (the admin's "Home",
"History", "Close"...) are left out. django-filter is not listed: no page of ours renders it.

Keep each string exactly as the package writes it, context included: viewflow marks its status
labels with `pgettext_lazy("STATUS", ...)`, so they are listed with the same context (a lazy
string is never evaluated here, so it is as inert as `gettext_noop`). When a package is upgraded,
compare its strings with this list.
"""

from django.utils.translation import gettext_noop, pgettext_lazy

# viewflow.workflow.status: Task.get_status_display() and Process.get_status_display().
VIEWFLOW_STATUSES = (
    pgettext_lazy("STATUS", "New"),
    pgettext_lazy("STATUS", "Assigned"),
    pgettext_lazy("STATUS", "Scheduled"),
    pgettext_lazy("STATUS", "Started"),
    pgettext_lazy("STATUS", "Done"),
    pgettext_lazy("STATUS", "Canceled"),
    pgettext_lazy("STATUS", "Error"),
    pgettext_lazy("STATUS", "Revived"),
)

# viewflow.workflow models and admin: field and model names on the administrators' pages.
VIEWFLOW_ADMIN = (
    gettext_noop("Workflow"),
    gettext_noop("Process"),
    gettext_noop("Process list"),
    gettext_noop("Task"),
    gettext_noop("Tasks"),
    gettext_noop("Flow"),
    gettext_noop("flow"),
    gettext_noop("Status"),
    gettext_noop("Created"),
    gettext_noop("Assigned"),
    gettext_noop("Started"),
    gettext_noop("Scheduled"),
    gettext_noop("Finished"),
    gettext_noop("Previous"),
    gettext_noop("Token"),
    gettext_noop("External Task ID"),
    gettext_noop("Owner"),
    gettext_noop("Permission"),
)

# django-simple-history: the read-only history pages of the admin (reverting is disabled, so its
# revert buttons and messages never show) and the history_type choices.
SIMPLE_HISTORY = (
    gettext_noop("Created"),
    gettext_noop("Changed"),
    gettext_noop("Deleted"),
    gettext_noop("Deleted %(type_name)s"),
    gettext_noop("View history: %s"),
    gettext_noop("View %(verbose_name)s"),
    gettext_noop("This object doesn't have a change history."),
    gettext_noop("Object"),
    gettext_noop("Comment"),
    gettext_noop("Changed by"),
    gettext_noop("Change reason"),
    gettext_noop("Changes"),
)
