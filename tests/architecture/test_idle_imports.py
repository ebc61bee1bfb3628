"""Heavy libraries a service needs only for some requests or jobs are imported when first used,
not when the web app is imported: an idle process stays small (issue #20, bench/idle_memory.py).

Each check runs in a fresh interpreter, so what other tests imported does not count."""

import json
import subprocess
import sys

import pytest

from .test_wiring import SERVICES

#: Never needed by any service's web app at import time: PyJWT brings ``cryptography`` (loaded by
#: the first token), httpx its command line (rich, pygments; loaded when a JWKS URL is set).
NOWHERE = ("jwt", "cryptography", "httpx", "rich", "pygments", "matplotlib", "pandas", "igraph", "networkx")
#: uvicorn serves without WebSocket support (``ws="none"``): no route needs it.
NOWHERE += ("websockets",)
#: The NATS connection is a plain nats-py client (nzr_common.connection), not FastStream's broker.
NOWHERE += ("faststream",)
#: SQLAlchemy's dialects (PostgreSQL's about 4 MB with every driver's module, SQLite's with
#: aiosqlite about 1.5 MB) are loaded by the engine of their database, not by the tables or
#: upserts (``partial_index``, ``dialect_insert``).
NOWHERE += ("sqlalchemy.dialects.postgresql", "sqlalchemy.dialects.sqlite", "aiosqlite")
#: Pages and campaign templates load Jinja2 (and Markdown) with the first page or template.
NOWHERE += ("jinja2", "markdown")

#: Per service: libraries of single routes or jobs (suggestions and the funding index need numpy,
#: the PostgreSQL read pool asyncpg, search Snowball and rapidfuzz, the DCAT catalogue rdflib,
#: the .ics of registration mails and the events feed and series rules icalendar and dateutil).
ONLY_WHEN_USED = {
    "actors": ("numpy", "asyncpg", "rapidfuzz"),
    "events": ("icalendar", "dateutil"),
    "funding": ("numpy", "snowballstemmer", "rapidfuzz"),
    "newsletter": ("icalendar", "aiosmtplib"),
    "reporting": ("rdflib",),
}


def imported_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running ``statement``."""
    report = f"print(json.dumps([m for m in {list(modules)!r} if m in sys.modules]))"
    probe = f"import json, sys\n{statement}\n{report}"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_importing_the_web_app_leaves_heavy_libraries_unloaded(service):
    unwanted = NOWHERE + ONLY_WHEN_USED.get(service, ())
    assert imported_after(f"import nzr_{service}.app", unwanted) == []


def test_the_import_check_sees_a_library_that_was_imported():
    assert imported_after("import nzr_common.auth, jwt", ("jwt", "numpy")) == ["jwt"]
