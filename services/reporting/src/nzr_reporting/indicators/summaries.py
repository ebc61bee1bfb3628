"""Monthly and daily summaries of the projections, read by the state overview.

Every projection row (an actor, a cooperation, a gathering, an agreement with its status
history, a mailing list's reach, a campaign, a funding search or match) contributes dated
amounts to named measures: +1 to ``actors`` on its registration day, −1 on its removal day, …
The summaries hold these contributions summed per region, day (``daily_figures``) or month
(``monthly_figures``), measure, district and key, so a stock as of a day is the sum of whole
months before it plus the days of its own month — a few hundred rows instead of the fact tables.

They are kept in step in the transaction that changes the projections: right before it commits,
the rows it touches are read before and after the queued upserts are written and the difference
of their contributions is added (``maintain``). The rebuild skips that per batch and computes
them once from the rebuilt projections (``recompute``). The contributions reproduce exactly what
the as-of-day queries of ``indicators.workbook.Workbook`` count (region figures, no district split of
cooperations and agreements).
"""

from __future__ import annotations

import typing
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    String,
    Table,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from nzr_common.db import dialect_insert
from nzr_reporting.indicators import rules
from nzr_reporting.indicators.bulk import upsert_distinct
from nzr_reporting.indicators.models import (
    EDUCATION_KIND,
    ActorFact,
    AgreementFact,
    AgreementStatusChange,
    CampaignFact,
    CooperationFact,
    DailyFigure,
    FundingMatchFact,
    FundingSearchFact,
    GatheringFact,
    ListReachSnapshot,
    MonthlyFigure,
    held_on,
)

#: (region, measure, day, district, key) → amount; ``""`` stands for no district or key.
Contributions = dict[tuple[str, str, date, str, str], float]
NONE = ""
SKIP_INFO_KEY = "nzr_reporting_skip_summaries"
_CHUNK = 500


@dataclass(frozen=True)
class Source:
    """A kind of projection row: the tables whose rows make it, its key columns, how to load
    rows by key and what they contribute."""

    name: str
    key_columns: tuple[str, str]

    def load(self, session: Session, keys: list[tuple[str, ...]] | None) -> Iterator[Any]:
        """Rows of this source for ``keys`` (all rows when ``None``)."""
        return _LOADERS[self.name](session, keys)

    def contribute(self, rows: Iterable[Any], into: Contributions, sign: float = 1.0) -> None:
        _CONTRIBUTORS[self.name](rows, into, sign)


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _add(
    into: Contributions,
    region: str,
    measure: str,
    day: date,
    amount: float,
    district: Any = None,
    key: Any = None,
) -> None:
    slot = (region, measure, day, district or NONE, key or NONE)
    into[slot] = into.get(slot, 0.0) + amount


def _keyed(
    session: Session, query: Any, columns: tuple[Any, Any], keys: list[tuple[str, ...]] | None
) -> Iterator[Any]:
    if keys is None:
        yield from session.execute(query.execution_options(yield_per=5000))
        return
    for start in range(0, len(keys), _CHUNK):
        yield from session.execute(query.where(tuple_(*columns).in_(keys[start : start + _CHUNK])))


def _load_actors(session: Session, keys: Any) -> Iterator[Any]:
    a = ActorFact
    query = select(a.region, a.district, a.registered_on, a.removed_on, a.kind).where(
        a.registered_on.is_not(None)
    )
    return _keyed(session, query, (a.region, a.actor_id), keys)


def _actors(rows: Iterable[Any], into: Contributions, sign: float) -> None:
    for region, district, on, off, kind in rows:
        measures = ["actors", "education_actors"] if kind == EDUCATION_KIND else ["actors"]
        for measure in measures:
            _add(into, region, measure, on, sign, district)
            if off is not None:
                # Counted as of a day only from its registration on (a removal dated earlier ends it there).
                _add(into, region, measure, max(on, off), -sign, district)
        _add(into, region, "actors_registered", on, sign, district)


