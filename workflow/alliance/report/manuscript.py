"""The manuscript's statistical-methods and results sections, rendered from the workflow's own outputs.

The text is Jinja2 templates (``manuscript/*.md.j2``) rendered in a sandbox with strict undefined values:
a key that is not in the context stops the build with the template's name and line. Every number in the
context is a :class:`Num`: its value and where it came from (an output file of the cohort and the key in
it). Numbers reach the text only through the APA filters of this module (``num``, ``p``, ``pct``, ``coef``,
...), which record each one: the rendered manuscript comes with a provenance list naming, for every number,
its source file, key, value, the printed text, and the line and sentence where it appears. A number that
is printed without a source (a literal typed into a template, a bare float) fails the build.

Wording follows the results: the tests ``significant``, ``positive`` and ``negative`` and the filters
``claim`` and ``ps`` choose words ("increased significantly", "did not differ") from the estimates and the
catalogue's alpha, so the text stays true for a cohort whose findings differ.

The context reads aggregates only (``models/*.csv``, ``missing_data/summary.json``, ``tables/*``, and the
descriptives of :func:`cohort_descriptives`); patient-level files never reach it.
"""

from __future__ import annotations

import json
import math
import re
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import yaml
from jinja2.sandbox import SandboxedEnvironment

from alliance.build.pdf_engines import PDF_ENGINES, find_pdf_engine
from alliance.errors import AllianceError
from alliance.report import descriptives, robustness
from alliance.report.tables import format_fixed, format_integer, join_names
from alliance.stats.catalogue import CLINICAL_OUTCOMES, Catalogue, ModelSpec, variant_model_id

# Files of a cohort's results directory the context reads (paths relative to results/<cohort>/).
FITS = "models/fits.csv"
ESTIMATES = "models/estimates.csv"
VARIANCE = "models/variance_components.csv"
LRT = "models/likelihood_ratio_tests.csv"
SUMMARY = "missing_data/summary.json"
OUTCOME_CHANGE = "tables/table_outcome_change_full.csv"
DESCRIPTIVES = "manuscript/descriptives.json"
CONTEXT_FILES = (FITS, ESTIMATES, VARIANCE, LRT, SUMMARY, OUTCOME_CHANGE, DESCRIPTIVES)

TEMPLATE_SUFFIX = ".md.j2"
# The tables the manuscript includes, in its order (rules/common.smk lists the same files as inputs).
MANUSCRIPT_TABLES = (
    "table_1", "table_2", "table_3", "table_4", "table_outcome_change",
    "table_robustness", "table_pattern_mixture", "table_wai_version",
)  # fmt: skip
# Figures as the manuscript links them (relative to results/<cohort>/manuscript/).
FIGURES = {"figure_1": "../figures/figure_1.png", "figure_2": "../figures/figure_2.png"}
SECTIONS = ("methods", "results")  # rendered on their own and included by manuscript.md.j2

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


# --------------------------------------------------------------------------------------------------
# Sourced numbers
# --------------------------------------------------------------------------------------------------


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


