"""The critical paths on the embedded default, as `make run` runs it: SQLite (WAL, IMMEDIATE
transactions), the development server, and a real `celery worker` on the file-system broker.

The rest of the suite proves them on PostgreSQL; these prove the same promises on SQLite: a step
completed by many at once completes once and the others get the 409 page, every email is
delivered once, history refuses UPDATE and DELETE, and `verify_audit` names an edited row.
"""

import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections import Counter

import pytest

from tests.support.sqlite_site import ROOT
from tests.support.workers import wait_until

# One xdist worker builds the seeded template database once for all of them.
pytestmark = pytest.mark.xdist_group("sqlite")

# A process walked to its first-contact step, and the form its page posts.
CONTACT_STEP_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from viewflow.workflow.models import Task
from municipalities.models import Municipality
from workflows import services
from workflows.flows import PolicyAdoptionFlow
leader = get_user_model().objects.get(username="projektledare")
vaxjo = Municipality.objects.get(code="0780")
process = services.start_process(municipality=vaxjo, user=leader)
task = Task.objects.get(process_id=process.pk, flow_task=PolicyAdoptionFlow.contact)
contact = vaxjo.contacts.first()
print("RESULT" + json.dumps({"task": task.pk, "process": process.pk, "contact": contact.pk}))
"""


def at_once(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released together; return what each got."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=120)
            results[i] = work(i)
        except Exception as exc:  # the test inspects what each thread got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a request is stuck"
    return results


def test_fifty_simultaneous_posts_of_one_step_complete_it_once_and_the_rest_get_409(
    quick_start,
):
    step = quick_start.shell(CONTACT_STEP_SCRIPT)
    session = quick_start.login()
    quick_start.start_web()
    form = {
        "contacted_on": "2026-01-12",
        "channel": "phone",
        "contacts": [step["contact"]],
        "approvers": [step["contact"]],
    }

    statuses = at_once(50, lambda i: quick_start.post(f"/tasks/{step['task']}/", form, session))

    assert Counter(statuses) == {302: 1, 409: 49}, quick_start.log("web")[-3000:]
    assert quick_start.query(
        "SELECT count(*) FROM workflows_firstcontact WHERE process_id = ?", [step["process"]]
    ) == [(1,)]
    assert quick_start.query(
        "SELECT count(*) FROM workflows_historicaltask WHERE id = ? AND status = 'DONE'",
        [step["task"]],
    ) == [(1,)]
    # runserver writes a request's log line after its response is sent: wait for the fiftieth.
    wait_until(
        lambda: quick_start.log("web").count('"POST /tasks/') >= 50,
        why=lambda: quick_start.log("web")[-3000:],
    )
    log = quick_start.log("web")
    assert log.count('"POST /tasks/') == 50, log[-3000:]
    assert "database is locked" not in log


# A draft sent to Växjö's contact: the task link's path (with its token).
TASK_LINK_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from municipalities.models import Municipality
from tests.workflows.helpers import open_task, walk_to
from workflows import services
leader = get_user_model().objects.get(username="projektledare")
vaxjo = Municipality.objects.get(code="0780")
contact = vaxjo.contacts.first()
process = services.start_process(municipality=vaxjo, user=leader)
task = walk_to(process, leader, contact, "request_approval")
(issued,) = services.request_approval(task=task, user=leader, approvers=[contact])
print("RESULT" + json.dumps({"path": "/l/" + issued.url.split("/l/", 1)[1],
                             "process": process.pk}))
"""


def test_fifty_simultaneous_answers_through_one_task_link_answer_it_once(quick_start):
    link = quick_start.shell(TASK_LINK_SCRIPT)
    quick_start.start_web()
    # The contact opens the emailed link: the token moves into the session.
    session = {"session": quick_start.open_link(link["path"]), "csrf": "c" * 32}

    statuses = at_once(50, lambda i: quick_start.post("/l/", {"answer": "approved"}, session))

    # The winner is sent to the receipt (POST-redirect-GET); a post that arrives once the answer
    # is recorded is the same answer sent again (a double click), sent to the same receipt, or,
    # once the winner's answer has closed the session's link, the "no link" page: no server
    # error, and one answer, as on PostgreSQL (tests/workflows/test_task_links.py).
    counts = Counter(statuses)
    assert counts[303] >= 1, counts
    assert counts[303] + counts[400] + counts[410] == 50, counts
    assert quick_start.query(
        "SELECT count(*) FROM workflows_approvalanswer WHERE process_id = ?", [link["process"]]
    ) == [(1,)]
    assert "database is locked" not in quick_start.log("web")


