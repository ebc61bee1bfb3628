"""One pagination style for every list: ``limit`` and an opaque ``cursor``, the next page as a
``next`` link in the body and an RFC 8288 ``Link: <…>; rel="next"`` header, ``total`` where
counting is cheap.

A route takes :data:`PagingDep` and answers a page model that has the fields of :class:`Page`
(``items``, ``next``, ``total``); :func:`next_link` builds the link and :func:`link_header` the
header::

    async def list_things(paging: PagingDep, request: Request, response: Response) -> ThingPage:
        rows, total = await service.list_things(limit=paging.limit, offset=paging.offset)
        page = ThingPage(items=rows, total=total, next=next_link(request, paging, len(rows), total))
        response.headers.update(link_header(page.next))
        return page

The cursor is opaque to clients (base64url of a small JSON object); today it carries the
position in the ordered list, so it may later carry the last row's sort key (keyset) without
clients noticing.

``offset`` is a deprecated parameter only of the lists that had it before the cursor (the event
list, subscribers, transactional mails, the dead letters; the funding search declares its own):
they take ``paging_params(..., deprecated_offset=True)`` and keep it for one release. Every other list
never had it, so it is not declared there and ``offset=`` is an unknown query parameter (422
naming it, ``nzr_common.conditions``).
"""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from nzr_common.params import MAX_OFFSET, Offset

T = TypeVar("T")

#: Largest page a client may ask for.
MAX_LIMIT = 200
DEFAULT_LIMIT = 20


def encode_cursor(offset: int) -> str:
    raw = json.dumps({"o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    """The position a cursor names; 422 naming ``cursor`` for anything this service did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        offset = value["o"]
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
            raise ValueError(offset)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "cursor"), "msg": "not a cursor of this list"}]
        ) from error
    return offset


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


#: ``cursor`` of every list.
Cursor = Annotated[
    str | None, Query(max_length=200, description="Opaque position from the `next` link of the previous page")
]
#: ``offset`` of the lists that had it before the cursor, kept for one release.
DeprecatedOffset = Annotated[Offset, Query(deprecated=True, description="Use `cursor`; kept for one release")]


# No ``from __future__ import annotations`` here: FastAPI reads the closures' annotations, which
# name the closures' own limits.
def paging_params(
    default_limit: int = DEFAULT_LIMIT, max_limit: int = MAX_LIMIT, *, deprecated_offset: bool = False
) -> Callable[..., Paging]:
    """The dependency reading ``limit`` and ``cursor`` of a list; with ``deprecated_offset`` also
    the deprecated ``offset``, for a list that had it before the cursor (and only for such a list:
    a list that never had it should not show it in its document or generated clients)."""
    limit_query = Query(ge=1, le=max_limit, description="Items per page")

    def paging(limit: Annotated[int, limit_query] = default_limit, cursor: Cursor = None) -> Paging:
        return Paging(limit=limit, offset=decode_cursor(cursor) if cursor is not None else 0)

    def paging_or_offset(
        limit: Annotated[int, limit_query] = default_limit,
        cursor: Cursor = None,
        offset: DeprecatedOffset = 0,
    ) -> Paging:
        return Paging(limit=limit, offset=decode_cursor(cursor) if cursor is not None else offset)

    return paging_or_offset if deprecated_offset else paging


#: ``limit`` (20, at most 200) and ``cursor``: the paging of a list without a former ``offset``.
PagingDep = Annotated[Paging, Depends(paging_params())]


def next_link(request: Request, page: Paging, returned: int, total: int | None = None) -> str | None:
    """The relative URL of the next page, or None on the last one."""
    after = page.offset + returned
    more = after < total if total is not None else returned == page.limit
    if not more or returned == 0 or after > MAX_OFFSET:
        return None
    url = request.url.remove_query_params(["offset", "cursor"])
    url = url.include_query_params(cursor=encode_cursor(after))
    return f"{url.path}?{url.query}"


def link_header(next_url: str | None) -> dict[str, str]:
    """The RFC 8288 ``Link`` header of a page (empty on the last page)."""
    return {"Link": f'<{next_url}>; rel="next"'} if next_url else {}


NEXT_DESCRIPTION = 'The next page (also as `Link: <…>; rel="next"`); null on the last'


class Page(BaseModel, Generic[T]):
    """A page of a list: the fields every page model has."""

    items: list[T]
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
    total: int | None = Field(None, description="Items of the whole list, where counting is cheap")