def _to_float(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def csv_key(row: Mapping[str, Any], column: str) -> str:
    """``{"model_id": "goals_growth", "term": "time"}, "estimate"`` -> "model_id=goals_growth; term=time; column=estimate"."""
    return "; ".join([*(f"{k}={v}" for k, v in row.items()), f"column={column}"])


def parse_csv_key(key: str) -> tuple[dict[str, str], str]:
    """The inverse of :func:`csv_key`: (row selectors, column)."""
    parts = dict(part.split("=", 1) for part in key.split("; "))
    column = parts.pop("column")
    return parts, column


def lookup(results_dir: Path, file: str, key: str) -> Any:
    """The raw value behind a provenance entry (used by the tests, and handy when checking a number)."""
    path = Path(results_dir) / file
    if path.suffix in (".json", ".yaml", ".yml"):
        value: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        for part in key.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value
    selectors, column = parse_csv_key(key)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for name, wanted in selectors.items():
        frame = frame[frame[name].eq(wanted)]
    if len(frame) != 1:
        raise KeyError(f"{file}: {key} matches {len(frame)} rows")
    return frame.iloc[0][column]


# --------------------------------------------------------------------------------------------------
# APA formatting (pure; value -> text)
# --------------------------------------------------------------------------------------------------


def no_leading_zero(text: str) -> str:
    """ "0.034" -> ".034", "-0.25" -> "-.25" (APA: statistics that cannot exceed 1)."""
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def minus(text: str) -> str:
    """A typographic minus sign for negative numbers."""
    return "\u2212" + text[1:] if text.startswith("-") else text


def format_value(kind: str, value: float) -> str:
    """The printed text of one number. Kinds: ``fixed<N>`` (N decimals), ``int``, ``p`` (3 decimals, no
    leading zero, "< .001"), ``corr`` (2 decimals, no leading zero), ``prob`` (a probability such as alpha
    as given, no leading zero), ``pct<N>`` (N decimals)."""
    if kind == "int":
        return minus(format_integer(value))
    if kind == "p":
        if value < 0.001:
            return ".001"  # printed after "<"
        return no_leading_zero(format_fixed(min(value, 1.0), 3))
    if kind == "prob":
        return no_leading_zero(format(value, "g"))
    if kind == "corr":
        return minus(no_leading_zero(format_fixed(value, 2)))
    if kind.startswith("fixed"):
        return minus(format_fixed(value, int(kind[len("fixed") :])))
    if kind.startswith("pct"):
        return minus(format_fixed(value, int(kind[len("pct") :])))
    raise ValueError(f"unknown number format {kind!r}")


def p_relation(value: float) -> str:
    return "<" if value < 0.001 else "="


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


# --------------------------------------------------------------------------------------------------
# Wording rules (pure)
# --------------------------------------------------------------------------------------------------


def _num(value: Any) -> Num:
    if isinstance(value, Num):
        return value
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()  # raises UndefinedError naming the missing key
    raise ManuscriptError(f"expected a sourced number, got {value!r}")


def is_significant(effect: Mapping[str, Any], alpha: float) -> bool:
    """p below alpha (an effect without a p value is not significant)."""
    p = _num(effect["p_value"]).value
    return math.isfinite(p) and p < alpha


def is_positive(effect: Mapping[str, Any]) -> bool:
    return _num(effect["estimate"]).value > 0


NOT_ESTIMABLE = "could not be estimated"


def unavailable(effect: Mapping[str, Any]) -> str:
    """Why an effect has no estimate (its model could not be fitted, or rests on an instrument the cohort
    did not collect), or "" when it has one."""
    for key in ("estimate", "p_value"):  # an effect of a model, or a test (which has no estimate)
        value = effect.get(key)
        if isinstance(value, Num) and value.reason:
            return value.reason
    return ""


def claim(effect: Mapping[str, Any], alpha: float, up: str, down: str, none: str) -> str:
    """``up`` when the effect is significant and positive, ``down`` when significant and negative, else ``none``
    (and NOT_ESTIMABLE for an effect without an estimate)."""
    if unavailable(effect):
        return NOT_ESTIMABLE
    if not is_significant(effect, alpha):
        return none
    if up == down:  # no direction to tell (e.g. a test statistic)
        return up
    return up if is_positive(effect) else down


CLAIM_ORDER = ("up", "down", "none", "unavailable")


def group_claims(
    pairs: Iterable[Sequence[Any]], alpha: float, up: str, down: str, none: str, not_estimable: str = NOT_ESTIMABLE
) -> list[dict[str, Any]]:
    """(name, effect) pairs grouped by the claim their effect supports, in the order up, down, none and
    unavailable (effects without an estimate; the template may word it to fit its sentence); groups
    without members are left out. Each group: {"phrase", "names", "effects"}."""
    phrases = {"up": up, "down": down, "none": none, "unavailable": not_estimable}
    groups: dict[str, dict[str, Any]] = {}
    for name, effect in pairs:
        phrase = not_estimable if unavailable(effect) else claim(effect, alpha, up, down, none)
        which = next(k for k in CLAIM_ORDER if phrases[k] == phrase)
        group = groups.setdefault(which, {"phrase": phrase, "names": [], "effects": []})
        group["names"].append(name)
        group["effects"].append(effect)
    return [groups[k] for k in CLAIM_ORDER if k in groups]


def midsentence(label: str) -> str:
    """A row label inside a sentence: "Total number of PD traits" -> "total number of PD traits"; words in
    capitals (PTSD, ADHD) are kept."""
    first = label.split(" ", 1)[0]
    if not first or first.isupper() or not first[0].isupper():
        return label
    return label[0].lower() + label[1:]


def serial(position: int, length: int) -> str:
    """The separator after item ``position`` (1-based) of ``length`` in an APA series: ", ", ", and ",
    " and " (two items) or "" after the last."""
    if position >= length:
        return ""
    if position == length - 1:
        return ", and " if length > 2 else " and "
    return ", "


# --------------------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------------------


def make_environment(
    template_dir: Path, alpha: float, recorder: Recorder, collected: Mapping[str, bool] | None = None
) -> SandboxedEnvironment:
    """A sandboxed Jinja2 environment with strict undefined values and the APA filters bound to ``recorder``;
    ``collected``: the outcomes the cohort collected (by default all)."""
    collected = dict(collected or {})

    def finalize(value: Any) -> Any:
        if isinstance(value, Num):
            raise ManuscriptError(f"{value.file}: {value.key} printed without a format filter (use num, p, pct, ...)")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ManuscriptError(f"the number {value!r} has no source (print sourced numbers with a filter)")
        return value

    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=finalize,
    )

    def num(value: Any, places: int = 2) -> str:
        return recorder.mark(_num(value), f"fixed{places}")

    def integer(value: Any) -> str:
        return recorder.mark(_num(value), "int")

    def pct(value: Any, places: int = 0) -> str:
        number = _num(value)
        if number.reason:
            return recorder.mark(number, f"pct{places}")
        return recorder.mark(number, f"pct{places}") + ("%" if not number.suppressed else " patients")

    def corr(value: Any) -> str:
        return recorder.mark(_num(value), "corr")

    def p(value: Any) -> str:
        number = _num(value)
        if number.reason:
            return recorder.mark(number, "p")
        if number.missing:
            raise ManuscriptError(f"no value for {number.file}: {number.key}")
        return f"*p* {p_relation(number.value)} " + recorder.mark(number, "p")

    # An effect without an estimate says why once ("not estimable"), in place of all its numbers.
    def est_se(effect: Mapping[str, Any], places: int = 2) -> str:
        if unavailable(effect):
            return num(effect["estimate"], places)
        return f"{num(effect['estimate'], places)} ({num(effect['std_error'], places)})"

    def ci(effect: Mapping[str, Any], places: int = 2) -> str:
        if unavailable(effect):
            return num(effect["estimate"], places)
        return f"95% CI [{num(effect['ci_low'], places)}, {num(effect['ci_high'], places)}]"

    def t_test(effect: Mapping[str, Any]) -> str:
        if unavailable(effect):
            return num(effect["estimate"])
        return f"*t*({num(effect['df'], 1)}) = {num(effect['statistic'], 2)}"

    def coef(effect: Mapping[str, Any], places: int = 2) -> str:
        """APA: *b* = 0.02, *SE* = 0.01, *t*(139.2) = 2.10, *p* = .037, 95% CI [0.00, 0.04]."""
        if unavailable(effect):
            return num(effect["estimate"], places)
        return (
            f"*b* = {num(effect['estimate'], places)}, *SE* = {num(effect['std_error'], places)}, "
            f"{t_test(effect)}, {p(effect['p_value'])}, {ci(effect, places)}"
        )

    def chi2(test: Mapping[str, Any]) -> str:
        if unavailable(test):
            return p(test["p_value"])
        return f"χ²({integer(test['df'])}) = {num(test['chi2'], 2)}, {p(test['p_value'])}"

    def mean_sd(pair: Mapping[str, Any], places: int = 1) -> str:
        return f"{num(pair['mean'], places)} (*SD* = {num(pair['sd'], places)})"

    def ps(effects: Iterable[Mapping[str, Any]]) -> str:
        """The p values of several effects in one phrase: "all *p* < .001", "all *p* ≤ .034" when all are
        significant, "all *p* ≥ .210" when none is, else each one."""
        items = list(effects)
        if not items:
            raise ManuscriptError("ps: no effects to report (choose the sentence for that case in the template)")
        if all(unavailable(e) for e in items):
            return p(items[0]["p_value"])
        values = [_num(e["p_value"]) for e in items if not unavailable(e)]
        if len(values) == 1:
            return p(values[0])
        if all(v.value < 0.001 for v in values):
            return "all " + p(max(values, key=lambda v: v.value))
        significant = [v.value < alpha for v in values]
        if all(significant):
            return "all *p* ≤ " + recorder.mark(max(values, key=lambda v: v.value), "p")
        if not any(significant):
            return "all *p* ≥ " + recorder.mark(min(values, key=lambda v: v.value), "p")
        return ", ".join(p(v) for v in values)

    def claim_filter(effect: Mapping[str, Any], up: str, down: str, none: str) -> str:
        return claim(effect, alpha, up, down, none)

    def group_claims_filter(
        pairs: Iterable[Sequence[Any]], up: str, down: str, none: str, not_estimable: str = NOT_ESTIMABLE
    ) -> list[dict[str, Any]]:
        return group_claims(pairs, alpha, up, down, none, not_estimable)

    def prob(value: Any) -> str:
        return recorder.mark(_num(value), "prob")

    # The outcome-change table's full layout holds 2 decimals; printing them as they are avoids rounding
    # twice (26.349 -> "26.35" -> "26.4", where the table prints "26.3").
    def admission(record: Mapping[str, Any]) -> str:
        return mean_sd({"mean": record["admission_mean"], "sd": record["admission_sd"]}, places=2)

    def discharge(record: Mapping[str, Any]) -> str:
        return mean_sd({"mean": record["discharge_mean"], "sd": record["discharge_sd"]}, places=2)

    env.filters.update(
        analysed=lambda pairs: [pair for pair in pairs if pair[1]["collected"]],
        # (name, outcome) pairs of the outcomes the cohort collected (context "collected").
        collected_only=lambda pairs: [pair for pair in pairs if collected.get(pair[1], True)],
        plural_s=lambda items: "s" if len(list(items)) > 1 else "",
        pair_slope=lambda pair: (pair[0], pair[1]["slope"]),
        pair_pred=lambda pair: (pair[0], pair[1]["pred"]),
        pair_pred_slope=lambda pair: (pair[0], pair[1]["pred_slope"]),
        pair_slope_variance=lambda pair: (pair[0], pair[1]["variance"]["slope"]),
        pair_lrt=lambda pair: (pair[0], pair[1]["lrt"]),
        named_pred=lambda model: (model["name"], model["pred"]),
        named_pred_slope=lambda model: (model["name"], model["pred_slope"]),
        admission=admission,
        discharge=discharge,
        num=num,
        integer=integer,
        pct=pct,
        corr=corr,
        p=p,
        est_se=est_se,
        ci=ci,
        t_test=t_test,
        coef=coef,
        chi2=chi2,
        mean_sd=mean_sd,
        ps=ps,
        claim=claim_filter,
        group_claims=group_claims_filter,
        prob=prob,
        join_names=join_names,
        midsentence=midsentence,
    )
    env.tests.update(
        significant=lambda effect: is_significant(effect, alpha),
        positive=is_positive,
        negative=lambda effect: _num(effect["estimate"]).value < 0,
        lrt_significant=lambda model: is_significant(model["lrt"], alpha),
        sourced=lambda value: isinstance(value, Num) and not value.missing,
        # A number that exists (not withheld, not undefined by design): for clauses that only make sense with it.
        available=lambda value: isinstance(value, Num) and value.available,
    )
    return env


