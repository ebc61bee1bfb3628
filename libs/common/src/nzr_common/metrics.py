"""Prometheus metrics of the plumbing every service shares, named after the Prometheus naming
guidelines: counters end in ``_total``, durations and ages are in seconds.

Counted as things happen (consumer outcomes, published events, rate-limited requests, mails) and
exposed as counters; what only the broker or the database knows (JetStream lag and redeliveries
per consumer, the outbox backlog and its oldest row, stored dead letters) is sampled by a
background task every ``METRICS_SAMPLE_SECONDS``, so a scrape never waits for NATS or the
database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from nzr_common.connection import NatsConnection
    from nzr_common.messaging import Subscription
    from nzr_common.outbox import OutboxRelay
    from nzr_common.tables import MessagingTables


class Plumbing(Protocol):
    """What the metrics read of a service's runtime (``nzr_common.runtime.Runtime``)."""

    subscriptions: list[Subscription]
    relay: OutboxRelay | None
    broker: NatsConnection
    registry: CollectorRegistry
    sessions: async_sessionmaker[AsyncSession]

    @property
    def tables(self) -> MessagingTables: ...


log = logging.getLogger(__name__)

#: Mails handed to SMTP, by outcome: ``sent`` (accepted), ``deferred`` (a temporary failure,
#: tried again later), ``bounced`` (refused for good), ``failed`` (could not be built).
MAIL_DELIVERIES = Counter(
    "nzr_mail_deliveries_total",
    "Mails handed to the SMTP server, by outcome (sent, deferred, bounced, failed)",
    ["outcome"],
    registry=None,
)
_MAIL_OUTCOMES = {"sent": "sent", "retry": "deferred", "deferred": "deferred", "bounced": "bounced"}


def count_mail(kind: str) -> None:
    """Count one SMTP attempt of the newsletter's delivery by its outcome kind (``sent``,
    ``retry`` → ``deferred``, ``bounced``; anything else → ``failed``)."""
    MAIL_DELIVERIES.labels(_MAIL_OUTCOMES.get(kind, "failed")).inc()


@dataclass
class ConsumerSample:
    """A consumer's figures as JetStream last reported them."""

    stream: str
    pending: int
    ack_pending: int
    redelivered: int


@dataclass
class Samples:
    """The last sampled figures (None: not sampled yet, or the source did not answer)."""

    consumers: dict[str, ConsumerSample] = field(default_factory=dict)
    outbox_unsent: int | None = None
    outbox_oldest_unsent_age: float | None = None
    dead_letters: dict[str, int] | None = None
    sampled_at: float | None = None


