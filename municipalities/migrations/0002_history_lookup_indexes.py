from django.db import migrations

from audit.history import object_history_index


class Migration(migrations.Migration):
    dependencies = [("municipalities", "0001_initial")]

    operations = [
        object_history_index(f"municipalities_historical{name}", "id")
        for name in ("county", "municipality", "contact")
    ]
