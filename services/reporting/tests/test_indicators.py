"""Indicators built from shareable events only, on a real NATS server and a real database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from nzr_common.contracts import actors, events
from nzr_common.regions import DISTRICTS_SOURCE, load_districts
from nzr_common.testing.services import running_service
from nzr_reporting.app import create_app
from nzr_reporting.rebuild.service import rebuild

from .conftest import Reporting, start_reporting
from .events import (
    DRESDEN,
    ERZGEBIRGE,
    LEIPZIG,
    actor,
    agreement,
    agreement_status,
    campaign,
    cooperation,
    gathering_completed,
    match,
    new_id,
    search,
    subscription,
)


def values_of(report: dict, indicator_id: str) -> dict:
    indicator = next(i for i in report["indicators"] if i["id"] == indicator_id)
    return indicator["values"][0]


async def test_every_indicator_has_a_german_label_definition_unit_and_source_events(reporting: Reporting):
    definitions = await reporting.get("/indicators/definitions")
    assert len(definitions) >= 15
    for definition in definitions:
        assert definition["label"] and definition["definition"] and definition["unit"]
        assert all(e.startswith("nzr.") for e in definition["source_events"]) and definition["source_events"]


async def test_full_flow_of_shareable_events_yields_every_indicator(reporting: Reporting):
    a = actor(district=DRESDEN, kind="verein", sector="zivilgesellschaft", topics=("mobilitaet",))
    b = actor(district=DRESDEN, kind="unternehmen", sector="wirtschaft")
    c = actor(district=ERZGEBIRGE, kind="kommune", sector="verwaltung_politik")
    workshop = gathering_completed(fmt="workshop", district=DRESDEN, participants=25)
    conference = gathering_completed(fmt="regionalkonferenz", district=ERZGEBIRGE, participants=80)
    deal = agreement(workshop.event_id, [a.actor_id, b.actor_id])
    dropped = agreement(workshop.event_id, [b.actor_id, c.actor_id])
    await reporting.publish(
        a,
        b,
        c,
        workshop,
        conference,
        deal,
        dropped,
        agreement_status(deal.agreement_id, "umgesetzt"),
        agreement_status(dropped.agreement_id, "verworfen"),
        cooperation(a.actor_id, b.actor_id, cross_sector=True, origin_agreement_id=deal.agreement_id),
        cooperation(a.actor_id, c.actor_id, cross_sector=False),
        subscription("liste-region", 41),
        subscription("liste-region", 42),
        subscription("liste-energie", 7),
        campaign(delivered=40),
        search(),
        search(),
        match(DRESDEN),
    )
    await reporting.settled()
    report = await reporting.get("/indicators")
    figures = {i["id"]: i["values"][0]["value"] for i in report["indicators"]}
    assert figures == {
        "actors_total": 3,
        "actor_density_per_10k": figures["actor_density_per_10k"],
        "cooperations_active": 2,
        "cooperations_new": 2,
        "cross_sector_share": 50,
        "network_density": 66.6667,
        "cooperations_from_gatherings": 1,
        "gatherings_held": 2,
        "participants_total": 105,
        "agreements_total": 2,
        "agreements_implementation_rate": 100,
        "newsletter_subscribers": 49,
        "campaign_reach": 40,
        "funding_searches": 2,
        "funding_matches": 1,
        # no BNE event or education institution in this flow (see the Bildungskommune test)
        "bne_gatherings_held": 0,
        "bne_participants": 0,
        "education_institutions": 0,
        "cooperations_with_education": 0,
    }
    assert values_of(report, "actors_total")["by_district"] == {DRESDEN: 2, ERZGEBIRGE: 1}
    assert values_of(report, "gatherings_held")["by_district"] == {DRESDEN: 1, ERZGEBIRGE: 1}
    assert report["freshness"][reporting.region] is not None


async def test_cooperations_and_agreements_are_figured_per_district_from_events(reporting: Reporting):
    a, b = actor(district=DRESDEN, sector="wirtschaft"), actor(district=DRESDEN)
    c = actor(district=ERZGEBIRGE, kind="kommune", sector="verwaltung_politik")
    workshop = gathering_completed(district=DRESDEN)
    conference = gathering_completed(fmt="regionalkonferenz", district=ERZGEBIRGE)
    done = agreement(workshop.event_id, [a.actor_id, b.actor_id])
    pending = agreement(conference.event_id, [c.actor_id])
    dropped = agreement(conference.event_id, [c.actor_id])
    await reporting.publish(
        a,
        b,
        c,
        workshop,
        conference,
        done,
        pending,
        dropped,
        agreement_status(done.agreement_id, "umgesetzt"),
        agreement_status(dropped.agreement_id, "verworfen"),
        cooperation(a.actor_id, b.actor_id, cross_sector=True),  # within Dresden
        cooperation(a.actor_id, c.actor_id, cross_sector=False),  # Dresden and Erzgebirge
    )
    await reporting.settled()
    report = await reporting.get("/indicators")
    by_district = {
        i["id"]: (i["values"][0]["value"], i["values"][0]["by_district"]) for i in report["indicators"]
    }
    # a cooperation across two districts counts in both; the region counts it once
    assert by_district["cooperations_active"] == (2, {DRESDEN: 2, ERZGEBIRGE: 1})
    assert by_district["cooperations_new"] == (2, {DRESDEN: 2, ERZGEBIRGE: 1})
    assert by_district["cross_sector_share"] == (50, {DRESDEN: 50, ERZGEBIRGE: 0})
    # per district: cooperations within the district among the possible pairs of its actors
    assert by_district["network_density"] == (66.6667, {DRESDEN: 100, ERZGEBIRGE: 0})
    # an agreement lies in the district of the gathering that reached it
    assert by_district["agreements_total"] == (3, {DRESDEN: 1, ERZGEBIRGE: 2})
    assert by_district["agreements_implementation_rate"] == (50, {DRESDEN: 100, ERZGEBIRGE: 0})

    series = await reporting.get("/indicators/agreements_implementation_rate/series")
    assert series["series"][0]["points"][-1]["by_district"] == {DRESDEN: 100, ERZGEBIRGE: 0}
    series = await reporting.get("/indicators/cooperations_active/series")
    assert series["series"][0]["points"][-1]["by_district"] == {DRESDEN: 2, ERZGEBIRGE: 1}
    overview = await reporting.get("/overview")
    cells = {r["indicator_id"]: r["cells"][0]["value"] for r in overview["rows"]}
    assert cells["cooperations_active"] == 2 and cells["agreements_implementation_rate"] == 50


async def test_actors_are_broken_down_by_kind_sector_and_topic(reporting: Reporting):
    await reporting.publish(
        actor(kind="verein", sector="zivilgesellschaft", topics=("mobilitaet", "bne")),
        actor(kind="verein", sector="zivilgesellschaft", topics=("mobilitaet",)),
        actor(kind="unternehmen", sector="wirtschaft", topics=()),
    )
    await reporting.settled()
    by = {}
    for breakdown in ("kind", "sector", "topic"):
        indicator = await reporting.get("/indicators/actors_total", params={"by": breakdown})
        by[breakdown] = indicator["values"][0]["breakdown"]
    assert by["kind"] == {"unternehmen": 1, "verein": 2}
    assert by["sector"] == {"wirtschaft": 1, "zivilgesellschaft": 2}
    assert by["topic"] == {"bne": 1, "mobilitaet": 2, "ohne_thema": 1}


async def test_density_per_10k_uses_district_population_and_names_its_source(reporting: Reporting):
    await reporting.publish(*[actor(district=LEIPZIG) for _ in range(3)], actor(district=DRESDEN))
    await reporting.settled()
    density = await reporting.get("/indicators/actor_density_per_10k")
    leipzig = load_districts()[LEIPZIG].population
    assert density["population_source"] == DISTRICTS_SOURCE
    assert density["unit"] == "Akteure je 10.000 Einwohner"
    assert density["values"][0]["by_district"][LEIPZIG] == round(3 / leipzig * 10_000, 4)
    total = sum(d.population for d in load_districts().values())
    assert density["values"][0]["value"] == round(4 / total * 10_000, 4)


async def test_value_as_of_a_past_day_and_monthly_series_follow_the_event_dates(reporting: Reporting):
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=100)
    old, recent = actor(at=long_ago), actor(at=now)
    await reporting.publish(old, recent, actors.ActorRemoved(actor_id=old.actor_id, removed_at=now))
    await reporting.settled()
    before = await reporting.get(
        "/indicators/actors_total", params={"as_of": str((now - timedelta(days=50)).date())}
    )
    assert before["values"][0]["value"] == 1
    series = await reporting.get(
        "/indicators/actors_total/series", params={"from": f"{long_ago:%Y-%m}", "to": f"{now:%Y-%m}"}
    )
    points = series["series"][0]["points"]
    assert points[0] == {
        "month": f"{long_ago:%Y-%m}",
        "value": 1,
        "by_district": {DRESDEN: 1},
        "breakdown": None,
    }
    assert points[-1]["value"] == 1  # the old one removed, the recent one registered
    assert len(points) >= 4


async def test_events_and_their_agreements_count_in_the_month_the_event_took_place(reporting: Reporting):
    now = datetime.now(UTC)
    held = (now.replace(day=1) - timedelta(days=40)).replace(hour=18)  # two months back at most
    late = gathering_completed(participants=30, starts_at=held, at=now)  # completed weeks later
    deal = agreement(late.event_id, ["a", "b"])
    await reporting.publish(late, deal)
    await reporting.settled()
    window = {"from": f"{held:%Y-%m}", "to": f"{now:%Y-%m}"}
    for indicator_id, expected in (("gatherings_held", 1), ("participants_total", 30)):
        series = await reporting.get(f"/indicators/{indicator_id}/series", params=window)
        points = series["series"][0]["points"]
        assert points[0]["month"] == f"{held:%Y-%m}"
        assert {p["value"] for p in points} == {expected}, indicator_id  # from its own month on
    # as of the day before it took place, neither the event nor its agreement counted yet
    before = await reporting.get("/indicators", params={"as_of": str((held - timedelta(days=1)).date())})
    assert values_of(before, "gatherings_held")["value"] == 0
    assert values_of(before, "agreements_total")["value"] == 0
    on_the_day = await reporting.get("/indicators", params={"as_of": str(held.date())})
    assert values_of(on_the_day, "gatherings_held")["value"] == 1
    assert values_of(on_the_day, "agreements_total")["value"] == 1


async def test_new_cooperations_count_per_calendar_month(reporting: Reporting):
    today = datetime.now(UTC).date()
    last_month = today.replace(day=1) - timedelta(days=1)
    await reporting.publish(
        cooperation("a", "b", since=last_month),
        cooperation("a", "c", since=today),
        cooperation("b", "c", since=today),
    )
    await reporting.settled()
    series = await reporting.get(
        "/indicators/cooperations_new/series", params={"from": f"{last_month:%Y-%m}", "to": f"{today:%Y-%m}"}
    )
    assert [p["value"] for p in series["series"][0]["points"]] == [1, 2]


async def test_events_arriving_out_of_order_end_in_the_same_figures(reporting: Reporting):
    a = actor(kind="verein")
    update = actors.ActorUpdated(
        **{**a.model_dump(exclude={"registered_at"}), "kind": "stiftung"},
        updated_at=datetime.now(UTC),
        version=2,
    )
    completed = gathering_completed(participants=12)
    deal = agreement(completed.event_id, [a.actor_id])
    # the update, the status change and the attendance come before the facts they refer to
    await reporting.publish(
        update,
        agreement_status(deal.agreement_id, "umgesetzt", datetime.now(UTC)),
        events.AttendanceRecorded(event_id=completed.event_id, confirmed=15, waiting=0, attended=14),
    )
    await reporting.publish(a, completed, deal)
    await reporting.settled()
    kinds = await reporting.get("/indicators/actors_total", params={"by": "kind"})
    assert kinds["values"][0]["breakdown"] == {"stiftung": 1}
    report = await reporting.get("/indicators")
    assert values_of(report, "agreements_implementation_rate")["value"] == 100
    assert values_of(report, "participants_total")["value"] == 12


async def test_redelivered_events_are_counted_once(reporting: Reporting):
    envelopes = await reporting.publish(actor(), actor())
    for envelope in envelopes:  # copies past the duplicate window, as a late redelivery would be
        await reporting.publish_raw(envelope.nats_subject(), envelope.to_json())
    await reporting.settled()
    report = await reporting.get("/indicators")
    assert values_of(report, "actors_total")["value"] == 2
    status = await reporting.get("/status")
    assert sum(c["duplicates"] for c in status["consumers"]) == 2


def unknown_event(region: str, event_id: str) -> tuple[str, bytes]:
    """A well-formed envelope of an event type a later actors service might publish."""
    envelope = {
        "specversion": "1.0",
        "id": event_id,
        "type": "nzr.actors.actor_renamed_in_future.v1",
        "source": "/regions/x/actors",
        "subject": "a",
        "time": "2026-01-05T10:00:00Z",
        "region": region,
        "data": {"actor_id": "a"},
    }
    return f"nzr.{region}.pub.actors.actor_renamed_in_future.v1", json.dumps(envelope).encode()


async def test_event_of_unknown_type_is_skipped_and_counted_once_across_redelivery_and_restart(
    nats_url, databases, nats_js
):
    async with start_reporting(nats_url, databases, nats_js) as reporting:
        subject, payload = unknown_event(reporting.region, new_id())
        await reporting.publish_raw(subject, payload)
        await reporting.publish_raw(subject, payload)  # a late redelivery of the same event
        await reporting.publish_raw(*unknown_event(reporting.region, new_id()))
        await reporting.publish(actor())
        await reporting.settled()
        status = await reporting.get("/status")
        assert values_of(await reporting.get("/indicators"), "actors_total")["value"] == 1
    assert status["ignored_unknown_types"] == 2
    assert status["skipped_event_types"] == {"nzr.actors.actor_renamed_in_future.v1": 2}
    by_consumer = {c["consumer"]: c["ignored_unknown_types"] for c in status["consumers"]}
    assert by_consumer["reporting__pub_actors"] == 2

    async with running_service(create_app, reporting.settings, "nzr_reporting") as restarted:
        response = await restarted.client.get("/api/v1/reports/status")
    assert response.json()["ignored_unknown_types"] == 2

    result = await rebuild(reporting.settings)
    assert (result.applied, result.ignored) == (1, 2)
    async with running_service(create_app, reporting.settings, "nzr_reporting") as rebuilt:
        response = await rebuilt.client.get("/api/v1/reports/status")
    assert response.json()["skipped_event_types"] == {"nzr.actors.actor_renamed_in_future.v1": 2}


async def test_no_email_address_or_person_name_is_stored_after_a_full_flow(reporting: Reporting):
    from nzr_common.contracts import newsletter

    a = actor()
    await reporting.publish(a, cooperation(a.actor_id, "b"), gathering_completed(), subscription("l", 1))
    # region-private events with personal data travel on priv subjects reporting never reads
    await reporting.publish(
        actors.ContactAdded(
            person_id="p1",
            actor_id=a.actor_id,
            name="Erika Mustermann",
            email="erika.mustermann@example.org",
            consent_purpose="Netzwerk",
            consent_at=datetime.now(UTC),
            consent_source="formular",
        ),
        events.RegistrationConfirmed(
            registration_id="r1",
            event_id="e1",
            name="Max Mustermann",
            email="max@example.org",
            confirmed_at=datetime.now(UTC),
        ),
        newsletter.SubscriptionRequested(
            subscriber_id="s1",
            list_id="l",
            email="max@example.org",
            source="formular",
            requested_at=datetime.now(UTC),
        ),
    )
    await reporting.publish(actor())
    reporting.published -= 3  # not subscribed: never delivered to reporting
    await reporting.settled()
    runtime = reporting.running.runtime
    async with runtime.sessions() as session:
        dump = []
        for table in runtime.definition.metadata.sorted_tables:
            rows = (await session.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            dump.append(repr(rows))
    everything = "\n".join(dump)
    assert "@" not in everything
    for name in ("Mustermann", "Erika", "Bürgerenergie"):
        assert name not in everything


async def test_as_of_date_in_the_future_or_before_any_month_is_refused(reporting: Reporting):
    future = (date.today() + timedelta(days=40)).isoformat()
    response = await reporting.client.get("/api/v1/reports/indicators", params={"as_of": future})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_reused_report_is_replaced_as_soon_as_a_new_event_is_applied(reporting: Reporting):
    await reporting.publish(actor())
    await reporting.settled()
    assert values_of(await reporting.get("/indicators"), "actors_total")["value"] == 1
    await reporting.publish(actor())
    await reporting.settled()
    assert values_of(await reporting.get("/indicators"), "actors_total")["value"] == 2
    overview = await reporting.get("/overview")
    row = next(r for r in overview["rows"] if r["indicator_id"] == "actors_total")
    assert row["cells"] == [{"region": reporting.region, "value": 2, "rank": None}]


async def test_bildungskommune_figures_count_bne_events_participants_by_target_group_and_education_actors(
    reporting: Reporting,
):
    school, kita, club = (
        actor(kind="bildungseinrichtung", district=DRESDEN),
        actor(kind="bildungseinrichtung", district=ERZGEBIRGE),
        actor(kind="verein", district=DRESDEN),
    )
    bne_day = gathering_completed(participants=40, topics=("bne", "natur_umwelt"), district=DRESDEN)
    other = gathering_completed(participants=15, topics=("mobilitaet",))
    counts = {"schueler": 25, "lehrkraefte": 5, "multiplikatoren": 0}
    await reporting.publish(
        school,
        kita,
        club,
        cooperation(school.actor_id, club.actor_id),
        cooperation(club.actor_id, "someone-else"),
        bne_day,
        other,
        events.AttendanceRecorded(
            event_id=bne_day.event_id, confirmed=40, waiting=0, attended=38, by_target_group=counts
        ),
    )
    await reporting.settled()
    report = await reporting.get("/indicators")
    assert values_of(report, "bne_gatherings_held")["value"] == 1
    assert values_of(report, "bne_participants")["value"] == 40
    assert values_of(report, "education_institutions")["by_district"] == {DRESDEN: 1, ERZGEBIRGE: 1}
    assert values_of(report, "cooperations_with_education")["value"] == 1
    by_group = await reporting.get("/indicators/bne_participants", params={"by": "target_group"})
    assert by_group["values"][0]["breakdown"] == {"lehrkraefte": 5, "ohne_angabe": 10, "schueler": 25}
