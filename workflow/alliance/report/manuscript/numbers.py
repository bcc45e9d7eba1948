"""The manuscript's rendering context: every number of the cohort's outputs the text may cite, sourced.

The context reads aggregates only, the declared inputs of the rule ``manuscript_text``
(:class:`ManuscriptInputs`): ``models/*.csv``, ``missing_data/summary.json``, the tables and the
descriptives of :mod:`alliance.report.manuscript.descriptives`; patient-level files never reach it.
Each number is a :class:`~alliance.report.manuscript.provenance.Num` naming its file and key; a number
that does not exist by design (a model that could not be fitted, an instrument the cohort did not collect,
a share of no one) carries the words that stand in for it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from alliance import layout
from alliance.report.comparison import comparison_context
from alliance.report.disclosure import UNDEFINED, is_small
from alliance.report.formatting import to_float, truthy
from alliance.report.intervals import ReportedIntervals, read_intervals
from alliance.report.manuscript.filters import sourced, unavailable
from alliance.report.manuscript.provenance import NOT_DEFINED, Num, csv_key, read_text_csv, source_label
from alliance.stats.catalogue import CLINICAL_OUTCOMES, Catalogue, ModelSpec, holds, variant_model_id

# Figures as the manuscript links them (relative to results/<cohort>/manuscript/).
FIGURES = {figure: f"../figures/{figure}.png" for figure in layout.FIGURES}
EFFECT_COLUMNS = ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high")
FIT_NUMBERS = ("n_patients", "n_obs", "loglik", "aic", "bic", "explained_intercept_pct", "explained_slope_pct")
VARIANCE_COLUMNS = ("estimate", "std_error", "statistic", "p_value")
LRT_COLUMNS = ("n_patients", "chi2", "df", "p_value")
SUBSCALE_NAMES = {"goals": "Goals", "bonds": "Bonds", "tasks": "Tasks", "gaf": "GAF", "wsas": "WSAS", "bsi": "BSI"}
OUTCOME_CHANGE = "table_outcome_change_full.csv"
# How provenance names the model outputs when no declared file is given (as the workflow declares them).
MODEL_SOURCES = {name: f"models/{name}.csv" for name in layout.MODEL_OUTPUTS}


@dataclass(frozen=True)
class ManuscriptInputs:
    """The declared inputs of the manuscript's text (rule ``manuscript_text``)."""

    fits: Path
    estimates: Path
    variance_components: Path
    likelihood_ratio_tests: Path
    summary: Path  # missing_data/summary.json
    descriptives: Path  # manuscript/descriptives.json
    tables: Mapping[str, Path]  # the tables' files by file name: table_1.md, table_outcome_change_full.csv, ...
    catalogue: Path  # the model catalogue, the source of alpha
    intervals: Path | None = None  # bootstrap/intervals.csv
    comparison: Mapping[str, Path] | None = None  # ../comparison/*.csv by file name, with two or more cohorts

    @classmethod
    def declared(
        cls,
        models: Iterable[str | Path],
        tables: Iterable[str | Path],
        summary: str | Path,
        descriptives: str | Path,
        catalogue: str | Path,
        intervals: str | Path | None = None,
        comparison: Iterable[str | Path] = (),
    ) -> ManuscriptInputs:
        """From the rule's inputs: the model outputs and the tables (lists of files), and the rest."""
        by_name = layout.by_name(models)
        fits, estimates, variance, lrt = (
            layout.declared(by_name, f"{name}.csv")
            for name in ("fits", "estimates", "variance_components", "likelihood_ratio_tests")
        )
        return cls(
            fits,
            estimates,
            variance,
            lrt,
            Path(summary),
            Path(descriptives),
            layout.by_name(tables),
            Path(catalogue),
            Path(intervals) if intervals is not None else None,
            layout.by_name(comparison) or None,
        )

    @property
    def model_sources(self) -> dict[str, str]:
        files = (self.fits, self.estimates, self.variance_components, self.likelihood_ratio_tests)
        return {Path(path).stem: source_label(path) for path in files}


def _row_nums(row: Mapping[str, Any], file: str, selectors: Mapping[str, str], columns: Iterable[str]) -> dict:
    return {c: Num(to_float(row.get(c)), file, csv_key(selectors, c)) for c in columns}


# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------


