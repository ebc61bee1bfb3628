"""The errors a service's use cases raise: no HTTP below the routes.

``nzr_common.problems.install_problem_handlers`` turns each into the same problem+json answer
the services gave before (404 ``No <what> <id>.``, 409 ``Conflict``, 422 naming the fields,
403 ``Forbidden``); a route never catches them to translate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: A field that is wrong and why: ``("email", "already registered")``.
FieldProblem = tuple[str, str]


class DomainError(Exception):
    """Base of the domain errors; ``problems`` names the fields at fault (may be empty)."""

    title: str = "Error"

    def __init__(
        self,
        detail: str,
        *,
        title: str | None = None,
        problems: Iterable[FieldProblem] = (),
        kind: str = "about:blank",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.title = title or type(self).title
        self.problems: list[FieldProblem] = [(str(name), str(reason)) for name, reason in problems]
        self.kind = kind
        self.extra: dict[str, Any] = dict(extra or {})


class NotFound(DomainError):
    """There is no ``what`` with the id ``ident`` (or the caller may not know it exists)."""

    title = "Not Found"

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"No {what} {ident}.")
        self.what = what
        self.ident = ident


class Conflict(DomainError):
    """The request clashes with the current state (a closed event, a taken address, a duplicate).

    ``title`` is the short name clients show (``Conflict`` unless a more telling one exists, e.g.
    ``Already registered``); ``existing_id`` is the id of the thing that is in the way and goes
    into the problem body as ``existing_id``; ``kind`` is the problem type URI and ``extra``
    further members of the body (e.g. the alternatives left).
    """

    title = "Conflict"

    def __init__(
        self,
        detail: str,
        *,
        existing_id: str | None = None,
        title: str | None = None,
        problems: Iterable[FieldProblem] = (),
        kind: str = "about:blank",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        members = dict(extra or {})
        if existing_id is not None:
            members["existing_id"] = existing_id
        super().__init__(detail, title=title, problems=problems, kind=kind, extra=members)
        self.existing_id = existing_id


class Invalid(DomainError):
    """Input the rules refuse, with every field at fault: ``Invalid("Invalid session",
    [("ends_at", "must be after starts_at")])``. The detail lists them unless given."""

    def __init__(
        self,
        title: str,
        problems: Iterable[FieldProblem],
        *,
        detail: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        listed = [(str(name), str(reason)) for name, reason in problems]
        super().__init__(
            detail if detail is not None else "; ".join(f"{name}: {reason}" for name, reason in listed),
            title=title,
            problems=listed,
            extra=extra,
        )


class Forbidden(DomainError):
    """The caller is known but may not do this (e.g. a cooperation across regions)."""

    title = "Forbidden"

    def __init__(
        self, detail: str, *, title: str | None = None, problems: Iterable[FieldProblem] = ()
    ) -> None:
        super().__init__(detail, title=title, problems=problems)
