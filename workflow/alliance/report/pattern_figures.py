"""Missing-data pattern figures: which WAI assessments exist per patient and nominal wave, by outcome subgroup.

* :func:`pattern_map`: a patient x wave map (black = a scored administration at that wave, white = none), one
  panel per outcome subgroup (good, poor; unclassified patients are omitted and a note says how many). Rows are
  sorted by the number of assessments (most first), then by the binary pattern read from the first wave on
  (present before absent), so equal patterns form blocks; each block is drawn once, as tall as its number of
  patients, so the figure has at most 2^waves blocks at 155 or 100,000 patients. No patient identifier is drawn.
* :func:`retention_curve`: the share (%) of each subgroup's patients with an assessment at each wave.

Disclosure control: a subgroup with fewer than ``min_cell`` patients gets no map (the panel says ``< N
patients``) and no line; a retention point whose numerator is 1..min_cell-1 is not drawn (NaN in the line).

Both functions are pure (no pyplot state; style in a local ``rc_context``) and return the Figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from alliance.report.figures import CM, STYLE, save_figure
from alliance.stats.missing_data import administered

GROUPS = (("good", "Good outcome", "-", True), ("poor", "Poor outcome", "--", False))


def presence_matrix(wai_long: pd.DataFrame, patients: pd.DataFrame, waves: Sequence[int]) -> pd.DataFrame:
    """Patients (all of ``patients``) x ``waves``: 1 where the patient has a scored administration, else 0."""
    rows = administered(wai_long)
    ids = pd.Index(patients["patient_id"].unique())
    # Positions, not a crosstab: pandas' crosstab aggregates each (patient, wave) cell in Python, minutes
    # at 100,000 patients.
    patient = ids.get_indexer(rows["patient_id"])
    wave = pd.Index([int(w) for w in waves]).get_indexer(rows["wave"])
    kept = (patient >= 0) & (wave >= 0)
    present = np.zeros((len(ids), len(waves)), dtype=int)
    present[patient[kept], wave[kept]] = 1
    return pd.DataFrame(present, index=ids, columns=[int(w) for w in waves])


def sort_patterns(matrix: pd.DataFrame) -> pd.DataFrame:
    """Rows by number of assessments (descending), then pattern from the first wave on (present first)."""
    keys = [(-int(row.sum()), tuple(-int(v) for v in row)) for row in matrix.to_numpy()]
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    return matrix.iloc[order]


def pattern_blocks(matrix: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a presence matrix in sort_patterns' order, and how many patients have each:
    the map draws one block per pattern (at most 2^waves of them), whatever the number of patients."""
    if matrix.empty:
        return np.zeros((0, matrix.shape[1])), np.zeros(0, int)
    counts = matrix.value_counts(sort=False)
    patterns = pd.DataFrame(list(counts.index), columns=matrix.columns)
    ordered = sort_patterns(patterns)
    return ordered.to_numpy(dtype=float), counts.to_numpy()[ordered.index.to_numpy()]


def _groups(patients: pd.DataFrame) -> tuple[dict[str, pd.Series], int]:
    outcome = patients["outcome_group"].fillna("").astype(str)
    members = {key: patients.loc[outcome == key, "patient_id"] for key, *_ in GROUPS}
    unclassified = int((~outcome.isin([key for key, *_ in GROUPS])).sum())
    return members, unclassified