class PlumbingMetrics(Collector):
    """Reads the runtime's counters and last samples at scrape time (no I/O)."""

    def __init__(self, runtime: Plumbing) -> None:
        self.runtime = runtime
        self.samples = Samples()

    def collect(self) -> Iterator[Metric]:
        runtime = self.runtime
        connected = GaugeMetricFamily(
            "nzr_nats_connected", "1 while this process is connected to NATS (0: writes wait in the outbox)"
        )
        connected.add_metric([], 1 if _nats_connected(runtime) else 0)
        yield connected
        bound = GaugeMetricFamily(
            "nzr_consumer_bound", "1 while the durable consumer is bound to its stream", labels=["consumer"]
        )
        events = CounterMetricFamily(
            "nzr_consumer_events",
            "Events a consumer took from its stream, by outcome (handled, duplicate, ignored, "
            "retried, dead_lettered)",
            labels=["consumer", "outcome"],
        )
        for subscription in runtime.subscriptions:
            bound.add_metric([subscription.durable], 1 if subscription.binding.bound else 0)
            stats = subscription.batch.stats
            for outcome, value in (
                ("handled", stats.handled),
                ("duplicate", stats.duplicates),
                ("ignored", stats.ignored),
                ("retried", stats.retried),
                ("dead_lettered", stats.dead_lettered),
            ):
                events.add_metric([subscription.durable, outcome], value)
        last = GaugeMetricFamily(
            "nzr_consumer_last_event_timestamp_seconds",
            "CloudEvents time of the newest event the consumer handled, per source region",
            labels=["consumer", "region"],
        )
        for subscription in runtime.subscriptions:
            for region, at in subscription.batch.last_event_at.items():
                last.add_metric([subscription.durable, region], at)
        yield bound
        yield events
        yield last
        published = CounterMetricFamily(
            "nzr_outbox_published", "Events this process's outbox relay published to JetStream"
        )
        published.add_metric([], runtime.relay.published if runtime.relay else 0)
        yield published
        yield from self._sampled()

    def _sampled(self) -> Iterator[Metric]:
        samples = self.samples
        pending = GaugeMetricFamily(
            "nzr_consumer_pending_messages",
            "Messages in the stream the durable consumer has not been delivered yet (its lag)",
            labels=["consumer", "stream"],
        )
        ack_pending = GaugeMetricFamily(
            "nzr_consumer_ack_pending_messages",
            "Messages delivered to the consumer and not acknowledged yet",
            labels=["consumer", "stream"],
        )
        redelivered = GaugeMetricFamily(
            "nzr_consumer_redelivered_messages",
            "Messages delivered more than once and not acknowledged yet",
            labels=["consumer", "stream"],
        )
        for durable, sample in samples.consumers.items():
            pending.add_metric([durable, sample.stream], sample.pending)
            ack_pending.add_metric([durable, sample.stream], sample.ack_pending)
            redelivered.add_metric([durable, sample.stream], sample.redelivered)
        yield from (pending, ack_pending, redelivered)
        # The families are there before the first sample (HELP and TYPE only): a scrape names
        # everything the alert rules and the dashboard may ask for.
        unsent = GaugeMetricFamily("nzr_outbox_unsent_events", "Outbox rows not yet published")
        oldest = GaugeMetricFamily(
            "nzr_outbox_oldest_unsent_age_seconds", "Age of the oldest unpublished outbox row (0: none)"
        )
        if samples.outbox_unsent is not None:
            unsent.add_metric([], samples.outbox_unsent)
            oldest.add_metric([], samples.outbox_oldest_unsent_age or 0.0)
        yield from (unsent, oldest)
        letters = GaugeMetricFamily(
            "nzr_dead_letters", "Dead letters stored and not replayed, per consumer", labels=["consumer"]
        )
        if samples.dead_letters is not None:
            for consumer in {s.durable for s in self.runtime.subscriptions} | set(samples.dead_letters):
                letters.add_metric([consumer], samples.dead_letters.get(consumer, 0))
        yield letters
        at = GaugeMetricFamily(
            "nzr_metrics_sampled_timestamp_seconds", "When the sampled figures were last taken"
        )
        if samples.sampled_at is not None:
            at.add_metric([], samples.sampled_at)
        yield at


def install_metrics(runtime: Plumbing) -> PlumbingMetrics:
    """Register the plumbing metrics (and the mail counter) in the runtime's registry."""
    metrics = PlumbingMetrics(runtime)
    runtime.registry.register(metrics)
    runtime.registry.register(MAIL_DELIVERIES)
    return metrics


async def sample_forever(metrics: PlumbingMetrics, every_seconds: float) -> None:
    """Take the sampled figures now and every ``every_seconds``; a source that does not answer
    keeps its last figures (consumers) or drops them (database), and is asked again next time."""
    while True:
        try:
            await sample_once(metrics)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.debug("sampling metrics failed", exc_info=True)
        await asyncio.sleep(every_seconds)


async def sample_once(metrics: PlumbingMetrics) -> None:
    runtime = metrics.runtime
    samples = metrics.samples
    if _nats_connected(runtime):
        js = runtime.broker.connection.jetstream()
        for subscription in runtime.subscriptions:
            with contextlib.suppress(Exception):
                info = await js.consumer_info(subscription.stream, subscription.durable, timeout=2.0)
                samples.consumers[subscription.durable] = ConsumerSample(
                    stream=subscription.stream,
                    pending=info.num_pending or 0,
                    ack_pending=info.num_ack_pending or 0,
                    redelivered=info.num_redelivered or 0,
                )
    outbox, letters = runtime.tables.outbox, runtime.tables.dead_letters
    try:
        async with runtime.sessions() as session:
            unsent, oldest = (
                await session.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.sent_at.is_(None))
                )
            ).one()
            stored = (
                await session.execute(
                    select(letters.c.consumer, func.count())
                    .where(letters.c.replayed_at.is_(None))
                    .group_by(letters.c.consumer)
                )
            ).all()
    except Exception:
        samples.outbox_unsent = samples.outbox_oldest_unsent_age = samples.dead_letters = None
        raise
    now = datetime.now(UTC)
    samples.outbox_unsent = int(unsent)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    samples.outbox_oldest_unsent_age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    samples.dead_letters = {consumer: int(count) for consumer, count in stored}
    samples.sampled_at = now.timestamp()


def _nats_connected(runtime: Plumbing) -> bool:
    return runtime.broker.is_connected
