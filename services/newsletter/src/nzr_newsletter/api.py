"""HTTP routes of the newsletter service: parse, call one service function, map the result."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from nzr_common.access import DEVELOPMENT_ONLY, PUBLIC, TOKEN_LINK, anonymous_rate_limit, webhook
from nzr_common.auth import AdminDep, EditorDep, PrincipalDep, Role
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.languages import preferred_language
from nzr_common.params import Offset
from nzr_common.problems import ProblemError
from nzr_common.runtime import SessionDep
from nzr_newsletter import delivery, digests, dsn, service
from nzr_newsletter.bootstrap import API, Deps, DepsDep
from nzr_newsletter.schemas import (
    BounceReportIn,
    BounceResult,
    CampaignCreate,
    CampaignPage,
    CampaignRead,
    CampaignUpdate,
    DigestRunResult,
    ImportReport,
    ImportRequest,
    LinksRequest,
    ListCreate,
    ListRead,
    ListUpdate,
    PersonExport,
    PersonRequest,
    Preferences,
    PreferencesUpdate,
    PreviewRead,
    SendRequest,
    SinkMessage,
    SubscribeAccepted,
    SubscribeRequest,
    SubscriberExport,
    SubscriberPage,
    TestSendRequest,
    TestSendResult,
    TokenStatus,
)
from nzr_newsletter.sink import MailSink

AcceptLanguage = Annotated[
    str | None, Header(max_length=1000, description="Language of the mail: de (default) or en")
]
TokenQuery = Annotated[str, Query(min_length=10, max_length=2000, description="Token from the mail's link")]

router = APIRouter(prefix=API, tags=["newsletter"])
BOUNCE_CALLERS = webhook(
    "admin",
    secret_header="X-Webhook-Secret",
    secret_setting="bounce_webhook_secret",
    description="the region's admins or the mail provider",
)


# ---------------------------------------------------------------- lists


@router.post(
    "/lists", status_code=201, response_model=ListRead, operation_id="create_list", dependencies=[IDEMPOTENT]
)
async def create_list(body: ListCreate, session: SessionDep, _: EditorDep) -> ListRead:
    """Create a mailing list (per region and topic; public or internal)."""
    return await service.create_list(session=session, data=body)


@router.get("/lists", response_model=list[ListRead], operation_id="list_lists")
async def list_lists(session: SessionDep, principal: PrincipalDep, deps: DepsDep) -> list[ListRead]:
    """Public lists for everybody; editors of the region also see internal lists and counts."""
    editor = principal.region == deps.settings.region and principal.has(Role.EDITOR, Role.ADMIN)
    return await service.list_lists(session=session, include_internal=editor)


@router.patch("/lists/{list_id}", response_model=ListRead, operation_id="update_list")
async def update_list(list_id: str, body: ListUpdate, session: SessionDep, _: EditorDep) -> ListRead:
    """Change a list."""
    return await service.update_list(session=session, list_id=list_id, data=body)


# ---------------------------------------------------------------- subscribing (anonymous)


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
    dependencies=[PUBLIC, anonymous_rate_limit("sign_up")],
)
async def request_subscription_links(
    body: LinksRequest, session: SessionDep, deps: DepsDep, accept_language: AcceptLanguage = None
) -> SubscribeAccepted:
    """ "Send me my links again" (no password): a known address gets its link to change or
    unsubscribe by mail. The answer is the same whether or not the address is known."""
    language = preferred_language(accept_language)
    await service.request_links(session=session, deps=deps, email=body.email, language=language)
    return SubscribeAccepted()


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f'</title></head><body style="font-family:sans-serif;max-width:40em;margin:2em auto">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _button_page(title: str, text: str, action: str, label: str) -> HTMLResponse:
    return _page(
        title,
        f'<p>{html.escape(text)}</p><form method="post" action="{html.escape(action)}">'
        f'<button type="submit">{html.escape(label)}</button></form>',
    )


def _wants_page(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    )


@router.get(
    "/confirm", response_class=HTMLResponse, operation_id="show_confirmation", dependencies=[TOKEN_LINK]
)
async def show_confirmation(token: TokenQuery, request: Request) -> HTMLResponse:
    """The page behind the link in the confirmation mail; only its button confirms (so that
    link scanners do not subscribe anybody)."""
    return _button_page(
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
        _page("Anmeldung bestätigt", f"<p>{html.escape(result.detail)}</p>")
        if _wants_page(request)
        else result
    )


@router.get(
    "/unsubscribe", response_class=HTMLResponse, operation_id="show_unsubscribe", dependencies=[TOKEN_LINK]
)
async def show_unsubscribe(token: TokenQuery, request: Request) -> HTMLResponse:
    """The page behind the unsubscribe link in every mail."""
    return _button_page(
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
    if _wants_page(request) and b"List-Unsubscribe=One-Click" not in await request.body():
        return _page("Abbestellt", f"<p>{html.escape(result.detail)}</p>")
    return result


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


# ---------------------------------------------------------------- subscribers (admin)


@router.post("/subscribers/export", response_model=PersonExport, operation_id="export_person")
async def export_person(body: PersonRequest, session: SessionDep, _: AdminDep) -> PersonExport:
    """GDPR Art. 15: everything stored about the person with this e-mail address, as JSON."""
    return await service.export_person(session=session, email=body.email)


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


# ---------------------------------------------------------------- campaigns (editor)


@router.post(
    "/campaigns",
    status_code=201,
    response_model=CampaignRead,
    operation_id="create_campaign",
    dependencies=[IDEMPOTENT],
)
async def create_campaign(
    body: CampaignCreate, session: SessionDep, deps: DepsDep, _: EditorDep
) -> CampaignRead:
    """Save a campaign; templates that do not render are refused here with the error."""
    return await service.create_campaign(session=session, deps=deps, data=body)


@router.get("/campaigns", response_model=CampaignPage, operation_id="list_campaigns")
async def list_campaigns(session: SessionDep, _: EditorDep, status: str | None = None) -> CampaignPage:
    """Campaigns, newest first."""
    return CampaignPage(items=await service.list_campaigns(session=session, status=status))


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead, operation_id="get_campaign")
async def get_campaign(campaign_id: str, session: SessionDep, _: EditorDep) -> CampaignRead:
    """One campaign with its statistics (queued, sent, failed, bounced, unsubscribed after)."""
    return await service.get_campaign(session=session, campaign_id=campaign_id)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignRead, operation_id="update_campaign")
async def update_campaign(
    campaign_id: str, body: CampaignUpdate, session: SessionDep, deps: DepsDep, _: EditorDep
) -> CampaignRead:
    """Edit a campaign that has not started sending."""
    return await service.update_campaign(session=session, deps=deps, campaign_id=campaign_id, data=body)


@router.post("/campaigns/{campaign_id}/preview", response_model=PreviewRead, operation_id="preview_campaign")
async def preview_campaign(
    campaign_id: str, session: SessionDep, deps: DepsDep, _: EditorDep, name: str = "Erika Mustermann"
) -> PreviewRead:
    """The rendered mail for a sample recipient, and the current audience size."""
    return await service.preview_campaign(session=session, deps=deps, campaign_id=campaign_id, name=name)


@router.post(
    "/campaigns/{campaign_id}/test", response_model=TestSendResult, operation_id="test_send_campaign"
)
async def test_send_campaign(
    campaign_id: str, body: TestSendRequest, session: SessionDep, deps: DepsDep, _: EditorDep
) -> TestSendResult:
    """Send the campaign now to a few test addresses (not counted in the statistics)."""
    return await delivery.send_test(
        session=session, deps=deps, campaign_id=campaign_id, emails=body.emails, name=body.name
    )


@router.post("/campaigns/{campaign_id}/send", response_model=CampaignRead, operation_id="send_campaign")
async def send_campaign(
    campaign_id: str, session: SessionDep, deps: DepsDep, _: EditorDep, body: SendRequest | None = None
) -> CampaignRead:
    """Send now, or schedule with ``scheduled_at``."""
    return await service.schedule_campaign(
        session=session, deps=deps, campaign_id=campaign_id, scheduled_at=body.scheduled_at if body else None
    )


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignRead, operation_id="pause_campaign")
async def pause_campaign(campaign_id: str, session: SessionDep, deps: DepsDep, _: EditorDep) -> CampaignRead:
    """Pause a scheduled or sending campaign."""
    return await service.pause_campaign(session=session, deps=deps, campaign_id=campaign_id)


@router.post("/campaigns/{campaign_id}/resume", response_model=CampaignRead, operation_id="resume_campaign")
async def resume_campaign(campaign_id: str, session: SessionDep, deps: DepsDep, _: EditorDep) -> CampaignRead:
    """Resume a paused campaign where it stopped."""
    return await service.resume_campaign(session=session, deps=deps, campaign_id=campaign_id)


# ---------------------------------------------------------------- bounces


@router.post(
    "/bounces", response_model=BounceResult, operation_id="report_bounces", dependencies=[BOUNCE_CALLERS]
)
async def report_bounces(
    body: list[BounceReportIn],
    session: SessionDep,
    deps: DepsDep,
) -> BounceResult:
    """Webhook for a mail provider's bounce reports (hard → blocked; soft past the threshold).
    The caller is checked by ``BOUNCE_CALLERS``: an admin token, or the ``X-Webhook-Secret``."""
    return await service.record_bounce_reports(
        session=session,
        deps=deps,
        source="webhook",
        reports=[(b.email, b.kind, b.status, b.reason, b.message_id) for b in body],
    )


@router.post(
    "/bounces/dsn",
    response_model=BounceResult,
    operation_id="report_delivery_status",
    dependencies=[BOUNCE_CALLERS],
    openapi_extra={"requestBody": {"content": {"message/rfc822": {"schema": {"type": "string"}}}}},
)
async def report_delivery_status(
    request: Request,
    session: SessionDep,
    deps: DepsDep,
) -> BounceResult:
    """An RFC 3464 delivery status notification as received (the raw message)."""
    try:
        reports = dsn.parse_delivery_status(await request.body())
    except dsn.NotADeliveryReport as error:
        raise ProblemError(422, "Not a delivery status notification", str(error)) from error
    return await service.record_bounce_reports(
        session=session,
        deps=deps,
        source="dsn",
        reports=[(r.recipient, r.kind, r.status, r.reason, r.original_message_id) for r in reports],
    )


# ---------------------------------------------------------------- digests


@router.post("/digests/run", response_model=DigestRunResult, operation_id="run_digests")
async def run_digests(session: SessionDep, deps: DepsDep, _: AdminDep) -> DigestRunResult:
    """Build and send the digests now instead of waiting for the schedule."""
    return DigestRunResult(campaign_ids=await digests.run_digests(session=session, deps=deps, force=True))


# ---------------------------------------------------------------- development mail sink


def _sink(deps: Deps) -> MailSink:
    if deps.sink is None or deps.settings.environment != "development":
        raise ProblemError(404, "Not Found", "The mail sink runs only in development without SMTP_HOST.")
    return deps.sink


@router.get(
    "/dev/mail",
    response_class=HTMLResponse,
    operation_id="show_sink_messages",
    dependencies=[DEVELOPMENT_ONLY],
)
async def show_sink_messages(deps: DepsDep) -> HTMLResponse:
    """The mails the development sink received, newest first, with their links."""
    rows = []
    for message in _sink(deps).messages():
        links = "".join(
            f'<li><a href="{html.escape(link)}">{html.escape(link)}</a></li>' for link in message.links
        )
        rows.append(
            f"<h3>{html.escape(message.subject)}</h3><p>an {html.escape(message.to)}, "
            f"{message.received_at:%d.%m.%Y %H:%M:%S} UTC · "
            f'<a href="mail/{message.name}">.eml</a></p><ul>{links}</ul>'
        )
    return _page("Postausgang (Entwicklung)", "".join(rows) or "<p>Noch keine Mails.</p>")


@router.get(
    "/dev/mail.json",
    response_model=list[SinkMessage],
    operation_id="list_sink_messages",
    dependencies=[DEVELOPMENT_ONLY],
)
async def list_sink_messages(deps: DepsDep) -> list[SinkMessage]:
    """The development sink's mails as JSON."""
    return _sink(deps).messages()


@router.get(
    "/dev/mail/{name}",
    response_class=PlainTextResponse,
    operation_id="get_sink_message",
    dependencies=[DEVELOPMENT_ONLY],
)
async def get_sink_message(name: str, deps: DepsDep) -> PlainTextResponse:
    """One raw message of the development sink."""
    path = _sink(deps).path_of(name)
    if path is None:
        raise ProblemError(404, "Not Found", f"No message {name}.")
    return PlainTextResponse(path.read_text(errors="replace"), media_type="message/rfc822")
