"""RFC 9457 problem details for every error a service returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from nzr_common.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class InvalidParam(BaseModel):
    name: str
    reason: str


class Problem(BaseModel):
    """Schema of ``application/problem+json`` bodies (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    invalid_params: list[InvalidParam] | None = None


class ProblemError(Exception):
    """Raise from a route (the HTTP layer) to answer with a problem document; use cases raise
    the domain errors of :mod:`nzr_common.errors` instead."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str = "about:blank",
        invalid_params: list[InvalidParam] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.invalid_params = invalid_params
        self.headers = headers
        self.extra = extra or {}


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    invalid_params: list[InvalidParam] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body = Problem(
        type=type_,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        invalid_params=invalid_params,
    ).model_dump(exclude_none=True)
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


#: The HTTP status of each domain error: the one place that knows it.
DOMAIN_STATUS: dict[type[DomainError], int] = {NotFound: 404, Conflict: 409, Invalid: 422, Forbidden: 403}


def domain_status(error: DomainError) -> int:
    """The status of a domain error (of its nearest mapped class; 400 for unmapped ones)."""
    for cls in type(error).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 400


def domain_problem(error: DomainError) -> ProblemError:
    """The problem document of a domain error (for code that answers several at once)."""
    return ProblemError(
        domain_status(error),
        error.title,
        error.detail,
        type_=error.kind,
        invalid_params=[InvalidParam(name=n, reason=r) for n, r in error.problems] or None,
        extra=error.extra,
    )


def field_name(location: tuple[Any, ...]) -> str:
    """``("body", "resources", 0, "kind")`` → ``resources.0.kind``; an item of a list of plain
    values is named by its list (``("query", "topic", 1)`` → ``topic``: the reason says which value)."""
    parts = [p for p in location if p not in ("body", "query", "path", "header")]
    if len(parts) > 1 and isinstance(parts[-1], int):
        parts = parts[:-1]
    return ".".join(str(p) for p in parts) or str(location[0] if location else "body")


def install_problem_handlers(app: FastAPI) -> None:
    """Turn every error into problem+json: validation (422 naming the fields), HTTP, unexpected;
    and say so in the OpenAPI document."""
    _document_problems(app)

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, error: ProblemError) -> JSONResponse:
        return problem_response(
            request,
            error.status,
            error.title,
            error.detail,
            type_=error.type,
            invalid_params=error.invalid_params,
            headers=error.headers,
            extra=error.extra,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return await _problem(request, domain_problem(error))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        params = [
            InvalidParam(name=field_name(tuple(e.get("loc", ()))), reason=e.get("msg", "invalid"))
            for e in error.errors()
        ]
        if any(e.get("type") == "json_invalid" for e in error.errors()):
            return problem_response(
                request, 400, "Malformed JSON", "The request body is not valid JSON.", invalid_params=params
            )
        names = ", ".join(p.name for p in params)
        return problem_response(
            request, 422, "Invalid request", f"Invalid fields: {names}", invalid_params=params
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        titles = {
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            405: "Method Not Allowed",
            409: "Conflict",
            413: "Payload Too Large",
        }
        return problem_response(
            request,
            error.status_code,
            titles.get(error.status_code, "Error"),
            str(error.detail) if error.detail else None,
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request, 500, "Internal Server Error", "An unexpected error occurred; it has been logged."
        )


_PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
#: Routes with an anonymous rate limit (``x-access`` from :mod:`nzr_common.access`) answer it.
_TOO_MANY_REQUESTS: dict[str, Any] = {
    "description": "Too Many Requests (anonymous rate limit; sign in or wait)",
    "headers": {
        "Retry-After": {
            "description": "Seconds until the next request is accepted",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def _document_problems(app: FastAPI) -> None:
    """Document every error response as ``application/problem+json`` with the Problem schema.

    FastAPI files a response ``model`` under ``application/json`` and leaves the problem media
    type without a schema; clients (and schemathesis) would then expect the wrong content type
    and could not check the body. Error responses a route documents with a schema of its own
    in another media type (``/readyz``'s 503) are left alone.
    """
    build = app.openapi
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not documented:
            document = build()
            for path_item in document.get("paths", {}).values():
                for operation in path_item.values():
                    if isinstance(operation, dict):
                        if (operation.get("x-access") or {}).get("rate_limit"):
                            operation.setdefault("responses", {})["429"] = dict(_TOO_MANY_REQUESTS)
                        for code, response in operation.get("responses", {}).items():
                            if code.isdigit() and int(code) >= 400:
                                _as_problem(response)
            documented.append(document)
        return documented[0]

    app.openapi = openapi  # type: ignore[method-assign]


def _as_problem(response: dict[str, Any]) -> None:
    content = response.get("content") or {}
    own = {media: item for media, item in content.items() if media != PROBLEM_JSON and item != {}}
    if own and all(item.get("schema") != _PROBLEM_SCHEMA for item in own.values()):
        return
    response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}}


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_JSON: {}}}
    for code in (400, 401, 403, 404, 409, 412, 413, 422, 428)
}
