"""Routes of registrations."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from nzr_common.access import PUBLIC, TOKEN_LINK, anonymous_rate_limit
from nzr_common.auth import AdminDep, EditorDep
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.languages import preferred_language
from nzr_common.pagination import Paging, link_header, next_link, paging_params
from nzr_common.problems import ProblemError
from nzr_common.runtime import OutboxDep, SessionDep
from nzr_events import privacy
from nzr_events.bootstrap import DepsDep
from nzr_events.registrations import attendance, cancellation, service
from nzr_events.registrations.rules import ExpiredLink
from nzr_events.registrations.schemas import (
    CancellationRequest,
    CancellationResult,
    LinksRequest,
    LinksRequestAccepted,
    PersonRegistrationsExport,
    PersonRequest,
    RegistrationAccepted,
    RegistrationCreate,
    RegistrationPage,
    RegistrationRead,
    RegistrationSort,
    RegistrationStatus,
    TargetGroupCounts,
)
from nzr_events.sorting import SORT_DESCRIPTION

router = APIRouter(prefix="/api/v1", tags=["events"])
AcceptLanguage = Annotated[
    str | None, Header(max_length=1000, description="Language of the mail: de (default) or en")
]


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
    dependencies=[PUBLIC, anonymous_rate_limit("sign_up"), IDEMPOTENT],
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
    response_model=RegistrationPage,
    operation_id="list_registrations",
)
async def list_registrations(
    event_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    _: AdminDep,
    paging: Annotated[Paging, Depends(paging_params(50, 500))],
    status: RegistrationStatus | None = None,
    sort: Annotated[RegistrationSort, Query(description=SORT_DESCRIPTION)] = "registered_at",
) -> RegistrationPage:
    """Registrations of an event with names and e-mails (region admins: personal data), in
    `sort` order (default `registered_at`: the order they came in; `status`: confirmed, waiting,
    cancelled), paged by `limit` and `cursor` (the `next` link, also in the `Link` header)."""
    page = await attendance.list_registrations(
        session=session,
        event_id=event_id,
        status=status,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    page.next = next_link(request, paging, len(page.items), page.total)
    response.headers.update(link_header(page.next))
    return page


@router.delete(
    "/events/{event_id}/registrations/{registration_id}",
    response_model=CancellationResult,
    operation_id="cancel_registration_by_organiser",
)
async def cancel_registration(
    event_id: str,
    registration_id: str,
    deps: DepsDep,
    session: SessionDep,
    outbox: OutboxDep,
    _: EditorDep,
) -> CancellationResult:
    """Cancel a registration on someone's behalf; the waiting list moves up."""
    return await cancellation.cancel_registration(
        session=session, outbox=outbox, links=deps.links, registration_id=registration_id, event_id=event_id
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
    return await attendance.check_in(
        session=session, outbox=outbox, event_id=event_id, registration_id=registration_id
    )


@router.put(
    "/events/{event_id}/attendance/target-groups",
    status_code=204,
    operation_id="record_target_groups",
)
async def record_target_groups(
    event_id: str, body: TargetGroupCounts, session: SessionDep, outbox: OutboxDep, _: EditorDep
) -> Response:
    """Record how many participants belonged to each target group (pupils, teachers, adults,
    multipliers; counts only) for the BNE figures of reporting."""
    await attendance.record_target_groups(session=session, outbox=outbox, event_id=event_id, counts=body)
    return Response(status_code=204)


@router.get(
    "/events/{event_id}/attendance.csv",
    response_class=Response,
    operation_id="attendance_csv",
    responses={200: {"content": {"text/csv": {}}}},
)
async def attendance_csv(event_id: str, session: SessionDep, _: AdminDep) -> Response:
    """Attendance list as CSV (region admins: it carries names and e-mails)."""
    body = await attendance.attendance_csv(session=session, event_id=event_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="teilnehmende-{event_id}.csv"'},
    )


@router.post("/registrations/export", response_model=PersonRegistrationsExport, operation_id="export_person")
async def export_person(body: PersonRequest, session: SessionDep, _: AdminDep) -> PersonRegistrationsExport:
    """GDPR Art. 15: every registration of the person with this e-mail address, as JSON."""
    return await privacy.export_person(session=session, email=str(body.email))


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
    try:
        return await cancellation.cancel_by_link(
            session=session, outbox=outbox, links=deps.links, token=value
        )
    except ExpiredLink as error:
        raise ProblemError(410, "Link expired", str(error)) from error
