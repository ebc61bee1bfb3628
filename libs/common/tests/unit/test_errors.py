"""Domain errors answer exactly what the services' hand-built ProblemErrors answered."""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nzr_common.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from nzr_common.problems import InvalidParam, ProblemError, install_problem_handlers

# (raised by a use case now, what the services built by hand before)
CASES: dict[str, tuple[DomainError, ProblemError]] = {
    "not-found": (NotFound("event", "e-1"), ProblemError(404, "Not Found", "No event e-1.")),
    "conflict": (
        Conflict("A cancelled event cannot be changed."),
        ProblemError(409, "Conflict", "A cancelled event cannot be changed."),
    ),
    "already-registered": (
        Conflict(
            "ada@example.org is already registered for this event.",
            title="Already registered",
            problems=[("email", "already registered")],
        ),
        ProblemError(
            409,
            "Already registered",
            "ada@example.org is already registered for this event.",
            invalid_params=[InvalidParam(name="email", reason="already registered")],
        ),
    ),
    "likely-duplicate": (
        Conflict(
            "Similar actors exist.",
            title="Likely duplicate",
            kind="/problems/likely-duplicate",
            extra={"duplicates": [{"id": "a-1"}]},
        ),
        ProblemError(
            409,
            "Likely duplicate",
            "Similar actors exist.",
            type_="/problems/likely-duplicate",
            extra={"duplicates": [{"id": "a-1"}]},
        ),
    ),
    "existing-id": (
        Conflict("The address is subscribed.", existing_id="s-1"),
        ProblemError(409, "Conflict", "The address is subscribed.", extra={"existing_id": "s-1"}),
    ),
    "invalid": (
        Invalid("Invalid session", [("ends_at", "must be after starts_at"), ("room", "too long")]),
        ProblemError(
            422,
            "Invalid session",
            "ends_at: must be after starts_at; room: too long",
            invalid_params=[
                InvalidParam(name="ends_at", reason="must be after starts_at"),
                InvalidParam(name="room", reason="too long"),
            ],
        ),
    ),
    "forbidden": (
        Forbidden("Only the region's editors list drafts."),
        ProblemError(403, "Forbidden", "Only the region's editors list drafts."),
    ),
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/new/{case}")
    async def new(case: str) -> None:
        raise CASES[case][0]

    @app.get("/old/{case}")
    async def old(case: str) -> None:
        raise CASES[case][1]

    return TestClient(app)


def _answer(client: TestClient, path: str) -> tuple[int, str, dict[str, Any]]:
    response = client.get(path)
    body = response.json()
    body["instance"] = body["instance"].replace("/new/", "/old/")
    return response.status_code, response.headers["content-type"], body


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_domain_error_answers_as_the_services_did(client: TestClient, case: str) -> None:
    status, media_type, body = _answer(client, f"/new/{case}")
    assert (status, media_type, body) == _answer(client, f"/old/{case}")
    assert media_type == "application/problem+json"


def test_a_subclass_of_a_domain_error_keeps_its_status(client: TestClient) -> None:
    class SeatsGone(Conflict):
        title = "Session full"

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/")
    async def full() -> None:
        raise SeatsGone("No seats left.")

    response = TestClient(app).get("/")
    assert response.status_code == 409
    assert response.json()["title"] == "Session full"
