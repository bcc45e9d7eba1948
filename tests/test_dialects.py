"""The export dialects the contract allows: ';' with decimal ',', a byte-order mark, and SPSS .sav."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from alliance.data.instruments import load_instruments
from alliance.data.pipeline import validate_directory
from alliance.data.validation import format_report
from exports_factory import valid_exports, write_exports

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")


def nordic(exports: dict[str, list[str]]) -> dict[str, list[str]]:
    """The same cohort as a Nordic spreadsheet writes it: ';' between fields, ',' as decimal mark."""
    converted = {name: [line.replace(",", ";") for line in lines] for name, lines in exports.items()}
    converted["sipp_sf"] = [line.replace("23.5", "23,5") for line in converted["sipp_sf"]]
    return converted


def test_semicolon_and_decimal_comma(tmp_path):
    directory = tmp_path / "exports"
    directory.mkdir()
    for name, lines in nordic(valid_exports()).items():
        (directory / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    validated = validate_directory(directory, INSTRUMENTS, delimiter=";", decimal=",")
    assert validated.problems == []
    assert validated.tables["sipp_sf"].loc[0, "self_control"] == pytest.approx(23.5)
    reference = validate_directory(write_exports(tmp_path / "plain", valid_exports()), INSTRUMENTS)
    for name, table in reference.tables.items():
        pd.testing.assert_frame_equal(validated.tables[name], table, check_dtype=False)


def test_decimal_comma_not_declared_is_reported(tmp_path):
    directory = tmp_path / "exports"
    directory.mkdir()
    for name, lines in nordic(valid_exports()).items():
        (directory / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    validated = validate_directory(directory, INSTRUMENTS, delimiter=";", decimal=".")
    (problem,) = validated.problems
    assert (problem.file, problem.line, problem.column, problem.value) == ("sipp_sf.csv", 2, "self_control", "23,5")
    # The likely cause is named once, with the config key that fixes it.
    (hint,) = validated.hints
    assert "decimal commas" in hint and 'decimal: ","' in hint
    assert format_report("c", validated, "stop").count("decimal commas") == 1


def test_wrong_delimiter_is_named_once_per_file_with_the_config_key(tmp_path):
    directory = tmp_path / "exports"
    directory.mkdir()
    for name, lines in nordic(valid_exports()).items():
        (directory / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    validated = validate_directory(directory, INSTRUMENTS)  # the default ',' delimiter
    files = {p.file for p in validated.fatal}
    assert files == {f"{name}.csv" for name in nordic(valid_exports())}
    # One problem per file (not one per missing column), naming the delimiter and the config key.
    assert len(validated.fatal) == len(files)
    assert all(p.rule == "wrong delimiter" and p.line == 1 for p in validated.fatal)
    assert all('delimiter: ";"' in p.detail for p in validated.fatal)


def test_byte_order_mark_and_crlf_are_accepted(tmp_path):
    directory = write_exports(tmp_path / "exports", valid_exports())
    for path in directory.glob("*.csv"):
        text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    validated = validate_directory(directory, INSTRUMENTS)
    assert validated.problems == []
    assert "patient_id" in validated.tables["patients"].columns


def _as_sav(csv_path: Path, sav_path: Path) -> None:
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    converted = {}
    for column in frame.columns:
        values = frame[column]
        if column.endswith("date") or column == "date":
            converted[column] = pd.to_datetime(values.replace("", None))
        elif column in ("patient_id", "gender", "termination", "version"):
            converted[column] = values
        else:
            converted[column] = pd.to_numeric(values.replace("", None))
    pyreadstat.write_sav(pd.DataFrame(converted), str(sav_path))


def test_spss_sav_stands_in_for_csv(tmp_path):
    directory = write_exports(tmp_path / "exports", valid_exports())
    reference = validate_directory(directory, INSTRUMENTS)
    for name in ("patients", "wai", "gaf"):
        _as_sav(directory / f"{name}.csv", directory / f"{name}.sav")
        (directory / f"{name}.csv").unlink()
    validated = validate_directory(directory, INSTRUMENTS)
    assert validated.problems == []
    for name in ("patients", "wai", "gaf"):
        pd.testing.assert_frame_equal(validated.tables[name], reference.tables[name], check_dtype=False)
    assert "patients.sav" in set(validated.accounting.file)


def test_spss_sav_problems_name_the_row(tmp_path):
    exports = valid_exports()
    exports["gaf"][3] = "A02,2012-09-03,150,,"
    directory = write_exports(tmp_path / "exports", exports)
    _as_sav(directory / "gaf.csv", directory / "gaf.sav")
    (directory / "gaf.csv").unlink()
    (problem,) = validate_directory(directory, INSTRUMENTS).problems
    assert (problem.file, problem.line, problem.column, problem.value) == ("gaf.sav", 4, "gaf", "150")


def test_csv_and_sav_together_are_ambiguous(tmp_path):
    directory = write_exports(tmp_path / "exports", valid_exports())
    _as_sav(directory / "gaf.csv", directory / "gaf.sav")
    validated = validate_directory(directory, INSTRUMENTS)
    assert [p.rule for p in validated.fatal] == ["ambiguous file"]
