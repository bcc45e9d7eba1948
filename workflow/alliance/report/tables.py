"""Tables III and IV of the paper (and any new model table) from the model step's CSV outputs.

``model_table`` turns ``models/fits.csv``, ``models/estimates.csv`` and ``models/variance_components.csv``
into a :class:`~alliance.report.formatting.TableFrame` holding two layouts of the same models:

* **paper**: the table as printed in Folmo et al. (2020), one row per catalogue model: the estimate (SE)
  of the intercept and slope (the reference model's own, or the predictor's deviation with stars, or
  "ns"), explained intercept/slope variation in % and the AIC;
* **full**: one row per model and term, every fixed effect with SE, df, t, exact p and 95 % CI, then the
  variance components with SE, Wald Z and p, explained %, log-likelihood, AIC, BIC and case counts.

Every cell is a formatted string (:mod:`alliance.report.formatting`), so the same inputs always give the
same bytes. The inputs are aggregates; no patient-level value can reach a table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from alliance import layout as file_layout
from alliance.report.disclosure import count_cell
from alliance.report.formatting import (
    DAGGER,
    DOUBLE_DAGGER,
    GEQ,
    TableFrame,
    TableLayout,
    first_by_model,
    format_df,
    format_estimate,
    format_fixed,
    format_integer,
    format_number,
    format_p,
    join_names,
    records_by_model,
    table_number,
    text,
    to_float,
    truthy,
    write_tables,
)
from alliance.report.intervals import FALLBACK_MARK, Interval, ReportedIntervals, describe
from alliance.stats import catalogue
from alliance.stats.model_runs import not_collected_reason

OUTCOME_LABELS = {"goals": "GOALS", "bonds": "BONDS", "tasks": "TASKS", "gaf": "GAF", "wsas": "WSAS", "bsi": "BSI"}
# Labels of variables that can appear as a moderator or subset condition (the catalogue's labels of
# predictor models are used first; these cover variables that are never a predictor of a table row).
VARIABLE_LABELS = {
    "paranoid_pd": "Paranoid PD",
    "mood_disorder": "Mood disorder",
    "poor_outcome": "Poor outcome",
    "good_outcome": "High outcome",
    "outcome_group": "Outcome group",
    "age": "Age",
    "completed_as_planned": "Completed as planned",
    "work_study_months": "Work/study mnths last yr",
}
TITLES = {
    "table_3": "Linear mixed model estimations: Clinical outcomes and variation for patients in MBT.",
    "table_4": "Working alliance in subgroups with high or poor end GAF in MBT individual therapy.",
}
PAPER_NOTES = {
    "table_3": (
        "Linear mixed model estimations with {outcomes} as dependent variables. Intercept and slope "
        "estimates are given for each model. The variance estimates in each model are the reference values for "
        "calculating explained variance for each investigated predictor. Indicator of model fit is Akaike's "
        "Information Criterion (AIC). The table presents estimated deviance of intercept and slope and explained "
        "variance associated with patient and treatment factors in each model."
    ),
    "table_4": (
        "Linear mixed model estimations with WAI-S/SR subscales as dependent variables. Intercept and slope "
        "estimates are given for each model. The variance estimates in each model are the reference values for "
        "calculating explained variance for each investigated predictor. Indicator of model fit is Akaike's "
        "Information Criterion (AIC). The table presents estimated deviance of intercept and slope and explained "
        "variance associated with outcome subgroups in each model, and estimated deviance of intercept and slope "
        "and explained variance associated with patient factors for the model with the subscale TASKS as "
        "dependent variable."
    ),
}
GENERIC_NOTE = (
    "Linear mixed model estimations. Intercept and slope estimates are given for each model; predictor rows give "
    "the predictor's deviation of intercept and slope. Indicator of model fit is Akaike's Information Criterion (AIC)."
)
COMPONENT_TERMS = {
    "intercept": "Var(intercept)",
    "slope": "Var(slope)",
    "covariance": "Cov(intercept, slope)",
    "residual": "Var(residual)",
}
PAPER_COLUMNS = (
    "Model",
    "Predictor",
    "Moderator",
    "Intercept Mean (SE)",
    "Linear slope Mean (SE)",
    "Explained intercept variation %",
    "Explained slope variation %",
    "AIC",
)
FULL_COLUMNS = (
    "Model ID",
    "Outcome",
    "Model",
    "Moderator",
    "Effect",
    "Term",
    "Estimate",
    "SE",
    "df",
    "t / Z",
    "p",
    "95% CI",
    "Explained %",
    "Explained % CI",
    "Log-likelihood",
    "AIC",
    "BIC",
    "Patients",
    "Observations",
    "Converged",
)
FULL_TEXT_COLUMNS = frozenset({"Model ID", "Outcome", "Model", "Moderator", "Effect", "Term", "Converged"})
NOT_ESTIMABLE = "\u2013"
NOT_ESTIMABLE_NOTE = f"{NOT_ESTIMABLE}: not estimable (the model could not be fitted; {DAGGER} gives the reason)."
NUMERIC_PAPER_COLUMNS = (
    "Intercept Mean (SE)",
    "Linear slope Mean (SE)",
    "Explained intercept variation %",
    "Explained slope variation %",
    "AIC",
)


# --------------------------------------------------------------------------------------------------
# Catalogue and model outputs
# --------------------------------------------------------------------------------------------------


def _field(model: Any, key: str) -> Any:
    """A key of a catalogue entry: a mapping from models.yaml or an object with attributes (ModelSpec)."""
    if isinstance(model, Mapping):
        return model.get(key)
    return getattr(model, key, None)


def describe_condition(condition: Any) -> str:
    """``{paranoid_pd: 1}`` -> "paranoid_pd=1" (strings are kept)."""
    if not condition:
        return ""
    if isinstance(condition, Mapping):
        return catalogue.describe_condition(condition)
    return text(condition)


def _variable_labels(catalogue_models: Sequence[Any]) -> dict[str, str]:
    labels = dict(VARIABLE_LABELS)
    for model in catalogue_models:
        predictor, label = _field(model, "predictor"), _field(model, "label")
        if predictor and label and not _field(model, "moderator") and not _field(model, "subset"):
            labels[str(predictor)] = str(label)
    return labels


def condition_label(condition: Any, labels: Mapping[str, str]) -> str:
    """ "paranoid_pd=1" -> "Paranoid PD=1"."""
    parts = []
    for part in describe_condition(condition).split(","):
        if not part:
            continue
        column, _, value = part.partition("=")
        parts.append(f"{labels.get(column.strip(), column.strip().replace('_', ' '))}={value.strip()}")
    return ", ".join(parts)


def _expected_predictor_term(model: Any, fit: Mapping[str, Any] | None) -> str:
    from_fit = text(fit.get("predictor")) if fit is not None else ""
    if from_fit:
        return from_fit
    predictor = text(_field(model, "predictor"))
    moderator = describe_condition(_field(model, "moderator"))
    return f"{predictor}[{moderator}]" if predictor and moderator else predictor


def predictor_terms(terms: Sequence[str], predictor: str) -> tuple[str | None, str | None]:
    """The predictor's main-effect and time-interaction terms among ``terms`` (as written by the model step)."""
    base = predictor.split("[", 1)[0]
    candidates = [predictor] + [t for t in terms if t.startswith(f"{base}[")] + [base]
    main = next((t for t in candidates if t in terms), None)
    if main is None:
        return None, None
    interaction = next((t for t in (f"time:{main}", f"{main}:time") if t in terms), None)
    return main, interaction


