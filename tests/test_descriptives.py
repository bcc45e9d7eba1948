"""Tables I, II and the outcome change table: content from the configs, tests equal scipy's, small cells hidden,
same bytes every time, and valid output in every format."""

from __future__ import annotations

import copy
import csv
import io
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from alliance import layout as file_layout
from alliance.data.instruments import instruments_from_mapping, load_instruments
from alliance.errors import ConfigError
from alliance.report.descriptives import (
    FISHER_MARK,
    WELCH_MARK,
    describe_row,
    outcome_change,
    table_1,
    table_2,
    write_descriptive_tables,
)
from alliance.report.formatting import TableFrame, format_p, to_csv, to_html, to_latex, to_markdown
from alliance.report.table_rows import RowSpec, load_table_rows
from scipy import stats
from scipy.stats.contingency import expected_freq

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENTS_SPEC = yaml.safe_load((ROOT / "config" / "instruments.yaml").read_text())
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")
ROWS = load_table_rows(ROOT / "config" / "tables.yaml")
SMALL = re.compile(r"^< \d+$")


def make_patients(n_good: int = 84, n_poor: int = 64, n_unclassified: int = 7, seed: int = 1) -> pd.DataFrame:
    """A clean patients table with every column Table II and the outcome change table read."""
    rng = np.random.default_rng(seed)
    n = n_good + n_poor + n_unclassified
    group = ["good"] * n_good + ["poor"] * n_poor + [""] * n_unclassified
    frame = pd.DataFrame({"patient_id": [f"P{i:05d}" for i in range(n)], "outcome_group": group})
    for spec in ROWS:
        if spec.column in frame:
            continue
        if spec.kind == "pct" and spec.equals is not None:
            frame[spec.column] = rng.choice(["female", "male"], size=n, p=[0.8, 0.2])
        elif spec.kind == "pct":
            frame[spec.column] = (rng.random(n) < 0.3).astype(int)
        else:
            frame[spec.column] = rng.normal(30, 8, size=n).round(1)
    for measure, (start, end, sd) in {"gaf": (48, 62, 8), "wsas": (26, 14, 9), "bsi": (2.1, 1.2, 0.8)}.items():
        frame[f"baseline_{measure}"] = rng.normal(start, sd, size=n)
        final = pd.Series(rng.normal(end, sd, size=n))
        frame[f"final_{measure}"] = final.where(rng.random(n) > 0.2)
    frame.loc[frame["outcome_group"].eq(""), "final_gaf"] = np.nan
    frame["wsas_outcome"] = np.where(frame["final_wsas"].isna(), "", np.where(frame["final_wsas"] < 15, "good", "poor"))
    frame["bsi_outcome"] = np.where(frame["final_bsi"].isna(), "", np.where(frame["final_bsi"] < 0.8, "good", "poor"))
    return frame


@pytest.fixture(scope="module")
def patients() -> pd.DataFrame:
    frame = make_patients()
    frame.loc[[0, 5, 150], "age"] = np.nan  # missing values are counted
    frame.loc[frame.index[:3], "antisocial"] = 1  # Fisher rows
    frame.loc[frame.index[3:], "antisocial"] = 0
    return frame


# --------------------------------------------------------------------------------------------------
# Table II: tests equal scipy's
# --------------------------------------------------------------------------------------------------


def scipy_p(data: pd.DataFrame, spec: RowSpec) -> tuple[float, str]:
    """The p-value and test, computed here independently of the module."""
    data = data[data["outcome_group"].isin(["good", "poor"])]
    raw = data[spec.column]
    groups = [raw[data["outcome_group"] == g].dropna() for g in ("good", "poor")]
    if spec.kind == "mean":
        a, b = (np.asarray(g, dtype=float) for g in groups)
        welch = stats.levene(a, b, center="mean").pvalue < 0.05
        return float(stats.ttest_ind(a, b, equal_var=not welch).pvalue), "Welch t" if welch else "t"
    hits = [(g == spec.equals) if spec.equals is not None else (g == 1) for g in groups]
    table = np.array([[h.sum(), len(h) - h.sum()] for h in hits])
    if expected_freq(table).min() < 5:
        return float(stats.fisher_exact(table).pvalue), "Fisher"
    return float(stats.chi2_contingency(table, correction=False).pvalue), "chi-square"


