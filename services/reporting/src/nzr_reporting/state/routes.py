"""HTTP routes of the state view: the overview of all regions, data freshness, consumer status."""

from fastapi import APIRouter

from nzr_common.access import PUBLIC
from nzr_common.runtime import SessionDep
from nzr_reporting.bootstrap import DepsDep
from nzr_reporting.indicators import service as indicators
from nzr_reporting.scope import AsOfQuery, ScopeDep, as_of_or_today
from nzr_reporting.state import service as state
from nzr_reporting.state.schemas import ConsumerStatus, FreshnessRead, ReportingStatus, StateOverview

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/overview", response_model=StateOverview, operation_id="get_state_overview")
async def get_state_overview(session: SessionDep, scope: ScopeDep, as_of: AsOfQuery = None) -> StateOverview:
    """Every region side by side for each indicator, with ranks and data freshness."""
    return await indicators.state_overview(session=session, scope=scope, as_of=as_of_or_today(as_of))


@router.get("/freshness", response_model=list[FreshnessRead], operation_id="get_freshness")
async def get_freshness(session: SessionDep, scope: ScopeDep) -> list[FreshnessRead]:
    """Each region's time of its last event; stale regions are marked, never shown as zero.
    One entry per region: a small list by nature, answered whole (not paged)."""
    return await state.freshness(session=session, scope=scope)


@router.get(
    "/status", response_model=ReportingStatus, operation_id="get_reporting_status", dependencies=[PUBLIC]
)
async def get_reporting_status(deps: DepsDep, session: SessionDep) -> ReportingStatus:
    """What the projections consumed: handled, duplicate and skipped (unknown type) events."""
    skipped = await state.skipped_event_types(session)
    consumers = [
        ConsumerStatus(
            consumer=s.durable,
            subject=s.subject,
            handled=s.batch.stats.handled,
            duplicates=s.batch.stats.duplicates,
            ignored_unknown_types=sum(n for t, n in skipped.items() if _consumer_of_type(t) == s.durable),
            dead_lettered=s.batch.stats.dead_lettered,
            retried=s.batch.stats.retried,
        )
        for s in deps.subscriptions()
    ]
    return ReportingStatus(
        mode=deps.settings.mode,
        region=deps.settings.region,
        consumers=consumers,
        ignored_unknown_types=sum(skipped.values()),
        skipped_event_types=skipped,
    )


def _consumer_of_type(event_type: str) -> str:
    """``nzr.<producer>.<name>.v<n>`` → the durable consumer of the producer's shareable events."""
    parts = event_type.split(".")
    return f"reporting__pub_{parts[1]}" if len(parts) > 2 else ""
