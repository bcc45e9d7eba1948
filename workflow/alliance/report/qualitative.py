"""A qualitative study's tables (results/<study>/tables/, docs/companion-studies.md):

* ``table_participants.*``: the participants by interview unit, in Gardner et al.'s layout (their Table 1): a
  one-to-one interview's values as they are, a focus group's as "mean (SD)" and "n = k occupation" lists;
* ``table_themes.*``: each theme and its subthemes in the codebook's order (Gardner et al.'s Table 2, Pettersen
  et al.'s Table 1);
* ``table_prevalence.*``: the participants who voiced each theme and subtheme, with its frequency label
  (:mod:`alliance.stats.themes`);
* ``summary.json``: aggregates of the participants and the codebook.

No participant's pseudonym reaches a table; small-cell suppression does not apply to these counts (the papers
print them), and age and gender are only summarised over all participants (summary.json).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alliance import layout
from alliance.data.codebook import Codebook, read_codebook
from alliance.report.formatting import TableLayout, format_fixed, format_number
from alliance.report.study_tables import DASH, read_checked, study_table, write_record, write_study_tables
from alliance.settings import FrequencyLabel, QualitativeSettings, Study
from alliance.stats.themes import Unit, prevalence, sample_summary, units

PARTICIPANT_COLUMNS = (
    "Focus group or one-to-one interview",
    "Occupation",
    "Years or mean years (SD) as an MBT therapist",
    "Years or mean years (SD) working in psychological or psychiatric care",
    "Administers individual MBT, group MBT or both",
)


def _value(number: float) -> str:
    """A single participant's number as written: 5, 2.5, 3.75."""
    if math.isnan(number):
        return DASH
    text = format_number(number, decimals=2, digits=1)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _years(unit: Unit, column: str) -> str:
    mean, sd, count = unit.mean_sd(column)
    if count == 0:
        return DASH
    if unit.size == 1:
        return _value(mean)
    return f"{format_fixed(mean, 2)} ({DASH if math.isnan(sd) else format_fixed(sd, 2)})"


def _counts(unit: Unit, column: str, capitalise: bool = False) -> str:
    counted = unit.counts(column)
    if not counted:
        return DASH
    name = (lambda text: text[:1].upper() + text[1:]) if capitalise else (lambda text: text)
    if unit.size == 1:
        return name(counted[0][0])
    return "; ".join(f"n = {n} {name(value)}" for value, n in counted)


def participants_table(codebook: Codebook, source: str) -> TableLayout:
    """Table 1: one row per interview unit, in the order of their first participant."""
    rows = [
        [
            unit.name if unit.size == 1 else f"{unit.name} ({unit.size} participants)",
            _counts(unit, "occupation"),
            _years(unit, "years_mbt"),
            _years(unit, "years_care"),
            _counts(unit, "modality", capitalise=True),
        ]
        for unit in units(codebook.participants)
    ]
    notes = (
        (
            "A one-to-one interview's values are its participant's; a focus group's are the mean (SD) of its "
            "participants and the number with each occupation and modality."
        ),
        f"{len(codebook.participants)} participants; their age and gender are summarised over all of them only.",
    )
    title = "Participants by interview unit"
    return study_table("table_participants", "1", title, rows, PARTICIPANT_COLUMNS, ["l"] * 5, notes, source)


def themes_table(codebook: Codebook, settings: QualitativeSettings, source: str) -> TableLayout:
    """Table 2: each theme beside its first subtheme, its other subthemes below."""
    rows: list[list[str]] = []
    for theme in codebook.top():
        subthemes = [sub.name for sub in codebook.subthemes(theme.code)] or [""]
        rows += [[theme.name if index == 0 else "", name] for index, name in enumerate(subthemes)]
    title = f"{settings.theme_heading} and subthemes"
    return study_table("table_themes", "2", title, rows, [settings.theme_heading, "Subthemes"], ["l", "l"], (), source)


def describe_rules(rules: Sequence[FrequencyLabel]) -> str:
    """The frequency labels as a reader reads them: "all: every participant; most: at least 4; ..."."""
    parts = []
    for rule in rules:
        if rule.share is not None:
            amount = "every participant" if rule.share >= 1 else f"at least {format_number(100 * rule.share, 0)} %"
        else:
            amount = f"at least {rule.at_least}"
        parts.append(f"{rule.label}: {amount}")
    return "; ".join(parts)


def prevalence_table(codebook: Codebook, settings: QualitativeSettings, source: str) -> TableLayout:
    """Table 3: participants (and excerpts) per theme and subtheme, with the frequency label."""
    rows = [
        [
            item.theme.name if item.level == "theme" else "",
            item.theme.name if item.level == "subtheme" else "",
            str(item.participants),
            str(item.excerpts),
            item.label or DASH,
        ]
        for item in prevalence(codebook, settings.frequency_labels)
    ]
    total = len(codebook.participants)
    notes = (
        (
            f"Participants of {total} with at least one excerpt coded to the subtheme (for a theme: to it or to "
            "one of its subthemes)."
        ),
        f"Frequency: the first that applies of {describe_rules(settings.frequency_labels)}.",
    )
    columns = ["Theme", "Subtheme", "Participants", "Excerpts", "Frequency"]
    title = "Participants voicing each theme and subtheme"
    return study_table("table_prevalence", "3", title, rows, columns, ["l", "l", "r", "r", "l"], notes, source)


def summary(codebook: Codebook, settings: QualitativeSettings) -> dict[str, Any]:
    """summary.json: the sample's and the codebook's aggregates, and the frequency rule used."""
    return {**sample_summary(codebook), "frequency_labels": describe_rules(settings.frequency_labels)}


def write_qualitative_outputs(
    codebook: Codebook, settings: QualitativeSettings, files: Mapping[str, Path], source: str
) -> list[Path]:
    """Every table of a qualitative study and its summary.json (not the thematic map, a step of its own)."""
    tables = [
        participants_table(codebook, source),
        themes_table(codebook, settings, source),
        prevalence_table(codebook, settings, source),
    ]
    written = write_study_tables(tables, files)
    return [*written, write_record(summary(codebook, settings), layout.declared(files, layout.QUALITATIVE_SUMMARY))]


def run_qualitative_study(study: Study, files: Mapping[str, Path]) -> list[Path]:
    """The step of a qualitative study: read and check its codebook, then write its tables."""
    codebook = read_checked(read_codebook, study.exports, study.reading_options(), files)
    return write_qualitative_outputs(codebook, study.qualitative, files, study.title or study.name)
