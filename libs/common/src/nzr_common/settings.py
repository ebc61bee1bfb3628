"""Settings base shared by every service; built at start-up from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import limits
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    host: str = "127.0.0.1"
    port: int = 8000

    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    jwt_jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None

    otel_exporter_otlp_endpoint: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = []
    max_body_bytes: int = 1_000_000
    #: ``Strict-Transport-Security`` max-age in seconds when the service is reached over TLS
    #: (0: no HSTS header); ``HSTS_INCLUDE_SUBDOMAINS`` only if every subdomain speaks TLS.
    hsts_max_age: int = 31_536_000
    hsts_include_subdomains: bool = False

    #: Limits per client address on anonymous endpoints (``limits`` notation, several joined
    #: by ``;``). Callers with a token are not limited by them. Generous by default: a school
    #: or an office behind one address is many people.
    rate_limit_enabled: bool = True
    rate_limit_search: str = "1200/minute"
    rate_limit_sign_up: str = "300/minute"
    #: Where the counters live: ``memory://`` per process, ``redis://host:6379`` shared by replicas.
    rate_limit_storage_uri: str = "memory://"

    districts_file: Path | None = None
    region_districts: Annotated[list[str], NoDecode] = []

    consumer_batch_size: int = 500
    consumer_stream: str | None = None
    consumer_max_deliver: int = 5
    relay_batch_size: int = 1000
    relay_poll_seconds: float = 0.1
    nats_connect_wait_seconds: float = 5.0

    #: ``Idempotency-Key`` on creating routes (``nzr_common.idempotency``): keys expire this
    #: long after first use and are pruned every ``IDEMPOTENCY_PRUNE_SECONDS``; a claim whose
    #: request died before changing anything is taken over by a retry after
    #: ``IDEMPOTENCY_LOCK_SECONDS``. ``IDEMPOTENCY_ENABLED=false`` ignores the header.
    idempotency_enabled: bool = True
    idempotency_key_ttl_seconds: int = Field(default=86_400, ge=60)
    idempotency_lock_seconds: float = Field(default=60.0, gt=0)
    idempotency_prune_seconds: float = Field(default=600.0, gt=0)

    @field_validator("cors_origins", "region_districts", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("region")
    @classmethod
    def _region_is_a_subject_token(cls, value: str) -> str:
        if not value or not value.replace("-", "").replace("_", "").isalnum() or value != value.lower():
            raise ValueError("REGION must be a lower-case token of letters, digits, '-' or '_'")
        return value

    @field_validator("rate_limit_search", "rate_limit_sign_up")
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
    def stream_region(self) -> str:
        """Region token used in subscribed subjects: the own region, or ``*`` in state mode."""
        return "*" if self.mode == "state" else self.region
