"""Searches are counted for reporting: FundingSearchPerformed on the region's real stream,
with the filters, the district and the number of hits, never the typed text."""

import json

import nats
import pytest

from nzr_common.contracts.base import region_stream_name
from nzr_common.testing.waiting import eventually

from .conftest import programme, random_token, start_funding


@pytest.fixture
async def js(nats_url):  # type: ignore[no-untyped-def]
    connection = await nats.connect(nats_url)
    yield connection.jetstream()
    await connection.close()


async def search_events(js, region: str) -> list[dict]:  # type: ignore[no-untyped-def]
    subject = f"nzr.{region}.pub.funding.search_performed.v1"
    subscription = await js.subscribe(subject, stream=region_stream_name(region), ordered_consumer=True)
    found = []
    try:
        while True:
            try:
                message = await subscription.next_msg(timeout=0.3)
            except TimeoutError:
                break
            found.append(json.loads(message.data)["data"])
    finally:
        await subscription.unsubscribe()
    return found


async def test_every_search_is_published_without_the_typed_text(nats_url, databases, token_for, js):
    async with start_funding(
        nats_url,
        await databases.new("funding"),
        token_for,
        catalogue_region=random_token("c"),
        search_events_flush_seconds=0.1,
    ) as funding:
        record = programme(name="Klimaschutzförderung für Vereine in Bautzen")
        await funding.import_json([record])
        await funding.wait_for_revision(record["id"], 1)
        params = {"q": "Klimaschutz Erika Mustermann", "level": "land", "district": "14625000"}
        first = await funding.client.get("/api/v1/funding/programs", params=params)
        assert first.status_code == 200
        # The same search again comes from the answer cache and is counted all the same.
        again = await funding.client.get("/api/v1/funding/programs", params=params)
        assert again.content == first.content
        found = await funding.client.get(
            "/api/v1/funding/programs", params={"topic": "klimaschutz_energie"}, headers=funding.editor
        )
        assert found.json()["total"] == 1

        async def three_published() -> bool:
            return len(await search_events(js, funding.region)) == 3

        await eventually(three_published)
        events = await search_events(js, funding.region)
        assert [e["filters"] for e in events[:2]] == [{"level": ["land"], "text": ["true"]}] * 2
        assert [e["district"] for e in events] == ["14625000", "14625000", None]
        assert [e["hits"] for e in events] == [first.json()["total"]] * 2 + [1]
        assert events[2]["filters"] == {"topic": ["klimaschutz_energie"]}
        assert "Mustermann" not in json.dumps(events)
