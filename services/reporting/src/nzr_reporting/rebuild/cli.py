"""``nzr reporting …``: operator commands of the reporting service (mounted by the ``nzr`` CLI
from the ``nzr.cli`` entry-point group; also ``python -m nzr_reporting rebuild``)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from nzr_reporting.rebuild.service import rebuild as rebuild_projections
from nzr_reporting.settings import ReportingSettings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Reporting: rebuild the projections from the event stream.",
)


@app.callback()
def reporting() -> None:
    """Reporting service commands."""


@app.command()
def rebuild(
    database_url: Annotated[
        str | None, typer.Option(help="Reporting database (default: DATABASE_URL).")
    ] = None,
    nats_url: Annotated[str | None, typer.Option(help="NATS server (default: NATS_URL).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000, help="Events per transaction.")] = 20_000,
) -> None:
    """Replay the stream from the start into new projection tables beside the live ones and swap
    them in at once (readers see the old figures until then; goals and measures stay)."""
    overrides: dict[str, Any] = {
        k: v for k, v in (("database_url", database_url), ("nats_url", nats_url)) if v
    }
    settings = ReportingSettings(**overrides)
    console = Console()
    with Progress(
        TextColumn("[bold]Rebuild[/bold] events read / total"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("events", total=None)
        result = asyncio.run(
            rebuild_projections(
                settings,
                batch_size=batch_size,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    console.print(
        f"{result.applied} events applied, {result.ignored} of unknown type skipped, "
        f"{result.poison} unreadable, from stream {result.stream} in {result.seconds:.1f} s "
        f"({result.per_second:,.0f} events/s); built beside the live tables and swapped in "
        f"({result.swap_seconds:.2f} s)."
    )
