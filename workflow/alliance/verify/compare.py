"""Published against reproduced: every number the paper published beside the workflow's own.

The published values are ``config/published/folmo2020.yaml``; *where* each of them is reproduced is data too,
``config/verify.yaml``: for each published entry the output file, model, term and column (or a cohort
statistic of ``clean/patients.csv``), the kind of number (which sets the default tolerance) and, for model
estimates, the significance the paper states ("ns", stars, ``slope_p``). Text findings map to
(model_id, term, expected direction, expected p). Both files are parsed and checked once, into the types of
:mod:`alliance.verify.mapping`; the files the mapping names are looked up among those the rule declares.

Each comparison gets a verdict:

* ``matches``: the reproduced value rounded to the published precision is the published value;
* ``within tolerance``: it is not, but the difference is within the tolerance;
* ``differs``: it is outside the tolerance;
* ``not reproduced``: the workflow has no such value (a model not fitted, a suppressed cell).

and, separately, whether the significance decision agrees (``agrees``, ``stars differ`` when both are
significant at .05 but at different star levels, ``disagrees``, ``not stated``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from alliance.errors import AllianceError, ConfigError
from alliance.stats.model_runs import not_collected_reason
from alliance.verify.mapping import (
    ALPHA,
    LABEL,
    Claim,
    Entry,
    JsonValue,
    ModelRow,
    ModelValue,
    PatientStatistic,
    Published,
    PublishedNumber,
    Source,
    TableCell,
    TextFinding,
    Tolerance,
    VerifyMapping,
    lookup,
    parse_expected,
)

VERDICTS = ("matches", "within tolerance", "differs", "not reproduced")
SIGNIFICANCE_VERDICTS = ("agrees", "stars differ", "disagrees", "not stated", "not reproduced")


def decimals_of(value: Any) -> int:
    if isinstance(value, PublishedNumber):
        return value.decimals
    text = repr(float(value))
    return len(text.split(".", 1)[1].rstrip("0")) if "." in text else 0


def round_half_up(value: float, decimals: int) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------------------------------
# Where reproduced values come from
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outputs:
    """The outputs of one cohort that comparisons read (any may be missing): the patients' and the models'
    tables, and the declared files (by their path relative to the cohort's results) that the mapping's
    JSON and table sources name."""

    patients: pd.DataFrame | None = None
    estimates: pd.DataFrame | None = None
    fits: pd.DataFrame | None = None
    variance_components: pd.DataFrame | None = None
    files: Mapping[str, Path] = field(default_factory=dict)

    @classmethod
    def read(
        cls, files: Mapping[str, Path], patients: Path, estimates: Path, fits: Path, variance_components: Path
    ) -> Outputs:
        def csv(path: Path) -> pd.DataFrame | None:
            return pd.read_csv(path, keep_default_na=False, na_values=[""]) if path.exists() else None

        return cls(csv(patients), csv(estimates), csv(fits), csv(variance_components), files)


class NotReproduced(AllianceError):
    """The outputs hold no value for this source."""


class UndeclaredFile(ConfigError):
    """``config/verify.yaml`` names a file that the verification rule does not declare."""


def check_declared(mapping: VerifyMapping, files: Mapping[str, Path]) -> None:
    """Every file a JSON or table source names is among the declared ``files``: one :class:`UndeclaredFile`
    naming the mapping's file and key otherwise (the rule, or the mapping, needs the file added)."""
    for key, source in mapping.sources():
        if isinstance(source, (JsonValue, TableCell)) and source.file not in files:
            kind = "json" if isinstance(source, JsonValue) else "table"
            raise UndeclaredFile(
                f"{source.file!r} is not among the {len(files)} files the verification rule declares",
                mapping.file,
                f"{key}.{kind}.file",
            )


def _one(frame: pd.DataFrame | None, what: str, **match: Any) -> Mapping[str, Any]:
    if frame is None:
        raise NotReproduced(f"{what} not built")
    selected = frame
    for column, value in match.items():
        selected = selected[selected[column].astype(str) == str(value)]
    if selected.empty:
        raise NotReproduced(f"no {', '.join(f'{k}={v}' for k, v in match.items())} in {what}")
    return dict(selected.iloc[0])


def _float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise NotReproduced(f"not a number: {value!r}") from error
    if math.isnan(number):
        raise NotReproduced("no value")
    return number


def _where(frame: pd.DataFrame, where: Mapping[str, Any]) -> pd.DataFrame:
    for column, value in where.items():
        frame = frame[frame[column].astype(str) == str(value)]
    return frame


def patient_statistic(patients: pd.DataFrame, spec: PatientStatistic) -> float:
    """A statistic of ``clean/patients.csv`` (:class:`~alliance.verify.mapping.PatientStatistic`); pct is of
    the rows with a value of the column."""
    rows = _where(patients, spec.where)
    if spec.stat == "n":
        return float(len(rows))
    column = str(spec.column)
    if column not in rows.columns:
        raise NotReproduced(f"no column {column} in clean/patients.csv")
    raw = rows[column]
    present = raw.notna() & raw.astype(str).str.strip().ne("")
    if spec.stat == "missing":
        return float((~present).sum())
    values = raw[present]
    if spec.stat in ("mean", "sd", "min", "max"):
        numbers = pd.to_numeric(values, errors="coerce").dropna()
        if numbers.empty:
            raise NotReproduced("no values")
        summary = {"mean": numbers.mean, "sd": lambda: numbers.std(ddof=1), "min": numbers.min, "max": numbers.max}
        return float(summary[spec.stat]())
    hit = _hits(values, spec)
    if spec.stat == "count":
        return float(hit.sum())
    if spec.stat == "pct":
        if len(values) == 0:
            raise NotReproduced("no values")
        return 100.0 * float(hit.sum()) / float(len(values))
    raise ValueError(f"unknown stat {spec.stat!r}")


def _hits(values: pd.Series, spec: PatientStatistic) -> pd.Series:
    """The values that count: ``below`` or ``at_least`` a number, or equal to ``equals`` (default 1)."""
    if spec.below is not None:
        return pd.to_numeric(values, errors="coerce") < float(spec.below)
    if spec.at_least is not None:
        return pd.to_numeric(values, errors="coerce") >= float(spec.at_least)
    equals = 1 if spec.equals is None else spec.equals
    if isinstance(equals, str):
        return values.astype(str).str.strip() == equals
    return pd.to_numeric(values, errors="coerce") == float(equals)


def _dotted(document: Any, key: str) -> Any:
    try:
        return lookup(document, key)
    except (KeyError, IndexError, TypeError) as error:
        raise NotReproduced(f"no {key}") from error


def table_cell(path: Path, row: Mapping[str, Any], column: str, part: int | None) -> float:
    """A number in a rendered table's CSV: the row whose cells equal ``row``, the ``column``; ``part`` picks
    the n-th number of a cell such as "26.0 (6.0)"; a p printed "< .001" reads as half the bound."""
    if not path.exists():
        raise NotReproduced(f"{path.name} not built")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    selected = _where(frame, row)
    if selected.empty or column not in frame.columns:
        raise NotReproduced(f"no such row/column in {path.name}")
    text = str(selected.iloc[0][column]).strip()
    bound = re.fullmatch(r"<\s*(0?\.\d+)", text)
    if bound:  # a p printed as "< .001": any value below the bound serves the significance decision
        return float(bound.group(1)) / 2
    if text.startswith("<"):
        raise NotReproduced(f"suppressed ({text})")
    numbers = re.findall(r"-?(?:\d+(?:\.\d+)?|\.\d+)", text)
    if not numbers:
        raise NotReproduced(f"no number in cell {text!r}")
    return float(numbers[part or 0])


def source_text(source: Source, outputs: Outputs) -> str:
    """The text a JSON or table source holds (a label such as "most"), for an entry of kind label."""
    if isinstance(source, JsonValue):
        path = _declared(outputs, source.file)
        if not path.exists():
            raise NotReproduced(f"{source.file} not built")
        return str(_dotted(json.loads(path.read_text(encoding="utf-8")), source.key))
    if not isinstance(source, TableCell):
        raise NotReproduced("a label is read from a JSON or table output")
    path = _declared(outputs, source.file)
    if not path.exists():
        raise NotReproduced(f"{path.name} not built")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    selected = _where(frame, source.row)
    if selected.empty or source.column not in frame.columns:
        raise NotReproduced(f"no such row/column in {path.name}")
    return str(selected.iloc[0][source.column]).strip()


def _words(text: str) -> list[str]:
    """The words and numbers of a text, in lower case: "n = 3 Both; n = 1 Group" -> [n, 3, both, n, 1, group]."""
    return re.findall(r"[^\W_]+(?:\.\d+)?", text.lower())


def _with_label(comparison: Comparison, published: str, source: Source, outputs: Outputs) -> Comparison:
    """A published label (words) beside the reproduced one: matches when they are the same words in the same
    order, whatever the case, spacing and punctuation."""
    try:
        reproduced = source_text(source, outputs)
    except NotReproduced as reason:
        return replace(comparison, published=published, verdict="not reproduced", note=str(reason))
    same = _words(reproduced) == _words(str(published))
    return replace(comparison, published=published, reproduced=reproduced, verdict="matches" if same else "differs")


def _collected(outputs: Outputs, model_id: str) -> None:
    """A model resting on an instrument the cohort did not collect has no value to compare, and says why."""
    if outputs.fits is None:
        return
    rows = outputs.fits[outputs.fits["model_id"].astype(str) == model_id]
    reason = not_collected_reason(rows.iloc[0]) if len(rows) else ""
    if reason:
        raise NotReproduced(reason)


def _model_value(source: ModelValue, outputs: Outputs) -> float:
    what = f"models/{source.table}.csv"
    if source.table == "estimates":
        row = _one(outputs.estimates, what, model_id=source.model_id, term=source.term)
    elif source.table == "fits":
        row = _one(outputs.fits, what, model_id=source.model_id)
    else:
        row = _one(outputs.variance_components, what, model_id=source.model_id, component=source.component)
    return _float(row[source.column])


def _declared(outputs: Outputs, name: str) -> Path:
    path = outputs.files.get(name)
    if path is None:
        raise UndeclaredFile(f"{name!r} is not among the files the verification rule declares")
    return path


def source_value(source: Source, outputs: Outputs) -> float:
    """The reproduced value a source of ``config/verify.yaml`` points to."""
    if isinstance(source, ModelValue):
        _collected(outputs, source.model_id)
        return _model_value(source, outputs)
    if isinstance(source, PatientStatistic):
        if outputs.patients is None:
            raise NotReproduced("clean/patients.csv not built")
        return patient_statistic(outputs.patients, source)
    if isinstance(source, JsonValue):
        path = _declared(outputs, source.file)
        if not path.exists():
            raise NotReproduced(f"{source.file} not built")
        return _float(_dotted(json.loads(path.read_text(encoding="utf-8")), source.key))
    return table_cell(_declared(outputs, source.file), source.row, source.column, source.part)


def describe_source(source: Source) -> str:
    """Where a value comes from, for the report: "models/estimates.csv: goals_growth / time / estimate"."""
    if isinstance(source, PatientStatistic):
        parts = [source.stat] + ([source.column] if source.column is not None else [])
        for key, value in (("equals", source.equals), ("below", source.below), ("at_least", source.at_least)):
            if value is not None:
                parts.append(f"{key} {value}")
        if source.where:
            parts.append("where " + ", ".join(f"{k}={v}" for k, v in source.where.items()))
        return "clean/patients.csv: " + " ".join(parts)
    if isinstance(source, ModelValue):
        keys = [source.model_id, source.term or source.component, source.column]
        return f"models/{source.table}.csv: " + " / ".join(str(k) for k in keys if k)
    if isinstance(source, JsonValue):
        return f"{source.file}: {source.key}"
    row = ", ".join(f"{k}={v}" for k, v in source.row.items())
    return f"{source.file}: [{row}] {source.column}"


# --------------------------------------------------------------------------------------------------
# Tolerances and verdicts
# --------------------------------------------------------------------------------------------------


def tolerance_of(tolerance: Tolerance, published_se: float | None) -> tuple[float, str]:
    """(absolute tolerance, its description) of an ``absolute`` or ``se`` tolerance (multiples of the
    published SE); ``relative`` is filled in by :func:`compare_number`."""
    if tolerance.absolute is not None:
        return tolerance.absolute, f"\u00b1{format(tolerance.absolute, 'g')}"
    if tolerance.se is not None and published_se is not None:
        return tolerance.se * published_se, f"\u00b1{format(tolerance.se, 'g')} SE"
    return math.nan, ""


def compare_number(
    published: float, reproduced: float, tolerance: Tolerance, published_se: float | None = None
) -> tuple[str, float, str]:
    """(verdict, difference, tolerance text) of one number."""
    decimals = decimals_of(published)
    difference = reproduced - float(published)
    if round_half_up(reproduced, decimals) == round_half_up(float(published), decimals):
        verdict = "matches"
    else:
        verdict = "differs"
    if tolerance.relative is not None:
        allowed = abs(float(published)) * tolerance.relative
        text = f"\u00b1{format(100 * tolerance.relative, 'g')} %"
        if tolerance.absolute_min is not None:
            allowed = max(allowed, tolerance.absolute_min)
            text += f" (at least \u00b1{format(tolerance.absolute_min, 'g')})"
    else:
        allowed, text = tolerance_of(tolerance, published_se)
    if verdict == "differs" and not math.isnan(allowed) and abs(difference) <= allowed + 1e-12:
        verdict = "within tolerance"
    return verdict, difference, text


def significance_verdict(expected: str, p: float) -> str:
    """Does a reproduced p agree with what the paper states?"""
    parsed = parse_expected(expected)
    if parsed is None:
        return "not stated"
    if math.isnan(p):
        return "not reproduced"
    operator, threshold = parsed
    if operator == "ns":
        return "agrees" if p >= ALPHA else "disagrees"
    if operator == ">":
        return "agrees" if p > threshold else "disagrees"
    if operator == "=":
        return "agrees" if round_half_up(p, decimals_of(threshold) or 2) == threshold else "disagrees"
    if p < threshold:
        return "agrees"
    if threshold < ALPHA and p < ALPHA:
        return "stars differ"
    return "disagrees"


# --------------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One published number (or significance statement) beside its reproduction, as the report prints it."""

    id: str
    section: str
    label: str
    published: str
    reproduced: str = ""
    difference: str = ""
    tolerance: str = ""
    verdict: str = ""  # VERDICTS, or "" for a significance-only statement
    expected_significance: str = ""
    reproduced_p: str = ""
    significance: str = "not stated"  # SIGNIFICANCE_VERDICTS
    source: str = ""
    note: str = ""


def _fmt(value: float, decimals: int) -> str:
    return format(round_half_up(value, decimals + 2), f".{decimals + 2}f") if not math.isnan(value) else ""


def _fmt_p(p: float) -> str:
    if math.isnan(p):
        return ""
    return "< .001" if p < 0.001 else format(round_half_up(p, 3), ".3f").lstrip("0")


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    if isinstance(value, PublishedNumber):
        return format(float(value), f".{value.decimals}f")
    return str(value)


def _with_number(
    comparison: Comparison, published: Any, reproduced: float, tolerance: Tolerance, published_se: float | None = None
) -> Comparison:
    """``comparison`` with a published number beside its reproduction: the difference and the verdict,
    printed at the published precision (plus two decimals)."""
    verdict, difference, text = compare_number(float(published), reproduced, tolerance, published_se)
    decimals = decimals_of(published)
    return replace(
        comparison,
        published=_text(published),
        reproduced=_fmt(reproduced, decimals),
        difference=_fmt(difference, decimals),
        tolerance=text,
        verdict=verdict,
    )


def compare_entry(
    entry: Entry, published: Published, outputs: Outputs, tolerances: Mapping[str, Tolerance]
) -> Comparison:
    """One ``entries:`` item of ``config/verify.yaml``: a number (``source``), a significance statement
    (``expected_p`` with ``p_source``), or both."""
    value = published.value(entry.published)
    if entry.part is not None:
        value = value[entry.part]
    label = entry.label or entry.published
    comparison = Comparison(entry.identifier, entry.section_name, label, "", expected_significance=entry.expected_p)
    if entry.kind == LABEL and entry.source is not None:
        return replace(_with_label(comparison, str(value), entry.source, outputs), source=describe_source(entry.source))
    notes, sources = [], []
    if entry.source:
        sources.append(describe_source(entry.source))
        try:
            reproduced = source_value(entry.source, outputs)
        except NotReproduced as reason:
            comparison = replace(comparison, published=_text(value), verdict="not reproduced")
            notes.append(str(reason))
        else:
            tolerance = tolerances.get(entry.kind, Tolerance()).updated(entry.tolerance)
            comparison = _with_number(comparison, value, reproduced, tolerance)
    if entry.expected_p and entry.p_source:
        sources.append(describe_source(entry.p_source))
        try:
            p = source_value(entry.p_source, outputs)
        except NotReproduced as reason:
            comparison = replace(comparison, significance="not reproduced")
            notes.append(str(reason))
        else:
            comparison = replace(
                comparison, reproduced_p=_fmt_p(p), significance=significance_verdict(entry.expected_p, p)
            )
        if not entry.source:
            comparison = replace(comparison, published="p " + entry.expected_p)
    return replace(comparison, source="; ".join(sources), note="; ".join(notes))


def _estimate_row(outputs: Outputs, model_id: str, term: str) -> Mapping[str, Any]:
    _collected(outputs, model_id)
    return _one(outputs.estimates, "models/estimates.csv", model_id=model_id, term=term)


def compare_model_row(
    row: ModelRow, published: Published, outputs: Outputs, tolerances: Mapping[str, Tolerance]
) -> list[Comparison]:
    """One published row of Table III or IV against one model: intercept and slope (estimate, SE and the
    significance the paper prints), explained intercept/slope variation and AIC, and for a reference model
    the significance of its intercept and slope variance."""
    printed = published.value(row.published)
    results: list[Comparison] = []
    for part, term in (("intercept", row.intercept_term), ("slope", row.slope_term)):
        if printed.get(part) is not None and term is not None:
            results += _compare_term(row, printed, part, term, outputs, tolerances)
    for key, column, kind in (
        ("explained_intercept", "explained_intercept_pct", "explained"),
        ("explained_slope", "explained_slope_pct", "explained"),
        ("aic", "aic", "aic"),
    ):
        if printed.get(key) is not None:
            entry = Entry(
                id=f"{row.published}.{key}",
                published=f"{row.published}.{key}",
                section=row.section_name,
                label=f"{row.name}: {key.replace('_', ' ')}",
                kind=kind,
                source=ModelValue("fits", row.model_id, column=column),
            )
            results.append(compare_entry(entry, published, outputs, tolerances))
    if printed.get("reference"):
        results += [_reference_variance(row, component, outputs) for component in ("intercept", "slope")]
    return results


def _expected_of(printed: Mapping[str, Any], part: str) -> str:
    """The significance the paper prints for a term: "ns", its ``<part>_p``, or (an estimate printed for a
    predictor instead of "ns") significant at .05."""
    if printed[part] == "ns":
        return "ns"
    expected = str(printed.get(f"{part}_p", ""))
    return expected or ("<.05" if printed.get("predictor") else "")


def _compare_term(
    row: ModelRow,
    printed: Mapping[str, Any],
    part: str,
    term: str,
    outputs: Outputs,
    tolerances: Mapping[str, Tolerance],
) -> list[Comparison]:
    """A model row's intercept or slope: its estimate and SE, or "ns", and the significance."""
    value, expected = printed[part], _expected_of(printed, part)
    base, label = f"{row.published}.{part}", f"{row.name}: {part}"
    source = ModelValue("estimates", row.model_id, term=term)
    statement = Comparison(base, row.section_name, label, _text(value), source=describe_source(source))
    try:
        found = _estimate_row(outputs, row.model_id, term)
        estimate, se, p = (_float(found[c]) for c in ("estimate", "std_error", "p_value"))
    except NotReproduced as reason:
        verdict = "not reproduced" if value != "ns" else ""
        return [
            replace(
                statement,
                verdict=verdict,
                expected_significance=expected,
                significance="not reproduced",
                note=str(reason),
            )
        ]
    statement = replace(
        statement,
        expected_significance=expected,
        reproduced_p=_fmt_p(p),
        significance=significance_verdict(expected, p) if expected else "not stated",
    )
    if value == "ns":
        return [replace(statement, reproduced=f"{_fmt(estimate, 2)} ({_fmt(se, 2)})")]
    published_estimate, published_se = value
    estimate_tolerance, se_tolerance = tolerances.get("estimate", Tolerance()), tolerances.get("se", Tolerance())
    se_source = ModelValue("estimates", row.model_id, column="std_error", term=term)
    se_statement = Comparison(f"{base}.se", row.section_name, f"{label} SE", "", source=describe_source(se_source))
    return [
        _with_number(
            replace(statement, id=f"{base}.estimate", label=f"{label} estimate"),
            published_estimate,
            estimate,
            estimate_tolerance,
            float(published_se),
        ),
        _with_number(se_statement, published_se, se, se_tolerance),
    ]


def _reference_variance(row: ModelRow, component: str, outputs: Outputs) -> Comparison:
    """A reference model ("Reference*"): its intercept or slope variance is significant at .05."""
    source = ModelValue("variance_components", row.model_id, column="p_value", component=component)
    try:
        p, note = source_value(source, outputs), ""
    except NotReproduced as reason:
        p, note = math.nan, str(reason)
    return Comparison(
        f"{row.published}.reference_{component}",
        row.section_name,
        f"{row.name}: {component} variance (Reference*)",
        "Reference*",
        expected_significance="<.05",
        reproduced_p=_fmt_p(p),
        significance=significance_verdict("<.05", p),
        source=describe_source(source),
        note=note,
    )


def compare_finding(finding: TextFinding, outputs: Outputs) -> list[Comparison]:
    """A text finding: each claim (model_id, term, direction, p) against the reproduced estimate."""
    return [_compare_claim(finding, index, claim, outputs) for index, claim in enumerate(finding.claims)]


def _compare_claim(finding: TextFinding, index: int, claim: Claim, outputs: Outputs) -> Comparison:
    source = ModelValue("estimates", claim.model_id, term=claim.term)
    claim_text = f"{claim.model_id} {claim.term}: {claim.direction}, p {claim.p}".strip()
    comparison = Comparison(
        f"{finding.id}[{index}]",
        "Text findings",
        finding.text,
        claim_text,
        expected_significance=claim.p,
        source=describe_source(source),
    )
    try:
        found = _estimate_row(outputs, claim.model_id, claim.term)
        estimate, p = _float(found["estimate"]), _float(found["p_value"])
    except NotReproduced as reason:
        return replace(comparison, significance="not reproduced", note=str(reason))
    significance = significance_verdict(claim.p, p) if claim.p else "not stated"
    note = ""
    if claim.direction in ("positive", "negative") and (estimate > 0) != (claim.direction == "positive"):
        significance, note = "disagrees", f"expected a {claim.direction} estimate"
    return replace(
        comparison, reproduced=_fmt(estimate, 3), reproduced_p=_fmt_p(p), significance=significance, note=note
    )


def compare_all(mapping: VerifyMapping, published: Published, outputs: Outputs) -> list[Comparison]:
    """Every comparison of the mapping, in its order: entries, model rows, findings, then what is not
    compared. The files the mapping names must be among the declared ones (:func:`check_declared`)."""
    check_declared(mapping, outputs.files)
    results = [compare_entry(entry, published, outputs, mapping.tolerances) for entry in mapping.entries]
    for row in mapping.model_rows:
        results += compare_model_row(row, published, outputs, mapping.tolerances)
    for finding in mapping.findings:
        results += compare_finding(finding, outputs)
    for item in mapping.not_compared:
        value = published.value(item.published)
        text = _text(value) if not isinstance(value, Mapping) else json.dumps(value, default=float)
        results.append(Comparison(item.published, "Not compared", item.published, text, note=item.reason))
    return results


def summarise(comparisons: Sequence[Comparison]) -> dict[str, dict[str, int]]:
    """Counts of each verdict and each significance verdict."""
    values = {v: sum(c.verdict == v for c in comparisons) for v in VERDICTS}
    significance = {v: sum(c.significance == v for c in comparisons) for v in SIGNIFICANCE_VERDICTS}
    return {"values": values, "significance": significance}


def summary_line(comparisons: Sequence[Comparison]) -> str:
    counts = summarise(comparisons)
    values = ", ".join(f"{n} {v}" for v, n in counts["values"].items())
    significance = ", ".join(f"{n} {v}" for v, n in counts["significance"].items() if v != "not stated")
    return f"Published numbers: {values}. Significance statements: {significance}."
