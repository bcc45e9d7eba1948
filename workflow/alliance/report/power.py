"""The power analysis as a reader sees it (docs/power.md): ``power.csv``, the power curves
(``figure_power.{png,svg,pdf}``) and ``summary.md``, from the tables of the simulation jobs
(:mod:`alliance.stats.power`, one per finding).

* ``power.csv``: one row per finding and design, the columns of ``alliance.stats.power.POWER_COLUMNS``.
* The figure: one panel per finding, power against the number of patients, one line per schedule (waves x
  dropout, told apart by line style and marker as well as shade, so that it reads in grayscale) with a
  band of +/- 1.96 Monte Carlo SEs, and a line at the target power. Written like Figures 1 and 2
  (``alliance.report.figures.save_figure``: no dates or versions, identical bytes on every run).
* ``summary.md``: a sentence per finding, "About N patients give 80 % power to detect ...", for the design
  with the most waves and the least dropout, then what the other designs need; the smallest number of
  patients is interpolated linearly between the grid's points (``patients_for_power``) and rounded up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from alliance import layout
from alliance.data.pipeline import write_csv
from alliance.report.figures import CM, STYLE, save_figure
from alliance.report.formatting import format_integer, format_number
from alliance.stats.catalogue import Finding
from alliance.stats.power import FINDING_COLUMNS, POWER_COLUMNS, patients_for_power
from alliance.stats.power_design import dropout_text

TABLE, FIGURE, SUMMARY = layout.POWER_TABLE, layout.POWER_FIGURE, layout.POWER_SUMMARY
# One look per schedule (waves x dropout), in the order of the grid: style, marker, shade.
LOOKS = (("-", "o", "0.0"), ("--", "s", "0.45"), ("-.", "^", "0.0"), (":", "D", "0.45"), ("-", "v", "0.65"))
BAND = 1.96  # the Monte Carlo band: +/- BAND SEs
NOT_SIMULATED = "Not simulated: its model could not be fitted in this cohort (the reason is in the job's log)."


def read_finding_tables(paths: Sequence[str | Path], findings: Sequence[Finding]) -> pd.DataFrame:
    """The simulation jobs' tables, one per finding in the order of ``findings``, as one table."""
    if len(paths) != len(findings):
        raise ValueError(f"{len(paths)} power tables for {len(findings)} findings")
    frames = []
    for path, finding in zip(paths, findings, strict=True):
        frame = pd.read_csv(path)
        # An empty table: the finding was not simulated (its model was not fitted in this cohort).
        if list(frame.columns) != FINDING_COLUMNS or not set(frame["finding"]) <= {finding.id}:
            raise ValueError(f"{path} is not the power table of finding {finding.id}")
        frames += [frame] if len(frame) else []
    if not frames:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def schedules(rows: pd.DataFrame) -> list[tuple[int, float]]:
    """The (waves, dropout) schedules of a table: most waves first, then least dropout."""
    pairs = {(int(w), float(d)) for w, d in zip(rows["waves"], rows["dropout"], strict=True)}
    return sorted(pairs, key=lambda pair: (-pair[0], pair[1]))


def of_schedule(rows: pd.DataFrame, schedule: tuple[int, float]) -> pd.DataFrame:
    chosen = rows[(rows["waves"] == schedule[0]) & (rows["dropout"] == schedule[1])]
    return chosen.sort_values("n_patients")


# --------------------------------------------------------------------------------------------------
# The summary
# --------------------------------------------------------------------------------------------------


def percent(share: float) -> str:
    return f"{format_integer(100 * share)} %"


def alpha_text(alpha: float) -> str:
    """α as APA prints it: .05."""
    printed = format_number(alpha, 2)
    return printed[1:] if printed.startswith("0.") else printed


def effect_text(finding: Finding, effect: float, from_config: bool) -> str:
    size = format_number(effect, 3)
    what = f"a slope difference of {size} per month" if finding.effect == "slope" else f"a difference of {size}"
    what += " in the initial level" if finding.effect == "intercept" else ""
    return what + (", as set in power.effects" if from_config else ", as fitted")


def with_schedule(schedule: tuple[int, float]) -> str:
    return f"{schedule[0]} waves and {dropout_text(schedule[1])}"


