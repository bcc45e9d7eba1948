"""The main findings across cohorts as a reader sees them (docs/comparison.md), from the statistics of
:mod:`alliance.stats.comparison`: ``estimates.csv``, ``meta_analysis.csv``, ``pooled_models.csv`` and a
forest plot per finding (``forest_<finding>.{png,svg,pdf}``) in ``results/comparison/``.

* A forest plot: each cohort's estimate (a square) and 95 % CI (a line), the random-effects pooled
  estimate and CI as a diamond below them, and a dashed vertical line at 0; black and grey only, so that
  it reads in grayscale. Written like Figures 1 and 2 (``alliance.report.figures.save_figure``: no dates or
  versions, identical bytes on every run).
* :func:`comparison_context`: the comparison's numbers for the manuscript, each a sourced
  ``alliance.report.manuscript.provenance.Num``, so that a multi-site paragraph can be templated.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from alliance import layout
from alliance.data.pipeline import write_csv
from alliance.report.figures import CM, STYLE, save_figure
from alliance.report.formatting import format_integer, format_number
from alliance.report.manuscript.provenance import Num, csv_key, read_text_csv, source_label
from alliance.stats.catalogue import Catalogue, Finding
from alliance.stats.comparison import (
    ESTIMATE_COLUMNS,
    META_COLUMNS,
    POOLED_COLUMNS,
    collect_estimates,
    meta_analysis,
    pooled_models,
    read_cohort_clean,
    read_model_tables,
)

ESTIMATES, META, POOLED = (f"{name}.csv" for name in layout.COMPARISON_TABLES)
POOLED_LABEL = "Random effects (DL)"


# --------------------------------------------------------------------------------------------------
# The forest plot
# --------------------------------------------------------------------------------------------------


def interval_text(estimate: float, low: float, high: float) -> str:
    """ "-0.125 [-0.250, -0.010]"; "" when the estimate does not exist."""
    if not math.isfinite(float(estimate)):
        return ""
    return f"{format_number(estimate, 3)} [{format_number(low, 3)}, {format_number(high, 3)}]"


def _cohort_rows(ax: Axes, rows: pd.DataFrame) -> None:
    """Each cohort's square and CI line, from the top (y = number of cohorts) down to y = 1."""
    for index, row in enumerate(rows.itertuples(index=False)):
        y = len(rows) - index
        ax.plot([row.ci_low, row.ci_high], [y, y], color="0.0", linewidth=1.0, gid=f"ci-{row.cohort}")
        ax.plot([row.estimate], [y], marker="s", markersize=5, color="0.0", linestyle="none")


def _pooled_diamond(ax: Axes, meta: Mapping[str, Any]) -> None:
    estimate, low, high = (float(meta[c]) for c in ("estimate", "ci_low", "ci_high"))
    if not all(map(math.isfinite, (estimate, low, high))):
        ax.text(
            0.5,
            0.0,
            str(meta.get("note") or "not pooled"),
            ha="center",
            va="center",
            fontsize=6.5,
            transform=ax.get_yaxis_transform(),
        )
        return
    xs, ys = [low, estimate, high, estimate, low], [0.0, 0.25, 0.0, -0.25, 0.0]
    ax.fill(xs, ys, facecolor="0.6", edgecolor="0.0", linewidth=0.8, gid="pooled")


