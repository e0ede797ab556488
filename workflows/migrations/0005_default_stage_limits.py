"""Default stage limits (days), editable by an administrator afterwards."""

from django.db import migrations

DEFAULT_DAYS = {
    "contact": 14,
    "dialogue": 90,
    "drafting": 30,
    "awaiting_approval": 21,
    "awaiting_decision": 120,
}


def create_defaults(apps, schema_editor):
    StageLimit = apps.get_model("workflows", "StageLimit")
    for stage, days in DEFAULT_DAYS.items():
        StageLimit.objects.get_or_create(stage=stage, defaults={"days": days})


class Migration(migrations.Migration):
    dependencies = [("workflows", "0004_stage_limits")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
