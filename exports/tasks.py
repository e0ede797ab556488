"""Celery tasks of the exports: make one export; the periodic sweep (lost messages, old files).

At-least-once (acks_late, reject_on_worker_lost, as the project's other tasks): a redelivered
message finds the job finished or running (heartbeats) and leaves it alone; a job whose worker
died is taken over once its heartbeat is older than EXPORTS_STALLED_SECONDS.
"""

from celery import shared_task

from . import services


@shared_task(
    name="exports.run_export_job",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def run_export_job(job_id: int) -> str:
    return services.run_job(job_id)


@shared_task(name="exports.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    """Run by Celery beat: publish again what a broker outage lost; delete expired files."""
    return {"requeued": services.requeue_stale(), "deleted": services.delete_expired()}
