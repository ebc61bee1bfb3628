"""One density: reporting's network density indicator equals the actors service's metrics on the
same network — after duplicates of a pair, ended, corrected and deleted cooperations."""

import asyncio
import time
import uuid

import pytest

from nzr_actors.app import create_app as create_actors
from nzr_actors.settings import ActorsSettings
from nzr_common.testing.services import running_service
from nzr_reporting.app import create_app as create_reporting
from nzr_reporting.settings import ReportingSettings

DRESDEN = "14612000"
LEIPZIG = "14713000"


async def test_reporting_density_equals_the_actors_metrics_on_the_same_network(
    nats_url, databases, token_for
):
    region = f"r{uuid.uuid4().hex[:8]}"
    editor = token_for("editor", region=region)
    async with (
        running_service(
            create_actors,
            ActorsSettings(region=region, nats_url=nats_url, database_url=await databases.new("actors")),
            "nzr_actors",
        ) as actors,
        running_service(
            create_reporting,
            ReportingSettings(
                region=region, nats_url=nats_url, database_url=await databases.new("reporting")
            ),
            "nzr_reporting",
        ) as reporting,
    ):
        ids = []
        for k, district in enumerate([DRESDEN] * 4 + [LEIPZIG] * 2):
            created = await actors.client.post(
                "/api/v1/actors?confirm_duplicates=true",
                json={
                    "name": f"Akteur {k} {uuid.uuid4().hex[:4]}",
                    "kind": "verein",
                    "sector": "zivilgesellschaft",
                    "district": district,
                },
                headers=editor,
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])

        async def record(a: int, b: int, type_: str, since: str, until: str | None = None) -> dict:
            body = {"actor_a": ids[a], "actor_b": ids[b], "type": type_, "since": since, "until": until}
            response = await actors.client.post("/api/v1/cooperations", json=body, headers=editor)
            assert response.status_code == 201, response.text
            return {**response.json(), "etag": response.headers["etag"]}

        await record(0, 1, "projekt", "2024-01-01")
        await record(1, 0, "austausch", "2024-03-01")  # the same pair again: counts once
        await record(1, 2, "projekt", "2023-01-01", "2023-12-31")  # ended
        await record(2, 4, "projekt", "2024-01-01")  # across districts
        corrected = await record(3, 5, "projekt", "2024-01-01")
        deleted = await record(0, 3, "projekt", "2024-01-01")
        response = await actors.client.patch(
            f"/api/v1/cooperations/{corrected['id']}",
            json={"until": "2024-06-30"},  # it ended: no longer running
            headers={**editor, "If-Match": corrected["etag"]},
        )
        assert response.status_code == 200, response.text
        assert (
            await actors.client.delete(f"/api/v1/cooperations/{deleted['id']}", headers=editor)
        ).status_code == 204

        metrics = (await actors.client.get("/api/v1/network/metrics", headers=editor)).json()
        in_dresden = (
            await actors.client.get("/api/v1/network/metrics", params={"district": DRESDEN}, headers=editor)
        ).json()
        assert (metrics["actors"], metrics["cooperations"]) == (6, 2)  # pairs 0–1 and 2–4
        assert metrics["density"] == pytest.approx(2 / 15, abs=1e-6)

        started, figure = time.monotonic(), None
        while time.monotonic() - started < 20:
            report = (await reporting.client.get("/api/v1/reports/indicators")).json()
            density = next(i for i in report["indicators"] if i["id"] == "network_density")
            figure = density["values"][0] if density["values"] else None
            if figure and figure["value"] == pytest.approx(metrics["density"] * 100, abs=1e-4):
                break
            await asyncio.sleep(0.1)
        assert figure is not None
        assert figure["value"] / 100 == pytest.approx(metrics["density"], abs=1e-6)
        assert figure["by_district"][DRESDEN] / 100 == pytest.approx(in_dresden["density"], abs=1e-6)
        assert "Paare" in density["definition"]
