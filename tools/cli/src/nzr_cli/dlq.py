"""``nzr dlq``: list and replay a running service's dead letters through its admin API."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from nzr_cli.supervisor import SERVICE_PORTS
from nzr_cli.tokens import local_token


class ServiceName(StrEnum):
    """The services with dead letters: the keys of ``SERVICE_PORTS``, spelled out for the type checker."""

    actors = "actors"
    events = "events"
    newsletter = "newsletter"
    funding = "funding"
    reporting = "reporting"


app = typer.Typer(
    no_args_is_help=True, help="Dead letters of a running service: messages its consumers gave up on."
)
console = Console()
errors = Console(stderr=True)

ServiceOption = Annotated[ServiceName, typer.Option("--service", help="The service to ask.")]
UrlOption = Annotated[
    str | None, typer.Option(help="Base URL of the service [default: its local port under nzr run].")
]
RegionOption = Annotated[str, typer.Option(help="Region of the admin token.")]


@app.command("list")
def list_dead_letters(
    service: ServiceOption,
    url: UrlOption = None,
    region: RegionOption = "demo",
    include_replayed: Annotated[bool, typer.Option(help="Also show replayed letters.")] = False,
    limit: int = 50,
) -> None:
    """Show the dead letters of a service, newest first."""
    page = _call(
        "GET", service, url, region, "", params={"include_replayed": include_replayed, "limit": limit}
    )
    if not page["items"]:
        console.print(f"No dead letters in {service}.")
        return
    table = Table(title=f"Dead letters of {service} ({page['total']})", title_justify="left")
    for column in ("ID", "Consumer", "Event type", "Deliveries", "Failed at", "Error", "Replayed at"):
        table.add_column(column, overflow="fold")
    for letter in page["items"]:
        table.add_row(
            str(letter["id"]),
            letter["consumer"],
            letter["event_type"] or letter["nats_subject"],
            str(letter["deliveries"]),
            letter["failed_at"],
            letter["error"][:120],
            letter["replayed_at"] or "",
        )
    console.print(table)


@app.command()
def replay(
    letter_id: Annotated[int, typer.Argument(metavar="ID", help="Id from `nzr dlq list`.")],
    service: ServiceOption,
    url: UrlOption = None,
    region: RegionOption = "demo",
) -> None:
    """Run one dead letter through its handler again (after the cause was fixed)."""
    result = _call("POST", service, url, region, f"/{letter_id}/replay")
    outcome = "applied" if result.get("applied") else "already applied before, nothing changed"
    console.print(f"[green]✓[/] Dead letter {letter_id} of {service} replayed ({outcome}).")


def _call(
    method: str, service: ServiceName, url: str | None, region: str, suffix: str, **request: Any
) -> Any:
    base = (url or f"http://127.0.0.1:{SERVICE_PORTS[service]}").rstrip("/")
    token = local_token(region=region, roles=["admin"], subject="nzr-cli")
    try:
        response = httpx.request(
            method,
            f"{base}/api/v1/admin/{service}/dead-letters{suffix}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
            **request,
        )
    except httpx.HTTPError as error:
        errors.print(f"[red]✗ {service} did not answer at {base} ({error}). Is `nzr run` running?[/]")
        raise typer.Exit(1) from error
    if response.is_error:
        errors.print(f"[red]✗ {service} answered {response.status_code}: {_problem_detail(response)}[/]")
        raise typer.Exit(1)
    return response.json()


def _problem_detail(response: httpx.Response) -> str:
    try:
        problem = response.json()
        return problem.get("detail") or problem.get("title") or response.text
    except ValueError:
        return response.text[:500]