START_ALL_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from municipalities.models import County
from workflows import services
leader = get_user_model().objects.get(username="projektledare")
services.start_processes_for_county(county=County.objects.get(code="07"), user=leader)
print("RESULT" + json.dumps({}))
"""

APPEND_ONLY_SCRIPT = """
import json
from django.apps import apps
from django.db import connection, transaction
from django.db.utils import DatabaseError
from simple_history.models import HistoricalChanges
from audit.verification import triggers_missing
tables = ["audit_auditevent", "audit_auditverification"] + sorted(
    m._meta.db_table for m in apps.get_models() if issubclass(m, HistoricalChanges)
)
refused, allowed = [], []
for table in tables:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        if not cursor.fetchone()[0]:
            continue
    for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
            allowed.append(sql)
        except DatabaseError as error:
            refused.append(str(error))
found = {"refused": refused, "allowed": allowed, "missing": triggers_missing()}
print("RESULT" + json.dumps(found))
"""


def test_history_and_the_audit_trail_refuse_update_and_delete_on_sqlite(quick_start):
    quick_start.shell(START_ALL_SCRIPT)
    quick_start.manage("verify_audit")

    found = quick_start.shell(APPEND_ONLY_SCRIPT)

    assert found["allowed"] == [] and found["missing"] == []
    assert len(found["refused"]) >= 12
    assert "pgtrigger: Cannot update rows from audit_auditevent table" in found["refused"]
    # Another program (the sqlite3 shell) cannot lift them either.
    with pytest.raises(sqlite3.OperationalError):
        quick_start.query("UPDATE audit_auditevent SET summary = 'forged'")


NIGHTLY_SCRIPT = """
import json
from audit.selectors import chain_status
from audit.tasks import verify_audit_chain
ok = verify_audit_chain()
found = {"ok": ok, "verified_up_to_head": chain_status().is_verified_up_to_head}
print("RESULT" + json.dumps(found))
"""


def test_verify_audit_passes_on_sqlite_and_names_a_row_edited_in_the_file(quick_start):
    quick_start.shell(START_ALL_SCRIPT)
    verified = quick_start.manage("verify_audit")
    assert "The audit chain is intact." in verified.stdout
    # The nightly task too, and the chain status the timeline pages show.
    assert quick_start.shell(NIGHTLY_SCRIPT) == {"ok": True, "verified_up_to_head": True}

    # Someone edits the file: drops the trigger, changes a row, puts the trigger back.
    ((event_id, seq),) = quick_start.query(
        "SELECT id, seq FROM audit_auditevent WHERE kind = 'process_started' ORDER BY id LIMIT 1"
    )
    with sqlite3.connect(quick_start.database) as connection:
        triggers = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'audit_auditevent'"
        ).fetchall()
        for name, _sql in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        connection.execute(
            "UPDATE audit_auditevent SET summary = 'Nothing happened' WHERE id = ?", [event_id]
        )
        for _name, sql in triggers:
            connection.execute(sql)

    # An old row: the full verification reads it (the nightly one starts at its last checkpoint).
    broken = quick_start.manage("verify_audit", "--full", check=False)
    assert broken.returncode == 1
    assert f"event id {event_id} (seq {seq})" in broken.stderr + broken.stdout
    assert "altered" in broken.stderr + broken.stdout

    # A trigger left out is reported too.
    with sqlite3.connect(quick_start.database) as connection:
        connection.execute(f'DROP TRIGGER "{triggers[0][0]}"')
    missing = quick_start.manage("verify_audit", check=False)
    assert "append-only trigger audit_auditevent:" in missing.stderr + missing.stdout


PSEUDONYMISE_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from audit import services
from municipalities.models import Contact, Municipality
from workflows import services as workflow_services
leader = get_user_model().objects.get(username="projektledare")
admin = get_user_model().objects.filter(is_superuser=True).first()
vaxjo = Municipality.objects.get(code="0780")
workflow_services.start_process(municipality=vaxjo, user=leader)
contact = vaxjo.contacts.order_by("pk").first()
history = contact.history.count()
result = services.pseudonymise_person(person=contact, user=admin, reason="Har slutat.")
found = {
    "history": history,
    "rows": result.rows_rewritten,
    "name": Contact.objects.get(pk=contact.pk).name,
    "named": contact.history.filter(name=contact.name).count(),
}
print("RESULT" + json.dumps(found))
"""