def _load_cooperations(session: Session, keys: Any) -> Iterator[Any]:
    c, a = CooperationFact, ActorFact
    # With an education institution among the partners (as ``Workbook.education_cooperations``).
    educational = (
        select(a.actor_id)
        .where(a.region == c.region, a.kind == EDUCATION_KIND, a.actor_id.in_([c.actor_a, c.actor_b]))
        .correlate(c)
        .exists()
    )
    query = select(c.region, c.since, c.until, c.cross_sector, c.origin_agreement_id, educational).where(
        c.since.is_not(None)
    )
    return _keyed(session, query, (c.region, c.cooperation_id), keys)


def _cooperations(rows: Iterable[Any], into: Contributions, sign: float) -> None:
    for region, since, until, cross, origin, educational in rows:
        measures = ["cooperations", "cooperations_cross"] if cross is True else ["cooperations"]
        if educational:
            measures.append("cooperations_education")
        for measure in measures:
            _add(into, region, measure, since, sign)
            if until is not None:
                _add(into, region, measure, max(since, until), -sign)
        _add(into, region, "cooperations_started", since, sign)
        if origin is not None:
            _add(into, region, "cooperations_from_gatherings", since, sign)


def _load_pairs(session: Session, keys: Any) -> Iterator[Any]:
    """Cooperations of the pairs (region, lower actor id, higher actor id) between registered
    actors, as ``Workbook.cooperating_pairs`` reads them (no district: region figures)."""
    c, a, b = CooperationFact, aliased(ActorFact), aliased(ActorFact)
    query = (
        select(c.region, c.actor_a, c.actor_b, c.since, c.until, null(), null())
        .join(a, (a.region == c.region) & (a.actor_id == c.actor_a))
        .join(b, (b.region == c.region) & (b.actor_id == c.actor_b))
        .where(c.since.is_not(None), a.registered_on.is_not(None), b.registered_on.is_not(None))
    )
    if keys is None:
        yield from session.execute(query.execution_options(yield_per=5000))
        return
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        yield from session.execute(
            query.where(
                or_(
                    tuple_(c.region, c.actor_a, c.actor_b).in_(chunk),
                    tuple_(c.region, c.actor_b, c.actor_a).in_(chunk),
                )
            )
        )


def _pairs(rows: Iterable[Any], into: Contributions, sign: float) -> None:
    """Distinct cooperating pairs (the numerator of the network density): every cooperation of
    a pair must be among ``rows`` (the loader reads pairs whole)."""
    for delta in rules.pair_deltas(rows):
        _add(into, delta.region, "cooperating_pairs", delta.on, sign * delta.amount)


def _load_gatherings(session: Session, keys: Any) -> Iterator[Any]:
    g = GatheringFact
    query = select(g.region, g.district, held_on(g), g.participants, g.attended, g.bne).where(
        g.completed_on.is_not(None), g.cancelled_on.is_(None)
    )
    return _keyed(session, query, (g.region, g.event_id), keys)


def _gatherings(rows: Iterable[Any], into: Contributions, sign: float) -> None:
    for region, district, on, participants, attended, bne in rows:
        people = participants if participants is not None else attended
        for prefix in ("", "bne_") if bne else ("",):
            _add(into, region, prefix + "gatherings", on, sign, district)
            _add(into, region, prefix + "participants", on, sign * (people or 0), district)


def _load_agreements(session: Session, keys: Any) -> Iterator[Any]:
    f, h, g = AgreementFact, AgreementStatusChange, GatheringFact
    # An agreement counts from the start of the gathering that reached it (when known).
    facts = (
        select(f.region, f.agreement_id, f.recorded_at, f.initial_status, g.starts_on)
        .select_from(f)
        .outerjoin(g, (g.region == f.region) & (g.event_id == f.event_id))
        .where(f.recorded_at.is_not(None))
    )
    changes = select(h.region, h.agreement_id, h.at, h.status)
    history: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for region, agreement, at, status in _keyed(session, changes, (h.region, h.agreement_id), keys):
        history[(region, agreement)].append((at, status))
    for region, agreement, recorded_at, initial, held in _keyed(
        session, facts, (f.region, f.agreement_id), keys
    ):
        first = held if held is not None else _day(recorded_at)
        yield region, first, initial, sorted(history.get((region, agreement), []))


