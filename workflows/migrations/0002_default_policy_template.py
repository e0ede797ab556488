"""The default policy template (texts in workflows/defaults.py)."""

from django.db import migrations

from workflows.defaults import ensure_default_template


def create_default(apps, schema_editor):
    ensure_default_template(apps)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
