"""``nzr topology``: the NATS topology from the one list of regions (``deploy/regions.toml``)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import nats
import typer

from nzr_common.regions import load_districts
from nzr_common.topology import (
    DEFAULT_STREAMS,
    DEFAULT_TLS_DIR,
    STATE,
    HubNode,
    RegionNode,
    StreamSettings,
    hub_config,
    leaf_config,
    provision_hub,
    provision_region,
    stream_settings,
)
from nzr_common.topology_secrets import DEFAULT_HUB_HOSTS, DevSecrets

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
    listen_host: Annotated[str, typer.Option(help="Address the servers listen on.")] = "0.0.0.0",
    client_port: int = 4222,
    leaf_port: int = 7422,
    monitor_port: Annotated[int, typer.Option(help="HTTP monitoring port (0: none).")] = 8222,
    store_dir: str = "/data/jetstream",
    tls_dir: Annotated[
        str, typer.Option(help="Folder with ca.crt, tls.crt, tls.key of the leaf link on every node.")
    ] = DEFAULT_TLS_DIR,
) -> None:
    """Write hub.conf and one leaf-<region>.conf per region (secrets as $NZR_… variables)."""
    ids = [entry.id for entry in read_regions(regions_file)]
    out.mkdir(parents=True, exist_ok=True)
    hub = HubNode(client_port, leaf_port, store_dir, listen_host, tls_dir, monitor_port)
    (out / "hub.conf").write_text(hub_config(hub, ids))
    for region in ids:
        node = RegionNode(region, client_port, store_dir, listen_host, tls_dir, monitor_port)
        (out / f"leaf-{region}.conf").write_text(leaf_config(node, f"nats-leaf://{hub_host}:{leaf_port}"))
    typer.echo(f"wrote {1 + len(ids)} configs to {out}")


def _overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``NZR_AGGREGATE.max_bytes=1000000`` → ``{"NZR_AGGREGATE": {"max_bytes": 1000000}}``."""
    fields = {f.name: f.type for f in dataclasses.fields(StreamSettings)}
    overrides: dict[str, dict[str, Any]] = {}
    for item in items:
        target, _, value = item.partition("=")
        stream, _, name = target.rpartition(".")
        if not stream or name not in fields or not value:
            raise typer.BadParameter(
                f"{item!r}: expected STREAM.FIELD=VALUE, FIELD one of {', '.join(fields)}"
            )
        overrides.setdefault(stream, {})[name] = value if name == "storage" else int(value)
    return overrides


async def _connect(url: str, within: float) -> nats.NATS:
    """Connect with ``NATS_USER`` / ``NATS_PASSWORD``, retrying while the server starts."""
    credentials = {"user": os.environ.get("NATS_USER"), "password": os.environ.get("NATS_PASSWORD")}
    deadline = time.monotonic() + within
    while True:
        try:
            return await nats.connect(url, connect_timeout=2, allow_reconnect=False, **credentials)
        except Exception as error:
            if time.monotonic() > deadline or "Authorization" in str(error):
                raise
            typer.echo(f"waiting for NATS at {url}: {error or type(error).__name__}", err=True)
            await asyncio.sleep(1.0)


def provision_node(
    node: str, url: str, regions: list[str], streams: dict[str, StreamSettings], within: float = 60.0
) -> None:
    """What ``node`` owns (the hub, or one region) created or brought up to date."""

    async def run() -> None:
        connection = await _connect(url, within)
        try:
            if node == STATE:
                await provision_hub(connection, regions, streams)
            else:
                await provision_region(connection, node, streams)
        finally:
            await connection.close()

    asyncio.run(run())


@app.command()
def provision(
    node: Annotated[str, typer.Option(help="hub, or the id of the region whose node this is.")],
    nats_url: Annotated[
        str, typer.Option(envvar="NATS_URL", help="That node's NATS (NATS_USER/NATS_PASSWORD).")
    ],
    regions_file: RegionsFile = DEFAULT_REGIONS_FILE,
    replicas: Annotated[
        int | None, typer.Option(envvar="NZR_STREAM_REPLICAS", help="Replicas of every stream (default 1).")
    ] = None,
    storage: Annotated[str | None, typer.Option(envvar="NZR_STREAM_STORAGE", help="file or memory.")] = None,
    max_age: Annotated[
        int | None, typer.Option(envvar="NZR_STREAM_MAX_AGE", help="Seconds kept (default 0: unlimited).")
    ] = None,
    max_bytes: Annotated[
        int | None, typer.Option(envvar="NZR_STREAM_MAX_BYTES", help="Bytes kept (default -1: unlimited).")
    ] = None,
    stream: Annotated[
        list[str] | None,
        typer.Option("--set", help="Per stream: STREAM.FIELD=VALUE (region stream: region.FIELD)."),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the server.")] = 60.0,
) -> None:
    """Create, idempotently, the streams and consumers the node owns: a region its stream, the
    source consumer to-state and its catalogue copy; the hub NZR_STATE, one to-<region> consumer
    per region and NZR_AGGREGATE. Order between hub and regions does not matter."""
    ids = [entry.id for entry in read_regions(regions_file)]
    target = STATE if node in ("hub", STATE) else node
    if target != STATE and target not in ids:
        raise typer.BadParameter(f"{node!r} is neither hub nor a region of {regions_file}")
    common = {
        name: value
        for name, value in {
            "replicas": replicas,
            "storage": storage,
            "max_age_seconds": max_age,
            "max_bytes": max_bytes,
        }.items()
        if value is not None
    }
    overrides: dict[str, Any] = dict.fromkeys(DEFAULT_STREAMS, common)
    for name, fields in _overrides(stream or []).items():
        if name not in DEFAULT_STREAMS:
            raise typer.BadParameter(f"unknown stream {name!r}; one of {', '.join(DEFAULT_STREAMS)}")
        overrides[name] = {**common, **fields}
    provision_node(target, nats_url, ids, stream_settings(overrides), wait)
    typer.echo(f"provisioned {'the hub' if target == STATE else 'region ' + target}")


@app.command("dev-secrets")
def dev_secrets(
    out: Annotated[Path, typer.Option(help="Folder for the generated credentials (never commit it).")],
    regions_file: RegionsFile = DEFAULT_REGIONS_FILE,
    hub_host: Annotated[
        list[str] | None,
        typer.Option(help="Names/addresses of the hub in its certificate; repeat (default: local ones)."),
    ] = None,
) -> None:
    """Throwaway credentials for local runs and compose: passwords, leaf nkeys, a CA with the
    leaf link's certificates. Writes hub.env, <region>.env, nats.env and tls/<node>/."""
    ids = [entry.id for entry in read_regions(regions_file)]
    DevSecrets(ids, hub_hosts=hub_host or list(DEFAULT_HUB_HOSTS)).write(out)
    typer.echo(f"wrote credentials for the hub and {len(ids)} regions to {out}")
