"""Every date, month and offset in a query is bounded (``nzr_common.params``), every list's
``limit``, ``cursor`` and ``sort`` checked (``nzr_common.pagination``): a value outside the sane
range, a forged cursor or an unknown order is refused with 422 problem+json naming the parameter,
never answered with 500."""

from __future__ import annotations

from datetime import date

import pytest

from nzr_common.auth import issue_token
from nzr_common.params import EARLIEST_DAY, MAX_OFFSET, latest_day
from nzr_common.settings import DEVELOPMENT_SECRET

from .conftest import SERVICES, started

TOO_FAR = f"{latest_day().year + 1}-01-01"
HUGE = str(10**18)

# (service, method, path, parameter as named in the problem, role of the caller or None)
OUT_OF_RANGE = [
    ("actors", "GET", "/api/v1/cooperations?active_on=0001-01-01", "active_on", "editor"),
    ("actors", "GET", f"/api/v1/network/metrics?on={TOO_FAR}", "on", "editor"),
    ("actors", "GET", "/api/v1/network/export?on=1989-12-31", "on", "editor"),
    ("events", "GET", "/api/v1/events?from=0001-01-01", "from", None),
    ("events", "GET", "/api/v1/events?to=9999-12-31", "to", None),
    ("events", "GET", f"/api/v1/events?offset={HUGE}", "offset", None),
    ("events", "GET", "/api/v1/events?offset=-1", "offset", None),
    ("events", "GET", "/api/v1/events.ics?from=0001-01-01", "from", None),
    ("events", "GET", "/api/v1/agreements?due_before=0001-01-01", "due_before", None),
    ("events", "GET", "/api/v1/agreements?sort=due", "sort", None),
    ("events", "GET", "/api/v1/agreements?cursor=bm9wZQ", "cursor", None),
    ("events", "GET", "/api/v1/events?sort=-start", "sort", None),
    ("events", "GET", "/api/v1/events/any/recommendations?limit=0", "limit", None),
    ("events", "GET", "/api/v1/events/any/registrations?limit=501", "limit", "admin"),
    ("funding", "GET", "/api/v1/funding/programs?as_of=0001-01-01", "as_of", None),
    ("funding", "GET", f"/api/v1/funding/programs?deadline_before={TOO_FAR}", "deadline_before", None),
    ("funding", "GET", f"/api/v1/funding/programs?offset={MAX_OFFSET + 1}", "offset", None),
    ("funding", "GET", "/api/v1/funding/programs/any?as_of=0001-01-01", "as_of", None),
    ("funding", "POST", "/api/v1/funding/deadline-watch?as_of=0001-01-01", "as_of", "admin"),
    ("newsletter", "GET", f"/api/v1/newsletter/subscribers?offset={HUGE}", "offset", "admin"),
    ("newsletter", "GET", "/api/v1/newsletter/subscribers?sort=district", "sort", "admin"),
    ("newsletter", "GET", "/api/v1/newsletter/lists?limit=201", "limit", None),
    ("newsletter", "GET", "/api/v1/newsletter/campaigns?cursor=e30", "cursor", "editor"),
    ("newsletter", "GET", f"/api/v1/newsletter/transactional/mails?offset={HUGE}", "offset", "editor"),
    ("newsletter", "GET", "/api/v1/newsletter/transactional/mails?sort=time", "sort", "editor"),
    ("reporting", "GET", "/api/v1/reports/indicators?as_of=0001-01-01", "as_of", None),
    ("reporting", "GET", "/api/v1/reports/overview/goals?as_of=1900-01-01", "as_of", "editor"),
    ("reporting", "GET", "/api/v1/reports/indicators/{indicator}/series?from=0001-01", "from", None),
    ("reporting", "GET", "/api/v1/reports/indicators/{indicator}/series?to=9999-12", "to", None),
    ("reporting", "GET", "/api/v1/reports/indicators/{indicator}/series?to=2026-13", "to", None),
]


