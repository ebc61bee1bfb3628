"""Service functions for goals and measures (the structure of municipal action plans):
state change and its events in one transaction, progress from the indicators."""

import uuid
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import UnaryExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.reporting import GoalDefined, MeasureStatusChanged
from nzr_common.errors import Conflict, FieldProblem, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_reporting.goals import rules as goal_rules
from nzr_reporting.goals.models import GoalChange, GoalRow, MeasureRow
from nzr_reporting.goals.overview import goals_of_regions as goals_of_regions  # the dashboard reads it here
from nzr_reporting.goals.schemas import (
    DIRECTION_LABELS,
    GoalChangePage,
    GoalChangeRead,
    GoalChangeSort,
    GoalCreate,
    GoalPage,
    GoalProgress,
    GoalRead,
    GoalSort,
    GoalUpdate,
    MeasureCreate,
    MeasurePage,
    MeasureRead,
    MeasureSort,
    MeasureUpdate,
)
from nzr_reporting.indicators import service as indicators
from nzr_reporting.indicators.catalogue import BY_ID
from nzr_reporting.indicators.scope import Scope


def _goal(row: GoalRow) -> GoalRead:
    return GoalRead.model_validate(
        {
            **{c.key: getattr(row, c.key) for c in GoalRow.__table__.columns},
            "direction_label": DIRECTION_LABELS.get(row.direction or ""),
        }
    )


def _measure(row: MeasureRow) -> MeasureRead:
    read = MeasureRead.model_validate(
        {
            **{c.key: getattr(row, c.key) for c in MeasureRow.__table__.columns},
            "responsible_actor_ids": row.responsible_actor_ids
            or ([row.responsible_actor_id] if row.responsible_actor_id else []),
            "event_ids": row.event_ids or [],
            "agreement_ids": row.agreement_ids or [],
        }
    )
    return read


def etag(version: int) -> str:
    """The ETag of a goal version (a strong tag: the version in quotes)."""
    return f'"{version}"'


class PreconditionRequired(Exception):
    """A change was sent without ``If-Match`` (the routes answer 428)."""