def _agreements(rows: Iterable[Any], into: Contributions, sign: float) -> None:
    """An agreement counts from its recording day under its status on each day: the latest
    change until the day's end, else the status it was recorded with."""
    for region, first, initial, changes in rows:
        status_by_day: dict[date, str] = {}
        for at, status in changes:  # ascending: the day's last change wins
            status_by_day[max(_day(at), first)] = status
        current = status_by_day.pop(first, initial)
        _add(into, region, "agreements", first, sign, None, current)
        for day in sorted(status_by_day):
            status = status_by_day[day]
            if status != current:
                _add(into, region, "agreements", day, -sign, None, current)
                _add(into, region, "agreements", day, sign, None, status)
                current = status


def _load_reach(session: Session, keys: Any) -> Iterator[Any]:
    s = ListReachSnapshot
    query = select(s.region, s.list_id, s.on_date, s.confirmed_subscribers)
    levels: dict[tuple[str, str], list[tuple[date, int]]] = defaultdict(list)
    for region, list_id, day, level in _keyed(session, query, (s.region, s.list_id), keys):
        levels[(region, list_id)].append((day, level))
    for (region, _), series in levels.items():
        yield region, sorted(series)


def _reach(rows: Iterable[Any], into: Contributions, sign: float) -> None:
    for region, series in rows:
        previous = 0.0
        for day, level in series:
            if level != previous:
                _add(into, region, "subscribers", day, sign * (level - previous))
            previous = level


def _load_simple(model: Any, key: str, *columns: str) -> Any:
    def load(session: Session, keys: Any) -> Iterator[Any]:
        query = select(model.region, *(getattr(model, c) for c in columns))
        return _keyed(session, query, (model.region, getattr(model, key)), keys)

    return load


def _campaigns(rows: Iterable[Any], into: Contributions, sign: float) -> None:
    for region, finished_on, delivered in rows:
        if finished_on is not None:
            _add(into, region, "campaign_reach", finished_on, sign * (delivered or 0))


def _searches(rows: Iterable[Any], into: Contributions, sign: float) -> None:
    for region, performed_on in rows:
        if performed_on is not None:
            _add(into, region, "funding_searches", performed_on, sign)


def _matches(rows: Iterable[Any], into: Contributions, sign: float) -> None:
    for region, performed_on, district in rows:
        if performed_on is not None:
            _add(into, region, "funding_matches", performed_on, sign, district)


_LOADERS = {
    "actors": _load_actors,
    "cooperations": _load_cooperations,
    "gatherings": _load_gatherings,
    "agreements": _load_agreements,
    "pairs": _load_pairs,
    "reach": _load_reach,
    "campaigns": _load_simple(CampaignFact, "campaign_id", "finished_on", "delivered"),
    "searches": _load_simple(FundingSearchFact, "search_id", "performed_on"),
    "matches": _load_simple(FundingMatchFact, "match_id", "performed_on", "district"),
}
_CONTRIBUTORS = {
    "actors": _actors,
    "cooperations": _cooperations,
    "gatherings": _gatherings,
    "agreements": _agreements,
    "pairs": _pairs,
    "reach": _reach,
    "campaigns": _campaigns,
    "searches": _searches,
    "matches": _matches,
}

#: projection table → the source its rows belong to and the columns naming the source's row
SOURCES: dict[str, tuple[Source, tuple[str, str]]] = {}
for _name, _model, _key in [
    ("actors", ActorFact, ("region", "actor_id")),
    ("cooperations", CooperationFact, ("region", "cooperation_id")),
    ("gatherings", GatheringFact, ("region", "event_id")),
    ("agreements", AgreementFact, ("region", "agreement_id")),
    ("agreements", AgreementStatusChange, ("region", "agreement_id")),
    ("reach", ListReachSnapshot, ("region", "list_id")),
    ("campaigns", CampaignFact, ("region", "campaign_id")),
    ("searches", FundingSearchFact, ("region", "search_id")),
    ("matches", FundingMatchFact, ("region", "match_id")),
]:
    SOURCES[_model.__tablename__] = (Source(_name, _key), _key)


