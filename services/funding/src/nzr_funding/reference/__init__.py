"""Reference data shipped with the funding service (copied from the project's research notes).

``TAXONOMY_PATH``: Förderdatenbank filter values (Förderart, Förderbereich, Fördergebiet,
Förderberechtigte, Fördergeber); ``SEED_PATH``: the 44 researched programmes in the import
format of ``POST /api/v1/funding/programs/import`` (``nzr run`` posts it with a state token).
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

REFERENCE_DIR = Path(__file__).resolve().parent
SEED_PATH = REFERENCE_DIR / "foerderprogramme.json"
TAXONOMY_PATH = REFERENCE_DIR / "foerder-taxonomie.json"


@cache
def load_taxonomy() -> dict[str, Any]:
    """The packaged Förderdatenbank taxonomy document."""
    return json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))


def load_seed() -> dict[str, Any]:
    """The packaged seed document (``{"programmes": [...], ...}``)."""
    return json.loads(SEED_PATH.read_text(encoding="utf-8"))
