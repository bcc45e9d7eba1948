"""Robustness of the main findings: pattern-mixture and WAI-version controls (tables S2-S4).

Everything here reads the collected model outputs (``models/*.csv``) and the catalogue's
``robustness`` section; the models themselves are ordinary catalogue models that
:func:`alliance.stats.catalogue.robustness_models` generated and the workflow fitted one job each.

* S2 (``table_robustness``): each finding's estimate and p under every variant (no control, WAI version
  group, version at each assessment, common items, number of assessments, WSAS/BSI outcomes), and
  whether it holds at alpha (p < alpha, in the stated direction) under each and under all.
* S3 (``table_pattern_mixture``): the number of assessments (centred) on intercept and slope, and the
  pattern-averaged slopes with delta-method SEs (Hedeker & Gibbons, 1997).
* S4 (``table_wai_version``): per subscale and version control, the slope variance it explains, the
  likelihood-ratio test against the growth model without it, and the change in AIC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from alliance.report.disclosure import count_cell, disclosure_note
from alliance.report.formatting import (
    DAGGER,
    TableFrame,
    TableLayout,
    first_by_model,
    format_df,
    format_estimate,
    format_fixed,
    format_integer,
    format_number,
    format_p,
    records_by_model,
    to_float,
    truthy,
    write_tables,
)
from alliance.stats.catalogue import Catalogue, Finding, ModelSpec, RobustnessVariant, holds, variant_model_id
from alliance.stats.model_runs import not_collected_reason

NUMBERS = {"table_robustness": "S2", "table_pattern_mixture": "S3", "table_wai_version": "S4"}
NOT_APPLICABLE = "n/a"
TEXT_COLUMNS = frozenset(
    {
        "Finding",
        "Control",
        "Model ID",
        "Term",
        "Model",
        "Subscale",
        "Holds",
        "Converged",
        "Holds under every control",
        "Group",
        "Effect",
    }
)
STARS_NOTE = "* p < .05, ** p < .01, *** p < .001."

ByModel = Mapping[str, list[dict[str, Any]]]


def _term_row(estimates: ByModel, model_id: str, term: str) -> dict[str, Any] | None:
    for row in estimates.get(model_id, []):
        if row["term"] == term:
            return row
    return None


def _alpha_text(alpha: float) -> str:
    return format_p(alpha) if alpha >= 0.001 else str(alpha)


def _estimate_cell(row: Mapping[str, Any] | None, alpha: float) -> str:
    if row is None:
        return ""
    return format_estimate(row.get("estimate"), row.get("std_error"), row.get("p_value"), alpha=alpha, ns=False)


@dataclass
class Layer:
    """The rows of one layout of a table, its columns and the model of each row."""

    columns: Sequence[str]
    rows: list[dict[str, str]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def add(self, row: dict[str, str], model_id: str) -> None:
        self.rows.append(row)
        self.ids.append(model_id)


def _frame(table_id: str, title: str, paper: Layer, full: Layer, notes: tuple[str, ...]) -> TableFrame:
    def layout(kind: str, layer: Layer) -> TableLayout:
        frame = pd.DataFrame(layer.rows, columns=list(layer.columns)).fillna("")
        return TableLayout(
            table_id=table_id,
            layout="paper" if kind == "paper" else "full",
            number=NUMBERS[table_id],
            title=title if kind == "paper" else f"{title} All estimates.",
            frame=frame.reset_index(drop=True),
            align=tuple("l" if c in TEXT_COLUMNS else "r" for c in layer.columns),
            notes=notes,
            model_ids=tuple(layer.ids),
        )

    return TableFrame(table_id=table_id, paper=layout("paper", paper), full=layout("full", full))


# --------------------------------------------------------------------------------------------------
# S2: the findings under every control
# --------------------------------------------------------------------------------------------------

ROBUSTNESS_FULL_COLUMNS = (
    "Finding",
    "Control",
    "Model ID",
    "Term",
    "Estimate",
    "SE",
    "df",
    "t",
    "p",
    "Holds",
    "Patients",
    "Observations",
    "Converged",
)


def _variant_record(
    catalogue: Catalogue, finding: Finding, model_id: str, fit: Mapping[str, Any], estimates: ByModel
) -> dict[str, Any]:
    """The finding's term re-estimated by the model ``model_id`` (the finding's model under a control)."""
    term = finding.term(catalogue.model(model_id))
    estimate = _term_row(estimates, model_id, term) or {}
    record: dict[str, Any] = {
        "term": term,
        "estimate": to_float(estimate.get("estimate")),
        "std_error": to_float(estimate.get("std_error")),
        "df": to_float(estimate.get("df")),
        "statistic": to_float(estimate.get("statistic")),
        "p_value": to_float(estimate.get("p_value")),
        "n_patients": to_float(fit.get("n_patients")),
        "n_obs": to_float(fit.get("n_obs")),
        "converged": truthy(fit.get("converged")),
        # An instrument the cohort did not collect (the WSAS outcome without WSAS exports).
        "why": not_collected_reason(fit),
    }
    record["holds"] = holds(finding, record["estimate"], record["p_value"], catalogue.settings.alpha)
    return record


def robustness_rows(catalogue: Catalogue, fits: pd.DataFrame, estimates: pd.DataFrame) -> list[dict[str, Any]]:
    """One record per finding and variant: the model, term, estimate, p and whether the finding holds."""
    fit_by_id = first_by_model(fits)
    estimates_by_id = records_by_model(estimates)
    rows = []
    for finding in catalogue.robustness.findings:
        for variant in catalogue.robustness.variants:
            model_id = variant_model_id(catalogue, finding.model, variant.id)
            record: dict[str, Any] = {
                "finding_id": finding.id,
                "finding": finding.label,
                "variant_id": variant.id,
                "variant": variant.label,
                "model_id": model_id or "",
                "applies": model_id is not None,
            }
            if model_id is not None:
                record.update(
                    _variant_record(catalogue, finding, model_id, fit_by_id.get(model_id, {}), estimates_by_id)
                )
            rows.append(record)
    return rows


def _finding_row(finding: Finding, records: Sequence[Mapping[str, Any]], alpha: float) -> dict[str, str]:
    """A finding's row of S2: its estimate under each control, and the controls under which it fails."""
    row = {"Finding": finding.label}
    failed = []
    for record in records:
        if not record["applies"]:
            row[record["variant"]] = NOT_APPLICABLE
            continue
        cell = format_estimate(record["estimate"], record["std_error"], record["p_value"], alpha=alpha, ns=False)
        row[record["variant"]] = (cell or "") + ("" if record["converged"] else DAGGER)
        if not record["holds"]:
            failed.append(record["variant"])
    row["Holds under every control"] = "yes" if not failed else "no: " + "; ".join(failed)
    return row


