"""The register's figures for the follow-up report: per municipality, for a period."""

import datetime

import pytest

from enterprises.selectors import register_figures
from municipalities.models import County, Municipality
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def test_active_new_and_places_per_municipality_for_a_period(kronoberg, django_assert_num_queries):
    vaxjo, alvesta = (Municipality.objects.get(code=c) for c in ("0780", "0764"))
    # Active since before the period, in two municipalities.
    EnterpriseFactory(municipalities=[vaxjo, alvesta], places=10, registered_on=D(2025, 1, 1))
    # New in the period.
    EnterpriseFactory(municipalities=[vaxjo], places=4, registered_on=D(2026, 2, 1))
    # New after the period: neither active at its end nor new in it.
    EnterpriseFactory(municipalities=[vaxjo], places=7, registered_on=D(2026, 4, 2))
    # Closed in the period: not active at its end.
    EnterpriseFactory(
        municipalities=[vaxjo],
        places=3,
        registered_on=D(2024, 1, 1),
        status="closed",
        closed_on=D(2026, 3, 1),
    )
    # Closed after the period: still active at its end.
    EnterpriseFactory(
        municipalities=[alvesta],
        places=2,
        registered_on=D(2024, 1, 1),
        status="closed",
        closed_on=D(2026, 5, 1),
    )
    # Still starting: new in the period, not counted as active.
    EnterpriseFactory(
        municipalities=[alvesta], places=5, registered_on=D(2026, 1, 10), status="starting"
    )
    # Another county's.
    EnterpriseFactory(
        county=County.objects.get(code="08"),
        municipalities=[Municipality.objects.get(code="0880")],
        registered_on=D(2026, 2, 1),
    )

    with django_assert_num_queries(2):
        figures = register_figures(counties=[kronoberg], start=D(2026, 1, 1), end=D(2026, 3, 31))

    rows = {row.name: row for row in figures.rows}
    assert len(rows) == 8  # every municipality of Kronoberg, zeros too
    assert (rows["Växjö"].active_at_end, rows["Växjö"].new_in_period, rows["Växjö"].places) == (
        2,
        1,
        14,
    )
    assert (
        rows["Alvesta"].active_at_end,
        rows["Alvesta"].new_in_period,
        rows["Alvesta"].places,
    ) == (2, 1, 12)
    assert (rows["Ljungby"].active_at_end, rows["Ljungby"].places) == (0, 0)
    # The totals count each enterprise once.
    assert (figures.active_at_end, figures.new_in_period, figures.places) == (3, 2, 16)
