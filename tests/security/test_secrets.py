"""Secrets come from the environment, and outside development no service accepts the
development default or a short secret: neither its settings nor its process start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from nzr_common.settings import DEVELOPMENT_SECRET

from .conftest import SERVICES, load

REAL_SECRET = "c2VjcmV0LWZyb20tYS1rdWJlcm5ldGVzLXNlY3JldA-0123456789"
#: What each service needs besides secrets to be configured for production.
PRODUCTION = {"newsletter": {"SMTP_HOST": "mail.example.org"}}


def production_env(monkeypatch: pytest.MonkeyPatch, service: str, **values: str) -> None:
    for name in ("JWT_SECRET", "JWT_JWKS_URL", "TOKEN_SECRET", "BOUNCE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"ENVIRONMENT": "production", **PRODUCTION.get(service, {}), **values}.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(
    "jwt_secret", [None, DEVELOPMENT_SECRET, "too-short-to-be-a-key"], ids=["unset", "default", "short"]
)
def test_production_settings_refuse_a_missing_default_or_short_jwt_secret(service, jwt_secret, monkeypatch):
    production_env(monkeypatch, service, **({"JWT_SECRET": jwt_secret} if jwt_secret else {}))
    _, settings_class = load(service)
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        settings_class()


@pytest.mark.parametrize("service", SERVICES)
def test_production_settings_take_the_secret_from_the_environment_and_never_show_it(service, monkeypatch):
    production_env(monkeypatch, service, JWT_SECRET=REAL_SECRET)
    _, settings_class = load(service)
    settings = settings_class()
    assert settings.jwt_secret.get_secret_value() == REAL_SECRET
    assert REAL_SECRET not in repr(settings) and REAL_SECRET not in str(settings.model_dump())


@pytest.mark.parametrize("service", SERVICES)
def test_an_oidc_key_set_does_not_excuse_the_default_secret_that_signs_mail_links(service, monkeypatch):
    production_env(monkeypatch, service, JWT_JWKS_URL="https://sso.example.org/certs")
    _, settings_class = load(service)
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        settings_class()


@pytest.mark.parametrize("service", SERVICES)
def test_development_runs_work_with_the_default(service, monkeypatch):
    for name in ("ENVIRONMENT", "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    _, settings_class = load(service)
    assert settings_class().jwt_secret.get_secret_value() == DEVELOPMENT_SECRET


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TOKEN_SECRET", DEVELOPMENT_SECRET),
        ("TOKEN_SECRET", "short"),
        ("BOUNCE_WEBHOOK_SECRET", "changeme"),
    ],
)
def test_the_newsletters_link_and_webhook_secrets_must_be_real_too(name, value, monkeypatch):
    production_env(monkeypatch, "newsletter", JWT_SECRET=REAL_SECRET, **{name: value})
    _, settings_class = load("newsletter")
    with pytest.raises(ValidationError, match=name):
        settings_class()


def test_the_newsletter_signs_links_with_its_own_secret_when_given(monkeypatch):
    link_secret = "another-" + REAL_SECRET
    production_env(monkeypatch, "newsletter", JWT_SECRET=REAL_SECRET, TOKEN_SECRET=link_secret)
    _, settings_class = load("newsletter")
    assert settings_class().signing_secret() == link_secret


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_process_refuses_to_start_in_production_with_the_default_secret(service, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "JWT_JWKS_URL")}
    env.update(
        ENVIRONMENT="production",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/never.db",
        **PRODUCTION.get(service, {}),
    )
    result = subprocess.run(
        [sys.executable, "-m", f"nzr_{service}", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "JWT_SECRET" in result.stderr
    assert not (tmp_path / "never.db").exists()
