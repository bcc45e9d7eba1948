"""Validation of a cohort's exports against the input contract.

Every rule of "What is wrong input" in ``export-format.md`` is checked here, over whole columns at once
(so a 100,000-patient register validates in seconds), and every violation becomes a :class:`Problem`
naming file, line, column and value. Nothing is dropped without a trace: each record read is either
kept or set aside with its reasons, and :func:`row_accounting` proves it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from alliance.data.contract import DAYS_PER_MONTH, ColumnSpec, FileSpec
from alliance.data.exports import LINE, RECORD_RULES, RawExport
from alliance.data.instruments import Instruments
from alliance.data.problems import Problem, escaped

OnInvalid = Literal["stop", "quarantine"]
DAYS_AFTER_DISCHARGE = 90  # export-format.md: "not more than 90 days after discharge_date"
REASON = "reason"
RAW_RECORD = "raw_record"

DECIMAL_HINT = (
    "values such as '4,5' look like decimal commas: if your exports write them, set 'decimal: \",\"' for "
    "this cohort in your config (cohorts: <name>: decimal)"
)
_INTEGER = r"^[+-]?\d+(?:\.0*)?$"
_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"


@dataclass
class ValidatedCohort:
    """The outcome of validating one cohort's exports."""

    tables: dict[str, pd.DataFrame]  # typed, kept rows only, with LINE
    quarantined: dict[str, pd.DataFrame]  # input columns + LINE + REASON
    problems: list[Problem]  # every violation found
    notices: list[str]  # reported, not errors (unknown columns, optional files absent)
    accounting: pd.DataFrame  # file, rows_read, rows_kept, rows_quarantined
    fatal: list[Problem] = field(default_factory=list)  # problems no quarantine can set aside
    hints: list[str] = field(default_factory=list)  # likely causes (a delimiter, decimal mark), each said once

    @property
    def is_valid(self) -> bool:
        return not self.problems


