"""HTTP routes of digests."""

from __future__ import annotations

from fastapi import APIRouter

from nzr_common.auth import AdminDep
from nzr_common.runtime import SessionDep
from nzr_newsletter.bootstrap import API, DepsDep
from nzr_newsletter.digests import service
from nzr_newsletter.digests.schemas import DigestRunResult

router = APIRouter(prefix=API, tags=["newsletter"])


@router.post("/digests/run", response_model=DigestRunResult, operation_id="run_digests")
async def run_digests(session: SessionDep, deps: DepsDep, _: AdminDep) -> DigestRunResult:
    """Build and send the digests now instead of waiting for the schedule."""
    return DigestRunResult(campaign_ids=await service.run_digests(session=session, deps=deps, force=True))
