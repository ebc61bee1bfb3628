"""Delivery rules: retry delays and which SMTP answers are permanent."""

from __future__ import annotations


def retry_delay_seconds(attempt: int, base_seconds: float) -> float:
    """Exponential back-off for temporary SMTP failures, capped at six hours."""
    return min(base_seconds * 2 ** max(attempt - 1, 0), 6 * 3600.0)


def is_permanent_failure(code: int) -> bool:
    """5xx replies are permanent (hard bounce); 4xx and lost connections are temporary."""
    return 500 <= code < 600