def _control_row(finding: Finding, record: Mapping[str, Any], min_cell: int) -> dict[str, str]:
    """A finding under one control, in the full layout of S2."""
    return {
        "Finding": finding.label,
        "Control": record["variant"],
        "Model ID": record["model_id"],
        "Term": record["term"],
        "Estimate": format_number(record["estimate"]),
        "SE": format_number(record["std_error"]),
        "df": format_df(record["df"]),
        "t": format_fixed(record["statistic"], 2),
        "p": format_p(record["p_value"]),
        "Holds": "yes" if record["holds"] else "no",
        "Patients": count_cell(to_float(record["n_patients"]), min_cell),
        "Observations": format_integer(record["n_obs"]),
        "Converged": "yes" if record["converged"] else "no",
    }


def _robustness_notes(alpha: float, min_cell: int, absent: Mapping[str, str]) -> tuple[str, ...]:
    return (
        (
            f"Estimate (SE) of each finding's term (the predictor for an intercept shift, time x predictor for a "
            f"slope difference) under each control. * p < .05, ** p < .01, *** p < .001 (Satterthwaite df). "
            f"A finding holds when p < {_alpha_text(alpha)} in its stated direction. {NOT_APPLICABLE}: the control "
            f"does not apply to the finding. {DAGGER} the model did not converge."
        ),
        (
            "Version group: S-only / SR-only / both, and x time. Version at each assessment: a time-varying "
            "indicator of the form used. Common items: subscales re-scored from the items worded identically in "
            "WAI-S and WAI-SR. Number of assessments: centred, and x time (pattern-mixture model, Hedeker & "
            "Gibbons, 1997). WSAS/BSI: the dichotomous end-of-treatment outcomes in place of the GAF subgroups."
        ),
        *disclosure_note(min_cell),
        *((f"Not analysed: {'; '.join(dict.fromkeys(absent.values()))}.",) if absent else ()),
    )


