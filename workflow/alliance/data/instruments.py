"""Instrument definitions, read from ``config/instruments.yaml``.

The scoring rules of every questionnaire (which items form a subscale, which are reversed, the scale
range, how many missing items are tolerated) are data. This module turns that YAML into small frozen
objects; nothing about a particular form is written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alliance.errors import ConfigError, Keyed

# Columns of wai_long re-scored from the common items only: ``<subscale>_common``.
COMMON_ITEMS_SUFFIX = "_common"


@dataclass(frozen=True)
class WaiVersion:
    name: str
    group_label: str
    scale_min: int
    scale_max: int
    min_answered: int
    subscales: Mapping[str, tuple[int, ...]]
    reversed_items: frozenset[int]
    wording: Mapping[int, str] = field(default_factory=dict)

    def reverse(self, value: float) -> float:
        return self.scale_min + self.scale_max - value


@dataclass(frozen=True)
class Wai:
    file: str
    item_columns: tuple[str, ...]
    subscales: tuple[str, ...]
    total: str
    versions: Mapping[str, WaiVersion]
    # Items worded identically in every version, per subscale, for the common-items sensitivity
    # analysis (subscales re-scored from these only); empty when not configured.
    common_items: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    common_min_answered: int = 0

    def item_column(self, item_number: int) -> str:
        return self.item_columns[item_number - 1]


@dataclass(frozen=True)
class ItemScale:
    """A questionnaire scored from items into one total (WSAS sum, BSI-18 mean)."""

    file: str
    item_columns: tuple[str, ...]
    scale_min: int
    scale_max: int
    scoring: str
    min_answered: int
    outcome_threshold: float


@dataclass(frozen=True)
class Gaf:
    file: str
    score_column: str
    scale_min: int
    scale_max: int
    optional_columns: tuple[str, ...]


@dataclass(frozen=True)
class Sipp:
    file: str
    domains: tuple[str, ...]
    scale_min: float
    scale_max: float


@dataclass(frozen=True)
class Eq5d:
    file: str
    dimensions: tuple[str, ...]
    level_min: int
    level_max: int
    vas_column: str
    vas_min: int
    vas_max: int
    value_set_name: str
    constant: float
    n3: float
    decrements: Mapping[str, Mapping[int, float]]


@dataclass(frozen=True)
class Instruments:
    wai: Wai
    gaf: Gaf
    wsas: ItemScale
    bsi: ItemScale
    sipp_sf: Sipp
    eq5d: Eq5d


class InstrumentConfigError(ConfigError):
    """The instrument configuration itself is inconsistent."""


def _wai_version(name: str, spec: Mapping[str, Any], n_items: int, subscale_names: tuple[str, ...]) -> WaiVersion:
    subscales = {s: tuple(int(i) for i in items) for s, items in spec["subscales"].items()}
    if set(subscales) != set(subscale_names):
        raise InstrumentConfigError(
            f"WAI version {name}: subscales {sorted(subscales)} differ from {sorted(subscale_names)}"
        )
    used = [i for items in subscales.values() for i in items]
    if len(used) != len(set(used)) or not all(1 <= i <= n_items for i in used):
        raise InstrumentConfigError(f"WAI version {name}: each item 1..{n_items} may belong to one subscale only")
    reversed_items = frozenset(int(i) for i in spec.get("reversed", []))
    if not reversed_items <= set(used):
        raise InstrumentConfigError(f"WAI version {name}: reversed items {sorted(reversed_items)} are not scored")
    if int(spec["scale_min"]) >= int(spec["scale_max"]):
        raise InstrumentConfigError(f"WAI version {name}: scale_min must be below scale_max")
    return WaiVersion(
        name=name,
        group_label=str(spec["group_label"]),
        scale_min=int(spec["scale_min"]),
        scale_max=int(spec["scale_max"]),
        min_answered=int(spec["min_answered"]),
        subscales=subscales,
        reversed_items=reversed_items,
        wording={int(k): str(v) for k, v in spec.get("wording", {}).items()},
    )


def _item_scale(spec: Mapping[str, Any]) -> ItemScale:
    return ItemScale(
        file=spec["file"],
        item_columns=tuple(spec["item_columns"]),
        scale_min=int(spec["scale_min"]),
        scale_max=int(spec["scale_max"]),
        scoring=str(spec["scoring"]),
        min_answered=int(spec["min_answered"]),
        outcome_threshold=float(spec["outcome_threshold"]),
    )


def _check_common_items(
    common_items: Mapping[str, tuple[int, ...]], versions: Mapping[str, WaiVersion], subscale_names: tuple[str, ...]
) -> None:
    """A common item must score the same subscale, in the same direction, with the same wording, in every
    version: otherwise re-scoring from it would not remove the difference between the forms."""
    if not common_items:
        return
    if set(common_items) != set(subscale_names):
        raise InstrumentConfigError(f"wai.common_items: give items for every subscale {list(subscale_names)}")
    for subscale, items in common_items.items():
        if not items:
            raise InstrumentConfigError(f"wai.common_items: subscale {subscale} has no items")
        for item in items:
            for version in versions.values():
                if item not in version.subscales[subscale]:
                    raise InstrumentConfigError(
                        f"wai.common_items: item {item} is not a {subscale} item of {version.name}"
                    )
            reversed_in = {item in v.reversed_items for v in versions.values()}
            wordings = {v.wording[item] for v in versions.values() if item in v.wording}
            if len(reversed_in) > 1 or len(wordings) > 1:
                raise InstrumentConfigError(
                    f"wai.common_items: item {item} ({subscale}) is worded or keyed differently between versions"
                )


def instruments_from_mapping(spec: Mapping[str, Any]) -> Instruments:
    wai_spec = spec["wai"]
    item_columns = tuple(wai_spec["item_columns"])
    subscale_names = tuple(wai_spec["subscales"])
    versions = {
        name: _wai_version(name, v, len(item_columns), subscale_names) for name, v in wai_spec["versions"].items()
    }
    labels = [v.group_label for v in versions.values()]
    if len(labels) != len(set(labels)):
        raise InstrumentConfigError("WAI versions need distinct group_label values")
    common_spec = wai_spec.get("common_items") or {}
    common_items = {s: tuple(int(i) for i in items) for s, items in common_spec.get("subscales", {}).items()}
    _check_common_items(common_items, versions, subscale_names)
    common_min = int(common_spec.get("min_answered", max((len(i) for i in common_items.values()), default=0)))
    if common_items and not 1 <= common_min <= min(len(i) for i in common_items.values()):
        raise InstrumentConfigError("wai.common_items.min_answered must be between 1 and the items per subscale")
    eq = spec["eq5d"]
    return Instruments(
        wai=Wai(
            file=wai_spec["file"],
            item_columns=item_columns,
            subscales=subscale_names,
            total=str(wai_spec.get("total", "mean_of_subscales")),
            versions=versions,
            common_items=common_items,
            common_min_answered=common_min,
        ),
        gaf=Gaf(
            file=spec["gaf"]["file"],
            score_column=spec["gaf"]["score_column"],
            scale_min=int(spec["gaf"]["scale_min"]),
            scale_max=int(spec["gaf"]["scale_max"]),
            optional_columns=tuple(spec["gaf"].get("optional_columns", [])),
        ),
        wsas=_item_scale(spec["wsas"]),
        bsi=_item_scale(spec["bsi"]),
        sipp_sf=Sipp(
            file=spec["sipp_sf"]["file"],
            domains=tuple(spec["sipp_sf"]["domains"]),
            scale_min=float(spec["sipp_sf"]["scale_min"]),
            scale_max=float(spec["sipp_sf"]["scale_max"]),
        ),
        eq5d=Eq5d(
            file=eq["file"],
            dimensions=tuple(eq["dimensions"]),
            level_min=int(eq["level_min"]),
            level_max=int(eq["level_max"]),
            vas_column=eq["vas_column"],
            vas_min=int(eq["vas_min"]),
            vas_max=int(eq["vas_max"]),
            value_set_name=str(eq["value_set"]["name"]),
            constant=float(eq["value_set"]["constant"]),
            n3=float(eq["value_set"]["n3"]),
            decrements={
                dim: {int(level): float(d) for level, d in levels.items()}
                for dim, levels in eq["value_set"]["decrements"].items()
            },
        ),
    )


def load_instruments(path: str | Path) -> Instruments:
    """config/instruments.yaml, parsed and checked; a problem is one InstrumentConfigError naming file and key."""
    try:
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        raise InstrumentConfigError(f"cannot read the instrument definitions: {error}", file=str(path)) from None
    if not isinstance(spec, Mapping):
        raise InstrumentConfigError("must be a mapping of instruments", file=str(path))
    try:
        return instruments_from_mapping(Keyed(spec, error=InstrumentConfigError))
    except InstrumentConfigError as error:
        raise error.located(str(path)) from None
    except (TypeError, ValueError, AttributeError) as error:  # a value of the wrong type
        raise InstrumentConfigError(f"a value has the wrong type or form: {error}", file=str(path)) from None
