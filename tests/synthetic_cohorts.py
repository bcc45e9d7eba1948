"""A synthetic cohort through the real pipeline (generate -> write exports -> validate -> clean), for
tests that need realistic clean data. Built once per seed and size in a test session; every call
returns copies, so a test cannot change another test's data."""

from __future__ import annotations

import copy
import functools
import tempfile
from pathlib import Path

import yaml
from alliance.data.derive import CleanCohort
from alliance.data.instruments import load_instruments
from alliance.data.pipeline import clean_validated, validate_directory
from alliance.data.synthetic import SimulatedCohort, simulate_cohort, write_exports
from alliance.data.synthetic_parameters import load_parameters
from alliance.data.validation import ValidatedCohort
from alliance.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")
DEFAULT = CONFIG["cohorts"]["synthetic"]["simulate"]


@functools.lru_cache(maxsize=4)
def _built(seed: int, n_patients: int) -> tuple[SimulatedCohort, ValidatedCohort, CleanCohort]:
    cohort = simulate_cohort(seed, n_patients, load_parameters(ROOT / "config" / "synthetic.yaml"), INSTRUMENTS)
    with tempfile.TemporaryDirectory() as directory:
        write_exports(cohort, Path(directory))
        validated = validate_directory(directory, INSTRUMENTS)
    return (
        cohort,
        validated,
        clean_validated(validated.tables, INSTRUMENTS, AnalysisSettings.from_mapping(CONFIG["analysis"])),
    )


def synthetic_cohort(
    seed: int = DEFAULT["seed"], n_patients: int = DEFAULT["n_patients"]
) -> tuple[SimulatedCohort, ValidatedCohort, CleanCohort]:
    """(the generator's output, the validation result, the clean tables) of one synthetic cohort."""
    return copy.deepcopy(_built(seed, n_patients))