def robustness_table(
    catalogue: Catalogue, fits: pd.DataFrame, estimates: pd.DataFrame, min_cell: int = 0
) -> TableFrame:
    alpha = catalogue.settings.alpha
    records = robustness_rows(catalogue, fits, estimates)
    # A control resting on an instrument the cohort did not collect leaves the table, with a note.
    absent = {r["variant"]: r["why"] for r in records if r["applies"] and r["why"]}
    records = [r for r in records if r["variant"] not in absent]
    variants = [v.label for v in catalogue.robustness.variants if v.label not in absent]
    paper = Layer(["Finding", *variants, "Holds under every control"])
    full = Layer(ROBUSTNESS_FULL_COLUMNS)
    for finding in catalogue.robustness.findings:
        mine = [r for r in records if r["finding_id"] == finding.id]
        for record in (r for r in mine if r["applies"]):
            full.add(_control_row(finding, record, min_cell), record["model_id"])
        paper.add(_finding_row(finding, mine, alpha), finding.model)
    title = "Robustness of the main findings to missing-data and WAI-version controls."
    return _frame("table_robustness", title, paper, full, _robustness_notes(alpha, min_cell, absent))


# --------------------------------------------------------------------------------------------------
# S3: pattern-mixture control for the number of assessments
# --------------------------------------------------------------------------------------------------

PATTERN_MIXTURE_PAPER_COLUMNS = (
    "Model",
    "Effect",
    "Uncontrolled",
    "Controlled",
    "Pattern-averaged",
    "Assessments on intercept",
    "Assessments on slope",
)
PATTERN_MIXTURE_FULL_COLUMNS = ("Model ID", "Effect", "Group", "Estimate", "SE", "Z", "p", "Patients")


def _model_label(spec: ModelSpec) -> str:
    base = spec.outcome.split("_")[0].capitalize()
    if spec.predictor_term is None:
        return f"{base}: growth"
    return f"{base}: {spec.predictor_term}"


def pattern_mixture_pairs(catalogue: Catalogue) -> list[tuple[str, str]]:
    """(model, its pattern-mixture variant) pairs: the growth models first, then the findings in their order."""
    variant_id = catalogue.robustness.pattern_mixture_variant
    model_order = [m.id for m in catalogue.models]
    finding_order = [f.model for f in catalogue.robustness.findings]

    def order(pair: tuple[str, str]) -> tuple[bool, int]:
        base = pair[0]
        return base in finding_order, finding_order.index(base) if base in finding_order else model_order.index(base)

    variants = catalogue.variant_models.items()
    return sorted({(base, model) for (base, v), model in variants if v == variant_id and model}, key=order)


@dataclass(frozen=True)
class PatternMixtureInputs:
    """The outputs S3 reads, by model id."""

    fits: Mapping[str, Mapping[str, Any]]
    estimates: ByModel
    averaged: ByModel
    alpha: float
    centred: Sequence[str]  # the centred controls (the number of assessments)


def _pattern_mixture_rows(
    catalogue: Catalogue, base_id: str, model_id: str, inputs: PatternMixtureInputs
) -> list[dict[str, str]]:
    """A model's rows of S3: per effect of its findings (or its slope) and centred control, the term
    without and with the control, pattern-averaged, and the control's own effects."""
    spec, base = catalogue.model(model_id), catalogue.model(base_id)
    predictor, alpha, estimates = spec.predictor_term, inputs.alpha, inputs.estimates
    averaged = {(r["effect"], r["group"]): r for r in inputs.averaged.get(model_id, [])}
    findings = [f for f in catalogue.robustness.findings if f.model == base_id]
    converged = truthy(inputs.fits.get(model_id, {}).get("converged"))
    rows = []
    for effect in dict.fromkeys(f.effect for f in findings) if findings else ("slope",):
        prefix = "time" if effect == "slope" else "Intercept"
        term = prefix if predictor is None else (f"time:{predictor}" if effect == "slope" else str(predictor))
        group = "all" if predictor is None else f"{predictor}=1 - {predictor}=0"
        rows += [
            {
                "Model": findings[0].label if findings else _model_label(base),
                "Effect": effect if predictor is None else f"{effect} difference",
                "Uncontrolled": _estimate_cell(_term_row(estimates, base_id, term), alpha),
                "Controlled": _estimate_cell(_term_row(estimates, model_id, term), alpha)
                + ("" if converged else DAGGER),
                "Pattern-averaged": _estimate_cell(averaged.get((effect, group)), alpha),
                "Assessments on intercept": _estimate_cell(_term_row(estimates, model_id, control), alpha),
                "Assessments on slope": _estimate_cell(_term_row(estimates, model_id, f"time:{control}"), alpha),
            }
            for control in inputs.centred
        ]
    return rows


