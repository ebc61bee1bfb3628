"""API models of feedback."""

from pydantic import BaseModel, Field


class FeedbackSummary(BaseModel):
    """The feedback on one event, aggregated: no names, no addresses."""

    event_id: str
    responses: int
    average_rating: float | None = Field(description="Mean of the ratings 1–5 (None without responses)")
    ratings: dict[int, int] = Field(description="How many gave each rating, 1 to 5")
    comments: list[str] = Field(description="The free texts, newest first")
