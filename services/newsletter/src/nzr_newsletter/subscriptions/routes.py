"""HTTP routes of subscribing (anonymous), confirming, unsubscribing and importing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from nzr_common.access import PUBLIC, TOKEN_LINK, anonymous_rate_limit
from nzr_common.auth import AdminDep
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.languages import preferred_language
from nzr_common.runtime import SessionDep
from nzr_newsletter.bootstrap import API, DepsDep
from nzr_newsletter.subscriptions import service
from nzr_newsletter.subscriptions.schemas import (
    ImportReport,
    ImportRequest,
    LinksRequest,
    SubscribeAccepted,
    SubscribeRequest,
    TokenStatus,
)
from nzr_newsletter.tokens import InvalidLink
from nzr_newsletter.transactional import service as transactional
from nzr_newsletter.web import (
    PAGE_RESPONSES,
    REFUSED_RESPONSES,
    AcceptLanguage,
    TokenQuery,
    is_one_click,
    page,
    refused_page,
    same_page,
    wants_page,
)

router = APIRouter(prefix=API, tags=["newsletter"])


@router.post(
    "/subscriptions",
    status_code=202,
    response_model=SubscribeAccepted,
    operation_id="request_subscription",
    dependencies=[PUBLIC, anonymous_rate_limit("subscription"), IDEMPOTENT],
)
async def request_subscription(
    body: SubscribeRequest, session: SessionDep, deps: DepsDep, accept_language: AcceptLanguage = None
) -> SubscribeAccepted:
    """Sign up from a form: sends a confirmation link (double opt-in). The answer is the same
    whether the address is new, pending or already subscribed; an address subscribed already
    gets its link to change or unsubscribe by mail instead (German, or English when
    ``Accept-Language`` prefers it)."""
    language = preferred_language(accept_language)
    await service.request_subscription(session=session, deps=deps, data=body, language=language)
    return SubscribeAccepted()


@router.post(
    "/links",
    status_code=202,
    response_model=SubscribeAccepted,
    operation_id="request_subscription_links",
    dependencies=[PUBLIC, anonymous_rate_limit("sign_up"), IDEMPOTENT],
)
async def request_subscription_links(
    body: LinksRequest, session: SessionDep, deps: DepsDep, accept_language: AcceptLanguage = None
) -> SubscribeAccepted:
    """ "Send me my links again" (no password): a known address gets its link to change or
    unsubscribe by mail. The answer is the same whether or not the address is known."""
    language = preferred_language(accept_language)
    await transactional.request_links(session=session, deps=deps, email=body.email, language=language)
    return SubscribeAccepted()


@router.get(
    "/confirm",
    response_class=HTMLResponse,
    operation_id="show_confirmation",
    dependencies=[TOKEN_LINK],
    responses=REFUSED_RESPONSES,
)
async def show_confirmation(
    token: TokenQuery, request: Request, session: SessionDep, deps: DepsDep
) -> HTMLResponse:
    """The page behind the link in the confirmation mail: it says which lists and has a button;
    only the button's POST confirms (link scanners fetch GETs, so a GET subscribes nobody)."""
    try:
        names = await service.confirmation_preview(session=session, deps=deps, token=token)
    except InvalidLink as error:
        return refused_page(request, error)
    return page(request, "confirm", title="confirm", done=False, list_names=names, action=same_page(request))


@router.post(
    "/confirm",
    response_model=TokenStatus,
    operation_id="confirm_subscription",
    dependencies=[TOKEN_LINK],
    responses={**PAGE_RESPONSES, **REFUSED_RESPONSES},
)
async def confirm_subscription(
    token: TokenQuery, request: Request, session: SessionDep, deps: DepsDep
) -> TokenStatus | HTMLResponse:
    """Confirm a subscription with the token from the confirmation mail (the page's button
    posts here and gets the result page; API clients get JSON)."""
    browser = wants_page(request)
    try:
        result = await service.confirm(session=session, deps=deps, token=token)
    except InvalidLink as error:
        if browser:
            return refused_page(request, error)
        raise
    if browser:
        return page(request, "confirm", title="confirmed", done=True, list_names=result.lists, action="")
    return result


@router.get(
    "/unsubscribe",
    response_class=HTMLResponse,
    operation_id="show_unsubscribe",
    dependencies=[TOKEN_LINK],
    responses=REFUSED_RESPONSES,
)
async def show_unsubscribe(
    token: TokenQuery, request: Request, session: SessionDep, deps: DepsDep
) -> HTMLResponse:
    """The page behind the unsubscribe link in every mail: it names the list and has a button."""
    try:
        name = await service.unsubscribe_preview(session=session, deps=deps, token=token)
    except InvalidLink as error:
        return refused_page(request, error)
    return page(
        request, "unsubscribe", title="unsubscribe", done=False, list_name=name, action=same_page(request)
    )


@router.post(
    "/unsubscribe",
    response_model=TokenStatus,
    operation_id="unsubscribe",
    dependencies=[TOKEN_LINK],
    responses={**PAGE_RESPONSES, **REFUSED_RESPONSES},
)
async def unsubscribe(
    token: TokenQuery, request: Request, session: SessionDep, deps: DepsDep
) -> TokenStatus | HTMLResponse:
    """Unsubscribe from the list the mail came from: the page's button, or one click in the
    mail client (RFC 8058: it POSTs ``List-Unsubscribe=One-Click`` here and gets JSON)."""
    browser = wants_page(request) and not await is_one_click(request)
    try:
        result = await service.unsubscribe(session=session, deps=deps, token=token)
    except InvalidLink as error:
        if browser:
            return refused_page(request, error)
        raise
    if browser:
        return page(
            request,
            "unsubscribe",
            title="unsubscribed",
            done=True,
            list_name=result.lists[0] if result.lists else None,
            action="",
        )
    return result


@router.post(
    "/subscribers/import",
    response_model=ImportReport,
    operation_id="import_subscribers",
    dependencies=[IDEMPOTENT],
)
async def import_subscribers(
    body: ImportRequest, session: SessionDep, deps: DepsDep, _: AdminDep
) -> ImportReport:
    """Invite a list of addresses; each gets a confirmation mail, bad rows are reported."""
    return await service.import_subscribers(session=session, deps=deps, data=body)
