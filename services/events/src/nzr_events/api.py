"""HTTP routes of the events service: parse, call one service function, map the result."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from nzr_common.access import PUBLIC, TOKEN_LINK, anonymous_rate_limit
from nzr_common.auth import AdminDep, EditorDep, Principal, PrincipalDep, Role
from nzr_common.contracts.events import AgreementStatus, EventFormat
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.languages import preferred_language
from nzr_common.params import Offset, QueryDate
from nzr_common.problems import ProblemError
from nzr_common.runtime import OutboxDep, SessionDep
from nzr_events import service
from nzr_events.bootstrap import Deps, DepsDep
from nzr_events.public_cache import page_key
from nzr_events.schemas import (
    AgreementCreate,
    AgreementRead,
    CancellationRequest,
    CancellationResult,
    EventCreate,
    EventPage,
    EventRead,
    EventStatus,
    EventUpdate,
    LinksRequest,
    LinksRequestAccepted,
    PersonRegistrationsExport,
    PersonRequest,
    ProgressCreate,
    RecommendationCreate,
    RecommendationRead,
    RegistrationAccepted,
    RegistrationCreate,
    RegistrationRead,
    RegistrationStatus,
    SeriesCreate,
    SeriesException,
    SeriesRead,
    SessionCreate,
    SessionRead,
)

router = APIRouter(prefix="/api/v1", tags=["events"])
AcceptLanguage = Annotated[
    str | None, Header(max_length=1000, description="Language of the mail: de (default) or en")
]
CACHED_PAGES = frozenset({"/api/v1/events", "/api/v1/events.ics"})
CALENDAR = "text/calendar; charset=utf-8"


def _districts(deps: Deps) -> set[str]:
    return set(deps.region.districts)


def _secret(deps: Deps) -> str:
    return deps.settings.jwt_secret.get_secret_value()


def _is_editor(deps: Deps, principal: Principal) -> bool:
    return principal.region == deps.settings.region and principal.has(Role.EDITOR, Role.ADMIN)


# ---------------------------------------------------------------- events


@router.post(
    "/events",
    status_code=201,
    response_model=EventRead,
    operation_id="create_event",
    dependencies=[IDEMPOTENT],
)
async def create_event(
    body: EventCreate, deps: DepsDep, response: Response, session: SessionDep, _: EditorDep
) -> EventRead:
    """Create an event as a draft (times without offset are Europe/Berlin)."""
    event = await service.create_event(session=session, data=body, region_districts=_districts(deps))
    response.headers["Location"] = f"/api/v1/events/{event.id}"
    return event


@router.get(
    "/events",
    response_model=EventPage,
    operation_id="list_events",
    dependencies=[anonymous_rate_limit("search")],
)
async def list_events(
    request: Request,
    deps: DepsDep,
    session: SessionDep,
    principal: PrincipalDep,
    date_from: Annotated[QueryDate | None, Query(alias="from", description="First day (Berlin)")] = None,
    date_to: Annotated[QueryDate | None, Query(alias="to", description="Last day (Berlin)")] = None,
    district: Annotated[str | None, Query(pattern=r"^\d{8}$")] = None,
    topic: str | None = None,
    format: EventFormat | None = None,
    status: Annotated[list[EventStatus] | None, Query(description="Default: published")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Offset = 0,
) -> Response:
    """Events with filters (date range, district, topic, format); anonymous callers see public ones."""
    statuses = status or ["published"]
    if "draft" in statuses and not _is_editor(deps, principal):
        raise ProblemError(403, "Forbidden", "Only the region's editors list drafts.")
    public = "draft" not in statuses
    cache = deps.public_pages
    page = await service.list_events(
        session=session,
        statuses=statuses,
        date_from=date_from,
        date_to=date_to,
        district=district,
        topic=topic,
        format=format,
        limit=limit,
        offset=offset,
    )
    body = page.model_dump_json().encode()
    if public:
        cache.put(page_key(request.url.path, request.url.query), "application/json", body)
    return Response(body, media_type="application/json")


@router.get(
    "/events.ics",
    operation_id="events_calendar",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/calendar": {}}}},
)
async def events_calendar(
    request: Request,
    deps: DepsDep,
    session: SessionDep,
    date_from: Annotated[QueryDate | None, Query(alias="from")] = None,
    date_to: Annotated[QueryDate | None, Query(alias="to")] = None,
    district: Annotated[str | None, Query(pattern=r"^\d{8}$")] = None,
    topic: str | None = None,
    format: EventFormat | None = None,
) -> Response:
    """iCalendar feed (RFC 5545) of public events, filters as for the list."""
    cache = deps.public_pages
    body = await service.calendar_feed(
        session=session,
        region=deps.settings.region,
        date_from=date_from,
        date_to=date_to,
        district=district,
        topic=topic,
        format=format,
    )
    cache.put(page_key(request.url.path, request.url.query), CALENDAR, body)
    return Response(body, media_type=CALENDAR)


@router.get(
    "/events/{event_id}.ics",
    operation_id="event_calendar",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/calendar": {}}}},
)
async def event_calendar(event_id: str, deps: DepsDep, session: SessionDep) -> Response:
    """iCalendar file of one public event."""
    body = await service.calendar_feed(session=session, region=deps.settings.region, event_id=event_id)
    return Response(body, media_type=CALENDAR)


@router.get("/events/{event_id}", response_model=EventRead, operation_id="get_event")
async def get_event(event_id: str, deps: DepsDep, session: SessionDep, principal: PrincipalDep) -> EventRead:
    """One event; drafts only for the region's editors."""
    return await service.get_event(
        session=session, event_id=event_id, include_drafts=_is_editor(deps, principal)
    )


