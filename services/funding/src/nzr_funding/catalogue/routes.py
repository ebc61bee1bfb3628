"""HTTP routes of the catalogue: the taxonomy, and the state's writes (single, bulk import)."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from nzr_common.access import PUBLIC
from nzr_common.auth import Principal, Role, require
from nzr_common.errors import Conflict
from nzr_common.idempotency import IDEMPOTENT
from nzr_common.problems import InvalidParam, ProblemError
from nzr_common.runtime import SessionDep
from nzr_funding.bootstrap import Deps, DepsDep
from nzr_funding.catalogue import service, taxonomy
from nzr_funding.catalogue.records import records_from_csv
from nzr_funding.catalogue.schemas import CatalogueChange, ImportReport, ProgrammeRecord, Taxonomy

router = APIRouter(prefix="/api/v1/funding", tags=["funding"])

_state_role = require(Role.STATE)


async def _catalogue_writer(
    deps: DepsDep, principal: Annotated[Principal, Depends(_state_role)]
) -> Principal:
    """The state role, at a funding service that owns the catalogue (not a region's replica)."""
    if not deps.settings.catalogue_writes:
        raise Conflict(
            "This region's catalogue is a copy of the state's; change programmes at the state's "
            "funding service.",
            title="Catalogue is a replica",
        )
    return principal


StateDep = Annotated[Principal, Depends(_catalogue_writer)]


def _catalogue_region(deps: Deps) -> str:
    return deps.settings.catalogue_region


@router.get("/taxonomy", response_model=Taxonomy, operation_id="get_funding_taxonomy", dependencies=[PUBLIC])
async def get_taxonomy() -> Taxonomy:
    """Filter dimensions and their values (Förderdatenbank taxonomy plus our topics), with sources."""
    return taxonomy.get_taxonomy()


@router.post(
    "/programs",
    status_code=202,
    response_model=CatalogueChange,
    operation_id="create_programme",
    dependencies=[IDEMPOTENT],
)
async def create_programme(
    body: ProgrammeRecord, response: Response, session: SessionDep, deps: DepsDep, _: StateDep
) -> CatalogueChange:
    """Add a programme (state only); announced as FundingProgramPublished, searchable once projected."""
    change = await service.save_programme(
        session=session,
        outbox=deps.outbox,
        catalogue_region=_catalogue_region(deps),
        record=body.model_dump(mode="json", exclude_unset=True),
    )
    response.headers["Location"] = f"/api/v1/funding/programs/{change.id}"
    return change


@router.put(
    "/programs/{programme_id}",
    status_code=202,
    response_model=CatalogueChange,
    operation_id="replace_programme",
)
async def replace_programme(
    programme_id: str, body: ProgrammeRecord, session: SessionDep, deps: DepsDep, _: StateDep
) -> CatalogueChange:
    """Replace a programme's record (state only); a changed record becomes a new revision."""
    return await service.save_programme(
        session=session,
        outbox=deps.outbox,
        catalogue_region=_catalogue_region(deps),
        record=body.model_dump(mode="json", exclude_unset=True),
        expected_id=programme_id,
    )


@router.delete(
    "/programs/{programme_id}",
    status_code=202,
    response_model=CatalogueChange,
    operation_id="withdraw_programme",
)
async def withdraw_programme(
    programme_id: str, session: SessionDep, deps: DepsDep, _: StateDep
) -> CatalogueChange:
    """Withdraw a programme from the catalogue (state only)."""
    return await service.withdraw_programme(
        session=session,
        outbox=deps.outbox,
        catalogue_region=_catalogue_region(deps),
        programme_id=programme_id,
    )


IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {
                                "programmes": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/ProgrammeRecord"},
                                }
                            },
                        },
                        {"type": "array", "items": {"$ref": "#/components/schemas/ProgrammeRecord"}},
                    ]
                }
            },
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "UTF-8 CSV with the record's fields as columns; lists separated by '|'",
                }
            },
        },
    }
}


def _json_records(body: bytes) -> list[Any]:
    """The records of a JSON import body (a list, or ``{"programmes": [...]}``)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProblemError(
            400,
            "Malformed JSON",
            f"The request body is not valid JSON: {error}",
            invalid_params=[InvalidParam(name="body", reason="not JSON")],
        ) from error
    records = document.get("programmes") if isinstance(document, dict) else document
    if not isinstance(records, list):
        raise ProblemError(
            422,
            "Invalid import",
            'Expected a list of programmes or {"programmes": [...]}.',
            invalid_params=[InvalidParam(name="programmes", reason="expected a list")],
        )
    return records


@router.post(
    "/programs/import",
    response_model=ImportReport,
    operation_id="import_programmes",
    dependencies=[IDEMPOTENT],
    openapi_extra=IMPORT_BODY,
)
async def import_programmes(
    request: Request, session: SessionDep, deps: DepsDep, _: StateDep, all_or_nothing: bool = False
) -> ImportReport:
    """Import programmes (seed JSON or CSV, state only): each record validated and reported;
    re-import updates by id; the valid records go in together or not at all."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if content_type in ("text/csv", "application/csv"):
        records = records_from_csv(body)
    elif content_type in ("application/json", ""):
        records = _json_records(body)
    else:
        raise ProblemError(415, "Unsupported Media Type", "Send application/json or text/csv.")
    return await service.import_programmes(
        session=session,
        outbox=deps.outbox,
        catalogue_region=_catalogue_region(deps),
        records=records,
        all_or_nothing=all_or_nothing,
    )
