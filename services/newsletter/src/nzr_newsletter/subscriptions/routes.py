"""HTTP routes of subscribing (anonymous), confirming, unsubscribing and importing."""

from __future__ import annotations

import html

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
from nzr_newsletter.transactional import service as transactional
from nzr_newsletter.web import AcceptLanguage, TokenQuery, button_page, html_page, wants_page

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
    "/confirm", response_class=HTMLResponse, operation_id="show_confirmation", dependencies=[TOKEN_LINK]
)
async def show_confirmation(token: TokenQuery, request: Request) -> HTMLResponse:
    """The page behind the link in the confirmation mail; only its button confirms (so that
    link scanners do not subscribe anybody)."""
    return button_page(
        "Anmeldung bestätigen",
        "Bitte bestätigen Sie Ihre Anmeldung zum Newsletter.",
        str(request.url),
        "Ja, ich möchte den Newsletter erhalten",
    )


@router.post(
    "/confirm",
    response_model=TokenStatus,
    operation_id="confirm_subscription",
    dependencies=[TOKEN_LINK],
    responses={400: {"description": "Forged, expired or used-up token"}},
)
async def confirm_subscription(
    token: TokenQuery, request: Request, session: SessionDep, deps: DepsDep
) -> TokenStatus | HTMLResponse:
    """Confirm a subscription with the token from the confirmation mail."""
    result = await service.confirm(session=session, deps=deps, token=token)
    return (
        html_page("Anmeldung bestätigt", f"<p>{html.escape(result.detail)}</p>")
        if wants_page(request)
        else result
    )


@router.get(
    "/unsubscribe", response_class=HTMLResponse, operation_id="show_unsubscribe", dependencies=[TOKEN_LINK]
)
async def show_unsubscribe(token: TokenQuery, request: Request) -> HTMLResponse:
    """The page behind the unsubscribe link in every mail."""
    return button_page(
        "Newsletter abbestellen",
        "Möchten Sie diesen Newsletter abbestellen?",
        str(request.url),
        "Abbestellen",
    )


@router.post(
    "/unsubscribe", response_model=TokenStatus, operation_id="unsubscribe", dependencies=[TOKEN_LINK]
)
async def unsubscribe(
    token: TokenQuery, request: Request, session: SessionDep, deps: DepsDep
) -> TokenStatus | HTMLResponse:
    """One-click unsubscribe (RFC 8058: mail clients POST ``List-Unsubscribe=One-Click`` here)."""
    result = await service.unsubscribe(session=session, deps=deps, token=token)
    if wants_page(request) and b"List-Unsubscribe=One-Click" not in await request.body():
        return html_page("Abbestellt", f"<p>{html.escape(result.detail)}</p>")
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
