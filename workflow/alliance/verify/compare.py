"""Published against reproduced: every number the paper published beside the workflow's own.

The published values are ``config/published/folmo2020.yaml``; *where* each of them is reproduced is data too,
``config/verify.yaml``: for each published entry the output file, model, term and column (or a cohort
statistic of ``clean/patients.csv``), the kind of number (which sets the default tolerance) and, for model
estimates, the significance the paper states ("ns", stars, ``slope_p``). Text findings map to
(model_id, term, expected direction, expected p).

Each comparison gets a verdict:

* ``matches``: the reproduced value rounded to the published precision is the published value;
* ``within tolerance``: it is not, but the difference is within the tolerance;
* ``differs``: it is outside the tolerance;
* ``not reproduced``: the workflow has no such value (a model not fitted, a suppressed cell).

and, separately, whether the significance decision agrees (``agrees``, ``stars differ`` when both are
significant at .05 but at different star levels, ``disagrees``, ``not stated``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Self

import pandas as pd
import yaml

from alliance.errors import AllianceError
from alliance.stats.model_runs import not_collected_reason

VERDICTS = ("matches", "within tolerance", "differs", "not reproduced")
SIGNIFICANCE_VERDICTS = ("agrees", "stars differ", "disagrees", "not stated", "not reproduced")
ALPHA = 0.05


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


class _PublishedLoader(yaml.SafeLoader):
    pass


def _number(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> PublishedNumber:
    text = str(node.value).replace("_", "")
    decimals = len(text.split(".", 1)[1]) if "." in text and "e" not in text.lower() else 0
    return PublishedNumber(float(text), decimals)


_PublishedLoader.add_constructor("tag:yaml.org,2002:float", _number)
_PublishedLoader.add_constructor("tag:yaml.org,2002:int", _number)


def load_published(path: str | Path) -> dict[str, Any]:
    """The published values, every number a :class:`PublishedNumber`."""
    with open(path, encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=_PublishedLoader)
    return dict(loaded)


def decimals_of(value: Any) -> int:
    if isinstance(value, PublishedNumber):
        return value.decimals
    text = repr(float(value))
    return len(text.split(".", 1)[1].rstrip("0")) if "." in text else 0


def lookup(document: Any, path: str) -> Any:
    """``table_4[1].slope`` or ``sample.completed_as_planned_pct.good`` in a nested mapping/list."""
    current = document
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            current = current[int(part[1:-1])]
        else:
            current = current[part]
    return current


def round_half_up(value: float, decimals: int) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------------------------------
# Where reproduced values come from
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outputs:
    """The outputs of one cohort that comparisons read (any may be missing)."""

    root: Path  # results/<cohort>
    patients: pd.DataFrame | None = None
    estimates: pd.DataFrame | None = None
    fits: pd.DataFrame | None = None
    variance_components: pd.DataFrame | None = None

    @classmethod
    def read(cls, root: str | Path, patients: str | Path | None = None) -> Outputs:
        root = Path(root)

        def csv(path: Path) -> pd.DataFrame | None:
            return pd.read_csv(path, keep_default_na=False, na_values=[""]) if path.exists() else None

        return cls(
            root=root,
            patients=csv(Path(patients)) if patients else csv(root / "clean" / "patients.csv"),
            estimates=csv(root / "models" / "estimates.csv"),
            fits=csv(root / "models" / "fits.csv"),
            variance_components=csv(root / "models" / "variance_components.csv"),
        )


class NotReproduced(AllianceError):
    """The outputs hold no value for this source."""


def _one(frame: pd.DataFrame | None, what: str, **match: Any) -> Mapping[str, Any]:
    if frame is None:
        raise NotReproduced(f"{what} not built")
    selected = frame
    for column, value in match.items():
        selected = selected[selected[column].astype(str) == str(value)]
    if selected.empty:
        raise NotReproduced(f"no {', '.join(f'{k}={v}' for k, v in match.items())} in {what}")
    return dict(selected.iloc[0])


def _float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise NotReproduced(f"not a number: {value!r}") from error
    if math.isnan(number):
        raise NotReproduced("no value")
    return number


def _where(frame: pd.DataFrame, where: Mapping[str, Any] | None) -> pd.DataFrame:
    for column, value in (where or {}).items():
        frame = frame[frame[column].astype(str) == str(value)]
    return frame


def patient_statistic(patients: pd.DataFrame, spec: Mapping[str, Any]) -> float:
    """A statistic of ``clean/patients.csv``: ``stat`` n | count | pct | mean | sd | missing, of ``column``,
    among the rows ``where`` (``{column: value}``); count and pct count ``equals`` (default 1),
    ``below`` or ``at_least`` a value; pct is of the rows with a value of the column."""
    stat = str(spec["stat"])
    rows = _where(patients, spec.get("where"))
    if stat == "n":
        return float(len(rows))
    column = str(spec["column"])
    if column not in rows.columns:
        raise NotReproduced(f"no column {column} in clean/patients.csv")
    raw = rows[column]
    present = raw.notna() & raw.astype(str).str.strip().ne("")
    if stat == "missing":
        return float((~present).sum())
    values = raw[present]
    if stat in ("mean", "sd", "min", "max"):
        numbers = pd.to_numeric(values, errors="coerce").dropna()
        if numbers.empty:
            raise NotReproduced("no values")
        summary = {"mean": numbers.mean, "sd": lambda: numbers.std(ddof=1), "min": numbers.min, "max": numbers.max}
        return float(summary[stat]())
    if "below" in spec:
        hit = pd.to_numeric(values, errors="coerce") < float(spec["below"])
    elif "at_least" in spec:
        hit = pd.to_numeric(values, errors="coerce") >= float(spec["at_least"])
    else:
        hit = values.astype(str).str.strip() == _plain(spec.get("equals", 1))
        if not isinstance(spec.get("equals", 1), str):
            hit = pd.to_numeric(values, errors="coerce") == float(spec.get("equals", 1))
    if stat == "count":
        return float(hit.sum())
    if stat == "pct":
        if len(values) == 0:
            raise NotReproduced("no values")
        return 100.0 * float(hit.sum()) / float(len(values))
    raise ValueError(f"unknown stat {stat!r}")


def _plain(value: Any) -> str:
    return str(value)


def _dotted(document: Any, key: str) -> Any:
    try:
        return lookup(document, key)
    except (KeyError, IndexError, TypeError) as error:
        raise NotReproduced(f"no {key}") from error


def table_cell(path: Path, row: Mapping[str, Any], column: str, part: int | None) -> float:
    """A number in a rendered table's CSV: the row whose cells equal ``row``, the ``column``; ``part`` picks
    the n-th number of a cell such as "26.0 (6.0)"; a p printed "< .001" reads as half the bound."""
    if not path.exists():
        raise NotReproduced(f"{path.name} not built")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    selected = _where(frame, row)
    if selected.empty or column not in frame.columns:
        raise NotReproduced(f"no such row/column in {path.name}")
    text = str(selected.iloc[0][column]).strip()
    bound = re.fullmatch(r"<\s*(0?\.\d+)", text)
    if bound:  # a p printed as "< .001": any value below the bound serves the significance decision
        return float(bound.group(1)) / 2
    if text.startswith("<"):
        raise NotReproduced(f"suppressed ({text})")
    numbers = re.findall(r"-?(?:\d+(?:\.\d+)?|\.\d+)", text)
    if not numbers:
        raise NotReproduced(f"no number in cell {text!r}")
    return float(numbers[part or 0])


def _collected(outputs: Outputs, model_id: str) -> None:
    """A model resting on an instrument the cohort did not collect has no value to compare, and says why."""
    if outputs.fits is None:
        return
    rows = outputs.fits[outputs.fits["model_id"].astype(str) == model_id]
    reason = not_collected_reason(rows.iloc[0]) if len(rows) else ""
    if reason:
        raise NotReproduced(reason)


def source_value(source: Mapping[str, Any], outputs: Outputs) -> float:
    """The reproduced value a source of ``config/verify.yaml`` points to."""
    for kind in ("estimates", "fits", "variance_components"):
        if kind in source:
            _collected(outputs, str(source[kind]["model_id"]))
    if "patients" in source:
        if outputs.patients is None:
            raise NotReproduced("clean/patients.csv not built")
        return patient_statistic(outputs.patients, source["patients"])
    if "estimates" in source:
        spec = source["estimates"]
        row = _one(outputs.estimates, "models/estimates.csv", model_id=spec["model_id"], term=spec["term"])
        return _float(row[spec.get("column", "estimate")])
    if "fits" in source:
        spec = source["fits"]
        row = _one(outputs.fits, "models/fits.csv", model_id=spec["model_id"])
        return _float(row[spec["column"]])
    if "variance_components" in source:
        spec = source["variance_components"]
        row = _one(
            outputs.variance_components,
            "models/variance_components.csv",
            model_id=spec["model_id"],
            component=spec["component"],
        )
        return _float(row[spec.get("column", "estimate")])
    if "json" in source:
        spec = source["json"]
        path = outputs.root / spec["file"]
        if not path.exists():
            raise NotReproduced(f"{spec['file']} not built")
        return _float(_dotted(json.loads(path.read_text(encoding="utf-8")), spec["key"]))
    if "table" in source:
        spec = source["table"]
        return table_cell(outputs.root / spec["file"], spec.get("row", {}), spec["column"], spec.get("part"))
    raise ValueError(f"unknown source {dict(source)!r}")


def describe_source(source: Mapping[str, Any]) -> str:
    """Where a value comes from, for the report: "models/estimates.csv: goals_growth / time / estimate"."""
    kind, spec = next(iter(source.items()))
    if kind == "patients":
        parts = [f"{spec['stat']}"] + ([str(spec["column"])] if "column" in spec else [])
        for key in ("equals", "below", "at_least"):
            if key in spec:
                parts.append(f"{key} {spec[key]}")
        if spec.get("where"):
            parts.append("where " + ", ".join(f"{k}={v}" for k, v in spec["where"].items()))
        return "clean/patients.csv: " + " ".join(parts)
    if kind in ("estimates", "fits", "variance_components"):
        keys = [spec.get("model_id"), spec.get("term") or spec.get("component"), spec.get("column", "estimate")]
        return f"models/{kind}.csv: " + " / ".join(str(k) for k in keys if k)
    if kind == "json":
        return f"{spec['file']}: {spec['key']}"
    if kind == "table":
        row = ", ".join(f"{k}={v}" for k, v in spec.get("row", {}).items())
        return f"{spec['file']}: [{row}] {spec['column']}"
    return kind


# --------------------------------------------------------------------------------------------------
# Tolerances and verdicts
# --------------------------------------------------------------------------------------------------


def tolerance_of(spec: Mapping[str, Any], published_se: float | None) -> tuple[float, str]:
    """(absolute tolerance, its description): ``absolute``, ``relative`` (of the published value, given as
    ``relative`` with the value filled in by :func:`compare_number`) or ``se`` (multiples of the published SE)."""
    if "absolute" in spec:
        return float(spec["absolute"]), f"\u00b1{format(float(spec['absolute']), 'g')}"
    if "se" in spec and published_se is not None:
        return float(spec["se"]) * published_se, f"\u00b1{format(float(spec['se']), 'g')} SE"
    return math.nan, ""


def compare_number(
    published: float, reproduced: float, tolerance: Mapping[str, Any], published_se: float | None = None
) -> tuple[str, float, str]:
    """(verdict, difference, tolerance text) of one number."""
    decimals = decimals_of(published)
    difference = reproduced - float(published)
    if round_half_up(reproduced, decimals) == round_half_up(float(published), decimals):
        verdict = "matches"
    else:
        verdict = "differs"
    if "relative" in tolerance:
        allowed = abs(float(published)) * float(tolerance["relative"])
        text = f"\u00b1{format(100 * float(tolerance['relative']), 'g')} %"
        if "absolute_min" in tolerance:
            allowed = max(allowed, float(tolerance["absolute_min"]))
            text += f" (at least \u00b1{format(float(tolerance['absolute_min']), 'g')})"
    else:
        allowed, text = tolerance_of(tolerance, published_se)
    if verdict == "differs" and not math.isnan(allowed) and abs(difference) <= allowed + 1e-12:
        verdict = "within tolerance"
    return verdict, difference, text


# Significance as the paper states it: "ns" (p >= .05), or p below a threshold ("<.05", "<.001").
def parse_expected(text: str) -> tuple[str, float] | None:
    """("ns", .05) | ("<", .05) | (">", .1) | ("=", .11); None for no statement."""
    raw = str(text).strip().lower().replace(" ", "").lstrip("p")
    if raw in ("ns", "n.s."):
        return ("ns", ALPHA)
    match = re.fullmatch(r"(<|>|=)(0?\.\d+)", raw)
    return (match.group(1), float(match.group(2))) if match else None


def stars(p: float) -> str:
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def significance_verdict(expected: str, p: float) -> str:
    """Does a reproduced p agree with what the paper states?"""
    parsed = parse_expected(expected)
    if parsed is None:
        return "not stated"
    if math.isnan(p):
        return "not reproduced"
    operator, threshold = parsed
    if operator == "ns":
        return "agrees" if p >= ALPHA else "disagrees"
    if operator == ">":
        return "agrees" if p > threshold else "disagrees"
    if operator == "=":
        return "agrees" if round_half_up(p, decimals_of(threshold) or 2) == threshold else "disagrees"
    if p < threshold:
        return "agrees"
    if threshold < ALPHA and p < ALPHA:
        return "stars differ"
    return "disagrees"


# --------------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One published number (or significance statement) beside its reproduction."""

    id: str
    section: str
    label: str
    published: str
    reproduced: str
    difference: str
    tolerance: str
    verdict: str  # VERDICTS, or "" for a significance-only statement
    expected_significance: str
    reproduced_p: str
    significance: str  # SIGNIFICANCE_VERDICTS
    source: str
    note: str = ""