def _role(term: str, spec: ModelSpec) -> str:
    if term == "Intercept":
        return "intercept"
    if term == "time":
        return "slope"
    # Only the predictor's terms have a role; controls (version indicators, the centred number of
    # assessments) are not findings of the model.
    predictor = spec.predictor_term
    if predictor is None:
        return ""
    if term == predictor:
        return "pred"
    return "pred_slope" if term == f"time:{predictor}" else ""


def _fit_record(fit: Mapping[str, Any], spec: ModelSpec, file: str) -> dict[str, Any]:
    status = str(fit.get("status", "")).strip()
    return {
        "id": spec.id,
        "outcome": spec.outcome,
        "name": SUBSCALE_NAMES.get(spec.outcome, spec.outcome),
        "label": spec.label or "",
        "converged": truthy(fit.get("converged")),
        "status": status,
        "collected": status != "not collected",
        **_row_nums(fit, file, {"model_id": spec.id}, FIT_NUMBERS),
    }


def _effects(estimates: pd.DataFrame, spec: ModelSpec, file: str) -> dict[str, Any]:
    """The model's effects by role (``intercept``, ``slope``, ``pred``, ``pred_slope``)."""
    effects: dict[str, Any] = {}
    for _, row in estimates[estimates["model_id"].eq(spec.id)].iterrows():
        term = str(row["term"])
        role = _role(term, spec)
        if role:
            effects[role] = {"term": term, **_row_nums(row, file, {"model_id": spec.id, "term": term}, EFFECT_COLUMNS)}
    return effects


def _variances(variance: pd.DataFrame, model_id: str, file: str) -> dict[str, Any]:
    components = variance[variance["model_id"].eq(model_id)]
    return {
        str(row["component"]): _row_nums(
            row, file, {"model_id": model_id, "component": str(row["component"])}, VARIANCE_COLUMNS
        )
        for _, row in components.iterrows()
    }


def _lrt(lrt: pd.DataFrame, model_id: str, file: str) -> dict[str, Any]:
    """The model's likelihood-ratio test, or {} when it has none."""
    tests = lrt[lrt["model_id"].eq(model_id)]
    if not len(tests):
        return {}
    row = tests.iloc[0]
    selectors = {"model_id": model_id, "versus_model_id": str(row["versus_model_id"])}
    return {"lrt": {"versus": str(row["versus_model_id"]), **_row_nums(row, file, selectors, LRT_COLUMNS)}}


def model_records(
    fits: pd.DataFrame,
    estimates: pd.DataFrame,
    variance: pd.DataFrame,
    lrt: pd.DataFrame,
    catalogue: Catalogue,
    sources: Mapping[str, str] = MODEL_SOURCES,
) -> dict[str, dict[str, Any]]:
    """One record per fitted catalogue model: fit statistics, its effects by role (``intercept``, ``slope``,
    ``pred``, ``pred_slope``), variance components and likelihood-ratio test. ``sources``: how provenance
    names each model output (``fits``, ``estimates``, ``variance_components``, ``likelihood_ratio_tests``)."""
    specs = {spec.id: spec for spec in catalogue.models}
    records: dict[str, dict[str, Any]] = {}
    for _, fit in fits.iterrows():
        spec = specs.get(str(fit["model_id"]))
        if spec is None:
            continue
        record = _fit_record(fit, spec, sources["fits"])
        record.update(_effects(estimates, spec, sources["estimates"]))
        record["variance"] = _variances(variance, spec.id, sources["variance_components"])
        record.update(_lrt(lrt, spec.id, sources["likelihood_ratio_tests"]))
        records[spec.id] = _with_reasons(record, spec, sources)
    return records


ROLE_NAMES = ("intercept", "slope", "pred", "pred_slope")


def _expected_roles(spec: ModelSpec) -> tuple[str, ...]:
    if spec.kind != "growth":
        return ("intercept",)
    return ROLE_NAMES if spec.predictor is not None else ("intercept", "slope")


def _said(nums: Mapping[str, Any], why: str) -> dict[str, Any]:
    """The numbers, each missing one with ``why`` in its place."""
    return {k: replace(v, reason=why) if isinstance(v, Num) and v.missing else v for k, v in nums.items()}