def test_a_pseudonymisation_lifts_the_sqlite_triggers_and_the_trail_still_verifies(quick_start):
    """`pgtrigger.ignore` lifts the SQLite triggers (audit.sqlite reads pgtrigger's own ignore
    state), through the same `audit.upstream.ignoring_triggers` PostgreSQL's prepared statements
    need: the history rows naming the person are rewritten, and the chain still holds."""
    found = quick_start.shell(PSEUDONYMISE_SCRIPT)

    assert found["history"] >= 1 and found["rows"] >= found["history"]
    assert found["name"].startswith("Pseudonymiserad kontakt")
    assert found["named"] == 0  # no history row names the person any more
    verified = quick_start.manage("verify_audit")
    assert "The audit chain is intact." in verified.stdout
    # The triggers are still there: a program other than PolicyFlow cannot update history.
    with (
        sqlite3.connect(quick_start.database) as connection,
        pytest.raises(sqlite3.DatabaseError, match="pf_trigger_ignored"),
    ):
        connection.execute("UPDATE municipalities_historicalcontact SET name = 'X'")


# The outbox sweep, as beat runs it every minute, without waiting for its grace period: it
# publishes again whatever is still queued (an email whose delivery failed after it was sent
# would then go out twice).
SWEEP_SCRIPT = """
import json
from django.conf import settings
from notifications.sweep import requeue_overdue
settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 0
print("RESULT" + json.dumps(requeue_overdue()))
"""

# Eight task emails for Kronoberg's municipalities, queued through the outbox as a step queues
# its email (starting a county queues none: the leader who starts it opened the steps).
QUEUE_EIGHT = """
import json
from municipalities.models import County
from notifications.outbox import queue_notification
for m in County.objects.get(code="07").municipalities.order_by("code"):
    queue_notification(
        event="task_assigned", recipient_email="projektledare@example.org",
        recipient_name="Pia", language="sv", key=f"quick-start:{m.code}",
        topic=f"municipality:{m.code}",
        context={"municipality": m.name, "task_title": "Dialog", "task_url": "/tasks/1/"},
    )
print("RESULT" + json.dumps(8))
"""

# Queue the eight task emails with the broker paused (they wait for the sweep), then publish
# each twice in a row, as a sweep does for an email whose first message is still on its way:
# the worker's two processes then deliver the same email at the same moment.
TWICE_SCRIPT = """
import json
from municipalities.models import County
from notifications.models import Notification
from notifications.broker import broker_pause, enqueue_many
from notifications.outbox import queue_notification
broker_pause.pause()
for m in County.objects.get(code="07").municipalities.order_by("code"):
    queue_notification(
        event="task_assigned", recipient_email="projektledare@example.org",
        recipient_name="Pia", language="sv", key=f"quick-start:{m.code}",
        topic=f"municipality:{m.code}",
        context={"municipality": m.name, "task_title": "Dialog", "task_url": "/tasks/1/"},
    )
ids = list(Notification.objects.filter(status="queued").values_list("pk", flat=True))
for pk in ids:
    assert enqueue_many([pk], force=True) and enqueue_many([pk], force=True)
print("RESULT" + json.dumps(ids))
"""


def delivered_message_ids(var_dir) -> list[str]:
    """The Message-ID of every email the file backend wrote (several per file)."""
    return [
        line.split(":", 1)[1].strip()
        for path in sorted((var_dir / "emails").glob("*.log"))
        for line in path.read_text().splitlines()
        if line.startswith("Message-ID:")
    ]


def wait_for_idle_worker(site) -> None:
    """Every task message published so far taken and finished."""

    def idle() -> bool:
        log = site.log("worker")
        finished = log.count(" succeeded in ") + log.count(" raised unexpected")
        return not any((site.var_dir / "celery-queue").iterdir()) and finished == log.count(
            " received"
        )

    wait_until(idle, timeout=180, why=lambda: site.log("worker"))


# The demo's processes (seed_kronoberg --demo) were started by their own leaders, who are not
# emailed about work they gave themselves: the worker delivers the county's eight, nothing else.


def sent(site) -> int:
    return site.query("SELECT count(*) FROM notifications_notification WHERE status = 'sent'")[0][0]


