"""``If-Match`` is checked and the change made in one critical section per URL
(:class:`nzr_common.etags.EntityTags`): of two changes sending the same tag one succeeds and the
other gets 412, unconditional changes of the same URL do not run between a check and its change,
and no lock outlives its requests."""

import asyncio

import httpx
from fastapi import FastAPI, Request

from nzr_common.etags import ChangeLocks, EntityTags


def note_app() -> tuple[FastAPI, dict[str, str]]:
    """A resource whose change reads, waits for I/O (as a database round trip does) and writes:
    exactly the window in which an unguarded second change would pass a stale check. Changes
    note their entry and exit in ``app.state.log`` (not part of the representation)."""
    app = FastAPI()
    note = {"text": "first"}
    app.state.log = []
    entered = asyncio.Event()
    app.state.entered = entered

    @app.get("/notes/1")
    async def read() -> dict[str, str]:
        return note

    @app.patch("/notes/1")
    async def change(request: Request) -> dict[str, str]:
        text = (await request.json())["text"]
        app.state.log.append(f"<{text}")
        entered.set()
        await asyncio.sleep(0.02)  # the round trip between reading and writing
        note["text"] = text
        app.state.log.append(f"{text}>")
        return note

    app.add_middleware(EntityTags)
    return app, note


async def test_two_changes_with_the_same_tag_one_succeeds_the_other_gets_412():
    app, note = note_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        tag = (await client.get("/notes/1")).headers["etag"]
        first, second = await asyncio.gather(
            client.patch("/notes/1", json={"text": "from A"}, headers={"If-Match": tag}),
            client.patch("/notes/1", json={"text": "from B"}, headers={"If-Match": tag}),
        )
        current = await client.get("/notes/1")
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    winner, loser = (first, second) if first.status_code == 200 else (second, first)
    assert note["text"] == winner.json()["text"]
    assert loser.headers["content-type"] == "application/problem+json"
    assert loser.headers["etag"] == current.headers["etag"] != tag


async def test_an_unconditional_change_waits_for_a_check_and_its_change():
    app, _ = note_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        tag = (await client.get("/notes/1")).headers["etag"]
        conditional = asyncio.ensure_future(
            client.patch("/notes/1", json={"text": "checked"}, headers={"If-Match": tag})
        )
        await app.state.entered.wait()  # the checked change is between its check and its write
        unconditional = await client.patch("/notes/1", json={"text": "blind"})
        checked = await conditional
    assert (checked.status_code, unconditional.status_code) == (200, 200)
    assert app.state.log == [
        "<checked",
        "checked>",
        "<blind",
        "blind>",
    ]  # one after the other, not interleaved


async def test_locks_are_dropped_when_idle():
    locks = ChangeLocks()
    async with locks.hold("/a/1", exclusive=True):
        assert len(locks) == 1
        waiting = asyncio.ensure_future(_hold(locks, "//a/1/", exclusive=False))
        await asyncio.sleep(0.01)
        assert not waiting.done()  # the same normalised path
    await waiting
    assert len(locks) == 0


async def _hold(locks: ChangeLocks, path: str, *, exclusive: bool) -> None:
    async with locks.hold(path, exclusive=exclusive):
        await asyncio.sleep(0)
