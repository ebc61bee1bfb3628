"""Migration 0004_ev_series: series stored without an end get one, and their dates stay."""

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from nzr_common.db import create_engine, migrate
from nzr_events.gatherings.models import EventRow
from nzr_events.series.models import SeriesRow
from nzr_events.series.rules import occurrences

FIRST = datetime(2027, 3, 16, 17, 0, tzinfo=UTC)  # 18:00 in Berlin


def _series(series_id: str, rule: str) -> SeriesRow:
    return SeriesRow(
        id=series_id,
        title="Initiativkreis",
        format="initiativkreis",
        rrule=rule,
        first_starts_at=FIRST,
        duration_minutes=120,
        exdates=[],
        created_at=FIRST - timedelta(days=30),
    )


def _occurrence(series_id: str, start: datetime) -> EventRow:
    return EventRow(
        id=f"{series_id}-{start:%m%d}",
        series_id=series_id,
        occurrence_starts_at=start,
        status="published",
        format="initiativkreis",
        title="Initiativkreis",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        topics=[],
        topic_tags="|",
        organiser_actor_ids=[],
        created_at=FIRST,
        updated_at=FIRST,
    )


def _columns_of(row: SeriesRow | EventRow, table: sa.Table) -> dict[str, object]:
    """The row's values for the columns ``table`` has, with the models' defaults filled in."""
    values: dict[str, object] = {}
    for column in row.__table__.columns:
        if column.name not in table.c:
            continue
        value = getattr(row, column.key)
        if value is None and column.default is not None and column.default.is_scalar:
            value = column.default.arg
        if value is None and column.default is not None and column.default.is_callable:
            value = column.default.arg(None)
        values[column.name] = value
    return values


async def test_series_without_an_end_end_after_their_last_scheduled_date(databases):
    url = await databases.new("events")
    await asyncio.to_thread(migrate, "nzr_events", url, "0003")
    # Winter time ends on 28 March: the last of three fortnightly dates is at 16:00 UTC.
    dates = [FIRST, datetime(2027, 3, 30, 16, 0, tzinfo=UTC), datetime(2027, 4, 13, 16, 0, tzinfo=UTC)]
    engine = create_engine(url)
    try:
        # Rows as revision 0003 knows them: only the columns its tables have (the models have
        # columns of later revisions, so the ORM cannot write them here).
        async with engine.begin() as connection:
            for model, rows in (
                (
                    SeriesRow,
                    [
                        _series("endless", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
                        _series("counted", "FREQ=WEEKLY;COUNT=4"),
                        _series("empty", "FREQ=MONTHLY"),
                    ],
                ),
                (EventRow, [_occurrence("endless", d) for d in dates]),
            ):
                table = await connection.run_sync(
                    lambda sync, name=model.__tablename__: sa.Table(name, sa.MetaData(), autoload_with=sync)
                )
                await connection.execute(sa.insert(table), [_columns_of(row, table) for row in rows])
        await asyncio.to_thread(migrate, "nzr_events", url)
        async with engine.connect() as connection:
            rules = {k: v for k, v in await connection.execute(sa.text("SELECT id, rrule FROM series"))}
    finally:
        await engine.dispose()
    assert rules == {
        "endless": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20270413T160000Z",
        "counted": "FREQ=WEEKLY;COUNT=4",
        "empty": "FREQ=MONTHLY;UNTIL=20280315T170000Z",
    }
    assert occurrences(rules["endless"], FIRST) == dates  # the scheduled dates, no more