@dataclass
class _Checked:
    """One file while it is being checked: parsed columns and the problems of each row."""

    spec: FileSpec
    raw: RawExport
    parsed: pd.DataFrame
    row_problems: dict[int, list[Problem]] = field(default_factory=lambda: defaultdict(list))
    hints: set[str] = field(default_factory=set)

    @property
    def file_name(self) -> str:
        return self.raw.display_name

    def flag(self, mask: pd.Series | np.ndarray, column: str | None, rule: str, detail: str | pd.Series) -> None:
        """Record a problem for every row where mask holds; detail may differ per row."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        positions = np.flatnonzero(mask)
        lines = self.raw.table[LINE].to_numpy()[positions]
        if column is not None and column in self.raw.table:
            values = self.raw.table[column].to_numpy()[positions]
        else:
            values = np.full(len(positions), "", dtype=object)
        details = (
            np.asarray(detail, dtype=object)[positions] if isinstance(detail, pd.Series) else [detail] * len(positions)
        )
        for position, line, value, text in zip(positions, lines, values, details):
            self.row_problems[int(position)].append(
                Problem(self.file_name, int(line), column, str(value), rule, str(text))
            )


def _parse_column(checked: _Checked, spec: ColumnSpec, decimal: str) -> pd.Series:
    text = checked.raw.table[spec.name].astype(str)
    empty = text.eq("")
    if spec.required:
        checked.flag(empty, spec.name, "missing value", "a value is required")
    if spec.kind == "id":
        return text.where(~empty, pd.NA)
    if spec.kind == "choice":
        bad = ~empty & ~text.isin(spec.choices)
        rule = "unknown WAI version" if spec.name == "version" else "not an allowed value"
        checked.flag(bad, spec.name, rule, f"expected {spec.describe_range()}")
        return text.where(~empty & ~bad, pd.NA)
    if spec.kind == "date":
        well_formed = text.str.match(_DATE)
        dates = pd.to_datetime(text.where(well_formed), format="%Y-%m-%d", errors="coerce")
        bad = ~empty & dates.isna()
        checked.flag(bad, spec.name, "unparsable date", "expected an ISO 8601 date YYYY-MM-DD")
        return dates
    # integer or number
    pattern = _INTEGER if spec.kind == "integer" else _NUMBER
    if decimal == ",":
        # With a decimal comma, a '.' is no decimal mark (it may be a thousands separator): refuse it.
        well_formed = ~text.str.contains(".", regex=False) & text.str.replace(",", ".", regex=False).str.match(pattern)
        normalised = text.str.replace(",", ".", regex=False)
    else:
        well_formed = text.str.match(pattern)
        normalised = text
    numbers = pd.to_numeric(normalised.where(well_formed), errors="coerce")
    unparsable = ~empty & numbers.isna()
    if decimal == "." and (unparsable & text.str.match(r"^[+-]?\d*,\d+$")).any():
        checked.hints.add(DECIMAL_HINT)
    checked.flag(
        unparsable,
        spec.name,
        "unparsable value",
        "expected a whole number" if spec.kind == "integer" else f"expected a number with decimal mark '{decimal}'",
    )
    out_of_range = numbers.notna() & ((numbers < spec.minimum) | (numbers > spec.maximum))
    checked.flag(out_of_range, spec.name, "out of range", f"expected {spec.describe_range()}")
    numbers = numbers.where(~out_of_range)
    return numbers.astype("Int64") if spec.kind == "integer" else numbers.astype("float64")


def _check_item_ranges_by_version(checked: _Checked, instruments: Instruments) -> None:
    """Each WAI version has its own scale; an item valid for one form may be out of range for another."""
    for version_name, version in instruments.wai.versions.items():
        rows = checked.parsed["version"].eq(version_name).fillna(False).to_numpy()
        for column in checked.spec.item_columns_by_version:
            values = checked.parsed[column]
            bad = (
                rows
                & values.notna().to_numpy()
                & ((values < version.scale_min) | (values > version.scale_max)).fillna(False).to_numpy()
            )
            checked.flag(
                bad, column, "out of range", f"expected {version.scale_min}-{version.scale_max} for {version_name}"
            )
            checked.parsed.loc[bad, column] = pd.NA


def _check_duplicate_keys(checked: _Checked) -> None:
    key = list(checked.spec.key)
    complete = checked.parsed[key].notna().all(axis=1)
    duplicated = complete & checked.parsed.duplicated(subset=key, keep=False)
    if not duplicated.any():
        return
    lines = checked.raw.table[LINE]
    groups = checked.parsed[duplicated].groupby(key if len(key) > 1 else key[0], sort=False, dropna=False).groups
    detail = pd.Series("", index=checked.parsed.index, dtype=object)
    for index in groups.values():
        group_lines = lines.loc[index].tolist()
        for i in index:
            others = ", ".join(str(x) for x in group_lines if x != lines.loc[i])
            detail.loc[i] = f"({', '.join(key)}) also on line(s) {others}"
    if len(key) == 1:
        checked.flag(duplicated, key[0], "duplicate key", detail)
        return
    # A compound key has no single column: name the key's columns and show its values.
    values = checked.raw.table[key].astype(str).agg("|".join, axis=1)
    checked.flag(duplicated, "+".join(key), "duplicate key", detail)
    for position in np.flatnonzero(duplicated.to_numpy()):
        checked.row_problems[int(position)] = [
            replace(p, value=values.iloc[position]) if p.rule == "duplicate key" else p
            for p in checked.row_problems[int(position)]
        ]


EARLY_DROPOUT_MONTHS = 6  # export-format.md: dropout_early is "< 6 months"


def _check_patients(checked: _Checked) -> None:
    admission, discharge = checked.parsed["admission_date"], checked.parsed["discharge_date"]
    termination = checked.parsed["termination"]
    bad = (discharge < admission).fillna(False)
    checked.flag(bad, "discharge_date", "discharge before admission", "discharge_date is before admission_date")
    # export-format.md: an empty discharge_date means still in treatment.
    ongoing = termination.eq("ongoing").fillna(False)
    checked.flag(
        ongoing & discharge.notna(),
        "discharge_date",
        "inconsistent termination",
        "termination is 'ongoing' but a discharge_date is given",
    )
    ended = termination.notna() & ~ongoing
    empty_discharge = checked.raw.table["discharge_date"].astype(str).eq("")
    checked.flag(
        ended & empty_discharge,
        "discharge_date",
        "inconsistent termination",
        "treatment has ended (termination is not 'ongoing') but discharge_date is empty",
    )
    months = (discharge - admission).dt.days / DAYS_PER_MONTH
    late = termination.eq("dropout_early").fillna(False) & (months >= EARLY_DROPOUT_MONTHS).fillna(False)
    checked.flag(
        late,
        "termination",
        "inconsistent termination",
        f"dropout_early means a treatment shorter than {EARLY_DROPOUT_MONTHS} months",
    )


def _check_one_diagnosis_row_per_patient(patients: _Checked, diagnoses: _Checked | None) -> None:
    """export-format.md: diagnoses.csv has one row per patient."""
    if diagnoses is None:
        return
    missing = patients.parsed["patient_id"].notna() & ~patients.parsed["patient_id"].isin(
        diagnoses.parsed["patient_id"]
    )
    patients.flag(missing, "patient_id", "no diagnoses", "the patient has no row in diagnoses.csv")


def _check_against_patients(
    checked: _Checked, patients: pd.DataFrame | None, malformed_ids: set[str], set_aside: set[str]
) -> None:
    """Patient ids must be known; assessments must fall within the treatment period (+90 days).

    A patient whose own row has a problem (set_aside) has no dates to check against: its assessments get
    no follow-on errors from a discharge date that is itself wrong.
    """
    if patients is None:
        return
    known = patients.dropna(subset=["patient_id"]).drop_duplicates("patient_id").set_index("patient_id")
    pid = checked.parsed["patient_id"]
    unknown = pid.notna() & ~pid.isin(known.index) & ~pid.isin(list(malformed_ids))
    checked.flag(unknown, "patient_id", "unknown patient_id", "not in patients.csv")
    if not checked.spec.assessment:
        return
    if known.empty:  # every patients.csv record malformed: nothing to date against (pandas cannot map it)
        return
    trusted = ~pid.isin(list(set_aside)).to_numpy()
    admission = pid.map(known["admission_date"])
    discharge = pid.map(known["discharge_date"])
    date = checked.parsed["date"]
    before = (date < admission).fillna(False).to_numpy() & trusted
    checked.flag(before, "date", "before admission", "assessment dated before the patient's admission_date")
    limit = discharge + pd.Timedelta(days=DAYS_AFTER_DISCHARGE)
    after = (date > limit).fillna(False).to_numpy() & trusted
    checked.flag(
        after,
        "date",
        "long after discharge",
        f"assessment dated more than {DAYS_AFTER_DISCHARGE} days after the patient's discharge_date",
    )


DELIMITERS = {",": "','", ";": "';'", "\t": "a tab", "|": "'|'"}


def _delimiter_problem(raw: RawExport, spec: FileSpec) -> Problem | None:
    """A header that another delimiter splits into the contract's columns: one problem, not one per column."""
    if len(raw.header) != 1:
        return None
    for delimiter, said in DELIMITERS.items():
        columns = {c.strip() for c in raw.header[0].split(delimiter)}
        if len(columns) > 1 and columns & set(spec.column_names) >= {"patient_id"}:
            key = delimiter.replace("\t", "\\t")
            return Problem(
                raw.display_name,
                1,
                None,
                raw.header[0][:80],
                "wrong delimiter",
                f"the header is one column, but {said} splits it into the export's columns: set "
                f"'delimiter: \"{key}\"' for this cohort in your config (cohorts: <name>: delimiter)",
            )
    return None


