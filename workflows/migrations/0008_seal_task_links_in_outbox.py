"""Task links already in the outbox leave the clear: before notifications.0005 the rendered
email, link and token included, stayed in notifications_notification for ever.

A sent email's link is replaced by a placeholder (it was delivered; the database keeps no working
copy). A queued or failed email's link is sealed (encrypted, notifications.sealing) so that its
delivery or retry still sends it. The link format is this app's (`/l/open/?t=<token>`)."""

import re

from django.db import migrations

LINK = re.compile(r"https?://[^\s\"'<>]*/l/open/\?t=[A-Za-z0-9_-]+")
LINK_EVENTS = ("approval_requested", "approval_reminder")


def seal_links(apps, schema_editor):
    from notifications import sealing

    Notification = apps.get_model("notifications", "Notification")
    rows = Notification.objects.filter(
        event__in=LINK_EVENTS, body_text__contains="/l/open/?t="
    ).only("pk", "status", "body_text", "body_html", "sealed_context")
    for row in rows.iterator():
        urls = sorted(set(LINK.findall(row.body_text)))
        stand_ins = sealing.placeholders(f"task_url_{n}" for n in range(len(urls)))
        replacements = dict(zip(stand_ins.values(), urls, strict=True))
        for placeholder, url in replacements.items():
            row.body_text = row.body_text.replace(url, placeholder)
            row.body_html = row.body_html.replace(url, placeholder)
        if row.status != "sent":
            row.sealed_context = sealing.seal(replacements)
        # save() through the historical model writes no history row; the bodies are not in the
        # history anyway.
        row.save(update_fields=["body_text", "body_html", "sealed_context"])


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0007_history_lookup_indexes"),
        ("notifications", "0005_sealed_context"),
    ]

    operations = [migrations.RunPython(seal_links, migrations.RunPython.noop)]
