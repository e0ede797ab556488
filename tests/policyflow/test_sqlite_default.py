"""The critical paths on the embedded default, as `make run` runs it: SQLite (WAL, IMMEDIATE
transactions), the development server, and a real `celery worker` on the file-system broker.

The rest of the suite proves them on PostgreSQL; these prove the same promises on SQLite: a step
completed by many at once completes once and the others get the 409 page, every email is
delivered once, history refuses UPDATE and DELETE, and `verify_audit` names an edited row.
"""

import threading
from collections import Counter

import pytest

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
            barrier.wait(timeout=30)
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
    log = quick_start.log("web")
    assert log.count('"POST /tasks/') == 50, log[-3000:]
    assert "database is locked" not in log