@dataclass(frozen=True)
class ModelOutputs:
    """The model step's outputs by model id: the fit, the fixed effects, the variance components."""

    fits: Mapping[str, Mapping[str, Any]]
    estimates: Mapping[str, list[dict[str, Any]]]
    components: Mapping[str, list[dict[str, Any]]]
    intervals: ReportedIntervals | None = None  # the bootstrap's, beside the explained variance

    @classmethod
    def of(
        cls,
        fits: pd.DataFrame,
        estimates: pd.DataFrame,
        variance_components: pd.DataFrame,
        intervals: ReportedIntervals | None = None,
    ) -> ModelOutputs:
        return cls(first_by_model(fits), records_by_model(estimates), records_by_model(variance_components), intervals)


@dataclass(frozen=True)
class TableModel:
    """One catalogue model of a table with its outputs, labelled as the table prints it."""

    spec: Any  # the catalogue entry (a mapping from models.yaml or a ModelSpec)
    id: str
    outcome: str
    outcome_label: str  # "GOALS"
    predictor: str
    label: str  # the row label, with the subset; without the convergence mark
    moderator: str  # "Paranoid PD=1"
    fit: Mapping[str, Any] | None  # None: not in the model outputs
    terms: Mapping[str, Mapping[str, Any]]
    components: Sequence[Mapping[str, Any]]
    explained_intervals: Mapping[str, Interval] = field(default_factory=dict)  # by component: intercept, slope

    @property
    def statistics(self) -> Mapping[str, Any]:
        return self.fit or {}

    @property
    def converged(self) -> bool:
        return self.fit is not None and truthy(self.fit.get("converged"))

    @property
    def failed(self) -> bool:
        """No fit (a group without patients, a predictor with one level): its numbers are not estimable."""
        return text(self.statistics.get("status")) == "failed"

    @property
    def marked(self) -> str:
        """The label, with a dagger when the fit did not converge and a double dagger when there is none."""
        if self.converged:
            return self.label
        return self.label + (DAGGER if self.fit is not None else DOUBLE_DAGGER)


