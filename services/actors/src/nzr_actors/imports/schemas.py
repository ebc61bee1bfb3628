"""API models of the CSV import."""

from pydantic import BaseModel, Field


class ImportRowError(BaseModel):
    line: int
    field: str
    reason: str


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