@router.patch("/events/{event_id}", response_model=EventRead, operation_id="update_event")
async def update_event(
    event_id: str, body: EventUpdate, deps: DepsDep, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> EventRead:
    """Change an event; more capacity promotes from the waiting list."""
    return await service.update_event(
        session=session, outbox=outbox, event_id=event_id, data=body, region_districts=_districts(deps)
    )


@router.post("/events/{event_id}/publish", response_model=EventRead, operation_id="publish_event")
async def publish_event(event_id: str, session: SessionDep, outbox: OutboxDep, _: EditorDep) -> EventRead:
    """Publish a draft."""
    return await service.publish_event(session=session, outbox=outbox, event_id=event_id)


@router.post("/events/{event_id}/cancel", response_model=EventRead, operation_id="cancel_event")
async def cancel_event(event_id: str, session: SessionDep, outbox: OutboxDep, _: EditorDep) -> EventRead:
    """Call an event off."""
    return await service.cancel_event(session=session, outbox=outbox, event_id=event_id)


@router.post("/events/{event_id}/complete", response_model=EventRead, operation_id="complete_event")
async def complete_event(event_id: str, session: SessionDep, outbox: OutboxDep, _: EditorDep) -> EventRead:
    """Mark a held event as completed."""
    return await service.complete_event(session=session, outbox=outbox, event_id=event_id)


# ---------------------------------------------------------------- programme


@router.post(
    "/events/{event_id}/sessions",
    status_code=201,
    response_model=SessionRead,
    operation_id="add_session",
    dependencies=[IDEMPOTENT],
)
async def add_session(event_id: str, body: SessionCreate, session: SessionDep, _: EditorDep) -> SessionRead:
    """Add a programme session; sessions at overlapping times are parallel."""
    return await service.add_session(session=session, event_id=event_id, data=body)


@router.get("/events/{event_id}/sessions", response_model=list[SessionRead], operation_id="list_sessions")
async def list_sessions(
    event_id: str, deps: DepsDep, session: SessionDep, principal: PrincipalDep
) -> list[SessionRead]:
    """The programme with seats left per session."""
    return await service.list_sessions(
        session=session, event_id=event_id, include_drafts=_is_editor(deps, principal)
    )


# ---------------------------------------------------------------- registration


@router.post(
    "/events/{event_id}/registrations",
    status_code=202,
    response_model=RegistrationAccepted,
    operation_id="register_for_event",
    dependencies=[PUBLIC, anonymous_rate_limit("sign_up"), IDEMPOTENT],
)
async def register_for_event(
    event_id: str, body: RegistrationCreate, deps: DepsDep, accept_language: AcceptLanguage = None
) -> RegistrationAccepted:
    """Register (anonymous): confirmed while seats are left, else on the waiting list. The
    answer is the same for an address that is registered already; what became of the
    registration, with the personal link to change or cancel it, goes to the address by mail
    (German, or English when ``Accept-Language`` prefers it)."""
    language = preferred_language(accept_language)
    await deps.registrations.register(event_id, service.Applicant(body, language))
    return RegistrationAccepted(event_id=event_id, detail=service.ACCEPTED_DETAIL[language])


@router.post(
    "/registrations/links",
    status_code=202,
    response_model=LinksRequestAccepted,
    operation_id="request_registration_links",
    dependencies=[PUBLIC, anonymous_rate_limit("sign_up")],
)
async def request_registration_links(
    body: LinksRequest,
    deps: DepsDep,
    session: SessionDep,
    outbox: OutboxDep,
    accept_language: AcceptLanguage = None,
) -> LinksRequestAccepted:
    """ "Send me my links again" (anonymous, no password): the links to change or cancel the
    address's registrations of upcoming events go to the address by mail. The answer is the
    same whether or not the address has registrations."""
    language = preferred_language(accept_language)
    await service.request_links(
        session=session,
        outbox=outbox,
        email=str(body.email),
        language=language,
        links=deps.links,
    )
    return LinksRequestAccepted(detail=service.LINKS_DETAIL[language])


@router.get(
    "/events/{event_id}/registrations",
    response_model=list[RegistrationRead],
    operation_id="list_registrations",
)
async def list_registrations(
    event_id: str, session: SessionDep, _: AdminDep, status: RegistrationStatus | None = None
) -> list[RegistrationRead]:
    """Registrations of an event with names and e-mails (region admins: personal data)."""
    return await service.list_registrations(session=session, event_id=event_id, status=status)


@router.delete(
    "/events/{event_id}/registrations/{registration_id}",
    response_model=CancellationResult,
    operation_id="cancel_registration_by_organiser",
)
async def cancel_registration(
    event_id: str, registration_id: str, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> CancellationResult:
    """Cancel a registration on someone's behalf; the waiting list moves up."""
    return await service.cancel_registration(
        session=session, outbox=outbox, registration_id=registration_id, event_id=event_id
    )


@router.post(
    "/events/{event_id}/registrations/{registration_id}/check-in",
    response_model=RegistrationRead,
    operation_id="check_in",
)
async def check_in(
    event_id: str, registration_id: str, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> RegistrationRead:
    """Record that a registrant is present."""
    return await service.check_in(
        session=session, outbox=outbox, event_id=event_id, registration_id=registration_id
    )


@router.get(
    "/events/{event_id}/attendance.csv",
    response_class=Response,
    operation_id="attendance_csv",
    responses={200: {"content": {"text/csv": {}}}},
)
async def attendance_csv(event_id: str, session: SessionDep, _: AdminDep) -> Response:
    """Attendance list as CSV (region admins: it carries names and e-mails)."""
    body = await service.attendance_csv(session=session, event_id=event_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="teilnehmende-{event_id}.csv"'},
    )


@router.post("/registrations/export", response_model=PersonRegistrationsExport, operation_id="export_person")
async def export_person(body: PersonRequest, session: SessionDep, _: AdminDep) -> PersonRegistrationsExport:
    """GDPR Art. 15: every registration of the person with this e-mail address, as JSON."""
    return await service.export_person(session=session, email=str(body.email))


@router.post(
    "/registrations/cancel",
    response_model=CancellationResult,
    operation_id="cancel_registration_by_link",
    dependencies=[TOKEN_LINK],
)
async def cancel_by_link(
    deps: DepsDep,
    session: SessionDep,
    outbox: OutboxDep,
    body: CancellationRequest | None = None,
    token: Annotated[str | None, Query(max_length=1000)] = None,
) -> CancellationResult:
    """Cancel through the signed link from the confirmation (token in the query or the body)."""
    value = token or (body.token if body else None)
    if not value:
        raise ProblemError(422, "Invalid request", "The cancellation token is missing.")
    return await service.cancel_by_link(session=session, outbox=outbox, token=value, secret=_secret(deps))


# ---------------------------------------------------------------- series


@router.post(
    "/series",
    status_code=201,
    response_model=SeriesRead,
    operation_id="create_series",
    dependencies=[IDEMPOTENT],
)
async def create_series(
    body: SeriesCreate, deps: DepsDep, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> SeriesRead:
    """A recurring meeting (RFC 5545 RRULE) with one registrable event per occurrence."""
    return await service.create_series(
        session=session, outbox=outbox, data=body, region_districts=_districts(deps)
    )


@router.get(
    "/series/{series_id}.ics",
    operation_id="series_calendar",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/calendar": {}}}},
)
async def series_calendar(series_id: str, deps: DepsDep, session: SessionDep) -> Response:
    """iCalendar of a series: RRULE, EXDATEs and changed occurrences."""
    body = await service.calendar_feed(session=session, region=deps.settings.region, series_id=series_id)
    return Response(body, media_type=CALENDAR)


@router.get("/series/{series_id}", response_model=SeriesRead, operation_id="get_series")
async def get_series(
    series_id: str, deps: DepsDep, session: SessionDep, principal: PrincipalDep
) -> SeriesRead:
    """A series and its occurrences."""
    return await service.get_series(
        session=session, series_id=series_id, include_drafts=_is_editor(deps, principal)
    )


@router.post("/series/{series_id}/exceptions", response_model=SeriesRead, operation_id="add_series_exception")
async def add_series_exception(
    series_id: str, body: SeriesException, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> SeriesRead:
    """One date of the series does not take place."""
    return await service.add_series_exception(
        session=session, outbox=outbox, series_id=series_id, starts_at=body.starts_at
    )


@router.post("/series/{series_id}/publish", response_model=SeriesRead, operation_id="publish_series")
async def publish_series(series_id: str, session: SessionDep, outbox: OutboxDep, _: EditorDep) -> SeriesRead:
    """Publish every draft occurrence."""
    return await service.publish_series(session=session, outbox=outbox, series_id=series_id)


# ---------------------------------------------------------------- outcomes


@router.post(
    "/events/{event_id}/agreements",
    status_code=201,
    response_model=AgreementRead,
    operation_id="record_agreement",
    dependencies=[IDEMPOTENT],
)
async def record_agreement(
    event_id: str, body: AgreementCreate, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> AgreementRead:
    """Record an agreement (parties, responsible, due date)."""
    return await service.record_agreement(session=session, outbox=outbox, event_id=event_id, data=body)


@router.get(
    "/agreements", response_model=list[AgreementRead], operation_id="list_agreements", dependencies=[PUBLIC]
)
async def list_agreements(
    session: SessionDep,
    event_id: str | None = None,
    status: AgreementStatus | None = None,
    responsible_actor_id: str | None = None,
    due_before: QueryDate | None = None,
) -> list[AgreementRead]:
    """Agreements to follow up, with their progress."""
    return await service.list_agreements(
        session=session,
        event_id=event_id,
        status=status,
        responsible_actor_id=responsible_actor_id,
        due_before=due_before,
    )


@router.get(
    "/agreements/{agreement_id}",
    response_model=AgreementRead,
    operation_id="get_agreement",
    dependencies=[PUBLIC],
)
async def get_agreement(agreement_id: str, session: SessionDep) -> AgreementRead:
    """One agreement with its progress reports."""
    return await service.get_agreement(session=session, agreement_id=agreement_id)


@router.post(
    "/agreements/{agreement_id}/progress",
    status_code=201,
    response_model=AgreementRead,
    operation_id="report_agreement_progress",
    dependencies=[IDEMPOTENT],
)
async def report_progress(
    agreement_id: str, body: ProgressCreate, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> AgreementRead:
    """Report progress (what moved, what blocks) and optionally a new status."""
    return await service.report_progress(session=session, outbox=outbox, agreement_id=agreement_id, data=body)


@router.post(
    "/events/{event_id}/recommendations",
    status_code=201,
    response_model=RecommendationRead,
    operation_id="record_recommendation",
    dependencies=[IDEMPOTENT],
)
async def record_recommendation(
    event_id: str, body: RecommendationCreate, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> RecommendationRead:
    """Record a recommendation (Handlungsempfehlung) of an event."""
    return await service.record_recommendation(session=session, outbox=outbox, event_id=event_id, data=body)


@router.get(
    "/events/{event_id}/recommendations",
    response_model=list[RecommendationRead],
    operation_id="list_recommendations",
    dependencies=[PUBLIC],
)
async def list_recommendations(event_id: str, session: SessionDep) -> list[RecommendationRead]:
    """Recommendations of an event."""
    return await service.list_recommendations(session=session, event_id=event_id)
