"""HTTP routes of subscribers: self-service by token and the admin's view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from nzr_common.access import TOKEN_LINK
from nzr_common.auth import AdminDep
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.runtime import SessionDep
from nzr_newsletter import privacy
from nzr_newsletter.bootstrap import API, DepsDep
from nzr_newsletter.sorting import SORT_DESCRIPTION
from nzr_newsletter.subscribers import service
from nzr_newsletter.subscribers.schemas import (
    PersonExport,
    PersonRequest,
    Preferences,
    PreferencesForm,
    PreferencesUpdate,
    SubscriberExport,
    SubscriberPage,
    SubscriberSort,
    SubscriptionStatus,
)
from nzr_newsletter.tokens import InvalidLink
from nzr_newsletter.web import (
    PAGE_RESPONSES,
    REFUSED_RESPONSES,
    TokenQuery,
    form_fields,
    page,
    refused_page,
    same_page,
    wants_page,
)

router = APIRouter(prefix=API, tags=["newsletter"])


@router.get(
    "/preferences",
    response_model=Preferences,
    operation_id="get_preferences",
    dependencies=[TOKEN_LINK],
    responses={**PAGE_RESPONSES, **REFUSED_RESPONSES},
)
async def get_preferences(
    token: TokenQuery, request: Request, session: SessionDep, deps: DepsDep
) -> Preferences | HTMLResponse:
    """Lists, topics, district and language of the holder of a preferences link; a browser
    (``Accept: text/html``) gets the page with the form instead, which changes nothing until saved."""
    if not wants_page(request):
        return await service.get_preferences(session=session, deps=deps, token=token)
    try:
        form = await service.preferences_form(session=session, deps=deps, token=token)
    except InvalidLink as error:
        return refused_page(request, error)
    return preferences_page(request, form, saved=False)


@router.post(
    "/preferences",
    response_class=HTMLResponse,
    operation_id="save_preferences_form",
    dependencies=[TOKEN_LINK],
    responses=REFUSED_RESPONSES,
    openapi_extra={
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}
    },
)
async def save_preferences_form(
    token: TokenQuery, request: Request, session: SessionDep, deps: DepsDep
) -> HTMLResponse:
    """The preferences page's form: the lists ticked (``list_ids``), topics and ``language``."""
    fields = await form_fields(request)
    language = (fields.get("language") or [""])[0]
    try:
        update = PreferencesUpdate(
            list_ids=fields.get("list_ids", []),
            topics=fields.get("topics", []),
            language=language if language in ("de", "en") else None,
        )
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from error
    try:
        await service.update_preferences(session=session, deps=deps, token=token, data=update)
        form = await service.preferences_form(session=session, deps=deps, token=token)
    except InvalidLink as error:
        return refused_page(request, error)
    return preferences_page(request, form, saved=True)


def preferences_page(request: Request, form: PreferencesForm, *, saved: bool) -> HTMLResponse:
    return page(
        request,
        "preferences",
        title="preferences",
        saved=saved,
        email=form.email,
        language=form.language,
        lists=form.lists,
        topics=form.topics,
        action=same_page(request),
    )


@router.put(
    "/preferences", response_model=Preferences, operation_id="update_preferences", dependencies=[TOKEN_LINK]
)
async def update_preferences(
    token: TokenQuery, body: PreferencesUpdate, session: SessionDep, deps: DepsDep
) -> Preferences:
    """Change name, district, topics, language and the lists one is on."""
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
    request: Request,
    response: Response,
    paging: Annotated[Paging, Depends(paging_params(50, 500, deprecated_offset=True))],
    list_id: Annotated[str | None, Query(max_length=36)] = None,
    status: Annotated[
        SubscriptionStatus | None, Query(description="Of a subscription (to `list_id`)")
    ] = None,
    sort: Annotated[SubscriberSort, Query(description=SORT_DESCRIPTION)] = "email",
) -> SubscriberPage:
    """Subscribers with their subscriptions and consent proof (admin: personal data), in `sort`
    order (default `email`; ties by id), paged by `limit` and `cursor` (the `next` link, also in
    the `Link` header)."""
    page = await service.list_subscribers(
        session=session,
        list_id=list_id,
        status=status,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page
