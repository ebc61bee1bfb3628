"""Declared access policies of HTTP routes (DESIGN §6).

Every route states who may call it, exactly once. Routes that need a role say so with the
role dependencies of :mod:`nzr_common.auth` (``EditorDep``, ``AdminDep``, ``require(...)``):
the policy is read from them. Routes without a role check declare their policy in the route
decorator, e.g. ``@router.get(..., dependencies=[PUBLIC])``; a route that takes a
``PrincipalDep`` (and no role dependency) is public with output that varies by caller.

The policies are published in each operation's OpenAPI document as ``x-access`` so that
frontends can see them, and ``tests/security/test_access_matrix.py`` calls every route with
every kind of caller and checks the outcome against the declaration. A route without a
declaration fails that test.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import SecretStr

from nzr_common.auth import REQUIRED_ROLES_ATTRIBUTE, Principal, PrincipalDep, current_principal
from nzr_common.problems import ProblemError

POLICY_ATTRIBUTE = "__nzr_access__"
#: Name of the bearer security scheme in the OpenAPI documents (FastAPI names it after the class).
BEARER_SCHEME = "HTTPBearer"
RATE_LIMIT_ATTRIBUTE = "__nzr_rate_limit__"


class AccessKind(StrEnum):
    OPS = "ops"
    """Probes, metrics and API documents: for the platform, answered to anyone, tokens ignored."""
    PUBLIC = "public"
    """Anyone, the same answer for every caller."""
    PUBLIC_VARYING = "public-varying"
    """Anyone; the region's editors and admins see more (drafts, private profiles)."""
    TOKEN_LINK = "token-link"
    """Anyone holding a signed, purpose-bound, expiring token from a mail's link (in the query)."""
    DEVELOPMENT = "development"
    """Only in a development run (404 elsewhere)."""
    ROLES = "roles"
    """A bearer token with one of ``roles`` of this region (the state role: of any region)."""
    WEBHOOK = "webhook"
    """A bearer token with one of ``roles`` of this region, or a shared secret in a header."""


@dataclass(frozen=True)
class AccessPolicy:
    kind: AccessKind
    roles: tuple[str, ...] = ()
    description: str = ""
    #: What applies instead when the service runs in state mode (the hub), if it differs.
    state_mode: AccessPolicy | None = None
    #: Header that carries the shared secret of a webhook.
    secret_header: str | None = None

    def in_mode(self, mode: str) -> AccessPolicy:
        return self.state_mode if mode == "state" and self.state_mode is not None else self

    def needs_token(self) -> bool:
        return self.kind in (AccessKind.ROLES, AccessKind.WEBHOOK)

    def security(self) -> list[dict[str, list[str]]]:
        """The OpenAPI ``security`` of an operation under this policy: the bearer token where one
        is needed (for a webhook, or its secret header), none (``[]``) for anonymous operations.

        Anonymous operations that accept a token (it is checked if sent, and editors see more
        on ``public-varying`` ones) still say ``[]``, not ``[{}, {"HTTPBearer": []}]``: client
        generators (openapi-python-client) read any requirement as "needs a token" and would
        not let an anonymous client call them. ``x-access`` says who sees what."""
        if self.kind is AccessKind.WEBHOOK:
            alternatives: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
            if self.secret_header:
                alternatives.append({self.secret_header: []})
            return alternatives
        if self.needs_token():
            return [{BEARER_SCHEME: []}]
        return []

    def document(self) -> dict[str, Any]:
        """The ``x-access`` OpenAPI extension of this policy."""
        doc: dict[str, Any] = {"policy": self.kind.value}
        if self.roles:
            doc["roles"] = list(self.roles)
            doc["region"] = "any" if "state" in self.roles else "own"
        if self.secret_header:
            doc["secret_header"] = self.secret_header
        if self.description:
            doc["description"] = self.description
        return doc


def roles_policy(roles: tuple[str, ...]) -> AccessPolicy:
    wanted = " or ".join(roles)
    return AccessPolicy(AccessKind.ROLES, roles, f"bearer token with the role {wanted}")


