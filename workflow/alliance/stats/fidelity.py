"""Therapist fidelity from MBT-ACS ratings: each session's adherence and quality, and their summary by format.

A session's score is the mean of its raters' global ratings; means, SDs and the share of adequate sessions (a
score at or above the cut-off, 4 on the 1-7 scale) are over sessions, so that a session rated twice counts
once. Counts are of sessions, ratings, therapists (co-therapists of a group counted one by one) and raters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from alliance.data.fidelity import CO_THERAPISTS, FORMATS, SCORES

ALL = "all"


def session_scores(ratings: pd.DataFrame) -> pd.DataFrame:
    """One row per session (in the order of their first rating): format, therapist_id, ratings (how many)
    and the mean adherence and quality of its raters."""
    grouped = ratings.groupby("session_id", sort=False)
    sessions = grouped.agg(
        format=("format", "first"),
        therapist_id=("therapist_id", "first"),
        ratings=("rater_id", "size"),
        adherence=("adherence", "mean"),
        quality=("quality", "mean"),
    )
    return sessions.reset_index().astype({"adherence": float, "quality": float})


def therapists_of(values: pd.Series) -> set[str]:
    return {t for value in values.dropna() for t in str(value).split(CO_THERAPISTS) if t}


@dataclass(frozen=True)
class FormatSummary:
    """Fidelity of the sessions of one format (or of all)."""

    format: str
    sessions: int
    ratings: int
    therapists: int
    raters: int
    means: dict[str, float]
    sds: dict[str, float]
    adequate_pct: dict[str, float]  # share of sessions scored at or above the cut-off

    def record(self) -> dict[str, object]:
        return {
            "sessions": self.sessions,
            "ratings": self.ratings,
            "therapists": self.therapists,
            "raters": self.raters,
            **{f"{score}_mean": _clean(self.means[score]) for score in SCORES},
            **{f"{score}_sd": _clean(self.sds[score]) for score in SCORES},
            **{f"{score}_adequate_pct": _clean(self.adequate_pct[score]) for score in SCORES},
        }


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else value


def summarise(ratings: pd.DataFrame, sessions: pd.DataFrame, name: str, cutoff: float) -> FormatSummary:
    """The summary of ``sessions`` (rows of :func:`session_scores`) and their ``ratings``."""
    means = {score: float(sessions[score].mean()) if len(sessions) else math.nan for score in SCORES}
    sds = {score: float(sessions[score].std(ddof=1)) if len(sessions) > 1 else math.nan for score in SCORES}
    adequate = {
        score: 100.0 * float((sessions[score] >= cutoff - 1e-9).mean()) if len(sessions) else math.nan
        for score in SCORES
    }
    return FormatSummary(
        format=name,
        sessions=len(sessions),
        ratings=len(ratings),
        therapists=len(therapists_of(ratings["therapist_id"])),
        raters=int(ratings["rater_id"].nunique()),
        means=means,
        sds=sds,
        adequate_pct=adequate,
    )


def by_format(ratings: pd.DataFrame, cutoff: float) -> list[FormatSummary]:
    """The summary of each format present (individual, then group), then of all sessions."""
    sessions = session_scores(ratings)
    summaries = [
        summarise(ratings[ratings["format"] == kind], sessions[sessions["format"] == kind], kind, cutoff)
        for kind in FORMATS
        if (sessions["format"] == kind).any()
    ]
    return [*summaries, summarise(ratings, sessions, ALL, cutoff)]