def _template_location(error: BaseException) -> str:
    """ "methods.md.j2, line 12" from the traceback of an error raised while rendering."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(TEMPLATE_SUFFIX):
            line = (frame.line or "").strip()
            return f"{Path(frame.filename).name}, line {frame.lineno}" + (f" ({line[:160]}...)" if line else "")
    return "(template)"


@dataclass(frozen=True)
class Rendered:
    text: str
    provenance: list[dict[str, Any]]
    tables: list[dict[str, Any]]


def render(template_dir: Path, name: str, context: Mapping[str, Any], alpha: float) -> Rendered:
    """Render one template; every number recorded, undefined keys and unsourced numbers fail."""
    recorder = Recorder()
    env = make_environment(Path(template_dir), alpha, recorder, context.get("collected"))
    env.globals["table"] = lambda table_id: _include_table(context, table_id, recorder)
    env.globals["serial"] = lambda loop: serial(loop.index, loop.length)
    try:
        raw = env.get_template(name).render(**context)
    except jinja2.UndefinedError as error:
        raise ManuscriptError(f"{_template_location(error)}: undefined value: {error.message}") from error
    except ManuscriptError as error:
        raise ManuscriptError(f"{_template_location(error)}: {error}") from error
    stray = unsourced_numbers(raw)
    if stray:
        raise ManuscriptError(f"{name}: numbers without a source in the rendered text: {', '.join(stray)}")
    text, entries = resolve(raw, recorder, name.removesuffix(TEMPLATE_SUFFIX))
    return Rendered(text, entries, recorder.blocks)


def _include_table(context: Mapping[str, Any], table_id: str, recorder: Recorder) -> str:
    tables = context["tables"]
    if table_id not in tables:
        raise ManuscriptError(f"no table {table_id!r} among {sorted(tables)}")
    file, text = tables[table_id]
    return recorder.block(file, text)


# --------------------------------------------------------------------------------------------------
# Reading the outputs into the context
# --------------------------------------------------------------------------------------------------

EFFECT_COLUMNS = ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high")
FIT_NUMBERS = ("n_patients", "n_obs", "loglik", "aic", "bic", "explained_intercept_pct", "explained_slope_pct")
SUBSCALE_NAMES = {"goals": "Goals", "bonds": "Bonds", "tasks": "Tasks", "gaf": "GAF", "wsas": "WSAS", "bsi": "BSI"}


def _read_csv(results_dir: Path, file: str) -> pd.DataFrame:
    return pd.read_csv(Path(results_dir) / file, dtype=str, keep_default_na=False)


def _row_nums(row: Mapping[str, Any], file: str, selectors: Mapping[str, str], columns: Iterable[str]) -> dict:
    return {c: Num(_to_float(row.get(c)), file, csv_key(selectors, c)) for c in columns}


def model_records(
    fits: pd.DataFrame, estimates: pd.DataFrame, variance: pd.DataFrame, lrt: pd.DataFrame, catalogue: Catalogue
) -> dict[str, dict[str, Any]]:
    """One record per fitted catalogue model: fit statistics, its effects by role (``intercept``, ``slope``,
    ``pred``, ``pred_slope``), variance components and likelihood-ratio test."""
    specs = {spec.id: spec for spec in catalogue.models}
    records: dict[str, dict[str, Any]] = {}
    for _, fit in fits.iterrows():
        model_id = str(fit["model_id"])
        spec = specs.get(model_id)
        if spec is None:
            continue
        status = str(fit.get("status", "")).strip()
        record: dict[str, Any] = {
            "id": model_id,
            "outcome": spec.outcome,
            "name": SUBSCALE_NAMES.get(spec.outcome, spec.outcome),
            "label": spec.label or "",
            "converged": str(fit.get("converged", "")).strip().lower() == "true",
            "status": status,
            "collected": status != "not collected",
            **_row_nums(fit, FITS, {"model_id": model_id}, FIT_NUMBERS),
        }
        for _, row in estimates[estimates["model_id"].eq(model_id)].iterrows():
            term = str(row["term"])
            role = _role(term, spec)
            if role:
                effect = _row_nums(row, ESTIMATES, {"model_id": model_id, "term": term}, EFFECT_COLUMNS)
                record[role] = {"term": term, **effect}
        components = variance[variance["model_id"].eq(model_id)]
        record["variance"] = {
            str(row["component"]): _row_nums(
                row,
                VARIANCE,
                {"model_id": model_id, "component": str(row["component"])},
                ("estimate", "std_error", "statistic", "p_value"),
            )
            for _, row in components.iterrows()
        }
        tests = lrt[lrt["model_id"].eq(model_id)]
        if len(tests):
            row = tests.iloc[0]
            selectors = {"model_id": model_id, "versus_model_id": str(row["versus_model_id"])}
            record["lrt"] = {
                "versus": str(row["versus_model_id"]),
                **_row_nums(row, LRT, selectors, ("n_patients", "chi2", "df", "p_value")),
            }
        records[model_id] = _with_reasons(record, spec, status)
    return records


ROLE_NAMES = ("intercept", "slope", "pred", "pred_slope")


def _expected_roles(spec: ModelSpec) -> tuple[str, ...]:
    if spec.kind != "growth":
        return ("intercept",)
    return ROLE_NAMES if spec.predictor is not None else ("intercept", "slope")


def _with_reasons(record: dict[str, Any], spec: ModelSpec, status: str) -> dict[str, Any]:
    """Every number a model's record can have, present: a model without a fit (it failed, or rests on an
    instrument the cohort did not collect) has its effects, variances and test as words; an explained
    variance against a reference without that variance is "not defined"."""
    reason = {"not collected": "not collected", "failed": "not estimable"}.get(status, "")

    def say(nums: dict[str, Any], why: str) -> dict[str, Any]:
        return {k: replace(v, reason=why) if isinstance(v, Num) and v.missing else v for k, v in nums.items()}

    selectors = {"model_id": spec.id}
    if reason:
        record.update(say({k: record[k] for k in FIT_NUMBERS}, reason))
    else:
        record.update(say({k: record[k] for k in ("explained_intercept_pct", "explained_slope_pct")}, "not defined"))
    why = reason or "not estimable"
    # A fitted model's NaN (a Satterthwaite df or p the fit could not compute; its warnings name them).
    for role in ROLE_NAMES:
        if role in record:
            record[role] = say(record[role], why)
    record["variance"] = {name: say(nums, why) for name, nums in record["variance"].items()}
    for role in _expected_roles(spec):
        if role not in record:
            nums = {
                c: Num(math.nan, ESTIMATES, csv_key({**selectors, "role": role}, c), reason=why) for c in EFFECT_COLUMNS
            }
            record[role] = {"term": "", **nums}
    for component in ("intercept", "covariance", "slope", "residual"):
        if component not in record["variance"] and (component in ("intercept", "residual") or spec.kind == "growth"):
            key = {**selectors, "component": component}
            columns = ("estimate", "std_error", "statistic", "p_value")
            record["variance"][component] = {c: Num(math.nan, VARIANCE, csv_key(key, c), reason=why) for c in columns}
    if "lrt" not in record and (spec.reference or (spec.kind == "growth" and not spec.predictor and not spec.controls)):
        columns = ("n_patients", "chi2", "df", "p_value")
        record["lrt"] = {
            "versus": spec.reference or "",
            **{c: Num(math.nan, LRT, csv_key(selectors, c), reason=why) for c in columns},
        }
    return record


def _role(term: str, spec: ModelSpec) -> str:
    if term == "Intercept":
        return "intercept"
    if term == "time":
        return "slope"
    # Only the predictor's terms have a role; controls (version indicators, the centred number of
    # assessments) are not findings of the model.
    predictor = spec.predictor_term
    if predictor is None:
        return ""
    if term == predictor:
        return "pred"
    return "pred_slope" if term == f"time:{predictor}" else ""


def _json_nums(value: Any, file: str, path: str) -> Any:
    """A JSON value with every number (not bool) as a :class:`Num` keyed by its dotted path."""
    if isinstance(value, Mapping):
        record = {str(k): _json_nums(v, file, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        withheld = value.get("suppressed")
        if isinstance(withheld, int) and withheld > 0:  # values withheld for disclosure (cohort_descriptives)
            for k, v in record.items():
                if isinstance(v, Num) and v.missing:
                    record[k] = Num(v.value, v.file, v.key, suppressed=withheld)
        undefined = value.get("undefined")
        if isinstance(undefined, str) and undefined:  # values that do not exist (a statistic of no one)
            for k, v in record.items():
                if isinstance(v, Num) and v.missing:
                    record[k] = replace(v, reason=undefined)
        return record
    if isinstance(value, list):
        return [_json_nums(v, file, f"{path}.{i}") for i, v in enumerate(value)]
    if isinstance(value, (bool, str)):
        return value
    if value is None or isinstance(value, (int, float)):
        return Num(_to_float(value), file, path)
    return value


def _cell_num(text: str, file: str, selectors: Mapping[str, str], column: str) -> Num:
    """A formatted table cell as a number; "< 5" is a suppressed one."""
    text = str(text).strip()
    key = csv_key(selectors, column)
    small = re.fullmatch(r"<\s*(\d+)", text)
    if small:
        return Num(math.nan, file, key, suppressed=int(small.group(1)))
    if text == descriptives.UNDEFINED:
        return Num(math.nan, file, key, reason=NOT_DEFINED)
    return Num(_to_float(text.rstrip("%")), file, key)


def outcome_change_records(frame: pd.DataFrame) -> dict[str, dict[str, Num]]:
    """The full outcome-change table by measure (gaf, wsas, bsi), each cell a :class:`Num`."""
    records: dict[str, dict[str, Num]] = {}
    columns = {
        "admission_mean": "Admission mean",
        "admission_sd": "Admission SD",
        "discharge_mean": "Discharge mean",
        "discharge_sd": "Discharge SD",
        "n_both": "n both",
        "n_discharge": "n discharge",
        "below_cutoff_pct": "Below cut-off %",
        "also_good_gaf_pct": "Of these, good GAF outcome %",
    }
    for _, row in frame.iterrows():
        measure = str(row["Measure"])
        selectors = {"Measure": measure}
        records[measure.lower()] = {
            key: _cell_num(row[column], OUTCOME_CHANGE, selectors, column) for key, column in columns.items()
        }
    return records


def table_blocks(results_dir: Path, table_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Markdown of the cohort's tables, for inclusion: {table_id: (file, text)}."""
    blocks = {}
    for table_id in table_ids:
        file = f"tables/{table_id}.md"
        path = Path(results_dir) / file
        if path.exists():
            blocks[table_id] = (file, path.read_text(encoding="utf-8").strip())
    return blocks


