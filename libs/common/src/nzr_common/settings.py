"""Settings base shared by every service; built at start-up from the environment."""

from __future__ import annotations

import contextlib
import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

import limits
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from nzr_common.reference.vocabulary import PLATFORM_TOPICS

DEVELOPMENT_SECRET = "nzr-development-secret-change-me"
MIN_SECRET_LENGTH = 32
#: Environments that are not deployments: a developer's machine and automated test runs.
#: Everywhere else (production) every secret must be a real one.
NOT_DEPLOYED = frozenset({"development", "test"})
#: Shared rate-limit stores whose client is installed (``limits[async-redis]``: coredis).
SHARED_RATE_LIMIT_STORES = frozenset({"redis", "rediss", "redis+sentinel", "redis+cluster", "redis+unix"})


class ServiceSettings(BaseSettings):
    """Environment variables every service reads (``DATABASE_URL``, ``NATS_URL``, ``REGION``, ...)."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    service_name: str = "nzr"
    environment: Literal["development", "test", "production"] = "development"
    region: str = "demo"
    mode: Literal["region", "state"] = "region"
    database_url: str = "sqlite+aiosqlite:///./.var/nzr.db"
    nats_url: str = "nats://127.0.0.1:4222"
    #: Credentials of every NATS connection the service makes (user ``nzr`` of the region's
    #: ``APP`` or the hub's ``STATE`` account); unset for the open single node of ``make run``.
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    jwt_jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None

    otel_exporter_otlp_endpoint: str | None = None
    #: ``json``: one JSON object per log line with trace ids (``nzr_common.telemetry``);
    #: ``text``: a plain line for a person reading a terminal.
    log_format: Literal["json", "text"] = "json"
    #: How often JetStream consumer lag, the outbox backlog and the dead letters are sampled
    #: for ``/metrics`` (``nzr_common.metrics``).
    metrics_sample_seconds: float = Field(default=15.0, gt=0)
    cors_origins: Annotated[list[str], NoDecode] = []
    max_body_bytes: int = 1_000_000
    #: ``Strict-Transport-Security`` max-age in seconds when the service is reached over TLS
    #: (0: no HSTS header); ``HSTS_INCLUDE_SUBDOMAINS`` only if every subdomain speaks TLS.
    hsts_max_age: int = 31_536_000
    hsts_include_subdomains: bool = False

    #: Limits per route class (``limits`` notation, several joined by ``;``), counted per client
    #: address for anonymous callers and per verified token subject (and region) otherwise.
    #: Generous by default: a school or an office behind one address is many people. More
    #: classes (subscription, writes) and the trusted proxies are at the end of the class.
    rate_limit_enabled: bool = True
    rate_limit_search: str = "1200/minute"
    rate_limit_sign_up: str = "300/minute"
    #: Where the counters live: ``memory://`` per process, ``redis://host:6379`` shared by replicas.
    rate_limit_storage_uri: str = "memory://"

    districts_file: Path | None = None
    region_districts: Annotated[list[str], NoDecode] = []
    #: The network's topic codes (``TOPICS``, comma-separated); every service refuses others
    #: (``nzr_common.codes.TopicCode``). Default: the platform's topics.
    topics: Annotated[list[str], NoDecode] = list(PLATFORM_TOPICS)

    consumer_batch_size: int = 500
    consumer_stream: str | None = None
    consumer_max_deliver: int = 5
    relay_batch_size: int = 1000
    relay_poll_seconds: float = 0.1
    nats_connect_wait_seconds: float = 5.0

    #: Housekeeping of the plumbing tables (``OUTBOX_KEEP_SENT``, ``INBOX_KEEP``,
    #: ``HOUSEKEEPING_INTERVAL``: seconds or ISO 8601 like ``P1D``), done by the relay holding
    #: the lease. A sent outbox row is only needed until JetStream has it; an inbox row guards
    #: against a redelivery of its event, so keep it longer than a consumer may need to re-read
    #: its stream (``0``: keep inbox rows forever).
    outbox_keep_sent: timedelta = timedelta(days=1)
    inbox_keep: timedelta = timedelta(days=30)
    housekeeping_interval: timedelta = timedelta(minutes=10)

    #: Newsletter subscriptions per address or subject (the form a stranger fills in).
    rate_limit_subscription: str = "300/minute"
    #: Every other POST, PUT, PATCH and DELETE (per subject; anonymous writes per address).
    rate_limit_writes: str = "600/minute"
    #: Proxies whose ``X-Forwarded-For`` names the client (comma-separated IPs or CIDRs, e.g.
    #: the ingress's pod network). Read right to left, skipping these hops; the first other
    #: address is the client. Default: none, so the connection's address counts.
    trusted_proxies: Annotated[list[str], NoDecode] = []
    #: JWKS (RS256): keys older than this are refreshed in the background while still used;
    #: a token with an unknown key id fetches the set again at most once per minimum interval.
    jwt_jwks_refresh_seconds: float = 300.0
    jwt_jwks_min_refresh_seconds: float = 30.0
    jwt_jwks_timeout_seconds: float = 2.0

    #: ``Idempotency-Key`` on creating routes (``nzr_common.idempotency``): keys expire this
    #: long after first use and are pruned every ``IDEMPOTENCY_PRUNE_SECONDS``; a claim whose
    #: request died before changing anything is taken over by a retry after
    #: ``IDEMPOTENCY_LOCK_SECONDS``. ``IDEMPOTENCY_ENABLED=false`` ignores the header.
    idempotency_enabled: bool = True
    idempotency_key_ttl_seconds: int = Field(default=86_400, ge=60)
    idempotency_lock_seconds: float = Field(default=60.0, gt=0)
    idempotency_prune_seconds: float = Field(default=600.0, gt=0)

    @field_validator("cors_origins", "region_districts", "trusted_proxies", "topics", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("outbox_keep_sent", "inbox_keep", "housekeeping_interval", mode="before")
    @classmethod
    def _plain_number_is_seconds(cls, value: object) -> object:
        """``86400`` from the environment means seconds, as it does in code (pydantic reads
        only ISO 8601 like ``P1D`` from a string)."""
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return float(value)
        return value

    @field_validator("region")
    @classmethod
    def _region_is_a_subject_token(cls, value: str) -> str:
        if not value or not value.replace("-", "").replace("_", "").isalnum() or value != value.lower():
            raise ValueError("REGION must be a lower-case token of letters, digits, '-' or '_'")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses_or_networks(cls, value: list[str]) -> list[str]:
        """Normalised (``10.1.2.3/16`` → ``10.1.0.0/16``): uvicorn's proxy middleware would take
        a network with host bits set for a name and silently trust nothing."""
        normalised = []
        for entry in value:
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (CIDR); list the proxies themselves, "
                    "'*' would let every client choose its own address"
                ) from None
            normalised.append(str(network) if "/" in entry else str(network.network_address))
        return normalised

    @field_validator(
        "rate_limit_search", "rate_limit_sign_up", "rate_limit_subscription", "rate_limit_writes"
    )
    @classmethod
    def _rate_limits_parse(cls, value: str) -> str:
        try:
            limits.parse_many(value)
        except ValueError as error:
            raise ValueError(f"not a rate limit like '300/minute' or '10/second;300/hour': {error}") from None
        return value

    @field_validator("rate_limit_storage_uri")
    @classmethod
    def _rate_limit_store_is_supported(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme.removeprefix("async+") not in SHARED_RATE_LIMIT_STORES | {"memory"}:
            raise ValueError(
                "not a rate-limit store: use memory:// (per process) or redis://host:6379 "
                "(also rediss://, redis+sentinel://, redis+cluster://) shared by the replicas"
            )
        return value

    @model_validator(mode="after")
    def _refuse_default_secret_outside_development(self) -> ServiceSettings:
        """Outside development every ``*_secret`` setting that is set must be a real secret.

        JWT_SECRET is required even with JWT_JWKS_URL: it also signs the links in mails
        (cancellation, confirmation, unsubscribe) unless a service has its own secret for them.
        """
        if self.environment in NOT_DEPLOYED:
            return self
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if not name.endswith("_secret") or not isinstance(value, SecretStr):
                continue
            secret = value.get_secret_value()
            if not secret and field.default is None:
                continue  # an optional secret left empty is not configured
            if secret == DEVELOPMENT_SECRET or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"{name.upper()} is the development default or shorter than {MIN_SECRET_LENGTH} "
                    f"characters; set a real secret from the environment outside development"
                )
        return self

    @property
    def nats_credentials(self) -> dict[str, str]:
        """``username`` and ``password`` when ``NATS_USER`` is set (else nothing)."""
        if not self.nats_user:
            return {}
        password = self.nats_password.get_secret_value() if self.nats_password else ""
        return {"username": self.nats_user, "password": password}

    @property
    def stream_region(self) -> str:
        """Region token used in subscribed subjects: the own region, or ``*`` in state mode."""
        return "*" if self.mode == "state" else self.region
