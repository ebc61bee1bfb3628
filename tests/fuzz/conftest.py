"""The service under fuzzing: each of the five in turn, running and seeded."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the tests import fuzz_services

from fuzz_services import SERVICES, FuzzedService, start_service

from nzr_common.testing.databases import database_kinds

# PostgreSQL refuses what SQLite stores (U+0000 in text, out-of-range integers): each service
# is fuzzed on both where CI provides PostgreSQL.
TARGETS = [
    pytest.param((service, database), id=f"{service}-{database}")
    for database in database_kinds()
    for service in SERVICES
]


@pytest.fixture(scope="session", params=TARGETS)
async def fuzzed(
    request: pytest.FixtureRequest, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FuzzedService]:
    """One of the five services on one database, running and seeded (shared by the fuzz and
    size-limit tests)."""
    service_name, database = request.param
    folder = tmp_path_factory.mktemp(f"fuzz-{service_name}-{database}")
    async with start_service(service_name, nats_url, folder, database) as service:
        yield service


@pytest.fixture(autouse=True)
def _show_figures(capsys):  # type: ignore[no-untyped-def]
    """Fuzz figures go to the terminal even without ``-s`` (they feed docs/reliability.md)."""
    yield
    with capsys.disabled():
        print(capsys.readouterr().out, end="")