def _fmt(value: float, decimals: int) -> str:
    return format(round_half_up(value, decimals + 2), f".{decimals + 2}f") if not math.isnan(value) else ""


def _fmt_p(p: float) -> str:
    if math.isnan(p):
        return ""
    return "< .001" if p < 0.001 else format(round_half_up(p, 3), ".3f").lstrip("0")


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    if isinstance(value, PublishedNumber):
        return format(float(value), f".{value.decimals}f")
    return str(value)


def compare_entry(
    entry: Mapping[str, Any], published: Any, outputs: Outputs, tolerances: Mapping[str, Any]
) -> Comparison:
    """One ``entries:`` item of ``config/verify.yaml``: a number (``source``), a significance statement
    (``expected_p`` with ``p_source``), or both."""
    value: Any = lookup(published, entry["published"]) if "published" in entry else entry.get("value")
    if "part" in entry:
        value = value[int(entry["part"])]
    kind = str(entry.get("kind", "value"))
    tolerance = dict(tolerances.get(kind, {}))
    tolerance.update(entry.get("tolerance", {}))
    identifier = str(entry.get("id", entry.get("published", "")) + (f"[{entry['part']}]" if "part" in entry else ""))
    section = str(entry.get("section", str(entry.get("published", "")).split(".")[0].split("[")[0]))
    label = str(entry.get("label", entry.get("published", "")))
    source = entry.get("source")
    notes: list[str] = []
    published_text = _text(value) if source else ""
    reproduced_text = difference_text = tolerance_text = verdict = ""
    if source:
        try:
            reproduced = source_value(source, outputs)
        except NotReproduced as reason:
            verdict = "not reproduced"
            notes.append(str(reason))
        else:
            verdict, difference, tolerance_text = compare_number(float(value), reproduced, tolerance)
            decimals = decimals_of(value)
            reproduced_text, difference_text = _fmt(reproduced, decimals), _fmt(difference, decimals)
    expected = str(entry.get("expected_p", ""))
    reproduced_p, significance = "", "not stated"
    sources = [describe_source(source)] if source else []
    if expected and "p_source" in entry:
        sources.append(describe_source(entry["p_source"]))
        try:
            p = source_value(entry["p_source"], outputs)
        except NotReproduced as reason:
            significance = "not reproduced"
            notes.append(str(reason))
        else:
            reproduced_p, significance = _fmt_p(p), significance_verdict(expected, p)
        if not source:
            published_text = "p " + expected
    return Comparison(
        id=identifier,
        section=section,
        label=label,
        published=published_text,
        reproduced=reproduced_text,
        difference=difference_text,
        tolerance=tolerance_text,
        verdict=verdict,
        expected_significance=expected,
        reproduced_p=reproduced_p,
        significance=significance,
        source="; ".join(sources),
        note="; ".join(notes),
    )


