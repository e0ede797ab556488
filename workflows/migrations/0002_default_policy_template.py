"""The default policy template a first draft starts from (Swedish, as the policies are)."""

from django.db import migrations

COMPETITION = """Konkurrensperspektiv

1. Reserverad upphandling. Kommunen prövar i varje upphandling där det är lämpligt om kontraktet kan reserveras enligt 4 kap. 18 § LOU för leverantörer där minst 30 procent av de anställda har en funktionsnedsättning eller står långt från arbetsmarknaden.
2. Idéburet offentligt partnerskap (IOP). Kommunen kan ingå IOP med arbetsintegrerande sociala företag när verksamheten inte är en ekonomisk verksamhet på en marknad, utan otillåten direktupphandling och utan otillåtet statsstöd.
3. Konkurrensneutralitet. Kommunens egen säljverksamhet följer konkurrenslagens regler om offentlig säljverksamhet (3 kap. 27 §), och stöd till företag följer EU:s statsstödsregler."""

CUSTOMER = """Kundperspektiv

1. Kommunen köper arbetsträning, arbetsplatser och tjänster av arbetsintegrerande sociala företag (ASF) där det ger värde för kommunens invånare.
2. Kommunen delar upp upphandlingar i mindre delar när det är möjligt, så att små företag kan lämna anbud.
3. Kommunen för dialog med leverantörsmarknaden, även ASF, innan större upphandlingar.
4. Kommunen ställer sociala krav i upphandlingar där det är lämpligt."""

OTHER = """Definition och kontaktperson

Kommunen använder Tillväxtverkets definition av arbetsintegrerande sociala företag. Kommunens kontaktperson för frågor om ASF är: [namn, funktion]."""


def create_default(apps, schema_editor):
    PolicyTemplate = apps.get_model("workflows", "PolicyTemplate")
    if not PolicyTemplate.objects.filter(is_default=True).exists():
        PolicyTemplate.objects.create(
            name="Policy för arbetsintegrerande sociala företag (mall)",
            competition_section=COMPETITION,
            customer_section=CUSTOMER,
            other_text=OTHER,
            is_default=True,
        )


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
