"""``nzr token`` prints a JWT the services accept."""

import asyncio
from datetime import UTC, datetime, timedelta

import jwt
from typer.testing import CliRunner

from nzr_cli.main import app
from nzr_common.auth import TokenVerifier
from nzr_common.settings import DEVELOPMENT_SECRET, ServiceSettings


def test_token_is_signed_with_the_development_secret_and_carries_region_and_roles(monkeypatch):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    result = CliRunner().invoke(
        app, ["token", "--region", "demo", "--role", "admin", "--role", "editor", "--subject", "anna"]
    )
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.stdout.strip(), DEVELOPMENT_SECRET, algorithms=["HS256"])
    assert claims["region"] == "demo"
    assert claims["roles"] == ["admin", "editor"]
    assert claims["sub"] == "anna"


def test_token_is_accepted_by_the_services_token_verifier(monkeypatch):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    result = CliRunner().invoke(app, ["token", "--region", "leipzig", "--role", "editor"])
    verifier = TokenVerifier(ServiceSettings(region="leipzig"))
    principal = asyncio.run(verifier.verify(result.stdout.strip()))
    assert principal.region == "leipzig"
    assert principal.roles == {"editor"}


def test_token_uses_jwt_secret_from_the_environment_and_the_given_lifetime(monkeypatch):
    secret = "a-shared-secret-of-more-than-32-characters"
    monkeypatch.setenv("JWT_SECRET", secret)
    result = CliRunner().invoke(app, ["token", "--role", "admin", "--ttl-hours", "1"])
    claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"])
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    assert claims["region"] == "demo"
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=1)


def test_token_refuses_unknown_roles_and_malformed_regions():
    assert CliRunner().invoke(app, ["token", "--role", "superuser"]).exit_code != 0
    assert CliRunner().invoke(app, ["token", "--role", "admin", "--region", "Demo Region"]).exit_code != 0