def _absent(file: str, selectors: Mapping[str, str], columns: Iterable[str], why: str) -> dict[str, Num]:
    return {c: Num(math.nan, file, csv_key(selectors, c), reason=why) for c in columns}


def _with_reasons(record: dict[str, Any], spec: ModelSpec, sources: Mapping[str, str]) -> dict[str, Any]:
    """Every number a model's record can have, present: a model without a fit (it failed, or rests on an
    instrument the cohort did not collect) has its effects, variances and test as words; an explained
    variance against a reference without that variance is "not defined"."""
    reason = {"not collected": "not collected", "failed": "not estimable"}.get(record["status"], "")
    selectors = {"model_id": spec.id}
    if reason:
        record.update(_said({k: record[k] for k in FIT_NUMBERS}, reason))
    else:
        record.update(_said({k: record[k] for k in ("explained_intercept_pct", "explained_slope_pct")}, NOT_DEFINED))
    why = reason or "not estimable"
    # A fitted model's NaN (a Satterthwaite df or p the fit could not compute; its warnings name them).
    for role in ROLE_NAMES:
        if role in record:
            record[role] = _said(record[role], why)
    record["variance"] = {name: _said(nums, why) for name, nums in record["variance"].items()}
    for role in _expected_roles(spec):
        if role not in record:
            record[role] = {
                "term": "",
                **_absent(sources["estimates"], {**selectors, "role": role}, EFFECT_COLUMNS, why),
            }
    for component in ("intercept", "covariance", "slope", "residual"):
        if component not in record["variance"] and (component in ("intercept", "residual") or spec.kind == "growth"):
            key = {**selectors, "component": component}
            record["variance"][component] = _absent(sources["variance_components"], key, VARIANCE_COLUMNS, why)
    if "lrt" not in record and (spec.reference or (spec.kind == "growth" and not spec.predictor and not spec.controls)):
        absent = _absent(sources["likelihood_ratio_tests"], selectors, LRT_COLUMNS, why)
        record["lrt"] = {"versus": spec.reference or "", **absent}
    return record


def add_explained_intervals(records: Mapping[str, dict[str, Any]], intervals: ReportedIntervals, level: Num) -> None:
    """Each predictor model's bootstrap intervals of its explained intercept and slope variance
    (``explained_ci``), sourced to bootstrap/intervals.csv; an interval no resample could give is
    "not estimable"."""
    for model_id, record in records.items():
        found = {}
        for which in ("intercept", "slope"):
            interval = intervals.get(model_id, f"explained_{which}_pct")
            if interval is None:
                continue
            selectors = {"model_id": model_id, "quantity": interval.quantity, "method": interval.method}
            bounds = {
                name: Num(value, intervals.file, csv_key(selectors, name))
                for name, value in (("ci_low", interval.low), ("ci_high", interval.high))
            }
            found[which] = {**_said(bounds, "not estimable"), "level": level, "method": interval.method}
        record["explained_ci"] = found


def bootstrap_record(intervals: ReportedIntervals, level: Num) -> dict[str, Any]:
    """How the intervals were made, for the methods text."""
    first = next(iter(intervals.by_quantity.values()), None)
    selectors = {"model_id": first.model_id, "quantity": first.quantity, "method": first.method} if first else {}
    return {
        "replicates": Num(float(intervals.replicates), intervals.file, csv_key(selectors, "replicates")),
        "level": level,
        "method": intervals.method,
        "falls_back": intervals.falls_back,
    }


def across_cohorts(files: Mapping[str, Path] | None, catalogue: Catalogue) -> dict[str, Any] | None:
    """The main findings across the configured cohorts (results/comparison/, docs/comparison.md) by finding id:
    ``name`` (the finding as the text names it), ``meta`` (the random-effects meta-analysis), ``pooled`` (the
    pooled model) and ``cohorts``; None with one cohort."""
    if not files:
        return None
    found = comparison_context(
        *(layout.declared(files, f"{name}.csv") for name in ("meta_analysis", "pooled_models", "estimates"))
    )
    names = {finding.id: finding.text or finding.label for finding in catalogue.robustness.findings}
    return {finding: {"name": names.get(finding, finding), **record} for finding, record in found.items()}


