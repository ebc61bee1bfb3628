"""State mode: reporting reads the hub's aggregate stream and shows every region side by side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from nats.js.api import StreamConfig, StreamSource

from nzr_common.contracts.base import region_stream_name
from nzr_common.contracts.reporting import RegionHeartbeat

from .conftest import ensure_stream, eventually, new_region, publish, start_reporting
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


async def test_a_region_that_only_sends_heartbeats_is_current_and_a_cut_off_one_turns_stale(
    nats_url, databases, nats_js, token_for
):
    quiet, cut_off = new_region("quiet"), new_region("cut")
    for region in (quiet, cut_off):
        await ensure_stream(nats_js, region)
    aggregate = f"AGG_{uuid.uuid4().hex[:8].upper()}"
    await nats_js.add_stream(
        StreamConfig(
            name=aggregate,
            subjects=[],
            sources=[
                StreamSource(name=region_stream_name(r), filter_subject=f"nzr.{r}.pub.>")
                for r in (quiet, cut_off)
            ],
        )
    )
    now = datetime.now(UTC)
    await publish(nats_js, quiet, actor(district=DRESDEN), at=now - timedelta(hours=3))
    await publish(nats_js, quiet, RegionHeartbeat(region=quiet, sent_at=now), at=now)
    await publish(nats_js, cut_off, actor(district=LEIPZIG), at=now - timedelta(hours=3))
    await publish(
        nats_js, cut_off, RegionHeartbeat(region=cut_off, sent_at=now), at=now - timedelta(minutes=30)
    )
    async with start_reporting(
        nats_url,
        databases,
        nats_js,
        region=new_region("state"),
        mode="state",
        consumer_stream=aggregate,
        known_regions=[quiet, cut_off],
    ) as state:
        state.published = 4
        await state.settled()
        overview = await state.get("/overview", headers=token_for("state", region="state"))
    freshness = {f["region"]: f for f in overview["freshness"]}
    assert freshness[quiet]["state"] == "aktuell"
    assert freshness[cut_off]["state"] == "veraltet"
    actors_row = next(r for r in overview["rows"] if r["indicator_id"] == "actors_total")
    assert {c["region"]: c["value"] for c in actors_row["cells"]} == {quiet: 1, cut_off: 1}


async def test_a_running_region_announces_heartbeats_that_keep_it_current(nats_url, databases, nats_js):
    async with start_reporting(nats_url, databases, nats_js, heartbeat_seconds=0.2) as region:

        async def beat_arrived():  # type: ignore[no-untyped-def]
            report = await region.get("/indicators")
            return report["freshness"].get(region.region)

        await eventually(beat_arrived)
        info = await nats_js.stream_info(region_stream_name(region.region))
        assert info.state.messages >= 1  # announced through the outbox into the region's stream
