"""The package stays lint-clean and type-checked, so that its typed interface can be relied on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_check():
    result = run("ruff", "check", "workflow", "tests", "bench")
    assert result.returncode == 0, result.stdout


def test_ruff_format():
    result = run("ruff", "format", "--check", "workflow", "tests", "bench")
    assert result.returncode == 0, result.stdout


def test_mypy_on_the_package():
    result = run("mypy", "workflow/alliance", "--ignore-missing-imports")
    assert result.returncode == 0, result.stdout
