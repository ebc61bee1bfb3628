"""Schemathesis against every service's OpenAPI document, through the service's real runtime.

Positive (schema-valid) and negative (schema-violating) requests for every operation, sent
anonymously and with valid tokens of the service's region (editor, admin, state), and with
invalid ones (expired, bad signature, ``alg: none``; a bad token must get 401). Every answer
must be free of 5xx and conform to the document: a documented status code, a documented content
type and headers, a body matching the documented schema (problem+json errors and 429s
included). Generation is derandomized with a fixed seed and bounded, so a run is repeatable
(about 70 s of CPU in all). ``make fuzz`` runs longer: ``NZR_FUZZ_EXAMPLES`` sets the examples
per operation and generation mode (default 10 here, 100 there) and ``NZR_FUZZ_SEED`` another
fixed seed.

Not checked: that every schema-violating request is refused. pydantic's lax parsing accepts
some on purpose (a number as a date is read as a Unix timestamp), and schemathesis's idea of
an e-mail address is stricter than RFC 5322's.

Hypothesis drives the generation synchronously in a worker thread; each request is handed to
the event loop that runs the service (its database engine and NATS connection live there).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import requests
import schemathesis
from fuzz_services import INVALID_TOKENS, VALID_TOKENS, FuzzedService
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from nzr_common.nul import NUL_REASON

# Delivery status notifications (newsletter's bounce intake) are text on the wire.
schemathesis.serializer.alias("message/rfc822", "text/plain")

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Examples per operation and generation mode; ~130 operations over the five services.
VALID_TOKEN_EXAMPLES = int(os.environ.get("NZR_FUZZ_EXAMPLES", "10"))
INVALID_TOKEN_EXAMPLES = max(4, VALID_TOKEN_EXAMPLES * 2 // 5)
#: Unset: Hypothesis's derandomized generation (a seed fixed per test); set: this fixed seed.
SEED = os.environ.get("NZR_FUZZ_SEED")
REQUEST_KEYS = ("method", "url", "headers", "params", "json", "data", "files", "cookies")
#: A further demand on an answer: returns what is wrong with it, or None.
Expectation = Callable[[Any, str, httpx.Response], str | None]


@dataclass
class FuzzReport:
    operations: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    not_generated: list[str] = field(default_factory=list)

    def fail(self, operation: str, kind: str, message: str) -> None:
        self.failures.setdefault((operation, kind), message)

    def summary(self, service: str) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return f"{service}: {len(self.operations)} operations, {self.requests} requests ({statuses})"

    def failure_text(self) -> str:
        failures = self.failures.items()
        return "\n\n".join(f"=== {operation} [{kind}]\n{text[:3000]}" for (operation, kind), text in failures)


class Fuzzer:
    """Generates cases per operation with schemathesis and sends them to the running service."""

    def __init__(self, service: FuzzedService, loop: asyncio.AbstractEventLoop) -> None:
        self.service = service
        self.loop = loop
        # The fuzzer sends the tokens itself; schemathesis would otherwise invent (and negate)
        # Authorization headers of its own.
        config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
        self.schema = schemathesis.openapi.from_dict(service.app.openapi(), config=config)
        self.report = FuzzReport()

    def operations(self) -> list[Any]:
        return [result.ok() for result in self.schema.get_all_operations()]

    def strategy(self, operation: Any, mode: GenerationMode) -> st.SearchStrategy[Any]:
        """Generated cases; half of them aimed at resources that exist (seeded ids in the path)."""
        generated = operation.as_strategy(generation_mode=mode)
        names = [n for n in re.findall(r"\{(\w+)\}", operation.path) if n in self.service.known_ids]
        if not names:
            return generated
        existing = st.fixed_dictionaries({n: st.sampled_from(self.service.known_ids[n]) for n in names})
        return st.one_of(
            existing.flatmap(lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids)),
            generated,
        )

    def send(self, case: Any, kind: str) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        value = self.service.authorization(kind)
        if value is not None:
            kwargs.setdefault("headers", {})["Authorization"] = value
        prepared = requests.Request(**{k: v for k, v in kwargs.items() if k in REQUEST_KEYS}).prepare()
        method, url = prepared.method or "GET", prepared.url or ""
        headers = dict(prepared.headers)
        request = self.service.client.request(method, url, headers=headers, content=prepared.body)
        return asyncio.run_coroutine_threadsafe(request, self.loop).result(timeout=60)

    def run(
        self,
        *,
        kinds: tuple[str, ...],
        modes: tuple[GenerationMode, ...],
        max_examples: int,
        expect: Expectation | None = None,
    ) -> FuzzReport:
        for operation in self.operations():
            self.report.operations.add(operation.label)
            for mode in modes:
                try:
                    self.fuzz_operation(operation, mode, kinds, max_examples, expect)
                except Unsatisfiable:
                    # Nothing to negate (no parameters, no body): the positive cases cover it.
                    self.report.not_generated.append(f"{operation.label} ({mode.value})")
        return self.report

    def fuzz_operation(
        self,
        operation: Any,
        mode: GenerationMode,
        kinds: tuple[str, ...],
        max_examples: int,
        expect: Expectation | None,
    ) -> None:
        @_seeded
        @hypothesis.settings(
            max_examples=max_examples,
            derandomize=SEED is None,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=self.strategy(operation, mode), kind=st.sampled_from(kinds))
        def exercise(case: Any, kind: str) -> None:
            response = self.send(case, kind)
            self.report.requests += 1
            self.report.statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CONFORMANCE)
            except FailureGroup as group:
                for failure in group.exceptions:
                    self.report.fail(operation.label, failure.title or "", f"token {kind}: {group}")
            except AssertionError as failure:
                self.report.fail(operation.label, type(failure).__name__, f"token {kind}: {failure}")
            problem = expect(operation, kind, response) if expect else None
            if problem:
                self.report.fail(operation.label, "expectation", f"token {kind}: {problem}")

        exercise()


def _seeded(test: Any) -> Any:
    return hypothesis.seed(int(SEED))(test) if SEED else test


async def fuzz(service: FuzzedService, **options: Any) -> FuzzReport:
    fuzzer = Fuzzer(service, asyncio.get_running_loop())
    report = await asyncio.to_thread(fuzzer.run, **options)
    print(report.summary(service.name))
    return report


async def test_fuzzed_requests_with_valid_tokens_get_no_5xx_and_documented_answers(fuzzed):
    report = await fuzz(
        fuzzed,
        kinds=VALID_TOKENS,
        modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
        max_examples=VALID_TOKEN_EXAMPLES,
    )
    assert report.requests > 10 * len(report.operations)
    assert not report.failures, report.failure_text()


def _refused_unless_public(operation: Any, kind: str, response: httpx.Response) -> str | None:
    """A bad token is never let through: every operation that reads tokens answers 401.

    Requests refused at the edge before any route runs are the exception, as with oversized
    bodies (413) and anonymous rate limits (429): text holding U+0000 gets 422 naming it."""
    if not operation.definition.raw.get("security"):
        return None
    if response.status_code == 422 and _refused_for_nul(response):
        return None
    if response.status_code != 401:
        return f"expected 401 for a {kind} token, got {response.status_code}"
    if response.headers.get("www-authenticate", "").split(" ")[0] != "Bearer":
        return "401 without 'WWW-Authenticate: Bearer'"
    return None


def _refused_for_nul(response: httpx.Response) -> bool:
    problems = response.json().get("invalid_params") or [{}]
    return all(p.get("reason") == NUL_REASON for p in problems)


async def test_fuzzed_requests_with_invalid_tokens_are_refused_with_documented_401(fuzzed):
    report = await fuzz(
        fuzzed,
        kinds=INVALID_TOKENS,
        modes=(GenerationMode.POSITIVE,),
        max_examples=INVALID_TOKEN_EXAMPLES,
        expect=_refused_unless_public,
    )
    assert report.statuses[401] > 0
    assert not report.failures, report.failure_text()
