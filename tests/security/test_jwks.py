"""RS256 tokens verified with keys from a real JWKS HTTP server, fetched without blocking the
event loop: cached, refreshed in the background, stale keys used while the provider hangs, and
an unknown key id fetching the set at most once per interval."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter

from nzr_common.auth import PrincipalDep

from .conftest import throwaway_service

#: Generous bound for "answers at all": far above any normal answer, far below a hang.
LIVENESS_SECONDS = 10.0


class JwksServer:
    """A JWKS endpoint on a free port that serves its keys, or accepts connections and never
    answers (``hang = True``). Counts the connections it was asked on."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.hang = False
        self.garbage: bytes | None = None  # answered instead of the key set
        self.connections = 0
        self.answered = 0
        self._server: asyncio.Server | None = None
        self._held: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/certs"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.readuntil(b"\r\n\r\n")
        if self.hang:
            self._held.append(writer)  # read the request, never answer
            return
        body = self.garbage if self.garbage is not None else json.dumps({"keys": self.keys}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()
        self.answered += 1

    async def __aenter__(self) -> JwksServer:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._held:
            writer.close()
        assert self._server is not None
        self._server.close()


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def token(self, subject: str = "anna", kid: str | None = None) -> str:
        claims = {
            "sub": subject,
            "region": "demo",
            "roles": ["editor"],
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        }
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def _whoami_router() -> APIRouter:
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(principal: PrincipalDep) -> dict[str, str | None]:
        return {"subject": principal.subject}

    return router


@asynccontextmanager
async def service(jwks: JwksServer, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = throwaway_service(_whoami_router(), region="demo", jwt_jwks_url=jwks.url, **settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.state.runtime.token_verifier.aclose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def answered(request: Any) -> httpx.Response:
    return await asyncio.wait_for(request, LIVENESS_SECONDS)


async def test_rs256_tokens_verify_with_keys_fetched_once_and_cached():
    key, stranger = SigningKey("k1"), SigningKey("k1")  # the stranger claims the same key id
    async with JwksServer() as jwks:
        jwks.keys = [key.jwk()]
        async with service(jwks) as client:
            first = await client.get("/whoami", headers=bearer(key.token("anna")))
            second = await client.get("/whoami", headers=bearer(key.token("ben")))
            forged = await client.get("/whoami", headers=bearer(stranger.token("mallory")))
            hs256 = await client.get(
                "/whoami",
                headers=bearer(jwt.encode({"sub": "x", "exp": 4102444800}, "x" * 40, algorithm="HS256")),
            )
    assert (first.status_code, first.json()) == (200, {"subject": "anna"})
    assert (second.status_code, second.json()) == (200, {"subject": "ben"})
    assert forged.status_code == 401 and forged.headers["content-type"] == "application/problem+json"
    assert hs256.status_code == 401
    assert jwks.connections == 1  # fetched once, then cached


async def test_a_rotated_key_is_fetched_and_unknown_key_ids_fetch_at_most_once_per_interval():
    old, new = SigningKey("old"), SigningKey("new")
    async with JwksServer() as jwks:
        jwks.keys = [old.jwk()]
        async with service(jwks, jwt_jwks_min_refresh_seconds=0) as client:
            assert (await client.get("/whoami", headers=bearer(old.token()))).status_code == 200
            jwks.keys = [old.jwk(), new.jwk()]  # the provider rotates
            rotated = await client.get("/whoami", headers=bearer(new.token("carla")))
        assert rotated.status_code == 200 and rotated.json() == {"subject": "carla"}
        asked = jwks.connections

        async with service(jwks, jwt_jwks_min_refresh_seconds=3600) as client:
            assert (await client.get("/whoami", headers=bearer(old.token()))).status_code == 200
            unknown = await asyncio.gather(
                *(client.get("/whoami", headers=bearer(old.token(kid=f"guess-{n}"))) for n in range(20))
            )
    assert [r.status_code for r in unknown] == [401] * 20
    assert jwks.connections == asked + 1  # the first fetch of the new process; no fetch per guess


async def test_a_hung_provider_delays_neither_probes_nor_tokens_with_known_keys():
    # Keys are stale at once (refresh 0 s); the refresh runs in the background against a server
    # that never answers, with a fetch timeout far above the liveness bound: whoever waited
    # for it would not answer in time.
    key = SigningKey("k1")
    async with JwksServer() as jwks:
        jwks.keys = [key.jwk()]
        async with service(
            jwks, jwt_jwks_refresh_seconds=0, jwt_jwks_min_refresh_seconds=0, jwt_jwks_timeout_seconds=60
        ) as client:
            assert (await client.get("/whoami", headers=bearer(key.token()))).status_code == 200
            jwks.hang = True
            known = [
                await answered(client.get("/whoami", headers=bearer(key.token("dora")))) for _ in range(5)
            ]
            probe = await answered(client.get("/healthz"))
            refreshes_underway = jwks.connections - 1
    assert [r.status_code for r in known] == [200] * 5
    assert all(r.json() == {"subject": "dora"} for r in known)
    assert probe.status_code == 200
    assert refreshes_underway == 1  # one background refresh, hanging; not one per request


async def test_without_keys_a_hung_provider_refuses_the_token_after_the_timeout_and_probes_answer():
    key = SigningKey("k1")
    async with JwksServer() as jwks:
        jwks.hang = True
        async with service(jwks, jwt_jwks_timeout_seconds=3) as client:
            waiting = asyncio.ensure_future(client.get("/whoami", headers=bearer(key.token())))
            while jwks.connections == 0:  # the fetch has reached the server
                await asyncio.sleep(0.01)
            probe = await answered(client.get("/healthz"))
            still_waiting = not waiting.done()
            refused = await answered(waiting)
    assert probe.status_code == 200
    assert still_waiting  # the probe answered while the token's key was being fetched
    assert refused.status_code == 401
    assert "signing key" in refused.json()["detail"]


async def test_an_answer_that_is_no_key_set_keeps_the_keys_in_use():
    key = SigningKey("k1")
    async with JwksServer() as jwks:
        jwks.keys = [key.jwk()]
        async with service(jwks, jwt_jwks_refresh_seconds=0, jwt_jwks_min_refresh_seconds=0) as client:
            assert (await client.get("/whoami", headers=bearer(key.token()))).status_code == 200
            answers = []
            for garbage in (b"<html>Wartung</html>", b"[1, 2]", b'{"keys": "none"}', b'{"keys": []}'):
                jwks.garbage = garbage
                before = jwks.answered
                answers.append((await client.get("/whoami", headers=bearer(key.token("emil")))).status_code)
                # Let the background refresh read the garbage before the next request.
                await asyncio.wait_for(until(lambda before=before: jwks.answered > before), LIVENESS_SECONDS)
                await asyncio.sleep(0.05)
            final = await client.get("/whoami", headers=bearer(key.token("emil")))
    assert answers == [200, 200, 200, 200]
    assert final.status_code == 200


async def until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.01)
