"""The bootstrap intervals a reader sees (bootstrap/intervals.csv): beside the explained variance in the
full layouts of Tables III and IV and in the results text.

One method is reported (config ``bootstrap.reported``): BCa by default, the percentile interval where
BCa is not defined (every usable replicate on one side of the estimate), which the reader is told.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

FALLBACK_MARK = "\u00a7"
METHOD_NAMES = {"bca": "bias-corrected and accelerated (BCa)", "percentile": "percentile"}


@dataclass(frozen=True)
class Interval:
    """One reported interval and the row it comes from."""

    model_id: str
    quantity: str
    low: float
    high: float
    method: str  # the row's method: the reported one, or percentile where it is undefined
    replicates: int
    failed: int
    fallback: bool = False  # the percentile interval standing in for an undefined BCa one

    @property
    def defined(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


@dataclass(frozen=True)
class ReportedIntervals:
    method: str
    confidence: float
    file: str = ""
    by_quantity: Mapping[tuple[str, str], Interval] = field(default_factory=dict)

    def get(self, model_id: str, quantity: str) -> Interval | None:
        return self.by_quantity.get((model_id, quantity))

    @property
    def level(self) -> str:
        """The confidence level as the text writes it: "95"."""
        return format(100 * self.confidence, "g")

    @property
    def replicates(self) -> int:
        return max((interval.replicates for interval in self.by_quantity.values()), default=0)

    @property
    def falls_back(self) -> bool:
        return any(interval.fallback and interval.defined for interval in self.by_quantity.values())


def _interval(row: Mapping[str, object]) -> Interval:
    return Interval(
        model_id=str(row["model_id"]),
        quantity=str(row["quantity"]),
        low=float(row["ci_low"]),  # type: ignore[arg-type]
        high=float(row["ci_high"]),  # type: ignore[arg-type]
        method=str(row["method"]),
        replicates=int(row["replicates"]),  # type: ignore[call-overload]
        failed=int(row["failed"]),  # type: ignore[call-overload]
    )


def reported_intervals(frame: pd.DataFrame, method: str, confidence: float, file: str = "") -> ReportedIntervals:
    """Each quantity's interval of ``method``, or its percentile interval where that one is undefined."""
    by_quantity: dict[tuple[str, str], Interval] = {}
    for row in frame.to_dict("records"):
        interval = _interval(row)
        key = (interval.model_id, interval.quantity)
        chosen = by_quantity.get(key)
        if interval.method == method and interval.defined:
            by_quantity[key] = interval
        elif interval.method == "percentile" and (chosen is None or not chosen.defined):
            by_quantity[key] = replace(interval, fallback=method != "percentile")
    return ReportedIntervals(method, confidence, file, by_quantity)


def read_intervals(path: str | Path, method: str, confidence: float, file: str = "") -> ReportedIntervals:
    return reported_intervals(pd.read_csv(path), method, confidence, file or str(path))


def describe(intervals: ReportedIntervals) -> str:
    """How the intervals were made, for a table's notes."""
    text = (
        f"{intervals.level}% {METHOD_NAMES.get(intervals.method, intervals.method)} bootstrap interval, "
        f"{intervals.replicates:,} resamples of patients"
    )
    if intervals.falls_back:
        text += f"; {FALLBACK_MARK} the percentile interval where BCa is not defined"
    return text