def table_model(spec: Any, outputs: ModelOutputs, labels: Mapping[str, str]) -> TableModel:
    model_id = text(_field(spec, "id"))
    fit = outputs.fits.get(model_id)
    outcome = text(_field(spec, "outcome"))
    predictor = text(_field(spec, "predictor"))
    outcome_label = OUTCOME_LABELS.get(outcome, outcome.upper())
    label = text(_field(spec, "label")) or (
        outcome_label if not predictor else labels.get(predictor, predictor.replace("_", " "))
    )
    if _field(spec, "subset"):
        label += f" ({condition_label(_field(spec, 'subset'), labels)})"
    return TableModel(
        spec=spec,
        id=model_id,
        outcome=outcome,
        outcome_label=outcome_label,
        predictor=predictor,
        label=label,
        moderator=condition_label(_field(spec, "moderator") or (fit or {}).get("moderator"), labels),
        fit=fit,
        terms={text(row.get("term")): row for row in outputs.estimates.get(model_id, [])},
        components=outputs.components.get(model_id, []),
        explained_intervals=_explained_intervals(outputs.intervals, model_id),
    )


def _explained_intervals(intervals: ReportedIntervals | None, model_id: str) -> dict[str, Interval]:
    found = {}
    for name in ("intercept", "slope"):
        interval = intervals.get(model_id, f"explained_{name}_pct") if intervals is not None else None
        if interval is not None:
            found[name] = interval
    return found


# --------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------


def _component_p(components: Sequence[Mapping[str, Any]], name: str) -> float:
    for row in components:
        if text(row.get("component")) == name:
            return to_float(row.get("p_value"))
    return math.nan


def _estimate_cell(terms: Mapping[str, Mapping[str, Any]], term: str | None, alpha: float, ns: bool, mark: bool) -> str:
    row = terms.get(term) if term else None
    if row is None:
        return ""
    return format_estimate(row.get("estimate"), row.get("std_error"), row.get("p_value"), alpha=alpha, ns=ns, mark=mark)


def _explained(model: TableModel, referenced: bool, alpha: float) -> tuple[str, str]:
    """A predictor's explained variation in %; "Reference" (with * where its variance is significant) on the
    reference model of other rows."""
    if model.predictor:
        return (
            format_integer(model.statistics.get("explained_intercept_pct")),
            format_integer(model.statistics.get("explained_slope_pct")),
        )
    if not referenced:
        return ("", "")
    intercept, slope = (
        "Reference" + ("*" if _component_p(model.components, name) < alpha else "") for name in ("intercept", "slope")
    )
    return intercept, slope


def paper_row(
    model: TableModel, referenced: bool, new_outcome: bool, alpha: float, mark_reference: bool
) -> dict[str, str]:
    """The model's row of the paper's layout: a reference model's own intercept and slope, or a predictor's
    deviations ("ns" when not significant); ``new_outcome``: the first predictor row of its outcome."""
    if model.predictor:
        main, interaction = predictor_terms(list(model.terms), _expected_predictor_term(model.spec, model.fit))
        ns, mark = True, True
    else:
        main, interaction = "Intercept", "time"
        ns, mark = False, mark_reference
    explained = _explained(model, referenced, alpha)
    row = {
        "Model": model.marked if not model.predictor else (model.outcome_label if new_outcome else ""),
        "Predictor": model.marked if model.predictor else "",
        "Moderator": model.moderator,
        "Intercept Mean (SE)": _estimate_cell(model.terms, main, alpha, ns, mark),
        "Linear slope Mean (SE)": _estimate_cell(model.terms, interaction, alpha, ns, mark),
        "Explained intercept variation %": explained[0],
        "Explained slope variation %": explained[1],
        "AIC": format_integer(model.statistics.get("aic")),
    }
    if model.failed:
        row.update({k: NOT_ESTIMABLE for k in row if k in NUMERIC_PAPER_COLUMNS and not row[k]})
    return row