def test_table_2_p_values_equal_scipy(patients):
    table = table_2(patients, ROWS, min_cell=0)
    full = table.full.frame.set_index("Characteristic")
    tests_seen = set()
    for spec in ROWS:
        expected, test = scipy_p(patients, spec)
        result = describe_row(patients[patients["outcome_group"].isin(["good", "poor"])], spec, 0)
        assert result.test.test == test, spec.label
        assert math.isclose(result.test.p_value, expected, rel_tol=1e-12, abs_tol=1e-15), spec.label
        assert full.loc[spec.label, "p"] == format_p(expected), spec.label
        tests_seen.add(test)
    assert {"t", "chi-square", "Fisher"} <= tests_seen
    paper = table.paper.frame
    expected_labels, section = [], None
    for spec in ROWS:
        expected_labels += [spec.section] if spec.section != section else []
        expected_labels.append(spec.label)
        section = spec.section
    assert list(paper["Characteristic"]) == expected_labels
    assert "Good outcome (n = 84)" in paper.columns[1] and "Poor outcome (n = 64)" in paper.columns[2]
    assert full.loc["Age", "n missing"] == "2"  # patient 150 is unclassified


def test_every_paper_row_is_declared():
    published = yaml.safe_load((ROOT / "config" / "published" / "folmo2020.yaml").read_text())["table_2"]["rows"]
    assert len(ROWS) == len(published)
    assert [s.kind for s in ROWS] == [r["kind"] for r in published]


def test_welch_when_levene_rejects_equal_variances():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"outcome_group": ["good"] * 40 + ["poor"] * 40})
    frame["equal"] = np.r_[rng.normal(0, 1, 40), rng.normal(0, 1, 40)]
    frame["unequal"] = np.r_[rng.normal(0, 1, 40), rng.normal(0, 6, 40)]
    rows = [
        {"label": "Equal", "column": "equal", "kind": "mean"},
        {"label": "Unequal", "column": "unequal", "kind": "mean"},
    ]
    cells = table_2(frame, rows, min_cell=0).paper.frame.set_index("Characteristic")["Test statistic"]
    assert WELCH_MARK not in cells["Equal"] and cells["Equal"].startswith("t(78) = ")
    assert cells["Unequal"].endswith(WELCH_MARK)
    welch = stats.ttest_ind(frame["unequal"][:40], frame["unequal"][40:], equal_var=False)
    assert cells["Unequal"].startswith(f"t({welch.df:.1f}) = ")


def test_fisher_when_an_expected_count_is_below_five():
    frame = pd.DataFrame({"outcome_group": ["good"] * 50 + ["poor"] * 50})
    frame["common"] = [1, 0] * 50
    frame["rare"] = [1] + [0] * 49 + [1, 1, 1] + [0] * 47
    rows = [{"label": "Common", "column": "common", "kind": "pct"}, {"label": "Rare", "column": "rare", "kind": "pct"}]
    table = table_2(frame, rows, min_cell=0)
    cells = table.paper.frame.set_index("Characteristic")
    assert cells.loc["Common", "Test statistic"].startswith("chi2(1) = ")
    assert cells.loc["Rare", "Test statistic"] == "Fisher" + FISHER_MARK
    assert cells.loc["Rare", "p"] == format_p(stats.fisher_exact([[1, 49], [3, 47]]).pvalue)
    assert any(note.startswith(FISHER_MARK) for note in table.paper.notes)


