"""Waiting in tests for something another task or process does."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

LIVENESS_SECONDS = 60.0


async def eventually(
    check: Callable[[], Any | Awaitable[Any]],
    *,
    within: float = LIVENESS_SECONDS,
    interval: float = 0.05,
    what: str = "condition",
) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy, and return that.

    The bound is for liveness, not speed: it only ends a test that would otherwise hang. Tests
    here run on a loaded 2-core machine, where a delivery that takes 50 ms when quiet can wait
    for a retry timer; durations are printed or benchmarked, never asserted.
    """
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {within:.0f} s (last: {result!r})")
        await asyncio.sleep(interval)
