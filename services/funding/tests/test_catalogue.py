"""The state's catalogue: seed import, re-import, single writes, CSV, bad input, and who may write."""

import json
from datetime import UTC, datetime

import pytest

from nzr_funding.reference import SEED_PATH

from .conftest import programme, random_token

IMPORT = "/api/v1/funding/programs/import"


def assert_problem(response, status: int, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    if field is not None:
        names = [p["name"] for p in body.get("invalid_params", [])]
        assert any(field in name for name in names), names
    return body


async def test_seed_programmes_are_searchable_with_their_sources(seeded):
    found = await seeded.programme("bund-nki-kommunalrichtlinie")
    assert found["source_url"].startswith("https://www.klimaschutz.de/")
    assert found["additional_sources"] and found["verified_on"] == "2026-11-21"
    assert found["taxonomy_source"] == "eigene_zuordnung"
    assert found["deadline"]["kind"] == "rolling"
    assert found["deadline"]["until"] == "2027-12-31"
    assert found["deadline"]["text"].startswith("laufend")


async def test_reimporting_the_seed_changes_nothing_and_duplicates_nothing(seeded):
    seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    report = (await seeded.client.post(IMPORT, json=seed, headers=seeded.state)).json()
    assert report["unchanged"] == 44 and report["created"] == report["updated"] == 0
    page = (await seeded.client.get("/api/v1/funding/programs")).json()
    assert page["total"] == 44


async def test_reimport_with_a_changed_record_updates_it_by_id(shared):
    record = programme()
    first = (await shared.import_json([record])).json()
    assert first["created"] == 1
    await shared.wait_for_revision(record["id"], 1)
    second = (await shared.import_json([{**record, "amount_max_eur": 60000}])).json()
    assert second["updated"] == 1 and second["programmes"][0]["revision"] == 2
    updated = await shared.wait_for_revision(record["id"], 2)
    assert updated["amount_max_eur"] == 60000


async def test_a_bad_record_is_reported_and_the_rest_goes_in(shared):
    good, bad = programme(), programme(areas=["raumfahrt"])
    report = (await shared.import_json([good, bad])).json()
    assert report["created"] == 1
    assert report["rejected"][0]["index"] == 1
    assert report["rejected"][0]["problems"][0]["name"] == "areas"
    await shared.wait_for_revision(good["id"], 1)
    assert await shared.programme(bad["id"]) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eligible": ["marsmenschen"]}, "eligible"),
        ({"topics": ["astrologie"]}, "topics"),
        ({"amount_min_eur": 5000, "amount_max_eur": 100}, "amount_min_eur"),
        ({"funding_rate_percent": 120}, "funding_rate_percent"),
        ({"funding_rate_percent": -5}, "funding_rate_percent"),
        ({"verified_on": "2026-02-30"}, "verified_on"),
        ({"deadline": "Frist 31.02.2027"}, "deadline"),
        ({"deadline": {"kind": "recurring", "yearly": ["13-01"]}}, "deadline.yearly[0]"),
        ({"deadline": {"kind": "recurring", "yearly": "jedes Jahr"}}, "deadline.yearly"),
        ({"deadline": {"kind": "monthly"}}, "deadline.kind"),
        ({"deadline": {"kind": "fixed", "dates": ["2027-04-31"]}}, "deadline.dates[0]"),
        ({"level": "kommune"}, "level"),
        ({"districts": ["09162000"]}, "districts"),
        ({"unexpected": 1}, "unexpected"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_invalid_programme_is_a_422_problem_naming_the_field_and_nothing_is_written(
    shared, change, field
):
    record = programme(**change)
    response = await shared.client.post("/api/v1/funding/programs", json=record, headers=shared.state)
    assert_problem(response, 422, field)
    body = assert_problem(await shared.import_json([record]), 422, field)
    assert body["invalid_params"][0]["name"].startswith("records[0].")
    assert await _catalogue_entries(shared, record["id"]) == 0


async def _catalogue_entries(funding, programme_id: str | None = None) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from nzr_funding.catalogue.models import CatalogueEntryRow

    query = select(func.count()).select_from(CatalogueEntryRow)
    if programme_id is not None:
        query = query.where(CatalogueEntryRow.id == programme_id)
    async with funding.app.state.runtime.sessions() as session:
        return await session.scalar(query) or 0


async def test_all_or_nothing_import_writes_nothing_when_one_record_is_bad(shared):
    good = programme()
    response = await shared.import_json([good, programme(funding_rate_percent=101)], all_or_nothing="true")
    assert_problem(response, 422, "records[1].funding_rate_percent")
    assert await _catalogue_entries(shared, good["id"]) == 0


async def test_a_duplicate_id_within_one_import_is_rejected(shared):
    record = programme()
    report = (await shared.import_json([record, {**record, "name": "Zweiter Eintrag"}])).json()
    assert report["created"] == 1 and report["rejected"][0]["problems"][0]["name"] == "id"


async def test_csv_import_reads_lists_and_numbers(shared):
    record_id = random_token("csv-")
    csv_text = (
        "id;name;funder;level;region;funding_types;areas;eligible;topics;summary;amount_max_eur;"
        "funding_rate_percent;deadline;url;source_url\n"
        f"{record_id};Dorfladen-Förderung;Stiftung Ländlicher Raum;stiftung;sachsen;zuschuss;"
        "landwirtschaft_laendliche_entwicklung|regionalfoerderung;verband_vereinigung;"
        "landwirtschaft_laendlicher_raum;Zuschüsse für Dorfläden;12.500;90;jährlich 31.03.;"
        "https://example.org;https://example.org/q\n"
    )
    response = await shared.client.post(
        IMPORT, content=csv_text.encode(), headers={**shared.state, "content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    found = await shared.wait_for_revision(record_id, 1)
    assert found["areas"] == ["landwirtschaft_laendliche_entwicklung", "regionalfoerderung"]
    assert found["amount_max_eur"] == 12.5 or found["amount_max_eur"] == 12500
    assert found["deadline"]["kind"] == "recurring" and found["deadline"]["yearly"] == ["03-31"]


async def test_csv_with_wrong_columns_is_refused_naming_the_columns(shared):
    before = await _catalogue_entries(shared)
    response = await shared.client.post(
        IMPORT, content=b"id,title,funder\nx,y,z\n", headers={**shared.state, "content-type": "text/csv"}
    )
    body = assert_problem(response, 422, "title")
    assert {"name", "level", "region"} <= {p["name"] for p in body["invalid_params"]}
    assert await _catalogue_entries(shared) == before


async def test_csv_in_latin1_is_refused_as_not_utf8(shared):
    record_id = random_token("latin-")
    content = f"id,name,funder,level,region\n{record_id},Förderung,Bund,bund,bundesweit\n".encode("latin-1")
    response = await shared.client.post(
        IMPORT, content=content, headers={**shared.state, "content-type": "text/csv"}
    )
    assert_problem(response, 400, "file")
    assert await _catalogue_entries(shared, record_id) == 0


async def test_malformed_json_import_is_a_400_problem(shared):
    response = await shared.client.post(
        IMPORT, content=b'{"programmes": [', headers={**shared.state, "content-type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize("roles", [(), ("editor",), ("admin",)], ids=["anonymous", "editor", "admin"])
async def test_only_state_may_change_the_catalogue(shared, token_for, roles):
    funding = shared
    headers = token_for(*roles, region=funding.region) if roles else {}
    status = 401 if not roles else 403
    record = programme()
    assert_problem(await funding.client.post(IMPORT, json=[record], headers=headers), status)
    assert_problem(
        await funding.client.post("/api/v1/funding/programs", json=record, headers=headers), status
    )
    assert_problem(
        await funding.client.put(f"/api/v1/funding/programs/{record['id']}", json=record, headers=headers),
        status,
    )
    assert_problem(
        await funding.client.delete(f"/api/v1/funding/programs/{record['id']}", headers=headers), status
    )
    assert await _catalogue_entries(funding, record["id"]) == 0


async def test_withdrawn_programme_disappears_from_the_catalogue(shared):
    record = programme()
    created = await shared.client.post("/api/v1/funding/programs", json=record, headers=shared.state)
    assert created.status_code == 202 and created.json()["outcome"] == "created"
    await shared.wait_for_revision(record["id"], 1)
    withdrawn = await shared.client.delete(f"/api/v1/funding/programs/{record['id']}", headers=shared.state)
    assert withdrawn.json() == {"id": record["id"], "revision": 2, "outcome": "withdrawn"}
    await shared.wait_until_gone(record["id"])
    assert (
        await shared.client.delete(f"/api/v1/funding/programs/{record['id']}", headers=shared.state)
    ).status_code == 404


async def test_put_with_a_different_id_than_the_path_is_refused(shared):
    response = await shared.client.put(
        "/api/v1/funding/programs/other-id", json=programme(), headers=shared.state
    )
    assert_problem(response, 422, "id")


async def test_a_batch_of_catalogue_events_is_projected_with_one_version_step_and_newest_revisions(funding):
    """What a consumer batch does: several programmes in one transaction, a late older revision
    ignored, a withdrawal after an update in the same batch; the catalogue version moves once."""
    from sqlalchemy import select

    from nzr_common.contracts.base import Envelope
    from nzr_common.contracts.funding import FundingProgramWithdrawn
    from nzr_funding.catalogue import projection
    from nzr_funding.catalogue import records as catalogue_records
    from nzr_funding.catalogue.models import ProgrammeRow, ProjectionStateRow
    from nzr_funding.search.cache import CATALOGUE

    runtime = funding.app.state.runtime

    def updated(record: dict, revision: int) -> Envelope:  # type: ignore[type-arg]
        data, problems = catalogue_records.normalise_record(record)
        assert data is not None, problems
        event = catalogue_records._event(data, revision, new=False)
        return Envelope.wrap(event, region=funding.catalogue_region, service="funding")

    async def version() -> int:
        async with runtime.sessions() as session:
            return (
                await session.scalar(
                    select(ProjectionStateRow.version).where(ProjectionStateRow.name == CATALOGUE)
                )
                or 0
            )

    records = [programme(name=f"Neue Fassung {i}") for i in range(3)]
    before = await version()
    async with runtime.sessions() as session, session.begin():
        for record in records:
            await projection.apply_programme(session, updated(record, 2))
        await projection.apply_programme(session, updated({**records[0], "name": "Alte Fassung"}, 1))
    assert await version() == before + 1
    for record in records:
        found = await funding.programme(record["id"])
        assert found is not None and found["revision"] == 2 and found["name"] == record["name"]

    withdrawal = FundingProgramWithdrawn(
        programme_id=records[1]["id"], revision=4, withdrawn_at=datetime.now(UTC)
    )
    async with runtime.sessions() as session, session.begin():
        await projection.apply_programme(session, updated(records[1], 3))
        await projection.apply_withdrawal(
            session, Envelope.wrap(withdrawal, region=funding.catalogue_region, service="funding")
        )
    assert await version() == before + 2
    assert await funding.programme(records[1]["id"]) is None
    async with runtime.sessions() as session:
        row = await session.get(ProgrammeRow, records[1]["id"])
        assert row is not None and row.withdrawn and row.revision == 4
