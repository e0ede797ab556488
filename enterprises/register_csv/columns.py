"""The register's CSV columns and how a cell's text is written and read in either direction."""

from dataclasses import dataclass

from django.utils import translation

from ..models import Criterion

BOM = "\ufeff"
MAX_BYTES = 1_000_000
# Each written row costs ~14 statements with its history and audit events: 300 new rows took
# 22 s on the shared 2-core machine, inside gunicorn's 30 s request timeout. A county's register
# holds tens of enterprises.
MAX_ROWS = 300
LIST_SEPARATOR = ","
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = "=+-@\t\r"
# Tillväxtverket's criteria by number, as the definition lists them.
CRITERION_NUMBERS = {str(i): code for i, code in enumerate(Criterion.values, start=1)}


@dataclass(frozen=True)
class Column:
    key: str  # the English key, accepted as a header too
    header: str  # the Swedish header the export writes
    required: bool = False
    personal: bool = False


COLUMNS = (
    Column("org_number", "Organisationsnummer", required=True),
    Column("name", "Namn", required=True),
    Column("legal_form", "Juridisk form", required=True),
    Column("municipalities", "Kommuner", required=True),
    Column("line_of_business", "Bransch"),
    Column("places", "Platser i arbetsintegrering"),
    Column("works_with_reuse", "Återbruk"),
    Column("criteria", "Kriterier"),
    Column("status", "Status"),
    Column("registered_on", "I registret sedan"),
    Column("closed_on", "Avslutad"),
    Column("contact_name", "Kontaktperson", personal=True),
    Column("contact_email", "Kontaktens e-post", personal=True),
    Column("contact_phone", "Kontaktens telefon", personal=True),
)
BY_HEADER = {name.casefold(): c for c in COLUMNS for name in (c.key, c.header)}
YES = {"ja", "j", "x", "yes", "y", "true", "1", "sant"}
NO = {"nej", "n", "no", "false", "0", "falskt", ""}


def unquoted(value: str) -> str:
    """A cell as written before the export protected it from formulas (`safe`)."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): a leading = + - @ is
    quoted with an apostrophe, as OWASP advises."""
    if value and value[0] in FORMULA_STARTS:
        return "'" + value
    return value


def labels(label) -> tuple[str, ...]:
    """How a choice may be written: its label in either language, the words before its
    parenthesis and those inside it ("Economic association (ekonomisk förening)")."""
    words = set()
    for language in ("sv", "en"):
        with translation.override(language):
            text = str(label).casefold()
        before, _paren, inside = text.partition(" (")
        words.update({text, before, inside.rstrip(")")} - {""})
    return tuple(words)


def swedish(label) -> str:
    with translation.override("sv"):
        return str(label)
