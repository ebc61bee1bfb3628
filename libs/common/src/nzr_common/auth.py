"""JWT bearer authentication carrying ``region`` and ``roles`` (DESIGN §6).

HS256 with a shared secret for local use; RS256 with keys from a JWKS URL (e.g. Keycloak)
in production. ``alg: none`` and any algorithm other than the configured one are refused.

PyJWT is imported when the first token is verified or issued, httpx when a JWKS URL is set:
PyJWT imports ``cryptography`` (~11 MB resident) and httpx its command line (rich, pygments,
~4 MB), which an idle process or one serving anonymous requests never needs (issue #20).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nzr_common.problems import ProblemError
from nzr_common.settings import ServiceSettings

if TYPE_CHECKING:
    import jwt

log = logging.getLogger(__name__)


class Role(StrEnum):
    EDITOR = "editor"
    ADMIN = "admin"
    STATE = "state"


@dataclass(frozen=True)
class Principal:
    """Who is calling: anonymous (no token) or a token's subject, region and roles."""

    subject: str | None = None
    region: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        return self.subject is None

    def has(self, *roles: Role) -> bool:
        return any(role.value in self.roles for role in roles)


ANONYMOUS = Principal()

#: Attribute of the dependencies made by :func:`require`: the roles they let in. The access
#: policy of a route is read from it (:mod:`nzr_common.access`).
REQUIRED_ROLES_ATTRIBUTE = "__nzr_required_roles__"


def issue_token(
    secret: str,
    *,
    region: str,
    roles: list[str],
    subject: str = "dev-user",
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """A development HS256 token (the ``nzr token`` command and tests use it)."""
    import jwt

    now = datetime.now(UTC)
    claims = {"sub": subject, "region": region, "roles": roles, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


class JwksKeys:
    """The signing keys of a JWKS URL, fetched without blocking the event loop.

    One shared ``httpx.AsyncClient`` with a short timeout. Keys older than ``refresh_seconds``
    are still used while a background task fetches the set again, so a slow or hung provider
    delays nobody who holds a token signed with a known key. A token with an unknown key id
    (the provider rotated its keys) fetches the set at most once per ``min_refresh_seconds``;
    concurrent callers wait for the same fetch.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 2.0,
        refresh_seconds: float = 300.0,
        min_refresh_seconds: float = 30.0,
    ) -> None:
        self.url = url
        self.refresh_seconds = refresh_seconds
        self.min_refresh_seconds = min_refresh_seconds
        import httpx

        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -math.inf  # last successful fetch (monotonic)
        self._tried_at = -math.inf  # last attempt, successful or not
        self._fetching: asyncio.Task[None] | None = None

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The key ``kid`` names (the only key when the token names none), or None."""
        now = time.monotonic()
        if now - self._fetched_at > self.refresh_seconds and self._keys:
            self._refresh_in_background(now)
        found = self._find(kid)
        if found is None and now - self._tried_at >= self.min_refresh_seconds:
            await asyncio.shield(self._refresh(now))
            found = self._find(kid)
        return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _refresh_in_background(self, now: float) -> None:
        if now - self._tried_at >= self.min_refresh_seconds:
            self._refresh(now)

    def _refresh(self, now: float) -> asyncio.Task[None]:
        """The running fetch, or a new one."""
        if self._fetching is None or self._fetching.done():
            self._tried_at = now
            self._fetching = asyncio.create_task(self._fetch(), name="jwks refresh")
        return self._fetching

    async def _fetch(self) -> None:
        import jwt

        try:
            response = await self._client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except Exception as error:  # any answer but a key set keeps the keys we have
            log.warning("JWKS from %s not fetched (%r); keeping %d keys", self.url, error, len(self._keys))
            return
        self._keys = {key.key_id or "": key for key in keys if key.public_key_use in (None, "sig")}
        self._fetched_at = time.monotonic()

    async def aclose(self) -> None:
        if self._fetching is not None:
            self._fetching.cancel()
        await self._client.aclose()


class TokenVerifier:
    """Verifies bearer tokens: HS256 with ``JWT_SECRET``, or RS256 with keys from ``JWT_JWKS_URL``."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._jwks = (
            JwksKeys(
                settings.jwt_jwks_url,
                timeout=settings.jwt_jwks_timeout_seconds,
                refresh_seconds=settings.jwt_jwks_refresh_seconds,
                min_refresh_seconds=settings.jwt_jwks_min_refresh_seconds,
            )
            if settings.jwt_jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        """The token's principal; 401 when it is malformed, unsigned, expired or signed otherwise."""
        import jwt

        try:
            if self._jwks is not None:
                kid = jwt.get_unverified_header(token).get("kid")
                signing_key = await self._jwks.key(kid if isinstance(kid, str) else None)
                if signing_key is None:
                    raise _unauthorized("The token is not valid: its signing key is not known.")
                key: Any = signing_key.key
                algorithms = ["RS256"]
            else:
                key = self.settings.jwt_secret.get_secret_value()
                algorithms = ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "sub"], "verify_aud": bool(self.settings.jwt_audience)},
            )
        except jwt.ExpiredSignatureError as error:
            raise _unauthorized("The token has expired.") from error
        except jwt.InvalidTokenError as error:
            raise _unauthorized(f"The token is not valid: {error}") from error
        roles = claims.get("roles") or claims.get("realm_access", {}).get("roles", [])
        region = claims.get("region")
        if not isinstance(region, str) or not isinstance(roles, list):
            raise _unauthorized("The token carries no 'region' or 'roles' claim.")
        return Principal(subject=str(claims["sub"]), region=region, roles=frozenset(map(str, roles)))

    async def principal_of(self, authorization: str | None) -> Principal:
        """The caller named by an ``Authorization`` header: anonymous without one, 401 for any
        header that is not a bearer token that verifies (``Basic``, an empty ``Bearer``, ...)."""
        if authorization is None:
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("The Authorization header must be 'Bearer' and a token.")
        return await self.verify(token.strip())

    async def aclose(self) -> None:
        if self._jwks is not None:
            await self._jwks.aclose()


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="JWT with `region` and `roles` claims")

#: Scope key under which the rate limiter leaves the principal it verified, so the route does
#: not verify the same token twice.
PRINCIPAL_SCOPE_KEY = "nzr.principal"


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller; anonymous when no ``Authorization`` header is sent, 401 when one is sent
    that is not a valid bearer token."""
    known = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if isinstance(known, Principal):
        return known
    verifier: TokenVerifier = request.app.state.runtime.token_verifier
    return await verifier.principal_of(request.headers.get("authorization"))


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """Dependency: the caller has one of ``roles`` in this service's region (state: any region)."""

    async def check(request: Request, principal: PrincipalDep) -> Principal:
        if principal.anonymous:
            raise _unauthorized("This operation needs a bearer token.")
        if not principal.has(*roles):
            wanted = " or ".join(r.value for r in roles)
            raise ProblemError(403, "Forbidden", f"This operation needs the role {wanted}.")
        settings: ServiceSettings = request.app.state.runtime.settings
        if principal.region != settings.region and not (Role.STATE in roles and principal.has(Role.STATE)):
            raise ProblemError(
                403, "Forbidden", f"The token's region '{principal.region}' is not '{settings.region}'."
            )
        return principal

    setattr(check, REQUIRED_ROLES_ATTRIBUTE, tuple(role.value for role in roles))
    return check


EditorDep = Annotated[Principal, Depends(require(Role.EDITOR, Role.ADMIN))]
AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]
