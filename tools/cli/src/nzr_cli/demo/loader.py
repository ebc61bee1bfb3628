"""Loads the demo data into a running platform, once per data folder.

Each step POSTs the items of one JSON file of this package, or of a generator function
(``nzr_cli.demo.district``: a whole district's network), to one service. What was loaded is
kept in ``<data-dir>/<region>/demo-loaded`` (per step: item key → id of the created resource),
so a restart never creates an item twice, an interrupted load resumes where it stopped, and a
step added later can look up the ids of items an earlier step created.

Strings in a step's path and items may refer to what is not known when the file is written:
``{id:<step>/<key>}`` is the id an earlier step's item got, ``{day:+30T10:00}`` the Berlin
wall-clock time 30 days from the day of loading at 10:00 (so upcoming events stay upcoming and
the data is the same for the same day). A value ``{"$ref": "<step>/<key>"}`` in an item is
replaced by that id as well, and ``{field}`` in a step's path by the item's (resolved) field,
which then leaves the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from nzr_cli.demo import district
from nzr_cli.demo.newsletter import NewsletterDemoFailed, load_newsletter_demo
from nzr_cli.tokens import local_token


@dataclass(frozen=True)
class DemoStep:
    """One kind of demo data: the items of ``data_file`` (or made by ``generate``), each POSTed
    to ``service`` at ``path``."""

    name: str
    label: str
    service: str
    path: str
    data_file: str | None = None
    role: str = "editor"
    generate: Callable[[], Sequence[dict[str, Any]]] | None = None
    #: How many of the step's items are POSTed at once (1 where their order matters).
    in_flight: int = 6

    def items(self) -> list[dict[str, Any]]:
        if self.generate is not None:
            return [dict(item) for item in self.generate()]
        assert self.data_file is not None, f"demo step {self.name} has neither data_file nor generate"
        text = resources.files(__package__).joinpath(self.data_file).read_text(encoding="utf-8")
        return json.loads(text)


@dataclass(frozen=True)
class DemoDocument:
    """A whole document POSTed once, e.g. the 44 real funding programmes to the catalogue import."""

    name: str
    label: str
    service: str
    path: str
    package: str
    data_file: str
    role: str

    def body(self) -> bytes:
        return resources.files(self.package).joinpath(self.data_file).read_bytes()


#: Demo items POSTed at once within a step.
IN_FLIGHT = 6

DEMO_STEPS: Sequence[DemoStep] = (
    DemoStep(name="actors", label="actors", service="actors", path="/api/v1/actors", data_file="actors.json"),
    # A whole district's network; its likely duplicates are there on purpose (confirmed).
    DemoStep(
        name=district.ACTOR_STEP,
        label="district",
        service="actors",
        path="/api/v1/actors?confirm_duplicates=true",
        generate=district.district_actors,
    ),
    DemoStep(
        name="cooperations",
        label="cooperations",
        service="actors",
        path="/api/v1/cooperations",
        generate=district.district_cooperations,
    ),
    DemoStep(
        name="contacts",
        label="contacts",
        service="actors",
        path="/api/v1/actors/{actor_id}/contacts",
        generate=district.district_contacts,
        role="admin",
    ),
    # A monthly initiative circle that ends (COUNT=10) with its August date off (EXDATE).
    DemoStep(name="series", label="series", service="events", path="/api/v1/series", data_file="series.json"),
    # An upcoming regional conference with a programme of parallel workshops, registrations and a
    # waiting list, so the participants' mails and pages can be seen (events/*.json).
    DemoStep(
        name="conference",
        label="conference",
        service="events",
        path="/api/v1/events",
        data_file="conference.json",
    ),
    DemoStep(
        name="programme",
        label="programme",
        service="events",
        path="/api/v1/events/{id:conference/regionalkonferenz}/sessions",
        data_file="programme.json",
    ),
    DemoStep(
        name="conference-published",
        label="publication",
        service="events",
        path="/api/v1/events/{id:conference/regionalkonferenz}/publish",
        data_file="publication.json",
    ),
    DemoStep(
        name="registrations",
        label="registrations",
        service="events",
        path="/api/v1/events/{id:conference/regionalkonferenz}/registrations",
        data_file="registrations.json",
        in_flight=1,  # the order decides who gets a seat and who waits
    ),
)

BERLIN = ZoneInfo("Europe/Berlin")
_REFERENCE = re.compile(r"\{(id|day):([^}]+)\}")

DEMO_DOCUMENTS: Sequence[DemoDocument] = (
    # The catalogue belongs to the state; in the embedded run the demo region's funding service
    # takes the state's write and builds its catalogue from the events, as a region would.
    DemoDocument(
        name="funding",
        label="funding programmes",
        service="funding",
        path="/api/v1/funding/programs/import",
        package="nzr_funding.reference",
        data_file="foerderprogramme.json",
        role="state",
    ),
)


class DemoLedger:
    """The marker file: which demo items exist already, by step and key, with their ids."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids: dict[str, dict[str, str]] = (
            json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        )

    def id_of(self, step: str, key: str) -> str | None:
        return self.ids.get(step, {}).get(key)

    def record(self, step: str, key: str, resource_id: str) -> None:
        """Remember one created item; written at once so an interruption loses nothing."""
        self.ids.setdefault(step, {})[key] = resource_id
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(self.ids, indent=2, ensure_ascii=False), encoding="utf-8")
        partial.replace(self.path)