#: distinct cooperating pairs, keyed (region, lower actor id, higher actor id): no table of
#: their own; touched through their cooperations and actors (``with_cooperation_dependants``)
PAIRS = Source("pairs", ("region", "pair"))
ALL_SOURCES = frozenset({source for source, _ in SOURCES.values()} | {PAIRS})


def affected(by_table: dict[str, list[tuple[Any, ...]]]) -> dict[Source, list[tuple[str, ...]]]:
    """The source rows that queued upserts (table name → [(statement, values)]) touch."""
    keys: dict[Source, set[tuple[str, str]]] = defaultdict(set)
    for table, operations in by_table.items():
        known = SOURCES.get(table)
        if known is None:
            continue
        source, (region, ident) = known
        keys[source].update((op[1][region], op[1][ident]) for op in operations)
    return {source: sorted(found) for source, found in keys.items()}


def with_agreements_of_gatherings(
    session: Session, keys: dict[Source, list[tuple[str, ...]]]
) -> dict[Source, list[tuple[str, ...]]]:
    """Touched gatherings also touch the agreements reached there (they count from its start)."""
    gatherings = next((found for source, found in keys.items() if source.name == "gatherings"), None)
    if not gatherings:
        return keys
    f = AgreementFact
    agreements = {
        (region, agreement)
        for start in range(0, len(gatherings), _CHUNK)
        for region, agreement in session.execute(
            select(f.region, f.agreement_id).where(
                tuple_(f.region, f.event_id).in_(gatherings[start : start + _CHUNK])
            )
        )
    }
    if not agreements:
        return keys
    source = SOURCES[AgreementFact.__tablename__][0]
    merged = dict(keys)
    merged[source] = sorted(agreements | set(keys.get(source, [])))
    return merged


def _pair(region: str, a: str | None, b: str | None) -> tuple[str, ...] | None:
    return None if a is None or b is None else (region, min(a, b), max(a, b))


def with_cooperation_dependants(
    session: Session,
    keys: dict[Source, list[tuple[str, ...]]],
    by_table: dict[str, list[tuple[Any, ...]]],
) -> dict[Source, list[tuple[str, ...]]]:
    """Touched actors also touch their cooperations (an education institution among the
    partners) and their pairs (registered partners); touched cooperations touch their pairs,
    before and after the queued upserts (``fill_known`` keeps a partner not sent anew)."""
    by_name = {source.name: found for source, found in keys.items()}
    actors_touched = by_name.get("actors") or []
    cooperations = set(by_name.get("cooperations") or [])
    operations = by_table.get(CooperationFact.__tablename__, [])
    if not actors_touched and not cooperations:
        return keys
    c = CooperationFact
    pairs: set[tuple[str, ...]] = set()
    partners: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    touched = sorted(cooperations)
    for start in range(0, len(touched), _CHUNK):
        for region, ident, a, b in session.execute(
            select(c.region, c.cooperation_id, c.actor_a, c.actor_b).where(
                tuple_(c.region, c.cooperation_id).in_(touched[start : start + _CHUNK])
            )
        ):
            partners[(region, ident)] = (a, b)
    for start in range(0, len(actors_touched), _CHUNK):
        chunk = actors_touched[start : start + _CHUNK]
        for region, ident, a, b in session.execute(
            select(c.region, c.cooperation_id, c.actor_a, c.actor_b).where(
                or_(tuple_(c.region, c.actor_a).in_(chunk), tuple_(c.region, c.actor_b).in_(chunk))
            )
        ):
            cooperations.add((region, ident))
            partners[(region, ident)] = (a, b)
    for (region, _), (a, b) in partners.items():
        if (pair := _pair(region, a, b)) is not None:
            pairs.add(pair)
    current = dict(partners)
    for operation in operations:  # in the order they are written
        values = operation[1]
        slot = (values["region"], values["cooperation_id"])
        a, b = current.get(slot, (None, None))
        a, b = values.get("actor_a") or a, values.get("actor_b") or b
        current[slot] = (a, b)
        if (pair := _pair(slot[0], a, b)) is not None:
            pairs.add(pair)
    merged = dict(keys)
    merged[SOURCES[CooperationFact.__tablename__][0]] = sorted(cooperations)
    if pairs:
        merged[PAIRS] = sorted(pairs)
    return merged


