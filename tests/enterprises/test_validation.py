"""Organisation numbers are checked for their format and check digit, with a Swedish message."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import translation

from enterprises.models import Enterprise, Status
from enterprises.validators import normalise_orgnr
from tests.factories import EnterpriseFactory


def swedish_messages(value: str) -> list[str]:
    with translation.override("sv"), pytest.raises(ValidationError) as caught:
        normalise_orgnr(value)
    return caught.value.messages


@pytest.mark.parametrize("value", ["556036-0793", "5560360793", " 556036-0793 "])
def test_a_valid_number_is_stored_with_its_hyphen(value):
    assert normalise_orgnr(value) == "556036-0793"


@pytest.mark.parametrize("value", ["55603-60793", "556036 0793", "556036-079", "abcdef-1234", ""])
def test_a_number_in_another_form_is_refused_in_swedish(value):
    (message,) = swedish_messages(value)
    assert "inte ett organisationsnummer" in message
    assert "NNNNNN-NNNN" in message


def test_a_wrong_check_digit_is_refused_in_swedish():
    (message,) = swedish_messages("556036-0794")
    assert message.startswith("Kontrollsiffran i 556036-0794 stämmer inte")


@pytest.mark.django_db
def test_the_database_refuses_what_the_forms_would(seeded):
    enterprise = EnterpriseFactory()
    with pytest.raises(IntegrityError):
        Enterprise.objects.filter(pk=enterprise.pk).update(org_number="5560360793")


@pytest.mark.django_db
def test_a_closed_enterprise_needs_its_closing_date(seeded):
    enterprise = EnterpriseFactory.build(status=Status.CLOSED, closed_on=None)
    with translation.override("sv"), pytest.raises(ValidationError) as caught:
        enterprise.full_clean(exclude=["created_by"])
    assert "Ett avslutat företag behöver datumet då det avslutades." in caught.value.messages
