"""The demo's upcoming conference: loaded into a real events process, it has a programme with
parallel workshops, registrations and a waiting list, and loading again creates nothing."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console

from nzr_cli.demo.loader import DEMO_STEPS, DemoLedger, load_demo_data, resolve
from nzr_cli.tokens import local_token
from nzr_common.testing.processes import ServiceProcess


def test_references_to_earlier_items_and_days_are_filled_in(tmp_path: Path) -> None:
    ledger = DemoLedger(tmp_path / "ledger")
    ledger.record("conference", "konferenz", "ev-1")
    item = {"path": "/events/{id:conference/konferenz}/sessions", "at": ["{day:+30T09:30}", 3]}
    assert resolve(item, ledger, date(2027, 1, 31)) == {
        "path": "/events/ev-1/sessions",
        "at": ["2027-03-02T09:30:00", 3],
    }


def test_the_demo_conference_fills_up_and_keeps_a_waiting_list(tmp_path: Path, nats_url: str) -> None:
    service = ServiceProcess(
        "events",
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'events.db'}",
            "NATS_URL": nats_url,
            "REGION": "demo",
        },
        tmp_path,
    )
    service.migrate()
    service.start()
    try:
        service.wait_ready()
        steps = [step for step in DEMO_STEPS if step.service == "events"]
        ledger = DemoLedger(tmp_path / "demo-loaded")
        today = datetime.now(ZoneInfo("Europe/Berlin")).date()  # the event must lie ahead
        loaded = dict(
            ledger=ledger, base_urls={"events": service.url}, region="demo", console=Console(quiet=True)
        )
        # the series, then the conference, its programme, its publication and 8 registrations
        assert load_demo_data(**loaded, steps=steps, documents=(), today=today) == 1 + 1 + 6 + 1 + 8
        assert load_demo_data(**loaded, steps=steps, documents=(), today=today) == 0

        event_id = ledger.id_of("conference", "regionalkonferenz")
        event = httpx.get(f"{service.url}/api/v1/events/{event_id}").json()
        assert event["status"] == "published" and event["title"].startswith("Regionalkonferenz Klimaschutz")
        assert event["starts_at"].startswith((today + timedelta(days=30)).isoformat())
        assert (event["confirmed_count"], event["waiting_count"]) == (6, 2)
        programme = httpx.get(f"{service.url}/api/v1/events/{event_id}/sessions").json()
        workshops = [s for s in programme if s["kind"] == "workshop"]
        assert len(programme) == 6 and len({s["starts_at"] for s in workshops}) == 2
        assert all(0 < s["confirmed_count"] <= s["capacity"] for s in workshops)
        admin = {"Authorization": f"Bearer {local_token(region='demo', roles=['admin'])}"}
        registrations = httpx.get(
            f"{service.url}/api/v1/events/{event_id}/registrations", headers=admin
        ).json()["items"]
        waiting = [r["name"] for r in registrations if r["status"] == "waiting"]
        assert waiting == ["Katharina Meier", "Jonas Zimmermann"]
        assert all(r["email"].endswith("@example.org") for r in registrations)
        assert json.loads((tmp_path / "demo-loaded").read_text())["registrations"]
    finally:
        service.terminate()
