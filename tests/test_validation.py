"""Every rule of "What is wrong input" (export-format.md), one malformed export each.

Each case breaks the hand-made valid cohort in one place and asserts that the problem names the file,
the line (header = line 1), the column and the value.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from alliance.data.instruments import load_instruments
from alliance.data.pipeline import validate_directory
from exports_factory import valid_exports, write_exports

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")

Exports = dict[str, list[str]]


def replace_line(name: str, line: int, text: str) -> Callable[[Exports], None]:
    def mutate(exports: Exports) -> None:
        exports[name][line - 1] = text

    return mutate


def replace_cell(name: str, line: int, column: str, value: str) -> Callable[[Exports], None]:
    def mutate(exports: Exports) -> None:
        header = exports[name][0].split(",")
        cells = exports[name][line - 1].split(",")
        cells[header.index(column)] = value
        exports[name][line - 1] = ",".join(cells)

    return mutate


def drop_column(name: str, column: str) -> Callable[[Exports], None]:
    def mutate(exports: Exports) -> None:
        index = exports[name][0].split(",").index(column)
        exports[name] = [",".join(c for i, c in enumerate(line.split(",")) if i != index) for line in exports[name]]

    return mutate


def append_line(name: str, text: str) -> Callable[[Exports], None]:
    def mutate(exports: Exports) -> None:
        exports[name].append(text)

    return mutate


# (id, mutation, file, line, column, value, rule)
CASES = [
    (
        "unparsable integer",
        replace_cell("patients", 2, "age", "twenty"),
        "patients.csv",
        2,
        "age",
        "twenty",
        "unparsable value",
    ),
    (
        "fractional integer",
        replace_cell("wai", 3, "item_05", "5.5"),
        "wai.csv",
        3,
        "item_05",
        "5.5",
        "unparsable value",
    ),
    ("age out of range", replace_cell("patients", 3, "age", "81"), "patients.csv", 3, "age", "81", "out of range"),
    ("WAI item out of range", replace_cell("wai", 2, "item_07", "8"), "wai.csv", 2, "item_07", "8", "out of range"),
    ("GAF out of range", replace_cell("gaf", 4, "gaf", "0"), "gaf.csv", 4, "gaf", "0", "out of range"),
    ("WSAS item out of range", replace_cell("wsas", 2, "item_3", "9"), "wsas.csv", 2, "item_3", "9", "out of range"),
    ("BSI item out of range", replace_cell("bsi18", 3, "item_18", "5"), "bsi18.csv", 3, "item_18", "5", "out of range"),
    (
        "SIPP out of range",
        replace_cell("sipp_sf", 2, "responsibility", "101"),
        "sipp_sf.csv",
        2,
        "responsibility",
        "101",
        "out of range",
    ),
    (
        "EQ-5D level out of range",
        replace_cell("eq5d", 3, "mobility", "4"),
        "eq5d.csv",
        3,
        "mobility",
        "4",
        "out of range",
    ),
    (
        "diagnosis flag not 0/1",
        replace_cell("diagnoses", 2, "mood", "2"),
        "diagnoses.csv",
        2,
        "mood",
        "2",
        "out of range",
    ),
    (
        "unparsable date",
        replace_cell("gaf", 3, "date", "01.07.2013"),
        "gaf.csv",
        3,
        "date",
        "01.07.2013",
        "unparsable date",
    ),
    (
        "impossible date",
        replace_cell("patients", 2, "admission_date", "2011-02-30"),
        "patients.csv",
        2,
        "admission_date",
        "2011-02-30",
        "unparsable date",
    ),
    (
        "gender not allowed",
        replace_cell("patients", 2, "gender", "F"),
        "patients.csv",
        2,
        "gender",
        "F",
        "not an allowed value",
    ),
    (
        "termination not allowed",
        replace_cell("patients", 3, "termination", "quit"),
        "patients.csv",
        3,
        "termination",
        "quit",
        "not an allowed value",
    ),
    ("required value empty", replace_cell("gaf", 2, "gaf", ""), "gaf.csv", 2, "gaf", "", "missing value"),
    (
        "empty patient_id",
        replace_cell("patients", 4, "patient_id", ""),
        "patients.csv",
        4,
        "patient_id",
        "",
        "missing value",
    ),
    (
        "unknown WAI version",
        replace_cell("wai", 4, "version", "WAI-L"),
        "wai.csv",
        4,
        "version",
        "WAI-L",
        "unknown WAI version",
    ),
    (
        "unknown patient_id",
        replace_cell("gaf", 5, "patient_id", "B99"),
        "gaf.csv",
        5,
        "patient_id",
        "B99",
        "unknown patient_id",
    ),
    (
        "diagnosis of unknown patient",
        replace_cell("diagnoses", 4, "patient_id", "A09"),
        "diagnoses.csv",
        4,
        "patient_id",
        "A09",
        "unknown patient_id",
    ),
    (
        "duplicate patient",
        replace_cell("patients", 3, "patient_id", "A01"),
        "patients.csv",
        3,
        "patient_id",
        "A01",
        "duplicate key",
    ),
    (
        "duplicate WAI administration",
        append_line("wai", "A02,2012-12-03,WAI-SR,5,5,5,5,5,5,5,5,5,5,5,5"),
        "wai.csv",
        7,
        "patient_id+date+version",
        "",
        "duplicate key",
    ),
    ("duplicate GAF", append_line("gaf", "A03,2014-02-01,44,,"), "gaf.csv", 7, "patient_id+date", "", "duplicate key"),
    (
        "assessment before admission",
        replace_cell("wai", 5, "date", "2012-08-01"),
        "wai.csv",
        5,
        "date",
        "2012-08-01",
        "before admission",
    ),
    (
        "assessment long after discharge",
        replace_cell("gaf", 5, "date", "2013-06-15"),
        "gaf.csv",
        5,
        "date",
        "2013-06-15",
        "long after discharge",
    ),
    (
        "discharge before admission",
        replace_cell("patients", 2, "discharge_date", "2010-12-31"),
        "patients.csv",
        2,
        "discharge_date",
        "2010-12-31",
        "discharge before admission",
    ),
    (
        "wrong number of fields",
        replace_line("wai", 3, "A01,2012-10-10,WAI-SR,6,6,6"),
        "wai.csv",
        3,
        None,
        "A01,2012-10-10,WAI-SR,6,6,6",
        "wrong number of fields",
    ),
    ("missing required column", drop_column("gaf", "gaf"), "gaf.csv", 1, "gaf", "", "missing column"),
    ("missing key column", drop_column("wai", "version"), "wai.csv", 1, "version", "", "missing column"),
    (
        "duplicate column",
        replace_line(
            "eq5d", 1, "patient_id,date,mobility,mobility,usual_activities,pain_discomfort,anxiety_depression,vas"
        ),
        "eq5d.csv",
        1,
        "mobility",
        "mobility",
        "duplicate column",
    ),
]


@pytest.mark.parametrize(
    ("case", "mutate", "file", "line", "column", "value", "rule"), CASES, ids=[c[0] for c in CASES]
)
def test_each_rule_names_file_line_column_and_value(tmp_path, case, mutate, file, line, column, value, rule):
    exports = valid_exports()
    mutate(exports)
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    matching = [p for p in validated.problems if p.rule == rule]
    assert matching, f"no '{rule}' problem; found: {[str(p) for p in validated.problems]}"
    problem = next((p for p in matching if p.line == line), matching[0])
    assert (problem.file, problem.line, problem.column) == (file, line, column)
    if value:
        assert problem.value == value
    text = str(problem)
    assert file in text and f"line {line}" in text
    if column and "+" not in column:
        assert f"'{column}'" in text


def test_valid_cohort_has_no_problems(tmp_path):
    validated = validate_directory(write_exports(tmp_path / "exports", valid_exports()), INSTRUMENTS)
    assert validated.problems == []
    assert validated.accounting.rows_quarantined.sum() == 0


def test_missing_required_file(tmp_path):
    exports = valid_exports()
    del exports["diagnoses"]
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    (problem,) = validated.fatal
    assert (problem.file, problem.rule) == ("diagnoses.csv", "missing file")
    assert "diagnoses.csv" in str(problem)


def test_missing_optional_file_is_a_notice_not_an_error(tmp_path):
    exports = valid_exports()
    del exports["sipp_sf"]
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == []
    assert any("sipp_sf.csv" in n for n in validated.notices)


def test_unknown_columns_are_reported_and_ignored(tmp_path):
    exports = valid_exports()
    exports["gaf"] = [line + (",note" if i == 0 else ",x") for i, line in enumerate(exports["gaf"])]
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == []
    assert any("gaf.csv" in n and "note" in n for n in validated.notices)
    assert "note" not in validated.tables["gaf"].columns


def test_item_valid_for_one_version_is_out_of_range_for_a_five_point_form(tmp_path):
    import yaml
    from alliance.data.instruments import instruments_from_mapping

    spec = yaml.safe_load((ROOT / "config" / "instruments.yaml").read_text())
    spec["wai"]["versions"]["WAI-SR"]["scale_max"] = 5
    instruments = instruments_from_mapping(spec)
    validated = validate_directory(write_exports(tmp_path / "exports", valid_exports()), instruments)
    bad = [p for p in validated.problems if p.rule == "out of range"]
    assert {(p.line, p.value) for p in bad} >= {(3, "6"), (4, "7")}
    assert all("WAI-SR" in p.detail for p in bad)


def test_every_problem_is_listed_not_only_the_first(tmp_path):
    exports = valid_exports()
    for mutate in (
        replace_cell("patients", 2, "age", "200"),
        replace_cell("wai", 2, "item_01", "0"),
        replace_cell("gaf", 3, "gaf", "x"),
        replace_cell("eq5d", 2, "vas", "101"),
    ):
        mutate(exports)
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert {(p.file, p.line) for p in validated.problems} == {
        ("patients.csv", 2),
        ("wai.csv", 2),
        ("gaf.csv", 3),
        ("eq5d.csv", 2),
    }


def test_not_utf8_names_the_line(tmp_path):
    directory = write_exports(tmp_path / "exports", valid_exports())
    data = (directory / "patients.csv").read_bytes().replace(b"A02,31,male", "A02,31,m\u00e6le".encode("latin-1"))
    (directory / "patients.csv").write_bytes(data)
    validated = validate_directory(directory, INSTRUMENTS)
    (problem,) = validated.fatal
    assert (problem.file, problem.line, problem.rule) == ("patients.csv", 3, "not UTF-8")


def test_blank_lines_are_not_records(tmp_path):
    exports = valid_exports()
    exports["gaf"].insert(3, "")
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == []
    assert list(validated.tables["gaf"]["line"]) == [2, 3, 5, 6, 7]


def test_whitespace_around_names_and_values_is_trimmed(tmp_path):
    exports = valid_exports()
    exports["gaf"][0] = " patient_id , date,gaf ,gaf_symptom,gaf_function"
    exports["gaf"][2] = "A01 , 2013-07-01 , 65 ,60,65"
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == []
    assert validated.tables["gaf"].loc[1, "gaf"] == 65


def test_parsed_types(tmp_path):
    validated = validate_directory(write_exports(tmp_path / "exports", valid_exports()), INSTRUMENTS)
    patients = validated.tables["patients"]
    assert str(patients["age"].dtype) == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(patients["admission_date"])
    assert pd.isna(patients.loc[2, "discharge_date"])


# --- Found in review: realistic exports that must be reported, or accepted, correctly ----------------


@pytest.mark.parametrize(
    ("case", "mutate", "file", "line", "column", "rule"),
    [
        ("ongoing with a discharge date", replace_line("patients", 4, "A03,40,other,2014-02-01,2014-06-01,ongoing,"), "patients.csv", 4, "discharge_date", "inconsistent termination"),
        ("ended without a discharge date", replace_line("patients", 2, "A01,25,female,2011-01-10,,planned,0"), "patients.csv", 2, "discharge_date", "inconsistent termination"),
        ("early dropout after 18 months", replace_line("patients", 2, "A01,25,female,2011-01-10,2013-07-10,dropout_early,0"), "patients.csv", 2, "termination", "inconsistent termination"),
        ("patient without diagnoses", lambda e: e["diagnoses"].pop(3), "patients.csv", 4, "patient_id", "no diagnoses"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)  # fmt: skip
def test_patient_consistency_rules(tmp_path, case, mutate, file, line, column, rule):
    exports = valid_exports()
    mutate(exports)
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert [(p.file, p.line, p.column, p.rule) for p in validated.problems] == [(file, line, column, rule)]


def test_duplicate_compound_key_shows_its_values(tmp_path):
    exports = valid_exports()
    exports["gaf"].append("A01,2013-07-01,66,,")
    problems = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS).problems
    assert {(p.line, p.value) for p in problems} == {(3, "A01|2013-07-01"), (7, "A01|2013-07-01")}


def test_export_columns_named_like_the_workflows_own_are_ignored(tmp_path):
    exports = valid_exports()
    exports["gaf"] = [line + (",line,reason" if i == 0 else ",x,y") for i, line in enumerate(exports["gaf"])]
    exports["gaf"].append("A02,2013-02-22")  # a short record, so the quarantine file is built too
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS, on_invalid="quarantine")
    assert list(validated.tables["gaf"]["line"]) == [2, 3, 4, 5, 6]
    aside = validated.quarantined["gaf"]
    assert list(aside["line"]) == [7] and "wrong number of fields" in aside["reason"].iloc[0]


def test_spreadsheet_artefacts_are_accepted(tmp_path):
    exports = valid_exports()
    exports = {name: [line + ",," for line in lines] for name, lines in exports.items()}  # two trailing delimiters
    exports["gaf"].append(",,,,,,")  # a row of empty cells
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS)
    assert validated.problems == []
    assert len(validated.tables["gaf"]) == 5


def test_a_stray_quote_is_a_problem_of_that_record_only(tmp_path):
    exports = valid_exports()
    exports["gaf"][2] = 'A01,"2013-07-01"x,65,60,65'
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS, on_invalid="quarantine")
    assert [(p.line, p.column, p.rule) for p in validated.problems] == [(3, "date", "unparsable date")]
    assert validated.fatal == [] and len(validated.tables["gaf"]) == 4


def test_decimal_comma_applies_to_integers_and_refuses_points(tmp_path):
    exports = valid_exports()
    exports["gaf"][2] = "A01,2013-07-01,65.0,60,65"
    exports["sipp_sf"][1] = "A01,2011-01-10,23.5,32,20,30,27"
    directory = tmp_path / "exports"
    directory.mkdir()
    for name, lines in exports.items():
        text = "\n".join(line.replace(",", ";") for line in lines) + "\n"
        (directory / f"{name}.csv").write_text(text.replace("65.0", "65,0").replace("23.5", "23.5"))
    validated = validate_directory(directory, INSTRUMENTS, delimiter=";", decimal=",")
    assert [(p.file, p.column, p.value) for p in validated.problems] == [("sipp_sf.csv", "self_control", "23.5")]
    assert validated.tables["gaf"].loc[1, "gaf"] == 65


def test_a_malformed_patient_row_sets_its_records_aside_with_that_reason(tmp_path):
    exports = valid_exports()
    exports["patients"][2] = "A02,31,male,2012-09-03,2013-03-01,dropout_late"
    validated = validate_directory(write_exports(tmp_path / "exports", exports), INSTRUMENTS, on_invalid="quarantine")
    assert not [p for p in validated.problems if p.rule == "unknown patient_id"]
    reasons = validated.quarantined["wai"]["reason"]
    assert len(reasons) == 1 and "patient set aside" in reasons.iloc[0] and "line 3" in reasons.iloc[0]
