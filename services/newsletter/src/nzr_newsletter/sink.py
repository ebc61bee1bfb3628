"""The development mail sink: an SMTP server that writes every message it receives as an
``.eml`` file, so the double opt-in can be followed end to end without a mail provider.

``nzr run`` (``make run``) runs it as a process of its own (``python -m nzr_newsletter.sink``)
and points the newsletter at it (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_IS_SINK``): a development
tool does not live in the service's process (nor its ~5 MB in the service's memory, issue #20).
A newsletter started on its own in development without ``SMTP_HOST`` runs it inside (tests, a
single service). Either way the development mail pages read the sink's folder (``SMTP_SINK_DIR``).

aiosmtpd is a development dependency (the extra ``nzr-newsletter[dev-sink]``, in the workspace's
dev group): it is imported only when the sink starts, which production never does (it requires
``SMTP_HOST``), so the service image does not carry it."""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import re
import signal
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from nzr_newsletter.schemas import SinkMessage

if TYPE_CHECKING:
    from aiosmtpd.smtp import SMTP as SMTPServer
    from aiosmtpd.smtp import Envelope, Session

_LINK = re.compile(r"https?://[^\s<>\"']+")


class _WriteToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        temporary = path.with_suffix(".tmp")
        content = envelope.original_content or envelope.content or b""
        temporary.write_bytes(content if isinstance(content, bytes) else content.encode())
        temporary.rename(path)
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on 127.0.0.1 (port 0: any free port) writing to ``folder``."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = Path(folder)
        self.requested_port = port
        self.port = port
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> MailSink:
        try:
            from aiosmtpd.smtp import SMTP as SMTPServer
        except ImportError as missing:
            raise RuntimeError(
                "The development mail sink needs aiosmtpd (pip install 'nzr-newsletter[dev-sink]'); "
                "or set SMTP_HOST to a mail relay."
            ) from missing
        self.folder.mkdir(parents=True, exist_ok=True)
        handler = _WriteToFolder(self.folder)
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SMTPServer(handler, hostname="nzr-sink", data_size_limit=20_000_000),
            host="127.0.0.1",
            port=self.requested_port,
        )
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def path_of(self, name: str) -> Path | None:
        if not re.fullmatch(r"[0-9A-Za-z-]+\.eml", name):
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def message_of(self, name: str) -> EmailMessage | None:
        """One captured mail, parsed (``None`` for an unknown name)."""
        path = self.path_of(name)
        if path is None:
            return None
        return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)

    def count(self) -> int:
        """How many messages the sink holds."""
        return sum(1 for _ in self.folder.glob("*.eml"))

    def messages(self, limit: int = 200, offset: int = 0) -> list[SinkMessage]:
        """``limit`` messages from the ``offset``-th, newest first (by the name, which starts with
        the time received), with the links found in their text."""
        found = []
        for path in sorted(self.folder.glob("*.eml"), reverse=True)[offset : offset + limit]:
            message = self.message_of(path.name)
            if message is None:
                continue
            text = body_of(message, "plain") or body_of(message, "html") or ""
            calendar = calendar_of(message)
            stamp = datetime.strptime(path.name.split("-")[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
            found.append(
                SinkMessage(
                    name=path.name,
                    received_at=stamp,
                    to=str(message["To"] or ""),
                    subject=str(message["Subject"] or ""),
                    links=list(dict.fromkeys(_LINK.findall(text))),
                    language=str(message["Content-Language"]) if message["Content-Language"] else None,
                    has_html=body_of(message, "html") is not None,
                    has_text=body_of(message, "plain") is not None,
                    calendar=str(calendar.get_param("method") or "PUBLISH") if calendar is not None else None,
                )
            )
        return found


def body_of(message: EmailMessage, subtype: str) -> str | None:
    """The mail's plain-text or HTML body (``None`` when it has none)."""
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else None


def calendar_of(message: EmailMessage) -> EmailMessage | None:
    """The ``text/calendar`` part of a mail (attached or inline), if it has one."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part
    return None


async def serve(folder: Path, port: int) -> None:
    """Run the sink until SIGTERM or SIGINT."""
    sink = await MailSink(folder, port).start()
    print(f"development mail sink on 127.0.0.1:{sink.port} writes to {sink.folder.resolve()}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    try:
        await stopped.wait()
    finally:
        await sink.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m nzr_newsletter.sink --folder DIR --port N``: the sink as a process of its own."""
    parser = argparse.ArgumentParser(prog="python -m nzr_newsletter.sink", description=main.__doc__)
    parser.add_argument("--folder", type=Path, required=True, help="where every mail is written as .eml")
    parser.add_argument("--port", type=int, default=0, help="SMTP port on 127.0.0.1 (0: any free port)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.folder, args.port))


if __name__ == "__main__":
    main()