def collected_outcomes(fits: pd.DataFrame) -> dict[str, bool]:
    """Per clinical outcome, whether the cohort collected it: not when its models were "not collected"
    (an optional instrument absent from the exports); templates leave such an outcome out."""
    collected = {name: True for name in SUBSCALE_NAMES}
    for _, fit in fits.iterrows():
        if str(fit.get("status", "")).strip() == "not collected" and str(fit["outcome"]) in collected:
            collected[str(fit["outcome"])] = False
    return collected


def robustness_records(records: Mapping[str, Mapping[str, Any]], catalogue: Catalogue) -> list[dict[str, Any]]:
    """Per robustness variant (but the uncontrolled one): each main finding's effect re-estimated under it,
    and whether it holds (p < alpha in its stated direction). Findings the variant does not apply to,
    or whose model has no fit, are left out."""
    out = []
    for variant in catalogue.robustness.variants:
        if variant.is_baseline:
            continue
        findings = []
        for finding in catalogue.robustness.findings:
            model_id = variant_model_id(catalogue, finding.model, variant.id)
            effect = records.get(model_id or "", {}).get("pred_slope" if finding.effect == "slope" else "pred")
            if effect is None or unavailable(effect) == "not collected":
                continue
            estimate, p_value = sourced(effect["estimate"]).value, sourced(effect["p_value"]).value
            held = holds(finding, estimate, p_value, catalogue.settings.alpha)
            findings.append({"id": finding.id, "name": finding.text, "effect": effect, "holds": held})
        if findings:  # a variant resting on an instrument the cohort did not collect is left out
            out.append({"id": variant.id, "label": variant.label, "findings": findings})
    return out


# --------------------------------------------------------------------------------------------------
# Missing data, descriptives and tables
# --------------------------------------------------------------------------------------------------


def json_nums(value: Any, file: str, path: str = "") -> Any:
    """A JSON value with every number (not bool) as a :class:`Num` keyed by its dotted path."""
    if isinstance(value, Mapping):
        return _mapping_nums(value, file, path)
    if isinstance(value, list):
        return [json_nums(v, file, f"{path}.{i}") for i, v in enumerate(value)]
    if isinstance(value, (bool, str)):
        return value
    if value is None or isinstance(value, (int, float)):
        return Num(to_float(value), file, path)
    return value