def _pattern_averaged_rows(averaged: Sequence[Mapping[str, Any]], model_id: str, min_cell: int) -> list[dict[str, str]]:
    return [
        {
            "Model ID": model_id,
            "Effect": row["effect"],
            "Group": row["group"],
            "Estimate": format_number(row["estimate"]),
            "SE": format_number(row["std_error"]),
            "Z": format_fixed(row["statistic"], 2),
            "p": format_p(row["p_value"]),
            "Patients": count_cell(to_float(row["n_patients"]), min_cell),
        }
        for row in {(r["effect"], r["group"]): r for r in averaged}.values()
    ]


def _pattern_mixture_notes(min_cell: int) -> tuple[str, ...]:
    return (
        (
            "Pattern-mixture models (Hedeker & Gibbons, 1997): the number of WAI assessments, centred at the mean "
            "of each model's patients, and its interaction with time added to the model. Uncontrolled: the slope "
            "(or the predictor's slope difference) without the control; Controlled: the same term with it, at the "
            "mean number of assessments. Pattern-averaged: the slope (difference) averaged over each group's "
            "distribution of the number of assessments, with a delta-method SE that includes the uncertainty of "
            f"that distribution (Z test). {STARS_NOTE}"
        ),
        *disclosure_note(min_cell),
    )


def pattern_mixture_table(
    catalogue: Catalogue,
    fits: pd.DataFrame,
    estimates: pd.DataFrame,
    pattern_averaged: pd.DataFrame,
    min_cell: int = 0,
) -> TableFrame:
    """Every model of the pattern-mixture variant: the control's effects and the pattern-averaged slopes."""
    variant_id = catalogue.robustness.pattern_mixture_variant
    variant = next((v for v in catalogue.robustness.variants if v.id == variant_id), None)
    inputs = PatternMixtureInputs(
        fits=first_by_model(fits),
        estimates=records_by_model(estimates),
        averaged=records_by_model(pattern_averaged),
        alpha=catalogue.settings.alpha,
        centred=[c.name for c in variant.controls if c.centre] if variant else [],
    )
    paper, full = Layer(PATTERN_MIXTURE_PAPER_COLUMNS), Layer(PATTERN_MIXTURE_FULL_COLUMNS)
    for base_id, model_id in pattern_mixture_pairs(catalogue):
        for row in _pattern_mixture_rows(catalogue, base_id, model_id, inputs):
            paper.add(row, model_id)
        for row in _pattern_averaged_rows(inputs.averaged.get(model_id, []), model_id, min_cell):
            full.add(row, model_id)
    title = "Pattern-mixture control for the number of assessments."
    return _frame("table_pattern_mixture", title, paper, full, _pattern_mixture_notes(min_cell))


# --------------------------------------------------------------------------------------------------
# S4: WAI version controls
# --------------------------------------------------------------------------------------------------

WAI_VERSION_PAPER_COLUMNS = (
    "Control",
    "Subscale",
    "Slope (SE), uncontrolled",
    "Slope (SE), controlled",
    "Slope variance explained %",
    "LR chi2 (df)",
    "p",
    "Change in AIC",
)
WAI_VERSION_FULL_COLUMNS = ("Control", "Subscale", "Model ID", "Term", "Estimate", "SE", "df", "t", "p", "Patients")


def subscale_growth_models(catalogue: Catalogue) -> list[ModelSpec]:
    """The unconditional growth models of Goals, Bonds and Tasks (no predictor, subset or control)."""
    return [
        m
        for m in catalogue.models
        if m.base is None
        and m.predictor is None
        and m.kind == "growth"
        and not m.subset
        and not m.controls
        and m.outcome in ("goals", "bonds", "tasks")
    ]


@dataclass(frozen=True)
class VersionInputs:
    """The outputs S4 reads: fits and estimates by model id, likelihood-ratio tests by (model, versus)."""

    fits: Mapping[str, Mapping[str, Any]]
    estimates: ByModel
    tests: Mapping[tuple[str, str], Mapping[str, Any]]
    alpha: float


def _version_row(variant: RobustnessVariant, growth: ModelSpec, model_id: str, inputs: VersionInputs) -> dict[str, str]:
    """A subscale under a version control: the slope without and with it, what it explains, the LR test.

    The change in AIC follows from the test on the same cases: AIC_controlled - AIC_uncontrolled =
    -chi2 + 2 df.
    """
    fit = inputs.fits.get(model_id, {})
    test = inputs.tests.get((model_id, growth.id), {})
    chi2, df = to_float(test.get("chi2")), to_float(test.get("df"))
    delta_aic = -chi2 + 2 * df if not math.isnan(chi2) else math.nan
    estimates, alpha = inputs.estimates, inputs.alpha
    return {
        "Control": variant.label,
        "Subscale": growth.outcome.capitalize(),
        "Slope (SE), uncontrolled": _estimate_cell(_term_row(estimates, growth.id, "time"), alpha),
        "Slope (SE), controlled": _estimate_cell(_term_row(estimates, model_id, "time"), alpha)
        + ("" if truthy(fit.get("converged")) else DAGGER),
        "Slope variance explained %": format_fixed(fit.get("explained_slope_pct"), 0),
        "LR chi2 (df)": f"{format_fixed(chi2, 2)} ({format_integer(df)})" if not math.isnan(chi2) else "",
        "p": format_p(test.get("p_value")),
        "Change in AIC": format_fixed(delta_aic, 1),
    }


