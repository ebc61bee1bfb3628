"""Starts, watches and stops the processes of the embedded platform: one NATS server with
JetStream, the development mail sink and the five services (or, for ``nzr run-regions``,
several NATS nodes and services).
Every process leads its own process group, is stopped by that group, and is listed in
``<data-dir>/nzr-run.json`` while it runs. Once the platform is up, a process that exits is
started again with back-off; the others keep running."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import httpx

from nzr_common.topology import nats_server_binary

SERVICE_PORTS = {"actors": 8101, "events": 8102, "newsletter": 8103, "funding": 8104, "reporting": 8105}
#: SMTP port of the development mail sink that ``nzr run`` starts (shifted by --port offset too).
MAIL_SINK_PORT = 8100
STOP_GRACE_SECONDS = 10.0
#: Restart back-off: the first restart after 1 s, doubling up to 30 s for a process that keeps
#: crashing; a process that ran this long since its last start counts as healthy again.
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
RESTART_STABLE_SECONDS = 60.0
#: How long start-up may take while every process runs (a ceiling for one that hangs, not the
#: expected time: a service that exits fails the start at once).
READY_CEILING_SECONDS = 900.0
#: Origins of local frontend dev servers allowed by CORS in ``nzr run`` unless CORS_ORIGINS is
#: set: Vite (dev 5173, preview 4173), Create React App / Next.js (3000), Angular (4200),
#: Vue CLI / webpack (8080), each as localhost and 127.0.0.1.
DEV_CORS_ORIGINS = tuple(
    f"http://{host}:{port}" for port in (5173, 4173, 3000, 4200, 8080) for host in ("localhost", "127.0.0.1")
)


@dataclass(frozen=True)
class Service:
    """One service process; in a multi-region run it names its own region, mode and NATS."""

    name: str
    port: int
    region: str | None = None
    mode: str = "region"
    nats_url: str | None = None
    extra_env: tuple[tuple[str, str], ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def key(self) -> str:
        """Unique name of the process (and its log) within one run."""
        return f"{self.region}-{self.name}" if self.region else self.name


def platform_services(port_offset: int = 0) -> list[Service]:
    """The five services on their usual ports, shifted by ``port_offset``; newsletter's digests
    link to events and funding on their shifted ports too."""
    url = {name: f"http://127.0.0.1:{port + port_offset}" for name, port in SERVICE_PORTS.items()}
    links = {"newsletter": (("EVENTS_PUBLIC_URL", url["events"]), ("FUNDING_PUBLIC_URL", url["funding"]))}
    return [
        Service(name, port + port_offset, extra_env=links.get(name, ()))
        for name, port in SERVICE_PORTS.items()
    ]


@dataclass(frozen=True)
class DataDir:
    """The folder the embedded platform keeps its state in, between runs."""

    root: Path
    region: str

    @property
    def nats(self) -> Path:
        return self.root / "nats"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def region_dir(self) -> Path:
        return self.root / self.region

    @property
    def run_file(self) -> Path:
        return self.root / "nzr-run.json"

    @property
    def mail(self) -> Path:
        """Where the development mail sink writes every mail (``.eml``)."""
        return self.root / "mail"

    @property
    def demo_marker(self) -> Path:
        return self.region_dir / "demo-loaded"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def database_url(self, service: str, region: str | None = None) -> str:
        folder = self.root / region if region else self.region_dir
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(folder / f'{service}.db').resolve()}"

    def create(self) -> None:
        for folder in (self.nats, self.logs, self.region_dir):
            folder.mkdir(parents=True, exist_ok=True)


class StartupFailed(Exception):
    """A process of the platform could not be started; names it and carries its log tail."""

    def __init__(self, name: str, reason: str, log_tail: str = "") -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
        self.log_tail = log_tail


@dataclass
class Child:
    """One process started by the supervisor, leader of its own process group, with what it
    takes to start it again."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    command: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None
    ready_url: str | None = None
    started: float = field(default_factory=time.monotonic)
    restarts: int = 0
    restart_at: float | None = None
    awaiting_ready: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_code(self) -> int | None:
        return self.process.poll()

    def exit_reason(self) -> str:
        code = self.exit_code()
        if code is not None and code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"

    def log_tail(self, lines: int = 25) -> str:
        try:
            with self.log.open(encoding="utf-8", errors="replace") as text:
                return "".join(deque(text, maxlen=lines))
        except FileNotFoundError:
            return ""