def _missing_columns(raw: RawExport, spec: FileSpec, notices: list[str]) -> list[Problem]:
    """Required columns absent from the header are errors; optional ones count as empty (export-format.md)."""
    header = set(raw.header)
    absent = [c for c in spec.columns if c.name not in header]
    optional = [c.name for c in absent if c.may_be_absent]
    if optional:
        notices.append(f"{raw.display_name}: optional columns absent, counted as empty: {', '.join(optional)}")
        for name in optional:
            raw.table[name] = ""
    return [
        Problem(raw.display_name, 1, c.name, "", "missing column", "a required column is absent from the header")
        for c in absent
        if not c.may_be_absent
    ]


def _check_file(raw: RawExport, spec: FileSpec, decimal: str, notices: list[str]) -> tuple[_Checked, list[Problem]]:
    checked = _Checked(spec, raw, pd.DataFrame(index=raw.table.index))
    unreadable = [p for p in raw.problems if p.rule not in (*RECORD_RULES, "duplicate column")]
    if unreadable:
        return checked, unreadable
    wrong_delimiter = _delimiter_problem(raw, spec)
    if wrong_delimiter is not None:
        return checked, [wrong_delimiter]
    fatal = _missing_columns(raw, spec, notices)
    # A duplicated column the workflow reads is ambiguous; a duplicated one it ignores is just ignored.
    fatal += [p for p in raw.problems if p.rule == "duplicate column" and p.column in spec.column_names]
    unknown = list(dict.fromkeys(h for h in raw.header if h not in spec.column_names))
    if unknown:
        notices.append(f"{raw.display_name}: columns not in the contract, ignored: {', '.join(unknown)}")
    if spec.required and len(raw.table) + len(raw.malformed) == 0:
        fatal.append(
            Problem(raw.display_name, None, None, "", "no records", "a required export has a header but no records")
        )
    if fatal:
        return checked, fatal
    for column in spec.columns:
        checked.parsed[column.name] = _parse_column(checked, column, decimal)
    return checked, fatal


