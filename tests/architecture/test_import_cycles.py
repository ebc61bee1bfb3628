"""No import cycles between the modules of libs/common, nor inside any service package: a cycle
means two modules can only be understood (and changed) together. Every import counts, also one
under ``if TYPE_CHECKING`` or inside a function (which would only hide the cycle)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"nzr_common": ROOT / "libs/common/src/nzr_common"} | {
    f"nzr_{p.name}": p / "src" / f"nzr_{p.name}"
    for p in sorted((ROOT / "services").iterdir())
    if (p / "src" / f"nzr_{p.name}").is_dir()
}


def modules_of(package: str, folder: Path) -> dict[str, Path]:
    """Module name → file of every module of the package."""
    found = {}
    for path in folder.rglob("*.py"):
        parts = [package, *path.relative_to(folder).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's own modules ``module`` imports (importing ``a.b`` is not counted as an
    import of the package ``a``: its ``__init__`` runs first, but that is Python, not a design)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            # ``from package import module`` imports the module; a name defined in ``origin``
            # makes ``origin`` itself the target (a parent package's ``__init__`` never is).
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                targets.add(submodule if submodule in known else origin)
    return {t for t in targets if t in known and t != module}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph(package: str, folder: Path) -> dict[str, set[str]]:
    known = modules_of(package, folder)
    return {module: imports_of(module, path, known) for module, path in known.items()}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycles(package):
    assert cycles(import_graph(package, PACKAGES[package])) == []


def test_the_cycle_check_finds_a_cycle(tmp_path):
    folder = tmp_path / "pkg"
    (folder / "sub").mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "a.py").write_text("from pkg.sub import b\n")
    (folder / "sub" / "__init__.py").write_text("")
    (folder / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..c import C\n"
    )
    (folder / "c.py").write_text("def f():\n    from . import a\n")
    assert cycles(import_graph("pkg", folder)) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
