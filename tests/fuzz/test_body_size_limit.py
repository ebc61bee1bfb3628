"""Request bodies over the configured limit are refused with a documented 413 problem on every
operation that takes a body, whether the size is declared up front or only shows while the
body streams in, and nothing of such a request reaches the database."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fuzz_services import MAX_BODY_BYTES, FuzzedService
from sqlalchemy import func, select

from nzr_common.auth import issue_token
from nzr_common.problems import PROBLEM_JSON
from nzr_common.settings import DEVELOPMENT_SECRET


def _operations_with_a_body(service: FuzzedService) -> list[tuple[str, str, dict[str, Any]]]:
    paths = service.app.openapi()["paths"]
    return [
        (method.upper(), path, operation)
        for path, item in paths.items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


def _url(service: FuzzedService, path: str) -> str:
    """The path with an existing resource where one is known (the handler would get that far)."""
    return re.sub(r"\{(\w+)\}", lambda m: service.known_ids.get(m.group(1), ["unknown"])[0], path)


async def _row_counts(service: FuzzedService) -> dict[str, int]:
    runtime = service.app.state.runtime
    async with runtime.sessions() as session:
        return {
            table.name: (await session.execute(select(func.count()).select_from(table))).scalar_one()
            for table in runtime.definition.metadata.sorted_tables
        }


async def _settled_row_counts(service: FuzzedService) -> dict[str, int]:
    """Row counts once the consumers have caught up with what seeding published (the same
    counts three times in a row)."""
    previous, same = await _row_counts(service), 0
    for _ in range(200):
        await asyncio.sleep(0.2)
        current = await _row_counts(service)
        same = same + 1 if current == previous else 0
        if same == 2:
            return current
        previous = current
    raise AssertionError(f"{service.name} keeps writing: {previous}")


async def _chunks(size: int, chunk: int = 8192) -> AsyncIterator[bytes]:
    """A JSON-ish body of ``size`` bytes sent without Content-Length (chunked)."""
    yield b'{"padding": "'
    sent = 0
    while sent < size:
        yield b"x" * chunk
        sent += chunk
    yield b'"}'


def _assert_documented_413(response: Any, label: str, operation: dict[str, Any]) -> None:
    assert response.status_code == 413, f"{label}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"] == PROBLEM_JSON, label
    problem = response.json()
    assert problem["status"] == 413 and str(MAX_BODY_BYTES) in problem["detail"], label
    documented = operation["responses"].get("413", {}).get("content", {})
    assert PROBLEM_JSON in documented, f"{label}: 413 is not documented as problem+json"


def _fresh_caller(region: str) -> dict[str, str]:
    """Headers of a caller of its own: rate limits count per token subject, and the fuzz tests
    sharing this service spend the tight budgets of the default one."""
    token = issue_token(
        DEVELOPMENT_SECRET, region=region, roles=["editor", "admin", "state"], subject=f"size-{uuid.uuid4()}"
    )
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def test_bodies_over_the_configured_limit_are_refused_with_413_and_nothing_is_written(fuzzed):
    operations = _operations_with_a_body(fuzzed)
    assert operations, "every service takes request bodies somewhere"
    before = await _settled_row_counts(fuzzed)

    oversized = b'{"padding": "' + b"x" * MAX_BODY_BYTES + b'"}'
    for method, path, operation in operations:
        label = f"{method} {path}"
        url = _url(fuzzed, path)
        headers = _fresh_caller(fuzzed.region)
        declared = await fuzzed.client.request(method, url, content=oversized, headers=headers)
        _assert_documented_413(declared, f"{label} (Content-Length)", operation)
        streamed = await fuzzed.client.request(method, url, content=_chunks(MAX_BODY_BYTES), headers=headers)
        assert "content-length" not in streamed.request.headers
        _assert_documented_413(streamed, f"{label} (chunked)", operation)

    assert await _row_counts(fuzzed) == before
    print(f"{fuzzed.name}: {2 * len(operations)} oversized requests to {len(operations)} operations: 413")


async def test_a_body_just_under_the_limit_is_not_refused_for_its_size(fuzzed):
    token = issue_token(DEVELOPMENT_SECRET, region=fuzzed.region, roles=["editor", "admin", "state"])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    method, path, _ = _operations_with_a_body(fuzzed)[0]
    body = b'{"padding": "' + b"x" * (MAX_BODY_BYTES - 20) + b'"}'
    assert len(body) <= MAX_BODY_BYTES
    response = await fuzzed.client.request(method, _url(fuzzed, path), content=body, headers=headers)
    assert response.status_code not in (413, 500), response.text[:300]
