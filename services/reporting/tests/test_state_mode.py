"""State mode: reporting reads the hub's aggregate stream and shows every region side by side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from nats.js.api import StreamConfig, StreamSource

from nzr_common.contracts.base import region_stream_name

from .conftest import ensure_stream, new_region, publish, start_reporting
from .events import DRESDEN, LEIPZIG, actor, cooperation


async def test_state_overview_ranks_regions_and_shows_a_silent_region_as_stale_not_zero(
    nats_url, databases, nats_js, token_for
):
    busy, quiet, never = new_region("busy"), new_region("quiet"), new_region("never")
    for region in (busy, quiet):
        await ensure_stream(nats_js, region)
    aggregate = f"AGG_{uuid.uuid4().hex[:8].upper()}"
    await nats_js.add_stream(
        StreamConfig(
            name=aggregate,
            subjects=[],
            sources=[
                StreamSource(name=region_stream_name(r), filter_subject=f"nzr.{r}.pub.>")
                for r in (busy, quiet)
            ],
        )
    )
    three_hours_ago = datetime.now(UTC) - timedelta(hours=3)
    await publish(nats_js, busy, actor(district=LEIPZIG), actor(district=LEIPZIG), cooperation("a", "b"))
    await publish(nats_js, quiet, actor(district=DRESDEN), at=three_hours_ago)
    async with start_reporting(
        nats_url,
        databases,
        nats_js,
        region=new_region("state"),
        mode="state",
        consumer_stream=aggregate,
        known_regions=[busy, quiet, never],
    ) as state:
        state.published = 4
        await state.settled()
        assert (await state.client.get("/api/v1/reports/overview")).status_code == 403
        overview = await state.get("/overview", headers=token_for("state", region="state"))
    assert overview["regions"] == sorted([busy, quiet, never])
    actors_row = next(r for r in overview["rows"] if r["indicator_id"] == "actors_total")
    cells = {c["region"]: c for c in actors_row["cells"]}
    assert cells[busy] == {"region": busy, "value": 2, "rank": 1}
    assert cells[quiet] == {"region": quiet, "value": 1, "rank": 2}
    assert cells[never] == {"region": never, "value": None, "rank": None}
    freshness = {f["region"]: f for f in overview["freshness"]}
    assert freshness[busy]["state"] == "aktuell"
    assert freshness[quiet]["state"] == "veraltet"
    assert datetime.fromisoformat(freshness[quiet]["last_event_at"]) == three_hours_ago
    assert freshness[never] == {
        "region": never,
        "last_event_at": None,
        "state": "keine_daten",
        "age_minutes": None,
    }


async def test_state_mode_compares_selected_regions_per_indicator_and_district(
    nats_url, databases, nats_js, token_for
):
    first, second = new_region("a"), new_region("b")
    for region in (first, second):
        await ensure_stream(nats_js, region)
    aggregate = f"AGG_{uuid.uuid4().hex[:8].upper()}"
    await nats_js.add_stream(
        StreamConfig(
            name=aggregate,
            subjects=[],
            sources=[
                StreamSource(name=region_stream_name(r), filter_subject=f"nzr.{r}.pub.>")
                for r in (first, second)
            ],
        )
    )
    await publish(nats_js, first, actor(district=LEIPZIG))
    await publish(nats_js, second, actor(district=DRESDEN), actor(district=DRESDEN))
    async with start_reporting(
        nats_url, databases, nats_js, region=new_region("state"), mode="state", consumer_stream=aggregate
    ) as state:
        state.published = 3
        await state.settled()
        density = await state.get(
            "/indicators/actor_density_per_10k",
            params={"region": [first, second]},
            headers=token_for("state", region="state"),
        )
    values = {v["region"]: v for v in density["values"]}
    assert set(values[first]["by_district"]) == {LEIPZIG}
    assert set(values[second]["by_district"]) == {DRESDEN}
    assert values[first]["rank"] in (1, 2) and values[second]["rank"] in (1, 2)
