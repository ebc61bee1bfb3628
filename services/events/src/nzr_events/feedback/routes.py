"""Routes of feedback: the page behind the feedback link of the thank-you mail (GET shows the
form, POST stores it) and the organisers' aggregate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from nzr_common.access import TOKEN_LINK
from nzr_common.auth import EditorDep
from nzr_common.errors import DomainError, Invalid, NotFound
from nzr_common.runtime import SessionDep
from nzr_events.bootstrap import DepsDep
from nzr_events.feedback import service
from nzr_events.feedback.schemas import FeedbackSummary
from nzr_events.registrations.links import FEEDBACK_PATH
from nzr_events.registrations.rules import ExpiredLink, InvalidLink, read_feedback
from nzr_events.web import PAGE_PROBLEMS, TEXTS, AcceptLanguage, first, page_language, posted_form

router = APIRouter(tags=["events"])
Token = Annotated[str | None, Query(max_length=1000, description="Token from the mail's link")]


@router.get(
    "/api/v1/events/{event_id}/feedback", response_model=FeedbackSummary, operation_id="event_feedback"
)
async def event_feedback(event_id: str, session: SessionDep, _: EditorDep) -> FeedbackSummary:
    """The participants' feedback on an event, aggregated (ratings 1–5, mean, texts; no names)."""
    return await service.feedback_summary(session=session, event_id=event_id)


@router.get(
    FEEDBACK_PATH,
    response_class=HTMLResponse,
    responses=PAGE_PROBLEMS,
    operation_id="feedback_page",
    dependencies=[TOKEN_LINK],
)
async def feedback_page(
    deps: DepsDep, session: SessionDep, token: Token = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """The feedback form (rating 1–5 and free text), filled in with earlier feedback."""
    try:
        registration_id = read_feedback(deps.links.secret, token or "", datetime.now(UTC))
        view = await service.feedback_view(session=session, registration_id=registration_id)
    except (InvalidLink, ExpiredLink, NotFound) as error:
        return deps.pages.link_problem(
            language=page_language(accept_language), expired=isinstance(error, ExpiredLink)
        )
    language = (
        page_language(accept_language) if accept_language else ("en" if view.language == "en" else "de")
    )
    return deps.pages.render(
        "feedback.html", language=language, view=view, token=token, feedback_path=FEEDBACK_PATH, problem=None
    )


@router.post(
    FEEDBACK_PATH,
    response_class=HTMLResponse,
    responses=PAGE_PROBLEMS,
    operation_id="give_feedback",
    dependencies=[TOKEN_LINK],
)
async def give_feedback(
    request: Request, deps: DepsDep, session: SessionDep, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """Store the feedback of the form (fields ``token``, ``rating``, ``comment``); sending it again
    changes it."""
    form = await posted_form(request)
    token = first(form, "token") or request.query_params.get("token", "")
    language = page_language(accept_language)
    try:
        registration_id = read_feedback(deps.links.secret, token, datetime.now(UTC))
        view = await service.give_feedback(
            session=session,
            registration_id=registration_id,
            rating=first(form, "rating"),
            comment=first(form, "comment"),
        )
    except (InvalidLink, ExpiredLink, NotFound) as error:
        return deps.pages.link_problem(language=language, expired=isinstance(error, ExpiredLink))
    except DomainError as error:
        shown = await service.feedback_view(session=session, registration_id=registration_id)
        texts = TEXTS[language]
        return deps.pages.render(
            "feedback.html",
            language=language,
            status_code=422 if isinstance(error, Invalid) else 409,
            view=shown,
            token=token,
            feedback_path=FEEDBACK_PATH,
            problem=texts["feedback_invalid"] if isinstance(error, Invalid) else texts["feedback_not_open"],
        )
    return deps.pages.render(
        "feedback_result.html", language=language, view=view, token=token, feedback_path=FEEDBACK_PATH
    )
