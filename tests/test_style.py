"""The code keeps the style pyproject.toml sets: ruff finds no syntax error, unused or undefined name, unsorted
import or line over 120 characters in the package, the benchmarks or the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("ganlab", "benchmarks", "tests")


def test_ruff_finds_nothing_to_fix():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *CHECKED], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, f"ruff check {' '.join(CHECKED)}:\n{out.stdout}{out.stderr}"
