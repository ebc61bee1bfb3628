"""Settings base shared by every service; built at start-up from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_SECRET = "nzr-development-secret-change-me"


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

    districts_file: Path | None = None
    region_districts: Annotated[list[str], NoDecode] = []

    consumer_batch_size: int = 500
    consumer_stream: str | None = None
    consumer_max_deliver: int = 5
    relay_batch_size: int = 1000
    relay_poll_seconds: float = 0.1
    nats_connect_wait_seconds: float = 5.0

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

    @model_validator(mode="after")
    def _refuse_default_secret_outside_development(self) -> ServiceSettings:
        if self.environment == "production" and not self.jwt_jwks_url:
            secret = self.jwt_secret.get_secret_value()
            if secret == DEVELOPMENT_SECRET or len(secret) < 32:
                raise ValueError(
                    "JWT_SECRET is the development default or shorter than 32 characters; "
                    "set a real secret (or JWT_JWKS_URL) outside development"
                )
        return self

    @property
    def stream_region(self) -> str:
        """Region token used in subscribed subjects: the own region, or ``*`` in state mode."""
        return "*" if self.mode == "state" else self.region
