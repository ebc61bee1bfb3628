"""API models of the CSV import."""

from typing import Literal

from pydantic import BaseModel, Field


class ImportRowError(BaseModel):
    line: int
    field: str
    reason: str


class ImportDuplicateCandidate(BaseModel):
    actor_id: str | None = Field(description="a stored actor the row looks like (or null)")
    line: int | None = Field(description="an earlier row of this file the row looks like (or null)")
    name: str
    municipality: str | None
    reason: Literal["similar_name", "same_website"]
    similarity: float


class ImportDuplicate(BaseModel):
    """A new row that looks like a stored actor or an earlier row of the file."""

    line: int
    name: str
    imported: bool = Field(
        description="true when the request confirmed it (`import_duplicates` or `confirm_line`)"
    )
    candidates: list[ImportDuplicateCandidate]


class ImportReport(BaseModel):
    rows: int
    created: int = Field(description="new actors (on a dry run: that would be created)")
    imported: int = Field(description="the same as `created` (kept for older clients)")
    updated: int = Field(description="known actors the file changed (on a dry run: would change)")
    unchanged: int = Field(description="known actors the file leaves as they are")
    invalid: int
    dry_run: bool
    created_ids: list[str]
    updated_ids: list[str]
    errors: list[ImportRowError]
    held_back: int = Field(
        default=0, description="new rows not imported because they look like duplicates (not confirmed)"
    )
    likely_duplicates: list[ImportDuplicate] = Field(default_factory=list)
