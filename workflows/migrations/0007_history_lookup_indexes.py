from django.db import migrations

from audit.history import object_history_index


class Migration(migrations.Migration):
    dependencies = [("workflows", "0006_voiding")]

    operations = [
        object_history_index("workflows_historicalpolicyprocess", "process_ptr_id"),
        *(
            object_history_index(f"workflows_historical{name}", "id")
            for name in (
                "approvalanswer",
                "decision",
                "firstcontact",
                "meeting",
                "policydraft",
                "policytemplate",
                "stagelimit",
                "task",
                "tasklink",
            )
        ),
    ]