def requirement(rows: pd.DataFrame, target: float) -> tuple[str, float, float]:
    """("reached", n needed), ("already", smallest n) or ("not reached", largest n), and the power there."""
    needed = patients_for_power(rows["n_patients"].tolist(), rows["power"].tolist(), target)
    first, last = rows.iloc[0], rows.iloc[-1]
    if needed is None:
        return "not reached", float(last["n_patients"]), float(last["power"])
    if float(first["power"]) >= target:
        return "already", float(first["n_patients"]), float(first["power"])
    return "reached", float(math.ceil(needed - 1e-9)), target


def main_sentence(rows: pd.DataFrame, finding: Finding, target: float, alpha: float, from_config: bool) -> str:
    """The finding's sentence for the design with the most waves and the least dropout."""
    schedule = schedules(rows)[0]
    kind, n, power = requirement(of_schedule(rows, schedule), target)
    start = {
        "reached": f"About {format_integer(n)} patients give {percent(target)} power",
        "already": f"Already {format_integer(n)} patients, the fewest simulated, give {percent(power)} power",
        "not reached": f"Even {format_integer(n)} patients give only {percent(power)} power",
    }[kind]
    replicates = format_integer(rows["replicates"].iloc[0])
    return (
        f"{start} to detect {finding.text} ({effect_text(finding, float(rows['effect'].iloc[0]), from_config)}; "
        f"{schedule[0]} waves, {dropout_text(schedule[1])}; α = {alpha_text(alpha)}, {replicates} simulated "
        "cohorts per design)."
    )


def other_designs(rows: pd.DataFrame, target: float) -> str:
    """What the other schedules need: "With 3 waves and no dropout about 330 patients; ..."."""
    parts = []
    for schedule in schedules(rows)[1:]:
        kind, n, power = requirement(of_schedule(rows, schedule), target)
        parts.append(
            {
                "reached": f"with {with_schedule(schedule)} about {format_integer(n)} patients",
                "already": f"with {with_schedule(schedule)} already {format_integer(n)} patients ({percent(power)})",
                "not reached": f"with {with_schedule(schedule)} even {format_integer(n)} give only {percent(power)}",
            }[kind]
        )
    return ("Other designs: " + "; ".join(parts) + ".") if parts else ""


def fit_note(rows: pd.DataFrame) -> str:
    """The replicates whose fit failed (counted as not rejecting) or did not converge, when there are any."""
    total = int(rows["replicates"].sum())
    failed, unconverged = int(rows["failed"].sum()), int(rows["not_converged"].sum())
    notes = []
    if failed:
        notes.append(f"{failed:,} of {total:,} simulated fits failed (counted as not rejecting)")
    if unconverged:
        notes.append(f"{unconverged:,} of {total:,} did not converge (their test is used)")
    return ("; ".join(notes) + "; see the jobs' logs.") if notes else ""


