"""Celery: take a country-wide checkpoint every few minutes; verify the audit trail every night
from the last verified checkpoint (and fully once a week), publish the checkpoint by email,
alert when broken."""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from .checkpoints import published_head, take_checkpoint
from .conf import setting
from .verification import record_verification, verify_chain

logger = logging.getLogger(__name__)


def alert_recipients() -> list[str]:
    """Active users holding AUDIT_ALERT_PERMISSION (the steering group) and superusers."""
    app_label, _sep, codename = setting("AUDIT_ALERT_PERMISSION").partition(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    condition = Q(is_superuser=True)
    if permission is not None:
        condition |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    users = get_user_model()._default_manager.filter(condition, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _head_paragraph(verification) -> str:
    head = published_head(verification.head_seq, verification.head_hash)
    if not head:
        return _("The audit trail holds no events yet.")
    return _(
        "Checkpoint: %(head)s\n"
        "(checkpoint no. %(seq)s: the head of every municipality's chain). Keep this email: the "
        "checkpoint is published outside the database so that a wiped or shortened record is "
        "caught. To check the record against it, run\n"
        "python manage.py verify_audit --expect-head %(head)s"
    ) % {"head": head, "seq": verification.head_seq}


def send_alert(verification) -> int:
    from django.conf import settings

    with translation.override(settings.LANGUAGE_CODE):
        subject = _("PolicyFlow: the audit trail failed its verification")
        body = _(
            "The nightly verification of the audit trail found %(count)s problem(s).\n"
            "First: %(problem)s\n\n"
            "Run `python manage.py verify_audit` for the full list, and keep the database as it "
            "is for the investigation."
        ) % {"count": verification.problem_count, "problem": verification.problem}
        body += "\n\n" + _head_paragraph(verification)
    recipients = alert_recipients()
    sent = mail.send_mail(subject, body, None, recipients) if recipients else 0
    mail.mail_admins(subject, body)
    return sent


def send_head(verification) -> int:
    """The nightly receipt of an intact chain, with its head: the copy outside the database."""
    from django.conf import settings

    with translation.override(settings.LANGUAGE_CODE):
        subject = _("PolicyFlow: the audit trail is intact (checkpoint no. %(seq)s)") % {
            "seq": verification.head_seq or 0
        }
        body = _(
            "The nightly verification checked %(count)s events of the audit trail: intact."
        ) % {"count": verification.rows_checked}
        body += "\n\n" + _head_paragraph(verification)
    recipients = alert_recipients()
    return mail.send_mail(subject, body, None, recipients) if recipients else 0


@shared_task(name="audit.take_checkpoint", ignore_result=True)
def take_audit_checkpoint() -> int | None:
    """Run by Celery beat every few minutes: every chain's head, anchored country-wide."""
    checkpoint = take_checkpoint()
    return checkpoint.seq if checkpoint else None


@shared_task(name="audit.verify_chain", ignore_result=True)
def verify_audit_chain(full: bool = False) -> bool:
    """Run by Celery beat every night, from the last verified checkpoint (``full``: everything,
    weekly), after a checkpoint of every chain (in one process: a prefork worker may not fork)."""
    take_checkpoint()
    result = verify_chain(jobs=1, full=full)
    verification = record_verification(result=result, source="nightly")
    if not result.is_ok:
        logger.error("Audit chain verification failed: %s", result.first_problem)
        send_alert(verification)
    else:
        send_head(verification)
    return result.is_ok
