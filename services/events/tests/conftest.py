"""The events service running in-process against a real NATS server and a real database."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest

from nzr_common.testing.services import running_service
from nzr_events.app import create_app
from nzr_events.settings import EventsSettings

sys.path.insert(0, str(Path(__file__).parent))  # the tests import events_testkit

from events_testkit import EventsService


@pytest.fixture(scope="module")
async def events_service(nats_url, databases, token_for):  # type: ignore[no-untyped-def]
    """One running service (own random region, own database) per test module and database kind;
    a fresh PostgreSQL database per test would spend most of the run creating and dropping."""
    region = f"e{uuid.uuid4().hex[:10]}"
    settings = EventsSettings(region=region, nats_url=nats_url, database_url=await databases.new("events"))
    async with running_service(create_app, settings, "nzr_events") as running:
        # Shutting down while messaging is still connecting costs the full grace period.
        for _ in range(200):
            if running.runtime.relay is not None:
                break
            await asyncio.sleep(0.02)
        yield EventsService(
            client=running.client,
            running=running,
            region=region,
            editor=token_for("editor", region=region),
            admin=token_for("admin", region=region),
        )


@pytest.fixture
async def events(events_service):  # type: ignore[no-untyped-def]
    """The module's service with empty tables, so each test starts from nothing."""
    await events_service.empty_tables()
    return events_service
