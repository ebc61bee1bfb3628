"""Access-control matrix: every route of every service, called by every kind of caller, gets the
outcome its declared policy promises (DESIGN §6); a route without a declared policy fails.

The expected outcome is worked out here from the declaration (``x-access``), independently of
the code that enforces it: anonymous callers and broken tokens get 401, valid tokens without
the role or of another region get 403, and nothing a refused call asks for is written. Allowed
callers get past the door: anything but 401/403 (mostly 404/422, as the matrix sends ids that
do not exist and no body) and never a 5xx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from nzr_common.access import PUBLIC, AccessKind, AccessPolicy, api_routes, route_access
from nzr_common.auth import EditorDep
from nzr_common.testing.services import RunningService

from .conftest import CALLERS, Caller, row_counts, settled_row_counts, started, throwaway_service

OPEN_DOOR = frozenset(
    {AccessKind.PUBLIC, AccessKind.PUBLIC_VARYING, AccessKind.TOKEN_LINK, AccessKind.DEVELOPMENT}
)


def refusal(policy: AccessPolicy, caller: Caller, own_region: str) -> int | None:
    """The status the policy promises this caller: 401, 403, or None (let in)."""
    if policy.kind is AccessKind.OPS:
        return None
    if caller.broken is not None:
        return 401  # a token that is sent is checked everywhere, also on public routes
    if policy.kind in OPEN_DOOR:
        return None
    if caller.anonymous:
        return 401
    if not caller.roles & set(policy.roles):
        return 403
    region = caller.region or own_region
    if region != own_region and not ("state" in policy.roles and "state" in caller.roles):
        return 403
    return None


def expected(policies: tuple[AccessPolicy, ...], caller: Caller, own_region: str) -> int | None:
    return next((s for p in policies if (s := refusal(p, caller, own_region)) is not None), None)


def documents_paths(app: FastAPI) -> set[str]:
    """FastAPI's own routes for the API documents: ops, served to anyone."""
    paths = (app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    return {p for p in paths if p}


def assert_every_route_declares_its_access(app: FastAPI) -> None:
    """Fails naming each route that has no declared access policy."""
    missing = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            declared = route_access(route).declared
        else:
            declared = route.path in documents_paths(app)
        if not declared:
            missing.append(f"{','.join(sorted(route.methods or ()))} {route.path}")
    listed = "\n".join(missing)
    assert not missing, f"routes without a declared access policy (dependencies=[PUBLIC] etc.):\n{listed}"


@dataclass
class Knock:
    method: str
    path: str
    caller: Caller
    expected: int | None
    status: int = 0
    detail: str = ""

    def __str__(self) -> str:
        wanted = self.expected or "not 401/403/5xx"
        who = f"{self.method} {self.path} as {self.caller.name}"
        return f"{who}: got {self.status}, want {wanted} {self.detail}"


def concrete(path: str) -> str:
    """A path with every parameter filled in by an id that exists nowhere."""
    return re.sub(r"\{[^}]+\}", "1", path)


def plan(app: FastAPI, mode: str, own_region: str) -> list[Knock]:
    knocks = []
    for route in api_routes(app):
        policies = route_access(route).in_mode(mode)
        for method in sorted(route.methods):
            for caller in CALLERS:
                outcome = expected(policies, caller, own_region)
                knocks.append(Knock(method, concrete(route.path), caller, outcome))
    for path in sorted(documents_paths(app)):
        knocks += [Knock("GET", path, caller, None) for caller in CALLERS]
    return knocks


async def knock(running: RunningService, knock: Knock, own_region: str) -> Knock:
    headers = knock.caller.headers(own_region)
    response = await running.client.request(knock.method, knock.path, headers=headers)
    knock.status = response.status_code
    if knock.expected is None:
        knock.detail = "" if response.status_code < 500 else response.text[:200]
        return knock
    problems = []
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        problems.append(f"content-type {response.headers.get('content-type')}")
    if knock.expected == 401 and response.headers.get("www-authenticate") != "Bearer":
        problems.append("no WWW-Authenticate: Bearer")
    knock.detail = "; ".join(problems)
    return knock


async def check_matrix(running: RunningService) -> dict[str, Any]:
    """Every route × every caller; returns the figures, fails listing every wrong outcome."""
    app = running.app
    settings = running.runtime.settings
    assert_every_route_declares_its_access(app)
    knocks = plan(app, settings.mode, settings.region)

    before = await settled_row_counts(running)
    refused = [await knock(running, k, settings.region) for k in knocks if k.expected is not None]
    after = await row_counts(running)
    let_in = [await knock(running, k, settings.region) for k in knocks if k.expected is None]

    wrong = [k for k in refused if k.status != k.expected or k.detail]
    wrong += [k for k in let_in if k.status in (401, 403) or k.status >= 500]
    listed = "\n".join(map(str, wrong))
    assert not wrong, f"{len(wrong)} of {len(knocks)} outcomes differ from the declared policy:\n{listed}"
    changed = {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
    assert not changed, f"refused calls changed the database (table: before, after): {changed}"
    return {"routes": len(api_routes(app)), "knocks": len(knocks), "refused": len(refused)}


async def check_documented(running: RunningService) -> None:
    """Each operation of the OpenAPI document carries its policy as ``x-access``."""
    settings = running.runtime.settings
    document = (await running.client.get("/openapi.json")).json()
    for route in api_routes(running.app):
        operations = document["paths"].get(route.path)
        if operations is None:  # not in the schema (metrics, AsyncAPI)
            continue
        for method in route.methods:
            assert operations[method.lower()]["x-access"] == route_access(route).document(settings.mode), (
                f"{method} {route.path}"
            )


DEPLOYMENTS = [
    pytest.param("actors", {}, id="actors"),
    pytest.param("events", {}, id="events"),
    pytest.param("newsletter", {}, id="newsletter"),
    pytest.param("funding", {}, id="funding"),
    pytest.param("funding", {"catalogue_writes": False}, id="funding-region-replica"),
    pytest.param("reporting", {}, id="reporting"),
    pytest.param("reporting", {"mode": "state"}, id="reporting-state-mode"),
]


@pytest.mark.parametrize(("service", "overrides"), DEPLOYMENTS)
async def test_every_route_gives_every_caller_its_declared_outcome(service, overrides, nats_url):
    async with started(service, nats_url, **overrides) as running:
        figures = await check_matrix(running)
        await check_documented(running)
    print(f"\n{service} {overrides or ''}: {figures}")


# ------------------------------------------------------------------ a route without a policy


def throwaway_app() -> FastAPI:
    router = APIRouter(prefix="/api/v1/throwaway")

    @router.get("/declared", dependencies=[PUBLIC])
    async def declared() -> dict[str, str]:
        return {}

    @router.post("/editors-only")
    async def editors_only(_: EditorDep) -> dict[str, str]:
        return {}

    @router.get("/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    return throwaway_service(router)


def test_a_route_without_a_declared_policy_fails_the_matrix():
    app = throwaway_app()
    with pytest.raises(AssertionError) as failure:
        assert_every_route_declares_its_access(app)
    assert "GET /api/v1/throwaway/forgotten" in str(failure.value)
    assert "/declared" not in str(failure.value) and "/editors-only" not in str(failure.value)


def test_the_policy_of_a_role_route_is_read_from_its_role_dependency():
    by_path = {route.path: route_access(route) for route in api_routes(throwaway_app())}
    (editors,) = by_path["/api/v1/throwaway/editors-only"].policies
    assert (editors.kind, editors.roles) == (AccessKind.ROLES, ("editor", "admin"))
    assert not by_path["/api/v1/throwaway/forgotten"].declared
    assert by_path["/api/v1/throwaway/declared"].document("region")["policy"] == "public"


# ------------------------------------------------------------------ the webhook's other key


@pytest.mark.parametrize(
    ("configured", "sent", "let_in"),
    [
        ("a-shared-secret-of-the-mail-provider", "a-shared-secret-of-the-mail-provider", True),
        ("a-shared-secret-of-the-mail-provider", "a-guess", False),
        ("", "", False),  # an empty setting is no secret: an empty header opens nothing
        (None, "anything", False),
    ],
    ids=["right-secret", "wrong-secret", "empty-secret", "no-secret-configured"],
)
async def test_the_bounce_webhook_lets_in_only_the_configured_shared_secret(
    configured, sent, let_in, nats_url
):
    async with started("newsletter", nats_url, bounce_webhook_secret=configured) as running:
        before = await settled_row_counts(running)
        response = await running.client.post(
            "/api/v1/newsletter/bounces",
            json=[{"email": "gone@example.org", "kind": "hard", "status": "5.1.1"}],
            headers={"X-Webhook-Secret": sent},
        )
        after = await row_counts(running)
    if let_in:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert before == after