class StartProgress(Protocol):
    """Told while the services start: each one that is ready (seconds since its process
    started), and on every round the ones still starting with their last ``/readyz`` answer."""

    def ready(self, name: str, seconds: float) -> None: ...

    def waiting(self, last_answers: dict[str, str], seconds: float) -> None: ...


class Reporter(Protocol):
    """Tells the user what the supervisor did: ``ok`` for good news, else a warning."""

    def __call__(self, child: Child, message: str, *, ok: bool = False) -> None: ...


class Supervisor:
    """The processes of one ``nzr run``; as a context manager it always stops what it started."""

    def __init__(
        self, data: DataDir, services: list[Service], *, nats_port: int, mail_sink_port: int | None = None
    ) -> None:
        self.data = data
        self.services = services
        self.nats_port = nats_port
        self.nats_url = ""
        #: The development mail sink's SMTP port (``start_mail_sink``); None: no sink process.
        self.mail_sink_port = mail_sink_port
        self.mail_sink_started = False
        self.children: list[Child] = []
        self._run_file: IO[str] | None = None
        self._left_behind: list[int] = []
        self._recorded = False

    def __enter__(self) -> Supervisor:
        self.data.create()
        self._run_file = self.data.run_file.open("a+", encoding="utf-8")
        try:
            fcntl.flock(self._run_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._run_file.close()
            self._run_file = None
            raise StartupFailed("nzr run", f"another nzr run is already using {self.data.root}") from None
        self._run_file.seek(0)
        self._left_behind = _still_running(self._run_file.read())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def check_ports_free(self) -> None:
        """Refuse to start when a port is taken, rather than talk to somebody else's process."""
        wanted = [("nats", self.nats_port), *((s.key, s.port) for s in self.services)]
        if self.mail_sink_port is not None:
            wanted.append(("mail-sink", self.mail_sink_port))
        for name, port in wanted:
            if port and not _port_free(port):
                hint = "another nzr run? see --port-offset and --nats-port"
                if self._left_behind:
                    pids = " ".join(map(str, self._left_behind))
                    hint = f"an earlier nzr run was killed and left processes behind: kill {pids}"
                raise StartupFailed(name, f"port {port} on 127.0.0.1 is already in use ({hint})")

    def start_nats(self, timeout: float = 15.0) -> str:
        """Start nats-server with JetStream in the data folder; returns its URL."""
        port = str(self.nats_port) if self.nats_port else "-1"
        command = [str(nats_server_binary()), "-a", "127.0.0.1", "-p", port, "-js"]
        command += ["-sd", str(self.data.nats), "--ports_file_dir", str(self.data.nats)]
        nats = self._spawn("nats", command, fresh_log=True)
        ports_file = self.data.nats / f"nats-server_{nats.pid}.ports"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._raise_if_any_exited()
            with contextlib.suppress(FileNotFoundError, ValueError, KeyError, IndexError):
                self.nats_url = json.loads(ports_file.read_text())["nats"][0]
                # A restart must come back where the services reconnect to, not on a new port.
                nats.command[nats.command.index("-p") + 1] = self.nats_url.rsplit(":", 1)[1]
                return self.nats_url
            time.sleep(0.05)
        raise StartupFailed("nats", f"did not report its port within {timeout:.0f} s", nats.log_tail())

    def start_mail_sink(self, timeout: float = 30.0) -> None:
        """Start the development mail sink as a process of its own (``python -m
        nzr_newsletter.sink``) on ``mail_sink_port``, writing to ``data.mail``, and wait until it
        listens; the newsletter services started after it send their mail there. A development
        tool does not live in a service's process (nor in its memory, issue #20)."""
        if self.mail_sink_port is None:
            raise ValueError("no mail_sink_port given to the supervisor")
        command = [sys.executable, "-m", "nzr_newsletter.sink", "--folder", str(self.data.mail)]
        sink = self._spawn("mail-sink", [*command, "--port", str(self.mail_sink_port)], fresh_log=True)
        self._wait_until_listening(sink, self.mail_sink_port, timeout)
        self.mail_sink_started = True

    def start_nats_from_config(self, name: str, config: Path, port: int, timeout: float = 15.0) -> None:
        """Start a nats-server from a configuration file and wait until its port answers."""
        child = self._spawn(name, [str(nats_server_binary()), "-c", str(config)], fresh_log=True)
        self._wait_until_listening(child, port, timeout)

    def _wait_until_listening(self, child: Child, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._raise_if_any_exited()
            if not _port_free(port):
                return
            time.sleep(0.05)
        raise StartupFailed(
            child.name, f"did not listen on port {port} within {timeout:.0f} s", child.log_tail()
        )

    def migrate(self, timeout: float = READY_CEILING_SECONDS) -> None:
        """Run every service's migrations, in parallel since each has its own database."""
        runs = [
            self._spawn(
                service.key,
                [sys.executable, "-m", f"nzr_{service.name}", "migrate"],
                env=self._service_env(service),
                fresh_log=True,
            )
            for service in self.services
        ]
        deadline = time.monotonic() + timeout
        for run in runs:
            try:
                run.process.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                raise StartupFailed(
                    run.name, f"migrations did not finish within {timeout:.0f} s", run.log_tail()
                ) from None
            self.children.remove(run)
            self._record_pids()
            if run.exit_code() != 0:
                raise StartupFailed(run.name, f"migrations failed ({run.exit_reason()})", run.log_tail())

    def start_services(self) -> None:
        for service in self.services:
            child = self._spawn(
                service.key,
                [sys.executable, "-m", f"nzr_{service.name}", "serve"],
                env=self._service_env(service),
            )
            child.ready_url = f"{service.url}/readyz"

    def wait_until_ready(
        self, timeout: float = READY_CEILING_SECONDS, progress: StartProgress | None = None
    ) -> None:
        """Poll every ``/readyz`` until it answers 200, telling ``progress`` about each service
        that becomes ready and, on every round, which are still starting. Start-up takes what it
        takes (migrations, imports and JetStream consumers on a loaded machine): while the
        processes run, this keeps waiting, up to ``timeout`` as a ceiling for one that hangs. A
        process that exits fails the start at once, with its log tail."""
        waiting = {service.key: service for service in self.services}
        last_answer = dict.fromkeys(waiting, "no answer")
        begun = time.monotonic()
        deadline = begun + timeout
        with httpx.Client(timeout=2.0) as client:
            while waiting:
                self._raise_if_any_exited()
                for name, service in list(waiting.items()):
                    try:
                        response = client.get(f"{service.url}/readyz")
                    except httpx.HTTPError as error:
                        last_answer[name] = f"none ({type(error).__name__})"
                        continue
                    if response.status_code == 200:
                        del waiting[name]
                        if progress:
                            progress.ready(name, time.monotonic() - self._child(name).started)
                    else:
                        last_answer[name] = f"{response.status_code} {response.text[:200]}"
                if waiting and time.monotonic() > deadline:
                    name = next(iter(waiting))
                    raise StartupFailed(
                        name,
                        f"/readyz did not answer 200 within {timeout:.0f} s although the process "
                        f"runs (last answer: {last_answer[name]})",
                        self._child(name).log_tail(),
                    )
                if waiting:
                    if progress:
                        progress.waiting(
                            {name: last_answer[name] for name in waiting}, time.monotonic() - begun
                        )
                    time.sleep(0.2)

    def supervise(
        self, report: Reporter, *, poll_seconds: float = 0.5, until: threading.Event | None = None
    ) -> None:
        """Keep every process running until interrupted (Ctrl-C, SIGTERM) or ``until`` is set:
        one that exits is started again after a back-off that doubles while it keeps crashing;
        the others are left alone. Each step is reported, and noted in the process's log."""
        until = until or threading.Event()
        with httpx.Client(timeout=1.0) as client:
            while not until.is_set():
                now = time.monotonic()
                for child in list(self.children):
                    if child.exit_code() is None:
                        if child.awaiting_ready and _answers_ready(client, child):
                            child.awaiting_ready = False
                            report(child, f"{child.name} is ready again (pid {child.pid})", ok=True)
                        continue
                    if child.restart_at is None:
                        if now - child.started >= RESTART_STABLE_SECONDS:
                            child.restarts = 0
                        delay = min(RESTART_FIRST_SECONDS * 2**child.restarts, RESTART_MAX_SECONDS)
                        child.restart_at = now + delay
                        message = (
                            f"{child.name} stopped unexpectedly ({child.exit_reason()}); "
                            f"restarting it in {delay:.0f} s (restart {child.restarts + 1}, log: {child.log})"
                        )
                        report(child, message)
                        _note_in_log(child.log, message)
                    elif now >= child.restart_at:
                        restarted = self._respawn(child)
                        report(restarted, f"{child.name} restarted (pid {restarted.pid})", ok=True)
                time.sleep(poll_seconds)

    def stop(self) -> None:
        """SIGTERM the services, then NATS; SIGKILL any group still alive after the grace period."""
        ignored = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            _terminate([child for child in self.children if not child.name.startswith("nats")])
            _terminate([child for child in self.children if child.name.startswith("nats")])
            self.children.clear()
            if self._run_file is not None:
                if self._recorded:  # otherwise it may still list what an earlier run left behind
                    self.data.run_file.unlink(missing_ok=True)
                self._run_file.close()
                self._run_file = None
        finally:
            for sig, handler in ignored.items():
                signal.signal(sig, handler)

    def _spawn(
        self, name: str, command: list[str], *, env: dict[str, str] | None = None, fresh_log: bool = False
    ) -> Child:
        log = self.data.log(name)
        child = Child(name, _start(command, env, log, fresh_log=fresh_log), log, command=command, env=env)
        self.children.append(child)
        self._record_pids()
        return child

    def _respawn(self, crashed: Child) -> Child:
        """Start a process that exited again, with the same command, environment and log."""
        child = Child(
            crashed.name,
            _start(crashed.command, crashed.env, crashed.log, fresh_log=False),
            crashed.log,
            command=crashed.command,
            env=crashed.env,
            ready_url=crashed.ready_url,
            restarts=crashed.restarts + 1,
            awaiting_ready=crashed.ready_url is not None,
        )
        self.children[self.children.index(crashed)] = child
        self._record_pids()
        return child

    def _service_env(self, service: Service) -> dict[str, str]:
        return {
            **os.environ,
            "REGION": service.region or self.data.region,
            "MODE": service.mode,
            "DATABASE_URL": self.data.database_url(service.name, service.region),
            "NATS_URL": service.nats_url or self.nats_url,
            "HOST": "127.0.0.1",
            "PORT": str(service.port),
            # Links in mails and pages point at the service as this run serves it (the port
            # follows --port-offset).
            "PUBLIC_BASE_URL": service.url,
            "ENVIRONMENT": "development",
            # A frontend on a local dev server may call every service (CORS_ORIGINS overrides).
            "CORS_ORIGINS": os.environ.get("CORS_ORIGINS") or ",".join(DEV_CORS_ORIGINS),
            "PYTHONUNBUFFERED": "1",
            **(self._mail_sink_env() if service.name == "newsletter" else {}),
            **dict(service.extra_env),
        }

    def _mail_sink_env(self) -> dict[str, str]:
        """The newsletter sends to the sink process and shows its folder (development mail pages)."""
        if not self.mail_sink_started or self.mail_sink_port is None:
            return {}
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.mail_sink_port),
            "SMTP_IS_SINK": "true",
            "SMTP_SINK_DIR": str(self.data.mail.resolve()),
        }

    def _record_pids(self) -> None:
        """Keep the run file current, so tools (and tests) can see what this run started."""
        if self._run_file is None:
            return
        self._run_file.seek(0)
        self._run_file.truncate()
        json.dump(
            {"supervisor": os.getpid(), "children": {child.name: child.pid for child in self.children}},
            self._run_file,
        )
        self._run_file.flush()
        self._recorded = True

    def _raise_if_any_exited(self) -> None:
        for child in self.children:
            if child.exit_code() is not None:
                raise StartupFailed(
                    child.name, f"stopped while starting ({child.exit_reason()})", child.log_tail()
                )

    def _child(self, name: str) -> Child:
        return next(child for child in self.children if child.name == name)