def _fixed_lines(terms: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    lines = []
    for term, est in terms.items():
        low, high = format_number(est.get("ci_low")), format_number(est.get("ci_high"))
        lines.append(
            {
                "Effect": "Fixed",
                "Term": term,
                "Estimate": format_number(est.get("estimate")),
                "SE": format_number(est.get("std_error")),
                "df": format_df(est.get("df")),
                "t / Z": format_fixed(est.get("statistic"), 2),
                "p": format_p(est.get("p_value")),
                "95% CI": f"[{low}, {high}]" if low and high else "",
            }
        )
    return lines


def _random_lines(model: TableModel) -> list[dict[str, str]]:
    lines = []
    for component in model.components:
        name = text(component.get("component"))
        explained = ""
        interval = ""
        if model.predictor and name in ("intercept", "slope"):
            explained = format_integer(model.statistics.get(f"explained_{name}_pct"))
            interval = _interval_cell(model.explained_intervals.get(name))
        lines.append(
            {
                "Effect": "Random",
                "Term": COMPONENT_TERMS.get(name, name),
                "Estimate": format_number(component.get("estimate")),
                "SE": format_number(component.get("std_error")),
                "t / Z": format_fixed(component.get("statistic"), 2),
                "p": format_p(component.get("p_value")),
                "Explained %": explained,
                "Explained % CI": interval,
            }
        )
    return lines


def _interval_cell(interval: Interval | None) -> str:
    """[low, high] of a bootstrap interval, marked where it is the percentile one standing in for BCa."""
    if interval is None or not interval.defined:
        return ""
    return f"[{format_integer(interval.low)}, {format_integer(interval.high)}]" + (
        FALLBACK_MARK if interval.fallback else ""
    )


def full_rows(model: TableModel, min_cell: int) -> list[dict[str, str]]:
    """The model's rows of the full layout: one per fixed effect and variance component, the model's
    statistics on the first. A model fitted on fewer than ``min_cell`` patients prints "< N" patients."""
    base = {"Model ID": model.id, "Outcome": model.outcome_label, "Model": model.marked, "Moderator": model.moderator}
    fit = model.statistics
    statistics = {
        "Log-likelihood": format_fixed(fit.get("loglik"), 2),
        "AIC": format_fixed(fit.get("aic"), 2),
        "BIC": format_fixed(fit.get("bic"), 2),
        "Patients": count_cell(to_float(fit.get("n_patients")), min_cell),
        "Observations": format_integer(fit.get("n_obs")),
        "Converged": "yes" if model.converged else ("" if model.fit is None else f"no{DAGGER}"),
    }
    lines = _fixed_lines(model.terms) + _random_lines(model) or [{"Effect": "", "Term": ""}]
    empty = {column: "" for column in FULL_COLUMNS}
    return [empty | base | line | (statistics if index == 0 else {}) for index, line in enumerate(lines)]


# --------------------------------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------------------------------


@dataclass
class Remarks:
    """What the notes under a table say about its models, collected row by row."""

    methods: set[str] = field(default_factory=set)
    daggers: list[str] = field(default_factory=list)  # did not converge
    failures: list[str] = field(default_factory=list)  # ... and why
    missing: list[str] = field(default_factory=list)  # not in the model outputs
    not_collected: list[str] = field(default_factory=list)  # rows left out: an instrument not collected
    not_estimable: bool = False

    def add(self, model: TableModel) -> None:
        if model.fit is not None and text(model.fit.get("method")):
            self.methods.add(text(model.fit.get("method")))
        name = f"{model.label} ({model.id})"
        if model.fit is None:
            self.missing.append(name)
        elif not model.converged:
            self.daggers.append(name)
            reason = text(model.fit.get("warnings"))
            self.failures.append(f"{name} did not converge" + (f": {reason}" if reason else "") + ".")
        self.not_estimable = self.not_estimable or model.failed

    def leave_out(self, reason: str) -> None:
        if reason not in self.not_collected:
            self.not_collected.append(reason)

    def absent(self) -> tuple[str, ...]:
        return (f"Not analysed: {'; '.join(self.not_collected)}.",) if self.not_collected else ()


def _alpha_text(alpha: float) -> str:
    return format(alpha, "g")


def _estimation_notes(remarks: Remarks) -> list[str]:
    methods = sorted(remarks.methods)
    return [f"Estimation: {', '.join(methods)}."] if methods else []


def _missing_notes(remarks: Remarks) -> list[str]:
    if not remarks.missing:
        return []
    return [f"{DOUBLE_DAGGER} Not in the model outputs (not fitted): {', '.join(remarks.missing)}."]


def _paper_notes(
    table_id: str, alpha: float, mark_reference: bool, remarks: Remarks, outcomes: Sequence[str] = ()
) -> tuple[str, ...]:
    a = _alpha_text(alpha)
    # The outcomes the table holds (an optional instrument the cohort did not collect is not among them).
    listed = join_names(outcomes)
    notes = [
        "Notes: "
        + PAPER_NOTES.get(table_id, GENERIC_NOTE).replace(
            "{outcomes} as dependent variables",
            f"{listed} as the dependent variable" if len(outcomes) == 1 else f"{listed} as dependent variables",
        ),
        (
            "Significant differences are marked with * (p < 0.05) ** (p < 0.01) or *** (p < 0.001); "
            f"ns: not significant (p {GEQ} {a})."
        ),
        f"A significant variation estimate in the initial model (p < {a}) is given by Reference*.",
        "Reference rows give the intercept and slope of the model without predictor"
        + ("." if mark_reference else ", without significance markers; their tests are in the full table."),
        "Time in months since admission.",
        *_estimation_notes(remarks),
    ]
    if remarks.daggers:
        notes.append(
            f"{DAGGER} The estimation did not converge for: {', '.join(remarks.daggers)}; estimates, where shown, "
            "are read with caution."
        )
    notes += _missing_notes(remarks)
    notes += [NOT_ESTIMABLE_NOTE] if remarks.not_estimable else []
    return (*notes, *remarks.absent())


def _full_notes(number: str, alpha: float, remarks: Remarks, intervals: ReportedIntervals | None) -> tuple[str, ...]:
    notes = [
        (
            f"Notes: All fixed effects and variance components of the models of Table {number}. "
            "Fixed effects: estimate, standard error (SE), degrees of freedom (df), t statistic, exact two-sided p "
            "and 95% confidence interval (CI). Random effects: variance components with SE, Wald Z and p. "
            "Explained %: reduction of the reference model's intercept (slope) variance."
        ),
        *([f"Explained % CI: {describe(intervals)}."] if intervals is not None and intervals.by_quantity else []),
        f"Significance level: {_alpha_text(alpha)}. Time in months since admission.",
        *_estimation_notes(remarks),
        *(f"{DAGGER} {failure}" for failure in remarks.failures),
        *_missing_notes(remarks),
    ]
    return (*notes, *remarks.absent())


# --------------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------------


@dataclass
class Rows:
    """The rows of both layouts as they are built, with the model of each row."""

    paper: list[dict[str, str]] = field(default_factory=list)
    paper_ids: list[str] = field(default_factory=list)
    full: list[dict[str, str]] = field(default_factory=list)
    full_ids: list[str] = field(default_factory=list)

    def heading(self, section: str) -> None:
        """A section's heading row in the paper's layout (the paper's "Patient factors")."""
        self.paper.append({column: "" for column in PAPER_COLUMNS} | {"Predictor": section})
        self.paper_ids.append("")

    def add(self, model_id: str, paper: dict[str, str], full: list[dict[str, str]]) -> None:
        self.paper.append(paper)
        self.paper_ids.append(model_id)
        self.full += full
        self.full_ids += [model_id] * len(full)


def model_table(
    table_id: str,
    catalogue_models: Sequence[Any],
    fits: pd.DataFrame,
    estimates: pd.DataFrame,
    variance_components: pd.DataFrame,
    alpha: float = 0.05,
    mark_reference: bool = False,
    min_cell: int = 0,
    intervals: ReportedIntervals | None = None,
) -> TableFrame:
    """The models of the catalogue whose ``table`` is ``table_id``, in catalogue order, in both layouts.

    ``catalogue_models`` are the entries of ``config/models.yaml`` (mappings) or ``ModelSpec`` objects.
    ``mark_reference``: also put significance stars on the reference rows (the paper does not).
    A model's ``section`` is printed as a heading row where it changes (the paper's "Patient factors").
    The full layout's patient count of a model fitted on fewer than ``min_cell`` patients prints "< N".
    """
    specs = [m for m in catalogue_models if _field(m, "table") == table_id]
    ids_in_table = {text(_field(m, "id")) for m in specs}
    referenced = {text(_field(m, "reference")) for m in specs if _field(m, "reference")} & ids_in_table
    outputs = ModelOutputs.of(fits, estimates, variance_components, intervals)
    labels = _variable_labels(catalogue_models)
    rows, remarks = Rows(), Remarks()
    previous_outcome: str | None = None
    previous_section = ""
    for spec in specs:
        model = table_model(spec, outputs, labels)
        reason = not_collected_reason(model.statistics)
        if reason:
            # An instrument the cohort did not collect: the row leaves the table, a note says why (once).
            remarks.leave_out(reason)
            continue
        section = text(_field(spec, "section"))
        if section and section != previous_section:
            rows.heading(section)
        previous_section = section
        remarks.add(model)
        paper = paper_row(model, model.id in referenced, model.outcome != previous_outcome, alpha, mark_reference)
        rows.add(model.id, paper, full_rows(model, min_cell))
        previous_outcome = model.outcome
    with_moderator = table_id == "table_4" or any(_field(m, "moderator") for m in specs)
    return _table_frame(table_id, rows, remarks, alpha, mark_reference, with_moderator, outputs.intervals)


def _table_frame(
    table_id: str,
    rows: Rows,
    remarks: Remarks,
    alpha: float,
    mark_reference: bool,
    with_moderator: bool,
    intervals: ReportedIntervals | None = None,
) -> TableFrame:
    number = table_number(table_id)
    title = TITLES.get(table_id, "Linear mixed model estimations.")
    outcomes = list(dict.fromkeys(row["Outcome"] for row in rows.full))
    paper_columns = [c for c in PAPER_COLUMNS if with_moderator or c != "Moderator"]
    paper = TableLayout(
        table_id=table_id,
        layout="paper",
        number=number,
        title=title,
        frame=pd.DataFrame(rows.paper, columns=list(PAPER_COLUMNS))[paper_columns].reset_index(drop=True),
        align=tuple("l" if c in ("Model", "Predictor", "Moderator") else "r" for c in paper_columns),
        notes=_paper_notes(table_id, alpha, mark_reference, remarks, outcomes),
        model_ids=tuple(rows.paper_ids),
    )
    full = TableLayout(
        table_id=table_id,
        layout="full",
        number=number,
        title=title + " All estimates.",
        frame=pd.DataFrame(rows.full, columns=list(FULL_COLUMNS)),
        align=tuple("l" if c in FULL_TEXT_COLUMNS else "r" for c in FULL_COLUMNS),
        notes=_full_notes(number, alpha, remarks, intervals),
        model_ids=tuple(rows.full_ids),
    )
    return TableFrame(table_id=table_id, paper=paper, full=full)


# --------------------------------------------------------------------------------------------------
# The step
# --------------------------------------------------------------------------------------------------


def read_model_outputs(
    fits: str | Path, estimates: str | Path, variance_components: str | Path
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The model step's ``fits.csv``, ``estimates.csv`` and ``variance_components.csv``."""
    return pd.read_csv(fits), pd.read_csv(estimates), pd.read_csv(variance_components)


def write_model_tables(
    fits: str | Path,
    estimates: str | Path,
    variance_components: str | Path,
    catalogue_models: Sequence[Any],
    files: Mapping[str, Path],
    *,
    alpha: float = 0.05,
    table_ids: Sequence[str] = file_layout.MODEL_TABLES,
    min_cell: int = 0,
    intervals: ReportedIntervals | None = None,
) -> list[Path]:
    """Every table of ``table_ids`` from the model outputs (and the bootstrap ``intervals`` beside the
    explained variance of the full layouts), written to the declared ``files`` (by name)."""
    frames = read_model_outputs(fits, estimates, variance_components)
    tables = [
        model_table(table_id, catalogue_models, *frames, alpha=alpha, min_cell=min_cell, intervals=intervals)
        for table_id in table_ids
    ]
    return write_tables(tables, files)
