"""State mode: reporting reads the hub's aggregate stream and shows every region side by side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from nzr_common.contracts.base import region_stream_name
from nzr_common.contracts.reporting import GoalDefined, MeasureStatusChanged, RegionHeartbeat
from nzr_common.testing.waiting import eventually

from .conftest import aggregate_stream, new_region, publish, start_reporting, start_state_reporting
from .events import DRESDEN, LEIPZIG, actor, cooperation


async def test_state_overview_ranks_regions_and_shows_a_silent_region_as_stale_not_zero(
    nats_url, databases, nats_js, token_for
):
    busy, quiet, never = new_region("busy"), new_region("quiet"), new_region("never")
    aggregate = await aggregate_stream(nats_js, busy, quiet)
    three_hours_ago = datetime.now(UTC) - timedelta(hours=3)
    await publish(nats_js, busy, actor(district=LEIPZIG), actor(district=LEIPZIG), cooperation("a", "b"))
    await publish(nats_js, quiet, actor(district=DRESDEN), at=three_hours_ago)
    async with start_state_reporting(
        nats_url,
        databases,
        nats_js,
        aggregate,
        known_regions=[busy, quiet, never],
    ) as state:
        state.published = 4
        await state.settled()
        assert (await state.client.get("/api/v1/reports/overview")).status_code == 401
        editor = token_for("editor", region=busy)
        assert (await state.client.get("/api/v1/reports/overview", headers=editor)).status_code == 403
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
    aggregate = await aggregate_stream(nats_js, first, second)
    await publish(nats_js, first, actor(district=LEIPZIG))
    await publish(nats_js, second, actor(district=DRESDEN), actor(district=DRESDEN))
    async with start_state_reporting(nats_url, databases, nats_js, aggregate) as state:
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
    aggregate = await aggregate_stream(nats_js, quiet, cut_off)
    now = datetime.now(UTC)
    await publish(nats_js, quiet, actor(district=DRESDEN), at=now - timedelta(hours=3))
    await publish(nats_js, quiet, RegionHeartbeat(region=quiet, sent_at=now), at=now)
    await publish(nats_js, cut_off, actor(district=LEIPZIG), at=now - timedelta(hours=3))
    await publish(
        nats_js, cut_off, RegionHeartbeat(region=cut_off, sent_at=now), at=now - timedelta(minutes=30)
    )
    async with start_state_reporting(
        nats_url,
        databases,
        nats_js,
        aggregate,
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


async def test_state_sees_every_regions_goals_side_by_side_with_progress_and_measures(
    nats_url, databases, nats_js, token_for
):
    north, south = new_region("north"), new_region("south")
    aggregate = await aggregate_stream(nats_js, north, south)
    now = datetime.now(UTC)
    month_ago, next_year = now - timedelta(days=30), (now + timedelta(days=335)).date()
    grow = GoalDefined(
        goal_id=str(uuid.uuid4()),
        level="operativ",
        title="Mehr Akteure im Netzwerk",
        indicator_id="actors_total",
        target_value=10,
        target_date=next_year,
    )
    vision = GoalDefined(goal_id=str(uuid.uuid4()), level="strategisch", title="Starke Region")
    lagging = GoalDefined(
        goal_id=str(uuid.uuid4()),
        level="operativ",
        title="Viele Akteure",
        indicator_id="actors_total",
        target_value=100,
        target_date=next_year,
    )
    # measured in one district where north has no actor yet (the region as a whole has three)
    in_leipzig = GoalDefined(
        goal_id=str(uuid.uuid4()),
        level="operativ",
        title="Akteure in Leipzig",
        indicator_id="actors_total",
        target_value=4,
        target_date=next_year,
        district=LEIPZIG,
    )
    # the regions' reporting announced their goals a month ago; actors registered since
    await publish(nats_js, north, vision, grow, at=month_ago)
    await publish(nats_js, north, in_leipzig, at=month_ago + timedelta(days=1))
    await publish(nats_js, south, lagging, at=month_ago)
    await publish(nats_js, north, *[actor(district=DRESDEN) for _ in range(3)])
    await publish(nats_js, south, actor(district=LEIPZIG))
    measure = str(uuid.uuid4())
    await publish(
        nats_js,
        north,
        MeasureStatusChanged(measure_id=measure, goal_id=grow.goal_id, status="laufend", changed_at=now),
        # an older status arriving late does not overwrite the newer one
        MeasureStatusChanged(
            measure_id=measure, goal_id=grow.goal_id, status="geplant", changed_at=month_ago
        ),
        MeasureStatusChanged(
            measure_id=str(uuid.uuid4()), goal_id=grow.goal_id, status="abgeschlossen", changed_at=now
        ),
    )
    async with start_state_reporting(
        nats_url,
        databases,
        nats_js,
        aggregate,
        known_regions=[north, south],
    ) as state:
        state.published = 11
        await state.settled()
        overview = await state.get("/overview/goals", headers=token_for("state", region="state"))
        assert (await state.client.get("/api/v1/reports/overview/goals")).status_code == 401
        dashboard = await state.client.get(
            "/api/v1/reports/dashboard", headers=token_for("state", region="state")
        )
        # drill-down: the state view links each region, the region view each district
        one_region = await state.client.get(
            f"/api/v1/reports/dashboard?region={north}", headers=token_for("state", region="state")
        )
        one_district = await state.client.get(
            f"/api/v1/reports/dashboard?region={north}&district={DRESDEN}",
            headers=token_for("state", region="state"),
        )
    assert 'id="ziele-der-regionen"' in dashboard.text
    assert f'<a href="?region={north}">{north}</a>' in dashboard.text
    assert f'data-indicator="actors_total" data-region="{south}"' not in one_region.text
    assert f'href="?region={north}&amp;district={DRESDEN}"' in one_region.text
    assert (
        f'data-indicator="actors_total" data-region="{north}"\n            data-value="3.0"'
        in one_district.text
    )
    assert f'data-region="{south}" data-goal="{lagging.goal_id}"' in dashboard.text
    regions = {r["region"]: r for r in overview["regions"]}
    assert [g["title"] for g in regions[north]["goals"]] == [
        "Starke Region",
        "Mehr Akteure im Netzwerk",
        "Akteure in Leipzig",
    ]
    strategic, operative, district = regions[north]["goals"]
    assert operative["district"] is None and district["district"] == LEIPZIG
    assert (district["baseline_value"], district["current_value"], district["on_track"]) == (0, 0, False)
    assert strategic["on_track"] is None and strategic["state"] is None
    assert operative["baseline_value"] == 0 and operative["current_value"] == 3
    assert operative["percent_of_target"] == 30 and operative["state"] == "im_plan"
    assert operative["unit"] == "Anzahl"
    assert operative["measures"] == {"laufend": 1, "abgeschlossen": 1}
    (behind,) = regions[south]["goals"]
    assert (behind["current_value"], behind["percent_of_target"], behind["state"]) == (1, 1, "gefaehrdet")
    assert (regions[north]["measurable"], regions[north]["on_track"], regions[north]["on_track_rank"]) == (
        2,
        1,
        1,
    )
    assert (regions[south]["measurable"], regions[south]["on_track"], regions[south]["on_track_rank"]) == (
        1,
        0,
        2,
    )
    assert regions[north]["freshness"]["state"] == "aktuell"


async def test_state_density_covers_every_district_of_the_regions_including_those_without_actors(
    nats_url, databases, nats_js, token_for
):
    from nzr_common.regions import load_districts

    landkreis_leipzig = "14729000"
    first, second = new_region("a"), new_region("b")
    aggregate = await aggregate_stream(nats_js, first, second)
    now = datetime.now(UTC)
    await publish(nats_js, first, actor(district=LEIPZIG), actor(district=LEIPZIG))
    await publish(
        nats_js, first, RegionHeartbeat(region=first, sent_at=now, districts=[LEIPZIG, landkreis_leipzig])
    )
    await publish(nats_js, second, actor(district=DRESDEN))
    await publish(nats_js, second, RegionHeartbeat(region=second, sent_at=now, districts=[DRESDEN]))
    async with start_state_reporting(nats_url, databases, nats_js, aggregate) as state:
        state.published = 5
        await state.settled()
        density = await state.get(
            "/indicators/actor_density_per_10k",
            params={"region": [first, second]},
            headers=token_for("state", region="state"),
        )
    population = {code: d.population for code, d in load_districts().items()}
    values = {v["region"]: v for v in density["values"]}
    # the Landkreis without actors is part of the region: 0 there, and its people count
    assert values[first]["by_district"] == {
        LEIPZIG: round(2 / population[LEIPZIG] * 10_000, 4),
        landkreis_leipzig: 0.0,
    }
    assert values[first]["value"] == round(
        2 / (population[LEIPZIG] + population[landkreis_leipzig]) * 10_000, 4
    )
    everyone = population[LEIPZIG] + population[landkreis_leipzig] + population[DRESDEN]
    assert density["overall"] == round(3 / everyone * 10_000, 4)
