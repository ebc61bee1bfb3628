"""Real processes for fault-injection tests: a throw-away PostgreSQL cluster that can be stopped
and started again, and service processes (``python -m nzr_<service> serve``) that can be killed
with SIGKILL and restarted on the same port and database."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from nzr_common.testing.topology import free_port

POSTGRES_BIN = Path(os.environ.get("NZR_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))


def postgres_cluster_available() -> bool:
    """initdb and pg_ctl are installed (and, as root, the ``postgres`` user exists to run them)."""
    if not (POSTGRES_BIN / "initdb").exists() or not (POSTGRES_BIN / "pg_ctl").exists():
        return False
    return os.geteuid() != 0 or shutil.which("runuser") is not None


def _log_tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(FileNotFoundError):
        with path.open(encoding="utf-8", errors="replace") as text:
            return "".join(deque(text, maxlen=lines))
    return ""


class PostgresCluster:
    """A private PostgreSQL cluster in a temporary folder on a free port (trust auth on 127.0.0.1).

    ``stop()``/``start()`` simulate a database outage; ``destroy()`` stops it and removes the
    folder. As root, the server runs as the ``postgres`` OS user (it refuses to run as root).
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="nzr-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.socket_dir = self.root / "socket"
        self.port = free_port()
        self.running = False

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 60.0) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        completed = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=timeout, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed: {completed.stdout}{completed.stderr}{_log_tail(self.log)}"
            )

    def init(self) -> PostgresCluster:
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self._run(
            str(POSTGRES_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        return self

    def start(self) -> None:
        # No flushing to disk: a throw-away cluster, stopped cleanly (``-m fast`` writes
        # everything out), never crashed, so nothing acknowledged can go missing.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(POSTGRES_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "start",
        )
        self.running = True

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as in a database outage."""
        self._run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.running:
                self._run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.running = False
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class ServiceProcess:
    """One service as its own OS process (leader of its own process group), restartable."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "ENVIRONMENT": "development",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }

    def migrate(self, timeout: float = 120.0) -> None:
        with self.log.open("ab") as output:
            completed = subprocess.run(
                [sys.executable, "-m", f"nzr_{self.name}", "migrate"],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                timeout=timeout,
                check=False,
            )
        if completed.returncode != 0:
            raise RuntimeError(f"migrating {self.name} failed:\n{_log_tail(self.log)}")

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"nzr_{self.name}", "serve"],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                start_new_session=True,
            )
        self.starts += 1

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Poll ``/readyz`` until 200; returns the seconds it took. Fails if the process exits."""
        started = time.monotonic()
        deadline = started + timeout
        last = "no answer"
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited while starting:\n{_log_tail(self.log)}")
                with contextlib.suppress(httpx.HTTPError):
                    response = client.get(f"{self.url}/readyz")
                    if response.status_code == 200:
                        return time.monotonic() - started
                    last = f"{response.status_code} {response.text[:300]}"
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready in {timeout:.0f}s (last: {last}):\n{_log_tail(self.log)}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown hooks, no lease released."""
        self._signal(signal.SIGKILL)

    def terminate(self, grace: float = 10.0) -> None:
        self._signal(signal.SIGTERM, grace)

    def _signal(self, sig: signal.Signals, grace: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        return _log_tail(self.log, lines)
