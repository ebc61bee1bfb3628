"""HTTP routes of subscribers: self-service by token and the admin's view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from nzr_common.access import TOKEN_LINK
from nzr_common.auth import AdminDep
from nzr_common.params import Offset
from nzr_common.runtime import SessionDep
from nzr_newsletter import privacy
from nzr_newsletter.bootstrap import API, DepsDep
from nzr_newsletter.subscribers import service
from nzr_newsletter.subscribers.schemas import (
    PersonExport,
    PersonRequest,
    Preferences,
    PreferencesUpdate,
    SubscriberExport,
    SubscriberPage,
)
from nzr_newsletter.web import TokenQuery

router = APIRouter(prefix=API, tags=["newsletter"])


@router.get(
    "/preferences", response_model=Preferences, operation_id="get_preferences", dependencies=[TOKEN_LINK]
)
async def get_preferences(token: TokenQuery, session: SessionDep, deps: DepsDep) -> Preferences:
    """Lists, topics and district of the holder of a preferences link."""
    return await service.get_preferences(session=session, deps=deps, token=token)


@router.put(
    "/preferences", response_model=Preferences, operation_id="update_preferences", dependencies=[TOKEN_LINK]
)
async def update_preferences(
    token: TokenQuery, body: PreferencesUpdate, session: SessionDep, deps: DepsDep
) -> Preferences:
    """Change name, district, topics and the lists one is on."""
    return await service.update_preferences(session=session, deps=deps, token=token, data=body)


@router.get(
    "/me/export", response_model=SubscriberExport, operation_id="export_own_data", dependencies=[TOKEN_LINK]
)
async def export_own_data(token: TokenQuery, session: SessionDep, deps: DepsDep) -> SubscriberExport:
    """Everything stored about oneself (GDPR Art. 15), via a preferences link."""
    return await service.export_subscriber(session=session, deps=deps, token=token)


@router.delete("/me", status_code=204, operation_id="delete_own_data", dependencies=[TOKEN_LINK])
async def delete_own_data(token: TokenQuery, session: SessionDep, deps: DepsDep) -> Response:
    """Delete oneself everywhere (GDPR Art. 17), via a preferences link."""
    await service.delete_own_data(session=session, deps=deps, token=token)
    return Response(status_code=204)


@router.post("/subscribers/export", response_model=PersonExport, operation_id="export_person")
async def export_person(body: PersonRequest, session: SessionDep, _: AdminDep) -> PersonExport:
    """GDPR Art. 15: everything stored about the person with this e-mail address, as JSON."""
    return await privacy.export_person(session=session, email=body.email)


@router.get("/subscribers", response_model=SubscriberPage, operation_id="list_subscribers")
async def list_subscribers(
    session: SessionDep,
    _: AdminDep,
    list_id: str | None = None,
    status: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: Annotated[Offset, Query()] = 0,
) -> SubscriberPage:
    """Subscribers with their subscriptions and consent proof (admin: personal data)."""
    return await service.list_subscribers(
        session=session, list_id=list_id, status=status, limit=limit, offset=offset
    )
