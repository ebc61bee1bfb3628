"""JWT bearer authentication carrying ``region`` and ``roles`` (DESIGN §6).

HS256 with a shared secret for local use; RS256 with keys from a JWKS URL (e.g. Keycloak)
in production. ``alg: none`` and any algorithm other than the configured one are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nzr_common.problems import ProblemError
from nzr_common.settings import ServiceSettings


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
    now = datetime.now(UTC)
    claims = {"sub": subject, "region": region, "roles": roles, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


class TokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
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
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as error:
            raise _unauthorized(f"The token is not valid: {error}") from error
        roles = claims.get("roles") or claims.get("realm_access", {}).get("roles", [])
        region = claims.get("region")
        if not isinstance(region, str) or not isinstance(roles, list):
            raise _unauthorized("The token carries no 'region' or 'roles' claim.")
        return Principal(subject=str(claims["sub"]), region=region, roles=frozenset(map(str, roles)))


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="JWT with `region` and `roles` claims")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller; anonymous when no token is sent, 401 when a token is sent but invalid."""
    if credentials is None:
        return ANONYMOUS
    verifier: TokenVerifier = request.app.state.runtime.token_verifier
    return verifier.verify(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
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
