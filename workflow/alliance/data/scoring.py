"""Scoring questionnaires from their items, as the instrument configuration defines them.

All functions take validated (typed) frames and return new columns; none changes its input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alliance.data.instruments import COMMON_ITEMS_SUFFIX, Eq5d, ItemScale, Wai


def _mean_if_enough(items: pd.DataFrame, min_answered: int) -> pd.Series:
    answered = items.notna().sum(axis=1)
    mean = items.astype("float64").mean(axis=1, skipna=True)
    return mean.where(answered >= min_answered)


def score_wai(wai: pd.DataFrame, instrument: Wai) -> pd.DataFrame:
    """Subscale scores per administration: the mean of the answered items, reversed items turned.

    A subscale is scored when at least ``min_answered`` of its items are answered; the total is the
    mean of the subscales when all are scored. Each version is scored by its own item key. With
    ``common_items`` configured, ``<subscale>_common`` is the same score from the common items only.
    """
    common = [f"{s}{COMMON_ITEMS_SUFFIX}" for s in instrument.common_items]
    scores = pd.DataFrame(index=wai.index, columns=[*instrument.subscales, "total", *common], dtype="float64")
    for name, version in instrument.versions.items():
        rows = wai["version"].eq(name).fillna(False).to_numpy()
        if not rows.any():
            continue
        for subscale, items in version.subscales.items():
            columns = [instrument.item_column(i) for i in items]
            values = wai.loc[rows, columns].astype("float64")
            for item in items:
                if item in version.reversed_items:
                    column = instrument.item_column(item)
                    values[column] = version.reverse(values[column])
            scores.loc[rows, subscale] = _mean_if_enough(values, version.min_answered)
            if subscale in instrument.common_items:
                shared = [instrument.item_column(i) for i in instrument.common_items[subscale]]
                scores.loc[rows, f"{subscale}{COMMON_ITEMS_SUFFIX}"] = _mean_if_enough(
                    values[shared], instrument.common_min_answered
                )
    if instrument.total != "mean_of_subscales":
        raise ValueError(f"unknown WAI total rule '{instrument.total}'")
    subscales = scores[list(instrument.subscales)]
    scores["total"] = subscales.mean(axis=1).where(subscales.notna().all(axis=1))
    return scores


def score_item_scale(frame: pd.DataFrame, scale: ItemScale) -> pd.Series:
    """WSAS total (sum, all items needed) or BSI-18 global severity (mean of enough answered items)."""
    items = frame[list(scale.item_columns)].astype("float64")
    answered = items.notna().sum(axis=1)
    if scale.scoring == "sum":
        score = items.sum(axis=1, skipna=True)
    elif scale.scoring == "mean":
        score = items.mean(axis=1, skipna=True)
    else:
        raise ValueError(f"unknown scoring rule '{scale.scoring}'")
    return score.where(answered >= scale.min_answered)


def eq5d_index(frame: pd.DataFrame, eq5d: Eq5d) -> pd.Series:
    """EQ-5D-3L index from the five levels by the configured value set; missing if any level is missing."""
    levels = frame[list(eq5d.dimensions)].astype("float64")
    complete = levels.notna().all(axis=1)
    decrement = pd.Series(0.0, index=frame.index)
    for dimension in eq5d.dimensions:
        lookup = {float(level): d for level, d in eq5d.decrements[dimension].items()}
        decrement += levels[dimension].map(lookup).fillna(0.0)
    any_problem = (levels > eq5d.level_min).any(axis=1)
    any_extreme = (levels >= eq5d.level_max).any(axis=1)
    index = 1.0 - decrement - np.where(any_problem, eq5d.constant, 0.0) - np.where(any_extreme, eq5d.n3, 0.0)
    return index.where(complete).round(3)
