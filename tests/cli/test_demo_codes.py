"""Every topic and district code in the demo data files is one the services accept (a code they
refuse stops `make run`'s demo half-way, as a retired topic name once did)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from nzr_common.reference.vocabulary import PLATFORM_TOPICS
from nzr_common.regions import load_districts


def _codes(value: Any, key: str) -> list[str]:
    """Every value of ``key`` (a string or a list of strings) anywhere in a JSON document."""
    found: list[str] = []
    if isinstance(value, dict):
        for name, inner in value.items():
            if name == key:
                found += [inner] if isinstance(inner, str) else [v for v in inner if isinstance(v, str)]
            else:
                found += _codes(inner, key)
    elif isinstance(value, list):
        for inner in value:
            found += _codes(inner, key)
    return found


def test_the_demo_files_name_only_known_topics_and_districts() -> None:
    files = [f for f in resources.files("nzr_cli.demo").iterdir() if f.name.endswith(".json")]
    assert len(files) >= 5
    districts = set(load_districts())
    for file in files:
        document = json.loads(file.read_text(encoding="utf-8"))
        topics = _codes(document, "topics") + _codes(document, "topic")
        assert set(topics) <= set(PLATFORM_TOPICS), (file.name, set(topics) - set(PLATFORM_TOPICS))
        assert set(_codes(document, "district")) <= districts, file.name
