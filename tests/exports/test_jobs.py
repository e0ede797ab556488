"""Long exports as jobs: the request answers at once with the job's page, a real Celery worker
makes the file, the page then links to it; the file holds what a reader of that county may
see; another county's reader finds neither the job nor its file; Redis down loses nothing."""

import csv
import io

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from audit import selectors as audit_selectors
from audit.models import AuditEvent
from exports import tasks as export_tasks
from exports.models import ExportJob, Status
from tests.support import free_port
from tests.support.workers import activate, make_celery_app, wait_until
from tests.workflows.helpers import walk_to
from workflows import services as workflow_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_counties(leader, kalmar_leader, vaxjo, vaxjo_contact):
    """A process in Växjö (Kronoberg, 07) with some steps, and one in Kalmar (08)."""
    from municipalities.models import Municipality

    process = workflow_services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "dialogue")
    workflow_services.start_process(
        municipality=Municipality.objects.get(code="0880"), user=kalmar_leader
    )


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def request_csv(client) -> str:
    """Ask for the whole trail as CSV the way the timeline's link does; the job page's URL."""
    page = client.get(reverse("exports:request", args=["audit_csv"]))
    assert "Skapa exporten" in page.content.decode()
    response = client.post(reverse("exports:request", args=["audit_csv"]), {"query": ""})
    assert response.status_code == 302
    return response["Location"]


def finished(job_url: str):
    job = ExportJob.objects.get(pk=int(job_url.rstrip("/").rsplit("/", 1)[-1]))
    return lambda: ExportJob.objects.get(pk=job.pk).status in (Status.DONE, Status.FAILED)


