from django.db import migrations

from audit.history import object_history_index


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_outbox")]

    operations = [object_history_index("notifications_historicalnotification", "id")]
