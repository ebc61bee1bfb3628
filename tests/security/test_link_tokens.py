"""The tokens in mail links are single-purpose across services: although events and newsletter
sign with the same region secret, a token made for one purpose (or a bearer JWT) opens nothing
else, and a refused link changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET
from nzr_events.registrations.rules import sign_cancellation
from nzr_newsletter.tokens import Purpose, Tokens

from .conftest import row_counts, settled_row_counts, started

NEWSLETTER_TOKENS = Tokens(DEVELOPMENT_SECRET, max_age_days={p: 7 for p in Purpose})
IN_A_WEEK = datetime.now(UTC) + timedelta(days=7)

FOREIGN_TOKENS = {
    "newsletter-confirmation": NEWSLETTER_TOKENS.issue(Purpose.CONFIRM, {"s": "1", "l": ["1"]}),
    "newsletter-unsubscribe": NEWSLETTER_TOKENS.issue(Purpose.UNSUBSCRIBE, {"s": "1", "l": "1"}),
    "events-cancellation": sign_cancellation(DEVELOPMENT_SECRET, "1", IN_A_WEEK),
    "bearer-jwt": issue_token(DEVELOPMENT_SECRET, region="demo", roles=["admin"]),
}

LINKS = {
    "events": [("POST", "/api/v1/registrations/cancel")],
    "newsletter": [
        ("POST", "/api/v1/newsletter/confirm"),
        ("POST", "/api/v1/newsletter/unsubscribe"),
        ("GET", "/api/v1/newsletter/preferences"),
        ("GET", "/api/v1/newsletter/me/export"),
        ("DELETE", "/api/v1/newsletter/me"),
    ],
}
OWN = {
    "/api/v1/registrations/cancel": "events-cancellation",
    "/api/v1/newsletter/confirm": "newsletter-confirmation",
    "/api/v1/newsletter/unsubscribe": "newsletter-unsubscribe",
}


@pytest.mark.parametrize("service", LINKS)
async def test_a_token_for_another_purpose_or_service_opens_no_link(service, nats_url):
    async with started(service, nats_url) as running:
        before = await settled_row_counts(running)
        answers = {}
        for method, path in LINKS[service]:
            for name, token in FOREIGN_TOKENS.items():
                if OWN.get(path) == name:
                    continue
                response = await running.client.request(method, path, params={"token": token})
                answers[(path, name)] = (response.status_code, response.headers.get("content-type", ""))
        after = await row_counts(running)
    refused = {
        k: v
        for k, v in answers.items()
        if v[0] in (400, 403, 404, 410) and v[1] == "application/problem+json"
    }
    assert refused == answers, {k: v for k, v in answers.items() if k not in refused}
    assert before == after