def test_the_trail_export_is_a_job_the_worker_makes_and_the_page_then_offers(
    two_counties, steering, export_worker
):
    client = client_of(steering)
    job_url = request_csv(client)
    wait_until(finished(job_url), timeout=60)

    page = client.get(job_url).content.decode()
    job = ExportJob.objects.get()
    assert job.status == Status.DONE, job.error
    assert "Klar" in page and f"{job.total} av {job.total} rader" in page
    assert f'<progress id="export-progress" max="{job.total}" value="{job.total}"' in page
    assert reverse("exports:download", args=[job.pk]) in page

    download = client.get(reverse("exports:download", args=[job.pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    _header, *rows = csv.reader(io.StringIO(text))
    # Exactly the events a reader of Kronoberg reads, none of Kalmar's.
    # (Up to the last event when it ran: its own "ready" and "downloaded" came after.)
    ids = sorted(int(row[1]) for row in rows)
    readable = audit_selectors.filtered_events(counties=["07"]).filter(id__lte=ids[-1])
    assert ids == sorted(readable.values_list("id", flat=True)) and len(ids) == job.total
    kalmar = AuditEvent.objects.filter(county_code="08")
    assert kalmar.exists() and not kalmar.filter(id__in=ids).exists()
    assert not any(row[6] == "Kalmar" for row in rows)  # the municipality column
    # On the record: asked for, ready, downloaded.
    summaries = list(
        audit_selectors.filtered_events(counties=["07"])
        .filter(model_label="exports.exportjob")
        .values_list("summary", flat=True)
    )
    assert any("begärd" in s for s in summaries) and any("hämtad" in s for s in summaries)


def test_a_prefork_worker_makes_the_trail_in_parallel_parts_byte_for_byte(
    two_counties, steering, celery_app, smtp_sink, worker_processes, monkeypatch
):
    """As in production: `celery worker --pool prefork`, whose pool processes (daemons) fork
    the parts' processes (`exports.parts`). The file is the one `csv_row` writes."""
    from audit import exports
    from tests.audit.test_exports import written

    monkeypatch.setenv("TEST_WORKER_EXPORTS_CSV_PART_ROWS", "3")  # parts of three events up
    worker = worker_processes(
        broker_url=settings.CELERY_BROKER_URL,
        queue=celery_app.test_queue,
        smtp_port=smtp_sink.port,
        pool="prefork",
        concurrency=2,
    )
    client = client_of(steering)
    job_url = request_csv(client)
    wait_until(finished(job_url), timeout=120, why=worker.output)
    job = ExportJob.objects.get()
    assert job.status == Status.DONE, job.error
    assert job.total >= 6, job.total  # two parts at least

    download = client.get(reverse("exports:download", args=[job.pk]))
    body = b"".join(download.streaming_content).decode()
    last_id = int(list(csv.reader(io.StringIO(body[1:])))[-1][1])
    events = audit_selectors.filtered_events(counties=["07"]).filter(id__lte=last_id)
    with translation.override(job.language):
        assert body == written(events.order_by("id"), delimiter=",")
    assert f"in {min(2, job.total // 3)} parts" in worker.output()
    assert exports.csv_header()[0] in body


def test_another_countys_reader_finds_neither_the_job_nor_its_file(
    two_counties, steering, kalmar_leader, reference, export_worker
):
    job_url = request_csv(client_of(steering))
    wait_until(finished(job_url), timeout=60)
    job = ExportJob.objects.get()
    for user in (kalmar_leader, reference):
        other = client_of(user)
        assert other.get(job_url).status_code == 404
        assert other.get(reverse("exports:download", args=[job.pk])).status_code == 404
    # A reader of the same county's trail may fetch it.
    from tests.factories import steering_of

    colleague = client_of(steering_of("07"))
    assert colleague.get(reverse("exports:download", args=[job.pk])).status_code == 200


def test_a_job_cannot_widen_the_scope_it_was_asked_with(two_counties, steering, export_worker):
    client = client_of(steering)
    job_url = client.post(reverse("exports:request", args=["audit_csv"]), {"query": "county=08"})
    # Kalmar is no choice of Kronoberg's reader: bad filters, nothing written.
    assert job_url.status_code == 400 and not ExportJob.objects.exists()


@pytest.mark.parametrize("catch_up", ["page", "sweep"])
def test_redis_down_at_request_time_loses_nothing(
    two_counties, steering, celery_app, transactional_db, catch_up
):
    from celery.contrib.testing.worker import start_worker

    dead = make_celery_app(broker_url=f"redis://127.0.0.1:{free_port()}/0", queue="dead")
    dead.conf.broker_connection_retry = False
    dead.conf.broker_connection_max_retries = 0
    activate(dead)
    client = client_of(steering)
    try:
        job_url = request_csv(client)
    finally:
        activate(celery_app)
        dead.close()
    job = ExportJob.objects.get()
    assert job.status == Status.QUEUED and job.enqueued_at is None

    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        # Redis is back: the job's page, or the beat's sweep, publishes the lost message again.
        if catch_up == "page":
            assert "I kö" in client.get(job_url).content.decode()
        else:
            assert export_tasks.sweep() == {"requeued": 1, "deleted": 0}
        wait_until(finished(job_url), timeout=60)
    assert ExportJob.objects.get().status == Status.DONE


def test_the_job_page_runs_a_bounded_number_of_queries(
    two_counties, steering, django_assert_max_num_queries
):
    client = client_of(steering)
    for size in (1, 20):
        urls = [request_csv(client) for _ in range(size)]
        with django_assert_max_num_queries(12):
            assert client.get(urls[-1]).status_code == 200


def test_a_municipality_report_is_made_as_a_job_without_personal_data_for_the_reference_group(
    two_counties, reference, kalmar_leader, vaxjo, export_worker
):
    client = client_of(reference)
    page = client.get(reverse("workflows:overview_municipality", args=[vaxjo.code]))
    request_url = reverse("exports:request", args=["municipality_report"])
    assert f"{request_url}?municipality={vaxjo.code}" in page.content.decode()
    response = client.post(request_url, {"municipality": vaxjo.code})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    # The scope and what the report may show are fixed now, from the reader's roles.
    assert job.counties == ["07"] and job.params["personal"] is False
    wait_until(finished(response["Location"]), timeout=120)
    job.refresh_from_db()
    assert job.status == Status.DONE, job.error
    assert "Rapporten skapas" not in client.get(response["Location"]).content.decode()
    pdf = b"".join(client.get(reverse("exports:download", args=[job.pk])).streaming_content)
    assert pdf.startswith(b"%PDF-")
    # Another county's leader may not ask for it, nor fetch this one.
    other = client_of(kalmar_leader)
    assert other.post(request_url, {"municipality": vaxjo.code}).status_code in (403, 404)
    assert other.get(reverse("exports:download", args=[job.pk])).status_code == 404


def test_bad_requests_get_a_clear_answer_and_write_nothing(two_counties, steering):
    client = client_of(steering)
    assert client.post(reverse("exports:request", args=["everything"])).status_code == 404
    municipality = reverse("exports:request", args=["municipality_report"])
    assert client.post(municipality, {"municipality": "9999"}).status_code == 404
    assert client.post(municipality, {"municipality": "07\x0080"}).status_code == 400
    trail = reverse("exports:request", args=["audit_csv"])
    assert client.post(trail, {"query": "since=9999-99-99"}).status_code == 400
    assert client.post(trail, {"query": "x" * 5000}).status_code == 400
    assert not ExportJob.objects.exists()
