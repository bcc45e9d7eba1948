"""Exports the format allows, and malformed ones (issue 12, parts 1-3): optional files and columns may be
absent, every physical record is read, kept or set aside, and problems are said with their likely cause.

Each test writes a small cohort (tests/exports_factory.py) with one change and runs validation and
cleaning through the package's own entry points (alliance.data.pipeline), as the workflow's rules do.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from alliance.data.contract import file_specs
from alliance.data.instruments import load_instruments
from alliance.data.pipeline import clean_validated, validate_directory
from alliance.data.validation import format_report
from alliance.settings import AnalysisSettings
from exports_factory import valid_exports, write_exports

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")
OPTIONAL_FILES = [name for name, spec in file_specs(INSTRUMENTS).items() if not spec.required]
REQUIRED_FILES = [name for name, spec in file_specs(INSTRUMENTS).items() if spec.required]
OPTIONAL_COLUMNS = [
    (name, column.name)
    for name, spec in file_specs(INSTRUMENTS).items()
    for column in spec.columns
    if column.may_be_absent
]


def analysis_settings() -> AnalysisSettings:
    return AnalysisSettings.from_mapping(yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["analysis"])


def without_column(lines: list[str], column: str) -> list[str]:
    rows = [line.split(",") for line in lines]
    index = rows[0].index(column)
    return [",".join(row[:index] + row[index + 1 :]) for row in rows]


def balanced(validated) -> None:
    for row in validated.accounting.itertuples(index=False):
        assert row.rows_read == row.rows_kept + row.rows_quarantined, row


# --------------------------------------------------------------------------------------------------
# 1. Optional files and columns may be absent
# --------------------------------------------------------------------------------------------------


def test_the_contract_names_the_optional_files_and_columns():
    # export-format.md: wsas, bsi18, sipp_sf and eq5d are optional files; gaf_symptom and gaf_function
    # optional columns. The specs say so, so that the tests below cover each of them.
    assert sorted(OPTIONAL_FILES) == sorted(["wsas", "bsi18", "sipp_sf", "eq5d"])
    assert sorted(OPTIONAL_COLUMNS) == [("gaf", "gaf_function"), ("gaf", "gaf_symptom")]


@pytest.mark.parametrize("name", OPTIONAL_FILES)
def test_an_absent_optional_file_is_a_notice_and_the_cohort_cleans(tmp_path, name):
    exports = valid_exports()
    del exports[name]
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == []
    assert f"{name}.csv: optional export absent" in validated.notices
    clean = clean_validated(validated.tables, INSTRUMENTS, analysis_settings())
    assert len(clean.patients) == 3
    assert len(clean.wai_long) > 0


@pytest.mark.parametrize(("name", "column"), OPTIONAL_COLUMNS)
def test_an_absent_optional_column_counts_as_empty(tmp_path, name, column):
    exports = valid_exports()
    exports[name] = without_column(exports[name], column)
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == [], validated.problems
    assert any(column in notice and "absent" in notice for notice in validated.notices), validated.notices
    table = validated.tables[name]
    assert table[column].isna().all()
    assert len(table) == len(exports[name]) - 1
    clean = clean_validated(validated.tables, INSTRUMENTS, analysis_settings())
    assert clean.patients["outcome_group"].tolist().count("good") == 1  # A01's final GAF 65 >= 60


def test_without_both_split_scores_the_gaf_still_decides_the_outcome(tmp_path):
    exports = valid_exports()
    exports["gaf"] = without_column(without_column(exports["gaf"], "gaf_symptom"), "gaf_function")
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == []
    clean = clean_validated(validated.tables, INSTRUMENTS, analysis_settings())
    assert clean.patients.set_index("patient_id").loc["A01", "outcome_group"] == "good"


def test_a_required_column_is_still_required(tmp_path):
    exports = valid_exports()
    exports["gaf"] = without_column(exports["gaf"], "gaf")
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert [(p.file, p.line, p.column, p.rule) for p in validated.fatal] == [("gaf.csv", 1, "gaf", "missing column")]


# --------------------------------------------------------------------------------------------------
# 2. Header-only and empty files; malformed records
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REQUIRED_FILES)
def test_a_required_file_with_only_a_header_is_an_error_naming_it(tmp_path, name):
    exports = valid_exports()
    exports[name] = exports[name][:1]
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert [(p.file, p.rule) for p in validated.fatal] == [(f"{name}.csv", "no records")]
    report = format_report("c", validated, "stop")
    assert f"{name}.csv: no records: a required export has a header but no records" in report


@pytest.mark.parametrize("name", OPTIONAL_FILES)
def test_an_optional_file_with_only_a_header_is_empty_not_an_error(tmp_path, name):
    exports = valid_exports()
    exports[name] = exports[name][:1]
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == []
    assert f"{name}.csv: optional export has a header but no records" in validated.notices
    assert len(validated.tables[name]) == 0
    clean_validated(validated.tables, INSTRUMENTS, analysis_settings())


@pytest.mark.parametrize("name", REQUIRED_FILES + OPTIONAL_FILES)
def test_an_empty_file_gets_a_message_not_a_traceback(tmp_path, name):
    directory = write_exports(tmp_path / "exports", valid_exports())
    (directory / f"{name}.csv").write_bytes(b"")
    validated = validate_directory(directory, INSTRUMENTS)
    if name in REQUIRED_FILES:
        assert [(p.file, p.line, p.rule) for p in validated.fatal] == [(f"{name}.csv", 1, "empty file")]
    else:
        assert validated.problems == []
        assert f"{name}.csv: optional export is empty (no header), counted as absent" in validated.notices
    format_report("c", validated, "stop")


def test_an_unmatched_quote_is_one_bad_record_and_reading_goes_on(tmp_path):
    exports = valid_exports()
    exports["wai"][2] = 'A01,"2012-10-10,WAI-SR,6,6,6,6,6,6,6,6,6,6,6,6'
    directory = write_exports(tmp_path / "exports", exports)
    validated = validate_directory(directory, INSTRUMENTS, on_invalid="quarantine")
    (problem,) = validated.problems
    assert (problem.file, problem.line, problem.rule) == ("wai.csv", 3, "unmatched quote")
    wai = validated.accounting.set_index("file").loc["wai.csv"]
    assert (wai.rows_read, wai.rows_kept, wai.rows_quarantined) == (5, 4, 1)
    assert validated.tables["wai"]["line"].tolist() == [2, 4, 5, 6]
    aside = validated.quarantined["wai"]
    assert aside["line"].tolist() == [3]
    assert aside["raw_record"].iloc[0] == exports["wai"][2]
    assert aside["reason"].iloc[0].startswith("unmatched quote")


def test_an_unmatched_quote_on_the_last_line_is_reported(tmp_path):
    exports = valid_exports()
    exports["wai"][-1] = 'A03,2014-05-01,WAI-SR,3,3,3,3,3,3,3,3,3,3,3,"3'
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS, on_invalid="quarantine")
    assert [(p.line, p.rule) for p in validated.problems] == [(6, "unmatched quote")]
    balanced(validated)


def test_records_are_counted_by_line_in_a_long_file_with_a_stray_quote(tmp_path):
    # The case: a stray quote early in a file of hundreds of records swallowed the rest of it.
    exports = valid_exports()
    items = ",".join(["5"] * 12)
    exports["wai"] = exports["wai"][:1] + [
        f"A01,{(pd.Timestamp('2011-02-01') + pd.Timedelta(days=d)).date()},WAI-S,{items}" for d in range(400)
    ]
    exports["wai"][10] = exports["wai"][10].replace(",WAI-S,", ',"WAI-S,')
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS, on_invalid="quarantine")
    wai = validated.accounting.set_index("file").loc["wai.csv"]
    assert (wai.rows_read, wai.rows_kept, wai.rows_quarantined) == (400, 399, 1)
    assert [(p.line, p.rule) for p in validated.problems] == [(11, "unmatched quote")]


def test_a_wrong_field_count_is_reported_with_its_line_and_raw_text(tmp_path):
    exports = valid_exports()
    exports["gaf"][3] = "A02,2012-09-03,50,,,extra"
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS, on_invalid="quarantine")
    (problem,) = validated.problems
    assert (problem.file, problem.line, problem.rule) == ("gaf.csv", 4, "wrong number of fields")
    aside = validated.quarantined["gaf"]
    assert aside["raw_record"].tolist() == ["A02,2012-09-03,50,,,extra"]
    assert "expected 5 fields" in aside["reason"].iloc[0]
    balanced(validated)


def test_a_multiline_quoted_cell_breaks_its_lines_not_the_file(tmp_path):
    # The contract puts one record on each line; a spreadsheet's cell with a line break splits a record.
    directory = write_exports(tmp_path / "exports", valid_exports())
    path = directory / "eq5d.csv"
    lines = path.read_text().splitlines()
    lines.insert(2, 'A01,2011-02-10,1,1,1,1,1,"50')
    lines.insert(3, '"')
    path.write_text("\n".join(lines) + "\n")
    validated = validate_directory(directory, INSTRUMENTS, on_invalid="quarantine")
    assert [(p.line, p.rule) for p in validated.problems] == [(3, "unmatched quote"), (4, "unmatched quote")]
    assert len(validated.tables["eq5d"]) == 2
    balanced(validated)


# --------------------------------------------------------------------------------------------------
# 3. Clear causes
# --------------------------------------------------------------------------------------------------


def test_cp1252_export_is_named_with_the_fix(tmp_path):
    exports = valid_exports()
    # A column the workflow ignores, with a Nordic letter: cp1252 writes it as one byte, 0xc5.
    exports["patients"] = [exports["patients"][0] + ",unit"] + [f"{line},Ålesund" for line in exports["patients"][1:]]
    directory = write_exports(tmp_path / "exports", exports)
    path = directory / "patients.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    validated = validate_directory(directory, INSTRUMENTS)
    (problem,) = validated.fatal
    assert (problem.file, problem.line, problem.rule) == ("patients.csv", 2, "not UTF-8")
    assert "cp1252" in problem.detail and "'encoding: cp1252'" in problem.detail
    assert problem.value == "\\xc5les"  # escaped as a hex editor shows it, not a Python byte string
    # Declared (every file of the cohort in it: ASCII is the same in both), the file is read.
    validated = validate_directory(directory, INSTRUMENTS, encoding="cp1252")
    assert validated.problems == []
    assert len(validated.tables["patients"]) == 3


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le"])
def test_utf16_export_is_named_with_the_fix(tmp_path, codec):
    directory = write_exports(tmp_path / "exports", valid_exports())
    path = directory / "wai.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode(codec))
    validated = validate_directory(directory, INSTRUMENTS)
    (problem,) = validated.fatal
    assert (problem.file, problem.rule) == ("wai.csv", "not UTF-8")
    assert "utf-16" in problem.detail and "'encoding: utf-16" in problem.detail
    assert "\x00" not in format_report("c", validated, "stop")


def test_a_declared_encoding_is_read(tmp_path):
    directory = write_exports(tmp_path / "exports", valid_exports())
    for path in directory.glob("*.csv"):
        path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    validated = validate_directory(directory, INSTRUMENTS, encoding="utf-16")
    assert validated.problems == []
    assert validated.tables["patients"]["patient_id"].tolist() == ["A01", "A02", "A03"]


def test_control_characters_are_printed_escaped(tmp_path):
    exports = valid_exports()
    exports["patients"][1] = exports["patients"][1].replace(",25,", ",2\x005,")
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS, on_invalid="quarantine")
    problem = next(p for p in validated.problems if p.column == "age")
    assert "value '2\\x005'" in str(problem)
    assert "\x00" not in format_report("c", validated, "quarantine")
    assert "\x00" not in "".join(validated.quarantined["patients"]["reason"])


def test_a_huge_cell_in_an_ignored_column_does_not_stop_the_file(tmp_path):
    exports = valid_exports()
    exports["wai"] = [exports["wai"][0] + ",comment"] + [line + ",ok" for line in exports["wai"][1:]]
    exports["wai"][2] = exports["wai"][2][: -len(",ok")] + ',"' + "x" * 300_000 + '"'
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS, on_invalid="quarantine")
    assert validated.problems == []
    assert len(validated.tables["wai"]) == 5
    assert any("comment" in notice for notice in validated.notices)


def test_a_discharge_before_admission_is_one_reason_not_a_cascade(tmp_path):
    exports = valid_exports()
    exports["patients"][1] = "A01,25,female,2011-01-10,2010-07-10,planned,0"
    directory = write_exports(tmp_path / "exports", exports)
    validated = validate_directory(directory, INSTRUMENTS)
    assert [(p.file, p.line, p.column, p.rule) for p in validated.problems] == [
        ("patients.csv", 2, "discharge_date", "discharge before admission")
    ]
    validated = validate_directory(directory, INSTRUMENTS, on_invalid="quarantine")
    reasons = validated.quarantined["wai"]["reason"].tolist()
    assert reasons and all(r.startswith("patient set aside: patient_id 'A01'") for r in reasons)


def test_an_unparsable_discharge_date_is_one_reason(tmp_path):
    exports = valid_exports()
    exports["patients"][1] = "A01,25,female,2011-01-10,2013-13-45,planned,0"
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert [(p.line, p.column, p.rule) for p in validated.problems] == [(2, "discharge_date", "unparsable date")]


@pytest.mark.parametrize("name", REQUIRED_FILES + OPTIONAL_FILES)
@pytest.mark.parametrize("on_invalid", ["stop", "quarantine"])
def test_a_file_whose_only_record_is_malformed_gets_messages_not_a_traceback(tmp_path, name, on_invalid):
    exports = valid_exports()
    exports[name] = exports[name][:1] + [exports[name][1] + ",surplus"]
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS, on_invalid=on_invalid)
    assert (f"{name}.csv", 2, "wrong number of fields") in [(p.file, p.line, p.rule) for p in validated.problems]
    row = validated.accounting.set_index("file").loc[f"{name}.csv"]
    assert (row.rows_read, row.rows_kept, row.rows_quarantined) == (1, 0, 1)
    balanced(validated)
    assert "wrong number of fields" in format_report("c", validated, on_invalid)


def test_a_duplicated_ignored_column_is_ignored_but_a_duplicated_contract_column_stops(tmp_path):
    exports = valid_exports()
    exports["gaf"] = [exports["gaf"][0] + ",note,note"] + [line + ",a,b" for line in exports["gaf"][1:]]
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == []
    assert "gaf.csv: columns not in the contract, ignored: note" in validated.notices
    exports["gaf"] = [exports["gaf"][0] + ",gaf"] + [line + ",50" for line in exports["gaf"][1:]]
    validated = validate_directory(write_exports(tmp_path / "exports2", exports), INSTRUMENTS)
    assert [(p.file, p.column, p.rule) for p in validated.fatal] == [("gaf.csv", "gaf", "duplicate column")]
