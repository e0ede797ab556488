"""The plain viewflow peer's tables (`bench.peer`): a process and task of viewflow's abstract
models and the rows its steps write, with no history, no audit trail and no outbox. Installed
only with the benchmark's settings (`bench.settings`); nothing else reads them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from viewflow.workflow.models import AbstractProcess, AbstractTask

from municipalities.models import Contact, Municipality


class PeerProcess(AbstractProcess):
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(max_length=32, default="contact")
    stage_entered_at = models.DateTimeField(default=timezone.now)
    approvers = models.ManyToManyField(Contact, related_name="+", blank=True)
    data = models.JSONField(default=dict, blank=True)


class PeerTask(AbstractTask):
    process = models.ForeignKey(PeerProcess, on_delete=models.CASCADE)
    data = models.JSONField(default=dict, blank=True)


class PeerFirstContact(models.Model):
    process = models.ForeignKey(PeerProcess, on_delete=models.PROTECT, related_name="+")
    contacted_on = models.DateField()
    channel = models.CharField(max_length=16)
    contacts = models.ManyToManyField(Contact, related_name="+")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"first contact {self.pk}"


class PeerDraft(models.Model):
    process = models.ForeignKey(PeerProcess, on_delete=models.PROTECT, related_name="drafts")
    version = models.PositiveIntegerField()
    competition_section = models.TextField()
    customer_section = models.TextField()
    other_text = models.TextField(blank=True)
    change_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"draft {self.version}"


class PeerAnswer(models.Model):
    process = models.ForeignKey(PeerProcess, on_delete=models.PROTECT, related_name="+")
    draft = models.ForeignKey(PeerDraft, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=32)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.answer


class PeerDecision(models.Model):
    process = models.ForeignKey(PeerProcess, on_delete=models.PROTECT, related_name="+")
    body = models.CharField(max_length=8)
    meeting_date = models.DateField()
    paragraph = models.CharField(max_length=20)
    case_number = models.CharField(max_length=60)
    outcome = models.CharField(max_length=16)
    certification_date = models.DateField(null=True, blank=True)
    announcement_date = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.outcome
