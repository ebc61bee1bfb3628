"""Handlers take (deps, session, envelope): the routing table hands them back as registered."""

from typing import Any

from nzr_common.contracts.actors import PersonErasedV2
from nzr_common.messaging import EventHandlers


async def test_handlers_get_the_deps() -> None:
    seen: list[tuple[Any, ...]] = []
    handlers: EventHandlers[str] = EventHandlers(consumer="probe")

    @handlers.on(PersonErasedV2)
    async def new_shape(deps: str, session: Any, envelope: Any) -> None:
        seen.append((deps, session, envelope))

    _, handler = handlers.routes[PersonErasedV2.subject.event_type]
    await handler("deps", "session", "envelope")
    assert seen == [("deps", "session", "envelope")]
