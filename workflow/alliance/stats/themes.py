"""Counts of a qualitative codebook: participants per theme and subtheme with their frequency label, and the
participants by interview unit (Gardner et al.'s Table 1) and as a whole.

A participant voices a subtheme when at least one of their excerpts is coded to it, and a theme when one is
coded to the theme or to any of its subthemes. The frequency label is the first rule of the study's
``qualitative.frequency_labels`` that the count meets (Pettersen et al., 2021, by default: all six, most = four
or five, some = three, else one or two); a theme no participant voices has none ("–" in the table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from alliance.data.codebook import Codebook, Theme
from alliance.settings import FrequencyLabel

NUMBERS = ("years_mbt", "years_care", "age")


def frequency_label(count: int, participants: int, rules: Sequence[FrequencyLabel]) -> str:
    """The first rule's label that ``count`` of ``participants`` meets; "" for a count of zero."""
    if count <= 0:
        return ""
    return next((rule.label for rule in rules if rule.applies(count, participants)), "")


@dataclass(frozen=True)
class Prevalence:
    """One theme or subtheme: how many participants voiced it, in how many excerpts, and its label."""

    theme: Theme
    participants: int
    excerpts: int
    label: str

    @property
    def level(self) -> str:
        return "subtheme" if self.theme.parent else "theme"


def prevalence(codebook: Codebook, rules: Sequence[FrequencyLabel]) -> list[Prevalence]:
    """Each theme, then its subthemes, in the codebook's order."""
    total = len(codebook.participants)
    excerpts = codebook.excerpts
    rows: list[Prevalence] = []
    for theme in codebook.top():
        codes = [theme.code, *(sub.code for sub in codebook.subthemes(theme.code))]
        for item, coded in [(theme, codes), *((sub, [sub.code]) for sub in codebook.subthemes(theme.code))]:
            selected = excerpts[excerpts["code"].isin(coded)]
            count = int(selected["participant_id"].nunique())
            rows.append(Prevalence(item, count, len(selected), frequency_label(count, total, rules)))
    return rows


@dataclass(frozen=True)
class Unit:
    """The participants of one interview unit (a one-to-one interview, a focus group)."""

    name: str
    participants: pd.DataFrame

    @property
    def size(self) -> int:
        return len(self.participants)

    def counts(self, column: str) -> list[tuple[str, int]]:
        """(value, participants) of a text column in the order of each value's first participant in
        participants.csv; empty cells left out."""
        values = [str(v) for v in self.participants[column].dropna()]
        return [(value, values.count(value)) for value in dict.fromkeys(values)]

    def mean_sd(self, column: str) -> tuple[float, float, int]:
        """Mean, SD (n - 1) and the number of participants with a value."""
        values = pd.to_numeric(self.participants[column], errors="coerce").dropna()
        mean = float(values.mean()) if len(values) else math.nan
        sd = float(values.std(ddof=1)) if len(values) > 1 else math.nan
        return mean, sd, len(values)


def units(participants: pd.DataFrame) -> list[Unit]:
    """The interview units in the order of their first participant in participants.csv."""
    order = list(dict.fromkeys(participants["unit"].astype(str)))
    return [Unit(name, participants[participants["unit"].astype(str) == name]) for name in order]


def _describe(values: pd.Series) -> dict[str, float | int | None]:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if numbers.empty:
        return {"n": 0, "mean": None, "sd": None, "median": None, "min": None, "max": None}
    sd = float(numbers.std(ddof=1)) if len(numbers) > 1 else None
    return {
        "n": len(numbers),
        "mean": float(numbers.mean()),
        "sd": sd,
        "median": float(numbers.median()),
        "min": float(numbers.min()),
        "max": float(numbers.max()),
    }


def sample_summary(codebook: Codebook) -> dict[str, object]:
    """Aggregates of the participants and the codebook (no participant's own row): counts by gender,
    occupation, modality and unit kind, and the mean, SD, median and range of age and years."""
    people = codebook.participants
    every = Unit("all", people)
    found = units(people)
    return {
        "participants": len(people),
        "units": len(found),
        "single_interviews": sum(unit.size == 1 for unit in found),
        "group_interviews": sum(unit.size > 1 for unit in found),
        "unit_sizes": {unit.name: unit.size for unit in found},
        "gender": dict(every.counts("gender")),
        "occupation": dict(every.counts("occupation")),
        "modality": dict(every.counts("modality")),
        **{column: _describe(people[column]) for column in NUMBERS},
        "themes": len(codebook.top()),
        "subthemes": {theme.name: len(codebook.subthemes(theme.code)) for theme in codebook.top()},
        "subthemes_total": sum(len(codebook.subthemes(theme.code)) for theme in codebook.top()),
        "excerpts": len(codebook.excerpts),
    }
