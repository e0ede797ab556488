"""Fill the overview's summary of the process history (ProcessStageTime, MunicipalityStageReached)
from the history."""

from django.db import migrations


def backfill(apps, schema_editor):
    from workflows.stage_summary import rebuild

    rebuild(
        history_model=apps.get_model("workflows", "HistoricalPolicyProcess"),
        process_model=apps.get_model("workflows", "PolicyProcess"),
        summary_model=apps.get_model("workflows", "ProcessStageTime"),
        reached_model=apps.get_model("workflows", "MunicipalityStageReached"),
    )


class Migration(migrations.Migration):
    dependencies = [("workflows", "0013_process_stage_time")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
