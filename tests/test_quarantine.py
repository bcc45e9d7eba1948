"""on_invalid: quarantine sets bad rows aside with their reasons; no row disappears without a trace."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from alliance.data.instruments import load_instruments
from alliance.data.pipeline import read_validated, validate_directory, write_validation
from alliance.data.problems import InvalidExportsError
from exports_factory import valid_exports, write_exports

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")


def broken_exports() -> dict[str, list[str]]:
    exports = valid_exports()
    exports["patients"][2] = "A02,31,male,2012-09-03,2013-03-01,dropout_late,13"  # work_study_months > 12
    exports["wai"][1] = "A01,2011-04-10,WAI-S,5,5,5,2,5,5,5,5,5,2,5,9"  # item_12 = 9
    exports["wai"].append("A01,2011-04-10")  # short record
    exports["gaf"].append("Z77,2014-02-01,44,,")  # unknown patient
    return exports


@pytest.fixture()
def quarantined(tmp_path):
    directory = write_exports(tmp_path / "exports", broken_exports())
    validated = validate_directory(directory, INSTRUMENTS, on_invalid="quarantine")
    out = tmp_path / "results"
    write_validation(validated, "broken", "quarantine", out / "validation.txt", out / "validated", out / "quarantine")
    return validated, out


def test_rows_read_equal_rows_kept_plus_quarantined(quarantined):
    validated, _ = quarantined
    accounting = validated.accounting.set_index("file")
    assert (accounting.rows_read == accounting.rows_kept + accounting.rows_quarantined).all()
    assert accounting.loc["patients.csv", "rows_quarantined"] == 1
    # A02's own row is set aside, so its WAI, GAF, WSAS and EQ-5D rows go with it, with that reason.
    assert accounting.loc["wai.csv"].tolist() == [6, 3, 3]  # item_12 = 9, short record, A02
    assert accounting.loc["gaf.csv"].tolist() == [6, 3, 3]


def test_quarantine_files_keep_input_columns_line_and_reason(quarantined):
    _, out = quarantined
    wai = pd.read_csv(out / "quarantine" / "wai.csv", dtype=str, keep_default_na=False)
    assert {"patient_id", "date", "version", "item_12", "line", "reason", "raw_record"} <= set(wai.columns)
    by_line = wai.set_index("line")
    assert "item_12" in by_line.loc["2", "reason"] and "'9'" in by_line.loc["2", "reason"]
    assert "wrong number of fields" in by_line.loc["7", "reason"]
    assert by_line.loc["7", "raw_record"] == "A01,2011-04-10"
    gaf = pd.read_csv(out / "quarantine" / "gaf.csv", dtype=str, keep_default_na=False).set_index("line")
    assert "unknown patient_id" in gaf.loc["7", "reason"]
    assert "patient set aside" in gaf.loc["4", "reason"] and "line 3" in gaf.loc["4", "reason"]


def test_quarantined_cohort_goes_on_with_kept_rows(quarantined):
    _, out = quarantined
    tables, status = read_validated(out / "validated")
    assert set(tables["patients"]["patient_id"]) == {"A01", "A03"}
    assert "A02" not in set(tables["wai"]["patient_id"])
    assert len(status["problems"]) == 4
    report = (out / "validation.txt").read_text()
    assert "set aside in quarantine/" in report


def test_stop_mode_refuses_to_go_on(tmp_path):
    directory = write_exports(tmp_path / "exports", broken_exports())
    validated = validate_directory(directory, INSTRUMENTS, on_invalid="stop")
    out = tmp_path / "results"
    write_validation(validated, "broken", "stop", out / "validation.txt", out / "validated", out / "quarantine")
    assert list((out / "quarantine").iterdir()) == []
    with pytest.raises(InvalidExportsError) as raised:
        read_validated(out / "validated")
    message = raised.value.summary()
    assert "patients.csv, line 3, column 'work_study_months', value '13'" in message
    assert "wai.csv, line 2, column 'item_12', value '9'" in message
    assert "wai.csv, line 7" in message and "gaf.csv, line 7, column 'patient_id', value 'Z77'" in message
    assert "validation.txt" in message
    status = json.loads((out / "validated" / "status.json").read_text())
    assert len(status["problems"]) == 4


def test_file_level_problems_stop_even_in_quarantine_mode(tmp_path):
    exports = valid_exports()
    del exports["gaf"]
    directory = write_exports(tmp_path / "exports", exports)
    validated = validate_directory(directory, INSTRUMENTS, on_invalid="quarantine")
    out = tmp_path / "results"
    write_validation(validated, "x", "quarantine", out / "validation.txt", out / "validated", out / "quarantine")
    with pytest.raises(InvalidExportsError, match="gaf.csv"):
        read_validated(out / "validated")