def _control_terms_rows(
    variant: RobustnessVariant, growth: ModelSpec, model_id: str, inputs: VersionInputs, min_cell: int
) -> list[dict[str, str]]:
    """The version control's own effects, in the full layout of S4."""
    fit = inputs.fits.get(model_id, {})
    return [
        {
            "Control": variant.label,
            "Subscale": growth.outcome.capitalize(),
            "Model ID": model_id,
            "Term": row["term"],
            "Estimate": format_number(row["estimate"]),
            "SE": format_number(row["std_error"]),
            "df": format_df(row["df"]),
            "t": format_fixed(row["statistic"], 2),
            "p": format_p(row["p_value"]),
            "Patients": count_cell(to_float(fit.get("n_patients")), min_cell),
        }
        for row in inputs.estimates.get(model_id, [])
        if row["term"] not in ("Intercept", "time")
    ]


def _wai_version_notes(min_cell: int) -> tuple[str, ...]:
    return (
        (
            "Each subscale's unconditional growth model with a WAI-version control added. Slope variance "
            "explained: 100 x (slope variance without - with the control) / without, on the same patients. LR: "
            "likelihood-ratio test of the model with the control against the growth model without it (ML); change "
            "in AIC = AIC with - AIC without (negative: the control improves the fit). Common items: subscales "
            "re-scored from the items worded identically in both versions (a different outcome, so no test). "
            f"{STARS_NOTE}"
        ),
        *disclosure_note(min_cell),
    )


def wai_version_table(
    catalogue: Catalogue,
    fits: pd.DataFrame,
    estimates: pd.DataFrame,
    likelihood_ratio_tests: pd.DataFrame,
    min_cell: int = 0,
) -> TableFrame:
    """Per subscale growth model and version control: slope variance explained, LR test, change in AIC.

    Common items (another outcome, not nested) report the slope under each scoring.
    """
    tests = likelihood_ratio_tests.to_dict("records")
    inputs = VersionInputs(
        fits=first_by_model(fits),
        estimates=records_by_model(estimates),
        tests={(str(r["model_id"]), str(r["versus_model_id"])): r for r in tests},
        alpha=catalogue.settings.alpha,
    )
    paper, full = Layer(WAI_VERSION_PAPER_COLUMNS), Layer(WAI_VERSION_FULL_COLUMNS)
    for variant_id in catalogue.robustness.version_variants:
        variant = next(v for v in catalogue.robustness.variants if v.id == variant_id)
        for growth in subscale_growth_models(catalogue):
            model_id = variant_model_id(catalogue, growth.id, variant_id)
            if model_id is None or model_id == growth.id:
                continue
            paper.add(_version_row(variant, growth, model_id, inputs), model_id)
            for row in _control_terms_rows(variant, growth, model_id, inputs, min_cell):
                full.add(row, model_id)
    title = "WAI version controls of the subscale growth models."
    return _frame("table_wai_version", title, paper, full, _wai_version_notes(min_cell))


# --------------------------------------------------------------------------------------------------
# The step
# --------------------------------------------------------------------------------------------------


def write_robustness_tables(
    fits: str | Path,
    estimates: str | Path,
    likelihood_ratio_tests: str | Path,
    pattern_averaged: str | Path,
    catalogue: Catalogue,
    files: Mapping[str, Path],
    min_cell: int = 0,
) -> list[Path]:
    """S2-S4 from the model outputs, each file written to its declared path in ``files`` (by file name)."""
    fit_frame, estimate_frame = pd.read_csv(fits), pd.read_csv(estimates)
    tables = [
        robustness_table(catalogue, fit_frame, estimate_frame, min_cell),
        pattern_mixture_table(catalogue, fit_frame, estimate_frame, pd.read_csv(pattern_averaged), min_cell),
        wai_version_table(catalogue, fit_frame, estimate_frame, pd.read_csv(likelihood_ratio_tests), min_cell),
    ]
    return write_tables(tables, files)
