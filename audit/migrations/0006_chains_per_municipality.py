"""One hash chain per municipality (and one project-wide) instead of one for the country, each
appended under its `ChainHead` row's lock, anchored in country-wide checkpoints.

The events already written stay exactly as they are, in the chain "legacy" (their hashes do not
cover the chain's name: versions 1 and 2 are kept), whose head row is filled in here; new events
go to their municipality's chain (hash version 3). Re-threading them into chains per municipality
would have meant re-hashing the record, and every head published before (nightly emails, archives
handed to the e-archive) would stop matching. The function of migration 0003 (the global lock)
is dropped.
"""

from django.conf import settings
from django.db import migrations, models

DROP_LOCK_FUNCTION = "DROP FUNCTION IF EXISTS audit_lock_chain_and_read_head(bigint, bigint);"


def legacy_head(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    using = schema_editor.connection.alias
    last = AuditEvent.objects.using(using).order_by("-seq").first()
    if last is not None:
        ChainHead.objects.using(using).create(
            key="legacy", seq=last.seq, hash=last.hash, occurred_at=last.occurred_at
        )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_LOCK_FUNCTION)


def no_legacy_head(apps, schema_editor):
    apps.get_model("audit", "ChainHead").objects.using(schema_editor.connection.alias).filter(
        key="legacy"
    ).delete()
    if schema_editor.connection.vendor == "postgresql":
        from importlib import import_module

        schema_editor.execute(import_module("audit.migrations.0003_lock_chain_function").CREATE)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0005_event_kinds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField(unique=True, verbose_name='checkpoint number')),
                ('created_at', models.DateTimeField(verbose_name='time')),
                ('heads', models.JSONField(default=dict, verbose_name='chain heads')),
                ('events', models.BigIntegerField(default=0, verbose_name='events')),
                ('prev_hash', models.CharField(max_length=64)),
                ('hash', models.CharField(max_length=64)),
            ],
            options={
                'verbose_name': 'audit checkpoint',
                'verbose_name_plural': 'audit checkpoints',
                'ordering': ['-seq'],
                'get_latest_by': 'seq',
            },
        ),
        migrations.CreateModel(
            name='ChainHead',
            fields=[
                ('key', models.CharField(max_length=32, primary_key=True, serialize=False, verbose_name='chain')),
                ('seq', models.BigIntegerField(default=0, verbose_name='sequence number')),
                ('hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
                ('occurred_at', models.DateTimeField(blank=True, null=True, verbose_name='time')),
            ],
            options={
                'verbose_name': 'chain head',
                'verbose_name_plural': 'chain heads',
                'ordering': ['key'],
            },
        ),
        migrations.AddField(
            model_name='auditevent',
            name='chain',
            field=models.CharField(default='legacy', max_length=32, verbose_name='chain'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditverification',
            name='checkpoint_seq',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='checkpoint number'),
        ),
        migrations.AddField(
            model_name='auditverification',
            name='is_full',
            field=models.BooleanField(default=True, verbose_name='everything verified'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='chain_version',
            field=models.PositiveSmallIntegerField(default=3),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='seq',
            field=models.BigIntegerField(verbose_name='sequence number'),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.UniqueConstraint(fields=('chain', 'seq'), name='audit_chain_seq_unique'),
        ),
        migrations.RunPython(legacy_head, no_legacy_head),
    ]
