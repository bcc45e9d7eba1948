"""The rows of Table II as ``config/tables.yaml`` declares them (``table_2.rows``).

What the descriptive tables show is data, not code: adding a row of Table II is a line of the YAML file.
Standard library and yaml only (no numpy, pandas or scipy), so that the Snakefile can check the file at
every load; every problem is a :class:`~alliance.errors.ConfigError` naming the file and the key
(``config/tables.yaml, key 'table_2.rows[3].kind': ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from alliance.errors import ConfigError

Kind = Literal["pct", "mean"]
ROWS_KEY = "table_2.rows"
KEYS = ("label", "column", "kind", "equals", "section", "decimals")
REQUIRED = ("label", "column", "kind")


@dataclass(frozen=True)
class RowSpec:
    """One row of Table II: a percentage of a 0/1 (or ``equals``) column, or a mean (SD)."""

    label: str
    column: str
    kind: Kind
    equals: str | float | None = None
    section: str = ""
    decimals: int = 1

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any], key: str = "row", file: str = "") -> RowSpec:
        """The row declared by ``spec``, found at ``key`` of ``file`` (named by the errors)."""
        _check_row(spec, key, file)
        return cls(
            label=str(spec["label"]),
            column=str(spec["column"]),
            kind="pct" if spec["kind"] == "pct" else "mean",
            equals=spec.get("equals"),
            section=str(spec.get("section", "")),
            decimals=int(spec.get("decimals", 1)),
        )


def _check_row(spec: Any, key: str, file: str) -> None:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"a row is a mapping of {', '.join(KEYS)}, not {spec!r}", file=file, key=key)
    unknown = sorted(str(name) for name in spec if name not in KEYS)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(KEYS)})", file=file, key=key)
    for name in REQUIRED:
        if spec.get(name) in (None, ""):
            raise ConfigError("missing; every row has a label, a column and a kind", file=file, key=f"{key}.{name}")
    label = spec["label"]
    if spec["kind"] not in ("pct", "mean"):
        raise ConfigError(
            f"row {label!r}: kind must be pct or mean, not {spec['kind']!r}", file=file, key=f"{key}.kind"
        )
    if spec["kind"] == "mean" and spec.get("equals") is not None:
        raise ConfigError(f"row {label!r}: equals is for kind pct only", file=file, key=f"{key}.equals")
    decimals = spec.get("decimals", 1)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise ConfigError(f"row {label!r}: decimals must be a whole number >= 0", file=file, key=f"{key}.decimals")


def row_specs(rows: Sequence[RowSpec | Mapping[str, Any]], file: str = "", key: str = ROWS_KEY) -> tuple[RowSpec, ...]:
    """Rows as :class:`RowSpec` (mappings are checked; ``file`` and ``key`` locate them in errors)."""
    return tuple(
        row if isinstance(row, RowSpec) else RowSpec.from_mapping(row, f"{key}[{index}]", file)
        for index, row in enumerate(rows)
    )


def load_table_rows(path: str | Path) -> tuple[RowSpec, ...]:
    """The ``table_2.rows`` of ``config/tables.yaml``, checked."""
    file = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read the table rows: {error.strerror}", file=file) from error
    except yaml.YAMLError as error:
        raise ConfigError(f"not valid YAML: {error}", file=file) from error
    table_2 = document.get("table_2") if isinstance(document, Mapping) else None
    rows = table_2.get("rows") if isinstance(table_2, Mapping) else None
    if not isinstance(rows, list) or not rows:
        raise ConfigError("a list of the rows of Table II is required here", file=file, key=ROWS_KEY)
    return row_specs(rows, file)