def declared(policy: AccessPolicy) -> DependsParam:
    """A route dependency that declares ``policy``: ``dependencies=[declared(...)]``.

    Except for ops routes it also checks a bearer token if one is sent, so a forged, expired
    or unsigned token is refused with 401 on every route, not only where roles are needed.
    """
    if policy.needs_token():
        raise ValueError("role policies are declared by require(...), EditorDep or AdminDep")
    if policy.kind is AccessKind.OPS:

        async def ops() -> None:
            return None

        setattr(ops, POLICY_ATTRIBUTE, policy)
        return Depends(ops)

    async def declaration(principal: PrincipalDep) -> Principal:
        return principal

    setattr(declaration, POLICY_ATTRIBUTE, policy)
    return Depends(declaration)


def webhook(*roles: str, secret_header: str, secret_setting: str, description: str) -> DependsParam:
    """Declare and check a webhook: a bearer token with one of ``roles`` of this region, or the
    shared secret of the setting ``secret_setting`` in the header ``secret_header``."""
    policy = AccessPolicy(AccessKind.WEBHOOK, tuple(roles), description, secret_header=secret_header)

    async def webhook_caller(request: Request, principal: PrincipalDep) -> Principal:
        settings = request.app.state.runtime.settings
        configured = getattr(settings, secret_setting, None)
        expected = configured.get_secret_value() if isinstance(configured, SecretStr) else ""
        sent = request.headers.get(secret_header, "")
        if expected and sent and hmac.compare_digest(sent.encode(), expected.encode()):
            return principal
        if principal.anonymous:
            raise ProblemError(
                401,
                "Unauthorized",
                f"Send a bearer token or the {secret_header} header.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not any(role in principal.roles for role in roles) or principal.region != settings.region:
            raise ProblemError(403, "Forbidden", f"This needs the role {' or '.join(roles)} of this region.")
        return principal

    setattr(webhook_caller, POLICY_ATTRIBUTE, policy)
    return Depends(webhook_caller)


def with_policy(policy: AccessPolicy) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a dependency that checks access itself (e.g. a scope) with the policy it applies."""

    def mark(dependency: Callable[..., Any]) -> Callable[..., Any]:
        setattr(dependency, POLICY_ATTRIBUTE, policy)
        return dependency

    return mark


OPS = declared(AccessPolicy(AccessKind.OPS, description="probes, metrics and API documents"))
PUBLIC = declared(AccessPolicy(AccessKind.PUBLIC, description="anyone; published data only"))
PUBLIC_VARYING = declared(
    AccessPolicy(AccessKind.PUBLIC_VARYING, description="anyone; the region's editors see more")
)
TOKEN_LINK = declared(
    AccessPolicy(
        AccessKind.TOKEN_LINK,
        description="anyone with the signed, purpose-bound, expiring token of a mail's link",
    )
)
DEVELOPMENT_ONLY = declared(
    AccessPolicy(AccessKind.DEVELOPMENT, description="development runs only; 404 elsewhere")
)
_IMPLIED_BY_PRINCIPAL = AccessPolicy(
    AccessKind.PUBLIC_VARYING, description="anyone; the answer depends on the caller's token"
)


#: Route classes with a limit of their own (settings ``RATE_LIMIT_<CLASS>``). Routes that declare
#: none of them and change something (POST, PUT, PATCH, DELETE) are in the class ``writes``.
RateLimitClass = Literal["search", "sign_up", "subscription"]
WRITES: Literal["writes"] = "writes"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def anonymous_rate_limit(name: RateLimitClass) -> DependsParam:
    """Declare that callers of the route are rate limited by the limit ``name`` (settings
    ``RATE_LIMIT_<NAME>``): anonymous callers per address, token holders per subject.
    :class:`nzr_common.web.RateLimits` enforces it before routing, so cached answers count too."""

    async def limited() -> None:
        return None

    setattr(limited, RATE_LIMIT_ATTRIBUTE, name)
    return Depends(limited)


# ---------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RouteAccess:
    """The policies found on one route: every one of them must let the caller in."""

    policies: tuple[AccessPolicy, ...] = ()
    #: The limit the route counts against (:func:`anonymous_rate_limit`, else ``writes`` for
    #: POST, PUT, PATCH and DELETE), None for reads that declare none.
    rate_limit: str | None = None

    @property
    def declared(self) -> bool:
        return bool(self.policies)

    def in_mode(self, mode: str) -> tuple[AccessPolicy, ...]:
        """The policies that apply in a region-mode or state-mode deployment."""
        return tuple(p.in_mode(mode) for p in self.policies)

    def document(self, mode: str) -> dict[str, Any]:
        """``x-access``: the policy, or ``all`` of several when more than one needs a token."""
        policies = self.in_mode(mode)
        strict = [p for p in policies if p.needs_token()] or list(policies[:1])
        if len(strict) == 1:
            doc = strict[0].document()
        else:
            doc = {"policy": "all", "of": [p.document() for p in strict]}
        if self.rate_limit:
            doc["rate_limit"] = self.rate_limit
        return doc

    def security(self, mode: str) -> list[dict[str, list[str]]]:
        """The operation's OpenAPI ``security``: the strictest of its policies (all must hold)."""
        policies = self.in_mode(mode)
        strict = [p for p in policies if p.needs_token()] or list(policies[:1])
        requirements: list[dict[str, list[str]]] = []
        for policy in strict:
            for requirement in policy.security():
                if requirement not in requirements:
                    requirements.append(requirement)
        return requirements


def _dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every dependency callable of a route, not descending into declared ones."""
    for sub in dependant.dependencies:
        if sub.call is None:
            continue
        yield sub.call
        if not hasattr(sub.call, POLICY_ATTRIBUTE) and not hasattr(sub.call, REQUIRED_ROLES_ATTRIBUTE):
            yield from _dependencies(sub)


def route_access(route: Any) -> RouteAccess:
    """The declared access of an API route (or the route context of an included router)."""
    policies: list[AccessPolicy] = []
    rate_limit = None
    takes_principal = False
    for call in _dependencies(route.dependant):
        policy = getattr(call, POLICY_ATTRIBUTE, None)
        if hasattr(call, REQUIRED_ROLES_ATTRIBUTE):
            policy = roles_policy(getattr(call, REQUIRED_ROLES_ATTRIBUTE))
        if policy is not None and policy not in policies:
            policies.append(policy)
        rate_limit = getattr(call, RATE_LIMIT_ATTRIBUTE, rate_limit)
        takes_principal = takes_principal or call is current_principal
    if not policies and takes_principal:
        policies.append(_IMPLIED_BY_PRINCIPAL)
    if rate_limit is None and set(route.methods) & _WRITE_METHODS:
        if not any(p.kind is AccessKind.OPS for p in policies):
            rate_limit = WRITES  # everything that changes something, except the platform's routes
    return RouteAccess(tuple(policies), rate_limit)


def api_routes(app: FastAPI) -> list[Any]:
    """Every API route of the app as served: path with the routers' prefixes, methods, and
    dependencies including the routers' own."""
    return [
        context for context in iter_route_contexts(app.routes) if isinstance(context.original_route, APIRoute)
    ]


def undeclared_routes(app: FastAPI) -> list[str]:
    """``METHOD path`` of every API route without an access policy."""
    return [
        f"{','.join(sorted(route.methods))} {route.path}"
        for route in api_routes(app)
        if not route_access(route).declared
    ]


def document_access(app: FastAPI, schema: dict[str, Any], mode: str) -> dict[str, Any]:
    """Publish each operation's policy as ``x-access`` in the OpenAPI document ``schema``, and
    its ``security`` as the policy says: anonymous operations none (``[]``), role-checked ones
    the bearer token; webhooks name their secret header as the alternative."""
    paths = schema.get("paths", {})
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.setdefault(
        BEARER_SCHEME,
        {"type": "http", "scheme": "bearer", "description": "JWT with `region` and `roles` claims"},
    )
    for route in api_routes(app):
        access = route_access(route)
        if not access.declared or route.path not in paths:
            continue
        for method in route.methods:
            operation = paths[route.path].get(method.lower())
            if operation is not None:
                operation["x-access"] = access.document(mode)
                operation["security"] = access.security(mode)
                for policy in access.in_mode(mode):
                    if policy.secret_header:
                        schemes[policy.secret_header] = {
                            "type": "apiKey",
                            "in": "header",
                            "name": policy.secret_header,
                            "description": policy.description or "shared secret of a webhook",
                        }
    return schema
