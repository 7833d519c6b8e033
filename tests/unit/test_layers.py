"""The packages import only downward: `scoring` (the pure core) and `ingest` (the IO shell) know nothing
of the rest, `simulators` (the fake devices) only `ingest`'s contract, and `stridewatch` ties them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
MAY_IMPORT = {
    "scoring": {"scoring"},
    "ingest": {"ingest"},
    "simulators": {"simulators", "ingest"},
    "stridewatch": {"stridewatch", "ingest", "scoring", "simulators"},
}


def imported(path: Path) -> set[str]:
    """The project's packages ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])  # fmt: skip
        found |= {name.split(".")[0] for name in names} & MAY_IMPORT.keys()
    return found


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_what_is_below_it(package: str) -> None:
    upward = {
        str(p.relative_to(ROOT)): sorted(imported(p) - MAY_IMPORT[package]) for p in (ROOT / package).rglob("*.py")
    }
    assert {path: names for path, names in upward.items() if names} == {}
