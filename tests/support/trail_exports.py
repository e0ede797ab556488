"""The whole audit trail downloaded as a reader does it now: its old address (`export.csv`,
`archive.zip`) leads to the export's request page, the page's form makes a job, a worker makes
the file, and the job's page offers the download.

The worker's part (`exports.services.run_job`, the body of `exports.tasks.run_export_job`) runs
here in the test's own process and transaction: a test in a transaction publishes no message
(the job is enqueued after commit), and the file is the same. tests/exports runs real workers.
"""

import re
from html import unescape

from django.urls import reverse

from exports import services
from exports.models import ExportJob, Status

ROUTES = {"audit_csv": "audit:export_csv", "audit_archive": "audit:archive"}


def download_trail(client, kind: str = "audit_csv", data: dict | None = None):
    """The finished export's download response (its file streamed from storage)."""
    response = client.get(reverse(ROUTES[kind]), data or {})
    assert response.status_code == 302, response.status_code
    page = client.get(response["Location"])
    assert page.status_code == 200 and '<form method="post">' in page.content.decode()
    # What the page's form sends: its hidden fields, as a browser would.
    fields = dict(
        (unescape(name), unescape(value))
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.content.decode()
        )
        if name != "csrfmiddlewaretoken"
    )
    made = client.post(response["Location"], fields)
    assert made.status_code == 302, made.status_code
    job = ExportJob.objects.get(pk=int(made["Location"].rstrip("/").rsplit("/", 1)[-1]))
    services.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Status.DONE, job.error
    return client.get(reverse("exports:download", args=[job.pk]))
