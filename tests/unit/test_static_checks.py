"""The code passes its own linters: ruff (lint and format) and mypy in strict mode (pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGES = ["ingest", "scoring", "simulators", "stridewatch"]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy", *PACKAGES],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_static_check_passes(command: list[str], tmp_path: Path) -> None:
    extra = ["--cache-dir", str(tmp_path / "cache")] if command[0] == "mypy" else ["--no-cache"]
    done = subprocess.run(
        [sys.executable, "-m", command[0], *command[1:], *extra], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}"