def test_after_a_county_start_the_real_worker_delivers_each_queued_email_once(
    quick_start,
):
    control_in_project = (ROOT / "control").exists()
    session = quick_start.login()
    quick_start.start_web()
    quick_start.start_worker()
    ((county,),) = quick_start.query("SELECT id FROM municipalities_county WHERE code = '07'")

    assert quick_start.post("/processes/start-county/", {"county": county}, session) == 302
    assert quick_start.shell(QUEUE_EIGHT) == 8
    wait_for_idle_worker(quick_start)
    quick_start.shell(SWEEP_SCRIPT)
    wait_for_idle_worker(quick_start)

    assert sent(quick_start) == 8
    message_ids = delivered_message_ids(quick_start.var_dir)
    assert len(message_ids) == 8, quick_start.log("worker")[-3000:]
    assert len(set(message_ids)) == 8
    assert "database is locked" not in quick_start.log("worker")
    # The broker's broadcast table is under var/, not a control/ folder in the project.
    assert (quick_start.var_dir / "celery-control").is_dir()
    assert (ROOT / "control").exists() == control_in_project


def test_an_email_published_twice_is_delivered_once_by_the_worker(quick_start):
    queued = quick_start.shell(TWICE_SCRIPT)
    assert len(queued) == 8

    quick_start.start_worker()
    wait_for_idle_worker(quick_start)

    assert sent(quick_start) == 8
    message_ids = delivered_message_ids(quick_start.var_dir)
    assert sorted(Counter(message_ids).values()) == [1] * 8, quick_start.log("worker")[-3000:]


def test_once_the_site_is_up_the_demo_logins_and_the_mailbox_are_shown(quick_start):
    quick_start.start_web()
    quick_start.start_welcome()

    wait_until(lambda: "Stop with Ctrl+C" in quick_start.log("welcome"), timeout=180)

    welcome = quick_start.log("welcome")
    assert f"PolicyFlow is running: {quick_start.base_url}/" in welcome
    assert f"{quick_start.base_url}/notifications/files/" in welcome
    logins = [
        line.strip().split(" / ")
        for line in welcome.splitlines()
        if line.startswith("  ") and " / " in line
    ]
    assert [user for user, _password in logins] == [
        "projektledare",
        "projektledare2",
        "styrgrupp",
        "referensgrupp",
        "kalmar",
        "nationell",
        "admin",
    ]
    for user, password in logins:
        checked = quick_start.shell(
            "import json\nfrom django.contrib.auth import authenticate\n"
            "from django.test import RequestFactory\n"
            "request = RequestFactory().post('/accounts/login/')\n"
            f"print('RESULT' + json.dumps(authenticate(request, username={user!r}, "
            f"password={password!r}) is not None))"
        )
        assert checked is True, user


# The critical paths whose tests run on SQLite too: one step completed at once by threads
# (through the services and the pages), the overview's summary of the stage history kept in the
# write's transaction, and an event's place taken from its process's latest event on the record
# (remembered under the chain's lock, never from a rolled-back savepoint).
SQLITE_CRITICAL_PATHS = [
    "tests/workflows/test_concurrency.py",
    "tests/workflows/test_stage_summary.py",
    "tests/audit/test_appending.py::"
    "test_an_event_takes_the_processs_stage_on_record_not_one_a_rolled_back_savepoint_wrote",
    # The append itself: the ORM's two statements here, one hand-built one on PostgreSQL.
    "tests/audit/test_appending.py::"
    "test_an_appended_event_is_stored_field_for_field_as_built_and_its_head_follows_it",
    "tests/audit/test_appending.py::"
    "test_a_remembered_head_moves_only_while_it_is_still_its_chains_in_its_transaction",
    # The delivery's row lock and load (one plain statement through Manager.raw on both).
    "tests/notifications/test_delivery.py::"
    "test_a_notification_is_sent_once_however_many_messages_ask_for_it",
    # The page cache's data version of a reader's counties: the chain heads' counties, kept by
    # the ORM's update of the head here (one hand-built statement on PostgreSQL).
    "tests/audit/test_page_cache.py::"
    "test_an_event_in_another_county_leaves_the_readers_timeline_in_the_cache",
    "tests/workflows/test_page_cache.py::test_a_step_in_another_county_leaves_the_page_in_the_cache",
    # The CSV export's portable path (tuples decoded by Django) against the per-event one.
    "tests/audit/test_exports.py::"
    "test_the_streamed_csv_is_byte_for_byte_what_the_per_event_path_writes",
]


def test_the_projects_critical_path_tests_pass_on_sqlite_too(tmp_path):
    """`SQLITE_CRITICAL_PATHS` on a SQLite file with make run's options."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST", "VAR_DIR"))
    }
    env["SQLITE_TEST_DIR"] = str(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            "-q",
            "--ds",
            "tests.support.sqlite_test_settings",
            *SQLITE_CRITICAL_PATHS,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # Every test of the file passed: none skipped, deselected or expected to fail.
    assert re.fullmatch(r"\d+ passed in .*", result.stdout.strip().splitlines()[-1]), result.stdout
