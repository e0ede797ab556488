"""Default stage limits (days, in workflows/defaults.py), editable by an administrator."""

from django.db import migrations

from workflows.defaults import ensure_stage_limits


def create_defaults(apps, schema_editor):
    ensure_stage_limits(apps)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0004_stage_limits")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
