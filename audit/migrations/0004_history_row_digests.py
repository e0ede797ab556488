"""Bind each history row to its audit event: `record_digest` (an HMAC of the row, see
audit.binding) and `chain_version` (which fields an event's hash covers).

Events written from now on hash their record digest (version 2). Events already written keep
their hash exactly as it was (version 1): the record is never rewritten, and the chain heads
already published (nightly emails, archive manifests) stay valid. Their record digest is filled
in here, from the rows as they are now, so that from now on the verification also catches a
change to those older rows or a row added or removed behind the application's back; it is
protected by the key (only the key forges one), not by their hash. See docs/audit.md.
"""

from django.db import migrations, models

BATCH = 5000


def bind_existing_rows(apps, schema_editor):
    from audit import binding, upstream

    AuditEvent = apps.get_model("audit", "AuditEvent")
    if not AuditEvent.objects.filter(history_id__isnull=False).exists():
        return  # a new database
    connection = schema_editor.connection
    key = binding.chain.hmac_key()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE audit_binding "
            "(label varchar(100), history_id bigint, digest varchar(64))"
        )
        cursor.execute("CREATE INDEX audit_binding_idx ON audit_binding (label, history_id)")
        for label, model in binding.history_models(apps).items():
            rows = binding.table_digests(model, connection.alias, BATCH, key)
            batch = []
            for history_id, digest in rows:
                batch.append((label, history_id, digest.hex()))
                if len(batch) >= BATCH:
                    _insert(cursor, batch)
            _insert(cursor, batch)
    # The one statement that changes events: their triggers refuse it otherwise.
    with (
        upstream.ignoring_triggers(
            "audit.AuditEvent:append_only",
            "audit.AuditEvent:chain_immutable",
            using=connection.alias,
        ),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE audit_auditevent SET record_digest = COALESCE((SELECT b.digest "
            "FROM audit_binding AS b WHERE b.label = audit_auditevent.model_label "
            "AND b.history_id = audit_auditevent.history_id), '') "
            "WHERE history_id IS NOT NULL"
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE audit_binding")


def _insert(cursor, batch) -> None:
    if batch:
        cursor.executemany(
            "INSERT INTO audit_binding (label, history_id, digest) VALUES (%s, %s, %s)", batch
        )
        batch.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_lock_chain_function"),
        # The history tables as they are when their rows are bound.
        ("workflows", "0007_history_lookup_indexes"),
        ("municipalities", "0002_history_lookup_indexes"),
        ("notifications", "0004_idempotency_key_constraint"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="record_digest",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        # Every event written so far hashed version 1.
        migrations.AddField(
            model_name="auditevent",
            name="chain_version",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="chain_version",
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.RunPython(bind_existing_rows, migrations.RunPython.noop),
    ]