def contributions_of(
    session: Session, keys: dict[Source, list[tuple[str, ...]]], into: Contributions, sign: float
) -> None:
    for source, found in keys.items():
        source.contribute(source.load(session, found), into, sign)


@cache
def _add_statement(dialect: str, table: Table) -> Any:
    statement = dialect_insert(dialect, table)
    keys = [column.name for column in table.primary_key.columns]
    return statement.on_conflict_do_update(
        index_elements=keys, set_={"amount": table.c.amount + statement.excluded.amount}
    )


def add(session: Session, changes: Contributions, *, months: bool = True) -> None:
    """Add contributions to the daily and (``months``) monthly sums."""
    dialect = session.get_bind().dialect.name
    daily: list[dict[str, Any]] = []
    monthly_sums: defaultdict[tuple[Any, ...], float] = defaultdict(float)
    for (region, measure, day, district, key), amount in changes.items():
        if not amount:
            continue
        daily.append(
            {
                "region": region,
                "day": day,
                "measure": measure,
                "district": district,
                "key": key,
                "amount": amount,
            }
        )
        monthly_sums[(region, day.replace(day=1), measure, district, key)] += amount
    monthly = [
        {
            "region": region,
            "month": month,
            "measure": measure,
            "district": district,
            "key": key,
            "amount": amount,
        }
        for (region, month, measure, district, key), amount in monthly_sums.items()
        if amount and months
    ]
    for table, rows in ((DailyFigure.__table__, daily), (MonthlyFigure.__table__, monthly)):
        if dialect == "postgresql" and len(rows) > 1:
            # One statement per table (the rows' keys are distinct).
            summary = typing.cast(Table, table)
            upsert_distinct(session, summary, _SUMMARY_COLUMNS[summary.name], rows, _add_amount)
            continue
        for start in range(0, len(rows), 5000):
            session.execute(_add_statement(dialect, table), rows[start : start + 5000])


def _add_amount(new: Any, old: Any) -> dict[str, Any]:
    return {"amount": old.amount + new.amount}


_SUMMARY_COLUMNS = {
    "daily_figures": ("region", "day", "measure", "district", "key", "amount"),
    "monthly_figures": ("region", "month", "measure", "district", "key", "amount"),
}


