"""``nzr run``: the embedded platform (NATS with JetStream, five services on SQLite, demo data)
in one command, stopped cleanly by Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.status import Status
from rich.table import Table
from rich.text import Text

from nzr_cli.demo.loader import DemoDataFailed, DemoLedger, load_demo_data
from nzr_cli.supervisor import (
    MAIL_SINK_PORT,
    Child,
    DataDir,
    Reporter,
    Service,
    StartupFailed,
    Supervisor,
    platform_services,
)


def run_platform(
    *,
    data_dir: Path,
    region: str,
    nats_port: int,
    port_offset: int,
    ready_timeout: float,
    demo: bool,
    console: Console,
) -> int:
    """Start everything, load the demo data, keep it running until stopped; returns the exit
    code (0 for Ctrl-C or SIGTERM, 1 when it could not start)."""
    # Ctrl-C and SIGTERM both stop the platform, also when started in the background, where
    # the shell hands SIGINT over ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.default_int_handler)
    data = DataDir(data_dir, region)
    try:
        services = platform_services(port_offset)
        with Supervisor(
            data, services, nats_port=nats_port, mail_sink_port=MAIL_SINK_PORT + port_offset
        ) as supervisor:
            exit_code = 0
            try:
                _start_and_watch(supervisor, console, ready_timeout=ready_timeout, demo=demo)
            except KeyboardInterrupt:
                pass  # Ctrl-C or SIGTERM: the way the platform is meant to stop
            except StartupFailed as failure:
                _report(console, failure.name, failure.reason, failure.log_tail, data.log(failure.name))
                exit_code = 1
            if supervisor.children:
                console.print("Stopping the services and NATS …")
    except StartupFailed as failure:
        _report(console, failure.name, failure.reason, failure.log_tail, data.log(failure.name))
        return 1
    console.print(f"[green]✓[/] Stopped. The data stays in {data.root} for the next run.")
    return exit_code


def _start_and_watch(supervisor: Supervisor, console: Console, *, ready_timeout: float, demo: bool) -> None:
    data = supervisor.data
    supervisor.check_ports_free()
    with console.status("Starting NATS …"):
        supervisor.start_nats()
    console.print(f"[green]✓[/] NATS with JetStream at {supervisor.nats_url} (store: {data.nats})")
    with console.status("Starting the development mail sink …"):
        supervisor.start_mail_sink()
    console.print(f"[green]✓[/] Mail sink at 127.0.0.1:{supervisor.mail_sink_port} (writes to {data.mail})")
    with console.status("Migrating the service databases …"):
        supervisor.migrate()
    console.print(f"[green]✓[/] Databases migrated ({data.region_dir}/<service>.db)")
    started = time.monotonic()
    start_services_showing_progress(supervisor, console, ready_timeout)
    console.print(
        f"[green]✓[/] {len(supervisor.services)} services ready in {time.monotonic() - started:.1f} s "
        f"(region {data.region})"
    )
    if demo:
        _load_demo(supervisor, console)
    _print_access(supervisor, console)

    supervisor.supervise(report=console_reporter(console))


def start_services_showing_progress(supervisor: Supervisor, console: Console, ready_timeout: float) -> None:
    """Start the services and wait for them, one line per service that is ready."""
    names = ", ".join(service.key for service in supervisor.services)
    console.print(f"Starting {len(supervisor.services)} services: {names} …")
    with console.status("Starting the services …") as status:
        supervisor.start_services()
        supervisor.wait_until_ready(ready_timeout, progress=StartupProgress(console, status))


class StartupProgress:
    """The start of the services on the console: a line for each service once it is ready (with
    the seconds since its process started); the ones still starting in the status line and,
    every ``note_every`` seconds, as a line too (a log or a CI output shows no status line)."""

    def __init__(self, console: Console, status: Status, note_every: float = 15.0) -> None:
        self.console = console
        self.status = status
        self.note_every = note_every
        self.next_note = note_every

    def ready(self, name: str, seconds: float) -> None:
        self.console.print(f"[green]✓[/] {name} ready ({seconds:.1f} s)")

    def waiting(self, last_answers: dict[str, str], seconds: float) -> None:
        self.status.update(f"Starting the services … waiting for {', '.join(last_answers)} ({seconds:.0f} s)")
        if seconds >= self.next_note:
            self.next_note = seconds + self.note_every
            still = ", ".join(f"{name} (/readyz: {answer[:60]})" for name, answer in last_answers.items())
            self.console.print(f"… still starting after {seconds:.0f} s, processes running: {still}")


def console_reporter(console: Console) -> Reporter:
    """Restarts as console lines; a crash also shows the last lines of the process's log."""

    def report(child: Child, message: str, *, ok: bool = False) -> None:
        if ok:
            console.print(f"[green]✓[/] {message}")
            return
        console.print(f"[yellow]! {message}[/]")
        if tail := child.log_tail(10):
            console.print(Panel(Text(tail.rstrip()), title=f"last lines of {child.log}", title_align="left"))

    return report


