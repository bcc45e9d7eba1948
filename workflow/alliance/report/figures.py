"""Figures 1 and 2 of Folmo et al. (2020) from the model records and the clean WAI data.

* **Figure 1** (:func:`figure_1`): Goals, Bonds and Tasks in the good and poor GAF outcome subgroups. The lines
  are the model-implied mean trajectories of the models ``<subscale>_poor_outcome`` (fixed effects only,
  poor_outcome = 0 and 1) over 0-36 months with 95 % confidence bands; the points are the observed means per
  nominal wave with 95 % t confidence intervals; a strip under each panel gives the number of ratings per wave
  and subgroup.
* **Figure 2** (:func:`figure_2`): Tasks in the four cells outcome subgroup x comorbid paranoid PD. The catalogue
  holds one moderator model per cell (``tasks_{poor,good}_outcome_paranoid{1,0}``); each contrasts its cell
  (indicator ``<group>_outcome[paranoid_pd=k]`` = 1) with all other patients. Each line is the model-implied
  trajectory *of that cell* from *its own* model (indicator = 1), so every line is a fitted quantity of a
  reported model; the four lines do not come from one joint model and the bands are not comparable contrasts.

Confidence bands of the model lines are ``x'b +/- t(0.975, df) * sqrt(x' V x)`` with ``V`` the fixed-effects
covariance in the record (``fit.fixed_covariance``) and ``df`` the smallest Satterthwaite df among the terms that
enter the prediction (conservative; normal quantile if no df is recorded).

Disclosure control: the figures show aggregates only. A wave x group cell with fewer than ``min_cell`` ratings
is printed as ``<min_cell`` in the count strip and its observed mean is not drawn.

The figure functions are pure: they read no files, do not touch pyplot's global state (``matplotlib.figure
.Figure`` is used directly, with the style in a local ``rc_context``) and return the Figure. :func:`save_figure`
writes PNG (300 dpi), SVG and PDF to the files the rule declares, with dates and version strings dropped so
repeated runs give identical bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType
from scipy import stats

from alliance import layout

CM = 1 / 2.54
SUBSCALES = ("goals", "bonds", "tasks")
SATISFACTORY = 4.0
MONTHS = np.linspace(0.0, 36.0, 73)
WAVES = (3, 9, 15, 21, 27, 33)
STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "lines.linewidth": 1.2,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}
SAVE_RC: dict[RcKeyType, Any] = {"svg.hashsalt": "alliance-figures", "svg.id": None}
METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}


@dataclass(frozen=True)
class Group:
    """One plotted subgroup: its label, how to select its patients and how to draw it (grayscale-safe)."""

    key: str
    label: str
    outcome_group: str
    paranoid_pd: int | None
    linestyle: str  # a named style, so that get_linestyle() tells the groups apart
    marker: str
    filled: bool
    shade: str  # gray level of the line and points


FIGURE_1_GROUPS = (
    Group("good", "Good outcome", "good", None, "-", "o", True, "0.0"),
    Group("poor", "Poor outcome", "poor", None, "--", "o", False, "0.35"),
)
FIGURE_2_GROUPS = (
    Group("good_pd0", "Good outcome, no paranoid PD", "good", 0, "-", "o", True, "0.0"),
    Group("good_pd1", "Good outcome, paranoid PD", "good", 1, "-.", "s", True, "0.3"),
    Group("poor_pd0", "Poor outcome, no paranoid PD", "poor", 0, "--", "o", False, "0.0"),
    Group("poor_pd1", "Poor outcome, paranoid PD", "poor", 1, ":", "s", False, "0.3"),
)
FIGURE_2_MODELS = {
    "good_pd0": ("tasks_good_outcome_paranoid0", "good_outcome[paranoid_pd=0]"),
    "good_pd1": ("tasks_good_outcome_paranoid1", "good_outcome[paranoid_pd=1]"),
    "poor_pd0": ("tasks_poor_outcome_paranoid0", "poor_outcome[paranoid_pd=0]"),
    "poor_pd1": ("tasks_poor_outcome_paranoid1", "poor_outcome[paranoid_pd=1]"),
}


# --------------------------------------------------------------------------------------------------
# Model-implied trajectories
# --------------------------------------------------------------------------------------------------


def _fixed_effects(record: Mapping[str, Any]) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, float]]:
    fit = record.get("fit", record)
    fixed = fit["fixed"]
    terms = [str(row["term"]) for row in fixed]
    beta = np.array([float(row["estimate"]) for row in fixed])
    dfs = {str(row["term"]): float(row.get("df") or math.nan) for row in fixed}
    covariance = fit.get("fixed_covariance")
    if covariance is None:
        raise KeyError(f"model record {record.get('model_id', '?')} has no fit.fixed_covariance")
    order = [list(covariance["terms"]).index(term) for term in terms]
    matrix = np.asarray(covariance["matrix"], dtype=float)[np.ix_(order, order)]
    return terms, beta, matrix, dfs


def _design(terms: Sequence[str], covariates: Mapping[str, float], months: np.ndarray) -> np.ndarray:
    values = {**{name: np.full_like(months, float(value)) for name, value in covariates.items()}, "time": months}
    columns = []
    for term in terms:
        if term == "Intercept":
            columns.append(np.ones_like(months))
            continue
        column = np.ones_like(months)
        for factor in term.split(":"):
            if factor not in values:
                raise KeyError(f"no value for covariate '{factor}' (term '{term}')")
            column = column * values[factor]
        columns.append(column)
    return np.column_stack(columns)


def trajectory(
    fit_record: Mapping[str, Any], covariates: Mapping[str, float], months: np.ndarray, level: float = 0.95
) -> pd.DataFrame:
    """The model-implied mean ``x'b`` at ``months`` for fixed covariate values, with a ``level`` confidence band.

    ``covariates`` gives a value for every non-time factor of the fixed terms (``time`` is ``months``;
    interaction terms ``a:b`` are products). The band uses the fixed-effects covariance and a t quantile with
    the smallest df among the terms with a non-zero design column (normal quantile if no df is recorded).
    """
    months = np.asarray(months, dtype=float)
    terms, beta, covariance, dfs = _fixed_effects(fit_record)
    design = _design(terms, covariates, months)
    mean = design @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", design, covariance, design))
    used = [dfs[term] for j, term in enumerate(terms) if np.any(design[:, j] != 0) and math.isfinite(dfs[term])]
    tail = 0.5 + level / 2
    quantile = float(stats.t.ppf(tail, min(used))) if used else float(stats.norm.ppf(tail))
    return pd.DataFrame(
        {"month": months, "mean": mean, "ci_low": mean - quantile * se, "ci_high": mean + quantile * se}
    )


# --------------------------------------------------------------------------------------------------
# Observed aggregates
# --------------------------------------------------------------------------------------------------


def wave_summary(
    wai_long: pd.DataFrame, patients: pd.DataFrame, subscale: str, groups: Sequence[Group], min_cell: int = 5
) -> pd.DataFrame:
    """Observed mean, 95 % t CI and number of ratings per nominal wave and group (aggregates only).

    Cells with fewer than ``min_cell`` ratings keep their count (for the ``<min_cell`` label) but lose the mean
    and CI (``NaN``); ``suppressed`` marks them.
    """
    people = patients[["patient_id", "outcome_group", "paranoid_pd"]]
    data = wai_long[["patient_id", "wave", subscale]].merge(people, on="patient_id", how="inner")
    data = data.dropna(subset=[subscale, "wave"])
    rows = []
    for group in groups:
        chosen = data["outcome_group"] == group.outcome_group
        if group.paranoid_pd is not None:
            chosen &= data["paranoid_pd"] == group.paranoid_pd
        subset = data.loc[chosen]
        waves = sorted(set(WAVES) | {int(w) for w in subset["wave"].unique()})
        for wave in waves:
            values = subset.loc[subset["wave"] == wave, subscale].to_numpy(dtype=float)
            n = len(values)
            suppressed = n < min_cell or n == 0
            mean = half = math.nan
            if not suppressed:
                mean = float(values.mean())
                half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            rows.append(
                {
                    "group": group.key,
                    "wave": wave,
                    "n": n,
                    "mean": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "suppressed": suppressed,
                }
            )
    return pd.DataFrame(rows, columns=["group", "wave", "n", "mean", "ci_low", "ci_high", "suppressed"])


def count_label(n: int, min_cell: int) -> str:
    """The printed number of ratings: ``<min_cell`` for small non-empty cells (disclosure control)."""
    if 0 < n < min_cell:
        return f"<{min_cell}"
    return str(n)


# --------------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------------


def model_line(record: Mapping[str, Any], covariates: Mapping[str, float]) -> pd.DataFrame | None:
    """The model-implied trajectory, or None for a model that has no fit (it failed: a group with no
    patients, a predictor with one level), which the figure then says instead of drawing."""
    fit = record.get("fit", record)
    if "fixed" not in fit:
        return None
    return trajectory(record, covariates, MONTHS)


def _no_model(ax: Axes, group: Group) -> None:
    """A line of text in the panel instead of a trajectory that could not be estimated."""
    shown = sum(1 for text in ax.texts if text.get_gid() == "no-model")
    ax.text(
        0.02,
        0.03 + 0.06 * shown,
        f"{group.label}: model not estimable (no line)",
        transform=ax.transAxes,
        fontsize=5.5,
        color=group.shade,
        gid="no-model",
    )


def _draw_group(
    ax: Axes, group: Group, line: pd.DataFrame | None, observed: pd.DataFrame, offset: float, band_alpha: float
) -> None:
    if line is None:
        _no_model(ax, group)
    elif band_alpha > 0:
        ax.fill_between(
            line["month"], line["ci_low"], line["ci_high"], color=group.shade, alpha=band_alpha, linewidth=0, zorder=1
        )
    if line is not None:
        ax.plot(
            line["month"],
            line["mean"],
            color=group.shade,
            linestyle=group.linestyle,
            label=f"{group.label} (model)",
            gid=f"model-{group.key}",
            zorder=3,
        )
    shown = observed.loc[~observed["suppressed"]]
    half = (shown["ci_high"] - shown["ci_low"]).to_numpy() / 2
    ax.errorbar(
        shown["wave"].to_numpy(dtype=float) + offset,
        shown["mean"],
        yerr=half,
        fmt=group.marker,
        markersize=4,
        markerfacecolor=group.shade if group.filled else "white",
        markeredgecolor=group.shade,
        markeredgewidth=0.8,
        ecolor=group.shade,
        elinewidth=0.7,
        capsize=1.5,
        linestyle="none",
        label=f"{group.label} (observed mean, 95 % CI)",
        gid=f"observed-{group.key}",
        zorder=4,
    )


def _count_strip(ax: Axes, groups: Sequence[Group], observed: pd.DataFrame, min_cell: int, labels: bool) -> None:
    ax.set_ylim(len(groups) - 0.5, -0.5)
    ax.axis("off")
    for row, group in enumerate(groups):
        cells = observed.loc[observed["group"] == group.key]
        for wave, n in zip(cells["wave"], cells["n"], strict=True):
            ax.text(
                float(wave), row, count_label(int(n), min_cell), ha="center", va="center", fontsize=6.5, gid="count"
            )
        if labels:
            ax.text(-1.0, row, _short(group), ha="right", va="center", fontsize=6.5, style="italic")


def _short(group: Group) -> str:
    text = "Good" if group.outcome_group == "good" else "Poor"
    if group.paranoid_pd is not None:
        text += ", PPD" if group.paranoid_pd else ", no PPD"
    return text


def _format_axes(ax: Axes, ylim: tuple[float, float]) -> None:
    ax.axhline(SATISFACTORY, color="0.45", linestyle=(0, (4, 2)), linewidth=0.7, zorder=0)
    ax.set_xlim(-1, 37)
    ax.set_xticks(range(0, 37, 6))
    ax.set_ylim(*ylim)
    ax.set_xlabel("Months in treatment")


def _panel_grid(fig: Figure, columns: int, rows_in_strip: int) -> tuple[list[Axes], list[Axes]]:
    grid = fig.add_gridspec(2, columns, height_ratios=[5.0, 0.32 * rows_in_strip + 0.1], hspace=0.0, wspace=0.08)
    main = [fig.add_subplot(grid[0, j]) for j in range(columns)]
    for ax in main[1:]:
        ax.sharey(main[0])
    strips = [fig.add_subplot(grid[1, j], sharex=main[j]) for j in range(columns)]
    return main, strips


def figure_1(
    records: Mapping[str, Mapping[str, Any]],
    wai_long: pd.DataFrame,
    patients: pd.DataFrame,
    min_cell: int = 5,
    ylim: tuple[float, float] = (3.0, 7.0),
) -> Figure:
    """Goals, Bonds and Tasks by GAF outcome subgroup (Folmo et al. 2020, Figure 1); see the module docstring."""
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(17 * CM, 8.2 * CM), layout="constrained")
        main, strips = _panel_grid(fig, len(SUBSCALES), len(FIGURE_1_GROUPS))
        for j, subscale in enumerate(SUBSCALES):
            ax, strip = main[j], strips[j]
            record = records[f"{subscale}_poor_outcome"]
            observed = wave_summary(wai_long, patients, subscale, FIGURE_1_GROUPS, min_cell)
            for k, group in enumerate(FIGURE_1_GROUPS):
                line = model_line(record, {"poor_outcome": float(group.outcome_group == "poor")})
                _draw_group(ax, group, line, observed.loc[observed["group"] == group.key], (k - 0.5) * 0.8, 0.15)
            _format_axes(ax, ylim)
            ax.set_title(subscale.capitalize(), loc="left", fontweight="bold")
            if j == 0:
                ax.set_ylabel("WAI-S/SR mean rating (1-7)")
            else:
                ax.tick_params(labelleft=False)
            _count_strip(strip, FIGURE_1_GROUPS, observed, min_cell, labels=j == 0)
            if j == 0:
                strip.set_title("Ratings per wave", loc="left", fontsize=6.5, pad=1)
        handles, labels = main[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=2, frameon=False, fontsize=7)
    return fig


def figure_2(
    records: Mapping[str, Mapping[str, Any]],
    wai_long: pd.DataFrame,
    patients: pd.DataFrame,
    min_cell: int = 5,
    ylim: tuple[float, float] = (2.0, 7.0),
    bands: bool = False,
) -> Figure:
    """Tasks by outcome subgroup x paranoid PD (Folmo et al. 2020, Figure 2); see the module docstring.

    Each line is the cell's trajectory from its own moderator model ``tasks_<group>_outcome_paranoid<k>`` at
    indicator = 1; points are observed wave means of the cell (suppressed below ``min_cell`` ratings). The
    95 % bands are off by default (``bands``): four overlapping bands, one very wide for the small poor-outcome
    paranoid-PD cell, make the figure unreadable, and the bands of different models are not contrasts anyway.
    """
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(12 * CM, 10 * CM), layout="constrained")
        main, strips = _panel_grid(fig, 1, len(FIGURE_2_GROUPS))
        ax, strip = main[0], strips[0]
        observed = wave_summary(wai_long, patients, "tasks", FIGURE_2_GROUPS, min_cell)
        for k, group in enumerate(FIGURE_2_GROUPS):
            model_id, term = FIGURE_2_MODELS[group.key]
            line = model_line(records[model_id], {term: 1.0})
            offset = (k - 1.5) * 0.6
            _draw_group(ax, group, line, observed.loc[observed["group"] == group.key], offset, 0.1 if bands else 0.0)
        _format_axes(ax, ylim)
        ax.set_title("Tasks", loc="left", fontweight="bold")
        ax.set_ylabel("WAI-S/SR mean rating (1-7)")
        _count_strip(strip, FIGURE_2_GROUPS, observed, min_cell, labels=True)
        strip.set_title("Ratings per wave", loc="left", fontsize=6.5, pad=1)
        handles, labels = ax.get_legend_handles_labels()
        order = [i for i, text in enumerate(labels) if text.endswith("(model)")]
        fig.legend(
            [handles[i] for i in order],
            [labels[i].replace(" (model)", "") for i in order],
            loc="outside upper center",
            ncols=2,
            frameon=False,
            fontsize=7,
            title=(
                "Lines: model-implied mean, each from its own moderator model"
                + (" (95 % CI band)" if bands else "")
                + "; points: observed mean, 95 % CI"
            ),
            title_fontsize=6.5,
        )
    return fig


# --------------------------------------------------------------------------------------------------
# Input and output
# --------------------------------------------------------------------------------------------------


def save_figure(fig: Figure, figure: str, files: Mapping[str, Path]) -> list[Path]:
    """Write ``figure``.png (300 dpi), .svg and .pdf, each to its declared path in ``files`` (by file name),
    without dates or version strings (byte-identical reruns)."""
    targets = [(layout.declared(files, name), name.rsplit(".", 1)[1]) for name in layout.figure_files([figure])]
    with mpl.rc_context(SAVE_RC):
        for path, suffix in targets:
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, format=suffix, dpi=300, metadata=METADATA[suffix])
    return [path for path, _ in targets]


def load_records(paths: Sequence[str | Path], model_ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """The model records of the fitting jobs' files (``models/fits/<outcome>.json``: a list of records
    each), all of them or the ones named; a named model that no file holds is an error."""
    records: dict[str, dict[str, Any]] = {}
    for path in paths:
        for record in json.loads(Path(path).read_text(encoding="utf-8")):
            records[record["model_id"]] = record
    if model_ids is None:
        return records
    missing = [m for m in model_ids if m not in records]
    if missing:
        raise KeyError(f"no model record for {', '.join(missing)} in {', '.join(str(p) for p in paths)}")
    return {m: records[m] for m in model_ids}


FIGURE_1_MODELS = tuple(f"{s}_poor_outcome" for s in SUBSCALES)


def write_figures(
    record_files: Sequence[str | Path],
    wai_long: str | Path,
    patients: str | Path,
    files: Mapping[str, Path],
    min_cell: int = 5,
) -> list[Path]:
    """Build both figures from the model records and the clean ``wai_long.csv`` and ``patients.csv``, and
    save them to the declared ``files`` (``figure_1.*``, ``figure_2.*``, by file name)."""
    records = load_records(record_files, [*FIGURE_1_MODELS, *(m for m, _ in FIGURE_2_MODELS.values())])
    wai = pd.read_csv(wai_long)
    people = pd.read_csv(patients, dtype={"outcome_group": "string"})
    written = save_figure(figure_1(records, wai, people, min_cell), "figure_1", files)
    written += save_figure(figure_2(records, wai, people, min_cell), "figure_2", files)
    return written