def lock(session: Session) -> None:
    """Serialise changes of the summaries (PostgreSQL; SQLite has one writer anyway), so two
    transactions never both count the same row's old state. Plain reads are not blocked."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE daily_figures, monthly_figures IN SHARE ROW EXCLUSIVE MODE"))


def _day_contributions() -> list[Any]:
    """The contributions of the row-by-row sources as SELECTs of (region, day, measure,
    district, key, amount): what ``_actors``, ``_cooperations``, ``_gatherings``,
    ``_campaigns``, ``_searches`` and ``_matches`` add, computed by the database."""
    a, c, g = ActorFact, CooperationFact, GatheringFact

    def rows(model: Any, day: Any, measure: str, amount: Any, *where: Any, district: Any = None) -> Any:
        return select(
            model.region.label("region"),
            day.label("day"),
            literal(measure, String(40)).label("measure"),
            (func.coalesce(district, NONE) if district is not None else literal(NONE, String(8))).label(
                "district"
            ),
            literal(NONE, String(40)).label("key"),
            cast(amount, Float).label("amount"),
        ).where(*where)

    def ended(on: Any, off: Any) -> Any:  # the later of the two days
        return case((off > on, off), else_=on)

    registered = a.registered_on.is_not(None)
    removed = a.removed_on.is_not(None)
    education = a.kind == EDUCATION_KIND
    partner = aliased(ActorFact)
    educational = (
        select(partner.actor_id)
        .where(
            partner.region == c.region,
            partner.kind == EDUCATION_KIND,
            partner.actor_id.in_([c.actor_a, c.actor_b]),
        )
        .correlate(c)
        .exists()
    )
    started, until = c.since.is_not(None), c.until.is_not(None)
    held = (g.completed_on.is_not(None), g.cancelled_on.is_(None))
    people = func.coalesce(g.participants, g.attended, 0)
    bne = g.bne.is_(True)
    s, m, k = FundingSearchFact, FundingMatchFact, CampaignFact
    return [
        rows(a, a.registered_on, "actors", 1, registered, district=a.district),
        rows(a, ended(a.registered_on, a.removed_on), "actors", -1, registered, removed, district=a.district),
        rows(a, a.registered_on, "education_actors", 1, registered, education, district=a.district),
        rows(
            a,
            ended(a.registered_on, a.removed_on),
            "education_actors",
            -1,
            registered,
            removed,
            education,
            district=a.district,
        ),
        rows(a, a.registered_on, "actors_registered", 1, registered, district=a.district),
        rows(c, c.since, "cooperations", 1, started),
        rows(c, ended(c.since, c.until), "cooperations", -1, started, until),
        rows(c, c.since, "cooperations_cross", 1, started, c.cross_sector.is_(True)),
        rows(c, ended(c.since, c.until), "cooperations_cross", -1, started, until, c.cross_sector.is_(True)),
        rows(c, c.since, "cooperations_education", 1, started, educational),
        rows(c, ended(c.since, c.until), "cooperations_education", -1, started, until, educational),
        rows(c, c.since, "cooperations_started", 1, started),
        rows(c, c.since, "cooperations_from_gatherings", 1, started, c.origin_agreement_id.is_not(None)),
        rows(g, held_on(g), "gatherings", 1, *held, district=g.district),
        rows(g, held_on(g), "participants", people, *held, district=g.district),
        rows(g, held_on(g), "bne_gatherings", 1, *held, bne, district=g.district),
        rows(g, held_on(g), "bne_participants", people, *held, bne, district=g.district),
        rows(k, k.finished_on, "campaign_reach", func.coalesce(k.delivered, 0), k.finished_on.is_not(None)),
        rows(s, s.performed_on, "funding_searches", 1, s.performed_on.is_not(None)),
        rows(m, m.performed_on, "funding_matches", 1, m.performed_on.is_not(None), district=m.district),
    ]


def _month_of(day: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month")


def recompute(session: Session) -> None:
    """Compute the summaries from the projections afresh (after a rebuild), set-based: the
    row-by-row sources are summed per day by one INSERT … SELECT … GROUP BY, the sources whose
    rows depend on each other (agreements with their status history, list reach, cooperating
    pairs) in Python, and the months from the days by another INSERT … SELECT."""
    lock(session)
    session.execute(delete(DailyFigure))
    session.execute(delete(MonthlyFigure))
    dialect = session.get_bind().dialect.name
    d, m = DailyFigure, MonthlyFigure
    every = union_all(*_day_contributions()).subquery()
    groups = (every.c.region, every.c.day, every.c.measure, every.c.district, every.c.key)
    total = func.sum(every.c.amount)
    session.execute(
        insert(d).from_select(
            ["region", "day", "measure", "district", "key", "amount"],
            select(*groups, total).group_by(*groups).having(total != 0),
        )
    )
    totals: Contributions = {}
    for source in ALL_SOURCES:
        if source.name in ("agreements", "reach", "pairs"):
            source.contribute(source.load(session, None), totals)
    add(session, totals, months=False)
    month = _month_of(d.day, dialect).label("month")
    monthly = (d.region, month, d.measure, d.district, d.key)
    amount = func.sum(d.amount)
    session.execute(
        insert(m).from_select(
            ["region", "month", "measure", "district", "key", "amount"],
            select(*monthly, amount).group_by(*monthly).having(amount != 0),
        )
    )
