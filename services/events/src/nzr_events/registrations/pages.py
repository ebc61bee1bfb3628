"""The manage page behind the personal link of a registration's mails (German, English by
``Accept-Language``): GET shows the registration and what can be done; POST cancels it or
changes the chosen sessions and shows the result. A GET never changes anything."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from nzr_common.access import TOKEN_LINK
from nzr_common.errors import DomainError, Invalid, NotFound
from nzr_common.runtime import OutboxDep, SessionDep
from nzr_events.bootstrap import Deps, DepsDep
from nzr_events.registrations import cancellation, self_service
from nzr_events.registrations.links import MANAGE_PATH
from nzr_events.registrations.rules import ExpiredLink, InvalidLink, read_cancellation
from nzr_events.web import (
    PAGE_PROBLEMS,
    TEXTS,
    AcceptLanguage,
    PageLanguage,
    first,
    page_language,
    posted_form,
)

router = APIRouter(tags=["pages"])
Token = Annotated[str | None, Query(max_length=1000, description="Token from the mail's link")]


def _language(accept_language: str | None, registered_in: str | None = None) -> PageLanguage:
    """The page's language: what the browser asks for, else the registration's own."""
    if accept_language or registered_in is None:
        return page_language(accept_language)
    return "en" if registered_in == "en" else "de"


def _problem_page(deps: Deps, error: DomainError, token: str, language: PageLanguage) -> HTMLResponse:
    texts = TEXTS[language]
    invalid = isinstance(error, Invalid)
    if invalid:
        message = texts["error_invalid"]
    else:
        message = texts["error_full"] if error.title == "Session full" else texts["closed"]
    return deps.pages.render(
        "manage_result.html",
        language=language,
        status_code=422 if invalid else 409,
        heading=texts["problem_title"],
        text=message,
        details=[reason for _, reason in error.problems] if language == "en" else [],
        error=True,
        token=token,
        manage_path=MANAGE_PATH,
    )


@router.get(
    MANAGE_PATH,
    response_class=HTMLResponse,
    responses=PAGE_PROBLEMS,
    operation_id="manage_registration_page",
    dependencies=[TOKEN_LINK],
)
async def manage_page(
    deps: DepsDep, session: SessionDep, token: Token = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """The registration behind the link: event, time, place, status, sessions; a button to cancel
    and a form to change the sessions (both POST)."""
    now = datetime.now(UTC)
    try:
        registration_id = read_cancellation(deps.links.secret, token or "", now)
        view = await self_service.manage_view(session=session, registration_id=registration_id, now=now)
    except (InvalidLink, ExpiredLink, NotFound) as error:
        return deps.pages.link_problem(
            language=page_language(accept_language), expired=isinstance(error, ExpiredLink)
        )
    return deps.pages.render(
        "manage.html",
        language=_language(accept_language, view.language),
        view=view,
        token=token,
        manage_path=MANAGE_PATH,
    )


@router.post(
    MANAGE_PATH,
    response_class=HTMLResponse,
    responses=PAGE_PROBLEMS,
    operation_id="manage_registration",
    dependencies=[TOKEN_LINK],
)
async def manage(
    request: Request,
    deps: DepsDep,
    session: SessionDep,
    outbox: OutboxDep,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """Do what the manage page's form asks: ``action=cancel`` cancels the registration,
    ``action=sessions`` stores one chosen session per slot (fields ``slot_<n>``)."""
    form = await posted_form(request)
    token = first(form, "token") or request.query_params.get("token", "")
    language = page_language(accept_language)
    try:
        registration_id = read_cancellation(deps.links.secret, token, datetime.now(UTC))
    except (InvalidLink, ExpiredLink) as error:
        return deps.pages.link_problem(language=language, expired=isinstance(error, ExpiredLink))
    texts = TEXTS[language]
    action = first(form, "action")
    try:
        if action == "sessions":
            chosen = [v for name, values in form.items() if name.startswith("slot_") for v in values if v]
            await self_service.change_sessions(
                session=session,
                outbox=outbox,
                links=deps.links,
                registration_id=registration_id,
                session_ids=chosen,
            )
            heading, text = texts["sessions_saved_title"], texts["sessions_saved_text"]
        else:
            await cancellation.cancel_registration(
                session=session, outbox=outbox, links=deps.links, registration_id=registration_id
            )
            heading, text = texts["cancelled_title"], texts["cancelled_text"]
    except NotFound:
        return deps.pages.link_problem(language=language, expired=False)
    except DomainError as error:
        return _problem_page(deps, error, token, language)
    return deps.pages.render(
        "manage_result.html",
        language=language,
        heading=heading,
        text=text,
        details=[],
        error=False,
        token=token,
        manage_path=MANAGE_PATH,
    )