def _mapping_nums(value: Mapping[str, Any], file: str, path: str) -> dict[str, Any]:
    record = {str(k): json_nums(v, file, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    withheld = value.get("suppressed")
    if isinstance(withheld, int) and withheld > 0:  # values withheld for disclosure (cohort_descriptives)
        for k, v in record.items():
            if isinstance(v, Num) and v.missing:
                record[k] = Num(v.value, v.file, v.key, suppressed=withheld)
    undefined = value.get("undefined")
    if isinstance(undefined, str) and undefined:  # values that do not exist (a statistic of no one)
        for k, v in record.items():
            if isinstance(v, Num) and v.missing:
                record[k] = replace(v, reason=undefined)
    return record


def disclose_groups(groups: Mapping[str, Any], min_cell: int) -> dict[str, Any]:
    """Missing-data group statistics with the small ones withheld: a count ``<x>_n`` of 1 .. min_cell - 1
    patients and its ``<x>_pct``, and every statistic of a small group. summary.json already writes
    the counts it withholds as null; with min_cell > 0 a null is such a withheld value."""
    out: dict[str, Any] = {}
    for name, group in groups.items():
        record = dict(group)
        size = record.get("n_patients")
        small_group = isinstance(size, Num) and is_small(size.value, min_cell)
        for key, value in group.items():
            if not isinstance(value, Num):
                continue
            stem = key.removesuffix("_pct").removesuffix("_n")
            count = group.get(f"{stem}_n")
            small = isinstance(count, Num) and is_small(count.value, min_cell)
            withheld_upstream = min_cell > 0 and value.missing
            if small_group or withheld_upstream or (small and key in (f"{stem}_n", f"{stem}_pct")):
                record[key] = Num(math.nan, value.file, value.key, suppressed=min_cell)
        out[name] = record
    return out


def _cell_num(text: str, file: str, selectors: Mapping[str, str], column: str) -> Num:
    """A formatted table cell as a number; "< 5" is a suppressed one."""
    text = str(text).strip()
    key = csv_key(selectors, column)
    small = re.fullmatch(r"<\s*(\d+)", text)
    if small:
        return Num(math.nan, file, key, suppressed=int(small.group(1)))
    if text == UNDEFINED:
        return Num(math.nan, file, key, reason=NOT_DEFINED)
    return Num(to_float(text.rstrip("%")), file, key)


OUTCOME_CHANGE_COLUMNS = {
    "admission_mean": "Admission mean",
    "admission_sd": "Admission SD",
    "discharge_mean": "Discharge mean",
    "discharge_sd": "Discharge SD",
    "n_both": "n both",
    "n_discharge": "n discharge",
    "below_cutoff_pct": "Below cut-off %",
    "also_good_gaf_pct": "Of these, good GAF outcome %",
}


def outcome_change_records(frame: pd.DataFrame, file: str) -> dict[str, dict[str, Num]]:
    """The full outcome-change table by measure (gaf, wsas, bsi), each cell a :class:`Num` of ``file``."""
    records: dict[str, dict[str, Num]] = {}
    for _, row in frame.iterrows():
        measure = str(row["Measure"])
        selectors = {"Measure": measure}
        records[measure.lower()] = {
            key: _cell_num(row[column], file, selectors, column) for key, column in OUTCOME_CHANGE_COLUMNS.items()
        }
    return records


def table_blocks(tables: Mapping[str, Path], table_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Markdown of the cohort's tables (declared files by name), for inclusion: {table_id: (file, text)}."""
    blocks = {}
    for table_id in table_ids:
        path = layout.declared(tables, f"{table_id}.md")
        blocks[table_id] = (source_label(path), Path(path).read_text(encoding="utf-8").strip())
    return blocks


# --------------------------------------------------------------------------------------------------
# The context
# --------------------------------------------------------------------------------------------------


def build_context(
    inputs: ManuscriptInputs,
    catalogue: Catalogue,
    config_values: Mapping[str, Any],
    min_cell: int = 0,
    table_ids: Sequence[str] = layout.MANUSCRIPT_TABLES,
    figures: Mapping[str, str] | None = None,
    reported: tuple[str, float] = ("bca", 0.95),
) -> dict[str, Any]:
    # reported: (method, confidence); the confidence as a sourced number comes from config_values.
    """The rendering context of a cohort's manuscript, from its declared aggregate outputs only.

    ``config_values``: the configuration numbers the text names
    (:func:`alliance.report.manuscript.provenance.config_values`); ``reported``: the bootstrap interval shown
    beside the explained variance (method, confidence; config ``bootstrap``).
    """
    fits, estimates, variance, lrt = (
        read_text_csv(path)
        for path in (inputs.fits, inputs.estimates, inputs.variance_components, inputs.likelihood_ratio_tests)
    )
    records = model_records(fits, estimates, variance, lrt, catalogue, sources=inputs.model_sources)
    change_file = layout.declared(inputs.tables, OUTCOME_CHANGE)
    change = outcome_change_records(read_text_csv(change_file), source_label(change_file))
    missing = json_nums(json.loads(Path(inputs.summary).read_text(encoding="utf-8")), source_label(inputs.summary))
    missing["summary"]["groups"] = disclose_groups(missing["summary"]["groups"], min_cell)
    described = json.loads(Path(inputs.descriptives).read_text(encoding="utf-8"))
    collected = collected_outcomes(fits)
    bootstrap = None
    if inputs.intervals is not None:
        level = config_values.get("bootstrap_confidence", Num(reported[1], "--config", "bootstrap.confidence"))
        intervals = read_intervals(inputs.intervals, reported[0], level.value, source_label(inputs.intervals))
        add_explained_intervals(records, intervals, level)
        bootstrap = bootstrap_record(intervals, level)
    return {
        "bootstrap": bootstrap,
        "comparison": across_cohorts(inputs.comparison, catalogue),
        "collected": {k: v and (k not in CLINICAL_OUTCOMES or k in change) for k, v in collected.items()},
        "alpha": Num(catalogue.settings.alpha, str(inputs.catalogue), "settings.alpha"),
        "method": catalogue.settings.method,
        "m": records,
        "robustness": robustness_records(records, catalogue),
        "missing": missing,
        "change": change,
        "cohort": json_nums(described, source_label(inputs.descriptives)),
        "config": dict(config_values),
        "tables": table_blocks(inputs.tables, table_ids),
        "figures": dict(figures or FIGURES),
    }
