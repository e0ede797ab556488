"""The timeline tells the Växjö story in order, with the right actors, and its filters narrow it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit import selectors, services
from audit.models import AuditEvent, Kind
from audit.personal import expand
from municipalities.models import Municipality

pytestmark = pytest.mark.django_db


def story_events(process):
    """(kind, actor, summary) of the process's events, oldest first, as people read them."""
    events = AuditEvent.objects.filter(process_id=process.pk).order_by("id")
    return [
        (e.kind, expand(e.actor_label, e.personal), expand(e.summary, e.personal)) for e in events
    ]


def kinds_in_order(events, wanted):
    return [kind for kind, _actor, _summary in events if kind in wanted]


def test_vaxjo_timeline_lists_every_step_link_email_and_the_decision_in_order(vaxjo_story):
    events = story_events(vaxjo_story.process)
    milestones = {
        Kind.PROCESS_STARTED,
        Kind.CONTACT_RECORDED,
        Kind.MEETING_RECORDED,
        Kind.DRAFT_WRITTEN,
        Kind.LINK_SENT,
        Kind.LINK_OPENED,
        Kind.ANSWER_RECEIVED,
        Kind.LINK_USED,
        Kind.DECISION_RECORDED,
    }
    assert kinds_in_order(events, milestones) == [
        Kind.PROCESS_STARTED,
        Kind.CONTACT_RECORDED,
        Kind.CONTACT_RECORDED,  # the persons reached, recorded right after
        Kind.MEETING_RECORDED,
        Kind.DRAFT_WRITTEN,
        Kind.LINK_SENT,
        Kind.LINK_OPENED,
        Kind.ANSWER_RECEIVED,
        Kind.LINK_USED,
        Kind.DRAFT_WRITTEN,
        Kind.LINK_SENT,
        Kind.LINK_OPENED,
        Kind.ANSWER_RECEIVED,
        Kind.LINK_USED,
        Kind.DECISION_RECORDED,
    ]
    # The emails of the process are in the same timeline: queued, then sent.
    kinds = [kind for kind, _a, _s in events]
    first_link = kinds.index(Kind.LINK_SENT)
    assert Kind.NOTIFICATION_QUEUED in kinds[first_link:]
    assert kinds.index(Kind.NOTIFICATION_SENT) > kinds.index(Kind.NOTIFICATION_QUEUED)
    emails = [s for kind, _a, s in events if kind == Kind.NOTIFICATION_SENT]
    assert "Email sent: Approval requested" in emails
    completed = [s for kind, _a, s in events if kind == Kind.STEP_COMPLETED]
    assert completed[:4] == [
        "Record first contact",
        "Hold the dialogue",
        "Write the draft",
        "Request approval",
    ]
    assert "Approval by the municipal contact" in completed
    assert completed.count("Write the draft") == 2
    assert "Record the decision" in completed
    summaries = [s for _k, _a, s in events]
    assert "Changes to draft version 1 requested by Vera Växjö" in summaries
    assert "Draft version 2 approved by Vera Växjö" in summaries
    today = timezone.localdate().isoformat()  # the story's decision is taken on the day
    assert f"Adopted by Municipal council (KF) on {today}, § 57 (KS 2026/39)" in summaries


def test_steps_are_by_the_project_leader_and_answers_by_the_contact_via_the_link(vaxjo_story):
    events = story_events(vaxjo_story.process)
    by_kind = {}
    for kind, actor, _summary in events:
        by_kind.setdefault(kind, set()).add(actor)
    leader = "Pia Projektledare"
    contact = "Vera Växjö (via task link)"
    for kind in (Kind.PROCESS_STARTED, Kind.DRAFT_WRITTEN, Kind.LINK_SENT, Kind.DECISION_RECORDED):
        assert by_kind[kind] == {leader}, kind
    for kind in (Kind.LINK_OPENED, Kind.ANSWER_RECEIVED, Kind.LINK_USED):
        assert by_kind[kind] == {contact}, kind
    approval_done = [
        actor
        for kind, actor, summary in events
        if kind == Kind.STEP_COMPLETED and summary == "Approval by the municipal contact"
    ]
    assert approval_done == [contact, contact]
    answers = AuditEvent.objects.filter(
        kind=Kind.ANSWER_RECEIVED, process_id=vaxjo_story.process.pk
    )
    assert {e.actor_kind for e in answers} == {"contact"}
    assert {e.actor_user_id for e in answers} == {None}