def disclose_groups(groups: Mapping[str, Any], min_cell: int) -> dict[str, Any]:
    """Missing-data group statistics with the small ones withheld: a count ``<x>_n`` of 1 .. min_cell - 1
    patients and its ``<x>_pct``, and every statistic of a small group. summary.json already writes
    the counts it withholds as null; with min_cell > 0 a null is such a withheld value."""
    out: dict[str, Any] = {}
    for name, group in groups.items():
        record = dict(group)
        size = record.get("n_patients")
        small_group = isinstance(size, Num) and descriptives.is_small(size.value, min_cell)
        for key, value in group.items():
            if not isinstance(value, Num):
                continue
            stem = key.removesuffix("_pct").removesuffix("_n")
            count = group.get(f"{stem}_n")
            small = isinstance(count, Num) and descriptives.is_small(count.value, min_cell)
            withheld_upstream = min_cell > 0 and value.missing
            if small_group or withheld_upstream or (small and key in (f"{stem}_n", f"{stem}_pct")):
                record[key] = Num(math.nan, value.file, value.key, suppressed=min_cell)
        out[name] = record
    return out


def robustness_records(records: Mapping[str, Mapping[str, Any]], catalogue: Catalogue) -> list[dict[str, Any]]:
    """Per robustness variant (but the uncontrolled one): each main finding's effect re-estimated under it,
    and whether it holds (p < alpha in its stated direction). Findings the variant does not apply to,
    or whose model has no fit, are left out."""
    out = []
    for variant in catalogue.robustness.variants:
        if variant.is_baseline:
            continue
        findings = []
        for finding in catalogue.robustness.findings:
            model_id = variant_model_id(catalogue, finding.model, variant.id)
            effect = records.get(model_id or "", {}).get("pred_slope" if finding.effect == "slope" else "pred")
            if effect is None or unavailable(effect) == "not collected":
                continue
            estimate, p_value = _num(effect["estimate"]).value, _num(effect["p_value"]).value
            findings.append(
                {
                    "id": finding.id,
                    "name": finding.text,
                    "effect": effect,
                    "holds": robustness.holds(finding, estimate, p_value, catalogue.settings.alpha),
                }
            )
        if findings:  # a variant resting on an instrument the cohort did not collect is left out
            out.append({"id": variant.id, "label": variant.label, "findings": findings})
    return out


