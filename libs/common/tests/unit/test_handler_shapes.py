"""Handlers take (deps, session, envelope); the deprecated (session, envelope) shape still runs."""

from typing import Any

from nzr_common.contracts.actors import PersonErasedV2
from nzr_common.messaging import EventHandlers, call_handler


async def test_handlers_get_the_deps_and_old_ones_still_run() -> None:
    seen: list[tuple[Any, ...]] = []
    handlers: EventHandlers[str] = EventHandlers(consumer="probe")

    @handlers.on(PersonErasedV2)
    async def new_shape(deps: str, session: Any, envelope: Any) -> None:
        seen.append((deps, session, envelope))

    async def old_shape(session: Any, envelope: Any) -> None:
        seen.append((session, envelope))

    _, handler = handlers.routes[PersonErasedV2.subject.event_type]
    await call_handler(handler, "deps", "session", "envelope")  # type: ignore[arg-type]
    await call_handler(old_shape, "deps", "session", "envelope")  # type: ignore[arg-type]
    assert seen == [("deps", "session", "envelope"), ("session", "envelope")]
