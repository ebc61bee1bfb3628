"""Each of the five services running in-process with its real runtime (a real NATS server,
SQLite and, when CI provides it, PostgreSQL, the full middleware stack), seeded with a few
real resources so that fuzzed requests reach existing records and not only 404s, and the
tokens the fuzzer sends."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from fastapi import FastAPI

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET, ServiceSettings
from nzr_common.testing.databases import (
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
    sqlite_url,
)
from nzr_common.testing.services import running_service

SERVICES = ("actors", "events", "newsletter", "funding", "reporting")
#: The configured request body limit of the fuzzed services (small, so the 413 tests are cheap).
MAX_BODY_BYTES = 256 * 1024
#: The callers whose requests must be answered as documented: anonymous (no token) and valid tokens.
VALID_TOKENS = ("none", "editor", "admin", "state")
#: Tokens that must be refused with 401 wherever a token is read.
INVALID_TOKENS = ("expired", "bad_signature", "alg_none")


@dataclass
class FuzzedService:
    """A running service, an HTTP client that shows server errors as responses (not raised
    exceptions) and the ids of resources that exist in it, by path parameter name."""

    name: str
    app: FastAPI
    client: httpx.AsyncClient
    region: str
    known_ids: dict[str, list[str]] = field(default_factory=dict)

    def authorization(self, kind: str) -> str | None:
        """The ``Authorization`` header value of a token kind (None: send no header)."""
        return authorization(kind, self.region)

    def remember(self, parameter: str, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code in (200, 201, 202), response.text
        body = response.json()
        self.known_ids.setdefault(parameter, []).append(str(body["id"]))
        return body


def authorization(kind: str, region: str) -> str | None:
    now = datetime.now(UTC)
    claims = {"sub": "fuzzer", "region": region, "iat": now, "exp": now + timedelta(hours=1)}
    if kind == "none":
        return None
    if kind in VALID_TOKENS:
        token = issue_token(DEVELOPMENT_SECRET, region=region, roles=[kind], subject="fuzzer")
    elif kind == "expired":
        token = issue_token(
            DEVELOPMENT_SECRET, region=region, roles=["admin"], ttl=timedelta(minutes=-5), subject="fuzzer"
        )
    elif kind == "bad_signature":
        token = jwt.encode({**claims, "roles": ["admin"]}, "not-the-secret-" * 3, algorithm="HS256")
    elif kind == "alg_none":
        token = jwt.encode({**claims, "roles": ["admin"]}, None, algorithm="none")
    else:
        raise ValueError(kind)
    return f"Bearer {token}"


def _settings(
    name: str, region: str, nats_url: str, database_url: str, folder: Path
) -> tuple[Callable[..., FastAPI], Any]:
    common: dict[str, Any] = {
        "region": region,
        "nats_url": nats_url,
        "environment": "test",
        "database_url": database_url,
        "max_body_bytes": MAX_BODY_BYTES,
        # Tight anonymous limits, so that fuzzing meets the 429 answers and checks them too.
        "rate_limit_search": "2/minute",
        "rate_limit_sign_up": "2/minute",
    }
    if name == "actors":
        from nzr_actors.app import create_app
        from nzr_actors.settings import ActorsSettings

        return create_app, ActorsSettings(**common)
    if name == "events":
        from nzr_events.app import create_app
        from nzr_events.settings import EventsSettings

        return create_app, EventsSettings(**common)
    if name == "newsletter":
        from nzr_newsletter.app import create_app
        from nzr_newsletter.settings import NewsletterSettings

        settings = NewsletterSettings(**common, smtp_sink_dir=folder / "mail", digest_check_seconds=3600)
        return create_app, settings
    if name == "funding":
        from nzr_funding.app import create_app
        from nzr_funding.settings import FundingSettings

        settings = FundingSettings(
            **common, catalogue_region=region, deadline_watch_first_seconds=3600, catalogue_refresh_seconds=0
        )
        return create_app, settings
    from nzr_reporting.app import create_app
    from nzr_reporting.settings import ReportingSettings

    return create_app, ReportingSettings(**common, heartbeat_seconds=3600)


@asynccontextmanager
async def start_service(
    name: str, nats_url: str, folder: Path, database: str = "sqlite"
) -> AsyncIterator[FuzzedService]:
    """The service on a fresh database of the kind ``database`` (``sqlite`` or ``postgresql``)."""
    region = f"z{uuid.uuid4().hex[:10]}"
    admin_url = postgres_admin_url()
    if database == "postgresql":
        assert admin_url is not None
        database_url = await create_postgres_database(admin_url, f"fuzz_{name}")
    else:
        database_url = sqlite_url(folder, name)
    try:
        async with _running(name, region, nats_url, database_url, folder) as service:
            yield service
    finally:
        if database == "postgresql" and admin_url is not None:
            await drop_postgres_database(admin_url, database_url)


@asynccontextmanager
async def _running(
    name: str, region: str, nats_url: str, database_url: str, folder: Path
) -> AsyncIterator[FuzzedService]:
    create_app, settings = _settings(name, region, nats_url, database_url, folder)
    assert isinstance(settings, ServiceSettings)
    async with running_service(create_app, settings, f"nzr_{name}") as running:
        for _ in range(200):  # stopping while messaging still connects costs the shutdown grace
            if running.runtime.relay is not None:
                break
            await asyncio.sleep(0.02)
        # The ASGI transport re-raises what the app raised after its 500 answer; the fuzzer
        # wants the answer, as a client would see it.
        transport = httpx.ASGITransport(app=running.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            service = FuzzedService(name, running.app, client, region)
            await SEEDS[name](service)
            yield service


def _headers(service: FuzzedService, kind: str) -> dict[str, str]:
    return {"Authorization": service.authorization(kind) or ""}


async def _seed_actors(service: FuzzedService) -> None:
    editor, admin = _headers(service, "editor"), _headers(service, "admin")
    created = []
    for sector, kind in (("zivilgesellschaft", "verein"), ("wirtschaft", "unternehmen")):
        body = {
            "name": f"{kind.title()} Zukunft {uuid.uuid4().hex[:6]}",
            "kind": kind,
            "sector": sector,
            "district": "14612000",
            "municipality": "Dresden",
            "topics": ["energie_klimaschutz"],
            "public_profile": True,
        }
        response = await service.client.post(
            "/api/v1/actors", params={"confirm_duplicates": "true"}, json=body, headers=editor
        )
        created.append(service.remember("actor_id", response))
    contact = {
        "name": "Anna Beispiel",
        "email": "anna.beispiel@example.org",
        "role": "Vorstand",
        "consent_purpose": "Kontakt im Netzwerk",
        "consent_source": "Anmeldeformular",
    }
    response = await service.client.post(
        f"/api/v1/actors/{created[0]['id']}/contacts", json=contact, headers=admin
    )
    service.remember("contact_id", response)
    cooperation = {
        "actor_a": created[0]["id"],
        "actor_b": created[1]["id"],
        "type": "projekt",
        "topic": "energie_klimaschutz",
        "since": "2025-03-01",
    }
    response = await service.client.post("/api/v1/cooperations", json=cooperation, headers=editor)
    service.remember("cooperation_id", response)


async def _seed_events(service: FuzzedService) -> None:
    editor = _headers(service, "editor")
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    body = {
        "format": "workshop",
        "title": "Werkstatt Klimaschutz im Ehrenamt",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=6)).isoformat(),
        "venue_name": "Bürgerhaus",
        "district": "14511000",
        "topics": ["energie_klimaschutz"],
        "capacity": 20,
    }
    created = await service.client.post("/api/v1/events", json=body, headers=editor)
    event = service.remember("event_id", created)
    published = await service.client.post(f"/api/v1/events/{event['id']}/publish", headers=editor)
    assert published.status_code == 200, published.text
    registration = {
        "name": "Erika Musterfrau",
        "email": "erika@example.org",
        "data_use_consent": True,
        "newsletter_consent": False,
    }
    response = await service.client.post(f"/api/v1/events/{event['id']}/registrations", json=registration)
    assert response.status_code == 202, response.text  # the answer names no registration (no enumeration)
    listed = await service.client.get(
        f"/api/v1/events/{event['id']}/registrations", headers=_headers(service, "admin")
    )
    service.known_ids.setdefault("registration_id", []).extend(r["id"] for r in listed.json()["items"])
    # The actors as events knows them from the stream (ActorRegistered): parties must exist.
    known = service.app.state.runtime.definition.metadata.tables["known_actors"]
    async with service.app.state.runtime.sessions() as session, session.begin():
        await session.execute(
            known.insert(),
            [{"actor_id": a, "removed": False, "seen_at": datetime.now(UTC)} for a in ("actor-a", "actor-b")],
        )
    agreement = {
        "text": "Gemeinsame Solarberatung für Vereinsheime",
        "party_actor_ids": ["actor-a", "actor-b"],
        "responsible_actor_id": "actor-a",
        "due_date": (date.today() + timedelta(days=200)).isoformat(),
    }
    response = await service.client.post(
        f"/api/v1/events/{event['id']}/agreements", json=agreement, headers=editor
    )
    service.remember("agreement_id", response)


async def _seed_newsletter(service: FuzzedService) -> None:
    editor = _headers(service, "editor")
    api = "/api/v1/newsletter"
    listed = service.remember(
        "list_id", await service.client.post(f"{api}/lists", json={"name": "Netzwerk"}, headers=editor)
    )
    campaign = {
        "name": "Herbst",
        "subject": "Neues aus dem Netzwerk",
        "body": "Hallo {{ name }},\n\n**Neuigkeiten** aus {{ list_names|join(', ') }}.\n",
        "list_ids": [listed["id"]],
    }
    created = await service.client.post(f"{api}/campaigns", json=campaign, headers=editor)
    service.remember("campaign_id", created)


async def _seed_funding(service: FuzzedService) -> None:
    from nzr_funding.reference import SEED_PATH

    seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    imported = await service.client.post(
        "/api/v1/funding/programs/import", json=seed, headers=_headers(service, "state")
    )
    assert imported.status_code == 200, imported.text
    service.known_ids["programme_id"] = [p["id"] for p in seed["programmes"][:5]]
    search = {"name": "Radverkehr", "query": {"q": "Radwege", "level": ["land"]}}
    response = await service.client.post(
        "/api/v1/funding/saved-searches", json=search, headers=_headers(service, "editor")
    )
    service.remember("search_id", response)


async def _seed_reporting(service: FuzzedService) -> None:
    editor = _headers(service, "editor")
    goal = {"level": "strategisch", "title": "Engagement im ländlichen Raum stärken"}
    created = service.remember(
        "goal_id", await service.client.post("/api/v1/reports/goals", json=goal, headers=editor)
    )
    measure = {
        "goal_id": created["id"],
        "title": "Akteurskonferenz im Erzgebirge",
        "responsible_actor_id": "actor-1",
        "start": date.today().isoformat(),
    }
    service.remember(
        "measure_id", await service.client.post("/api/v1/reports/measures", json=measure, headers=editor)
    )
    from nzr_reporting.indicators.catalogue import INDICATORS

    service.known_ids["indicator_id"] = [indicator.id for indicator in INDICATORS]
    service.known_ids["image_format"] = ["svg", "png"]


SEEDS = {
    "actors": _seed_actors,
    "events": _seed_events,
    "newsletter": _seed_newsletter,
    "funding": _seed_funding,
    "reporting": _seed_reporting,
}
