"""Reference fits of a linear growth model with R's lme4/lmerTest (tests/r/lme4_reference.R).

An independent check of the Python engine: the data go to R as a CSV, R fits the model and writes
its estimates as JSON. Nothing is shared with the Python engine but the data.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

SCRIPT = Path(__file__).resolve().parent / "r" / "lme4_reference.R"


def r_available() -> bool:
    """Whether Rscript with lmerTest, jsonlite and numDeriv can be run here."""
    if shutil.which("Rscript") is None:
        return False
    check = "library(lmerTest); library(jsonlite); library(numDeriv)"
    result = subprocess.run(["Rscript", "-e", check], capture_output=True, text=True, check=False)
    return result.returncode == 0


def sanitize(terms: list[str]) -> dict[str, str]:
    """A column name R accepts for every term, e.g. 'time:poor_outcome' -> 'time_x_poor_outcome'."""
    columns: dict[str, str] = {}
    for term in terms:
        column = re.sub(r"[^A-Za-z0-9_]", "_", term.replace(":", "_x_"))
        if not column or not column[0].isalpha():
            column = "v_" + column
        while column in columns.values() or column in ("patient_id", "y"):
            column += "_"
        columns[term] = column
    return columns


def fit_in_r(data: pd.DataFrame, terms: list[str], random_slope: bool = True, reml: bool = False) -> dict[str, Any]:
    """Fit y ~ 0 + terms + (1 + time | patient_id) (or (1 | patient_id)) in R; the parsed JSON result.

    `data` has columns patient_id, y, time and one column per term, named as the term.
    """
    columns = sanitize(terms)
    table = pd.DataFrame({"patient_id": data["patient_id"].astype(str), "y": data["y"], "time": data["time"]})
    for term, column in columns.items():
        if column == "time":
            if not (data[term].to_numpy() == data["time"].to_numpy()).all():
                raise ValueError(f"term {term!r} would be written as column 'time' but differs from time")
            continue
        table[column] = data[term].to_numpy()
    spec = {"terms": columns, "random_slope": bool(random_slope), "reml": bool(reml)}
    with tempfile.TemporaryDirectory(prefix="lme4_reference_") as directory:
        folder = Path(directory)
        table.to_csv(folder / "data.csv", index=False, float_format="%.17g")
        (folder / "spec.json").write_text(json.dumps(spec))
        result = subprocess.run(
            ["Rscript", str(SCRIPT), str(folder / "data.csv"), str(folder / "spec.json"), str(folder / "out.json")],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"Rscript failed ({result.returncode}):\n{result.stderr}\n{result.stdout}")
        return json.loads((folder / "out.json").read_text())