def _estimate_row(outputs: Outputs, model_id: str, term: str) -> Mapping[str, Any]:
    _collected(outputs, model_id)
    return _one(outputs.estimates, "models/estimates.csv", model_id=model_id, term=term)


def compare_model_row(
    row: Mapping[str, Any], published: Any, outputs: Outputs, tolerances: Mapping[str, Any]
) -> list[Comparison]:
    """One published row of Table III or IV against one model: intercept and slope (estimate, SE and the
    significance the paper prints), explained intercept/slope variation and AIC."""
    printed = lookup(published, row["published"])
    model_id = str(row["model_id"])
    section = str(row.get("section", row["published"].split("[")[0]))
    name = str(row.get("label", model_id))
    has_predictor = bool(printed.get("predictor"))
    results: list[Comparison] = []
    for part, term in (("intercept", row.get("intercept_term")), ("slope", row.get("slope_term"))):
        value = printed.get(part)
        if value is None or term is None:
            continue
        expected = str(printed.get(f"{part}_p", ""))
        if value == "ns":
            expected = "ns"
        elif has_predictor and not expected:
            expected = "<.05"  # printed with an estimate instead of "ns": significant at .05
        base = f"{row['published']}.{part}"
        source = {"estimates": {"model_id": model_id, "term": term}}
        try:
            estimate_row = _estimate_row(outputs, model_id, str(term))
            estimate, se, p = (_float(estimate_row[c]) for c in ("estimate", "std_error", "p_value"))
        except NotReproduced as reason:
            results.append(
                Comparison(
                    base,
                    section,
                    f"{name}: {part}",
                    _text(value),
                    "",
                    "",
                    "",
                    "not reproduced" if value != "ns" else "",
                    expected,
                    "",
                    "not reproduced",
                    describe_source(source),
                    str(reason),
                )
            )
            continue
        significance = significance_verdict(expected, p) if expected else "not stated"
        if value == "ns":
            results.append(
                Comparison(
                    base,
                    section,
                    f"{name}: {part}",
                    "ns",
                    f"{_fmt(estimate, 2)} ({_fmt(se, 2)})",
                    "",
                    "",
                    "",
                    "ns",
                    _fmt_p(p),
                    significance,
                    describe_source(source),
                )
            )
            continue
        published_estimate, published_se = value[0], value[1]
        verdict, difference, tolerance_text = compare_number(
            float(published_estimate), estimate, tolerances.get("estimate", {}), float(published_se)
        )
        results.append(
            Comparison(
                f"{base}.estimate",
                section,
                f"{name}: {part} estimate",
                _text(published_estimate),
                _fmt(estimate, decimals_of(published_estimate)),
                _fmt(difference, decimals_of(published_estimate)),
                tolerance_text,
                verdict,
                expected,
                _fmt_p(p),
                significance,
                describe_source(source),
            )
        )
        verdict, difference, tolerance_text = compare_number(float(published_se), se, tolerances.get("se", {}))
        se_source = {"estimates": {"model_id": model_id, "term": term, "column": "std_error"}}
        results.append(
            Comparison(
                f"{base}.se",
                section,
                f"{name}: {part} SE",
                _text(published_se),
                _fmt(se, decimals_of(published_se)),
                _fmt(difference, decimals_of(published_se)),
                tolerance_text,
                verdict,
                "",
                "",
                "not stated",
                describe_source(se_source),
            )
        )
    for key, column, kind in (
        ("explained_intercept", "explained_intercept_pct", "explained"),
        ("explained_slope", "explained_slope_pct", "explained"),
        ("aic", "aic", "aic"),
    ):
        if printed.get(key) is None:
            continue
        entry = {
            "id": f"{row['published']}.{key}",
            "published": f"{row['published']}.{key}",
            "section": section,
            "label": f"{name}: {key.replace('_', ' ')}",
            "kind": kind,
            "source": {"fits": {"model_id": model_id, "column": column}},
        }
        results.append(compare_entry(entry, published, outputs, tolerances))
    if printed.get("reference"):
        for component in ("intercept", "slope"):
            source = {"variance_components": {"model_id": model_id, "component": component, "column": "p_value"}}
            try:
                p = source_value(source, outputs)
            except NotReproduced as reason:
                p, note = math.nan, str(reason)
            else:
                note = ""
            results.append(
                Comparison(
                    f"{row['published']}.reference_{component}",
                    section,
                    f"{name}: {component} variance (Reference*)",
                    "Reference*",
                    "",
                    "",
                    "",
                    "",
                    "<.05",
                    _fmt_p(p),
                    significance_verdict("<.05", p),
                    describe_source(source),
                    note,
                )
            )
    return results


