"""Task links already in the outbox leave the clear: before notifications.0005 the rendered
email, link and token included, stayed in notifications_notification for ever.

A sent email's link is replaced by a placeholder (it was delivered; the database keeps no working
copy). A queued or failed email's link is sealed (encrypted, notifications.sealing) so that its
delivery or retry still sends it. The link format is this app's (`/l/open/?t=<token>`).

The sealing is copied here from notifications/sealing.py as it was when this migration was
written, not imported: a later change there must not change what this migration does (what it
writes is what that module's unseal reads)."""

import base64
import json
import re
import secrets

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import migrations
from django.utils.crypto import salted_hmac

LINK = re.compile(r"https?://[^\s\"'<>]*/l/open/\?t=[A-Za-z0-9_-]+")
LINK_EVENTS = ("approval_requested", "approval_reminder")
SEALING_SALT = "policyflow.notifications.sealing"


def _fernet(secret: str) -> Fernet:
    key = salted_hmac(SEALING_SALT, "fernet-key", secret=secret, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(replacements: dict[str, str]) -> str:
    if not replacements:
        return ""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    fernet = MultiFernet([_fernet(key) for key in keys])
    return fernet.encrypt(json.dumps(replacements).encode()).decode()


def _placeholders(count: int) -> list[str]:
    nonce = secrets.token_hex(6)
    return [f"⟦sealed:task_url_{n}:{nonce}⟧" for n in range(count)]


def seal_links(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    rows = Notification.objects.filter(
        event__in=LINK_EVENTS, body_text__contains="/l/open/?t="
    )
    # The keys first, then each row: updating rows of the table a cursor is still reading is
    # unsafe on SQLite (.iterator() keeps that cursor open).
    for pk in list(rows.values_list("pk", flat=True).order_by("pk")):
        row = Notification.objects.only(
            "pk", "status", "body_text", "body_html", "sealed_context"
        ).get(pk=pk)
        urls = sorted(set(LINK.findall(row.body_text)))
        replacements = dict(zip(_placeholders(len(urls)), urls, strict=True))
        for placeholder, url in replacements.items():
            row.body_text = row.body_text.replace(url, placeholder)
            row.body_html = row.body_html.replace(url, placeholder)
        if row.status != "sent":
            row.sealed_context = _seal(replacements)
        # save() through the historical model writes no history row; the bodies are not in the
        # history anyway.
        row.save(update_fields=["body_text", "body_html", "sealed_context"])


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0007_history_lookup_indexes"),
        ("notifications", "0005_sealed_context"),
    ]

    operations = [migrations.RunPython(seal_links, migrations.RunPython.noop)]