def test_unclassified_patients_are_excluded(patients):
    with_more = pd.concat([patients, make_patients(0, 0, 30, seed=9)], ignore_index=True)
    assert to_csv(table_2(with_more, ROWS, 0)) == to_csv(table_2(patients, ROWS, 0))


# --------------------------------------------------------------------------------------------------
# Table I from the instrument config
# --------------------------------------------------------------------------------------------------


def test_table_1_is_the_configured_items():
    table = table_1(INSTRUMENTS)
    frame = table.paper.frame
    assert list(frame.columns) == ["Version", "Tasks", "Goals", "Bonds"]
    assert len(frame) == 8 and list(frame["Version"]) == ["WAI-S", "", "", "", "WAI-SR", "", "", ""]
    assert list(frame["Goals"][:4].str.split(".").str[0]) == ["4", "6", "10", "11"]
    assert frame["Goals"][0].endswith("(R)") and frame["Goals"][2].endswith("(R)")
    assert not frame["Goals"][4:].str.contains(r"\(R\)").any()
    assert frame["Bonds"][7] == "9. " + INSTRUMENTS.wai.versions["WAI-SR"].wording[9]
    assert len(table.full.frame) == 24


def test_table_1_follows_a_changed_config():
    spec = copy.deepcopy(INSTRUMENTS_SPEC)
    version = spec["wai"]["versions"]["WAI-SR"]
    version["subscales"] = {"tasks": [1, 2, 8, 12], "goals": [4, 6, 10, 11], "bonds": [3, 5, 7, 9]}
    version["reversed"] = [10]
    version["wording"][10] = "A new wording."
    spec["wai"]["versions"]["WAI-X"] = copy.deepcopy(spec["wai"]["versions"]["WAI-S"]) | {"group_label": "X"}
    frame = table_1(instruments_from_mapping(spec)).paper.frame
    assert frame.loc[6, "Goals"] == "10. A new wording. (R)"
    assert frame.loc[6, "Tasks"].startswith("8. ")
    assert list(frame["Version"][::4]) == ["WAI-S", "WAI-SR", "WAI-X"]
    assert frame.to_csv() != table_1(INSTRUMENTS).paper.frame.to_csv()


# --------------------------------------------------------------------------------------------------
# Outcome change
# --------------------------------------------------------------------------------------------------


def test_outcome_change_statistics(patients):
    table = outcome_change(patients, 0, {"wsas": 15, "bsi": 0.8})
    row = table.paper.frame.set_index("Measure").loc["WSAS (< 15)"]
    both = patients[["baseline_wsas", "final_wsas"]].dropna()
    assert row["n"] == str(len(both))
    assert row["Admission mean (SD)"] == f"{both['baseline_wsas'].mean():.1f} ({both['baseline_wsas'].std():.1f})"
    assert row["Discharge mean (SD)"] == f"{both['final_wsas'].mean():.1f} ({both['final_wsas'].std():.1f})"
    final = patients["final_wsas"].dropna()
    assert row["Below cut-off at discharge %"] == str(round(100 * (final < 15).mean()))
    below = patients[(patients["final_wsas"] < 15) & patients["outcome_group"].isin(["good", "poor"])]
    assert row["Of these, good GAF outcome %"] == str(round(100 * below["outcome_group"].eq("good").mean()))


# --------------------------------------------------------------------------------------------------
# Small cells
# --------------------------------------------------------------------------------------------------


def small_cohort() -> pd.DataFrame:
    """Counts of 1-4 in many places: 3 poor patients, rare flags, few finals."""
    frame = make_patients(n_good=30, n_poor=3, n_unclassified=2, seed=5)
    frame["paranoid_pd"] = 0
    frame.loc[[0, 1], "paranoid_pd"] = 1  # 2 of the good
    frame.loc[[3, 4, 5], "borderline"] = np.nan  # 3 missing
    frame.loc[frame.index[4:], ["final_bsi", "bsi_outcome"]] = [np.nan, ""]  # 4 BSI finals
    return frame