def compare_finding(finding: Mapping[str, Any], outputs: Outputs) -> list[Comparison]:
    """A text finding: each claim (model_id, term, direction, p) against the reproduced estimate."""
    results = []
    text = str(finding.get("text", ""))
    for index, claim in enumerate(finding.get("claims", [])):
        model_id, term = str(claim["model_id"]), str(claim["term"])
        expected = str(claim.get("p", ""))
        direction = str(claim.get("direction", "any"))
        source = {"estimates": {"model_id": model_id, "term": term}}
        claim_text = f"{model_id} {term}: {direction}, p {expected}".strip()
        identifier = f"{finding.get('id', 'finding')}[{index}]"
        try:
            row = _estimate_row(outputs, model_id, term)
            estimate, p = _float(row["estimate"]), _float(row["p_value"])
        except NotReproduced as reason:
            results.append(
                Comparison(
                    identifier,
                    "Text findings",
                    text,
                    claim_text,
                    "",
                    "",
                    "",
                    "",
                    expected,
                    "",
                    "not reproduced",
                    describe_source(source),
                    str(reason),
                )
            )
            continue
        significance = significance_verdict(expected, p) if expected else "not stated"
        note = ""
        if direction in ("positive", "negative") and (estimate > 0) != (direction == "positive"):
            significance = "disagrees"
            note = f"expected a {direction} estimate"
        results.append(
            Comparison(
                identifier,
                "Text findings",
                text,
                claim_text,
                _fmt(estimate, 3),
                "",
                "",
                "",
                expected,
                _fmt_p(p),
                significance,
                describe_source(source),
                note,
            )
        )
    return results