def _load_demo(supervisor: Supervisor, console: Console) -> None:
    ledger = DemoLedger(supervisor.data.demo_marker)
    started = time.monotonic()
    try:
        created = load_demo_data(
            ledger=ledger,
            region=supervisor.data.region,
            console=console,
            base_urls={service.name: service.url for service in supervisor.services},
        )
    except DemoDataFailed as error:
        # The platform itself works; the missing items are loaded on the next start.
        console.print(f"[yellow]! Demo data incomplete:[/] {error}")
        return
    if created:
        console.print(
            f"[green]✓[/] Demo data loaded ({created} records in {time.monotonic() - started:.1f} s)"
        )
    else:
        console.print(f"[green]✓[/] Demo data already loaded ({supervisor.data.demo_marker})")


def _print_access(supervisor: Supervisor, console: Console) -> None:
    data = supervisor.data
    console.print(_service_table(supervisor.services, wide=console.width >= 110))

    nzr = _command_name()
    reporting = next(s for s in supervisor.services if s.name == "reporting")
    newsletter = next(s for s in supervisor.services if s.name == "newsletter")
    facts = Table.grid(padding=(0, 2))
    facts.add_row("NATS", supervisor.nats_url)
    token = f"{nzr} token --region {data.region} --role editor"
    facts.add_row("Token", f"{token}   (--role admin for dead letters)")
    facts.add_row("Dashboard", f"{reporting.url}/api/v1/reports/dashboard  (open in a browser)")
    facts.add_row("Try", f"curl {reporting.url}/api/v1/reports/indicators")
    facts.add_row("Mail", f"{newsletter.url}/api/v1/newsletter/dev/mail  (every mail the platform sent)")
    facts.add_row("Data", f"{data.root}  (kept between runs; logs in {data.logs})")
    console.print(facts)
    console.print("\n[bold]nzr is running — press Ctrl-C to stop.[/]")


def _service_table(services: list[Service], *, wide: bool) -> Table:
    """One row per service; narrow consoles get the three URLs below each other, never cut."""
    table = Table(
        box=box.SIMPLE_HEAD, show_lines=not wide, title="NZR platform (embedded)", title_justify="left"
    )
    columns = ("Service", "URL", "API docs", "AsyncAPI") if wide else ("Service", "URLs")
    for column in columns:
        table.add_column(column, no_wrap=True)
    for service in services:
        urls = (service.url, f"{service.url}/docs", f"{service.url}/asyncapi.json")
        table.add_row(service.name, *(urls if wide else ["\n".join(urls)]))
    return table


def _report(console: Console, name: str, reason: str, log_tail: str, log: Path) -> None:
    console.print(f"[red]✗ {name}: {reason}[/]")
    if log_tail:
        title = f"last lines of {log}"
        console.print(Panel(Text(log_tail.rstrip()), title=title, title_align="left", border_style="red"))


def _command_name() -> str:
    """How the user can call ``nzr`` again: plain ``nzr`` when it is on the PATH."""
    invoked = os.path.abspath(sys.argv[0])
    if shutil.which("nzr") == invoked:
        return "nzr"
    relative = os.path.relpath(invoked)
    return relative if not relative.startswith("..") else invoked
