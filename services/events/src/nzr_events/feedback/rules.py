"""Pure rules of feedback: a rating from 1 to 5 and a comment of bounded length."""

from __future__ import annotations

from nzr_common.errors import Invalid

MAX_COMMENT = 5_000


def check_feedback(rating: str, comment: str) -> tuple[int, str | None]:
    """The rating as a number 1–5 and the trimmed comment; refuses anything else."""
    problems = []
    value = int(rating) if rating.strip().isdigit() else 0
    if not 1 <= value <= 5:
        problems.append(("rating", "choose a rating from 1 to 5"))
    if len(comment) > MAX_COMMENT:
        problems.append(("comment", f"at most {MAX_COMMENT} characters"))
    if problems:
        raise Invalid("Invalid feedback", problems)
    return value, comment.strip() or None