@dataclass(frozen=True)
class VerifyMapping:
    """``config/verify.yaml``."""

    published: str
    tolerances: Mapping[str, Any] = field(default_factory=dict)
    entries: Sequence[Mapping[str, Any]] = ()
    model_rows: Sequence[Mapping[str, Any]] = ()
    findings: Sequence[Mapping[str, Any]] = ()
    not_compared: Sequence[Mapping[str, Any]] = ()


def load_mapping(path: str | Path) -> VerifyMapping:
    with open(path, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    return VerifyMapping(
        published=str(spec["published"]),
        tolerances=spec.get("tolerances", {}),
        entries=spec.get("entries", []),
        model_rows=spec.get("model_rows", []),
        findings=spec.get("findings", []),
        not_compared=spec.get("not_compared", []),
    )


def compare_all(mapping: VerifyMapping, published: Any, outputs: Outputs) -> list[Comparison]:
    """Every comparison of the mapping, in its order: entries, model rows, findings."""
    results = [compare_entry(entry, published, outputs, mapping.tolerances) for entry in mapping.entries]
    for row in mapping.model_rows:
        results += compare_model_row(row, published, outputs, mapping.tolerances)
    for finding in mapping.findings:
        results += compare_finding(finding, outputs)
    for item in mapping.not_compared:
        value = lookup(published, item["published"])
        text = _text(value) if not isinstance(value, Mapping) else json.dumps(value, default=float)
        results.append(
            Comparison(
                str(item["published"]),
                "Not compared",
                str(item["published"]),
                text,
                "",
                "",
                "",
                "",
                "",
                "",
                "not stated",
                "",
                str(item.get("reason", "")),
            )
        )
    return results


def summarise(comparisons: Sequence[Comparison]) -> dict[str, dict[str, int]]:
    """Counts of each verdict and each significance verdict."""
    values = {v: sum(c.verdict == v for c in comparisons) for v in VERDICTS}
    significance = {v: sum(c.significance == v for c in comparisons) for v in SIGNIFICANCE_VERDICTS}
    return {"values": values, "significance": significance}


def summary_line(comparisons: Sequence[Comparison]) -> str:
    counts = summarise(comparisons)
    values = ", ".join(f"{n} {v}" for v, n in counts["values"].items())
    significance = ", ".join(f"{n} {v}" for v, n in counts["significance"].items() if v != "not stated")
    return f"Published numbers: {values}. Significance statements: {significance}."


def as_records(comparisons: Sequence[Comparison]) -> list[dict[str, str]]:
    return [asdict(c) for c in comparisons]
