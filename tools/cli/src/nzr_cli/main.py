"""The ``nzr`` command: development tokens, the embedded platform (one region or a hub with
leaf regions), the NATS topology, dead letters, and commands the services contribute."""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from nzr_cli import dlq, topology
from nzr_cli.embedded import run_platform
from nzr_cli.supervisor import READY_CEILING_SECONDS
from nzr_cli.tokens import local_token
from nzr_common.auth import Role

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Netzwerk Zukunft Regional: run the platform locally and operate it.",
)
app.add_typer(dlq.app, name="dlq")
app.add_typer(topology.app, name="topology")


def _mount_service_commands() -> None:
    """Services contribute commands (``nzr reporting rebuild``) via the ``nzr.cli`` entry points."""
    for entry_point in entry_points(group="nzr.cli"):
        app.add_typer(entry_point.load(), name=entry_point.name)


_mount_service_commands()


def _region(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9_-]+", value):
        raise typer.BadParameter("a region is a lower-case token of letters, digits, '-' or '_'")
    return value


RegionOption = Annotated[str, typer.Option(callback=_region, help="Region id (also the NATS subject token).")]
ReadyTimeoutOption = Annotated[
    float,
    typer.Option(
        help="Ceiling in seconds for the start while every process runs (one that exits fails at once)."
    ),
]


@app.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="Role to grant; repeat for several.")],
    region: RegionOption = "demo",
    subject: Annotated[str, typer.Option(help="The token's subject (sub claim).")] = "dev-user",
    ttl_hours: Annotated[float, typer.Option(help="Validity in hours.")] = 12,
) -> None:
    """Print a development JWT that the locally running services accept (secret: JWT_SECRET)."""
    roles = [r.value for r in role]
    typer.echo(local_token(region=region, roles=roles, subject=subject, ttl_hours=ttl_hours))


@app.command()
def run(
    data_dir: Annotated[Path, typer.Option(help="Folder for NATS, databases and logs.")] = Path(".var"),
    region: RegionOption = "demo",
    nats_port: Annotated[int, typer.Option(help="NATS port on 127.0.0.1 (0: any free port).")] = 4250,
    port_offset: Annotated[int, typer.Option(help="Added to every service port (8101-8105).")] = 0,
    ready_timeout: ReadyTimeoutOption = READY_CEILING_SECONDS,
    demo: Annotated[bool, typer.Option(help="Load the demo data (once per data folder).")] = True,
) -> None:
    """Start NATS, the five services and the demo data; Ctrl-C stops everything."""
    exit_code = run_platform(
        data_dir=data_dir,
        region=region,
        nats_port=nats_port,
        port_offset=port_offset,
        ready_timeout=ready_timeout,
        demo=demo,
        console=Console(),
    )
    raise typer.Exit(exit_code)


@app.command("run-regions")
def run_regions_command(
    regions: Annotated[
        str, typer.Option(help="Comma-separated region ids (default: deploy/regions.toml).")
    ] = "",
    data_dir: Annotated[Path, typer.Option(help="Folder for NATS, databases and logs.")] = Path(
        ".var-regions"
    ),
    ready_timeout: ReadyTimeoutOption = READY_CEILING_SECONDS,
) -> None:
    """A NATS hub, leaf regions with their five services each, and state-mode reporting."""
    from nzr_cli.regions import run_regions
    from nzr_cli.topology import DEFAULT_REGIONS_FILE, read_regions

    listed = read_regions(DEFAULT_REGIONS_FILE)
    if regions:
        ids = [_region(r.strip()) for r in regions.split(",") if r.strip()]
    else:
        ids = [entry.id for entry in listed]
    districts = {entry.id: entry.districts for entry in listed}
    raise typer.Exit(
        run_regions(
            data_dir=data_dir,
            regions=ids,
            ready_timeout=ready_timeout,
            console=Console(),
            districts=districts,
        )
    )


def main() -> None:
    app()
