"""Whom the rate limits count: the verified token's subject, else the client address as seen
through the trusted proxies only. A header that does not verify is refused, never a way out of
the anonymous limits; a burst gets 2xx and 429, never 5xx; a forged ``X-Forwarded-For`` buys
no fresh budget."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from nzr_common import entrypoint
from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET, ServiceSettings

from .conftest import started
from .test_rate_limits import client_from

EVENTS = "/api/v1/events"
BURST = 200
BUDGET = 50


def _token(region: str, subject: str, **kwargs) -> str:
    return issue_token(DEVELOPMENT_SECRET, region=region, roles=["editor"], subject=subject, **kwargs)


def _not_verifying(region: str) -> dict[str, str]:
    return {
        "basic": "Basic eDp5",
        "empty-bearer": "Bearer ",
        "bare-scheme": "Bearer",
        "garbage": "Bearer not-a-jwt",
        "expired": "Bearer " + _token(region, "eva", ttl=timedelta(seconds=-30)),
        "bad-signature": "Bearer "
        + issue_token("an-attacker-secret-of-sufficient-length!", region=region, roles=["editor"]),
    }


async def test_an_authorization_header_that_does_not_verify_is_refused_not_let_past_the_limit(nats_url):
    async with started("events", nats_url, rate_limit_search="2/minute") as running:
        region = running.runtime.settings.region
        async with client_from(running, "198.51.100.70") as mallory:
            anonymous = [(await mallory.get(EVENTS)).status_code for _ in range(3)]
            refused = {
                name: await mallory.get(EVENTS, headers={"Authorization": value})
                for name, value in _not_verifying(region).items()
            }
    assert anonymous == [200, 200, 429]
    for name, response in refused.items():
        assert response.status_code == 401, name
        assert response.headers["content-type"] == "application/problem+json", name
        assert response.headers["www-authenticate"] == "Bearer", name
        assert response.json()["status"] == 401, name


async def test_a_header_that_does_not_verify_is_refused_before_the_anonymous_budget_is_spent(nats_url):
    # Within the budget too: a broken header is 401, not an anonymous call that counts.
    async with started("events", nats_url, rate_limit_search="2/minute") as running:
        async with client_from(running, "198.51.100.71") as client:
            broken = [
                (await client.get(EVENTS, headers={"Authorization": "Basic eDp5"})).status_code
                for _ in range(3)
            ]
            anonymous = [(await client.get(EVENTS)).status_code for _ in range(3)]
    assert broken == [401, 401, 401]
    assert anonymous == [200, 200, 429]


async def test_token_holders_are_counted_per_subject_wherever_they_call_from(nats_url):
    async with started("events", nats_url, rate_limit_search="3/minute") as running:
        region = running.runtime.settings.region
        anna = {"Authorization": f"Bearer {_token(region, 'anna')}"}
        ben = {"Authorization": f"Bearer {_token(region, 'ben')}"}
        async with (
            client_from(running, "198.51.100.80") as office,
            client_from(running, "198.51.100.81") as home,
        ):
            anna_at_office = [(await office.get(EVENTS, headers=anna)).status_code for _ in range(4)]
            anna_at_home = (await home.get(EVENTS, headers=anna)).status_code
            ben_at_office = (await office.get(EVENTS, headers=ben)).status_code
            anonymous_at_office = (await office.get(EVENTS)).status_code
    assert anna_at_office == [200, 200, 200, 429]
    assert anna_at_home == 429  # the subject's budget, not the address's
    assert ben_at_office == 200
    assert anonymous_at_office == 200  # the address's own budget is untouched


async def _published_event(client, region: str) -> str:
    editor = {"Authorization": f"Bearer {_token(region, 'editor')}"}
    starts = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(days=30)
    created = await client.post(
        EVENTS,
        json={
            "format": "workshop",
            "title": "Werkstatt Klimaschutz",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "capacity": 20,
        },
        headers=editor,
    )
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    published = await client.post(f"{EVENTS}/{event_id}/publish", headers=editor)
    assert published.status_code == 200, published.text
    return event_id


def _registration(n: int) -> dict[str, object]:
    return {
        "name": f"Gast {n}",
        "email": f"gast{n}-{uuid.uuid4().hex[:6]}@example.org",
        "data_use_consent": True,
    }


@pytest.mark.parametrize("forged", [False, True], ids=["one-address", "forged-x-forwarded-for"])
async def test_a_concurrent_anonymous_burst_gets_only_2xx_and_429(forged, nats_url):
    # 200 requests at once from one address, to the event list and to the registration; with
    # forged X-Forwarded-For (a fresh address per request) from an untrusted peer, the budget
    # is the same: the peer's.
    limit = f"{BUDGET}/minute"
    async with started("events", nats_url, rate_limit_search=limit, rate_limit_sign_up=limit) as running:
        region = running.runtime.settings.region
        event_id = await _published_event(running.client, region)

        def forged_header(n: int) -> dict[str, str]:
            return {"X-Forwarded-For": f"203.0.113.{n % 250 + 1}"} if forged else {}

        async with client_from(running, "198.51.100.90") as crowd:
            listed = await asyncio.gather(
                *(crowd.get(EVENTS, headers=forged_header(n)) for n in range(BURST))
            )
            registered = await asyncio.gather(
                *(
                    crowd.post(
                        f"{EVENTS}/{event_id}/registrations", json=_registration(n), headers=forged_header(n)
                    )
                    for n in range(BURST)
                )
            )
    for answers in (listed, registered):
        statuses = Counter(r.status_code for r in answers)
        assert set(statuses) <= {200, 202, 429}, statuses
        assert statuses[429] == BURST - BUDGET, statuses
        assert all(r.headers["retry-after"].isdigit() for r in answers if r.status_code == 429)


async def test_behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right(nats_url):
    async with started(
        "events", nats_url, rate_limit_search="2/minute", trusted_proxies=["10.20.0.0/16", "192.0.2.1"]
    ) as running:
        async with (
            client_from(running, "10.20.3.4") as ingress,
            client_from(running, "198.51.100.95") as direct,
        ):

            async def listed(forwarded_for: str | None, via=ingress) -> int:
                headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
                return (await via.get(EVENTS, headers=headers)).status_code

            # Eva behind the ingress and a trusted CDN hop; she forges a fresh leftmost entry each time.
            eva = [await listed(f"203.0.113.{n}, 198.51.100.10, 192.0.2.1") for n in range(3)]
            # Another client through the same ingress has its own budget.
            karl = await listed("198.51.100.11")
            # A client that connects directly is not a proxy: its header is ignored, it is itself.
            direct_forged = [await listed(f"198.51.100.{n}", via=direct) for n in (12, 13, 14)]
    assert eva == [200, 200, 429]
    assert karl == 200
    assert direct_forged == [200, 200, 429]


def test_trusted_proxies_are_addresses_or_networks(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1,2001:db8::/32")
    assert ServiceSettings().trusted_proxies == ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"]
    assert ServiceSettings(trusted_proxies=[]).trusted_proxies == []
    assert ServiceSettings(trusted_proxies=["10.1.2.3/16"]).trusted_proxies == ["10.1.0.0/16"]
    for wrong in ("*", "ingress-nginx", "10.0.0.0/33"):
        with pytest.raises(ValidationError, match="trusted_proxies"):
            ServiceSettings(trusted_proxies=[wrong])


def test_uvicorn_is_told_not_to_read_forwarded_headers_itself(monkeypatch):
    # Otherwise uvicorn would rewrite the client address from FORWARDED_ALLOW_IPS first.
    started_with: dict[str, object] = {}
    monkeypatch.setattr(entrypoint.uvicorn, "run", lambda app, **options: started_with.update(options))
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    entrypoint.main(
        settings_class=ServiceSettings,
        create_app=lambda settings: object(),  # type: ignore[arg-type,return-value]
        migrations_package="nzr_actors",
        argv=["serve"],
    )
    assert started_with["proxy_headers"] is False
