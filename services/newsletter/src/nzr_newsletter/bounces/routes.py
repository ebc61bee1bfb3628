"""HTTP routes of bounce reports (the region's admins or the mail provider)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from nzr_common.access import webhook
from nzr_common.problems import ProblemError
from nzr_common.runtime import SessionDep
from nzr_newsletter.bootstrap import API, DepsDep
from nzr_newsletter.bounces import dsn, service
from nzr_newsletter.bounces.schemas import BounceReportIn, BounceResult

router = APIRouter(prefix=API, tags=["newsletter"])


BOUNCE_CALLERS = webhook(
    "admin",
    secret_header="X-Webhook-Secret",
    secret_setting="bounce_webhook_secret",
    description="the region's admins or the mail provider",
)


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
