"""The most extreme sessions on fidelity, for a qualitative study of them (Folmo et al., 2019, who selected "the
four most deviant (extreme) sessions" of 108 rated ones: two rated 7/7, two rated 2/2).

The pool is the sessions of one format (or all). Each session's score is the mean of its adherence and its
quality (each the mean of its raters). The k highest are taken by score, then adherence, then quality, all
descending; the k lowest by score, then adherence, then quality, all ascending; a tie on all three is broken by
the session_id in code-point order (the same for every run and every order of the rows). A pool of fewer than
2k sessions gives its highest half (rounded up) as high and the rest as low: no session is in both.
"""

from __future__ import annotations

import pandas as pd

from alliance.stats.fidelity import ALL

HIGH, LOW = "high", "low"
COLUMNS = (
    "selection", "rank", "session_id", "format", "adherence", "quality", "score", "ratings", "pool", "pool_sessions",
)  # fmt: skip


def pool_of(sessions: pd.DataFrame, pool: str) -> pd.DataFrame:
    """The sessions of format ``pool`` (all sessions for "all")."""
    return sessions if pool == ALL else sessions[sessions["format"] == pool]


def select_extremes(sessions: pd.DataFrame, k: int, pool: str = ALL) -> pd.DataFrame:
    """The k highest and k lowest sessions of the pool (rows of
    :func:`alliance.stats.fidelity.session_scores`), ranked 1..k within each selection (COLUMNS)."""
    candidates = pool_of(sessions, pool).copy()
    candidates["score"] = (candidates["adherence"] + candidates["quality"]) / 2
    candidates["session_id"] = candidates["session_id"].astype(str)
    high_count = min(k, -(-len(candidates) // 2))
    descending = candidates.assign(
        _score=-candidates["score"], _adherence=-candidates["adherence"], _quality=-candidates["quality"]
    ).sort_values(["_score", "_adherence", "_quality", "session_id"], kind="stable")
    high = descending.head(high_count)
    rest = candidates[~candidates["session_id"].isin(high["session_id"])]
    low = rest.sort_values(["score", "adherence", "quality", "session_id"], kind="stable").head(k)
    parts = []
    for selection, chosen in ((HIGH, high), (LOW, low)):
        part = chosen.assign(selection=selection, rank=range(1, len(chosen) + 1))
        parts.append(part)
    chosen = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    chosen["pool"] = pool
    chosen["pool_sessions"] = len(candidates)
    return chosen.reindex(columns=list(COLUMNS)).reset_index(drop=True)
