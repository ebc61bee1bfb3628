"""Security headers on every response (errors, 404, 413, 500 included) and CORS per region:
the region's frontends get the CORS headers, other origins do not."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from nzr_common.access import PUBLIC

from .conftest import started, throwaway_service

LEIPZIG = "https://leipzig.nzr.example.org"
ERZGEBIRGE = "https://erzgebirge.nzr.example.org"
EVERYWHERE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def assert_hardened(response: httpx.Response) -> str:
    """The headers every response carries; returns its Content-Security-Policy."""
    for name, value in EVERYWHERE.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.status_code)
    assert "camera=()" in response.headers["permissions-policy"]
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy
    return policy


@pytest.fixture(scope="module")
async def actors(nats_url):  # type: ignore[no-untyped-def]
    async with started(
        "actors", nats_url, cors_origins=[LEIPZIG], max_body_bytes=2_000, hsts_max_age=600
    ) as running:
        yield running.client


async def test_every_kind_of_answer_carries_the_security_headers(actors):
    answers = {
        200: await actors.get("/healthz"),
        401: await actors.post("/api/v1/actors", json={}),
        404: await actors.get("/api/v1/no-such-thing"),
        405: await actors.put("/healthz"),
        413: await actors.post(
            "/api/v1/actors", content=b"x" * 5_000, headers={"content-type": "application/json"}
        ),
        422: await actors.get("/api/v1/actors?limit=0"),
    }
    for status, response in answers.items():
        assert response.status_code == status, response.text
        policy = assert_hardened(response)
        assert policy.startswith("default-src 'none'")  # API answers load nothing
        assert response.headers["strict-transport-security"] == "max-age=600"


async def test_api_documents_and_html_pages_get_a_policy_that_lets_them_render(actors):
    docs = await actors.get("/docs")
    assert "https://cdn.jsdelivr.net" in assert_hardened(docs)
    openapi = await actors.get("/openapi.json")
    assert assert_hardened(openapi).startswith("default-src 'none'")


async def test_html_pages_of_the_services_allow_their_own_styles_but_no_script(nats_url):
    async with started("reporting", nats_url) as running:
        page = await running.client.get("/api/v1/reports/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = assert_hardened(page)
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src" not in policy
    assert "default-src 'none'" in policy and "form-action 'self'" in policy


def throwaway_app(**settings: object) -> FastAPI:
    router = APIRouter(prefix="/api/v1/throwaway")

    @router.get("/boom", dependencies=[PUBLIC])
    async def boom() -> dict[str, str]:
        raise RuntimeError("a bug")

    @router.get("/fine", dependencies=[PUBLIC])
    async def fine() -> dict[str, str]:
        return {"status": "fine"}

    return throwaway_service(router, **settings)


def client_of(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_an_unhandled_error_answers_500_problem_with_the_headers_and_cors():
    async with client_of(throwaway_app(cors_origins=[LEIPZIG])) as client:
        response = await client.get("/api/v1/throwaway/boom", headers={"Origin": LEIPZIG})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "a bug" not in response.text
    assert_hardened(response)
    assert response.headers["access-control-allow-origin"] == LEIPZIG  # the frontend can read it


async def test_hsts_is_sent_only_when_configured():
    async with client_of(throwaway_app(hsts_max_age=0)) as client:
        assert "strict-transport-security" not in (await client.get("/healthz")).headers
    async with client_of(throwaway_app(hsts_max_age=31_536_000, hsts_include_subdomains=True)) as client:
        hsts = (await client.get("/healthz")).headers["strict-transport-security"]
    assert hsts == "max-age=31536000; includeSubDomains"


async def test_the_regions_frontend_gets_cors_headers_and_other_origins_do_not(actors):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed = await actors.options("/api/v1/actors", headers={"Origin": LEIPZIG, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == LEIPZIG
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert_hardened(allowed)

    foreign = await actors.options("/api/v1/actors", headers={"Origin": ERZGEBIRGE, **preflight})
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers

    read = await actors.get("/api/v1/actors", headers={"Origin": LEIPZIG})
    assert read.status_code == 200 and read.headers["access-control-allow-origin"] == LEIPZIG
    assert "access-control-allow-credentials" not in read.headers  # bearer tokens, no cookies
    other = await actors.get("/api/v1/actors", headers={"Origin": ERZGEBIRGE})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


async def test_each_region_allows_only_its_own_frontends():
    regions = {
        LEIPZIG: throwaway_app(cors_origins=[LEIPZIG]),
        ERZGEBIRGE: throwaway_app(cors_origins=[ERZGEBIRGE]),
    }
    for frontend, app in regions.items():
        async with client_of(app) as client:
            for origin in (LEIPZIG, ERZGEBIRGE):
                response = await client.get("/api/v1/throwaway/fine", headers={"Origin": origin})
                allowed = response.headers.get("access-control-allow-origin")
                assert allowed == (origin if origin == frontend else None), (frontend, origin)


async def test_without_configured_origins_no_cross_origin_reads_are_allowed():
    async with client_of(throwaway_app()) as client:
        response = await client.get("/api/v1/throwaway/fine", headers={"Origin": LEIPZIG})
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