class DemoDataFailed(Exception):
    """A service refused a demo item or could not be reached."""


def resolve(value: Any, ledger: DemoLedger, today: date) -> Any:
    """``value`` with its ``{id:…}`` and ``{day:…}`` references filled in (see the module doc)."""
    if isinstance(value, dict):
        return {k: resolve(v, ledger, today) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ledger, today) for v in value]
    if not isinstance(value, str):
        return value

    def filled(match: re.Match[str]) -> str:
        kind, reference = match.groups()
        if kind == "day":
            offset, _, clock = reference.partition("T")
            moment = datetime.combine(
                today + timedelta(days=int(offset)), time.fromisoformat(clock or "00:00")
            )
            return moment.isoformat()
        step, _, key = reference.partition("/")
        found = ledger.id_of(step, key)
        if found is None:
            raise DemoDataFailed(f"demo data refers to {reference!r}, which was not created")
        return found

    return _REFERENCE.sub(filled, value)


def load_demo_data(
    *,
    ledger: DemoLedger,
    base_urls: dict[str, str],
    region: str,
    console: Console,
    steps: Sequence[DemoStep] = DEMO_STEPS,
    documents: Sequence[DemoDocument] = DEMO_DOCUMENTS,
    today: date | None = None,
) -> int:
    """POST every demo item the ledger does not know yet; returns how many were created."""
    day = today or datetime.now(BERLIN).date()
    pending = {step: _not_loaded(step, ledger) for step in steps}
    created = _load_documents(ledger=ledger, base_urls=base_urls, region=region, documents=documents)
    if "newsletter" in base_urls:
        try:
            created += load_newsletter_demo(ledger=ledger, base_url=base_urls["newsletter"], region=region)
        except (NewsletterDemoFailed, httpx.HTTPError) as error:
            raise DemoDataFailed(f"newsletter demo: {error}") from error
    if not any(pending.values()):
        return created
    columns = (TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn())
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    with (
        httpx.Client(timeout=30.0, limits=limits) as client,
        ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="demo") as pool,
        Progress(*columns, console=console) as progress,
    ):
        for step, items in pending.items():
            if not items:
                continue
            task = progress.add_task(step.label, total=len(items))
            token = local_token(region=region, roles=[step.role], subject="nzr-demo")
            url = base_urls[step.service]
            path = resolve(step.path, ledger, day)
            # The items of a step are independent (references point to earlier steps), so a few
            # are in flight at once (one by one where their order matters); each is recorded as
            # soon as it is created.
            bodies = [(item["key"], resolve(_resolved(item, ledger), ledger, day)) for item in items]
            failure: DemoDataFailed | None = None
            for start in range(0, len(bodies), step.in_flight):
                chunk = bodies[start : start + step.in_flight]
                posted = {pool.submit(_post, client, url, path, body, token): key for key, body in chunk}
                for done in as_completed(posted):
                    try:
                        resource_id = done.result()
                    except DemoDataFailed as error:
                        failure = failure or error  # the others still finish and are recorded
                        continue
                    ledger.record(step.name, posted[done], resource_id)
                    created += 1
                    progress.advance(task)
            if failure is not None:
                raise failure
    return created


def _load_documents(
    *, ledger: DemoLedger, base_urls: dict[str, str], region: str, documents: Sequence[DemoDocument]
) -> int:
    created = 0
    with httpx.Client(timeout=60.0) as client:
        for document in documents:
            if ledger.id_of(document.name, "document") is not None:
                continue
            token = local_token(region=region, roles=[document.role], subject="nzr-demo")
            url = f"{base_urls[document.service]}{document.path}"
            try:
                response = client.post(
                    url,
                    content=document.body(),
                    headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
                )
            except httpx.HTTPError as error:
                raise DemoDataFailed(f"{url} did not answer: {error!r}") from error
            if response.is_error:
                raise DemoDataFailed(
                    f"{url} refused the {document.label}: {response.status_code} {response.text[:500]}"
                )
            ledger.record(document.name, "document", "imported")
            created += 1
    return created


def _not_loaded(step: DemoStep, ledger: DemoLedger) -> list[dict[str, Any]]:
    return [item for item in step.items() if ledger.id_of(step.name, item["key"]) is None]


def _resolved(item: dict[str, Any], ledger: DemoLedger) -> dict[str, Any]:
    """The item with each ``{"$ref": "<step>/<key>"}`` replaced by the id the ledger holds."""
    resolved = {}
    for field, value in item.items():
        if isinstance(value, dict) and set(value) == {"$ref"}:
            step, key = value["$ref"].split("/", 1)
            found = ledger.id_of(step, key)
            if found is None:
                raise DemoDataFailed(f"{item['key']!r} refers to {value['$ref']!r}, which was not loaded")
            value = found
        resolved[field] = value
    return resolved


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _post(client: httpx.Client, base_url: str, path: str, item: dict[str, Any], token: str) -> str:
    in_path = set(_PLACEHOLDER.findall(path))
    url = base_url + path.format(**{field: item[field] for field in in_path})
    body = {field: value for field, value in item.items() if field != "key" and field not in in_path}
    try:
        response = client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        raise DemoDataFailed(f"{url} did not answer for {item['key']!r}: {error!r}") from error
    if response.is_error:
        raise DemoDataFailed(f"{url} refused {item['key']!r}: {response.status_code} {response.text[:500]}")
    # A registration is answered 202 without an id (the mail tells the registrant).
    return str(response.json().get("id", "accepted"))
