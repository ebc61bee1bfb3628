"""Workbooks: load dated contributions from the projections (facts, or the daily and monthly
summaries) and let the pure rules in ``indicators/rules.py`` turn them into figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import and_, case, func, literal, null, or_, select, union, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from nzr_reporting.indicators import rules
from nzr_reporting.indicators.catalogue import IndicatorDefinition
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
from nzr_reporting.indicators.rules import Delta, Totals
from nzr_reporting.indicators.scope import Scope
from nzr_reporting.state.models import RegionCoverage

Sums = dict[str, dict[tuple[str, str, str], float]]


@dataclass
class Workbook:
    """The figures of one request: every kind of contribution is loaded once and shared.

    For a single reference day (``as_of``) stocks are summed up in the database, so a request
    reads a row per region and group instead of a row per day; for a series the contributions
    are read per day and summed up month by month in ``domain``.
    """

    session: AsyncSession
    scope: Scope
    as_of: date | None = None
    #: False: region values only (the state overview), skipping the per-district queries of
    #: figures whose districts come from other projections (cooperations, agreements).
    districts: bool = True
    _cache: dict[tuple[Any, ...], list[Delta]] = field(default_factory=dict)

    def _in_scope(self, column: Any) -> Any:
        return column.in_(self.scope.regions)

    async def _dated(
        self,
        model: Any,
        *,
        on: Any,
        off: Any = None,
        amount: Any = None,
        district: Any = None,
        key: Any = None,
        where: tuple[Any, ...] = (),
        flow: bool = False,
    ) -> list[Delta]:
        """Contributions of ``model`` rows: +amount on ``on``, −amount on ``off``, by region,
        district and breakdown key."""
        amount = amount if amount is not None else func.count()
        groups = [
            model.region,
            district if district is not None else null(),
            key if key is not None else null(),
        ]
        conditions = [on.is_not(None), self._in_scope(model.region), *where]
        day = self.as_of
        if day is not None and flow:
            # What was added in the reference day's month: only that month's rows are read.
            conditions.append(on >= day.replace(day=1))
        if day is None:
            dates = [on, off if off is not None else null()]
            rows = await self.session.execute(
                select(*groups, *dates, amount).where(*conditions).group_by(*_real(*groups, *dates))
            )
            deltas = []
            for region, district_code, key_value, start, end, total in map(tuple, rows):
                deltas.append(Delta(region, start, float(total or 0), district_code, key_value))
                if end is not None:
                    deltas.append(Delta(region, end, -float(total or 0), district_code, key_value))
            return deltas
        if off is not None:
            amount = func.sum(case((off.is_not(None) & (off <= day), 0), else_=1))
        rows = await self.session.execute(
            select(*groups, amount).where(*conditions, on <= day).group_by(*_real(*groups))
        )
        return [Delta(region, day, float(total or 0), d, k) for region, d, k, total in map(tuple, rows)]

    async def _load(self, name: tuple[Any, ...], loader: Any) -> list[Delta]:
        if name not in self._cache:
            self._cache[name] = await loader()
        return self._cache[name]

    async def actors(self, breakdown: str | None = None) -> list[Delta]:
        a = ActorFact
        registered = (a.registered_on.is_not(None),)
        if breakdown == "topic":

            async def by_topic() -> list[Delta]:
                rows = await self.session.execute(
                    select(a.region, a.district, a.topics, a.registered_on, a.removed_on).where(
                        *registered, self._in_scope(a.region)
                    )
                )
                deltas = []
                for region, district, topics, on, off in rows:
                    if on is None:  # not selected: ``registered`` asks for a date
                        continue
                    for topic in topics or ["ohne_thema"]:
                        deltas.append(Delta(region, on, 1, district, topic))
                        if off:
                            deltas.append(Delta(region, off, -1, district, topic))
                return deltas

            return await self._load(("actors", "topic"), by_topic)
        key = {"kind": a.kind, "sector": a.sector, "district": a.district}.get(breakdown or "")
        return await self._load(
            ("actors", breakdown),
            lambda: self._dated(
                a, on=a.registered_on, off=a.removed_on, district=a.district, key=key, where=registered
            ),
        )

    async def cooperations(self, which: str) -> list[Delta]:
        c = CooperationFact
        where = {
            "cross": (c.cross_sector.is_(True),),
            "from_gatherings": (c.origin_agreement_id.is_not(None),),
        }.get(which, ())
        ends = which in ("active", "cross")
        return await self._load(
            ("cooperations", which),
            lambda: self._dated(
                c, on=c.since, off=c.until if ends else None, where=where, flow=which == "new"
            ),
        )

    async def cooperating_pairs(self) -> list[Delta]:
        """Distinct pairs of the region's actors with a running cooperation (``rules.pair_deltas``):
        the numerator of the network density, defined as in the actors service's metrics."""
        c, a, b = CooperationFact, aliased(ActorFact), aliased(ActorFact)

        async def load() -> list[Delta]:
            rows = await self.session.execute(
                select(c.region, c.actor_a, c.actor_b, c.since, c.until, a.district, b.district)
                .join(a, (a.region == c.region) & (a.actor_id == c.actor_a))
                .join(b, (b.region == c.region) & (b.actor_id == c.actor_b))
                .where(
                    self._in_scope(c.region),
                    c.since.is_not(None),
                    a.registered_on.is_not(None),
                    b.registered_on.is_not(None),
                )
            )
            return rules.pair_deltas(rows)

        return await self._load(("cooperating_pairs",), load)

    async def cooperations_by_district(self, which: str) -> list[Delta]:
        """Cooperations by the districts of their partners: one with partners in two districts
        counts in both (``within``: only those whose partners are both in the same district)."""
        c, a, b = CooperationFact, aliased(ActorFact), aliased(ActorFact)
        columns = (c.region, c.cooperation_id, c.since, c.until, c.cross_sector, c.origin_agreement_id)
        scoped = self._in_scope(c.region)

        def partner(actor: Any, alias: Any) -> Any:
            return (alias.region == c.region) & (alias.actor_id == actor)

        if which == "within":
            rows = (
                select(*columns, a.district.label("district"))
                .join(a, partner(c.actor_a, a))
                .join(b, partner(c.actor_b, b))
                .where(scoped, a.district == b.district)
                .subquery()
            )
        else:
            rows = union(
                *(
                    select(*columns, alias.district.label("district"))
                    .join(alias, partner(actor, alias))
                    .where(scoped, alias.district.is_not(None))
                    for actor, alias in ((c.actor_a, a), (c.actor_b, b))
                )
            ).subquery()
        r = rows.c
        where = {"cross": (r.cross_sector.is_(True),)}.get(which, ())
        return await self._load(
            ("cooperations_by_district", which),
            lambda: self._dated(
                r,
                on=r.since,
                off=r.until if which != "new" else None,
                district=r.district,
                where=where,
                flow=which == "new",
            ),
        )

    async def _cooperation_figures(self, which: str, days: list[date], kind: Any) -> list[Totals]:
        """Region figures of cooperations, with their split by district where asked for."""
        totals = rules.figures_at(await self.cooperations(which), days, kind)
        if not self.districts:
            return totals
        districts = rules.figures_at(await self.cooperations_by_district(which), days, kind)
        return [rules.with_districts(t, d) for t, d in zip(totals, districts, strict=True)]

    async def gatherings(self, measure: str, breakdown: str | None) -> list[Delta]:
        g = GatheringFact
        amount = func.sum(func.coalesce(g.participants, g.attended, 0)) if measure == "participants" else None
        key = {"format": g.format, "district": g.district}.get(breakdown or "")
        return await self._load(
            ("gatherings", measure, breakdown),
            lambda: self._dated(
                g,
                on=held_on(g),
                amount=amount,
                district=g.district,
                key=key,
                where=(g.completed_on.is_not(None), g.cancelled_on.is_(None)),
            ),
        )

    async def bne_gatherings(self, measure: str, breakdown: str | None) -> list[Delta]:
        """Completed gatherings on education for sustainable development (BNE) and their
        participants, by the event's start; ``target_group``: participants by target group
        (counts recorded at attendance; the rest as ``ohne_angabe``)."""
        g = GatheringFact
        where = (g.completed_on.is_not(None), g.cancelled_on.is_(None), g.bne.is_(True))
        if breakdown == "target_group":

            async def by_group() -> list[Delta]:
                rows = await self.session.execute(
                    select(
                        g.region, g.district, held_on(g), g.participants, g.attended, g.by_target_group
                    ).where(*where, self._in_scope(g.region), held_on(g) <= (self.as_of or date.max))
                )
                deltas = []
                for region, district, on, participants, attended, groups in rows:
                    counted = dict(groups or {})
                    rest = (participants if participants is not None else attended or 0) - sum(
                        counted.values()
                    )
                    if rest > 0:
                        counted["ohne_angabe"] = rest
                    deltas += [
                        Delta(region, on, float(n), district, group) for group, n in counted.items() if n
                    ]
                return deltas

            return await self._load(("bne_gatherings", "target_group"), by_group)
        amount = func.sum(func.coalesce(g.participants, g.attended, 0)) if measure == "participants" else None
        key = {"format": g.format, "district": g.district}.get(breakdown or "")
        return await self._load(
            ("bne_gatherings", measure, breakdown),
            lambda: self._dated(g, on=held_on(g), amount=amount, district=g.district, key=key, where=where),
        )

    async def education_actors(self, breakdown: str | None = None) -> list[Delta]:
        """Education institutions (actor kind ``bildungseinrichtung``) among the actors."""
        a = ActorFact
        key = a.district if breakdown == "district" else None
        return await self._load(
            ("education_actors", breakdown),
            lambda: self._dated(
                a,
                on=a.registered_on,
                off=a.removed_on,
                district=a.district,
                key=key,
                where=(a.registered_on.is_not(None), a.kind == EDUCATION_KIND),
            ),
        )

    async def education_cooperations(self) -> list[Delta]:
        """Active cooperations with at least one education institution among the partners."""
        c, a = CooperationFact, ActorFact
        educational = (
            select(a.actor_id)
            .where(a.region == c.region, a.kind == EDUCATION_KIND, a.actor_id.in_([c.actor_a, c.actor_b]))
            .correlate(c)
            .exists()
        )
        return await self._load(
            ("education_cooperations",),
            lambda: self._dated(c, on=c.since, off=c.until, where=(educational,)),
        )

    async def agreements(self) -> list[Delta]:
        async def load() -> list[Delta]:
            h, f, g = AgreementStatusChange, AgreementFact, GatheringFact
            # An agreement lies in the district of the gathering that reached it.
            gathering = (g.region == f.region) & (g.event_id == f.event_id)
            day = datetime.combine(self.as_of, datetime.max.time(), UTC) if self.as_of else None
            if day is not None:
                # Each agreement's status on the day: its latest change until then, else the
                # status it was recorded with (the primary key index answers the subquery).
                latest = (
                    select(h.status)
                    .where(h.region == f.region, h.agreement_id == f.agreement_id, h.at <= day)
                    .order_by(h.at.desc())
                    .limit(1)
                    .correlate(f)
                    .scalar_subquery()
                )
                status = func.coalesce(latest, f.initial_status)
                district = g.district if self.districts else null()
                query = (
                    select(f.region, district, status, func.count()).select_from(f).outerjoin(g, gathering)
                )
                # Counted from the start of its gathering when known, else from its recording.
                counted = or_(g.starts_on <= self.as_of, and_(g.starts_on.is_(None), f.recorded_at <= day))
                rows = await self.session.execute(
                    query.where(f.recorded_at.is_not(None), counted, self._in_scope(f.region)).group_by(
                        *_real(f.region, district, status)
                    )
                )
                return [Delta(region, day.date(), n, code, key) for region, code, key, n in rows]
            items = await self.session.execute(
                select(f.region, f.agreement_id, f.recorded_at, f.initial_status, g.district, g.starts_on)
                .select_from(f)
                .outerjoin(g, gathering)
                .where(f.recorded_at.is_not(None), self._in_scope(f.region))
            )
            changes = await self.session.execute(
                select(h.region, h.agreement_id, h.at, h.status).where(self._in_scope(h.region))
            )
            recorded, districts = [], {}
            for region, agreement, at, initial, code, held in items:
                if at is None:  # not selected: ``recorded_at`` is asked for
                    continue
                if held is not None:  # counted from the start of its gathering
                    at = datetime.combine(held, time.min, UTC)
                recorded.append((region, agreement, at, initial))
                districts[(region, agreement)] = code
            return rules.status_deltas(recorded, changes.all(), districts)

        return await self._load(("agreements",), load)

    async def subscribers(self) -> list[Delta]:
        async def load() -> list[Delta]:
            s = ListReachSnapshot
            query = select(s.region, s.list_id, s.on_date, s.confirmed_subscribers).where(
                self._in_scope(s.region)
            )
            if self.as_of is not None:
                latest = (
                    select(s.region, s.list_id, func.max(s.on_date).label("on_date"))
                    .where(self._in_scope(s.region), s.on_date <= self.as_of)
                    .group_by(s.region, s.list_id)
                    .subquery()
                )
                query = query.join(
                    latest,
                    (latest.c.region == s.region)
                    & (latest.c.list_id == s.list_id)
                    & (latest.c.on_date == s.on_date),
                )
            rows = await self.session.execute(query)
            return rules.snapshot_deltas(rows.all())

        return await self._load(("subscribers",), load)

    async def campaigns(self) -> list[Delta]:
        c = CampaignFact
        return await self._load(
            ("campaigns",), lambda: self._dated(c, on=c.finished_on, amount=func.sum(c.delivered))
        )

    async def searches(self) -> list[Delta]:
        s = FundingSearchFact
        return await self._load(("searches",), lambda: self._dated(s, on=s.performed_on))

    async def matches(self, breakdown: str | None) -> list[Delta]:
        m = FundingMatchFact
        return await self._load(
            ("matches", breakdown),
            lambda: self._dated(
                m,
                on=m.performed_on,
                district=m.district,
                key=m.district if breakdown == "district" else None,
            ),
        )

    async def population(self) -> dict[str, dict[str, int]]:
        """Inhabitants per district of each region: the region's configured districts, or
        (state mode) the districts its heartbeat names."""
        if self.scope.own_region_districts is not None:
            people = {code: d.population for code, d in self.scope.own_region_districts.items()}
            return {region: people for region in self.scope.regions}
        result: dict[str, dict[str, int]] = {region: {} for region in self.scope.regions}
        covered = {
            region: districts
            for region, districts in await self.session.execute(
                select(RegionCoverage.region, RegionCoverage.districts).where(
                    self._in_scope(RegionCoverage.region)
                )
            )
        }
        # Every district a region covers (its heartbeat says which), with or without actors;
        # for a region that has not said so yet, the districts in which it has registered actors.
        pairs = {(region, code) for region, codes in covered.items() for code in codes} | {
            (d.region, d.district) for d in await self.actors() if d.region not in covered
        }
        for region, code in pairs:
            if code in self.scope.districts:
                result.setdefault(region, {})[code] = self.scope.districts[code].population
        return result

    async def figures(
        self, definition: IndicatorDefinition, days: list[date], breakdown: str | None = None
    ) -> list[Totals]:
        """The indicator's totals per region as of each of ``days`` (ascending)."""
        stock: Literal["bestand", "zugang"] = "bestand"
        if len(days) == 1 and self.as_of is None:
            self.as_of = days[0]
        if self.as_of is not None and days != [self.as_of]:
            raise ValueError("a workbook for one reference day serves only that day")
        match definition.id:
            case "actors_total":
                return rules.figures_at(await self.actors(breakdown), days, stock)
            case "actor_density_per_10k":
                actors = rules.figures_at(await self.actors(), days, stock)
                population = await self.population()
                return [rules.density_per_10k(t, population) for t in actors]
            case "cooperations_active":
                return await self._cooperation_figures("active", days, stock)
            case "cooperations_new":
                return await self._cooperation_figures("new", days, "zugang")
            case "cross_sector_share":
                cross = await self._cooperation_figures("cross", days, stock)
                active = await self._cooperation_figures("active", days, stock)
                return [rules.ratio(c, a) for c, a in zip(cross, active, strict=True)]
            case "network_density":
                actors = rules.figures_at(await self.actors(), days, stock)
                pairs = rules.figures_at(await self.cooperating_pairs(), days, stock)
                return [
                    rules.network_density(a, p, p if self.districts else None)
                    for a, p in zip(actors, pairs, strict=True)
                ]
            case "cooperations_from_gatherings":
                return rules.figures_at(await self.cooperations("from_gatherings"), days, stock)
            case "gatherings_held":
                return rules.figures_at(await self.gatherings("count", breakdown), days, stock)
            case "participants_total":
                return rules.figures_at(await self.gatherings("participants", breakdown), days, stock)
            case "agreements_total":
                return rules.figures_at(await self.agreements(), days, stock)
            case "agreements_implementation_rate":
                # Implemented among all agreements not dropped, per region and district.
                deltas = await self.agreements()
                done = rules.figures_at([d for d in deltas if d.key == "umgesetzt"], days, stock)
                relevant = rules.figures_at([d for d in deltas if d.key != "verworfen"], days, stock)
                return [rules.ratio(d, r) for d, r in zip(done, relevant, strict=True)]
            case "newsletter_subscribers":
                return rules.figures_at(await self.subscribers(), days, stock)
            case "campaign_reach":
                return rules.figures_at(await self.campaigns(), days, stock)
            case "funding_searches":
                return rules.figures_at(await self.searches(), days, stock)
            case "funding_matches":
                return rules.figures_at(await self.matches(breakdown), days, stock)
            case "bne_gatherings_held":
                return rules.figures_at(await self.bne_gatherings("count", breakdown), days, stock)
            case "bne_participants":
                return rules.figures_at(await self.bne_gatherings("participants", breakdown), days, stock)
            case "education_institutions":
                return rules.figures_at(await self.education_actors(breakdown), days, stock)
            case "cooperations_with_education":
                return rules.figures_at(await self.education_cooperations(), days, stock)
        raise AssertionError(f"no rule for indicator {definition.id}")


