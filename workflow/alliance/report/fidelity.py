"""A fidelity study's outputs (results/<study>/fidelity/, docs/companion-studies.md): the table of adherence and
quality by format, the G study's reliability, an aggregate summary, and the extreme sessions.

* ``table_fidelity.*``: per format (individual, group) and for all sessions, the sessions, ratings,
  therapists and raters, the mean (SD) adherence and quality over sessions, and the share of sessions at or
  above the adequacy cut-off (config ``fidelity.adequacy_cutoff``, 4);
* ``reliability.json``: per score, the variance components of the sessions x raters G study on the sessions
  rated by two or more raters, and the absolute and relative G coefficients for one rater and for the mean of
  ``decision_raters`` (:mod:`alliance.stats.generalizability`);
* ``summary.json``: the table's numbers, the items rated and the extreme sessions' scores (no ids);
* ``extreme_cases.csv``: the k highest and k lowest sessions of the pool (:mod:`alliance.stats.extreme_cases`)
  with their session ids: for the research team, never published (alliance.verify.declared keeps it out).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from alliance import layout
from alliance.data.fidelity import SCORES, FidelityRatings, read_fidelity
from alliance.report.formatting import GEQ, Align, TableLayout, format_fixed, format_integer
from alliance.report.study_tables import DASH, read_checked, study_table, write_record, write_study_tables
from alliance.settings import FidelitySettings, Study
from alliance.stats.extreme_cases import select_extremes
from alliance.stats.fidelity import FormatSummary, by_format, session_scores
from alliance.stats.generalizability import NotEstimable, g_study_data, variance_components

FORMAT_LABELS = {"individual": "Individual", "group": "Group", "all": "All sessions"}
DESIGN = "sessions x raters, crossed; one rating per session and rater (the interaction is confounded with error)"


def _mean_sd(mean: float, sd: float) -> str:
    if math.isnan(mean):  # no sessions
        return DASH
    return f"{format_fixed(mean, 2)} ({DASH if math.isnan(sd) else format_fixed(sd, 2)})"


def _pct(value: float) -> str:
    return DASH if math.isnan(value) else format_integer(value)


def fidelity_table(summaries: Sequence[FormatSummary], cutoff: float, source: str) -> TableLayout:
    """Table 1 of a fidelity study: one row per format, then all sessions."""
    limit = format_fixed(cutoff, 0) if float(cutoff).is_integer() else format_fixed(cutoff, 1)
    columns = [
        "Format", "Sessions", "Ratings", "Therapists", "Raters", "Adherence M (SD)", "Quality M (SD)",
        f"Adherence {GEQ} {limit} (%)", f"Quality {GEQ} {limit} (%)",
    ]  # fmt: skip
    rows = [
        [
            FORMAT_LABELS[s.format],
            str(s.sessions),
            str(s.ratings),
            str(s.therapists),
            str(s.raters),
            *(_mean_sd(s.means[score], s.sds[score]) for score in SCORES),
            *(_pct(s.adequate_pct[score]) for score in SCORES),
        ]
        for s in summaries
    ]
    notes = (
        (
            "A session's adherence and quality are the means of its raters' global ratings (MBT-ACS, 1-7); "
            "M (SD) over sessions, so that a session rated twice counts once."
        ),
        f"Adequate: a session score of {limit} or higher. Co-therapists of a group session are counted one by one.",
    )
    title = "Therapist fidelity: MBT adherence and quality by format"
    align: list[Align] = ["l", "r", "r", "r", "r", "r", "r", "r", "r"]
    return study_table(layout.FIDELITY_TABLE, "1", title, rows, columns, align, notes, source)


def reliability(ratings: pd.DataFrame, settings: FidelitySettings) -> dict[str, Any]:
    """The G study of each score on the sessions rated by two or more raters."""
    scores: dict[str, Any] = {}
    for score in SCORES:
        data = g_study_data(ratings, score)
        try:
            components = variance_components(data)
        except NotEstimable as reason:
            scores[score] = {"status": "not estimable", "reason": str(reason), "ratings": len(data)}
            continue
        raters = settings.decision_raters or components.raters_per_session
        scores[score] = {
            "status": "estimated",
            "method": components.method,
            "sessions": components.sessions,
            "raters": components.raters,
            "ratings": components.ratings,
            "balanced": components.balanced,
            "raters_per_session": components.raters_per_session,
            "variance_components": components.components(),
            "variance_pct": components.shares(),
            "set_to_zero": list(components.set_to_zero),
            "g": {
                "raters": raters,
                "absolute": components.absolute(raters),
                "relative": components.relative(raters),
                "absolute_single_rater": components.absolute(1),
                "relative_single_rater": components.relative(1),
            },
        }
    return {"design": DESIGN, "scores": scores}


def _extreme_record(extremes: pd.DataFrame, settings: FidelitySettings) -> dict[str, Any]:
    chosen = {
        selection: [
            {"rank": int(row["rank"]), "adherence": float(row["adherence"]), "quality": float(row["quality"])}
            for _, row in extremes[extremes["selection"] == selection].iterrows()
        ]
        for selection in ("high", "low")
    }
    pool_sessions = int(extremes["pool_sessions"].iloc[0]) if len(extremes) else 0
    counts = {f"n_{selection}": len(rows) for selection, rows in chosen.items()}
    pool = {"pool": settings.extreme_cases.format, "pool_sessions": pool_sessions}
    return {"k": settings.extreme_cases.k, **pool, "selected": len(extremes), **counts, **chosen}


def summary(
    data: FidelityRatings, summaries: Sequence[FormatSummary], extremes: pd.DataFrame, settings: FidelitySettings
) -> dict[str, Any]:
    """The aggregates of the study (no session, patient, therapist or rater id)."""
    return {
        "adequacy_cutoff": settings.adequacy_cutoff,
        "formats": {s.format: s.record() for s in summaries},
        "items": len(data.items),
        "extreme_cases": _extreme_record(extremes, settings),
    }


def write_fidelity_outputs(
    data: FidelityRatings, settings: FidelitySettings, files: Mapping[str, Path], source: str
) -> list[Path]:
    """Every output of a fidelity study but validation.txt, from its valid ratings."""
    summaries = by_format(data.ratings, settings.adequacy_cutoff)
    sessions = session_scores(data.ratings)
    extremes = select_extremes(sessions, settings.extreme_cases.k, settings.extreme_cases.format)
    written = write_study_tables([fidelity_table(summaries, settings.adequacy_cutoff, source)], files)
    written.append(
        write_record(reliability(data.ratings, settings), layout.declared(files, layout.FIDELITY_RELIABILITY))
    )
    written.append(
        write_record(summary(data, summaries, extremes, settings), layout.declared(files, layout.FIDELITY_SUMMARY))
    )
    path = layout.declared(files, layout.FIDELITY_EXTREME_CASES)
    extremes.round({"adherence": 4, "quality": 4, "score": 4}).to_csv(path, index=False, lineterminator="\n")
    return [*written, path]


def run_fidelity_study(study: Study, files: Mapping[str, Path]) -> list[Path]:
    """The step of a fidelity study: read and check its exports, then write its outputs (``files``: the
    rule's declared outputs by name)."""
    data = read_checked(read_fidelity, study.exports, study.reading_options(), files)
    return write_fidelity_outputs(data, study.fidelity, files, study.title or study.name)
