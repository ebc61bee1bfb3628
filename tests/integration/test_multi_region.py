"""Hub and leaf regions as real nats-server processes (accounts, mTLS leaf links): outages,
catch-up, a region added to a running topology. Isolation: ``test_region_isolation.py``."""

from __future__ import annotations

import contextlib
import time

import nats
import pytest

from nzr_actors.app import create_app as create_actors
from nzr_actors.settings import ActorsSettings
from nzr_common.auth import issue_token
from nzr_common.contracts.base import region_stream_name
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.services import running_service
from nzr_common.testing.topology import LocalTopology
from nzr_common.testing.waiting import eventually
from nzr_common.topology import AGGREGATE_STREAM
from nzr_reporting.app import create_app as create_reporting
from nzr_reporting.settings import ReportingSettings

REGIONS = ["leipzig", "erzgebirge"]
DISTRICT = {"leipzig": "14713000", "erzgebirge": "14521000", "vogtland": "14523000"}


@pytest.fixture
async def topology():
    running = await LocalTopology(list(REGIONS)).start()
    yield running
    await running.stop()


def editor(region: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(DEVELOPMENT_SECRET, region=region, roles=["editor"])}


STATE = {"Authorization": "Bearer " + issue_token(DEVELOPMENT_SECRET, region="state", roles=["state"])}


@contextlib.asynccontextmanager
async def platform(topology: LocalTopology, databases):  # type: ignore[no-untyped-def]
    """Actors in every region and state-mode reporting at the hub."""
    async with contextlib.AsyncExitStack() as stack:
        actors = {}
        for region in topology.regions:
            settings = ActorsSettings(
                region=region,
                nats_url=topology.url(region),
                region_districts=[DISTRICT[region]],
                database_url=await databases.new(f"actors_{region}"),
            )
            actors[region] = (
                await stack.enter_async_context(running_service(create_actors, settings, "nzr_actors"))
            ).client
        state = ReportingSettings(
            region="state",
            mode="state",
            nats_url=topology.url("state"),
            database_url=await databases.new("reporting_state"),
        )
        reporting = (
            await stack.enter_async_context(running_service(create_reporting, state, "nzr_reporting"))
        ).client
        yield actors, reporting


async def register(client, region: str, name: str) -> int:  # type: ignore[no-untyped-def]
    # Similar names in one district are flagged as likely duplicates; these are meant.
    response = await client.post(
        "/api/v1/actors?confirm_duplicates=true",
        headers=editor(region),
        json={
            "name": name,
            "kind": "verein",
            "sector": "zivilgesellschaft",
            "district": DISTRICT[region],
            "topics": ["bne"],
        },
    )
    return response.status_code


async def state_counts(reporting) -> dict[str, float]:  # type: ignore[no-untyped-def]
    report = (await reporting.get("/api/v1/reports/indicators", headers=STATE)).json()
    actors = next(i for i in report["indicators"] if i["id"] == "actors_total")
    return {v["region"]: v["value"] for v in actors["values"]}


async def converge(reporting, expected: dict[str, float], within: float = 180) -> float:  # type: ignore[no-untyped-def]
    """Seconds until the state's figures equal ``expected``. The bound is for liveness, not speed:
    the time taken is printed, never asserted (``bench/multiregion.py`` measures it)."""
    started, seen = time.monotonic(), [{}]

    async def reached() -> bool:
        seen.append(await state_counts(reporting))
        return seen[-1] == expected

    try:
        await eventually(reached, within=within, interval=0.1)
    except AssertionError:
        message = f"state figures {seen[-1]} did not converge to {expected} in {within:.0f}s"
        raise AssertionError(message) from None
    return time.monotonic() - started


async def test_region_data_reaches_state_reporting_tagged_and_never_the_other_region(topology, databases):
    async with platform(topology, databases) as (actors, reporting):
        for i in range(3):
            assert await register(actors["leipzig"], "leipzig", f"Leipziger Verein {i}") == 201
        await converge(reporting, {"leipzig": 3})
    connection = await nats.connect(topology.url("erzgebirge"))
    try:
        info = await connection.jetstream().stream_info(region_stream_name("erzgebirge"))
        assert info.state.messages == 0  # nothing of Leipzig in Erzgebirge's stream
    finally:
        await connection.close()


async def test_regions_keep_accepting_writes_without_the_hub_and_state_converges_when_it_returns(
    topology, databases
):
    async with platform(topology, databases) as (actors, reporting):
        assert await register(actors["leipzig"], "leipzig", "Vor dem Ausfall e.V.") == 201
        await converge(reporting, {"leipzig": 1})
        topology.stop_hub()
        for region in REGIONS:
            for i in range(5):
                assert await register(actors[region], region, f"Während Ausfall {i}") == 201
        topology.start_hub()
        took = await converge(reporting, {"leipzig": 6, "erzgebirge": 5})
        print(f"state converged {took:.1f}s after the hub returned")


async def test_cutting_one_leaf_link_leaves_the_other_region_flowing_and_catches_up(topology, databases):
    async with platform(topology, databases) as (actors, reporting):
        await topology.links["leipzig"].cut()
        for region in REGIONS:
            for i in range(4):
                assert await register(actors[region], region, f"Verein {region} {i}") == 201
        await converge(reporting, {"erzgebirge": 4})
        await topology.links["leipzig"].start()
        took = await converge(reporting, {"leipzig": 4, "erzgebirge": 4})
        print(f"leipzig caught up {took:.1f}s after its link returned")


async def test_a_third_region_joins_a_running_topology_and_reaches_the_state(topology, databases):
    """What an operator does for a new region (fresh credentials, the hub's config regenerated,
    the new leaf node started and provisioned); then all three regions flow to the state."""
    await topology.add_region("vogtland")
    assert set(await topology.linked_accounts()) == {"LEIPZIG", "ERZGEBIRGE", "VOGTLAND"}
    async with platform(topology, databases) as (actors, reporting):
        for region in topology.regions:
            assert await register(actors[region], region, f"Neu in {region} e.V.") == 201
        await converge(reporting, {"leipzig": 1, "erzgebirge": 1, "vogtland": 1})
    connection = await nats.connect(topology.url("vogtland"))
    try:
        info = await connection.jetstream().stream_info(region_stream_name("vogtland"))
        assert info.state.messages >= 1
        names = {stream.config.name for stream in await connection.jetstream().streams_info()}
        assert names == {"NZR_VOGTLAND", "NZR_STATE"}  # its own stream and its catalogue copy
    finally:
        await connection.close()


class HubFirst(LocalTopology):
    """Provisioning in the other order: the hub's sources exist before the regions' consumers."""

    async def provision(self, *, hub_first: bool = True) -> None:
        await super().provision(hub_first=hub_first)


async def test_provisioning_the_hub_before_the_regions_works_the_same():
    topology = await HubFirst(list(REGIONS)).start()
    try:
        region = await nats.connect(topology.url("leipzig"))
        hub = await nats.connect(topology.url("state"))
        try:
            await region.jetstream().publish("nzr.leipzig.pub.bench.order.v1", b"shareable")
            await hub.jetstream().publish("nzr.state.pub.funding.programme.v1", b"catalogue")

            async def both_arrived() -> bool:
                aggregate = await hub.jetstream().stream_info(AGGREGATE_STREAM)
                catalogue = await region.jetstream().stream_info("NZR_STATE")
                return aggregate.state.messages == 1 and catalogue.state.messages == 1

            await eventually(both_arrived)
        finally:
            await region.close()
            await hub.close()
    finally:
        await topology.stop()
