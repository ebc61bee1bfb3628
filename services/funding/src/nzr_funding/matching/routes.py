"""HTTP routes of matching."""

from fastapi import APIRouter, Response

from nzr_common.auth import PrincipalDep, Role
from nzr_common.runtime import SessionDep
from nzr_funding.bootstrap import DepsDep
from nzr_funding.i18n import LanguageDep
from nzr_funding.matching import service
from nzr_funding.matching.schemas import MatchRequest, MatchResult

router = APIRouter(prefix="/api/v1/funding", tags=["funding"])


@router.post("/matches", response_model=MatchResult, operation_id="match_programmes")
async def match_programmes(
    body: MatchRequest, session: SessionDep, deps: DepsDep, principal: PrincipalDep, language: LanguageDep
) -> Response:
    """Rank programmes for an actor of the region or an ad-hoc profile, explained per criterion
    (met / not met / unknown with the reason, in German or by ``Accept-Language`` in English;
    actors without a public profile only for the region's editors and admins)."""
    result = await service.match_programmes(
        session=session,
        catalogue=deps.catalogue,
        outbox=deps.outbox,
        request=body,
        today=deps.today(body.as_of),
        sees_private_actors=principal.region == deps.settings.region
        and principal.has(Role.EDITOR, Role.ADMIN),
        language=language,
    )
    # Serialised once (FastAPI would validate the model again); the response model documents it.
    return Response(result.model_dump_json(), media_type="application/json")