def collected_outcomes(fits: pd.DataFrame) -> dict[str, bool]:
    """Per clinical outcome, whether the cohort collected it: not when its models were "not collected"
    (an optional instrument absent from the exports); templates leave such an outcome out."""
    collected = {name: True for name in SUBSCALE_NAMES}
    for _, fit in fits.iterrows():
        if str(fit.get("status", "")).strip() == "not collected" and str(fit["outcome"]) in collected:
            collected[str(fit["outcome"])] = False
    return collected


def build_context(
    results_dir: Path,
    catalogue: Catalogue,
    config_values: Mapping[str, Any],
    min_cell: int = 0,
    table_ids: Sequence[str] = MANUSCRIPT_TABLES,
    figures: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The rendering context of a cohort's manuscript, from its aggregate outputs only.

    ``config_values``: the configuration numbers the text names (:func:`config_values`).
    """
    results_dir = Path(results_dir)
    fits = _read_csv(results_dir, FITS)
    estimates = _read_csv(results_dir, ESTIMATES)
    variance = _read_csv(results_dir, VARIANCE)
    lrt = _read_csv(results_dir, LRT)
    summary = json.loads((results_dir / SUMMARY).read_text(encoding="utf-8"))
    described = json.loads((results_dir / DESCRIPTIVES).read_text(encoding="utf-8"))
    missing = _json_nums(summary, SUMMARY, "")
    missing["summary"]["groups"] = disclose_groups(missing["summary"]["groups"], min_cell)
    records = model_records(fits, estimates, variance, lrt, catalogue)
    change = outcome_change_records(_read_csv(results_dir, OUTCOME_CHANGE))
    return {
        "collected": {
            k: v and (k not in CLINICAL_OUTCOMES or k in change) for k, v in collected_outcomes(fits).items()
        },
        "alpha": Num(catalogue.settings.alpha, "config/models.yaml", "settings.alpha"),
        "method": catalogue.settings.method,
        "m": records,
        "robustness": robustness_records(records, catalogue),
        "missing": missing,
        "change": change,
        "cohort": _json_nums(described, DESCRIPTIVES, ""),
        "config": dict(config_values),
        "tables": table_blocks(results_dir, table_ids),
        "figures": dict(figures or FIGURES),
    }


# --------------------------------------------------------------------------------------------------
# Cohort descriptives (aggregates of clean/patients.csv; the only step that reads patient-level data)
# --------------------------------------------------------------------------------------------------

TERMINATION_KINDS = ("planned", "dropout_early", "dropout_late", "advised", "referred")


def _rounded(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def _share(count: int, n: int, min_cell: int) -> dict[str, Any]:
    """Count and per cent; both withheld (None, with ``suppressed``) when fewer than min_cell patients."""
    if descriptives.is_small(count, min_cell) or descriptives.is_small(n, min_cell):
        small_n = descriptives.is_small(n, min_cell)
        return {"n": None if small_n else n, "count": None, "pct": None, "suppressed": min_cell}
    if not n:
        return {"n": n, "count": count, "pct": None, "undefined": NOT_DEFINED}
    return {"n": n, "count": count, "pct": _rounded(100.0 * count / n)}


# A statistic of no one (a share of an empty group, a test with an empty subgroup): said in words.
NOT_DEFINED = "not defined"


def _defined(record: dict[str, Any]) -> dict[str, Any]:
    """The record, marked ``undefined`` when one of its statistics could not be computed (None)."""
    return {**record, "undefined": NOT_DEFINED} if any(v is None for v in record.values()) else record


def _mean_sd(values: pd.Series) -> dict[str, Any]:
    return _defined({"mean": _rounded(float(values.mean())), "sd": _rounded(float(values.std(ddof=1)))})


def _test_record(result: descriptives.TestResult) -> dict[str, Any]:
    return _defined(
        {
            "test": result.test,
            "statistic": _rounded(result.statistic),
            "df": _rounded(result.df),
            "p_value": _rounded(result.p_value) if not math.isnan(result.p_value) else None,
        }
    )


def cohort_descriptives(patients: pd.DataFrame, rows: Sequence[descriptives.RowSpec], min_cell: int) -> dict[str, Any]:
    """Aggregates the manuscript's text cites beyond the tables: sample sizes, treatment duration and
    termination by outcome subgroup, and the Table II comparisons with exact p values. JSON-able; counts
    below ``min_cell`` are withheld (None)."""
    months = pd.to_numeric(patients.get("treatment_months"), errors="coerce").astype("float64")
    termination = patients.get("termination", pd.Series([""] * len(patients))).fillna("").astype(str)
    groups = patients["outcome_group"].fillna("").astype(str)
    planned = pd.to_numeric(patients.get("completed_as_planned"), errors="coerce").astype("float64")
    record: dict[str, Any] = {
        "n_patients": len(patients),
        "treatment_months": _mean_sd(months),
        "termination": {
            kind: _share(int(termination.eq(kind).sum()), len(patients), min_cell) for kind in TERMINATION_KINDS
        },
        "groups": {},
    }
    n_classified = int(groups.isin(descriptives.GROUPS).sum())
    for group in descriptives.GROUPS:
        members = groups.eq(group)
        n = int(members.sum())
        record["groups"][group] = _defined(
            {
                "n": n,
                "pct_of_classified": _rounded(100.0 * n / n_classified) if n_classified else None,
                "treatment_months": _mean_sd(months[members]),
                "completed_as_planned": _share(
                    int(planned[members].eq(1).sum()), int(planned[members].notna().sum()), min_cell
                ),
                "termination": {
                    kind: _share(int((termination.eq(kind) & members).sum()), n, min_cell) for kind in TERMINATION_KINDS
                },
            }
        )
    classified = patients[groups.isin(descriptives.GROUPS)]
    good, poor = (classified["outcome_group"].eq(g) for g in descriptives.GROUPS)
    record["tests"] = {
        "treatment_months": _test_record(
            descriptives.compare_means(months[classified.index][good].dropna(), months[classified.index][poor].dropna())
        ),
        "completed_as_planned": _test_record(
            descriptives.compare_proportions(
                planned[classified.index][good].dropna(), planned[classified.index][poor].dropna()
            )
        ),
        "dropout_early": _test_record(
            descriptives.compare_proportions(
                termination[classified.index][good].eq("dropout_early").astype("float64"),
                termination[classified.index][poor].eq("dropout_early").astype("float64"),
            )
        ),
    }
    table_2 = []
    for spec in rows:
        result = descriptives.describe_row(classified, spec, min_cell)
        entry: dict[str, Any] = {"label": spec.label, "column": spec.column, "kind": spec.kind}
        for group in descriptives.GROUPS:
            values = (
                descriptives.indicator(classified, spec)
                if spec.kind == "pct"
                else descriptives.numeric(classified, spec)
            )[classified["outcome_group"].eq(group)].dropna()
            if spec.kind == "pct":
                entry[group] = _share(int(values.sum()), int(values.size), min_cell)
            else:
                small = descriptives.is_small(values.size, min_cell)
                entry[group] = (
                    {"n": None, "mean": None, "sd": None, "suppressed": min_cell}
                    if small
                    else {"n": int(values.size), **_mean_sd(values)}
                )
        entry["test"] = _test_record(result.test)
        table_2.append(entry)
    record["table_2"] = table_2
    return record


# --------------------------------------------------------------------------------------------------
# Assembling
# --------------------------------------------------------------------------------------------------


def render_manuscript(
    template_dir: Path, context: Mapping[str, Any], alpha: float
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Each section and the assembled manuscript: ({"methods": md, "results": md, "manuscript": md},
    provenance of every number in the manuscript)."""
    texts: dict[str, str] = {}
    for section in SECTIONS:
        texts[section] = render(template_dir, section + TEMPLATE_SUFFIX, context, alpha).text
    whole = render(template_dir, "manuscript" + TEMPLATE_SUFFIX, context, alpha)
    texts["manuscript"] = whole.text
    return texts, whole.provenance


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


def templates_literals(template_dir: Path) -> dict[str, list[str]]:
    """Numeric literals typed into each template (outside the allow-list): should be none."""
    return {
        path.name: numeric_literals(path.read_text(encoding="utf-8"))
        for path in sorted(Path(template_dir).glob("*" + TEMPLATE_SUFFIX))
    }


# --------------------------------------------------------------------------------------------------
# Conversion: HTML, DOCX (and PDF when an engine exists), with a bundled pandoc
# --------------------------------------------------------------------------------------------------

# A fixed timestamp for every date pandoc and the DOCX zip would otherwise take from the clock, so that the
# same manuscript.md always gives the same bytes (2020-10-12, the paper's online date).
SOURCE_DATE_EPOCH = "1602460800"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FONT = "Times New Roman"


def pandoc_path() -> str:
    import pypandoc

    return str(pypandoc.get_pandoc_path())


def _pandoc(arguments: Sequence[str], cwd: Path) -> bytes:
    import os
    import subprocess

    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    result = subprocess.run([pandoc_path(), *arguments], cwd=cwd, env=env, capture_output=True, check=False)
    if result.returncode != 0:
        raise ManuscriptError(f"pandoc {' '.join(arguments)}: {result.stderr.decode(errors='replace')}")
    return result.stdout


def normalise_zip(data: bytes) -> bytes:
    """The same archive with fixed member dates and attributes (entries in their original order)."""
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, source.read(info.filename))
    return out.getvalue()


