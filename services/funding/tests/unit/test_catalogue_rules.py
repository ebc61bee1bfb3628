"""Catalogue rules without I/O: coverage from the region text and the validation of a record."""

from datetime import date

import pytest

from nzr_common.regions import load_districts
from nzr_funding.catalogue import rules as catalogue_rules

NAMES = {ags: d.name for ags, d in load_districts().items()}
DAY = date(2026, 11, 21)


def test_region_text_with_districts_limits_coverage_to_those_districts():
    coverage = catalogue_rules.derive_coverage(
        "Grenzraum: LK Görlitz und LK Bautzen sowie Unterregion Jelenia Góra", NAMES
    )
    assert coverage == catalogue_rules.Coverage(("sachsen",), ("14625000", "14626000"), True)


def test_landkreis_leipzig_is_not_mistaken_for_the_city():
    coverage = catalogue_rules.derive_coverage("Grenzraum: LK Leipzig", NAMES)
    assert coverage.districts == ("14729000",)


def test_example_districts_are_not_exhaustive():
    coverage = catalogue_rules.derive_coverage(
        "sächsisch-tschechische Euroregionen (z. B. Euroregion Erzgebirge: Erzgebirgskreis, Chemnitz)", NAMES
    )
    assert coverage.districts_exhaustive is False


def test_east_german_programmes_cover_saxony():
    assert (
        "sachsen" in catalogue_rules.derive_coverage("ostdeutsche Bundesländer und Berlin", NAMES).territories
    )


TAXONOMY = {
    "foerderart": frozenset({"zuschuss"}),
    "foerderbereich": frozenset({"mobilitaet"}),
    "foerderberechtigte": frozenset({"kommune"}),
    "foerdergebiet": frozenset({"sachsen"}),
}


def check(**changes):  # type: ignore[no-untyped-def]
    values = dict(
        funding_types=["zuschuss"],
        areas=["mobilitaet"],
        eligible=["kommune"],
        topics=["mobilitaet"],
        territories=["sachsen"],
        districts=[],
        amount_min=None,
        amount_max=None,
        rate=None,
        taxonomy=TAXONOMY,
        known_districts=NAMES,
    )
    values.update(changes)
    return [p.field for p in catalogue_rules.check_programme(**values)]


def test_a_valid_programme_has_no_problems():
    assert check() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"areas": ["raumfahrt"]}, "areas"),
        ({"amount_min": 10, "amount_max": 5}, "amount_min_eur"),
        ({"rate": 0}, "funding_rate_percent"),
        ({"rate": 100.5}, "funding_rate_percent"),
        ({"amount_max": -1}, "amount_max_eur"),
        ({"districts": ["14999000"]}, "districts"),
    ],
)
def test_programme_rules_name_the_field(changes, field):
    assert check(**changes) == [field]
