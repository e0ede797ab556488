"""Swedish organisation numbers (organisationsnummer): the format NNNNNN-NNNN and the Luhn
check digit, checked with python-stdnum's `stdnum.se.orgnr`."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import luhn

# Ten digits, the hyphen after the sixth optional on input (stored with it).
ORGNR_INPUT = re.compile(r"^(\d{6})-?(\d{4})$")
ORGNR_STORED = r"^[0-9]{6}-[0-9]{4}$"


def normalise_orgnr(value: str) -> str:
    """``value`` as stored (NNNNNN-NNNN), or a ValidationError saying what is wrong, in words."""
    from stdnum.exceptions import ValidationError as NumberError
    from stdnum.se import orgnr

    text = (value or "").strip()
    match = ORGNR_INPUT.match(text)
    if match is None:
        raise ValidationError(
            _(
                "“%(value)s” is not an organisation number: write ten digits as NNNNNN-NNNN, "
                "e.g. 556036-0793."
            ),
            code="orgnr_format",
            params={"value": text},
        )
    try:
        orgnr.validate(text)
    except NumberError:
        raise ValidationError(
            _(
                "The check digit of %(value)s is wrong: check the number against the "
                "registration certificate (Bolagsverket)."
            ),
            code="orgnr_check_digit",
            params={"value": text},
        ) from None
    return f"{match.group(1)}-{match.group(2)}"


def validate_orgnr(value: str) -> None:
    normalise_orgnr(value)


def orgnr_check_digit(first_nine: str) -> str:
    """The Luhn check digit completing nine digits (demo data and tests make valid numbers)."""
    return luhn.calc_check_digit(first_nine)
