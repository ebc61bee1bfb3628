"""Development tokens signed with the same secret the locally running services use."""

from __future__ import annotations

import os
from datetime import timedelta

from nzr_common.auth import issue_token
from nzr_common.settings import DEVELOPMENT_SECRET


def local_token(*, region: str, roles: list[str], subject: str = "dev-user", ttl_hours: float = 12) -> str:
    """An HS256 token signed with ``JWT_SECRET`` (the development secret when unset)."""
    secret = os.environ.get("JWT_SECRET") or DEVELOPMENT_SECRET
    return issue_token(secret, region=region, roles=roles, subject=subject, ttl=timedelta(hours=ttl_hours))
