"""Checks every route gets before it runs: unknown query parameters and unusable preconditions.

Both are one app-wide dependency (:data:`REQUEST_CHECKS`), so no route has to remember them:

- A ``GET`` of a documented list (the answer is a JSON array or a page with ``items``) refuses
  query parameters it does not declare with 422 problem+json naming each one: a client that
  misspells ``distrcit=`` learns it instead of silently getting the unfiltered list.
- ``If-Match`` on a change whose URL has no representation to tag (no ``GET`` answers 200
  there, so :mod:`nzr_common.etags` could not evaluate it) and that does not declare
  ``If-Match`` itself: the update is not performed blindly, 428 Precondition Required
  (RFC 6585 §3) says no precondition this route can check was sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

from nzr_common.etags import IF_MATCH_CHECKED
from nzr_common.problems import ProblemError

_QUERY_ATTRIBUTE = "__nzr_declared_query__"
_IF_MATCH_ATTRIBUTE = "__nzr_takes_if_match__"


def _is_list(model: Any) -> bool:
    if model is None:
        return False
    if get_origin(model) in (list, tuple, set, frozenset):
        return True
    if get_origin(model) is not None:  # a union or annotated type: any list member counts
        return any(_is_list(arg) for arg in get_args(model))
    return isinstance(model, type) and issubclass(model, BaseModel) and "items" in model.model_fields


def _params(dependant: Dependant, kind: str) -> Iterator[Any]:
    """The ``kind`` (``query_params``, ``header_params``) of a route and its dependencies."""
    yield from getattr(dependant, kind)
    for sub in dependant.dependencies:
        yield from _params(sub, kind)


def declared_query(route: APIRoute) -> frozenset[str] | None:
    """Query parameter names a list route declares (by alias); None for other routes."""
    if not hasattr(route, _QUERY_ATTRIBUTE):
        setattr(route, _QUERY_ATTRIBUTE, _declared_query(route))
    known: frozenset[str] | None = getattr(route, _QUERY_ATTRIBUTE)
    return known


def _declared_query(route: APIRoute) -> frozenset[str] | None:
    if not route.methods or "GET" not in route.methods or not _is_list(route.response_model):
        return None
    names: set[str] = set()
    for field in _params(route.dependant, "query_params"):
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):  # a query model
            names.update(f.alias or n for n, f in annotation.model_fields.items())
        names.add(field.alias)
    return frozenset(names)


def takes_if_match(route: APIRoute) -> bool:
    """Whether the route declares an ``If-Match`` header (it keeps an entity tag)."""
    if not hasattr(route, _IF_MATCH_ATTRIBUTE):
        headers = {field.alias.lower() for field in _params(route.dependant, "header_params")}
        setattr(route, _IF_MATCH_ATTRIBUTE, "if-match" in headers)
    return bool(getattr(route, _IF_MATCH_ATTRIBUTE))


async def check_request(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = declared_query(route)
    if known is not None:
        unknown = sorted({name for name in request.query_params if name not in known})
        if unknown:
            raise RequestValidationError(
                [
                    {"type": "extra_forbidden", "loc": ("query", name), "msg": "unknown query parameter"}
                    for name in unknown
                ]
            )
    if request.method in ("GET", "HEAD") or request.scope.get(IF_MATCH_CHECKED):
        return
    if "if-match" in request.headers and not takes_if_match(route):
        raise ProblemError(
            428,
            "Precondition Required",
            "This resource has no entity tag, so If-Match cannot be checked; send the request "
            "without If-Match.",
        )


#: The app-wide dependency: ``FastAPI(dependencies=[REQUEST_CHECKS])``.
REQUEST_CHECKS = Depends(check_request)
