"""HTTP route of the CSV import: ``POST /api/v1/actors/import`` (the actors' router includes it,
so it keeps its place among the actors' routes)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from nzr_actors.bootstrap import DepsDep
from nzr_actors.imports import service
from nzr_actors.imports.schemas import ImportReport
from nzr_common.auth import EditorDep
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.runtime import SessionDep

router = APIRouter()


@router.post(
    "/import",
    response_model=ImportReport,
    operation_id="import_actors",
    dependencies=[IDEMPOTENT],
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_actors(
    request: Request,
    session: SessionDep,
    deps: DepsDep,
    _: EditorDep,
    dry_run: bool = False,
    all_or_nothing: Annotated[bool, Query(description="import nothing if any row is invalid")] = False,
    import_duplicates: Annotated[
        bool, Query(description="import new rows that look like existing actors or earlier rows too")
    ] = False,
    confirm_line: Annotated[
        list[int] | None, Query(description="lines of likely duplicates to import anyway (repeatable)")
    ] = None,
) -> ImportReport:
    """Import actors from a CSV file (UTF-8, `;` or `,`); invalid rows are reported by line.

    A new row that looks like an actor of its district (similar name, same website) or like an
    earlier row is listed in `likely_duplicates` with the candidates and imported only if
    confirmed (`import_duplicates=true`, or its line in `confirm_line`).
    """
    return await service.import_actors(
        session=session,
        outbox=deps.outbox,
        region=deps.region,
        topics=set(deps.topics),
        raw=await request.body(),
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        confirmed=None if import_duplicates else frozenset(confirm_line or ()),
        max_rows=deps.settings.import_max_rows,
    )
