"""A covering index of each process's municipality (the inbox's open steps, by county)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0016_backfill_current_process"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="policyprocess",
            index=models.Index(
                fields=["process_ptr"], include=("municipality",), name="process_municipality"
            ),
        ),
    ]
