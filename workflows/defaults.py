"""The rows PolicyFlow cannot start without: the default policy template and the stage limits.

Created by data migrations (0002, 0005) and restored by ``seed()``; an administrator edits
them afterwards. The functions take an app registry so that migrations can pass their
historical one.
"""

# ruff: noqa: E501  (the template texts are paragraphs: one line each, as they are stored)

from django.apps import apps as global_apps

STAGE_DAYS = {
    "contact": 14,
    "dialogue": 90,
    "drafting": 30,
    "awaiting_approval": 21,
    "awaiting_decision": 120,
}

TEMPLATE_NAME = "Policy för arbetsintegrerande sociala företag (mall)"

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


def ensure_default_template(apps=global_apps) -> None:
    PolicyTemplate = apps.get_model("workflows", "PolicyTemplate")
    if not PolicyTemplate.objects.filter(is_default=True).exists():
        PolicyTemplate.objects.create(
            name=TEMPLATE_NAME,
            competition_section=COMPETITION,
            customer_section=CUSTOMER,
            other_text=OTHER,
            is_default=True,
        )


def ensure_stage_limits(apps=global_apps) -> None:
    StageLimit = apps.get_model("workflows", "StageLimit")
    for stage, days in STAGE_DAYS.items():
        StageLimit.objects.get_or_create(stage=stage, defaults={"days": days})


def ensure_defaults(apps=global_apps) -> None:
    ensure_default_template(apps)
    ensure_stage_limits(apps)
