"""Pure rules of the dashboard: filters in the query string, colour classes, the tile map,
GeoJSON keys, and charts with whole-number ticks for counts."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from nzr_common.errors import Invalid
from nzr_common.regions import load_districts
from nzr_reporting.dashboard import charts, maps
from nzr_reporting.dashboard.rules import (
    NO_DATA_COLOUR,
    PALETTE,
    Filters,
    check_filters,
    colour_classes,
    colour_of,
    text_colour,
)

SVG = "{http://www.w3.org/2000/svg}"


def test_filters_keep_every_choice_in_the_query_and_drop_what_is_cleared():
    filters = Filters(
        region="nord", from_month="2026-01", theme="Veranstaltungen", indicator="gatherings_held"
    )
    assert filters.query(district="14612000") == (
        "?region=nord&district=14612000&from=2026-01&theme=Veranstaltungen&indicator=gatherings_held"
    )
    assert filters.query(region=None, theme=None) == "?from=2026-01&indicator=gatherings_held"


def test_bad_filters_are_refused_naming_each_field():
    with pytest.raises(Invalid) as refused:
        check_filters(
            Filters(region="x", district="1", theme="Wetter", indicator="y"),
            regions=["nord"],
            districts={"14612000"},
        )
    assert [name for name, _ in refused.value.problems] == ["region", "district", "theme", "indicator"]


def test_the_map_shows_the_themes_first_indicator_with_district_values_unless_one_is_chosen():
    assert check_filters(Filters(), regions=[], districts=()).id == "actors_total"
    assert check_filters(Filters(theme="Veranstaltungen"), regions=[], districts=()).id == "gatherings_held"
    chosen = Filters(theme="Veranstaltungen", indicator="participants_total")
    assert check_filters(chosen, regions=[], districts=()).id == "participants_total"
    with pytest.raises(Invalid):
        check_filters(Filters(theme="Newsletter", indicator="actors_total"), regions=[], districts=())


def test_colour_classes_of_counts_have_whole_bounds_and_no_more_classes_than_numbers():
    few = colour_classes([0, 1, 2], integer=True)
    assert [(c.lower, c.upper) for c in few] == [(0, 0), (1, 1), (2, 2)]
    assert few[0].colour == PALETTE[0] and few[-1].colour == PALETTE[-1]
    wide = colour_classes([0, 10, 100], integer=True)
    assert [(c.lower, c.upper) for c in wide] == [(0, 20), (21, 40), (41, 60), (61, 80), (81, 100)]
    shares = colour_classes([0.5, 2.5], integer=False)
    assert shares[0].lower == 0 and shares[-1].upper == 2.5 and len(shares) == 5
    assert colour_of(100, wide) == PALETTE[-1] and colour_of(0, wide) == PALETTE[0]
    assert colour_of(None, wide) == NO_DATA_COLOUR


def test_labels_on_the_map_contrast_with_their_colour():
    assert text_colour(PALETTE[0]) == "#000000" and text_colour(PALETTE[-1]) == "#ffffff"


def test_tile_map_places_the_13_saxon_districts_once_without_overlap():
    districts = load_districts()
    layout = maps.tile_map(list(districts), {c: d.name for c, d in districts.items()})
    assert sorted(s.code for s in layout.shapes) == sorted(districts) and len(layout.shapes) == 13
    assert len({s.rect[:2] for s in layout.shapes if s.rect}) == 13
    assert layout.width <= 620 and layout.height <= 320


def test_boundary_file_keys_by_ags_or_rs_and_draws_land_areas_only(tmp_path: Path):
    square = [[[13.0, 51.0], [13.1, 51.0], [13.1, 50.9], [13.0, 50.9], [13.0, 51.0]]]
    far = [[[5.0, 40.0], [6.0, 40.0], [6.0, 41.0], [5.0, 40.0]]]
    features = [
        {
            "type": "Feature",
            "properties": {"RS": "146120000000", "GF": 4},
            "geometry": {"type": "Polygon", "coordinates": square},
        },
        {
            "type": "Feature",
            "properties": {"RS": "146120000000", "GF": 2},
            "geometry": {"type": "Polygon", "coordinates": far},
        },
    ]
    path = tmp_path / "vg250.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    layout = maps.boundary_map(path, ["14612000", "14713000"])
    assert [s.code for s in layout.shapes] == ["14612000"]
    pairs = [
        (float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+) (-?[\d.]+)", layout.shapes[0].path or "")
    ]
    assert {round(x) for x, _ in pairs} == {0, 600} and {round(y) for _, y in pairs} == {
        0,
        round(layout.height),
    }
    # 0.1° of longitude at 51° N is about 0.63 of 0.1° of latitude
    assert layout.height / layout.width == pytest.approx(1 / 0.629, rel=0.01)


def test_charts_of_counts_have_whole_number_ticks_and_the_unit():
    svg = charts.line_chart(
        months=("2026-01", "2026-02", "2026-03"),
        lines=(("nord", (0, 1, 3)),),
        title="Akteure",
        unit="Anzahl",
        x_label="Monat",
        integer=True,
        language="de",
        chart_id="c1",
    )
    root = ET.fromstring(str(svg))
    y_axis = next(g for g in root.iter(f"{SVG}g") if g.get("id", "").endswith("matplotlib.axis_2"))
    ticks = [t.text for t in y_axis.iter(f"{SVG}text") if t.text and t.text[0].isdigit()]
    assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), ticks
    assert "Anzahl" in str(svg) and root.get("role") == "img" and root.get("aria-label") == "Akteure"
    assert all(element.get("id", "c1-").startswith("c1-") for element in root.iter())