def _terminate(children: list[Child], grace: float = STOP_GRACE_SECONDS) -> None:
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.process.wait()


def _signal_group(child: Child, sig: signal.Signals) -> None:
    # The group id is the leader's pid (start_new_session); once the leader is reaped, the id may
    # belong to somebody else, so only signal groups whose leader still runs.
    if child.exit_code() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)


def _start(
    command: list[str], env: dict[str, str] | None, log: Path, *, fresh_log: bool
) -> subprocess.Popen[bytes]:
    """A process leading its own group (so it is stopped with its children), output to ``log``."""
    with log.open("wb" if fresh_log else "ab") as output:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def _answers_ready(client: httpx.Client, child: Child) -> bool:
    try:
        return child.ready_url is not None and client.get(child.ready_url).status_code == 200
    except httpx.HTTPError:
        return False


def _note_in_log(log: Path, message: str) -> None:
    with contextlib.suppress(OSError), log.open("a", encoding="utf-8") as text:
        text.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} supervisor: {message}\n")


def _still_running(run_file_text: str) -> list[int]:
    """The recorded children of an earlier run that still exist (it died before stopping them)."""
    try:
        pids = list(json.loads(run_file_text)["children"].values())
    except (ValueError, KeyError, AttributeError):
        return []
    alive = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, 0)
            alive.append(pid)
    return alive


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
