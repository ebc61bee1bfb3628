"""Whole flows across the hub and two leaf regions with the real services: the state's funding
catalogue reaches the regions and stays usable offline. (That personal data stays in its region
is proven, with passive subscribers everywhere, in ``test_region_isolation.py``.)"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_common.testing.services import running_service
from nzr_common.testing.topology import LocalTopology
from nzr_common.testing.waiting import eventually
from nzr_funding.app import create_app as create_funding
from nzr_funding.reference import SEED_PATH
from nzr_funding.settings import FundingSettings

REGIONS = ["leipzig", "erzgebirge"]


@pytest.fixture
async def topology():
    running = await LocalTopology(REGIONS).start()
    yield running
    await running.stop()


def bearer(region: str, *roles: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(DEVELOPMENT_SECRET, region=region, roles=list(roles))}


async def test_a_catalogue_change_at_the_state_reaches_a_region_whose_lookup_works_without_the_hub(
    topology, databases
):
    seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    programmes = seed["programmes"] if isinstance(seed, dict) and "programmes" in seed else seed
    marker = f"Klimawerkstatt{uuid.uuid4().hex[:6]}"
    record = {
        **programmes[0],
        "id": f"test-{uuid.uuid4().hex[:8]}",
        "name": f"{marker} Förderprogramm für Klimaschutzprojekte",
    }
    state_settings = FundingSettings(
        region="state", nats_url=topology.url("state"), database_url=await databases.new("funding_state")
    )
    region_settings = FundingSettings(
        catalogue_writes=False,
        region="erzgebirge",
        nats_url=topology.url("erzgebirge"),
        database_url=await databases.new("funding_erzgebirge"),
    )
    async with (
        running_service(create_funding, state_settings, "nzr_funding") as state,
        running_service(create_funding, region_settings, "nzr_funding") as region,
    ):
        imported = await state.client.post(
            "/api/v1/funding/programs/import", headers=bearer("state", "state"), json=[record]
        )
        assert imported.status_code == 200, imported.text

        async def found():  # type: ignore[no-untyped-def]
            page = (await region.client.get("/api/v1/funding/programs", params={"q": marker})).json()
            return page["total"] == 1 and page["items"][0]["programme"]["id"] == record["id"]

        await eventually(found)
        refused = await region.client.post(
            "/api/v1/funding/programs/import", headers=bearer("state", "state"), json=[record]
        )
        assert refused.status_code == 409  # a region's catalogue is a replica of the state's
        topology.stop_hub()
        try:
            await asyncio.sleep(1.0)
            assert await found()  # the region's copy answers while the hub is away
            matched = await region.client.post(
                "/api/v1/funding/matches",
                json={"kind": "verein", "district": "14521000", "topics": ["klimaschutz_energie"]},
            )
            assert matched.status_code == 200, matched.text
        finally:
            topology.start_hub()
