"""The events PolicyFlow tells people about, and the context each event's templates expect.

Every event has three templates in ``notifications/templates/notifications/email/``:
``<event>_subject.txt``, ``<event>.txt`` and ``<event>.html``. They are rendered once, when the
notification is queued, in the recipient's language. Every template also receives
``recipient_name``, ``language`` and ``site_url``.

Values are plain data (strings, numbers, dates, booleans). Pass labels of choices lazily
(``Stage.DRAFT.label``, a ``gettext_lazy`` proxy) so they are rendered in the recipient's language.
A context key ending in ``_url`` may be a path ("/tasks/3/"): it is made absolute with
``settings.SITE_URL`` (links in emails are never built from a request's Host header).
"""

from dataclasses import dataclass

from .models import Event


@dataclass(frozen=True)
class EventSpec:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    audience: str = ""


EVENTS: dict[str, EventSpec] = {
    Event.TASK_ASSIGNED: EventSpec(
        audience="the project leader",
        required=("municipality", "task_title", "task_url"),
        optional=("due_date",),
    ),
    Event.APPROVAL_REQUESTED: EventSpec(
        audience="each chosen municipal contact person",
        # task_url is the contact's personal task link; link_expires a date.
        required=("municipality", "draft_version", "task_url", "link_expires", "sender_name"),
    ),
    Event.APPROVAL_REMINDER: EventSpec(
        audience="each municipal contact person who has not answered",
        required=("municipality", "draft_version", "task_url", "link_expires", "requested_on"),
    ),
    Event.ANSWER_RECEIVED: EventSpec(
        audience="the project leader",
        # approved: True (approved) or False (changes requested, with the comment).
        required=(
            "municipality",
            "draft_version",
            "contact_name",
            "approved",
            "comment",
            "process_url",
        ),
    ),
    Event.DECISION_RECORDED: EventSpec(
        audience="each steering group member",
        required=(
            "municipality",
            "body",
            "meeting_date",
            "paragraph",
            "case_number",
            "outcome",
            "process_url",
        ),
        optional=("appeal_deadline",),
    ),
    Event.PROCESS_STALLED: EventSpec(
        audience="the project leader",
        required=("municipality", "stage", "days_in_stage", "stage_limit_days", "process_url"),
    ),
    Event.STALLED_DIGEST: EventSpec(
        audience="each steering group member",
        # stalled: a list of dicts with municipality, stage, days_in_stage, stage_limit_days
        # and process_url; week: a label such as "2026-W47".
        required=("stalled", "week", "overview_url"),
    ),
    Event.WORK_HANDED_OVER: EventSpec(
        audience="the project leader a colleague handed steps or processes to",
        # items: a list of dicts with municipality, title (the step's, or "the whole process")
        # and item_url; by_name: who handed them over; note: their note, may be empty.
        required=("by_name", "items"),
        optional=("note",),
    ),
    Event.DAILY_DIGEST: EventSpec(
        audience="a user who chose one email a day",
        # items: a list of dicts with subject and item_url; day: the date it covers.
        required=("items", "day", "inbox_url"),
    ),
}


def missing_context(event: str, context: dict) -> list[str]:
    """The required keys ``context`` lacks for ``event`` (empty when it is complete)."""
    return [key for key in EVENTS[event].required if key not in context]