def test_every_event_knows_municipality_county_and_stage(vaxjo_story):
    events = AuditEvent.objects.filter(process_id=vaxjo_story.process.pk)
    assert {(e.municipality_name, e.county_code) for e in events} == {("Växjö", "07")}
    assert all(e.stage for e in events)
    last = events.order_by("-id").first()
    assert last.stage == "adopted"


def test_a_contacts_name_is_kept_apart_from_the_hashed_texts(vaxjo_story):
    answer = AuditEvent.objects.filter(
        kind=Kind.ANSWER_RECEIVED, process_id=vaxjo_story.process.pk
    ).first()
    for text in (answer.summary, answer.reason, answer.actor_label):
        assert "Vera" not in text
    person = answer.personal["people"][str(vaxjo_story.contact.pk)]
    assert person == {"name": "Vera Växjö", "email": "vera@vaxjo.example"}


def test_field_level_changes_show_old_and_new_values(vaxjo_story):
    stage_changes = AuditEvent.objects.filter(
        kind=Kind.STAGE_CHANGED, process_id=vaxjo_story.process.pk
    ).order_by("id")
    assert stage_changes[0].changes["stage"] == ["contact", "dialogue"]
    assert stage_changes.last().changes["stage"] == ["awaiting_decision", "adopted"]


