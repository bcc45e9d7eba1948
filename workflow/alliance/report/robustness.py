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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from alliance.report.descriptives import disclosure_note, is_small, small_text
from alliance.report.tables import (
    DAGGER,
    TableFrame,
    TableLayout,
    _float,
    _truthy,
    format_df,
    format_estimate,
    format_fixed,
    format_integer,
    format_number,
    format_p,
    write_table,
)
from alliance.stats.catalogue import Catalogue, Finding, ModelSpec, variant_model_id
from alliance.stats.model_runs import not_collected_reason

TABLE_IDS = ("table_robustness", "table_pattern_mixture", "table_wai_version")
NUMBERS = {"table_robustness": "S2", "table_pattern_mixture": "S3", "table_wai_version": "S4"}
NOT_APPLICABLE = "n/a"


def _by_model(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in frame.to_dict("records"):
        out.setdefault(str(row["model_id"]), []).append(row)
    return out


def _term_row(estimates: Mapping[str, list[dict[str, Any]]], model_id: str, term: str) -> dict[str, Any] | None:
    for row in estimates.get(model_id, []):
        if row["term"] == term:
            return row
    return None


def holds(finding: Finding, estimate: float, p_value: float, alpha: float) -> bool:
    """The finding holds: significant at alpha and in its stated direction."""
    if math.isnan(estimate) or math.isnan(p_value):
        return False
    direction_ok = estimate < 0 if finding.direction == "negative" else estimate > 0
    return direction_ok and p_value < alpha


def _patients(value: Any, min_cell: int) -> str:
    number = _float(value)
    return small_text(min_cell) if is_small(number, min_cell) else format_integer(number)


def _alpha_text(alpha: float) -> str:
    return format_p(alpha) if alpha >= 0.001 else str(alpha)


def robustness_rows(catalogue: Catalogue, fits: pd.DataFrame, estimates: pd.DataFrame) -> list[dict[str, Any]]:
    """One record per finding and variant: the model, term, estimate, p and whether the finding holds."""
    alpha = catalogue.settings.alpha
    fit_by_id = {mid: rows[0] for mid, rows in _by_model(fits).items()}
    estimates_by_id = _by_model(estimates)
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
                spec = catalogue.model(model_id)
                term = finding.term(spec)
                fit = fit_by_id.get(model_id, {})
                estimate = _term_row(estimates_by_id, model_id, term) or {}
                record.update(
                    term=term,
                    estimate=_float(estimate.get("estimate")),
                    std_error=_float(estimate.get("std_error")),
                    df=_float(estimate.get("df")),
                    statistic=_float(estimate.get("statistic")),
                    p_value=_float(estimate.get("p_value")),
                    n_patients=_float(fit.get("n_patients")),
                    n_obs=_float(fit.get("n_obs")),
                    converged=_truthy(fit.get("converged")),
                    # An instrument the cohort did not collect (the WSAS outcome without WSAS exports).
                    why=not_collected_reason(fit),
                )
                record["holds"] = holds(finding, record["estimate"], record["p_value"], alpha)
            rows.append(record)
    return rows


def robustness_table(
    catalogue: Catalogue, fits: pd.DataFrame, estimates: pd.DataFrame, min_cell: int = 0
) -> TableFrame:
    alpha = catalogue.settings.alpha
    records = robustness_rows(catalogue, fits, estimates)
    # A control resting on an instrument the cohort did not collect leaves the table, with a note.
    absent = {r["variant"]: r["why"] for r in records if r["applies"] and r["why"]}
    records = [r for r in records if r["variant"] not in absent]
    variants = [v for v in catalogue.robustness.variants if v.label not in absent]
    paper_rows, full_rows, paper_ids, full_ids = [], [], [], []
    for finding in catalogue.robustness.findings:
        mine = [r for r in records if r["finding_id"] == finding.id]
        row = {"Finding": finding.label}
        failed = []
        for record in mine:
            if not record["applies"]:
                row[record["variant"]] = NOT_APPLICABLE
                continue
            cell = format_estimate(record["estimate"], record["std_error"], record["p_value"], alpha=alpha, ns=False)
            row[record["variant"]] = (cell or "") + ("" if record["converged"] else DAGGER)
            if not record["holds"]:
                failed.append(record["variant"])
            full_rows.append(
                {
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
                    "Patients": _patients(record["n_patients"], min_cell),
                    "Observations": format_integer(record["n_obs"]),
                    "Converged": "yes" if record["converged"] else "no",
                }
            )
            full_ids.append(record["model_id"])
        row["Holds under every control"] = "yes" if not failed else "no: " + "; ".join(failed)
        paper_rows.append(row)
        paper_ids.append(finding.model)
    paper_columns = ["Finding", *(v.label for v in variants), "Holds under every control"]
    full_columns = [
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
    ]
    notes = (
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
    return _frame(
        "table_robustness",
        "Robustness of the main findings to missing-data and WAI-version controls.",
        paper_rows,
        paper_columns,
        paper_ids,
        full_rows,
        full_columns,
        full_ids,
        notes,
    )


def _frame(
    table_id: str,
    title: str,
    paper_rows: list[dict[str, str]],
    paper_columns: list[str],
    paper_ids: list[str],
    full_rows: list[dict[str, str]],
    full_columns: list[str],
    full_ids: list[str],
    notes: tuple[str, ...],
) -> TableFrame:
    text_columns = {
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

    def layout(kind: str, rows: list[dict[str, str]], columns: list[str], ids: list[str]) -> TableLayout:
        frame = pd.DataFrame(rows, columns=columns).fillna("")
        return TableLayout(
            table_id=table_id,
            layout=kind,  # type: ignore[arg-type]
            number=NUMBERS[table_id],
            title=title if kind == "paper" else f"{title} All estimates.",
            frame=frame.reset_index(drop=True),
            align=tuple("l" if c in text_columns else "r" for c in columns),
            notes=notes,
            model_ids=tuple(ids),
        )

    return TableFrame(
        table_id=table_id,
        paper=layout("paper", paper_rows, paper_columns, paper_ids),
        full=layout("full", full_rows, full_columns, full_ids),
    )


def _model_label(spec: ModelSpec) -> str:
    base = spec.outcome.split("_")[0].capitalize()
    if spec.predictor_term is None:
        return f"{base}: growth"
    return f"{base}: {spec.predictor_term}"


def _estimate_cell(row: Mapping[str, Any] | None, alpha: float) -> str:
    if row is None:
        return ""
    return format_estimate(row.get("estimate"), row.get("std_error"), row.get("p_value"), alpha=alpha, ns=False)


def pattern_mixture_table(
    catalogue: Catalogue,
    fits: pd.DataFrame,
    estimates: pd.DataFrame,
    pattern_averaged: pd.DataFrame,
    min_cell: int = 0,
) -> TableFrame:
    """Every model of the pattern-mixture variant: the control's effects and the pattern-averaged slopes."""
    alpha = catalogue.settings.alpha
    variant_id = catalogue.robustness.pattern_mixture_variant
    estimates_by_id = _by_model(estimates)
    averaged_by_id = _by_model(pattern_averaged)
    fit_by_id = {mid: rows[0] for mid, rows in _by_model(fits).items()}
    variant = next((v for v in catalogue.robustness.variants if v.id == variant_id), None)
    centred = [c.name for c in variant.controls if c.centre] if variant else []
    model_order = [m.id for m in catalogue.models]
    finding_order = [f.model for f in catalogue.robustness.findings]
    pairs = sorted(
        {(base, model) for (base, v), model in catalogue.variant_models.items() if v == variant_id and model},
        # the growth models first, then the findings in their order
        key=lambda pair: (
            pair[0] in finding_order,
            finding_order.index(pair[0]) if pair[0] in finding_order else model_order.index(pair[0]),
        ),
    )
    paper_rows, full_rows, paper_ids, full_ids = [], [], [], []
    for base_id, model_id in pairs:
        spec = catalogue.model(model_id)
        base = catalogue.model(base_id)
        averaged = {(r["effect"], r["group"]): r for r in averaged_by_id.get(model_id, [])}
        predictor = spec.predictor_term
        findings = [f for f in catalogue.robustness.findings if f.model == base_id]
        label = findings[0].label if findings else _model_label(base)
        converged = _truthy(fit_by_id.get(model_id, {}).get("converged"))
        for effect in dict.fromkeys(f.effect for f in findings) if findings else ("slope",):
            prefix = "time" if effect == "slope" else "Intercept"
            term = prefix if predictor is None else (f"time:{predictor}" if effect == "slope" else str(predictor))
            group = "all" if predictor is None else f"{predictor}=1 - {predictor}=0"
            for control in centred:
                paper_rows.append(
                    {
                        "Model": label,
                        "Effect": effect if predictor is None else f"{effect} difference",
                        "Uncontrolled": _estimate_cell(_term_row(estimates_by_id, base_id, term), alpha),
                        "Controlled": _estimate_cell(_term_row(estimates_by_id, model_id, term), alpha)
                        + ("" if converged else DAGGER),
                        "Pattern-averaged": _estimate_cell(averaged.get((effect, group)), alpha),
                        "Assessments on intercept": _estimate_cell(
                            _term_row(estimates_by_id, model_id, control), alpha
                        ),
                        "Assessments on slope": _estimate_cell(
                            _term_row(estimates_by_id, model_id, f"time:{control}"), alpha
                        ),
                    }
                )
                paper_ids.append(model_id)
        for (effect, group), row in averaged.items():
            full_rows.append(
                {
                    "Model ID": model_id,
                    "Effect": effect,
                    "Group": group,
                    "Estimate": format_number(row["estimate"]),
                    "SE": format_number(row["std_error"]),
                    "Z": format_fixed(row["statistic"], 2),
                    "p": format_p(row["p_value"]),
                    "Patients": _patients(row["n_patients"], min_cell),
                }
            )
            full_ids.append(model_id)
    notes = (
        (
            "Pattern-mixture models (Hedeker & Gibbons, 1997): the number of WAI assessments, centred at the mean "
            "of each model's patients, and its interaction with time added to the model. Uncontrolled: the slope "
            "(or the predictor's slope difference) without the control; Controlled: the same term with it, at the "
            "mean number of assessments. Pattern-averaged: the slope (difference) averaged over each group's "
            "distribution of the number of assessments, with a delta-method SE that includes the uncertainty of "
            "that distribution (Z test). * p < .05, ** p < .01, *** p < .001."
        ),
        *disclosure_note(min_cell),
    )
    return _frame(
        "table_pattern_mixture",
        "Pattern-mixture control for the number of assessments.",
        paper_rows,
        [
            "Model",
            "Effect",
            "Uncontrolled",
            "Controlled",
            "Pattern-averaged",
            "Assessments on intercept",
            "Assessments on slope",
        ],
        paper_ids,
        full_rows,
        ["Model ID", "Effect", "Group", "Estimate", "SE", "Z", "p", "Patients"],
        full_ids,
        notes,
    )


def wai_version_table(
    catalogue: Catalogue,
    fits: pd.DataFrame,
    estimates: pd.DataFrame,
    likelihood_ratio_tests: pd.DataFrame,
    min_cell: int = 0,
) -> TableFrame:
    """Per subscale growth model and version control: slope variance explained, LR test, change in AIC.

    The change in AIC follows from the test on the same cases: AIC_controlled - AIC_uncontrolled =
    -chi2 + 2 df. Common items (another outcome, not nested) report the slope under each scoring.
    """
    alpha = catalogue.settings.alpha
    fit_by_id = {mid: rows[0] for mid, rows in _by_model(fits).items()}
    estimates_by_id = _by_model(estimates)
    tests = {(str(r["model_id"]), str(r["versus_model_id"])): r for r in likelihood_ratio_tests.to_dict("records")}
    growth_models = [
        m
        for m in catalogue.models
        if m.base is None
        and m.predictor is None
        and m.kind == "growth"
        and not m.subset
        and not m.controls
        and m.outcome in ("goals", "bonds", "tasks")
    ]
    paper_rows, full_rows, paper_ids, full_ids = [], [], [], []
    for variant_id in catalogue.robustness.version_variants:
        variant = next(v for v in catalogue.robustness.variants if v.id == variant_id)
        for growth in growth_models:
            model_id = variant_model_id(catalogue, growth.id, variant_id)
            if model_id is None or model_id == growth.id:
                continue
            fit = fit_by_id.get(model_id, {})
            test = tests.get((model_id, growth.id), {})
            chi2, df = _float(test.get("chi2")), _float(test.get("df"))
            delta_aic = -chi2 + 2 * df if not math.isnan(chi2) else math.nan
            control_terms = [r for r in estimates_by_id.get(model_id, []) if r["term"] not in ("Intercept", "time")]
            paper_rows.append(
                {
                    "Control": variant.label,
                    "Subscale": growth.outcome.capitalize(),
                    "Slope (SE), uncontrolled": _estimate_cell(_term_row(estimates_by_id, growth.id, "time"), alpha),
                    "Slope (SE), controlled": _estimate_cell(_term_row(estimates_by_id, model_id, "time"), alpha)
                    + ("" if _truthy(fit.get("converged")) else DAGGER),
                    "Slope variance explained %": format_fixed(fit.get("explained_slope_pct"), 0),
                    "LR chi2 (df)": f"{format_fixed(chi2, 2)} ({format_integer(df)})" if not math.isnan(chi2) else "",
                    "p": format_p(test.get("p_value")),
                    "Change in AIC": format_fixed(delta_aic, 1),
                }
            )
            paper_ids.append(model_id)
            for row in control_terms:
                full_rows.append(
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
                        "Patients": _patients(fit.get("n_patients"), min_cell),
                    }
                )
                full_ids.append(model_id)
    notes = (
        (
            "Each subscale's unconditional growth model with a WAI-version control added. Slope variance "
            "explained: 100 x (slope variance without - with the control) / without, on the same patients. LR: "
            "likelihood-ratio test of the model with the control against the growth model without it (ML); change "
            "in AIC = AIC with - AIC without (negative: the control improves the fit). Common items: subscales "
            "re-scored from the items worded identically in both versions (a different outcome, so no test). "
            "* p < .05, ** p < .01, *** p < .001."
        ),
        *disclosure_note(min_cell),
    )
    return _frame(
        "table_wai_version",
        "WAI version controls of the subscale growth models.",
        paper_rows,
        [
            "Control",
            "Subscale",
            "Slope (SE), uncontrolled",
            "Slope (SE), controlled",
            "Slope variance explained %",
            "LR chi2 (df)",
            "p",
            "Change in AIC",
        ],
        paper_ids,
        full_rows,
        ["Control", "Subscale", "Model ID", "Term", "Estimate", "SE", "df", "t", "p", "Patients"],
        full_ids,
        notes,
    )


def write_robustness_tables(models_dir: Path, catalogue: Catalogue, tables_dir: Path, min_cell: int = 0) -> list[Path]:
    models_dir = Path(models_dir)
    fits = pd.read_csv(models_dir / "fits.csv")
    estimates = pd.read_csv(models_dir / "estimates.csv")
    tests = pd.read_csv(models_dir / "likelihood_ratio_tests.csv")
    averaged = pd.read_csv(models_dir / "pattern_averaged.csv")
    written: list[Path] = []
    for table in (
        robustness_table(catalogue, fits, estimates, min_cell),
        pattern_mixture_table(catalogue, fits, estimates, averaged, min_cell),
        wai_version_table(catalogue, fits, estimates, tests, min_cell),
    ):
        written += write_table(table, Path(tables_dir) / table.table_id)
    return written
