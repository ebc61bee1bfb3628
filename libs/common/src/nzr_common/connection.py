"""The service's one NATS connection: opened by :meth:`NatsConnection.start`, drained by
:meth:`NatsConnection.stop`, and in between :attr:`NatsConnection.connection` for the JetStream
contexts of the consumers, the outbox relay, the metrics and the eraser.

A plain nats-py client. FastStream's ``NatsBroker`` held it before, and nothing else of
FastStream was used (the consumers are ours, :mod:`nzr_common.messaging`); it brought about 230
modules into every service's memory (``bench/idle_memory.py``).
"""

from __future__ import annotations

import logging
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import Error

log = logging.getLogger("nzr.nats")

#: Errors a server gives for which reconnecting on its own will not help (wrong credentials, a
#: client the server will not talk to): :meth:`NatsConnection.start` fails with them, so the
#: caller's retry loop reports them, instead of nats-py trying again silently forever.
UNRECOVERABLE = (
    "authorization violation",
    "authorization timeout",
    "invalid client protocol",
    "maximum payload violation",
    "invalid subject",
    "stale connection",
    "maximum connections exceeded",
    "parser error",
)


class NotConnected(RuntimeError):
    """:attr:`NatsConnection.connection` asked for before :meth:`NatsConnection.start`."""


class NatsConnection:
    """One nats-py client to ``url`` (a server URL, or several separated by commas) that
    reconnects without end, ``reconnect_time_wait`` seconds between attempts, with
    ``user``/``password`` when given."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        reconnect_time_wait: float = 0.5,
        connect_timeout: float = 2,
    ) -> None:
        self.servers = [server.strip() for server in url.split(",") if server.strip()]
        self._options: dict[str, Any] = {
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": reconnect_time_wait,
            "connect_timeout": connect_timeout,
            "error_cb": _on_error,
        }
        if user:
            self._options.update(user=user, password=password or "")
        self._client: Client | None = None

    @property
    def connection(self) -> Client:
        if self._client is None:
            raise NotConnected("NATS is not connected")
        return self._client

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def start(self) -> None:
        """Connect (nothing to do when connected already)."""
        if self._client is None:
            self._client = await nats.connect(self.servers, **self._options)

    async def stop(self) -> None:
        """Drain and close the connection (nothing to do when there is none)."""
        client, self._client = self._client, None
        if client is not None:
            await client.drain()


async def _on_error(error: Exception) -> None:
    """nats-py's error callback: an unrecoverable error ends the connection attempt (raised);
    others (a refused connection while reconnecting, every half second) only at debug level —
    the runtime says when NATS is away (``/readyz``, its own warning)."""
    if isinstance(error, Error):
        reason = str(error).removeprefix("nats: ").strip("'").lower()
        if reason in UNRECOVERABLE:
            raise error
    log.debug("NATS connection: %r", error)