class PreconditionFailed(Exception):
    """The goal is no longer the version the caller read (the routes answer 412)."""

    def __init__(self, detail: str, *, version: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.version = version


def _check_version(row: GoalRow, if_match: str | None) -> None:
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you read, so no change is overwritten.")
    if if_match.strip() == "*":
        return
    versions = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    if str(row.version) not in versions:
        raise PreconditionFailed(
            f"The goal changed since you read it (now version {row.version}).", version=row.version
        )


async def _problems_of(
    session: AsyncSession, region: str, region_districts: set[str], goal: dict[str, Any], goal_id: str | None
) -> list[FieldProblem]:
    problems = goal_rules.check_goal(goal, region_districts=region_districts)
    parent_id = goal.get("parent_goal_id")
    if not problems and parent_id is not None:
        parent = await session.get(GoalRow, parent_id)
        if parent is None or parent.region != region or parent.level != "strategisch" or parent_id == goal_id:
            problems.append(("parent_goal_id", "no strategic goal with this id"))
    return problems


async def _baseline(session: AsyncSession, scope: Scope, goal: dict[str, Any]) -> float | None:
    """The indicator's value on the baseline date, when no baseline value was given."""
    if goal.get("indicator_id") is None or goal.get("baseline_value") is not None:
        return goal.get("baseline_value")
    return await indicators.current_value(
        session=session,
        scope=scope,
        indicator_id=goal["indicator_id"],
        as_of=goal["baseline_date"],
        district=goal.get("district"),
    )


def _announcement(row: GoalRow, *, deleted: bool = False) -> GoalDefined:
    return GoalDefined(
        goal_id=row.id,
        level=row.level,
        title=row.title,
        indicator_id=row.indicator_id,
        target_value=row.target_value,
        target_date=row.target_date,
        district=row.district,
        direction=row.direction,
        baseline_value=row.baseline_value,
        baseline_date=row.baseline_date,
        version=row.version,
        deleted=deleted,
    )


async def define_goal(
    *,
    session: AsyncSession,
    outbox: Outbox,
    scope: Scope,
    region: str,
    region_districts: set[str],
    data: GoalCreate,
) -> GoalRead:
    """Store a goal (baseline: the given value, else the indicator's value on the baseline date,
    default today); announce GoalDefined."""
    now = datetime.now(UTC)
    goal = data.model_dump()
    goal["baseline_date"] = goal["baseline_date"] or now.date()
    if goal["baseline_date"] > now.date():
        raise Invalid("Invalid goal", [("baseline_date", "lies in the future")])
    problems = await _problems_of(session, region, region_districts, goal, None)
    if problems:
        raise Invalid("Invalid goal", problems)
    goal["baseline_value"] = await _baseline(session, scope, goal)
    row = GoalRow(id=str(uuid.uuid4()), region=region, created_at=now, updated_at=now, version=1, **goal)
    session.add(row)
    await outbox.add(session, _announcement(row))
    await session.commit()
    return _goal(row)


async def update_goal(
    *,
    session: AsyncSession,
    outbox: Outbox,
    scope: Scope,
    region: str,
    region_districts: set[str],
    goal_id: str,
    data: GoalUpdate,
    if_match: str | None,
    editor: str,
) -> GoalRead:
    """Change the fields sent (``If-Match`` required); every changed field goes into the audit
    trail (who, when, old → new) and the goal is announced again with its new version."""
    row = await _load_goal(session, region, goal_id)
    _check_version(row, if_match)
    before = {name: getattr(row, name) for name in (*goal_rules.EDITABLE, "level")}
    after = {**before, **data.model_dump(exclude_unset=True)}
    if "title" in data.model_fields_set and data.title is None:
        raise Invalid("Invalid goal", [("title", "a goal needs a title")])
    today = datetime.now(UTC).date()
    if after["baseline_date"] is not None and after["baseline_date"] > today:
        raise Invalid("Invalid goal", [("baseline_date", "lies in the future")])
    problems = await _problems_of(session, region, region_districts, after, row.id)
    if problems:
        raise Invalid("Invalid goal", problems)
    measured = ("indicator_id", "district", "baseline_date")
    if "baseline_value" not in data.model_fields_set and any(before[n] != after[n] for n in measured):
        after["baseline_value"] = None  # measured again on the (new) baseline date
        after["baseline_value"] = await _baseline(
            session, scope, {**after, "baseline_date": after["baseline_date"] or today}
        )
    changed = goal_rules.changes(before, after)
    if not changed:
        return _goal(row)
    now = datetime.now(UTC)
    for name in goal_rules.EDITABLE:
        setattr(row, name, after[name])
    row.version += 1
    row.updated_at = now
    session.add_all(
        GoalChange(region=region, goal_id=row.id, at=now, actor=editor, field=name, old=old, new=new)
        for name, old, new in changed
    )
    await outbox.add(session, _announcement(row))
    await session.commit()
    return _goal(row)


async def delete_goal(
    *, session: AsyncSession, outbox: Outbox, region: str, goal_id: str, if_match: str | None, editor: str
) -> None:
    """Delete a goal (``If-Match`` required) that no operative goal or measure hangs on; the
    audit trail keeps the deletion."""
    row = await _load_goal(session, region, goal_id)
    _check_version(row, if_match)
    children = await session.scalar(select(func.count()).where(GoalRow.parent_goal_id == row.id))
    measures = await session.scalar(select(func.count()).where(MeasureRow.goal_id == row.id))
    if children or measures:
        raise Conflict(
            f"{children} operative goal(s) and {measures} measure(s) belong to this goal; "
            "move or delete them first.",
            title="Goal in use",
        )
    now = datetime.now(UTC)
    session.add(
        GoalChange(region=region, goal_id=row.id, at=now, actor=editor, field="*", old=row.title, new=None)
    )
    row.version += 1
    await outbox.add(session, _announcement(row, deleted=True))
    await session.delete(row)
    await session.commit()


async def goal_history_page(
    *, session: AsyncSession, region: str, goal_id: str, sort: GoalChangeSort, limit: int, offset: int
) -> GoalChangePage:
    """A page of the goal's audit trail in the order asked for (also of a deleted goal)."""
    where = (GoalChange.region == region, GoalChange.goal_id == goal_id)
    total = await session.scalar(select(func.count()).select_from(GoalChange).where(*where)) or 0
    if not total and await session.get(GoalRow, goal_id) is None:
        raise NotFound("goal", goal_id)
    order = (GoalChange.at.desc(), GoalChange.id.desc()) if sort == "-at" else (GoalChange.at, GoalChange.id)
    statement = select(GoalChange).where(*where).order_by(*order)
    rows = await session.scalars(statement.limit(limit).offset(offset))
    return GoalChangePage(
        items=[GoalChangeRead.model_validate(r, from_attributes=True) for r in rows], total=total
    )


_GOAL_ORDER: dict[str, tuple[UnaryExpression[Any], ...]] = {
    "level": (GoalRow.level.desc(), GoalRow.created_at.asc()),
    "title": (GoalRow.title.asc(),),
    "-title": (GoalRow.title.desc(),),
    "target_date": (GoalRow.target_date.asc().nulls_last(),),
    "-target_date": (GoalRow.target_date.desc().nulls_last(),),
    "created_at": (GoalRow.created_at.asc(),),
    "-created_at": (GoalRow.created_at.desc(),),
}


async def goal_page(
    *, session: AsyncSession, region: str, sort: GoalSort, limit: int, offset: int
) -> GoalPage:
    """A page of the region's goals in the order asked for (ties by id), with their number."""
    where = GoalRow.region == region
    total = await session.scalar(select(func.count()).select_from(GoalRow).where(where)) or 0
    rows = await session.scalars(
        select(GoalRow).where(where).order_by(*_GOAL_ORDER[sort], GoalRow.id).limit(limit).offset(offset)
    )
    return GoalPage(items=[_goal(row) for row in rows], total=total)


_MEASURE_ORDER: dict[str, UnaryExpression[Any]] = {
    "start": MeasureRow.start.asc().nulls_last(),
    "-start": MeasureRow.start.desc().nulls_last(),
    "end": MeasureRow.end.asc().nulls_last(),
    "-end": MeasureRow.end.desc().nulls_last(),
    "title": MeasureRow.title.asc(),
    "-title": MeasureRow.title.desc(),
}


async def measure_page(
    *, session: AsyncSession, region: str, goal_id: str | None, sort: MeasureSort, limit: int, offset: int
) -> MeasurePage:
    """A page of the region's measures, optionally of one goal, in the order asked for (ties by
    id), with their number."""
    where = [MeasureRow.region == region]
    if goal_id is not None:
        where.append(MeasureRow.goal_id == goal_id)
    total = await session.scalar(select(func.count()).select_from(MeasureRow).where(*where)) or 0
    statement = select(MeasureRow).where(*where).order_by(_MEASURE_ORDER[sort], MeasureRow.id)
    rows = await session.scalars(statement.limit(limit).offset(offset))
    return MeasurePage(items=[_measure(row) for row in rows], total=total)


async def list_goals(*, session: AsyncSession, region: str) -> list[GoalRead]:
    rows = await session.scalars(
        select(GoalRow).where(GoalRow.region == region).order_by(GoalRow.level.desc(), GoalRow.created_at)
    )
    return [_goal(row) for row in rows]


async def _load_goal(session: AsyncSession, region: str, goal_id: str) -> GoalRow:
    row = await session.get(GoalRow, goal_id)
    if row is None or row.region != region:
        raise NotFound("goal", goal_id)
    return row


async def get_goal(*, session: AsyncSession, region: str, goal_id: str) -> GoalRead:
    return _goal(await _load_goal(session, region, goal_id))


async def goal_progress(
    *, session: AsyncSession, scope: Scope, region: str, goal_id: str, as_of: date
) -> GoalProgress:
    """Current value against target and whether the goal is on track."""
    goal = await _load_goal(session, region, goal_id)
    if goal.indicator_id is None or goal.target_value is None or goal.target_date is None:
        raise Conflict(
            "This goal has no indicator, target value and target date to measure.",
            title="Goal without target",
        )
    current = await indicators.current_value(
        session=session, scope=scope, indicator_id=goal.indicator_id, as_of=as_of, district=goal.district
    )
    direction = goal.direction or goal_rules.derived_direction(goal.baseline_value, goal.target_value)
    progress = goal_rules.goal_progress(
        direction=direction,
        baseline=goal.baseline_value,
        current=current,
        target=goal.target_value,
        start=goal.baseline_date or goal.created_at.date(),
        target_date=goal.target_date,
        today=as_of,
    )
    statuses = Counter(await session.scalars(select(MeasureRow.status).where(MeasureRow.goal_id == goal.id)))
    return GoalProgress(
        goal_id=goal.id,
        title=goal.title,
        indicator_id=goal.indicator_id,
        unit=BY_ID[goal.indicator_id].unit,
        as_of=as_of,
        direction=direction,
        direction_label=DIRECTION_LABELS[direction],
        baseline_value=goal.baseline_value,
        baseline_date=goal.baseline_date or goal.created_at.date(),
        current_value=current,
        target_value=goal.target_value,
        target_date=goal.target_date,
        percent_of_target=progress.percent,
        expected_percent=progress.expected_percent,
        on_track=progress.on_track,
        state=progress.state,
        measures=dict(statuses),
    )


async def plan_measure(
    *, session: AsyncSession, outbox: Outbox, region: str, data: MeasureCreate
) -> MeasureRead:
    """Store a measure of a goal and announce its status."""
    problems = []
    goal = await session.get(GoalRow, data.goal_id)
    if goal is None or goal.region != region:
        problems.append(("goal_id", "no goal with this id in the region"))
    if data.start and data.end and data.end < data.start:
        problems.append(("end", "the end lies before the start"))
    if data.recommendation and not data.recommendation_to:
        problems.append(("recommendation_to", "say which institution the recommendation is addressed to"))
    if problems:
        raise Invalid("Invalid measure", problems)
    now = datetime.now(UTC)
    values = data.model_dump()
    values["milestones"] = [m.model_dump(mode="json") for m in data.milestones]
    responsible = list(
        dict.fromkeys(
            [*([data.responsible_actor_id] if data.responsible_actor_id else []), *data.responsible_actor_ids]
        )
    )
    values["responsible_actor_ids"] = responsible
    values["responsible_actor_id"] = responsible[0] if responsible else None
    row = MeasureRow(id=str(uuid.uuid4()), region=region, updated_at=now, **values)
    session.add(row)
    await outbox.add(
        session,
        MeasureStatusChanged(measure_id=row.id, goal_id=row.goal_id, status=row.status, changed_at=now),
    )
    await session.commit()
    return _measure(row)


async def update_measure(
    *, session: AsyncSession, outbox: Outbox, region: str, measure_id: str, data: MeasureUpdate
) -> MeasureRead:
    """Change a measure's status, milestones or end; a status change is announced."""
    row = await session.get(MeasureRow, measure_id)
    if row is None or row.region != region:
        raise NotFound("measure", measure_id)
    now = datetime.now(UTC)
    if data.end is not None and row.start is not None and data.end < row.start:
        raise Invalid("Invalid measure", [("end", "the end lies before the start")])
    if data.milestones is not None:
        row.milestones = [m.model_dump(mode="json") for m in data.milestones]
    if data.end is not None:
        row.end = data.end
    for name in ("resources_needed", "recommendation_to", "recommendation", "event_ids", "agreement_ids"):
        if name in data.model_fields_set:
            setattr(row, name, getattr(data, name) if getattr(data, name) is not None else _EMPTY.get(name))
    if data.responsible_actor_ids is not None:
        row.responsible_actor_ids = data.responsible_actor_ids
        row.responsible_actor_id = data.responsible_actor_ids[0] if data.responsible_actor_ids else None
    if row.recommendation and not row.recommendation_to:
        raise Invalid(
            "Invalid measure",
            [("recommendation_to", "say which institution the recommendation is addressed to")],
        )
    if data.status is not None and data.status != row.status:
        row.status = data.status
        await outbox.add(
            session,
            MeasureStatusChanged(measure_id=row.id, goal_id=row.goal_id, status=row.status, changed_at=now),
        )
    row.updated_at = now
    await session.commit()
    return _measure(row)


_EMPTY: dict[str, Any] = {"resources_needed": [], "event_ids": [], "agreement_ids": []}