def numbers_in(cell: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", cell)]


@pytest.mark.parametrize("min_cell", [5, 3])
def test_no_cell_rests_on_fewer_than_min_cell_patients(min_cell):
    frame = small_cohort()
    tables = [table_2(frame, ROWS, min_cell), outcome_change(frame, min_cell, {"wsas": 15, "bsi": 0.8})]
    t2 = tables[0].full.frame
    count_columns = ["Good n", "Good count", "Poor n", "Poor count", "n missing"]
    for column in count_columns:
        for cell in t2[column]:
            assert SMALL.match(cell) or cell in ("", "0") or float(cell) >= min_cell, (column, cell)
    for group in ("Good", "Poor"):
        for n, count, value, missing in zip(
            t2[f"{group} n"], t2[f"{group} count"], t2[group], t2["n missing"], strict=True
        ):
            # (a valid n is also withheld, though not small, when it would give away a withheld n missing)
            if (SMALL.match(n) and not SMALL.match(missing)) or SMALL.match(count):
                assert SMALL.match(value), (group, n, count, value)
    # The poor group has 3 patients: every poor cell and the header are suppressed.
    assert (t2["Poor n"] == f"< {min_cell}").all() if min_cell > 3 else (t2["Poor n"] == "3").all()
    paper = tables[0].paper.frame
    header = paper.columns[2]
    assert f"(n = < {min_cell})" in header if min_cell > 3 else "(n = 3)" in header
    change = tables[1].full.frame.set_index("Measure")
    for column in ("n both", "n discharge", "Below cut-off n", "Below cut-off and good GAF n"):
        for cell in change[column]:
            assert SMALL.match(cell) or cell in ("", "0") or float(cell) >= min_cell, (column, cell)
    bsi_both = f"< {min_cell}" if min_cell > 4 else "4"  # 4 patients have both BSI scores
    assert change.loc["BSI", "n both"] == bsi_both
    assert (change.loc["BSI", "Admission mean"] == bsi_both) == (min_cell > 4)
    # Every layout: no count of 1..min_cell-1 in a count column, and the note says so.
    for table in tables:
        for layout in ("paper", "full"):
            chosen = table.layout(layout)
            assert any(note.startswith(f"< {min_cell}:") for note in chosen.notes)
            for column in chosen.frame.columns:
                if re.search(r"(^n\b|\bn$|\bn\b.*missing|count|%|^n |\bn both)", column):
                    for cell in chosen.frame[column]:
                        if SMALL.match(cell) or not cell:
                            continue
                        if column.endswith("%") or "%" in column:
                            continue  # percentages checked through their counts above
                        assert all(x == 0 or x >= min_cell for x in numbers_in(cell)), (column, cell)
    # Table II paper cells: the poor column (n = 3) shows nothing but suppression markers.
    body = paper[paper["Test statistic"].ne("") | paper.iloc[:, 1].ne("")]
    assert (body.iloc[:, 2].map(lambda c: bool(SMALL.match(c))) | (min_cell <= 3)).all()


def test_tests_and_valid_n_that_would_reveal_a_withheld_cell_are_withheld():
    frame = small_cohort()
    paper = table_2(frame, ROWS, 5).paper.frame.set_index("Characteristic")
    full = table_2(frame, ROWS, 5).full.frame.set_index("Characteristic")
    # Paranoid PD: 2 good patients with it, a withheld cell, so its Fisher/chi-square test is withheld.
    assert paper.loc["Paranoid PD", paper.columns[0]] == "< 5"
    assert paper.loc["Paranoid PD", "p"] == "< 5" and paper.loc["Paranoid PD", "Sig."] == ""
    assert full.loc["Paranoid PD", "Statistic"] == "< 5" and full.loc["Paranoid PD", "df"] == "< 5"
    # Borderline PD: 3 missing, withheld, and the valid n that would give it away with the group sizes.
    assert full.loc["Borderline PD", "n missing"] == "< 5"
    assert full.loc["Borderline PD", "Good n"] == "< 5" and full.loc["Borderline PD", "Poor n"] == "< 5"
    open_full = table_2(frame, ROWS, 0).full.frame.set_index("Characteristic")
    assert open_full.loc["Paranoid PD", "p"] not in ("", "< 5")
    assert not any("so is the row's test" in n for n in table_2(frame, ROWS, 0).paper.notes)
    assert any("so is the row's test" in n for n in table_2(frame, ROWS, 5).paper.notes)


def test_suppression_off_shows_the_small_counts():
    frame = small_cohort()
    full = table_2(frame, ROWS, 0).full.frame.set_index("Characteristic")
    assert full.loc["Paranoid PD", "Good count"] == "2"
    assert full.loc["Borderline PD", "n missing"] == "3"
    assert full.loc["Paranoid PD", "Poor n"] == "3"
    assert not any(note.startswith("< ") for note in table_2(frame, ROWS, 0).paper.notes)
    suppressed = table_2(frame, ROWS, 5).full.frame.set_index("Characteristic")
    assert suppressed.loc["Paranoid PD", "Good count"] == "< 5"
    assert suppressed.loc["Paranoid PD", "Good"] == "< 5"
    assert suppressed.loc["Borderline PD", "n missing"] == "< 5"
    change = outcome_change(frame, 0).full.frame.set_index("Measure")
    assert change.loc["BSI", "n both"] == "4"


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def declared(folder: Path) -> dict[str, Path]:
    """The files the rule descriptive_tables declares, in ``folder``, by name."""
    return file_layout.by_name(folder / name for name in file_layout.table_files(file_layout.DESCRIPTIVE_TABLES))


def test_written_tables_are_byte_identical(patients, tmp_path):
    first = write_descriptive_tables(patients, INSTRUMENTS, ROWS, declared(tmp_path / "a"), 5)
    second = write_descriptive_tables(patients.copy(), INSTRUMENTS, ROWS, declared(tmp_path / "b"), 5)
    names = [p.name for p in first]
    assert len(names) == 24 and {"table_1.md", "table_2_full.tex", "table_outcome_change.csv"} <= set(names)
    for a, b in zip(first, second, strict=True):
        assert a.name == b.name and a.read_bytes() == b.read_bytes()


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.rows: list[int] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "tr":
            self.rows.append(0)
        if tag in ("td", "th") and not dict(attrs).get("colspan"):
            self.rows[-1] += 1

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, tag


def all_tables(patients: pd.DataFrame) -> list[TableFrame]:
    return [table_1(INSTRUMENTS), table_2(patients, ROWS, 5), outcome_change(patients, 5, {"wsas": 15, "bsi": 0.8})]


@pytest.mark.parametrize("layout", ["paper", "full"])
def test_formats_are_valid(patients, layout):
    for table in all_tables(patients):
        frame = table.layout(layout).frame
        width = len(frame.columns)
        parsed = list(csv.reader(io.StringIO(to_csv(table, layout))))
        assert parsed[0] == list(frame.columns) and parsed[1:] == frame.astype(str).values.tolist()
        markdown_rows = [line for line in to_markdown(table, layout).splitlines() if line.startswith("|")]
        assert {len(re.findall(r"(?<!\\)\|", line)) for line in markdown_rows} == {width + 1}
        assert len(markdown_rows) == len(frame) + 2
        checker = _Checker()
        checker.feed(to_html(table, layout))
        checker.close()
        assert checker.stack == [] and {n for n in checker.rows if n} == {width}
        tex = to_latex(table, layout)
        begins, ends = re.findall(r"\\begin\{(\w+)\}", tex), re.findall(r"\\end\{(\w+)\}", tex)
        assert begins == ["table", "tabular", "minipage"] and sorted(begins) == sorted(ends)
        body = "\n".join(line for line in tex.splitlines() if not line.startswith("%"))
        assert not re.search(r"(?<!\\)[_%#<>]", body)
        start, stop = tex.index("\\toprule"), tex.index("\\bottomrule")
        rows = [line for line in tex[start:stop].splitlines() if line.endswith("\\\\")]
        assert len(rows) == len(frame) + 1
        assert all(len(re.findall(r"(?<!\\)&", line)) == width - 1 for line in rows)
        assert all(cell == cell.strip() for cell in frame.to_numpy().ravel())


def test_on_a_clean_cohort_from_the_pipeline(tmp_path):
    """The real clean patients table (synthetic exports -> validation -> derivation) goes through."""
    from synthetic_cohorts import synthetic_cohort

    clean = synthetic_cohort()[2].patients
    written = write_descriptive_tables(clean, INSTRUMENTS, ROWS, declared(tmp_path / "tables"), 5)
    assert all(p.stat().st_size > 0 for p in written)
    table = table_2(clean, ROWS, 5)
    n_good, n_poor = (int(clean["outcome_group"].eq(g).sum()) for g in ("good", "poor"))
    assert f"(n = {n_good})" in table.paper.frame.columns[1] and f"(n = {n_poor})" in table.paper.frame.columns[2]
    gaf = outcome_change(clean, 5).paper.frame.set_index("Measure").loc["GAF"]
    assert gaf["n"] == str(int(clean[["baseline_gaf", "final_gaf"]].notna().all(axis=1).sum()))


def test_a_percentage_whose_complement_is_a_small_cell_is_suppressed():
    from alliance.report.disclosure import pct_cell

    assert pct_cell(98, 100, 5) == "< 5"  # reveals the 2 patients without the characteristic
    assert pct_cell(95, 100, 5) == "95"
    assert pct_cell(100, 100, 5) == "100"  # no one without it: nothing to reveal beyond the total
    assert pct_cell(98, 100, 0) == "98"


# --------------------------------------------------------------------------------------------------
# The rows of Table II (config/tables.yaml)
# --------------------------------------------------------------------------------------------------


def rows_file(tmp_path: Path, rows: list) -> Path:
    path = tmp_path / "tables.yaml"
    path.write_text(yaml.safe_dump({"table_2": {"rows": rows}}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "key", "message"),
    [
        ({"label": "Age", "column": "age", "kind": "median"}, "table_2.rows[1].kind", "kind must be pct or mean"),
        ({"label": "Age", "column": "age", "kind": "mean", "equals": 1}, "table_2.rows[1].equals", "pct only"),
        ({"label": "Age", "kind": "mean"}, "table_2.rows[1].column", "missing"),
        ({"label": "Age", "column": "age", "kind": "mean", "decimal": 0}, "table_2.rows[1]", "unknown key"),
        ({"label": "Age", "column": "age", "kind": "mean", "decimals": -1}, "table_2.rows[1].decimals", ">= 0"),
        ("Age", "table_2.rows[1]", "a mapping"),
    ],
)
def test_a_wrong_row_names_the_file_and_the_key(tmp_path, row, key, message):
    path = rows_file(tmp_path, [{"label": "Borderline PD", "column": "borderline", "kind": "pct"}, row])
    with pytest.raises(ConfigError, match=message) as error:
        load_table_rows(path)
    assert error.value.file == str(path) and error.value.key == key
    assert str(error.value).startswith(f"{path}, key '{key}': ")


def test_a_table_rows_file_without_rows_or_unreadable_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="table_2.rows"):
        load_table_rows(rows_file(tmp_path, []))
    with pytest.raises(ConfigError, match="cannot read") as error:
        load_table_rows(tmp_path / "absent.yaml")
    assert error.value.file == str(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("table_2: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_table_rows(broken)


def test_the_table_rows_parser_is_light():
    """The Snakefile parses config/tables.yaml at every load: no numpy, pandas or scipy on the way."""
    import subprocess
    import sys

    code = "import sys, alliance.report.table_rows; print(sorted({'numpy', 'pandas', 'scipy'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
