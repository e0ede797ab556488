"""Fill each municipality's current process (CurrentProcess) from the processes."""

from django.db import migrations


def backfill(apps, schema_editor):
    from workflows.stage_summary import rebuild_current

    rebuild_current(
        process_model=apps.get_model("workflows", "PolicyProcess"),
        current_model=apps.get_model("workflows", "CurrentProcess"),
    )


class Migration(migrations.Migration):
    dependencies = [("workflows", "0015_current_process")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
