"""Celery: verify the audit chain every night and alert when it is broken."""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from .conf import setting
from .services import record_verification
from .verification import verify_chain

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
    recipients = alert_recipients()
    sent = mail.send_mail(subject, body, None, recipients) if recipients else 0
    mail.mail_admins(subject, body)
    return sent


@shared_task(name="audit.verify_chain", ignore_result=True)
def verify_audit_chain() -> bool:
    """Run by Celery beat every night (in one process: a prefork worker may not fork)."""
    result = verify_chain(jobs=1)
    verification = record_verification(result=result, source="nightly")
    if not result.is_ok:
        logger.error("Audit chain verification failed: %s", result.first_problem)
        send_alert(verification)
    return result.is_ok
