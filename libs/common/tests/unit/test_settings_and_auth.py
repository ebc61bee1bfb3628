"""Settings refuse default secrets outside development; tokens are checked strictly."""

from datetime import timedelta

import jwt
import pytest
from pydantic import ValidationError

from nzr_common.auth import TokenVerifier, issue_token
from nzr_common.problems import ProblemError
from nzr_common.settings import DEVELOPMENT_SECRET, ServiceSettings


def test_production_refuses_the_development_secret():
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        ServiceSettings(environment="production", jwt_secret=DEVELOPMENT_SECRET)


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        ServiceSettings(environment="production", jwt_secret="short")


def test_production_accepts_a_real_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", "x" * 40)
    monkeypatch.setenv("REGION", "leipzig")
    settings = ServiceSettings()
    assert settings.region == "leipzig"


def test_region_must_be_a_subject_token():
    with pytest.raises(ValidationError, match="REGION"):
        ServiceSettings(region="Leipzig Land.>")


def test_comma_separated_lists_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert ServiceSettings().cors_origins == ["https://a.example", "https://b.example"]


def verifier() -> TokenVerifier:
    return TokenVerifier(ServiceSettings())


async def test_a_development_token_carries_region_and_roles():
    principal = await verifier().verify(issue_token(DEVELOPMENT_SECRET, region="demo", roles=["admin"]))
    assert principal.region == "demo" and principal.roles == {"admin"}


@pytest.mark.parametrize(
    "token",
    [
        issue_token(DEVELOPMENT_SECRET, region="demo", roles=["admin"], ttl=timedelta(seconds=-5)),
        issue_token("another-secret-of-sufficient-length!!", region="demo", roles=["admin"]),
        jwt.encode(
            {"sub": "x", "region": "demo", "roles": ["admin"], "exp": 9999999999}, None, algorithm="none"
        ),
        "not-a-jwt",
    ],
    ids=["expired", "bad-signature", "alg-none", "garbage"],
)
async def test_invalid_tokens_are_refused_with_401(token):
    with pytest.raises(ProblemError) as caught:
        await verifier().verify(token)
    assert caught.value.status == 401
