"""U+0000 in any text a client sends is bad input (422 naming the field, nothing written) on
both databases: PostgreSQL cannot store it in text and used to answer 500, SQLite stored it.

Found by fuzzing on PostgreSQL; checked here for each way text comes in: a JSON body (with and
without its content type), the query, a form body, a CSV import cell.
"""

from __future__ import annotations

import json

import pytest

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET

from .conftest import row_counts, started

ACTOR = {"name": "Solar e.V.", "kind": "verein", "sector": "zivilgesellschaft", "district": "14522000"}


async def data_rows(running) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Rows per table, but for the relay's lease (taken and renewed on its own schedule)."""
    counts = await row_counts(running)
    counts.pop("outbox_relay_lease", None)
    return counts


def _problem_fields(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"] == "application/problem+json", response.text
    return [p["name"] for p in response.json()["invalid_params"]]


async def test_actors_refuse_nul_in_every_kind_of_input(nats_url, databases):
    async with started("actors", nats_url, database_url=await databases.new("nul_actors")) as running:
        region = running.runtime.settings.region
        editor = {
            "Authorization": f"Bearer {issue_token(DEVELOPMENT_SECRET, region=region, roles=['editor'])}"
        }
        client = running.client
        before = await data_rows(running)

        in_json = await client.post(
            "/api/v1/actors", json={**ACTOR, "name": "Solar\x00 e.V."}, headers=editor
        )
        nested = await client.post(
            "/api/v1/actors",
            json={**ACTOR, "resources": [{"kind": "wissen", "direction": "offered", "description": "a\x00"}]},
            headers=editor,
        )
        untyped = await client.post(
            "/api/v1/actors",
            content=json.dumps({**ACTOR, "description": "\x00"}).encode(),
            headers={**editor, "content-type": ""},
        )
        in_query = await client.get("/api/v1/actors", params={"q": "solar\x00", "municipality": "Freiberg"})
        assert await data_rows(running) == before  # nothing written by any of them

        csv = (
            "name;kind;sector;district;municipality\n"
            "Wind\x00kraft e.V.;verein;zivilgesellschaft;14522000;Freiberg\n"
            "Sonnenhof e.V.;verein;zivilgesellschaft;14522000;Freiberg\n"
        )
        imported = await client.post(
            "/api/v1/actors/import", content=csv.encode(), headers={**editor, "content-type": "text/csv"}
        )

    assert (in_json.status_code, _problem_fields(in_json)) == (422, ["name"])
    assert (nested.status_code, _problem_fields(nested)) == (422, ["resources.0.description"])
    assert (untyped.status_code, _problem_fields(untyped)) == (422, ["description"])
    assert (in_query.status_code, _problem_fields(in_query)) == (422, ["q"])
    assert "U+0000" in in_query.json()["invalid_params"][0]["reason"]
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert (report["created"], report["invalid"]) == (1, 1)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "name")]


async def test_newsletter_form_and_funding_csv_refuse_nul(nats_url, databases):
    async with started("newsletter", nats_url, database_url=await databases.new("nul_news")) as running:
        form = await running.client.post(
            "/api/v1/newsletter/subscriptions",
            content=b"email=eva%00@example.org&list_ids=x",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert (form.status_code, _problem_fields(form)) == (422, ["email"])

    async with started("funding", nats_url, database_url=await databases.new("nul_funding")) as running:
        region = running.runtime.settings.region
        token = issue_token(DEVELOPMENT_SECRET, region=region, roles=["state", "admin"])
        csv = (
            "id;name;funder;level;region;summary\n"
            "nul-1;Klima\x00schutz;Land;land;Sachsen;Zuschuss\n"
            "ok-1;Klimaschutz vor Ort;Land;land;Sachsen;Zuschuss\n"
        )
        imported = await running.client.post(
            "/api/v1/funding/programs/import",
            content=csv.encode(),
            headers={"Authorization": f"Bearer {token}", "content-type": "text/csv"},
        )
    assert imported.status_code in (200, 202), imported.text
    report = imported.json()
    rejected = [(r["id"], [p["name"] for p in r["problems"]]) for r in report["rejected"]]
    assert rejected == [("nul-1", ["name"])], report
    assert report["created"] == 1


@pytest.mark.parametrize("path", ["/api/v1/actors/abc%00def", "/api/v1/actors?q=a%00b"])
async def test_percent_encoded_nul_in_the_url_is_refused(nats_url, path):
    async with started("actors", nats_url) as running:
        answer = await running.client.get(path)
    assert answer.status_code == 422
    assert _problem_fields(answer) in (["path"], ["q"])
