"""The monitoring files in ``deploy/monitoring``: the alert rules are valid and fire on the series
they are meant for (``promtool``), and every metric the rules and the Grafana dashboard ask for
is one a service exposes on ``/metrics``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from nzr_reporting.app import create_app
from nzr_reporting.settings import ReportingSettings

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
METRIC = re.compile(r"\b((?:nzr|http)_[a-z0-9_]+)")
PROMTOOL = shutil.which("promtool")


@cache
def exposed() -> dict[str, str]:
    """Sample name → metric type, from a scrape of a service (reporting: it consumes, publishes
    and is rate limited)."""
    app = create_app(ReportingSettings(database_url="sqlite+aiosqlite:///:memory:"))
    text = TestClient(app).get("/metrics").text
    names: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        names.update({family.name + suffix: family.type for suffix in suffixes})
    return names


def expressions() -> dict[str, str]:
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    found = {r["alert"]: r["expr"] for group in rules["groups"] for r in group["rules"]}
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found[f"panel {panel['title']} {target['refId']}"] = target["expr"]
    return found


def test_alert_rules_and_dashboard_ask_only_for_metrics_a_service_exposes():
    missing = {
        where: name
        for where, expression in expressions().items()
        for name in METRIC.findall(expression)
        if name not in exposed()
    }
    assert not missing, missing
    assert exposed()["nzr_consumer_events_total"] == "counter"
    assert exposed()["http_request_duration_seconds_bucket"] == "histogram"


def test_the_alerts_ops_asked_for_are_there():
    alerts = set(expressions())
    assert {"NzrConsumerLagGrowing", "NzrOutboxStuck", "NzrDeadLetters", "NzrRegionStale"} <= alerts


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt install prometheus)")
def test_promtool_accepts_the_rules_and_their_unit_tests_pass():
    assert PROMTOOL is not None
    for command in (["check", "rules", "alerts.yaml"], ["test", "rules", "alerts.test.yaml"]):
        result = subprocess.run(
            [PROMTOOL, *command], cwd=MONITORING, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