def reference_docx(path: Path, workdir: Path) -> Path:
    """pandoc's default reference.docx with APA 7 styles: Times New Roman 12 pt, double spacing, black
    headings (bold, level 1 centred), no space between paragraphs. Built offline and byte-deterministic."""
    import io

    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    default = _pandoc(["--print-default-data-file", "reference.docx"], workdir)
    document = docx.Document(io.BytesIO(default))
    styles = {style.name: style for style in document.styles}
    for name in ("Normal", "Body Text", "First Paragraph", "Compact", "Title", "Author", "Date", "Abstract"):
        if name not in styles:
            continue
        style = styles[name]
        style.font.name = FONT  # type: ignore[union-attr]
        style.font.size = Pt(12)  # type: ignore[union-attr]
        fmt = style.paragraph_format  # type: ignore[union-attr]
        fmt.line_spacing_rule = WD_LINE_SPACING.DOUBLE
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)
    for level in (1, 2, 3):
        style = styles[f"Heading {level}"]
        style.font.name = FONT  # type: ignore[union-attr]
        style.font.size = Pt(12)  # type: ignore[union-attr]
        style.font.bold = True  # type: ignore[union-attr]
        style.font.italic = level == 3  # type: ignore[union-attr]
        style.font.color.rgb = RGBColor(0, 0, 0)  # type: ignore[union-attr]
        if level == 1:
            style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER  # type: ignore[union-attr]
    for name in ("Table Caption", "Image Caption", "Caption"):
        if name in styles:
            styles[name].font.name = FONT  # type: ignore[union-attr]
            styles[name].font.italic = False  # type: ignore[union-attr]
    buffer = io.BytesIO()
    document.save(buffer)
    Path(path).write_bytes(normalise_zip(buffer.getvalue()))
    return Path(path)


