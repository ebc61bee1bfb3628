"""HTTP routes of deadlines: preview the deadline watch for any day, or run today's now."""

from typing import Annotated

from fastapi import APIRouter, Depends

from nzr_common.auth import Principal, Role, require
from nzr_common.params import QueryDate
from nzr_funding.bootstrap import DepsDep
from nzr_funding.deadlines import service
from nzr_funding.deadlines.schemas import DeadlineWatchReport
from nzr_funding.i18n import LanguageDep

router = APIRouter(prefix="/api/v1/funding", tags=["funding"])

WatchDep = Annotated[Principal, Depends(require(Role.STATE, Role.ADMIN))]


@router.get("/deadline-watch", response_model=DeadlineWatchReport, operation_id="preview_deadline_watch")
async def preview_deadline_watch(
    deps: DepsDep, _: WatchDep, language: LanguageDep, as_of: QueryDate | None = None
) -> DeadlineWatchReport:
    """What the deadline watch would announce on a day (default today); announces nothing."""
    today = deps.today(as_of)
    would = await service.preview_deadlines(
        sessions=deps.sessions,
        catalogue=deps.catalogue,
        today=today,
        thresholds=deps.settings.deadline_thresholds,
        language=language,
    )
    return DeadlineWatchReport(as_of=today, preview=True, announced=would)


@router.post("/deadline-watch", response_model=DeadlineWatchReport, operation_id="run_deadline_watch")
async def run_deadline_watch(
    deps: DepsDep,
    _: WatchDep,
    language: LanguageDep,
    as_of: QueryDate | None = None,
    dry_run: bool = False,
) -> DeadlineWatchReport:
    """Run today's scheduled watch now (it also runs periodically; what it announced once it
    never announces again). With ``as_of`` or ``dry_run=true`` it is a preview: the report says
    what would be announced on that day, and nothing is announced or recorded."""
    if as_of is not None or dry_run:
        return await preview_deadline_watch(deps, _, language, as_of)
    today = deps.today()
    announced = await service.watch_deadlines(
        sessions=deps.sessions,
        catalogue=deps.catalogue,
        outbox=deps.outbox,
        today=today,
        thresholds=deps.settings.deadline_thresholds,
        language=language,
    )
    return DeadlineWatchReport(as_of=today, preview=False, announced=announced)
