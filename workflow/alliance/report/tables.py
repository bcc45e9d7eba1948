"""Tables III and IV of the paper (and any new model table) from the model step's CSV outputs.

``model_table`` turns ``models/fits.csv``, ``models/estimates.csv`` and ``models/variance_components.csv``
into a :class:`TableFrame` holding two layouts of the same models:

* **paper**: the table as printed in Folmo et al. (2020), one row per catalogue model: the estimate (SE)
  of the intercept and slope (the reference model's own, or the predictor's deviation with stars, or
  "ns"), explained intercept/slope variation in % and the AIC;
* **full**: one row per model and term, every fixed effect with SE, df, t, exact p and 95 % CI, then the
  variance components with SE, Wald Z and p, explained %, log-likelihood, AIC, BIC and case counts.

Every cell is a formatted string, so the renderers (CSV, Markdown, HTML, LaTeX) only lay the cells out
and the same inputs always give the same bytes. The inputs are aggregates; no patient-level value can
reach a table.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from alliance.stats import catalogue as models
from alliance.stats.model_runs import not_collected_reason

Layout = Literal["paper", "full"]
Align = Literal["l", "r"]

DAGGER = "\u2020"  # the fit did not converge
DOUBLE_DAGGER = "\u2021"  # no fit in the model outputs
GEQ = "\u2265"

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
    "Log-likelihood",
    "AIC",
    "BIC",
    "Patients",
    "Observations",
    "Converged",
)
FULL_TEXT_COLUMNS = frozenset({"Model ID", "Outcome", "Model", "Moderator", "Effect", "Term", "Converged"})


@dataclass(frozen=True, eq=False)
class TableLayout:
    """One layout of a table: string cells, column alignment, title and notes."""

    table_id: str
    layout: Layout
    number: str  # "III"
    title: str  # without "Table III."
    frame: pd.DataFrame  # every cell a string; "" for empty
    align: tuple[Align, ...]
    notes: tuple[str, ...]
    model_ids: tuple[str, ...]  # the model of each row

    @property
    def heading(self) -> str:
        suffix = " (all estimates)" if self.layout == "full" else ""
        return f"Table {self.number}{suffix}."

    @property
    def key(self) -> str:
        return self.table_id if self.layout == "paper" else f"{self.table_id}_full"


@dataclass(frozen=True, eq=False)
class TableFrame:
    """A model table in the paper's layout and in the full layout."""

    table_id: str
    paper: TableLayout
    full: TableLayout

    def layout(self, layout: Layout = "paper") -> TableLayout:
        return self.paper if layout == "paper" else self.full


# --------------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------------