def convert(markdown: Path, outputs: Mapping[str, Path], resource_path: Sequence[Path], title: str) -> list[Path]:
    """manuscript.md -> HTML (standalone, figures embedded), DOCX (APA reference document, real Word tables,
    figures embedded) and, when asked, PDF. ``resource_path``: directories where figures are looked up."""
    import tempfile

    markdown = Path(markdown).resolve()
    resources = ":".join(str(Path(p).resolve()) for p in [markdown.parent, *resource_path])
    common = [
        str(markdown),
        "--from=markdown",
        f"--resource-path={resources}",
        f"--metadata=title:{title}",
        "--metadata=date:",
        "--metadata=lang:en-US",
    ]
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "html" in outputs:
            target = Path(outputs["html"]).resolve()
            _pandoc([*common, "--to=html5", "--standalone", "--embed-resources", f"--output={target}"], work)
            written.append(target)
        if "docx" in outputs:
            reference = reference_docx(work / "reference.docx", work)
            target = Path(outputs["docx"]).resolve()
            _pandoc([*common, "--to=docx", f"--reference-doc={reference}", f"--output={target}"], work)
            target.write_bytes(normalise_zip(target.read_bytes()))
            written.append(target)
        if "pdf" in outputs:
            engine = find_pdf_engine()
            if engine is None:
                raise ManuscriptError("no PDF engine installed (tried " + ", ".join(PDF_ENGINES) + ")")
            target = Path(outputs["pdf"]).resolve()
            _pandoc([*common, f"--pdf-engine={engine}", f"--output={target}"], work)
            written.append(target)
    return written


