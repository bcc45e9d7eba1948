"""A step's log names the step and its wildcards on every line, and the error that stopped it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alliance.logs import step_logger

SCRIPT = """
import sys
from alliance.logs import step_logger
log = step_logger("fit_models", sys.argv[1], {"cohort": "clinic", "outcome": "goals"})
log.info("[1/2] goals_growth: 148 patients")
raise ValueError("the model catalogue names no model for goals")
"""


def test_every_line_names_the_step_and_its_cohort(tmp_path):
    log = step_logger("model_tables", str(tmp_path / "step.log"), {"cohort": "clinic"})
    log.info("wrote 8 files")
    assert (tmp_path / "step.log").read_text(encoding="utf-8") == "[model_tables cohort=clinic] wrote 8 files\n"


def test_a_failed_step_says_in_its_log_which_cohort_and_what_failed(tmp_path):
    path = tmp_path / "fit.log"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0 and "Traceback" in result.stderr  # Python's own report still follows
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    assert lines == [
        "[fit_models cohort=clinic, outcome=goals] [1/2] goals_growth: 148 patients",
        "[fit_models cohort=clinic, outcome=goals] failed: ValueError: the model catalogue names no model for goals",
    ]
