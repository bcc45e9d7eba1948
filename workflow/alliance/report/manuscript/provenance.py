"""Sourced numbers: every number of the manuscript is a :class:`Num`, its value and where it came from.

Numbers reach the text only through the filters (:mod:`alliance.report.manuscript.filters`), which
record each one with a :class:`Recorder`: the rendered manuscript comes with a provenance list naming, for
every number, its source file, key, value, the printed text, and the line and sentence where it appears.
A number printed without a source (a literal typed into a template, a bare float) fails the build.

Sources are named as the reader finds them: a cohort's output relative to its results directory
(``models/fits.csv``: :func:`source_label` of the declared file), a configuration file by its path as the
workflow was given it (``config/config.yaml``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from alliance.errors import AllianceError
from alliance.report.manuscript.apa import format_value

# Numbers a template may contain as text, because they are names, citations or layout, not results.
# Everything else that looks like a number in a template or in the rendered text (outside the recorded
# numbers and the included tables) fails the check.
ALLOWED_LITERALS: tuple[str, ...] = (
    "BSI-18",
    "EQ-5D-3L",
    "SCL-90-R",
    "MBT-ACS",
    "Figure 1",
    "Figure 2",
    "Table S1",
    "Table S2",
    "Tables S3 and S4",
    "95% CI",
    "95% confidence",
    "APA 7",
    "Singer & Willett, 2003",
    "Hedeker & Gibbons, 1997",
    "Little, 1988",
    "Satterthwaite, 1946",
    "Satterthwaite (1946)",
    "Kuznetsova et al., 2017",
    "Bates et al., 2015",
    "Folmo et al., 2020",
    "Mundt et al., 2002",
    "Pedersen & Karterud, 2004",
)
# Numeric literals: digits not part of an identifier (``tasks_poor_outcome_paranoid1`` is a name).
NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:[.,]\d+)?(?![\w])|(?<![\w])\.\d+")
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)

# Markers around every recorded number in the raw rendered text (removed before writing).
_OPEN, _MID, _CLOSE = "\x02", "\x03", "\x04"
_MARKED = re.compile(f"{_OPEN}(\\d+){_MID}(.*?){_CLOSE}", re.DOTALL)
_BLOCK_OPEN, _BLOCK_CLOSE = "\x05", "\x06"


class ManuscriptError(AllianceError, ValueError):
    """The manuscript cannot be rendered truthfully (a missing value, an unsourced number)."""


# A statistic of no one (a share of an empty group, a test with an empty subgroup): said in words.
NOT_DEFINED = "not defined"


@dataclass(frozen=True)
class Num:
    """A number and where it came from: ``file`` (relative to the cohort's results, or a config file)
    and ``key`` (the row and column of a CSV, the dotted path of a JSON or YAML value).

    ``suppressed``: the value rests on fewer patients than the cohort's min_cell and is not disclosed.
    ``reason``: the value does not exist by design, said in words where the number would stand ("not
    estimable" for an effect of a model that could not be fitted, "not defined" for a share of no one).
    A value that is missing without a reason is an error: a blank where a number should be."""

    value: float
    file: str
    key: str
    suppressed: int = 0
    reason: str = ""

    @property
    def missing(self) -> bool:
        return not self.suppressed and not self.reason and not math.isfinite(self.value)

    @property
    def available(self) -> bool:
        return not self.suppressed and not self.reason and math.isfinite(self.value)


def csv_key(row: Mapping[str, Any], column: str) -> str:
    """``{"model_id": "goals_growth", "term": "time"}, "estimate"`` -> "model_id=goals_growth; term=time; column=estimate"."""
    return "; ".join([*(f"{k}={v}" for k, v in row.items()), f"column={column}"])


def parse_csv_key(key: str) -> tuple[dict[str, str], str]:
    """The inverse of :func:`csv_key`: (row selectors, column)."""
    parts = dict(part.split("=", 1) for part in key.split("; "))
    column = parts.pop("column")
    return parts, column


def source_label(path: str | Path) -> str:
    """How provenance names a cohort's output: its step folder and file name (``models/fits.csv``), the
    path relative to the cohort's results directory (docs/outputs.md)."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}"


def read_text_csv(path: str | Path) -> pd.DataFrame:
    """A CSV with every cell as text (numbers are parsed where they become a :class:`Num`)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def lookup(path: str | Path, key: str) -> Any:
    """The raw value behind a provenance entry: ``key`` of the file at ``path`` (used by the tests, and
    handy when checking a number)."""
    path = Path(path)
    if path.suffix in (".json", ".yaml", ".yml"):
        value: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        for part in key.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value
    selectors, column = parse_csv_key(key)
    frame = read_text_csv(path)
    for name, wanted in selectors.items():
        frame = frame[frame[name].eq(wanted)]
    if len(frame) != 1:
        raise KeyError(f"{path}: {key} matches {len(frame)} rows")
    return frame.iloc[0][column]


# --------------------------------------------------------------------------------------------------
# Recording numbers while rendering
# --------------------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Collects every number a filter prints; the markers in the raw text point into ``entries``."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def mark(self, number: Num, kind: str) -> str:
        if number.missing:
            raise ManuscriptError(f"no value for {number.file}: {number.key} (a blank where a number should be)")
        if number.reason:
            text = number.reason
            value: float | None = None
        elif number.suppressed:
            text = f"< {number.suppressed}"
            value = None
        else:
            text = format_value(kind, number.value)
            value = number.value
        self.entries.append({"file": number.file, "key": number.key, "value": value, "format": kind, "text": text})
        return f"{_OPEN}{len(self.entries) - 1}{_MID}{text}{_CLOSE}"

    def block(self, file: str, text: str) -> str:
        self.blocks.append({"file": file})
        return f"{_BLOCK_OPEN}{len(self.blocks) - 1}{_MID}{text}{_BLOCK_CLOSE}"


def _sentence_at(line: str, start: int, end: int) -> str:
    """The sentence of ``line`` around [start, end) (split at ". " outside numbers)."""
    left = max(line.rfind(". ", 0, start), line.rfind("? ", 0, start))
    right_candidates = [i for i in (line.find(". ", end), line.find("? ", end)) if i >= 0]
    right = min(right_candidates) + 1 if right_candidates else len(line)
    return line[left + 2 if left >= 0 else 0 : right].strip()


def resolve(raw: str, recorder: Recorder, document: str) -> tuple[str, list[dict[str, Any]]]:
    """Strip the markers; return the text and the provenance entries with their line and sentence.

    Included tables are kept as they are; their numbers are attributed to the table file."""
    raw = re.sub(f"{_BLOCK_OPEN}\\d+{_MID}", "", raw).replace(_BLOCK_CLOSE, "")
    entries: list[dict[str, Any]] = []
    lines_out: list[str] = []
    for number, line in enumerate(raw.split("\n"), start=1):
        clean = ""
        position = 0
        pending: list[tuple[int, int, int]] = []
        for match in _MARKED.finditer(line):
            clean += line[position : match.start()]
            start = len(clean)
            clean += match.group(2)
            pending.append((int(match.group(1)), start, len(clean)))
            position = match.end()
        clean += line[position:]
        for index, start, end in pending:
            entry = dict(recorder.entries[index])
            entry.update({"document": document, "line": number, "sentence": _sentence_at(clean, start, end)})
            entries.append(entry)
        lines_out.append(clean)
    return "\n".join(lines_out), entries


def unsourced_numbers(raw: str) -> list[str]:
    """Numbers in raw rendered text that are neither recorded, nor in an included table, nor allowed,
    each with the text around it."""
    text = _MARKED.sub(" ", raw)
    text = re.sub(f"{_BLOCK_OPEN}.*?{_BLOCK_CLOSE}", " ", text, flags=re.DOTALL)
    text = _clear_allowed(text)
    return [f"{m.group(0)!r} in '...{text[max(m.start() - 40, 0) : m.end() + 40]}...'" for m in NUMBER.finditer(text)]


def numeric_literals(text: str) -> list[str]:
    """Numeric literals of a text after removing the allowed literals and Jinja comments."""
    return [m.group(0) for m in NUMBER.finditer(_clear_allowed(JINJA_COMMENT.sub(" ", text)))]


def _clear_allowed(text: str) -> str:
    for allowed in ALLOWED_LITERALS:
        text = text.replace(allowed, " " * len(allowed))
    return re.sub(r"places=\d+", lambda m: " " * len(m.group(0)), text)  # decimals of a filter argument


def provenance_record(entries: Sequence[Mapping[str, Any]], tables: Mapping[str, tuple[str, str]]) -> dict:
    return {
        "note": (
            "Every number of manuscript.md: its source (file relative to the cohort's results directory, or a "
            "config file), key, value, printed text, and the line and sentence where it appears. Tables are "
            "included whole from the files listed under 'tables'."
        ),
        "numbers": list(entries),
        "tables": {table_id: file for table_id, (file, _) in sorted(tables.items())},
    }


# --------------------------------------------------------------------------------------------------
# Configuration values
# --------------------------------------------------------------------------------------------------

# The source of a value set on the command line (`--config`) rather than in a file.
COMMAND_LINE = "--config"


def _setting(document: Any, key: str) -> Any:
    """The value at the dotted ``key`` of a parsed YAML document; KeyError when it is not set there."""
    value = document
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(key)
        value = value[part]
    return value


def config_source(config_files: Sequence[str | Path], key: str, value: Any) -> str:
    """The configuration file that sets the dotted ``key`` to ``value``, the value in use once Snakemake
    merged the files: the last such file of ``config_files`` (the files this run reads, in any order: a
    file that sets another value was overridden), or "--config" when none does."""
    source = COMMAND_LINE
    for file in config_files:
        path = Path(file)
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        try:
            if _setting(yaml.safe_load(path.read_text(encoding="utf-8")), key) == value:
                source = str(file)
        except KeyError:
            continue
    return source


def config_values(
    analysis: Mapping[str, Any],
    instruments: Any,
    config_files: Sequence[str | Path],
    instruments_file: str | Path,
    confidence: float | None = None,
    cohort: str | None = None,
) -> dict[str, Any]:
    """The configuration numbers the text names, each a :class:`Num` keyed by its path in the config file
    that sets it (:func:`config_source` among ``config_files``; the instruments' in ``instruments_file``):
    the GAF cut-off, the assessment schedule, the WAI scale range, the WSAS and BSI cut-offs, and the
    bootstrap intervals' ``confidence`` (``bootstrap_confidence``) when given: ``cohort``'s own
    (``cohorts.<cohort>.bootstrap.confidence``) where a file sets it, else the top-level one."""

    def setting(key: str, value: Any) -> tuple[Any, str]:
        return value, config_source(config_files, f"analysis.{key}", value)

    def schedule(name: str) -> list[Num]:
        values, file = setting(f"schedule.{name}", analysis["schedule"][name])
        return [Num(float(v), file, f"analysis.schedule.{name}.{i}") for i, v in enumerate(values)]

    gaf_cutoff, file = setting("gaf_cutoff", analysis["gaf_cutoff"])
    return {
        "gaf_cutoff": Num(float(gaf_cutoff), file, "analysis.gaf_cutoff"),
        "wai_months": schedule("wai_months"),
        "outcome_months": schedule("outcome_months"),
        **instrument_values(instruments, str(instruments_file)),
        **({} if confidence is None else {"bootstrap_confidence": _confidence(config_files, confidence, cohort)}),
    }


def _confidence(config_files: Sequence[str | Path], confidence: float, cohort: str | None) -> Num:
    """The bootstrap level, sourced to the cohort's own setting where a file makes it, else the top-level one."""
    keys = [*([f"cohorts.{cohort}.bootstrap.confidence"] if cohort else []), "bootstrap.confidence"]
    for key in keys:
        source = config_source(config_files, key, confidence)
        if source != COMMAND_LINE:
            return Num(float(confidence), source, key)
    return Num(float(confidence), COMMAND_LINE, "bootstrap.confidence")


def instrument_values(instruments: Any, file: str) -> dict[str, Any]:
    """The WSAS and BSI cut-offs and the WAI scale range (of the first WAI version) of the instruments."""
    values: dict[str, Any] = {
        "wsas_threshold": Num(float(instruments.wsas.outcome_threshold), file, "wsas.outcome_threshold"),
        "bsi_threshold": Num(float(instruments.bsi.outcome_threshold), file, "bsi.outcome_threshold"),
    }
    versions = list(instruments.wai.versions.items())
    if versions:
        name, version = versions[0]
        values["wai_scale"] = {
            "min": Num(float(version.scale_min), file, f"wai.versions.{name}.scale_min"),
            "max": Num(float(version.scale_max), file, f"wai.versions.{name}.scale_max"),
        }
    return values
