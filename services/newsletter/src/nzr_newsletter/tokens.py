"""Signed, expiring, single-purpose tokens for the links in mails (itsdangerous, HMAC-SHA256).

A token for one purpose is refused for every other purpose (the purpose is the signing salt).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from nzr_common.errors import DomainError


class Purpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


class TokenRefused(Exception):
    """The token is forged, damaged, for another purpose or expired."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


class InvalidLink(DomainError):
    """A mailed link that is forged, expired or no longer fits the data (answered with 400, or
    with a page saying so where a person clicked it)."""

    title = "Invalid link"

    def __init__(self, detail: str, *, expired: bool = False) -> None:
        super().__init__(detail)
        self.expired = expired

    @classmethod
    def refused(cls, error: TokenRefused) -> InvalidLink:
        return cls(error.reason, expired=error.expired)


class Tokens:
    def __init__(self, secret: str, *, max_age_days: dict[Purpose, int]) -> None:
        self.max_age_days = max_age_days
        self._serializers = {
            purpose: URLSafeTimedSerializer(
                secret,
                salt=f"nzr-newsletter-{purpose.value}",
                signer_kwargs={"digest_method": hashlib.sha256},
            )
            for purpose in Purpose
        }

    def issue(self, purpose: Purpose, payload: dict[str, Any]) -> str:
        return str(self._serializers[purpose].dumps(payload))

    def read(self, purpose: Purpose, token: str) -> dict[str, Any]:
        """The payload of a valid token; raises TokenRefused otherwise."""
        try:
            payload = self._serializers[purpose].loads(token, max_age=self.max_age_days[purpose] * 86400)
        except SignatureExpired as error:
            raise TokenRefused("The link has expired.", expired=True) from error
        except BadSignature as error:
            raise TokenRefused("The link is not valid.") from error
        if not isinstance(payload, dict):
            raise TokenRefused("The link is not valid.")
        return payload
