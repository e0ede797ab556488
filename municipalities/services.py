"""Writes for the municipality register: loading SCB's official list."""

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from .models import County, Municipality

OFFICIAL_LIST = Path(__file__).resolve().parent / "data" / "municipalities.csv"


@dataclass(frozen=True)
class LoadResult:
    counties_created: int
    municipalities_created: int
    municipalities_updated: int


@transaction.atomic
def load_municipalities(*, path: Path = OFFICIAL_LIST) -> LoadResult:
    """Create or update every county and municipality of the official list (idempotent)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    counties = {c.code: c for c in County.objects.all()}
    counties_created = 0
    for row in rows:
        code, name = row["county_code"].strip(), row["county_name"].strip()
        county = counties.get(code)
        if county is None:
            counties[code] = County.objects.create(code=code, name=name)
            counties_created += 1
        elif county.name != name:
            county.name = name
            county.save(update_fields=["name"])

    existing = {m.code: m for m in Municipality.objects.select_related("county")}
    created = updated = 0
    for row in rows:
        code, name = row["municipality_code"].strip(), row["municipality_name"].strip()
        county = counties[row["county_code"].strip()]
        municipality = existing.get(code)
        if municipality is None:
            Municipality.objects.create(code=code, name=name, county=county)
            created += 1
        elif municipality.name != name or municipality.county_id != county.pk:
            municipality.name, municipality.county = name, county
            municipality.save()
            updated += 1
    return LoadResult(counties_created, created, updated)