def row_accounting(
    raws: Mapping[str, RawExport], tables: Mapping[str, pd.DataFrame], quarantined: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """Records read (every non-blank line after the header, whether or not it could be split) = kept +
    quarantined, per file."""
    rows = []
    for name, raw in raws.items():
        read = len(raw.table) + len(raw.malformed)
        kept = len(tables.get(name, ()))
        set_aside = len(quarantined.get(name, ()))
        rows.append({"file": raw.display_name, "rows_read": read, "rows_kept": kept, "rows_quarantined": set_aside})
    accounting = pd.DataFrame(rows, columns=["file", "rows_read", "rows_kept", "rows_quarantined"])
    unbalanced = accounting[accounting.rows_read != accounting.rows_kept + accounting.rows_quarantined]
    if len(unbalanced):  # a bug in this module, never the user's input
        raise AssertionError(f"row accounting does not balance: {unbalanced.to_dict('records')}")
    return accounting


def _read_files(
    raws: Mapping[str, RawExport | None], specs: Mapping[str, FileSpec], decimal: str
) -> tuple[dict[str, _Checked], list[Problem], list[str]]:
    """Each file's columns parsed, or the problems that stop it as a whole; absent optional files noticed."""
    fatal: list[Problem] = []
    notices: list[str] = []
    checked: dict[str, _Checked] = {}
    for name, spec in specs.items():
        raw = raws.get(name)
        if raw is not None and not spec.required and any(p.rule == "empty file" for p in raw.problems):
            notices.append(f"{raw.display_name}: optional export is empty (no header), counted as absent")
            continue
        if raw is None:
            if spec.required:
                fatal.append(Problem(f"{name}.csv", None, None, "", "missing file", "a required export file is absent"))
            else:
                notices.append(f"{name}.csv: optional export absent")
            continue
        file_check, file_fatal = _check_file(raw, spec, decimal, notices)
        if not file_fatal and not spec.required and len(raw.table) + len(raw.malformed) == 0:
            notices.append(f"{raw.display_name}: optional export has a header but no records")
        fatal += file_fatal
        if not file_fatal:
            checked[name] = file_check
    return checked, fatal, notices


def _patient_id_of(raw: RawExport, fields: list[str]) -> str:
    index = list(raw.header).index("patient_id")
    return fields[index] if len(fields) > index else ""


def _check_relations(checked: dict[str, _Checked], instruments: Instruments | None) -> dict[str, int]:
    """Checks across rows and files; returns the patients whose own row has a problem, with its line."""
    patients = checked.get("patients")
    set_aside: dict[str, int] = {}
    malformed_ids: set[str] = set()
    if patients is not None:
        _check_patients(patients)
        _check_one_diagnosis_row_per_patient(patients, checked.get("diagnoses"))
        _check_duplicate_keys(patients)
        for position in patients.row_problems:
            pid = patients.raw.table["patient_id"].iloc[position]
            if pid:
                set_aside[pid] = int(patients.raw.table[LINE].iloc[position])
        # A patients.csv record that could not be split still names its patient, usually.
        for record in patients.raw.malformed:
            pid = _patient_id_of(patients.raw, record.fields)
            if pid:
                malformed_ids.add(pid)
                set_aside.setdefault(pid, record.line)
    for name, file_check in checked.items():
        if file_check.spec.item_columns_by_version and instruments is not None:
            _check_item_ranges_by_version(file_check, instruments)
        if name != "patients":
            _check_duplicate_keys(file_check)
            _check_against_patients(
                file_check, None if patients is None else patients.parsed, malformed_ids, set(set_aside)
            )
    return set_aside


def _reasons(file_check: _Checked, set_aside: Mapping[str, int]) -> dict[int, str]:
    """Why each record of a file is set aside, by position; a record of a set-aside patient says so."""
    reasons = {
        pos: "; ".join(
            f"{p.rule}: column '{p.column}' value '{escaped(p.value)}' ({p.detail})"
            if p.column
            else f"{p.rule}: {p.detail}"
            for p in probs
        )
        for pos, probs in file_check.row_problems.items()
    }
    if file_check.spec.name != "patients" and set_aside:
        table = file_check.raw.table
        orphaned = table["patient_id"].isin(set_aside.keys())
        for position in map(int, np.flatnonzero(orphaned.to_numpy())):
            if position not in reasons:
                pid = table["patient_id"].iloc[position]
                reasons[position] = (
                    f"patient set aside: patient_id '{escaped(pid)}' is quarantined in patients (line {set_aside[pid]})"
                )
    return reasons


def _split(file_check: _Checked, reasons: Mapping[int, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The kept rows (typed) and the rows set aside (as read, with line and reason)."""
    raw = file_check.raw
    bad_positions = np.array(sorted(reasons), dtype=int)
    keep = np.ones(len(raw.table), dtype=bool)
    keep[bad_positions] = False
    kept = file_check.parsed.loc[keep].copy()
    kept.insert(0, LINE, raw.table[LINE].to_numpy()[keep])
    input_columns = [c for c in raw.header if c in raw.table.columns and c not in (LINE, REASON, RAW_RECORD)]
    aside = raw.table.iloc[bad_positions][[*input_columns, LINE]].copy()
    aside[REASON] = [reasons[int(p)] for p in bad_positions]
    if raw.malformed:
        malformed = pd.DataFrame(
            {
                LINE: [m.line for m in raw.malformed],
                RAW_RECORD: [escaped(m.raw) for m in raw.malformed],
                REASON: [m.reason for m in raw.malformed],
            }
        )
        aside = pd.concat([aside, malformed], ignore_index=True).sort_values(LINE, kind="stable")
    return kept.reset_index(drop=True), aside.reset_index(drop=True)


def validate_exports(
    raws: Mapping[str, RawExport | None],
    specs: Mapping[str, FileSpec],
    instruments: Instruments | None,
    decimal: str = ".",
    on_invalid: OnInvalid = "stop",
) -> ValidatedCohort:
    """Check every export against the contract; keep valid rows and set the others aside with reasons.
    ``instruments`` may be None for files without per-version item ranges (a companion study's exports)."""
    checked, fatal, notices = _read_files(raws, specs, decimal)
    set_aside = _check_relations(checked, instruments)
    tables: dict[str, pd.DataFrame] = {}
    quarantined: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name, file_check in checked.items():
        tables[name], quarantined[name] = _split(file_check, _reasons(file_check, set_aside))
        problems += [p for probs in file_check.row_problems.values() for p in probs]
    problems += [p for raw in raws.values() if raw is not None for p in raw.problems if p.rule in RECORD_RULES]
    problems = sorted(set(problems), key=_problem_order)
    fatal = sorted(set(fatal), key=_problem_order)
    hints = sorted({hint for c in checked.values() for hint in c.hints})
    accounting = row_accounting({n: c.raw for n, c in checked.items()}, tables, quarantined)
    return ValidatedCohort(tables, quarantined, fatal + problems, notices, accounting, fatal, hints)


def _problem_order(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, -1 if p.line is None else p.line, p.column or "", p.rule)


def format_report(cohort_name: str, validated: ValidatedCohort, on_invalid: OnInvalid) -> str:
    """The validation report a clinic reads: every problem on one line, then what was done about it."""
    lines = [f"Validation of cohort '{cohort_name}' (on_invalid: {on_invalid})", ""]
    if validated.hints:
        lines += ["Likely cause:"] + [f"  {hint}" for hint in validated.hints] + [""]
    if validated.problems:
        lines.append(f"{len(validated.problems)} problem(s) found:")
        lines += [f"  {p}" for p in validated.problems]
    else:
        lines.append("No problems found.")
    if validated.notices:
        lines += ["", "Notices (not errors):"] + [f"  {n}" for n in validated.notices]
    lines += ["", "Rows per file (read = kept + quarantined):"]
    for row in validated.accounting.itertuples(index=False):
        lines.append(f"  {row.file}: read {row.rows_read}, kept {row.rows_kept}, quarantined {row.rows_quarantined}")
    if validated.fatal:
        lines += ["", "These problems concern whole files or columns and cannot be quarantined; fix the exports."]
    elif validated.problems and on_invalid == "quarantine":
        lines += [
            "",
            "The rows above were set aside in quarantine/ with their reasons; the analysis goes on without them.",
        ]
    elif validated.problems:
        lines += [
            "",
            "The build stops. Fix the exports, or set 'on_invalid: quarantine' for this cohort to set these rows aside.",
        ]
    return "\n".join(lines) + "\n"