def forest_figure(finding: Finding, rows: pd.DataFrame, meta: Mapping[str, Any]) -> Figure:
    """The forest plot of one finding: ``rows`` its rows of estimates.csv, ``meta`` its meta-analysis row."""
    labels = [f"{row.cohort} (n = {format_integer(row.n_patients)})" for row in rows.itertuples(index=False)]
    texts = [interval_text(r.estimate, r.ci_low, r.ci_high) for r in rows.itertuples(index=False)]
    texts.append(interval_text(*(float(meta[c]) for c in ("estimate", "ci_low", "ci_high"))))
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(14 * CM, (1.0 * (len(rows) + 1) + 2.6) * CM))
        fig.set_layout_engine("constrained")
        ax = fig.subplots()
        _cohort_rows(ax, rows)
        _pooled_diamond(ax, meta)
        ax.axvline(0.0, color="0.3", linestyle=(0, (4, 2)), linewidth=0.7, zorder=0)
        positions = [*range(len(rows), 0, -1), 0]
        ax.set_yticks(positions, [*labels, POOLED_LABEL])
        ax.set_ylim(-0.8, len(rows) + 0.8)
        right = ax.secondary_yaxis("right")
        right.set_yticks(positions, [text or "–" for text in texts])
        right.tick_params(length=0)
        right.spines["right"].set_visible(False)
        unit = "slope difference per month" if finding.effect == "slope" else "difference in initial level"
        ax.set_xlabel(f"Estimate, {unit} (95% CI)")
        ax.set_title(finding.label, loc="left", fontweight="bold", fontsize=8)
        pooled = [float(meta["ci_low"]), float(meta["ci_high"]), 0.0]
        values = np.concatenate([rows[["ci_low", "ci_high"]].to_numpy(float).ravel(), pooled])
        values = values[np.isfinite(values)]
        span = float(values.max() - values.min()) or 1.0
        ax.set_xlim(float(values.min()) - 0.08 * span, float(values.max()) + 0.08 * span)
    return fig


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def write_comparison(
    catalogue: Catalogue,
    models: Mapping[str, Mapping[str, str | Path]],
    clean: Mapping[str, Mapping[str, str | Path]],
    files: Mapping[str, Path],
    log: logging.Logger | None = None,
) -> list[Path]:
    """Every file of results/comparison/, each to its declared path in ``files`` (by name). ``models``: each
    cohort's fits and estimates (models/*.csv); ``clean``: its clean tables; the first cohort is the
    pooled model's reference."""
    estimates, notes = collect_estimates(catalogue, {c: read_model_tables(p) for c, p in models.items()}, log)
    findings = catalogue.robustness.findings
    meta = meta_analysis(estimates, findings)
    tables = {cohort: read_cohort_clean(paths, cohort) for cohort, paths in clean.items()}
    pooled = pooled_models(catalogue, estimates, tables)
    for row in pooled.itertuples(index=False):
        if log and row.note:
            log.info(f"{row.finding}: pooled model: {row.note}")
    written = [layout.declared(files, name) for name in (ESTIMATES, META, POOLED)]
    for frame, columns, path in zip(
        (estimates, meta, pooled), (ESTIMATE_COLUMNS, META_COLUMNS, POOLED_COLUMNS), written, strict=True
    ):
        write_csv(frame[columns], path)
    for finding, figure in zip(findings, layout.forest_figures(f.id for f in findings), strict=True):
        rows = estimates[estimates["finding"] == finding.id]
        meta_row = meta[meta["finding"] == finding.id].iloc[0].to_dict()
        written += save_figure(forest_figure(finding, rows, meta_row), figure, files)
    if log:
        log.info(
            f"{len(estimates)} estimates of {len(findings)} findings in {len(models)} cohorts; {len(notes)} absent"
        )
    return written


# --------------------------------------------------------------------------------------------------
# The manuscript's numbers
# --------------------------------------------------------------------------------------------------


def _nums(row: Mapping[str, str], file: str, selectors: Mapping[str, str], columns: Sequence[str]) -> dict:
    """Sourced numbers of a CSV row; an empty cell is a number that does not exist, with the row's note."""
    out = {}
    for column in columns:
        text = str(row.get(column, "")).strip()
        value = float(text) if text else math.nan
        why = "" if math.isfinite(value) else (str(row.get("note", "")).strip() or "not estimable")
        out[column] = Num(value, file, csv_key(selectors, column), reason=why)
    return out


META_NUMBERS = ("cohorts", "estimate", "std_error", "ci_low", "ci_high", "tau2", "i2", "q", "q_df", "q_p_value")
POOLED_NUMBERS = ("estimate", "std_error", "df", "p_value", "ci_low", "ci_high", "n_patients", "n_cohorts")
COHORT_NUMBERS = ("estimate", "std_error", "ci_low", "ci_high", "n_patients")


def comparison_context(
    meta_analysis_csv: str | Path, pooled_csv: str | Path, estimates_csv: str | Path
) -> dict[str, dict[str, Any]]:
    """Per finding id: ``meta`` (the meta-analysis: cohorts, estimate, std_error, ci_low, ci_high, tau2,
    i2, q, q_df, q_p_value, and ``method`` as text), ``pooled`` (the pooled model's term: estimate,
    std_error, df, p_value, ci_low, ci_high, n_patients, n_cohorts) and ``cohorts`` (cohort -> its
    estimate, std_error, ci_low, ci_high, n_patients), every number a sourced Num
    (``../comparison/<file>.csv`` and its row and column)."""
    # Relative to a cohort's results directory, as provenance names every file: results/comparison/ is beside it.
    files = {
        name: f"../{source_label(path)}"
        for name, path in (("meta", meta_analysis_csv), ("pooled", pooled_csv), ("estimates", estimates_csv))
    }
    context: dict[str, dict[str, Any]] = {}
    for row in read_text_csv(meta_analysis_csv).to_dict("records"):
        record = _nums(row, files["meta"], {"finding": row["finding"]}, META_NUMBERS)
        context[row["finding"]] = {"meta": record | {"method": row["method"]}, "pooled": {}, "cohorts": {}}
    for row in read_text_csv(pooled_csv).to_dict("records"):
        found = context.setdefault(row["finding"], {"meta": {}, "pooled": {}, "cohorts": {}})
        found["pooled"] = _nums(row, files["pooled"], {"finding": row["finding"]}, POOLED_NUMBERS)
    for row in read_text_csv(estimates_csv).to_dict("records"):
        found = context.setdefault(row["finding"], {"meta": {}, "pooled": {}, "cohorts": {}})
        selectors = {"cohort": row["cohort"], "finding": row["finding"]}
        found["cohorts"][row["cohort"]] = _nums(row, files["estimates"], selectors, COHORT_NUMBERS)
    return context
