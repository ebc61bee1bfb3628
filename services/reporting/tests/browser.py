"""A headless Chromium driven over the DevTools protocol (CDP): open pages at a given width,
collect console errors and uncaught exceptions, evaluate script, run axe-core in the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class Browser:
    """One Chromium process with one page (``with Browser(width=390) as browser: ...``)."""

    def __init__(
        self, *, width: int = 1280, height: int = 900, language: str = "de-DE,de", timeout: float = 60.0
    ) -> None:
        self.width, self.height, self.language, self.timeout = width, height, language, timeout
        self.console_errors: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._next_id = 0

    def __enter__(self) -> Browser:
        assert CHROMIUM is not None, "no Chromium found (Debian: apt-get install -y chromium)"
        self._profile = tempfile.mkdtemp(prefix="nzr-chromium-")
        self._process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--no-first-run",
                f"--user-data-dir={self._profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._socket: ClientConnection = connect(
            self._devtools_url(), max_size=None, open_timeout=self.timeout
        ).__enter__()
        target = self._command("Target.createTarget", {"url": "about:blank"}, session=None)["targetId"]
        self._session = self._command(
            "Target.attachToTarget", {"targetId": target, "flatten": True}, session=None
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.command(f"{domain}.enable")
        self.command("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": self.language}})
        self.command(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": self.width < 600},
        )
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self._socket.close()
        finally:
            self._process.terminate()
            self._process.wait(timeout=20)
            shutil.rmtree(self._profile, ignore_errors=True)

    def _devtools_url(self) -> str:
        assert self._process.stderr is not None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            line = self._process.stderr.readline()
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                return found.group(1)
            if not line and self._process.poll() is not None:
                break
        raise RuntimeError("Chromium did not open its DevTools port")

    def command(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._command(method, params or {}, session=self._session)

    def _command(self, method: str, params: dict[str, Any], *, session: str | None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        while True:
            answer = self._receive()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))

    def _receive(self, timeout: float | None = None) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self._socket.recv(timeout=timeout or self.timeout))
        if "method" in message:
            self._note(message)
        return message

    def _note(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        params = event.get("params", {})
        if event["method"] == "Runtime.consoleAPICalled" and params.get("type") in (
            "error",
            "warning",
            "assert",
        ):
            self.console_errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif event["method"] == "Runtime.exceptionThrown":
            self.console_errors.append(str(params["exceptionDetails"]))
        elif event["method"] == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            entry = params["entry"]
            self.console_errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")

    def _wait_for(self, method: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for index, event in enumerate(self._events):
                if event["method"] == method:
                    del self._events[: index + 1]
                    return
            self._receive(timeout=max(0.1, deadline - time.monotonic()))
        raise TimeoutError(method)

    def open(self, url: str) -> None:
        """Navigate and wait until the page has loaded."""
        self._events.clear()
        self.command("Page.navigate", {"url": url})
        self._wait_for("Page.loadEventFired")

    def follow(self, script: str) -> None:
        """Run script that navigates (a click, a form submit) and wait for the new page."""
        self._events.clear()
        self.evaluate(script)
        self._wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.command(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def axe_violations(self, tags: list[str] = WCAG_21_AA) -> list[dict[str, Any]]:
        """axe-core's violations of the current page for the tags (WCAG 2.1 A and AA)."""
        self.evaluate(AXE.read_text(encoding="utf-8"))
        options = json.dumps({"runOnly": {"type": "tag", "values": tags}})
        violations: list[dict[str, Any]] = self.evaluate(
            f"axe.run(document, {options}).then(r => r.violations.map(v => ({{id: v.id, impact: v.impact,"
            " help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"
        )
        return violations