@pytest.mark.parametrize("service", sorted({case[0] for case in OUT_OF_RANGE}))
async def test_out_of_range_query_values_are_refused_naming_the_parameter(service, nats_url):
    async with started(service, nats_url) as running:
        region = running.runtime.settings.region
        indicator = ""
        if service == "reporting":
            definitions = await running.client.get("/api/v1/reports/indicators/definitions")
            indicator = definitions.json()[0]["id"]
        answers = {}
        for _, method, path, parameter, role in (case for case in OUT_OF_RANGE if case[0] == service):
            headers = {}
            if role:
                token = issue_token(DEVELOPMENT_SECRET, region=region, roles=[role])
                headers["Authorization"] = f"Bearer {token}"
            url = path.format(indicator=indicator)
            answers[url] = (parameter, await running.client.request(method, url, headers=headers))
    for url, (parameter, response) in answers.items():
        assert response.status_code == 422, (url, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json", url
        assert [p["name"] for p in response.json()["invalid_params"]] == [parameter], url


#: A cursor's shape (base64url of {"o":-1}) that no list made.
FORGED_CURSOR = "eyJvIjotMX0"

# (service, path, parameter as named in the problem, role of the caller or None): bad paging and
# sorting of the paged lists (``nzr_common.pagination``).
BAD_PAGING = [
    ("actors", "/api/v1/actors?limit=0", "limit", None),
    ("actors", f"/api/v1/actors?cursor={FORGED_CURSOR}", "cursor", None),
    ("actors", "/api/v1/actors?sort=district", "sort", None),
    ("actors", "/api/v1/cooperations?limit=201", "limit", "editor"),
    ("actors", f"/api/v1/cooperations?cursor={FORGED_CURSOR}", "cursor", "editor"),
    ("actors", "/api/v1/cooperations?sort=name", "sort", "editor"),
    ("funding", "/api/v1/funding/programs?limit=101", "limit", None),
    ("funding", f"/api/v1/funding/programs?cursor={FORGED_CURSOR}", "cursor", None),
    ("funding", "/api/v1/funding/programs?sort=amount", "sort", None),
    ("funding", f"/api/v1/funding/saved-searches?cursor={FORGED_CURSOR}", "cursor", "editor"),
    ("funding", "/api/v1/funding/saved-searches?sort=query", "sort", "editor"),
    ("reporting", "/api/v1/reports/goals?limit=0", "limit", None),
    ("reporting", f"/api/v1/reports/goals?cursor={FORGED_CURSOR}", "cursor", None),
    ("reporting", "/api/v1/reports/goals?sort=district", "sort", None),
    ("reporting", "/api/v1/reports/measures?sort=status", "sort", None),
]


@pytest.mark.parametrize("service", sorted({case[0] for case in BAD_PAGING}))
async def test_bad_limit_cursor_or_sort_of_a_list_is_refused_naming_the_parameter(service, nats_url):
    async with started(service, nats_url) as running:
        region = running.runtime.settings.region
        answers = {}
        for _, path, parameter, role in (case for case in BAD_PAGING if case[0] == service):
            headers = {}
            if role:
                token = issue_token(DEVELOPMENT_SECRET, region=region, roles=[role])
                headers["Authorization"] = f"Bearer {token}"
            answers[path] = (parameter, await running.client.get(path, headers=headers))
    for path, (parameter, response) in answers.items():
        assert response.status_code == 422, (path, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json", path
        assert [p["name"] for p in response.json()["invalid_params"]] == [parameter], path


async def test_dates_at_the_edges_of_the_range_are_accepted(nats_url):
    async with started("events", nats_url) as running:
        earliest = await running.client.get(f"/api/v1/events?from={EARLIEST_DAY.isoformat()}")
        latest = await running.client.get(f"/api/v1/events?to={latest_day().isoformat()}")
        today = await running.client.get(
            f"/api/v1/events?from={date.today().isoformat()}&offset={MAX_OFFSET}"
        )
    assert [earliest.status_code, latest.status_code, today.status_code] == [200, 200, 200]


async def test_event_times_in_bodies_that_cannot_be_real_are_refused_naming_the_field(nats_url):
    """Before: a start of ``0001-01-01T00:00:01+00:24`` (found by fuzzing) overflowed while it was
    converted to UTC and answered 500."""
    async with started("events", nats_url) as running:
        region = running.runtime.settings.region
        token = issue_token(DEVELOPMENT_SECRET, region=region, roles=["editor"])
        editor = {"Authorization": f"Bearer {token}"}
        body = {
            "format": "workshop",
            "title": "Werkstatt Klimaschutz",
            "starts_at": "0001-01-01T00:00:01+00:24",
            "ends_at": f"{TOO_FAR}T12:00:00",
        }
        response = await running.client.post("/api/v1/events", json=body, headers=editor)
    assert response.status_code == 422, response.text
    assert {p["name"] for p in response.json()["invalid_params"]} == {"starts_at", "ends_at"}


#: Lists that took ``offset`` before the cursor pagination (at commit 64bfd70, or before the
#: cursor reached them): they keep it for one release, deprecated. (service, operation, path)
OFFSET_KEPT = [
    *((s, f"{s}_list_dead_letters", f"/api/v1/admin/{s}/dead-letters") for s in SERVICES),
    ("events", "list_events", "/api/v1/events"),
    ("funding", "search_programmes", "/api/v1/funding/programs"),
    ("newsletter", "list_subscribers", "/api/v1/newsletter/subscribers"),
    ("newsletter", "list_transactional_mails", "/api/v1/newsletter/transactional/mails"),
]

#: Lists that never took ``offset``: it is not theirs, so it is an unknown query parameter.
OFFSET_NEVER: list[tuple[str, str, str | None]] = [
    ("actors", "list_contacts", "/api/v1/actors/any/contacts"),
    ("actors", "list_cooperations", "/api/v1/cooperations"),
    ("actors", "search_actors", "/api/v1/actors"),
    ("events", "list_agreements", "/api/v1/agreements"),
    ("events", "list_recommendations", "/api/v1/events/any/recommendations"),
    ("events", "list_registrations", "/api/v1/events/any/registrations"),
    ("funding", "list_saved_searches", "/api/v1/funding/saved-searches"),
    ("funding", "list_search_alerts", "/api/v1/funding/saved-searches/any/alerts"),
    ("newsletter", "list_campaigns", "/api/v1/newsletter/campaigns"),
    ("newsletter", "list_lists", "/api/v1/newsletter/lists"),
    ("newsletter", "list_sink_messages", "/api/v1/newsletter/dev/mail.json"),
    # An HTML page, not a documented list: conditions does not check its query (offset ignored).
    ("newsletter", "show_sink_messages", None),
    ("reporting", "list_goals", "/api/v1/reports/goals"),
    ("reporting", "get_goal_history", "/api/v1/reports/goals/any/history"),
    ("reporting", "list_measures", "/api/v1/reports/measures"),
]


@pytest.mark.parametrize("service", SERVICES)
async def test_only_lists_that_had_offset_still_take_it(service, nats_url):
    """Issue 20: the deprecated ``offset`` is documented and accepted only where clients may have
    used it; on a list that never had it, ``offset=`` is 422 naming it, like any unknown parameter."""
    kept = {operation: path for s, operation, path in OFFSET_KEPT if s == service}
    never = {operation: path for s, operation, path in OFFSET_NEVER if s == service}
    never_checked = [path for path in never.values() if path is not None]
    async with started(service, nats_url) as running:
        document = running.app.openapi()
        region = running.runtime.settings.region
        token = issue_token(DEVELOPMENT_SECRET, region=region, roles=["editor", "admin"])
        headers = {"Authorization": f"Bearer {token}"}
        kept_answers = {p: await running.client.get(f"{p}?offset=1", headers=headers) for p in kept.values()}
        never_answers = {p: await running.client.get(f"{p}?offset=0", headers=headers) for p in never_checked}
    queries = {
        item["get"]["operationId"]: {
            p["name"]: p for p in item["get"].get("parameters", []) if p["in"] == "query"
        }
        for item in document["paths"].values()
        if "get" in item
    }
    paged = {operation for operation, query in queries.items() if "cursor" in query}
    assert paged == set(kept) | set(never)  # every list of the service is in one of the two
    for operation in kept:
        offset = queries[operation]["offset"]
        assert offset["deprecated"] is True, operation
        assert offset["description"] == "Use `cursor`; kept for one release", operation
    for operation in never:
        assert "offset" not in queries[operation], operation
    for path, response in kept_answers.items():
        assert response.status_code == 200, (path, response.status_code, response.text)
    for path, response in never_answers.items():
        assert response.status_code == 422, (path, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json", path
        assert [p["name"] for p in response.json()["invalid_params"]] == ["offset"], path
