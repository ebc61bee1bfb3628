"""HTTP routes of deadlines: run the deadline watch now."""

from typing import Annotated

from fastapi import APIRouter, Depends

from nzr_common.auth import Principal, Role, require
from nzr_common.params import QueryDate
from nzr_funding.bootstrap import DepsDep
from nzr_funding.deadlines import service
from nzr_funding.deadlines.schemas import DeadlineWatchReport

router = APIRouter(prefix="/api/v1/funding", tags=["funding"])

WatchDep = Annotated[Principal, Depends(require(Role.STATE, Role.ADMIN))]


@router.post("/deadline-watch", response_model=DeadlineWatchReport, operation_id="run_deadline_watch")
async def run_deadline_watch(
    deps: DepsDep, _: WatchDep, as_of: QueryDate | None = None
) -> DeadlineWatchReport:
    """Announce approaching deadlines now (the watch also runs periodically)."""
    today = deps.today(as_of)
    announced = await service.watch_deadlines(
        sessions=deps.sessions,
        catalogue=deps.catalogue,
        outbox=deps.outbox,
        today=today,
        thresholds=deps.settings.deadline_thresholds,
    )
    return DeadlineWatchReport(as_of=today, announced=announced)
