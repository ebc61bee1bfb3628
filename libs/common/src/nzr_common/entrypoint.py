"""``python -m nzr_<service> serve|migrate``: the same two commands for every service."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from nzr_common.db import migrate
from nzr_common.settings import ServiceSettings
from nzr_common.telemetry import configure_logging


def main(
    *,
    settings_class: type[ServiceSettings],
    create_app: Callable[[ServiceSettings], FastAPI] | str,
    migrations_package: str,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {migrations_package}")
    parser.add_argument("command", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    settings = settings_class()
    configure_logging(settings)
    if args.command == "migrate":
        migrate(migrations_package, settings.database_url)
        return
    factory: Callable[[ServiceSettings], FastAPI]
    if isinstance(create_app, str):
        # "package.module:function": importing the web app only to serve keeps `migrate` quick.
        module_name, _, attribute = create_app.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
    else:
        factory = create_app
    uvicorn.run(
        factory(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=None,  # uvicorn's lines go through the root handler: JSON like ours
        access_log=False,
        timeout_graceful_shutdown=10,
        # The app reads X-Forwarded-For itself, through TRUSTED_PROXIES only (runtime.py);
        # uvicorn's reading would trust FORWARDED_ALLOW_IPS (loopback by default) first.
        proxy_headers=False,
        ws="none",  # no WebSocket routes: nor the websockets package in memory
    )
