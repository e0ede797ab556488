"""Reads of export jobs."""

from django.http import Http404

from . import services
from .models import ExportJob


def job_for(user, pk: int) -> ExportJob:
    """The job, if ``user`` may read it (404 otherwise: another county's job does not exist)."""
    job = ExportJob.objects.filter(pk=pk).first()
    if job is None or not services.may_read(user, job):
        raise Http404
    return job
