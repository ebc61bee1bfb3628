"""What a reporting request covers: the regions the caller may see (access policy) and the
reference day, as dependencies of the routes of every sub-domain."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query

from nzr_common.access import AccessKind, AccessPolicy, with_policy
from nzr_common.auth import PrincipalDep, Role
from nzr_common.params import QueryDate, QueryMonth
from nzr_common.problems import InvalidParam, ProblemError
from nzr_common.runtime import SessionDep
from nzr_reporting.bootstrap import DepsDep
from nzr_reporting.indicators.scope import Scope
from nzr_reporting.state import service as state

RegionsQuery = Annotated[
    list[str] | None,
    Query(alias="region", description="State mode: the regions to compare (default: every known region)"),
]


AsOfQuery = Annotated[QueryDate | None, Query(description="Stichtag (default: today)")]


BreakdownQuery = Annotated[
    str | None, Query(alias="by", description="district, kind, sector, topic, format or status")
]


FromQuery = Annotated[QueryMonth | None, Query(alias="from", description="First month, YYYY-MM")]


ToQuery = Annotated[QueryMonth | None, Query(alias="to", description="Last month, YYYY-MM")]


INDICATORS_ACCESS = AccessPolicy(
    AccessKind.PUBLIC,
    description="anyone: the region's public indicators",
    state_mode=AccessPolicy(AccessKind.ROLES, ("state",), "the state overview of all regions: role state"),
)


@with_policy(INDICATORS_ACCESS)
async def scope_of(
    deps: DepsDep, session: SessionDep, principal: PrincipalDep, region: RegionsQuery = None
) -> Scope:
    """Which regions the caller may see: the own one, or (state mode, role state) several."""
    settings = deps.settings
    if settings.mode == "state" and principal.anonymous:
        raise ProblemError(
            401,
            "Unauthorized",
            "The state overview needs a bearer token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if settings.mode == "state" and not principal.has(Role.STATE):
        raise ProblemError(403, "Forbidden", "The state overview of all regions needs the role state.")
    regions = await state.regions_in_view(
        session,
        mode=settings.mode,
        own_region=settings.region,
        known=settings.known_regions,
        requested=region,
    )
    return Scope(
        regions=regions,
        districts=deps.districts,
        own_region_districts=deps.region.districts if settings.mode == "region" else None,
        stale_after=timedelta(minutes=settings.stale_after_minutes),
        cache=deps.report_cache,
    )


ScopeDep = Annotated[Scope, Depends(scope_of)]


def as_of_or_today(value: date | None) -> date:
    today = datetime.now(UTC).date()
    if value is None:
        return today
    if value > today:
        raise ProblemError(
            422,
            "Impossible date",
            "The reference date (as_of) lies in the future.",
            invalid_params=[InvalidParam(name="as_of", reason="in the future")],
        )
    return value
