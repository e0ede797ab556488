"""`seed_kronoberg --demo` puts a handful of fictional Kronoberg ASF in the register, once."""

import pytest

from audit.models import AuditEvent
from enterprises.models import Enterprise
from enterprises.seeding import seed_demo_enterprises
from enterprises.validators import normalise_orgnr
from workflows.seeding import seed

pytestmark = pytest.mark.django_db


def test_the_demo_register_is_kronobergs_valid_on_the_record_and_seeded_once(seeded):
    seed(demo=True)

    added = seed_demo_enterprises()

    enterprises = list(Enterprise.objects.prefetch_related("municipalities"))
    assert added == len(enterprises) >= 5
    for enterprise in enterprises:
        assert normalise_orgnr(enterprise.org_number) == enterprise.org_number
        assert enterprise.county.code == "07"
        assert {m.county.code for m in enterprise.municipalities.all()} == {"07"}
    assert {e.status for e in enterprises} == {"active", "starting", "closed"}
    assert AuditEvent.objects.filter(
        model_label="enterprises.enterprise", summary__startswith="ASF tillagt i registret"
    ).count() == len(enterprises)
    assert seed_demo_enterprises() == 0