@dataclass
class SummaryWorkbook(Workbook):
    """Region figures as of one day read from the monthly summaries (``summaries``): whole
    months before the day's month and the days of its own month, in one indexed query, instead
    of sums over the fact tables. Serves the state overview (no district split of cooperations
    and agreements, no breakdowns); gives the same figures as ``Workbook``."""

    districts: bool = False
    _sums: tuple[Sums, Sums] | None = None

    async def _summed(self) -> tuple[Sums, Sums]:
        """(stock as of the day, what was added in its month until the day) by measure and
        (region, district, key)."""
        if self._sums is None:
            day = self.as_of
            assert day is not None, "summaries serve one reference day"
            first = day.replace(day=1)
            m, d = MonthlyFigure, DailyFigure
            months = (
                select(m.region, m.measure, m.district, m.key, func.sum(m.amount), literal(0))
                .where(m.region.in_(self.scope.regions), m.month < first)
                .group_by(m.region, m.measure, m.district, m.key)
            )
            days = (
                select(d.region, d.measure, d.district, d.key, func.sum(d.amount), literal(1))
                .where(d.region.in_(self.scope.regions), d.day >= first, d.day <= day)
                .group_by(d.region, d.measure, d.district, d.key)
            )
            stock: Sums = defaultdict(dict)
            month: Sums = defaultdict(dict)
            for region, measure, district, key, amount, this_month in await self.session.execute(
                union_all(months, days)
            ):
                slot = (region, district, key)
                stock[measure][slot] = stock[measure].get(slot, 0.0) + float(amount or 0)
                if this_month:
                    month[measure][slot] = float(amount or 0)
            self._sums = (stock, month)
        return self._sums

    async def _deltas(self, measure: str, *, added: bool = False) -> list[Delta]:
        async def load() -> list[Delta]:
            stock, month = await self._summed()
            assert self.as_of is not None
            return [
                Delta(region, self.as_of, amount, district or None, key or None)
                for (region, district, key), amount in (month if added else stock).get(measure, {}).items()
            ]

        return await self._load(("summary", measure, added), load)

    async def actors(self, breakdown: str | None = None) -> list[Delta]:
        if breakdown is not None:
            return await super().actors(breakdown)

        async def load() -> list[Delta]:
            stock, _ = await self._summed()
            assert self.as_of is not None
            actors = stock.get("actors", {})
            # A district counts (for the population) once an actor registered there, even if removed.
            return [
                Delta(region, self.as_of, actors.get((region, district, key), 0.0), district or None, None)
                for (region, district, key), registered in stock.get("actors_registered", {}).items()
                if registered > 0
            ]

        return await self._load(("summary", "actors"), load)

    async def cooperations(self, which: str) -> list[Delta]:
        if which == "new":
            return await self._deltas("cooperations_started", added=True)
        measure = {"active": "cooperations", "cross": "cooperations_cross"}.get(
            which, "cooperations_" + which
        )
        return await self._deltas(measure)

    async def gatherings(self, measure: str, breakdown: str | None) -> list[Delta]:
        if breakdown is not None:
            return await super().gatherings(measure, breakdown)
        return await self._deltas("participants" if measure == "participants" else "gatherings")

    async def bne_gatherings(self, measure: str, breakdown: str | None) -> list[Delta]:
        if breakdown is not None:
            return await super().bne_gatherings(measure, breakdown)
        return await self._deltas("bne_participants" if measure == "participants" else "bne_gatherings")

    async def education_actors(self, breakdown: str | None = None) -> list[Delta]:
        if breakdown is not None:
            return await super().education_actors(breakdown)
        return await self._deltas("education_actors")

    async def agreements(self) -> list[Delta]:
        return await self._deltas("agreements")

    async def cooperating_pairs(self) -> list[Delta]:
        return await self._deltas("cooperating_pairs")

    async def education_cooperations(self) -> list[Delta]:
        return await self._deltas("cooperations_education")

    async def subscribers(self) -> list[Delta]:
        return await self._deltas("subscribers")

    async def campaigns(self) -> list[Delta]:
        return await self._deltas("campaign_reach")

    async def searches(self) -> list[Delta]:
        return await self._deltas("funding_searches")

    async def matches(self, breakdown: str | None) -> list[Delta]:
        if breakdown is not None:
            return await super().matches(breakdown)
        return await self._deltas("funding_matches")


def _real(*columns: Any) -> list[Any]:
    """The columns worth grouping by (not the NULL placeholders)."""
    return [c for c in columns if not isinstance(c, type(null()))]
