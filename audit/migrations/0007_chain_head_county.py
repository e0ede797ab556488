"""Each municipality's chain head names its county, so that a page reads the heads of its
reader's counties only (`audit.selectors.data_version`): filled here from each chain's newest
event, kept by every append after."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_county_codes(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    using = schema_editor.connection.alias
    newest = AuditEvent.objects.using(using).filter(chain=OuterRef("key")).order_by("-seq")
    ChainHead.objects.using(using).filter(key__startswith="municipality:").update(
        county_code=Subquery(newest.values("county_code")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_chains_per_municipality"),
    ]

    operations = [
        migrations.AddField(
            model_name="chainhead",
            name="county_code",
            field=models.CharField(
                blank=True, default="", max_length=2, verbose_name="county code"
            ),
        ),
        migrations.RunPython(fill_county_codes, migrations.RunPython.noop, elidable=True),
    ]
