"""``nzr topology``: the NATS topology from the one list of regions (``deploy/regions.toml``)."""

from __future__ import annotations

import asyncio
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import nats
import typer

from nzr_common.regions import load_districts
from nzr_common.topology import (
    HubNode,
    RegionNode,
    hub_config,
    leaf_config,
    provision_hub,
    provision_region,
    provision_region_state_copy,
)

DEFAULT_REGIONS_FILE = Path("deploy/regions.toml")

app = typer.Typer(help="Generate and provision the hub/leaf NATS topology.", no_args_is_help=True)


@dataclass(frozen=True)
class RegionEntry:
    id: str
    name: str
    districts: list[str]


def read_regions(path: Path = DEFAULT_REGIONS_FILE) -> list[RegionEntry]:
    """The regions of the list, checked: unique ids, known AGS district codes."""
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = [
        RegionEntry(r["id"], r.get("name", r["id"]), list(r.get("districts", [])))
        for r in document.get("regions", [])
    ]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: region ids must be unique")
    known = load_districts()
    for entry in entries:
        unknown = [d for d in entry.districts if d not in known]
        if unknown:
            raise ValueError(f"{path}: region {entry.id} has unknown districts {unknown}")
    return entries


RegionsFile = Annotated[Path, typer.Option(help="The list of regions.")]


@app.command()
def render(
    out: Annotated[Path, typer.Option(help="Folder for the generated .conf files.")],
    regions_file: RegionsFile = DEFAULT_REGIONS_FILE,
    hub_host: Annotated[str, typer.Option(help="Host the leaf nodes dial.")] = "nats-hub",
    client_port: int = 4222,
    leaf_port: int = 7422,
    store_dir: str = "/data/jetstream",
) -> None:
    """Write hub.conf and one leaf-<region>.conf per region."""
    ids = [entry.id for entry in read_regions(regions_file)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "hub.conf").write_text(hub_config(HubNode(client_port, leaf_port, store_dir)))
    for region in ids:
        config = leaf_config(
            RegionNode(region, client_port, store_dir), f"nats://{hub_host}:{leaf_port}", ids
        )
        (out / f"leaf-{region}.conf").write_text(config)
    typer.echo(f"wrote {1 + len(ids)} configs to {out}")


@app.command()
def provision(
    hub: Annotated[str, typer.Option(help="NATS URL of the hub.")],
    region_url: Annotated[
        list[str],
        typer.Option("--region", help="REGION=NATS_URL of a region's leaf node; repeat per region."),
    ],
    regions_file: RegionsFile = DEFAULT_REGIONS_FILE,
    replicas: Annotated[int, typer.Option(help="Replicas of the hub's streams (3 on a cluster).")] = 1,
) -> None:
    """Create the streams and their sources (idempotent; run after adding a region)."""
    urls = dict(item.split("=", 1) for item in region_url)
    ids = [entry.id for entry in read_regions(regions_file)]
    missing = [r for r in ids if r not in urls]
    if missing:
        raise typer.BadParameter(f"no --region URL for {', '.join(missing)}")

    async def run() -> None:
        for region in ids:
            connection = await nats.connect(urls[region])
            try:
                await provision_region(connection, region)
            finally:
                await connection.close()
        connection = await nats.connect(hub)
        try:
            await provision_hub(connection, ids, replicas=replicas)
        finally:
            await connection.close()
        for region in ids:
            connection = await nats.connect(urls[region])
            try:
                await provision_region_state_copy(connection, region)
            finally:
                await connection.close()

    asyncio.run(run())
    typer.echo(f"provisioned the hub and {len(ids)} regions")
