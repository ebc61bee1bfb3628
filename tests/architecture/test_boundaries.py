"""Libraries are imported, services are run: no service imports another, common imports none."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())


def imported_modules(folder: Path) -> set[tuple[Path, str]]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found |= {(path, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((path, node.module))
    return found


def offending(folder: Path, forbidden: set[str]) -> list[str]:
    return sorted(
        f"{path.relative_to(folder)} imports {module}"
        for path, module in imported_modules(folder)
        if module.split(".")[0] in forbidden
    )


def test_there_are_five_services():
    assert SERVICES == ["actors", "events", "funding", "newsletter", "reporting"]


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_never_imports_another_service(service):
    others = {f"nzr_{s}" for s in SERVICES if s != service}
    assert offending(ROOT / "services" / service, others) == []


def test_common_library_imports_no_service():
    assert offending(ROOT / "libs" / "common", {f"nzr_{s}" for s in SERVICES}) == []


def test_the_boundary_check_catches_a_cross_service_import(tmp_path):
    (tmp_path / "leak.py").write_text("from nzr_actors.tables import ActorRow\n")
    assert offending(tmp_path, {"nzr_actors"}) == ["leak.py imports nzr_actors.tables"]