def test_timeline_pages_are_newest_first_and_stable(vaxjo_story):
    process = vaxjo_story.process
    every = list(
        AuditEvent.objects.filter(process_id=process.pk)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    seen, after = [], None
    while True:
        page = selectors.timeline(process=process, after_id=after, limit=7)
        seen += [e.id for e in page.events]
        # A new event meanwhile does not shift the pages that follow.
        services.append_event(
            kind=Kind.PROCESS_CHANGED,
            summary="Meanwhile",
            model_label="tests.meanwhile",
            process_id=process.pk,
        )
        if page.next_after_id is None:
            break
        after = page.next_after_id
    assert seen == every


def test_filters_narrow_the_timeline(vaxjo_story, leader, seeded):
    process = vaxjo_story.process
    vaxjo = process.municipality
    ljungby = Municipality.objects.get(code="0781")
    from workflows import services

    other = services.start_process(municipality=ljungby, user=leader)

    def ids(**filters):
        return {e.id for e in selectors.timeline(limit=500, **filters).events}

    vaxjo_ids = ids(municipality=vaxjo)
    assert vaxjo_ids and all(
        e.municipality_id == vaxjo.pk for e in AuditEvent.objects.filter(id__in=vaxjo_ids)
    )
    assert ids(municipality=ljungby) == set(
        AuditEvent.objects.filter(municipality_id=ljungby.pk).values_list("id", flat=True)
    )
    assert ids(process=other).isdisjoint(vaxjo_ids)
    assert ids(county="07") >= vaxjo_ids | ids(process=other)
    skane = ids(county="12")  # only the municipality register's own records
    assert skane and skane.isdisjoint(vaxjo_ids)
    assert set(AuditEvent.objects.filter(id__in=skane).values_list("model_label", flat=True)) == {
        "municipalities.municipality"
    }
    decisions = ids(kinds=[Kind.DECISION_RECORDED])
    assert len(decisions) == 1
    links = ids(kinds=[Kind.LINK_SENT, Kind.LINK_USED], process=process)
    assert len(links) == 4
    assert ids(actor=leader) == set(
        AuditEvent.objects.filter(actor_user=leader).values_list("id", flat=True)
    )
    today = timezone.localdate()
    assert ids(process=process, since=today) == ids(process=process)
    assert ids(process=process, until=today - datetime.timedelta(days=1)) == set()
    assert ids(process=process, since=today + datetime.timedelta(days=1)) == set()
    moment = AuditEvent.objects.get(kind=Kind.DECISION_RECORDED).occurred_at
    after_decision = ids(process=process, since=moment)
    assert decisions <= after_decision and len(after_decision) < len(ids(process=process))


def test_timeline_pages_render_filters_and_the_chain_state(vaxjo_story, steering_client):
    process = vaxjo_story.process
    page = steering_client.get(reverse("audit:timeline"), {"county": "07"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Vera Växjö (via task link)" in html and "Växjö" in html
    assert 'name="municipality"' in html and "Integrity of the record" in html
    page = steering_client.get(reverse("audit:process", args=[process.pk]))
    assert page.status_code == 200 and "KS 2026/39" in page.content.decode()
    page = steering_client.get(reverse("audit:municipality", args=[process.municipality_id]))
    assert page.status_code == 200 and "Draft version 2" in page.content.decode()
    page = steering_client.get(reverse("audit:timeline"), {"since": "2026-05-02", "until": "x"})
    assert page.status_code == 200  # an invalid filter shows the form's error, not a crash


def test_timeline_needs_the_read_permission(client, vaxjo_story, seeded):
    from tests.factories import UserFactory

    assert client.get(reverse("audit:timeline")).status_code == 302  # to the login page
    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("audit:timeline")).status_code == 403
    assert client.get(reverse("audit:export_csv")).status_code == 403


def test_unknown_process_or_municipality_timeline_is_404(steering_client, seeded):
    assert steering_client.get(reverse("audit:process", args=[999999])).status_code == 404
    assert steering_client.get(reverse("audit:municipality", args=[999999])).status_code == 404


def test_the_contacts_chosen_to_approve_are_kept_in_the_process_history(vaxjo_story):
    process, contact = vaxjo_story.process, vaxjo_story.contact
    chosen = (
        AuditEvent.objects.filter(process_id=process.pk, changes__has_key="approvers")
        .order_by("id")
        .first()
    )
    assert chosen.changes["approvers"] == [[], [contact.pk]]
    latest = process.history.order_by("-history_id").first()
    assert list(latest.approvers.values_list("contact_id", flat=True)) == [contact.pk]


DJANGO_CHECKBOX_LOOP = (
    '{% for choice in field %}<div class="choice">{{ choice.tag }} '
    '<label for="{{ choice.id_for_label }}">{{ choice.choice_label }}</label></div>{% endfor %}'
)


@pytest.mark.parametrize(
    "data",
    [None, {"kind": ["process_started", "stage_changed"]}, {"kind": ["no_such_kind"]}],
    ids=["unbound", "two-chosen", "invalid-choice"],
)
def test_event_kind_checkboxes_are_written_as_djangos_own_loop_writes_them(data, seeded):
    """The timeline writes its 36 checkboxes in Python (`choice_boxes`): the same HTML as
    Django's widget templates, chosen kinds checked, an invalid choice marked aria-invalid."""
    from django.template import Context, Template

    from audit.forms import TimelineFilterForm

    form = TimelineFilterForm(data, scope="county")
    form.is_valid()
    context = Context({"field": form["kind"]})
    ours = Template("{% load audit_rows %}{% choice_boxes field %}").render(context)
    assert ours == Template(DJANGO_CHECKBOX_LOOP).render(context)
    assert ours.count('type="checkbox"') == len(list(form.fields["kind"].choices)) > 30
    if data and data["kind"][0] == "no_such_kind":
        assert 'aria-invalid="true"' in ours
    elif data:
        assert ours.count(" checked>") == 2


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"since": "2026-03-01", "until": "2026-02-01"},
        {"since": '"><b>', "until": "1800-01-01"},
    ],
    ids=["unbound", "dates", "invalid"],
)
def test_the_date_inputs_are_written_as_djangos_own_widget_writes_them(data, seeded):
    """The timeline writes its two date inputs in Python: the same HTML as Django's date
    widget, the typed value kept and escaped, a field with an error marked aria-invalid."""
    from django import forms

    from audit.forms import TimelineFilterForm

    form = TimelineFilterForm(data, scope="county")
    form.is_valid()
    for name in ("since", "until"):
        field = form[name]
        djangos = forms.DateInput(attrs=field.field.widget.attrs)  # the field's min and max
        djangos.input_type = "date"
        ours = str(field)
        assert ours == field.as_widget(widget=djangos)
        assert ours.startswith(f'<input type="date" name="{name}"')
    if data and data["since"].startswith('"'):
        assert "&quot;&gt;&lt;b&gt;" in str(form["since"]) and 'aria-invalid="true"' in ours


def test_chosen_event_kinds_stay_checked_on_the_filtered_timeline(vaxjo_story, steering_client):
    page = steering_client.get(reverse("audit:timeline"), {"kind": ["stage_changed"]})
    html = page.content.decode()
    assert 'value="stage_changed" id="id_kind_1" checked>' in html
    assert 'value="process_started" id="id_kind_0">' in html


@pytest.mark.parametrize(
    "value",
    ["Växjö <b>&</b> \"citat\" 'enkla'", 42, None, "safe", "lazy"],
)
def test_the_timelines_own_escaping_is_djangos_conditional_escape(value):
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    from audit.html import escape_text

    if value == "safe":
        value = mark_safe("<em>already safe</em>")  # noqa: S308 (a literal)
    elif value == "lazy":
        value = gettext_lazy("Municipality")
    assert escape_text(value) == conditional_escape(value)
