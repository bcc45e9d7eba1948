"""``config/verify.yaml`` (where each published number is reproduced) and the published values it names
(``config/published/folmo2020.yaml``), parsed once into types.

Every entry is checked here, when the workflow loads: a wrong key, kind, statistic or significance, a
published path that names no published value, is one :class:`~alliance.errors.ConfigError` naming the file,
the dotted key (``entries[12].source.patients.stat``) and the value, before any job runs. The comparison
(:mod:`alliance.verify.compare`) then works on these types only. Standard library and yaml only: the
Snakefile imports this at every load.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Self

import yaml

from alliance.errors import ConfigError

ALPHA = 0.05
# Kinds of number (each sets a default tolerance, config/verify.yaml `tolerances`).
KINDS = ("count", "pct", "mean", "estimate", "se", "explained", "aic", "significance", "label")
# A label (a word the paper prints, such as a frequency label "most") is compared as text, not as a number.
LABEL = "label"
STATS = ("n", "count", "pct", "mean", "sd", "min", "max", "missing")
DIRECTIONS = ("positive", "negative", "any")
MODEL_TABLES = ("estimates", "fits", "variance_components")
SOURCE_KINDS = ("patients", *MODEL_TABLES, "json", "table")

Scalar = str | int | float | bool


# --------------------------------------------------------------------------------------------------
# Published numbers keep their printed precision
# --------------------------------------------------------------------------------------------------


class PublishedNumber(float):
    """A float that remembers how many decimals the paper printed (``0.10`` -> 2)."""

    decimals: int

    def __new__(cls, value: float, decimals: int) -> Self:
        number = super().__new__(cls, value)
        number.decimals = decimals
        return number


# libyaml's parser when it is installed: the Snakefile parses these files at every load.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PublishedLoader(SafeLoader):
    """YAML whose numbers are :class:`PublishedNumber`: ``0.10`` keeps its two decimals."""


def _number(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> PublishedNumber:
    text = str(node.value).replace("_", "")
    decimals = len(text.split(".", 1)[1]) if "." in text and "e" not in text.lower() else 0
    return PublishedNumber(float(text), decimals)


PublishedLoader.add_constructor("tag:yaml.org,2002:float", _number)
PublishedLoader.add_constructor("tag:yaml.org,2002:int", _number)


def lookup(document: Any, path: str) -> Any:
    """``table_4[1].slope`` or ``sample.completed_as_planned_pct.good`` in a nested mapping/list."""
    current = document
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        current = current[int(part[1:-1])] if part.startswith("[") else current[part]
    return current


@dataclass(frozen=True)
class Published:
    """The published values (``config/published/*.yaml``), every number a :class:`PublishedNumber`."""

    file: str
    values: Mapping[str, Any]

    def value(self, path: str) -> Any:
        """The value at ``path``; a :class:`ConfigError` naming this file and the path when there is none."""
        try:
            return lookup(self.values, path)
        except (KeyError, IndexError, TypeError):
            raise ConfigError("no such published value", file=self.file, key=path) from None


def published_from_text(text: str, file: str) -> Published:
    """Published values from YAML text; every key a name and every value a number, text, list or mapping."""
    values = _yaml(text, file, PublishedLoader)
    if not isinstance(values, dict):
        raise ConfigError("expected a mapping of published values", file=file)
    _check_published_values(values, file, "")
    return Published(file, values)


def load_published(path: str | Path) -> Published:
    """The published values of ``path`` (:func:`published_from_text`)."""
    return published_from_text(_read(path), str(path))


def _check_published_values(value: Any, file: str, key: str) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            if not isinstance(name, str):
                raise ConfigError(f"a key must be a name, not {name!r}", file=file, key=key)
            _check_published_values(item, file, f"{key}.{name}" if key else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_published_values(item, file, f"{key}[{index}]")
    elif isinstance(value, date):
        raise ConfigError(f'{value} reads as a date: quote it ("{value}")', file=file, key=key)
    elif value is not None and not isinstance(value, (PublishedNumber, str, bool)):
        raise ConfigError(f"{value!r} is not a number or text", file=file, key=key)


# --------------------------------------------------------------------------------------------------
# Significance as the paper states it
# --------------------------------------------------------------------------------------------------


def parse_expected(text: str) -> tuple[str, float] | None:
    """("ns", .05) | ("<", .05) | (">", .1) | ("=", .11); None for no statement. "ns" means p >= .05."""
    raw = str(text).strip().lower().replace(" ", "").lstrip("p")
    if raw in ("ns", "n.s."):
        return ("ns", ALPHA)
    match = re.fullmatch(r"(<|>|=)(0?\.\d+)", raw)
    return (match.group(1), float(match.group(2))) if match else None


# --------------------------------------------------------------------------------------------------
# The mapping's types
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tolerance:
    """How far a reproduced value may lie from the published one: ``absolute``; ``relative`` (a share of
    the published value, at least ``absolute_min``); ``se`` (multiples of the published SE)."""

    absolute: float | None = None
    relative: float | None = None
    absolute_min: float | None = None
    se: float | None = None

    def updated(self, other: Tolerance) -> Tolerance:
        """This tolerance with what ``other`` sets replacing it (an entry's own over its kind's)."""
        given = {f.name: getattr(other, f.name) for f in fields(other) if getattr(other, f.name) is not None}
        return replace(self, **given)


@dataclass(frozen=True)
class PatientStatistic:
    """A statistic of ``clean/patients.csv``: ``stat`` of ``column`` among the rows ``where`` (column:
    value); count and pct count the values that equal ``equals`` (default 1), are ``below`` or ``at_least``."""

    stat: str
    column: str | None = None
    where: Mapping[str, Scalar] = field(default_factory=dict)
    equals: Scalar | None = None
    below: int | float | None = None
    at_least: int | float | None = None


@dataclass(frozen=True)
class ModelValue:
    """A value of ``models/<table>.csv``: the row of ``model_id`` (and ``term`` or ``component``), the ``column``."""

    table: str  # one of MODEL_TABLES
    model_id: str
    column: str = "estimate"
    term: str | None = None  # estimates
    component: str | None = None  # variance_components


@dataclass(frozen=True)
class JsonValue:
    """A key (dotted) of a JSON output, ``file`` relative to the cohort's results."""

    file: str
    key: str


@dataclass(frozen=True)
class TableCell:
    """A number in a rendered table's CSV: the row whose cells equal ``row``, the ``column``; ``part`` picks
    the n-th number of a cell such as "26.0 (6.0)"."""

    file: str
    column: str
    row: Mapping[str, Scalar] = field(default_factory=dict)
    part: int | None = None


Source = PatientStatistic | ModelValue | JsonValue | TableCell


@dataclass(frozen=True)
class Entry:
    """One ``entries:`` item: a published number (``source``), a significance statement (``expected_p``
    with ``p_source``), or both. ``key`` is where it stands in the mapping (``entries[3]``)."""

    published: str
    kind: str = "value"
    part: int | None = None
    label: str | None = None
    id: str | None = None
    section: str | None = None
    tolerance: Tolerance = Tolerance()
    source: Source | None = None
    expected_p: str = ""
    p_source: Source | None = None
    key: str = ""

    @property
    def identifier(self) -> str:
        return (self.id or self.published) + (f"[{self.part}]" if self.part is not None else "")

    @property
    def section_name(self) -> str:
        return self.section or self.published.split(".")[0].split("[")[0]


@dataclass(frozen=True)
class ModelRow:
    """One published row of Table III or IV and the model that reproduces it."""

    published: str
    model_id: str
    label: str | None = None
    intercept_term: str | None = None
    slope_term: str | None = None
    section: str | None = None
    key: str = ""

    @property
    def name(self) -> str:
        return self.label or self.model_id

    @property
    def section_name(self) -> str:
        return self.section or self.published.split("[")[0]


@dataclass(frozen=True)
class Claim:
    """One claim of a text finding: the term of a model, its direction and the p the paper states."""

    model_id: str
    term: str
    direction: str = "any"
    p: str = ""


@dataclass(frozen=True)
class TextFinding:
    published: str
    id: str = "finding"
    text: str = ""
    claims: tuple[Claim, ...] = ()
    key: str = ""


@dataclass(frozen=True)
class NotCompared:
    """A published value the data cannot reproduce, and why."""

    published: str
    reason: str = ""


@dataclass(frozen=True)
class VerifyMapping:
    """``config/verify.yaml``: the published values' file and where each of them is reproduced."""

    published: str
    tolerances: Mapping[str, Tolerance] = field(default_factory=dict)
    entries: tuple[Entry, ...] = ()
    model_rows: tuple[ModelRow, ...] = ()
    findings: tuple[TextFinding, ...] = ()
    not_compared: tuple[NotCompared, ...] = ()
    file: str = ""

    def sources(self) -> list[tuple[str, Source]]:
        """(dotted key, source) of every entry's ``source`` and ``p_source``."""
        found = []
        for entry in self.entries:
            found += [
                (f"{entry.key}.{name}", s) for name, s in (("source", entry.source), ("p_source", entry.p_source)) if s
            ]
        return found


# --------------------------------------------------------------------------------------------------
# Reading the mapping
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    """A value of the YAML file and where it is, so that every error names the file and the dotted key."""

    value: Any
    file: str
    key: str = ""

    def at(self, name: str) -> _Node:
        return _Node(self.value.get(name), self.file, f"{self.key}.{name}" if self.key else name)

    def error(self, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, key=self.key)

    def mapping(self, allowed: Iterable[str], required: Iterable[str] = ()) -> _Node:
        """This node, which must be a mapping with only ``allowed`` keys and every ``required`` one."""
        allowed = tuple(allowed)
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping with keys {', '.join(allowed)}, not {self.value!r}")
        for name in self.value:
            if name not in allowed:
                raise self.at(str(name)).error(f"unknown key (expected one of {', '.join(allowed)})")
        for name in required:
            if self.value.get(name) is None:
                raise self.at(name).error("missing")
        return self

    def items(self, name: str) -> list[_Node]:
        """The items of the list under ``name`` (none when absent)."""
        node = self.at(name)
        if node.value is None:
            return []
        if not isinstance(node.value, list):
            raise node.error(f"expected a list, not {node.value!r}")
        return [_Node(item, self.file, f"{node.key}[{index}]") for index, item in enumerate(node.value)]

    def text(self, name: str, choices: Iterable[str] = ()) -> str | None:
        value = self.value.get(name)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise self.at(name).error(f"expected text, not {value!r}")
        choices = tuple(choices)
        if choices and str(value) not in choices:
            raise self.at(name).error(f"{value!r} is not one of {', '.join(choices)}")
        return str(value)

    def number(self, name: str) -> int | float | None:
        value = self.value.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise self.at(name).error(f"expected a number, not {value!r}")
        return value

    def scalars(self, name: str) -> dict[str, Scalar]:
        node = self.at(name)
        if node.value is None:
            return {}
        if not isinstance(node.value, dict) or any(
            isinstance(v, (dict, list)) or v is None for v in node.value.values()
        ):
            raise node.error(f"expected a mapping of column: value, not {node.value!r}")
        return {str(k): v for k, v in node.value.items()}

    def significance(self, name: str) -> str:
        text = self.text(name) or ""
        if text and parse_expected(text) is None:
            raise self.at(name).error(f"{text!r} is not a significance statement (ns, <.05, >.1, =.11)")
        return text


def _tolerance(node: _Node) -> Tolerance:
    node.mapping(("absolute", "relative", "absolute_min", "se"))
    values = {name: node.number(name) for name in ("absolute", "relative", "absolute_min", "se")}
    return Tolerance(**{name: float(v) for name, v in values.items() if v is not None})


def _patients(node: _Node) -> PatientStatistic:
    node.mapping(("stat", "column", "where", "equals", "below", "at_least"), required=("stat",))
    stat = str(node.text("stat", STATS))
    if stat != "n" and node.value.get("column") is None:
        raise node.at("column").error(f"missing (stat {stat} needs a column)")
    if sum(node.value.get(name) is not None for name in ("equals", "below", "at_least")) > 1:
        raise node.error("give at most one of equals, below, at_least")
    equals = node.value.get("equals")
    if isinstance(equals, (dict, list)):
        raise node.at("equals").error(f"expected a value, not {equals!r}")
    return PatientStatistic(
        stat=stat,
        column=node.text("column"),
        where=node.scalars("where"),
        equals=equals,
        below=node.number("below"),
        at_least=node.number("at_least"),
    )


def _model_value(node: _Node, table: str) -> ModelValue:
    keys = {"estimates": ("term",), "fits": ("column",), "variance_components": ("component",)}[table]
    node.mapping(("model_id", "column", *keys), required=("model_id", *keys))
    return ModelValue(
        table=table,
        model_id=str(node.text("model_id")),
        column=node.text("column") or "estimate",
        term=node.text("term"),
        component=node.text("component"),
    )


def _source(node: _Node) -> Source:
    node.mapping(SOURCE_KINDS)
    if len(node.value) != 1:
        raise node.error(f"expected exactly one of {', '.join(SOURCE_KINDS)}, not {sorted(node.value)}")
    kind = next(iter(node.value))
    spec = node.at(kind)
    if kind == "patients":
        return _patients(spec)
    if kind in MODEL_TABLES:
        return _model_value(spec, kind)
    if kind == "json":
        spec.mapping(("file", "key"), required=("file", "key"))
        return JsonValue(file=str(spec.text("file")), key=str(spec.text("key")))
    spec.mapping(("file", "row", "column", "part"), required=("file", "column"))
    part = spec.number("part")
    if part is not None and (not isinstance(part, int) or part < 0):
        raise spec.at("part").error(f"expected the index of a number in the cell (0, 1, ...), not {part!r}")
    return TableCell(file=str(spec.text("file")), column=str(spec.text("column")), row=spec.scalars("row"), part=part)


ENTRY_KEYS = ("published", "kind", "part", "label", "id", "section", "tolerance", "source", "expected_p", "p_source")


def _entry(node: _Node, kinds: Iterable[str]) -> Entry:
    node.mapping(ENTRY_KEYS, required=("published",))
    part = node.number("part")
    if part is not None and (not isinstance(part, int) or part < 0):
        raise node.at("part").error(f"expected the index in a published pair (0, 1), not {part!r}")
    expected = node.significance("expected_p")
    if expected and node.value.get("p_source") is None:
        raise node.at("p_source").error("missing (expected_p needs the source of the reproduced p)")
    if not node.value.get("source") and not expected:
        raise node.error("give a source, or an expected_p with its p_source")
    return Entry(
        published=str(node.text("published")),
        kind=node.text("kind", kinds) or "value",
        part=part,
        label=node.text("label"),
        id=node.text("id"),
        section=node.text("section"),
        tolerance=_tolerance(node.at("tolerance")) if node.value.get("tolerance") is not None else Tolerance(),
        source=_source(node.at("source")) if node.value.get("source") else None,
        expected_p=expected,
        p_source=_source(node.at("p_source")) if node.value.get("p_source") else None,
        key=node.key,
    )


def _model_row(node: _Node) -> ModelRow:
    node.mapping(
        ("published", "model_id", "label", "intercept_term", "slope_term", "section"), ("published", "model_id")
    )
    return ModelRow(
        published=str(node.text("published")),
        model_id=str(node.text("model_id")),
        label=node.text("label"),
        intercept_term=node.text("intercept_term"),
        slope_term=node.text("slope_term"),
        section=node.text("section"),
        key=node.key,
    )


def _claim(node: _Node) -> Claim:
    node.mapping(("model_id", "term", "direction", "p"), required=("model_id", "term"))
    return Claim(
        model_id=str(node.text("model_id")),
        term=str(node.text("term")),
        direction=node.text("direction", DIRECTIONS) or "any",
        p=node.significance("p"),
    )


def _finding(node: _Node) -> TextFinding:
    node.mapping(("id", "published", "text", "claims"), required=("published", "claims"))
    return TextFinding(
        published=str(node.text("published")),
        id=node.text("id") or "finding",
        text=node.text("text") or "",
        claims=tuple(_claim(claim) for claim in node.items("claims")),
        key=node.key,
    )


def _not_compared(node: _Node) -> NotCompared:
    node.mapping(("published", "reason"), required=("published",))
    return NotCompared(published=str(node.text("published")), reason=node.text("reason") or "")


MAPPING_KEYS = ("published", "tolerances", "entries", "model_rows", "findings", "not_compared")


def mapping_from_text(text: str, file: str) -> VerifyMapping:
    """The mapping of YAML text, every entry checked (a :class:`ConfigError` naming ``file`` and the key)."""
    root = _Node(_yaml(text, file, SafeLoader), file).mapping(MAPPING_KEYS, required=("published",))
    tolerances = root.at("tolerances")
    if tolerances.value is not None and not isinstance(tolerances.value, dict):
        raise tolerances.error(f"expected a mapping of kind: tolerance, not {tolerances.value!r}")
    by_kind = {str(kind): _tolerance(tolerances.at(str(kind))) for kind in tolerances.value or {}}
    kinds = (*KINDS, *by_kind)
    return VerifyMapping(
        published=str(root.text("published")),
        tolerances=by_kind,
        entries=tuple(_entry(node, kinds) for node in root.items("entries")),
        model_rows=tuple(_model_row(node) for node in root.items("model_rows")),
        findings=tuple(_finding(node) for node in root.items("findings")),
        not_compared=tuple(_not_compared(node) for node in root.items("not_compared")),
        file=file,
    )


def load_mapping(path: str | Path) -> VerifyMapping:
    """``config/verify.yaml`` (:func:`mapping_from_text`)."""
    return mapping_from_text(_read(path), str(path))


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot be read ({error})", file=str(path)) from None


def _yaml(text: str, file: str, loader: type[yaml.SafeLoader]) -> Any:
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"not valid YAML{where}: {getattr(error, 'problem', error)}", file=file) from None


# --------------------------------------------------------------------------------------------------
# The mapping against the published values
# --------------------------------------------------------------------------------------------------


def check_published(mapping: VerifyMapping, published: Published) -> None:
    """Every ``published:`` path of the mapping names a published value of the right shape: a number for
    an entry with a source (``part`` picking one of a pair), a row for a model row. One
    :class:`ConfigError` naming the mapping's file and key otherwise."""
    for entry in mapping.entries:
        value = _published(mapping, published, entry.published, f"{entry.key}.published")
        if entry.part is not None:
            if not isinstance(value, list) or entry.part >= len(value):
                raise ConfigError(
                    f"published value {value!r} has no part {entry.part}", mapping.file, f"{entry.key}.part"
                )
            value = value[entry.part]
        if entry.source is not None and entry.kind == LABEL and not isinstance(value, str):
            raise ConfigError(f"{entry.published} is {value!r}, not a label", mapping.file, f"{entry.key}.published")
        if entry.source is not None and entry.kind != LABEL and not isinstance(value, PublishedNumber):
            raise ConfigError(f"{entry.published} is {value!r}, not a number", mapping.file, f"{entry.key}.published")
    for row in mapping.model_rows:
        printed = _published(mapping, published, row.published, f"{row.key}.published")
        if not isinstance(printed, dict):
            raise ConfigError(f"{row.published} is not a table row", mapping.file, f"{row.key}.published")
        _check_row(printed, published.file, row.published)
    for finding in mapping.findings:
        _published(mapping, published, finding.published, f"{finding.key}.published")
    for index, item in enumerate(mapping.not_compared):
        _published(mapping, published, item.published, f"not_compared[{index}].published")


def _published(mapping: VerifyMapping, published: Published, path: str, key: str) -> Any:
    try:
        return lookup(published.values, path)
    except (KeyError, IndexError, TypeError):
        raise ConfigError(f"{path!r} names no value of {published.file}", mapping.file, key) from None


def _check_row(row: Mapping[str, Any], file: str, path: str) -> None:
    """A published model row (``path`` in ``file``): intercept and slope are [estimate, SE] or "ns"; the p's
    significance statements."""
    for part in ("intercept", "slope"):
        value = row.get(part)
        pair = isinstance(value, list) and len(value) == 2 and all(isinstance(v, PublishedNumber) for v in value)
        if value is not None and value != "ns" and not pair:
            raise ConfigError(f"expected [estimate, SE] or ns, not {value!r}", file, f"{path}.{part}")
        expected = row.get(f"{part}_p")
        if expected is not None and parse_expected(str(expected)) is None:
            raise ConfigError(f"{expected!r} is not a significance statement", file, f"{path}.{part}_p")
    for name in ("explained_intercept", "explained_slope", "aic"):
        if row.get(name) is not None and not isinstance(row[name], PublishedNumber):
            raise ConfigError(f"expected a number, not {row[name]!r}", file, f"{path}.{name}")


def check_study_mapping(mapping: VerifyMapping) -> None:
    """A companion study's mapping (config/verify_<study>.yaml) names its values in the study's own outputs:
    JSON and table sources only, no model rows or findings (a study fits no mixed model)."""
    for key, source in mapping.sources():
        if not isinstance(source, (JsonValue, TableCell)):
            raise ConfigError(
                "a study's values come from its JSON or table outputs (json: or table:)", mapping.file, key
            )
    if mapping.model_rows or mapping.findings:
        key = "model_rows" if mapping.model_rows else "findings"
        raise ConfigError("a study fits no mixed model: no model_rows or findings", mapping.file, key)
