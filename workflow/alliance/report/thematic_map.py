"""The thematic map of a qualitative study (figures/thematic_map.{png,svg,pdf}; the idea of Braun & Clarke, 2006,
as Pettersen et al.'s Figure 1): each theme in a shaded box on the left, joined to its subthemes on the right,
each subtheme with the participants who voiced it and its frequency label. Black, white and gray only, so that
it reads in grayscale; drawn from the study's ``table_prevalence.csv`` (the codebook's order and counts).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch

from alliance import layout
from alliance.report.figures import CM, STYLE, save_figure

THEME_X, THEME_WIDTH = 0.02, 0.30
SUB_X, SUB_WIDTH = 0.42, 0.56
SLOT_CM = 1.15  # height of one subtheme
GAP_SLOTS = 0.45  # between two themes


@dataclass(frozen=True)
class MapTheme:
    name: str
    participants: str
    subthemes: tuple[tuple[str, str, str], ...]  # (name, participants, label)


def read_map(prevalence_csv: str | Path) -> list[MapTheme]:
    """The themes of ``table_prevalence.csv`` with their subthemes, in the table's order."""
    frame = pd.read_csv(prevalence_csv, dtype=str, keep_default_na=False)
    themes: list[MapTheme] = []
    for row in frame.itertuples(index=False):
        theme, subtheme, participants, _excerpts, label = (str(v) for v in row[:5])
        if theme:
            themes.append(MapTheme(theme, participants, ()))
        elif themes:
            last = themes[-1]
            themes[-1] = MapTheme(last.name, last.participants, (*last.subthemes, (subtheme, participants, label)))
    return themes


def _box(fig: Figure, x: float, y: float, width: float, height: float, shade: str, text: str, bold: bool) -> None:
    fig.add_artist(
        FancyBboxPatch(
            (x, y), width, height, boxstyle="round,pad=0.004,rounding_size=0.01",
            facecolor=shade, edgecolor="0.0", linewidth=0.8, transform=fig.transFigure,
        )
    )  # fmt: skip
    fig.text(
        x + 0.012, y + height / 2, text, ha="left", va="center", fontsize=7.5,
        fontweight="bold" if bold else "normal", transform=fig.transFigure,
    )  # fmt: skip


def thematic_map(themes: list[MapTheme], title: str) -> Figure:
    """The map of ``themes`` (from :func:`read_map`)."""
    slots = sum(max(1, len(theme.subthemes)) for theme in themes) + GAP_SLOTS * max(0, len(themes) - 1)
    height_cm = slots * SLOT_CM + 1.6
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(17 * CM, height_cm * CM))
        unit = SLOT_CM / height_cm  # one slot in figure coordinates
        top = 1 - 1.1 / height_cm
        fig.text(0.02, 1 - 0.5 / height_cm, title, ha="left", va="center", fontsize=9, fontweight="bold")
        for theme in themes:
            count = max(1, len(theme.subthemes))
            span = count * unit
            label = textwrap.fill(theme.name, 30) + f"\n{theme.participants} participants"
            _box(fig, THEME_X, top - span + 0.1 * unit, THEME_WIDTH, span - 0.2 * unit, "0.82", label, True)
            for index, (name, participants, frequency) in enumerate(theme.subthemes):
                y = top - (index + 1) * unit + 0.12 * unit
                note = f"{participants} participants" + (
                    f", {frequency}" if frequency and frequency != "\u2013" else ""
                )
                text = textwrap.fill(name, 60) + f"\n{note}"
                _box(fig, SUB_X, y, SUB_WIDTH, unit * 0.76, "1.0", text, False)
                middle_theme, middle_sub = top - span / 2, y + unit * 0.38
                joint = (THEME_X + THEME_WIDTH + SUB_X) / 2
                fig.add_artist(
                    Line2D(
                        [THEME_X + THEME_WIDTH + 0.004, joint, joint, SUB_X - 0.004],
                        [middle_theme, middle_theme, middle_sub, middle_sub],
                        color="0.3", linewidth=0.7, transform=fig.transFigure,
                    )
                )  # fmt: skip
            top -= span + GAP_SLOTS * unit
    return fig


def write_thematic_map(prevalence_csv: str | Path, title: str, files: Mapping[str, Path]) -> list[Path]:
    """The thematic map as PNG (300 dpi), SVG and PDF, to the declared ``files`` (same bytes every time)."""
    figure = thematic_map(read_map(prevalence_csv), title)
    return save_figure(figure, layout.THEMATIC_MAP, files)