def _float(value: Any) -> float:
    """A finite float, or NaN for anything missing or not a number."""
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _truthy(value: Any) -> bool:
    """True/False, "True"/"False" (as read from CSV), 1/0; missing is False."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if value is None:
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return not math.isnan(number) and number != 0


def _round_half_up(value: float, places: int) -> Decimal:
    quantum = Decimal(1).scaleb(-places)
    return Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def format_number(value: Any, decimals: int = 2, digits: int = 2) -> str:
    """``decimals`` places, more for small values so that ``digits`` significant digits remain.

    25.3 -> "25.30", -0.034 -> "-0.034", 0.004 -> "0.004", 0.0042 -> "0.0042"; NaN -> "".
    """
    number = _float(value)
    if math.isnan(number):
        return ""
    places = decimals
    if number != 0:
        magnitude = math.floor(math.log10(abs(number)))
        places = min(max(decimals, digits - 1 - magnitude), 10)
    text = format(_round_half_up(number, places), "f")
    if places > decimals and "." in text:
        whole, fraction = text.split(".")
        fraction = fraction.rstrip("0").ljust(decimals, "0")
        text = f"{whole}.{fraction}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_integer(value: Any) -> str:
    """Rounded half away from zero to an integer; NaN -> ""."""
    number = _float(value)
    if math.isnan(number):
        return ""
    text = format(_round_half_up(number, 0), "f")
    return "0" if text == "-0" else text


def format_fixed(value: Any, places: int = 2) -> str:
    number = _float(value)
    if math.isnan(number):
        return ""
    text = format(_round_half_up(number, places), "f")
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_df(value: Any) -> str:
    number = _float(value)
    if math.isnan(number):
        return ""
    return format_integer(number) if abs(number - round(number)) < 1e-9 else format_fixed(number, 1)


def format_p(value: Any) -> str:
    """Exact p to 3 decimals without the leading zero; "< .001" below .001."""
    p = _float(value)
    if math.isnan(p):
        return ""
    if p < 0.001:
        return "< .001"
    text = format(_round_half_up(min(p, 1.0), 3), "f")
    return text[1:] if text.startswith("0.") else text


def stars(p_value: Any) -> str:
    """* p < .05, ** p < .01, *** p < .001."""
    p = _float(p_value)
    if math.isnan(p):
        return ""
    if p < 0.001:
        return "***"
    if p < 0.01:
        return "**"
    if p < 0.05:
        return "*"
    return ""


def format_estimate(
    estimate: Any, std_error: Any, p_value: Any, *, alpha: float = 0.05, ns: bool = True, mark: bool = True
) -> str:
    """``estimate (SE)`` with stars; "ns" when ``ns`` and p >= alpha; "" when there is no estimate."""
    value = _float(estimate)
    if math.isnan(value):
        return ""
    p = _float(p_value)
    if ns and not math.isnan(p) and p >= alpha:
        return "ns"
    se = format_number(std_error)
    text = format_number(value) + (f" ({se})" if se else "")
    return text + (stars(p) if mark else "")


ROMAN_NUMERALS = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


def roman(number: int) -> str:
    out = []
    for value, numeral in ROMAN_NUMERALS:
        count, number = divmod(number, value)
        out.append(numeral * count)
    return "".join(out)


def table_number(table_id: str) -> str:
    """``table_3`` -> "III"; an id without a number is returned as is."""
    suffix = table_id.rsplit("_", 1)[-1]
    return roman(int(suffix)) if suffix.isdigit() and int(suffix) > 0 else table_id


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
        return models.describe_condition(condition)
    return _text(condition)


def _variable_labels(models: Sequence[Any]) -> dict[str, str]:
    labels = dict(VARIABLE_LABELS)
    for model in models:
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


def _records_by_model(frame: pd.DataFrame | None) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    if frame is None or frame.empty:
        return grouped
    for record in frame.to_dict("records"):
        grouped.setdefault(_text(record.get("model_id")), []).append(record)
    return grouped


def _expected_predictor_term(model: Any, fit: Mapping[str, Any] | None) -> str:
    from_fit = _text(fit.get("predictor")) if fit is not None else ""
    if from_fit:
        return from_fit
    predictor = _text(_field(model, "predictor"))
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


# --------------------------------------------------------------------------------------------------
# Building the table
# --------------------------------------------------------------------------------------------------


def _component_p(components: Sequence[Mapping[str, Any]], name: str) -> float:
    for row in components:
        if _text(row.get("component")) == name:
            return _float(row.get("p_value"))
    return math.nan


def _estimate_cell(terms: Mapping[str, Mapping[str, Any]], term: str | None, alpha: float, ns: bool, mark: bool) -> str:
    row = terms.get(term) if term else None
    if row is None:
        return ""
    return format_estimate(row.get("estimate"), row.get("std_error"), row.get("p_value"), alpha=alpha, ns=ns, mark=mark)


def _alpha_text(alpha: float) -> str:
    return format(alpha, "g")


def _paper_notes(
    table_id: str,
    alpha: float,
    mark_reference: bool,
    methods: Sequence[str],
    daggers: Sequence[str],
    missing: Sequence[str],
    outcomes: Sequence[str] = (),
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
    ]
    if methods:
        notes.append(f"Estimation: {', '.join(methods)}.")
    if daggers:
        notes.append(
            f"{DAGGER} The estimation did not converge for: {', '.join(daggers)}; estimates, where shown, "
            "are read with caution."
        )
    if missing:
        notes.append(f"{DOUBLE_DAGGER} Not in the model outputs (not fitted): {', '.join(missing)}.")
    return tuple(notes)


def _full_notes(
    table_id: str, number: str, alpha: float, methods: Sequence[str], failures: Sequence[str], missing: Sequence[str]
) -> tuple[str, ...]:
    notes = [
        (
            f"Notes: All fixed effects and variance components of the models of Table {number}. "
            "Fixed effects: estimate, standard error (SE), degrees of freedom (df), t statistic, exact two-sided p "
            "and 95% confidence interval (CI). Random effects: variance components with SE, Wald Z and p. "
            "Explained %: reduction of the reference model's intercept (slope) variance."
        ),
        f"Significance level: {_alpha_text(alpha)}. Time in months since admission.",
    ]
    if methods:
        notes.append(f"Estimation: {', '.join(methods)}.")
    notes += [f"{DAGGER} {failure}" for failure in failures]
    if missing:
        notes.append(f"{DOUBLE_DAGGER} Not in the model outputs (not fitted): {', '.join(missing)}.")
    return tuple(notes)


NOT_ESTIMABLE = "\u2013"
NOT_ESTIMABLE_NOTE = f"{NOT_ESTIMABLE}: not estimable (the model could not be fitted; {DAGGER} gives the reason)."
NUMERIC_PAPER_COLUMNS = (
    "Intercept Mean (SE)",
    "Linear slope Mean (SE)",
    "Explained intercept variation %",
    "Explained slope variation %",
    "AIC",
)


def join_names(names: Sequence[str], conjunction: str = "and") -> str:
    """["Goals", "Bonds", "Tasks"] -> "Goals, Bonds, and Tasks" (APA serial comma)."""
    names = list(names)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} {conjunction} {names[1]}"
    return ", ".join(names[:-1]) + f", {conjunction} {names[-1]}"


def _absent(not_collected: Sequence[str]) -> tuple[str, ...]:
    return (f"Not analysed: {'; '.join(not_collected)}.",) if not_collected else ()


def _patient_count(value: Any, min_cell: int) -> str:
    number = _float(value)
    return f"< {min_cell}" if min_cell > 0 and 0 < number < min_cell else format_integer(number)


def model_table(
    table_id: str,
    catalogue_models: Sequence[Any],
    fits: pd.DataFrame,
    estimates: pd.DataFrame,
    variance_components: pd.DataFrame,
    alpha: float = 0.05,
    mark_reference: bool = False,
    min_cell: int = 0,
) -> TableFrame:
    """The models of the catalogue whose ``table`` is ``table_id``, in catalogue order, in both layouts.

    ``catalogue_models`` are the entries of ``config/models.yaml`` (mappings) or ``ModelSpec`` objects.
    ``mark_reference``: also put significance stars on the reference rows (the paper does not).
    A model's ``section`` is printed as a heading row where it changes (the paper's "Patient factors").
    The full layout's patient count of a model fitted on fewer than ``min_cell`` patients prints "< N".
    """
    models = [m for m in catalogue_models if _field(m, "table") == table_id]
    ids_in_table = {_text(_field(m, "id")) for m in models}
    referenced = {_text(_field(m, "reference")) for m in models if _field(m, "reference")} & ids_in_table
    labels = _variable_labels(catalogue_models)
    fit_by_id = {mid: rows[0] for mid, rows in _records_by_model(fits).items()}
    estimates_by_id = _records_by_model(estimates)
    components_by_id = _records_by_model(variance_components)
    with_moderator = table_id == "table_4" or any(_field(m, "moderator") for m in models)
    number = table_number(table_id)

    paper_rows: list[dict[str, str]] = []
    full_rows: list[dict[str, str]] = []
    model_ids: list[str] = []
    full_ids: list[str] = []
    daggers: list[str] = []
    failures: list[str] = []
    missing: list[str] = []
    methods: set[str] = set()
    previous_outcome = None
    previous_section = ""
    not_collected: list[str] = []
    not_estimable = False
    for model in models:
        model_id = _text(_field(model, "id"))
        reason = not_collected_reason(fit_by_id.get(model_id, {}))
        if reason:
            # An instrument the cohort did not collect: the row leaves the table, a note says why (once).
            not_collected += [reason] if reason not in not_collected else []
            continue
        section = _text(_field(model, "section"))
        if section and section != previous_section:
            paper_rows.append({column: "" for column in PAPER_COLUMNS} | {"Predictor": section})
            model_ids.append("")
        previous_section = section
        outcome = _text(_field(model, "outcome"))
        fit = fit_by_id.get(model_id)
        converged = fit is not None and _truthy(fit.get("converged"))
        if fit is not None and _text(fit.get("method")):
            methods.add(_text(fit.get("method")))
        terms = {_text(row.get("term")): row for row in estimates_by_id.get(model_id, [])}
        components = components_by_id.get(model_id, [])
        predictor = _text(_field(model, "predictor"))
        outcome_label = OUTCOME_LABELS.get(outcome, outcome.upper())
        label = _text(_field(model, "label")) or (
            outcome_label if not predictor else labels.get(predictor, predictor.replace("_", " "))
        )
        if _field(model, "subset"):
            label += f" ({condition_label(_field(model, 'subset'), labels)})"
        marked = label if converged else label + (DAGGER if fit is not None else DOUBLE_DAGGER)
        if fit is None:
            missing.append(f"{label} ({model_id})")
        elif not converged:
            daggers.append(f"{label} ({model_id})")
            reason = _text(fit.get("warnings"))
            failures.append(f"{label} ({model_id}) did not converge" + (f": {reason}" if reason else "") + ".")
        moderator = condition_label(_field(model, "moderator") or (fit or {}).get("moderator"), labels)

        if not predictor:
            main: str | None = "Intercept"
            interaction: str | None = "time"
            ns, mark = False, mark_reference
        else:
            main, interaction = predictor_terms(list(terms), _expected_predictor_term(model, fit))
            ns, mark = True, True

        if not predictor:
            if model_id in referenced:
                explained = tuple(
                    "Reference" + ("*" if _component_p(components, name) < alpha else "")
                    for name in ("intercept", "slope")
                )
            else:
                explained = ("", "")
        else:
            explained = (
                format_integer((fit or {}).get("explained_intercept_pct")),
                format_integer((fit or {}).get("explained_slope_pct")),
            )
        row = {
            "Model": marked if not predictor else ("" if outcome == previous_outcome else outcome_label),
            "Predictor": "" if not predictor else marked,
            "Moderator": moderator,
            "Intercept Mean (SE)": _estimate_cell(terms, main, alpha, ns, mark),
            "Linear slope Mean (SE)": _estimate_cell(terms, interaction, alpha, ns, mark),
            "Explained intercept variation %": explained[0],
            "Explained slope variation %": explained[1],
            "AIC": format_integer((fit or {}).get("aic")),
        }
        if _text((fit or {}).get("status")) == "failed":
            # No fit (a group without patients, a predictor with one level): its numbers are not estimable.
            row.update({k: NOT_ESTIMABLE for k in row if k in NUMERIC_PAPER_COLUMNS and not row[k]})
            not_estimable = True
        paper_rows.append(row)
        model_ids.append(model_id)
        previous_outcome = outcome

        # Full layout: one row per term and variance component.
        base = {"Model ID": model_id, "Outcome": outcome_label, "Model": marked, "Moderator": moderator}
        model_stats = {
            "Log-likelihood": format_fixed((fit or {}).get("loglik"), 2),
            "AIC": format_fixed((fit or {}).get("aic"), 2),
            "BIC": format_fixed((fit or {}).get("bic"), 2),
            "Patients": _patient_count((fit or {}).get("n_patients"), min_cell),
            "Observations": format_integer((fit or {}).get("n_obs")),
            "Converged": "yes" if converged else ("" if fit is None else f"no{DAGGER}"),
        }
        lines: list[dict[str, str]] = []
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
        for component in components:
            name = _text(component.get("component"))
            explained_pct = ""
            if predictor and name in ("intercept", "slope"):
                explained_pct = format_integer((fit or {}).get(f"explained_{name}_pct"))
            lines.append(
                {
                    "Effect": "Random",
                    "Term": COMPONENT_TERMS.get(name, name),
                    "Estimate": format_number(component.get("estimate")),
                    "SE": format_number(component.get("std_error")),
                    "t / Z": format_fixed(component.get("statistic"), 2),
                    "p": format_p(component.get("p_value")),
                    "Explained %": explained_pct,
                }
            )
        if not lines:
            lines.append({"Effect": "", "Term": ""})
        for index, line in enumerate(lines):
            full_row = {column: "" for column in FULL_COLUMNS}
            full_row.update(base)
            full_row.update(line)
            if index == 0:
                full_row.update(model_stats)
            full_rows.append(full_row)
            full_ids.append(model_id)

    method_list = sorted(methods)
    outcomes_in_table = list(dict.fromkeys(row["Outcome"] for row in full_rows))
    paper_columns = [c for c in PAPER_COLUMNS if with_moderator or c != "Moderator"]
    paper_frame = pd.DataFrame(paper_rows, columns=list(PAPER_COLUMNS))[paper_columns]
    paper = TableLayout(
        table_id=table_id,
        layout="paper",
        number=number,
        title=TITLES.get(table_id, "Linear mixed model estimations."),
        frame=paper_frame.reset_index(drop=True),
        align=tuple("l" if c in ("Model", "Predictor", "Moderator") else "r" for c in paper_columns),
        notes=_paper_notes(table_id, alpha, mark_reference, method_list, daggers, missing, outcomes_in_table)
        + ((NOT_ESTIMABLE_NOTE,) if not_estimable else ())
        + _absent(not_collected),
        model_ids=tuple(model_ids),
    )
    full = TableLayout(
        table_id=table_id,
        layout="full",
        number=number,
        title=TITLES.get(table_id, "Linear mixed model estimations.") + " All estimates.",
        frame=pd.DataFrame(full_rows, columns=list(FULL_COLUMNS)),
        align=tuple("l" if c in FULL_TEXT_COLUMNS else "r" for c in FULL_COLUMNS),
        notes=_full_notes(table_id, number, alpha, method_list, failures, missing) + _absent(not_collected),
        model_ids=tuple(full_ids),
    )
    return TableFrame(table_id=table_id, paper=paper, full=full)


# --------------------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------------------


def _layout(table: TableFrame | TableLayout, layout: Layout) -> TableLayout:
    return table.layout(layout) if isinstance(table, TableFrame) else table


def _cells(layout: TableLayout) -> list[list[str]]:
    return [[_text(value) for value in row] for row in layout.frame.itertuples(index=False, name=None)]


def to_csv(table: TableFrame | TableLayout, layout: Layout = "paper") -> str:
    """The cells as CSV (header row, no index, "\\n" line ends); title and notes are in the other formats."""
    chosen = _layout(table, layout)
    return str(chosen.frame.to_csv(index=False, lineterminator="\n"))


def _markdown_escape(text: str) -> str:
    for char in ("\\", "`", "*", "_", "|", "<", ">"):
        text = text.replace(char, "\\" + char)
    return text


def to_markdown(table: TableFrame | TableLayout, layout: Layout = "paper") -> str:
    """A pipe table with the title above and the notes below."""
    chosen = _layout(table, layout)
    header = [_markdown_escape(str(c)) for c in chosen.frame.columns]
    rule = ["---:" if a == "r" else ":---" for a in chosen.align]
    lines = [f"**{chosen.heading}** {_markdown_escape(chosen.title)}", ""]
    lines += ["| " + " | ".join(cells) + " |" for cells in (header, rule)]
    lines += ["| " + " | ".join(_markdown_escape(c) for c in row) + " |" for row in _cells(chosen)]
    lines.append("")
    for note in chosen.notes:
        lines += [_markdown_escape(note), ""]
    return "\n".join(lines)


def to_html(table: TableFrame | TableLayout, layout: Layout = "paper") -> str:
    """A self-contained ``<table>`` (caption, head, body, notes in ``<tfoot>``); every cell escaped."""
    chosen = _layout(table, layout)

    def esc(text: str) -> str:
        return html.escape(text, quote=True)

    def align(index: int) -> str:
        return ' style="text-align: right"' if chosen.align[index] == "r" else ""

    width = len(chosen.frame.columns)
    lines = [
        f'<table id="{esc(chosen.key)}">',
        f"<caption><strong>{esc(chosen.heading)}</strong> {esc(chosen.title)}</caption>",
        "<thead>",
        "<tr>"
        + "".join(f'<th scope="col"{align(i)}>{esc(str(c))}</th>' for i, c in enumerate(chosen.frame.columns))
        + "</tr>",
        "</thead>",
        "<tbody>",
    ]
    lines += [
        "<tr>" + "".join(f"<td{align(i)}>{esc(c)}</td>" for i, c in enumerate(row)) + "</tr>" for row in _cells(chosen)
    ]
    lines += ["</tbody>", "<tfoot>"]
    lines += [f'<tr><td colspan="{width}">{esc(note)}</td></tr>' for note in chosen.notes]
    lines += ["</tfoot>", "</table>", ""]
    return "\n".join(lines)


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    DAGGER: r"\dag{}",
    DOUBLE_DAGGER: r"\ddag{}",
    GEQ: r"$\geq$",
    "\u2264": r"$\leq$",
}


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(char, char) for char in text)


def to_latex(table: TableFrame | TableLayout, layout: Layout = "paper") -> str:
    """A ``table`` environment: booktabs ``tabular`` (needs ``\\usepackage{booktabs}``), notes below it."""
    chosen = _layout(table, layout)
    size = r"\small" if chosen.layout == "paper" else r"\scriptsize"
    lines = [
        f"% Table {chosen.number} of Folmo et al. (2020), {chosen.layout} layout",
        r"\begin{table}[htbp]",
        r"\centering",
        size,
        rf"\caption{{{latex_escape(chosen.title)}}}",
        rf"\label{{tab:{chosen.key.replace('_', '-')}}}",
        rf"\begin{{tabular}}{{{''.join(chosen.align)}}}",
        r"\toprule",
        " & ".join(latex_escape(str(c)) for c in chosen.frame.columns) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(latex_escape(c) for c in row) + r" \\" for row in _cells(chosen)]
    lines += [r"\bottomrule", r"\end{tabular}", "", r"\medskip", r"\begin{minipage}{\linewidth}", r"\footnotesize"]
    lines += [latex_escape(note) + r"\par" for note in chosen.notes]
    lines += [r"\end{minipage}", r"\end{table}", ""]
    return "\n".join(lines)


Renderer = Callable[[TableFrame | TableLayout, Layout], str]
RENDERERS: dict[str, Renderer] = {"csv": to_csv, "md": to_markdown, "html": to_html, "tex": to_latex}
LAYOUTS: tuple[Layout, ...] = ("paper", "full")


def write_table(table: TableFrame, stem: Path) -> list[Path]:
    """``stem.{csv,md,html,tex}`` (paper layout) and ``stem_full.{csv,md,html,tex}``; UTF-8, same bytes every time."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for layout in LAYOUTS:
        path_stem = stem.name if layout == "paper" else f"{stem.name}_full"
        for extension, render in RENDERERS.items():
            path = stem.parent / f"{path_stem}.{extension}"
            path.write_bytes(render(table, layout).encode("utf-8"))
            written.append(path)
    return written


def read_model_outputs(models_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``fits.csv``, ``estimates.csv`` and ``variance_components.csv`` of a ``models/`` directory."""
    models_dir = Path(models_dir)
    fits = pd.read_csv(models_dir / "fits.csv")
    estimates = pd.read_csv(models_dir / "estimates.csv")
    variance_components = pd.read_csv(models_dir / "variance_components.csv")
    return fits, estimates, variance_components


def write_model_tables(
    models_dir: Path,
    catalogue_models: Sequence[Any],
    tables_dir: Path,
    alpha: float = 0.05,
    table_ids: Sequence[str] = ("table_3", "table_4"),
    min_cell: int = 0,
) -> list[Path]:
    """Read the model outputs and write every table of ``table_ids`` under ``tables_dir``."""
    fits, estimates, variance_components = read_model_outputs(models_dir)
    written: list[Path] = []
    for table_id in table_ids:
        table = model_table(
            table_id, catalogue_models, fits, estimates, variance_components, alpha=alpha, min_cell=min_cell
        )
        written += write_table(table, Path(tables_dir) / table_id)
    return written