def summary_text(
    table: pd.DataFrame, findings: Sequence[Finding], target: float, alpha: float, from_config: Sequence[str] = ()
) -> str:
    """summary.md: a paragraph per finding; ``from_config`` names the findings whose effect is power.effects'."""
    lines = [
        "# Power of the main findings",
        "",
        (
            "Cohorts simulated from each finding's fitted model (docs/power.md). Power is the share of simulated "
            "cohorts in which the finding's term is significant (two-sided Satterthwaite t test); the number of "
            f"patients that reaches {percent(target)} is interpolated between the simulated ones. Every design, "
            "with its Monte Carlo SE, is in power.csv; the curves are figure_power."
        ),
        "",
    ]
    for finding in findings:
        rows = table[table["finding"] == finding.id]
        if rows.empty:
            lines += [f"**{finding.label}.** {NOT_SIMULATED}", ""]
            continue
        sentences = [main_sentence(rows, finding, target, alpha, finding.id in from_config)]
        sentences += [text for text in (other_designs(rows, target), fit_note(rows)) if text]
        lines += [f"**{finding.label}.** " + " ".join(sentences), ""]
    if not findings:
        lines += ["No findings are configured (power.findings of the config).", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# The figure
# --------------------------------------------------------------------------------------------------


def _power_panel(ax: Axes, rows: pd.DataFrame, all_schedules: Sequence[tuple[int, float]], target: float) -> None:
    """Power against patients, a line and a Monte Carlo band per schedule, and the target line."""
    for index, schedule in enumerate(all_schedules):
        line = of_schedule(rows, schedule)
        if line.empty:
            continue
        style, marker, shade = LOOKS[index % len(LOOKS)]
        n = line["n_patients"].to_numpy(float)
        power, se = line["power"].to_numpy(float), line["mc_se"].to_numpy(float)
        low, high = np.clip(power - BAND * se, 0, 1), np.clip(power + BAND * se, 0, 1)
        ax.fill_between(n, low, high, color=shade, alpha=0.12, linewidth=0, zorder=1)
        ax.plot(
            n,
            power,
            color=shade,
            linestyle=style,
            marker=marker,
            markersize=3.5,
            markerfacecolor="white" if index % 2 else shade,
            label=f"{schedule[0]} waves, {dropout_text(schedule[1])}",
            gid=f"power-{schedule[0]}-{schedule[1]:g}",
            zorder=3,
        )
    ax.axhline(target, color="0.3", linestyle=(0, (4, 2)), linewidth=0.7, zorder=0)
    ax.set_ylim(0, 1.02)
    ax.set_yticks(np.linspace(0, 1, 6), [format_integer(100 * v) for v in np.linspace(0, 1, 6)])
    ax.set_xticks(sorted({int(v) for v in rows["n_patients"]}))
    ax.grid(axis="y", color="0.9", linewidth=0.5)


def _effect_label(rows: pd.DataFrame, finding: Finding, from_config: bool) -> str:
    size = format_number(float(rows["effect"].iloc[0]), 3)
    text = f"Simulated effect {size}" + (" per month" if finding.effect == "slope" else "")
    return text + (" (power.effects)" if from_config else " (fitted)")


def _finding_panel(
    ax: Axes, rows: pd.DataFrame, finding: Finding, from_config: bool, looks: Sequence[tuple[int, float]], target: float
) -> None:
    """One finding's panel; ``looks``: every schedule of the figure, so that each keeps its look in every panel."""
    ax.set_title(finding.label, loc="left", fontweight="bold", fontsize=7.5, pad=10)
    ax.set_xlabel("Patients")
    if rows.empty:
        ax.text(0.5, 0.5, "Not simulated: the model\ncould not be fitted", ha="center", transform=ax.transAxes)
        return
    _power_panel(ax, rows, looks, target)
    label = _effect_label(rows, finding, from_config)
    ax.text(0.0, 1.01, label, transform=ax.transAxes, fontsize=6.5, va="bottom")


def power_figure(
    table: pd.DataFrame, findings: Sequence[Finding], target: float, from_config: Sequence[str] = ()
) -> Figure:
    """Power curves, one panel per finding (see the module docstring); a pure function of the table."""
    columns = 1 if len(findings) <= 1 else 2
    rows_of_panels = max(1, math.ceil(len(findings) / columns))
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(17 * CM if columns == 2 else 10 * CM, (5.6 * rows_of_panels + 1.6) * CM))
        fig.set_layout_engine("constrained")
        axes = fig.subplots(rows_of_panels, columns, squeeze=False, sharey=True).ravel()
        for ax, finding in zip(axes, findings, strict=False):
            rows = table[table["finding"] == finding.id]
            _finding_panel(ax, rows, finding, finding.id in from_config, schedules(table), target)
        for ax in axes[::columns]:
            ax.set_ylabel("Power (%)")
        for ax in axes[len(findings) :]:
            ax.set_axis_off()
        if not findings:
            axes[0].text(0.5, 0.5, "No findings are configured (power.findings)", ha="center", va="center")
        # The legend of the panel with the most lines (every schedule, where each finding was simulated).
        handles, labels = max((ax.get_legend_handles_labels() for ax in axes), key=lambda pair: len(pair[0]))
        if handles:
            fig.legend(
                handles,
                labels,
                loc="outside upper center",
                ncols=min(len(handles), 4),
                frameon=False,
                title=f"Simulated power, band: ±{BAND} Monte Carlo SE; dashed line: {percent(target)}",
                title_fontsize=6.5,
            )
    return fig


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def write_power_report(
    finding_tables: Sequence[str | Path],
    findings: Sequence[Finding],
    target: float,
    alpha: float,
    files: Mapping[str, Path],
    from_config: Sequence[str] = (),
) -> list[Path]:
    """power.csv, figure_power.{png,svg,pdf} and summary.md, each to its declared path in ``files`` (by name)."""
    table = read_finding_tables(finding_tables, findings)
    written = [layout.declared(files, TABLE), layout.declared(files, SUMMARY)]
    write_csv(table[POWER_COLUMNS], written[0])
    written[1].write_text(summary_text(table, findings, target, alpha, from_config), encoding="utf-8")
    written += save_figure(power_figure(table, findings, target, from_config), FIGURE, files)
    return written