# --------------------------------------------------------------------------------------------------
# The step's entry points
# --------------------------------------------------------------------------------------------------

TITLE = "Development of therapeutic alliance in mentalization-based treatment"


def config_values(analysis: Mapping[str, Any], instruments: Any, files: Mapping[str, str]) -> dict[str, Any]:
    """The configuration numbers the text names, each a :class:`Num` keyed by its path in the config file
    (``files``: {"analysis": the config file, "instruments": the instruments file}): the GAF cut-off, the
    assessment schedule, the WAI scale range, and the WSAS and BSI cut-offs."""
    config, instruments_file = files["analysis"], files["instruments"]

    def schedule(name: str) -> list[Num]:
        values = analysis["schedule"][name]
        return [Num(float(v), config, f"analysis.schedule.{name}.{i}") for i, v in enumerate(values)]

    values: dict[str, Any] = {
        "gaf_cutoff": Num(float(analysis["gaf_cutoff"]), config, "analysis.gaf_cutoff"),
        "wai_months": schedule("wai_months"),
        "outcome_months": schedule("outcome_months"),
        "wsas_threshold": Num(float(instruments.wsas.outcome_threshold), instruments_file, "wsas.outcome_threshold"),
        "bsi_threshold": Num(float(instruments.bsi.outcome_threshold), instruments_file, "bsi.outcome_threshold"),
    }
    versions = list(instruments.wai.versions.items())
    if versions:
        name, version = versions[0]
        values["wai_scale"] = {
            "min": Num(float(version.scale_min), instruments_file, f"wai.versions.{name}.scale_min"),
            "max": Num(float(version.scale_max), instruments_file, f"wai.versions.{name}.scale_max"),
        }
    return values


def write_manuscript(template_dir: Path, context: Mapping[str, Any], alpha: float, output: Path) -> list[Path]:
    """manuscript.md, methods.md, results.md and provenance.json under ``output``."""
    from alliance.data.pipeline import write_json

    texts, provenance = render_manuscript(template_dir, context, alpha)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        path = output / f"{name}.md"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    path = output / "provenance.json"
    write_json(provenance_record(provenance, context["tables"]), path)
    written.append(path)
    return written