def pattern_map(wai_long: pd.DataFrame, patients: pd.DataFrame, waves: Sequence[int], min_cell: int = 5) -> Figure:
    """Patient x wave presence map, one panel per outcome subgroup (see module docstring)."""
    present = presence_matrix(wai_long, patients, waves)
    members, unclassified = _groups(patients)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(16 * CM, 12 * CM), layout=ConstrainedLayoutEngine(rect=(0, 0.04, 1, 0.96)))
        axes = fig.subplots(1, len(GROUPS), squeeze=False)[0]
        for ax, (key, label, *_) in zip(axes, GROUPS, strict=True):
            ids = members[key]
            ax.set_title(f"{label} (n = {len(ids)})" if len(ids) >= min_cell else label)
            ax.set_xticks(range(len(waves)), [str(w) for w in waves])
            ax.set_xlabel("Nominal wave (months)")
            ax.set_yticks([])
            if len(ids) < min_cell:
                ax.set_xlim(-0.5, len(waves) - 0.5)
                ax.text(0.5, 0.5, f"< {min_cell} patients", transform=ax.transAxes, ha="center", va="center")
                continue
            patterns, counts = pattern_blocks(present.loc[ids.to_numpy()])
            # One block per pattern, as tall as its number of patients (row 0 at the top, as in a table).
            edges = np.concatenate([[0], np.cumsum(counts)])
            ax.pcolormesh(np.arange(len(waves) + 1) - 0.5, edges, patterns, cmap="gray_r", vmin=0, vmax=1)
            ax.set_ylim(edges[-1], 0)
            ax.set_ylabel("Patients (sorted by pattern)")
            for side in ("top", "right"):
                ax.spines[side].set_visible(True)
        note = "Black = WAI assessment present, white = absent."
        if unclassified:
            note += f" {unclassified} patient(s) without outcome classification omitted."
        fig.text(0.01, 0.0, note, fontsize=7, ha="left", va="bottom")
    return fig


def retention_table(
    wai_long: pd.DataFrame, patients: pd.DataFrame, waves: Sequence[int], min_cell: int = 5
) -> pd.DataFrame:
    """Per subgroup and wave: n patients, n with an assessment, share (%), NaN where suppressed."""
    present = presence_matrix(wai_long, patients, waves)
    members, _ = _groups(patients)
    rows = []
    for key, *_ in GROUPS:
        ids = members[key].to_numpy()
        n = len(ids)
        counts = present.loc[ids].sum(axis=0)
        for wave in waves:
            count = int(counts[int(wave)]) if n else 0
            suppressed = n < min_cell or 0 < count < min_cell
            share = math.nan if suppressed or n == 0 else 100.0 * count / n
            rows.append({"group": key, "wave": int(wave), "n": n, "count": count, "share": share})
    return pd.DataFrame(rows)


def retention_curve(wai_long: pd.DataFrame, patients: pd.DataFrame, waves: Sequence[int], min_cell: int = 5) -> Figure:
    """Share of each subgroup's patients with an assessment at each wave (see module docstring)."""
    table = retention_table(wai_long, patients, waves, min_cell)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(12 * CM, 8 * CM), layout="constrained")
        ax = fig.subplots()
        for key, label, linestyle, filled in GROUPS:
            part = table[table["group"] == key]
            n = int(part["n"].iloc[0]) if len(part) else 0
            shown = f"n = {n}" if n >= min_cell else f"< {min_cell} patients"
            ax.plot(
                part["wave"].to_numpy(dtype=float),
                part["share"].to_numpy(dtype=float),
                linestyle=linestyle,
                marker="o",
                color="0.0",
                markerfacecolor="0.0" if filled else "white",
                label=f"{label} ({shown})",
                clip_on=False,
            )
        ax.set_xticks(list(waves), [str(w) for w in waves])
        ax.set_xlabel("Nominal wave (months)")
        ax.set_ylabel("Patients with WAI assessment (%)")
        ax.set_ylim(0, 105)
        ax.legend(frameon=False, loc="lower left")
        note = f"Points resting on 1-{min_cell - 1} patients are not drawn." if min_cell > 1 else ""
        ax.set_title(note, fontsize=7, loc="left")
    return fig


def write_pattern_figures(
    wai_long: pd.DataFrame, patients: pd.DataFrame, waves: Sequence[int], files: Mapping[str, Path], min_cell: int = 5
) -> list[Path]:
    """Save ``missing_pattern_map.{png,svg,pdf}`` and ``missing_retention.{png,svg,pdf}`` to the declared
    ``files`` (by file name)."""
    written = save_figure(pattern_map(wai_long, patients, waves, min_cell), "missing_pattern_map", files)
    written += save_figure(retention_curve(wai_long, patients, waves, min_cell), "missing_retention", files)
    return written


__all__ = [
    "pattern_map",
    "presence_matrix",
    "retention_curve",
    "retention_table",
    "sort_patterns",
    "write_pattern_figures",
]
