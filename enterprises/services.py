"""Every write to the ASF register: create, edit and import enterprises, each on the record.

Only a project leader of the enterprise's county writes (`municipalities.selectors.can_lead`);
every write validates the whole enterprise (the model's rules) inside one transaction, so bad
input changes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from municipalities import scoping as scope
from municipalities.models import County, Municipality

from .models import Enterprise, ImportBatch, criteria_in_order
from .validators import normalise_orgnr

# The fields an enterprise is written with (its municipalities apart: a many-to-many).
FIELDS = (
    "name",
    "org_number",
    "legal_form",
    "line_of_business",
    "places",
    "works_with_reuse",
    "criteria",
    "contact_name",
    "contact_email",
    "contact_phone",
    "status",
    "registered_on",
    "closed_on",
)


@dataclass(frozen=True)
class EnterpriseData:
    """What a form or a CSV row says about one enterprise."""

    name: str
    org_number: str
    legal_form: str
    municipalities: tuple[Municipality, ...]
    status: str
    registered_on: datetime.date
    line_of_business: str = ""
    places: int = 0
    works_with_reuse: bool = False
    criteria: tuple[str, ...] = ()
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    closed_on: datetime.date | None = None

    def values(self) -> dict:
        values = {name: getattr(self, name) for name in FIELDS}
        values["criteria"] = list(criteria_in_order(self.criteria))
        return values


def _check_lead(user, county: County) -> None:
    if not scope.can_lead(user, county):
        raise PermissionDenied(
            _("Only a project leader of %(county)s keeps its register.") % {"county": county.name}
        )


def _check_municipalities(county: County, municipalities) -> None:
    if not municipalities:
        raise ValidationError(
            {"municipalities": _("Choose at least one municipality where the enterprise works.")}
        )
    foreign = [m.name for m in municipalities if m.county_id != county.pk]
    if foreign:
        raise ValidationError(
            {
                "municipalities": _("%(names)s is not a municipality in %(county)s.")
                % {"names": ", ".join(foreign), "county": county.name}
            }
        )


def _stamp(enterprise: Enterprise, *, user, reason: str) -> None:
    """The next history record of ``enterprise`` (its save, or its municipalities' change)
    carries its actor and reason."""
    enterprise._history_user = user
    enterprise._change_reason = str(reason)[:100]


def changed_fields(enterprise: Enterprise, data: EnterpriseData) -> list[str]:
    """The names of what ``data`` would change in ``enterprise`` (municipalities included)."""
    values = data.values()
    names = [name for name in FIELDS if getattr(enterprise, name) != values[name]]
    current = {m.pk for m in enterprise.municipalities.all()}
    if current != {m.pk for m in data.municipalities}:
        names.append("municipalities")
    return names


def _write(enterprise: Enterprise, data: EnterpriseData, *, user, reason: str) -> Enterprise:
    creating = enterprise.pk is None
    changes = [] if creating else changed_fields(enterprise, data)
    values = data.values()
    values["org_number"] = normalise_orgnr(values["org_number"])
    for name, value in values.items():
        setattr(enterprise, name, value)
    _check_municipalities(enterprise.county, data.municipalities)
    # The model's check constraints are its fields' and clean()'s rules again (and the
    # database's): not asked of the database once more per enterprise.
    enterprise.full_clean(exclude=["created_by"], validate_constraints=False)
    if creating or set(changes) - {"municipalities"}:
        _stamp(enterprise, user=user, reason=reason)
        try:
            enterprise.save()
        except IntegrityError:
            # The same number saved by someone else since it was checked (the unique index).
            raise ValidationError(
                {
                    "org_number": _("%(number)s is already in the register.")
                    % {"number": enterprise.org_number}
                }
            ) from None
    if creating or "municipalities" in changes:
        _stamp(enterprise, user=user, reason=reason)
        enterprise.municipalities.set(data.municipalities)
    return enterprise


def create_enterprise(*, user, county: County, data: EnterpriseData) -> Enterprise:
    """Add an enterprise to ``county``'s register."""
    _check_lead(user, county)
    with transaction.atomic():
        enterprise = Enterprise(county=county, created_by=user)
        return _write(enterprise, data, user=user, reason=_("Added to the ASF register"))


def update_enterprise(*, user, enterprise: Enterprise, data: EnterpriseData) -> Enterprise:
    """Change an enterprise of the register (its county stays)."""
    _check_lead(user, enterprise.county)
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        return _write(locked, data, user=user, reason=_("Changed in the ASF register"))


def file_checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@transaction.atomic
def import_enterprises(*, user, county: County, text: str, file_name: str) -> ImportBatch:
    """Import a CSV file into ``county``'s register: all rows or none.

    The file is read and checked again here (the register may have changed since its
    preview): any row in error raises a ValidationError and nothing is saved. A row whose
    organisation number is in the register changes that enterprise; a new one is added.
    """
    from .register_csv import read_import  # (it reads rows into this module's data)

    _check_lead(user, county)
    preview = read_import(text, county=county, lock=True)
    if not preview.is_valid:
        raise ValidationError(
            _("The file has errors: nothing was imported. Correct them and upload it again.")
        )
    reason = _("CSV import: %(file)s") % {"file": file_name}
    created = updated = 0
    for row in preview.rows:
        if row.enterprise is None:
            enterprise = Enterprise(county=county, created_by=user)
            _write(enterprise, row.data, user=user, reason=reason)
            created += 1
        elif row.changes:
            _write(row.enterprise, row.data, user=user, reason=reason)
            updated += 1
    batch = ImportBatch(
        county=county,
        file_name=file_name[:255],
        sha256=file_checksum(text),
        rows=len(preview.rows),
        created=created,
        updated=updated,
        imported_by=user,
    )
    batch._history_user = user
    batch._change_reason = reason[:100]
    batch.save()
    return batch
