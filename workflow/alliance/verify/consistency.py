"""Internal consistency of reported statistics, statcheck-style, for mixed-model tables and manuscript text.

Numbers reported together must agree with each other *after rounding*: every reported number stands for
the interval of values that round to it, and a combination is inconsistent only when no values in those
intervals fit together. Checked:

* estimate, SE and t (or Z): t = estimate / SE;
* t (Z) and df against p: p = 2 P(T_df > |t|) (normal when there is no df), also chi-square(df);
* 95 % CI against estimate, SE and df;
* p stated as "< .05" (or "< .001") must be below it; "ns" and "> .05" must be at or above .05;
* stars against p: * p < .05, ** p < .01, *** p < .001;
* in a paper-layout model table with a ``_full`` companion, every "ns" and every star against the exact p
  of the same model and term in the full table.

Sources: Markdown pipe tables and CSV tables (columns found by their header), and prose lines of Markdown
(``t(df) = x, p = y``, ``chi2(df) = x, p = y``, ``z = x, p = y``, ``b = x, SE = y``). Each finding names
the file and line. Pure functions: text in, :class:`Finding` out.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from scipy import stats

from alliance.verify.declared import Declared

STAR_LEVELS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))
ALPHA = 0.05


@dataclass(frozen=True)
class Finding:
    """One inconsistency: where, what was reported, what it should be."""

    file: str
    line: int
    check: str
    reported: str
    message: str

    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Reported:
    """A reported number and the interval of true values that round to it."""

    value: float
    low: float
    high: float

    @classmethod
    def parse(cls, text: str) -> Reported | None:
        cleaned = clean(text).replace("\u2212", "-").strip()
        match = re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", cleaned)
        if not match:
            return None
        value = float(cleaned)
        decimals = len(cleaned.split(".", 1)[1]) if "." in cleaned else 0
        half = 0.5 * 10.0 ** (-decimals)
        return cls(value, value - half, value + half)


@dataclass(frozen=True)
class PClaim:
    """What a report says about p: an exact (rounded) value, or a bound."""

    low: float  # the true p must be >= low ...
    high: float  # ... and <= high (closed) or < high (open_high)
    open_high: bool
    text: str

    def admits(self, p_low: float, p_high: float) -> bool:
        """True when some p in [p_low, p_high] satisfies the claim."""
        if self.open_high:
            return p_low < self.high and p_high >= self.low
        return p_low <= self.high and p_high >= self.low


def clean(text: str) -> str:
    """Markdown escapes removed (``\\<`` -> ``<``), surrounding space stripped."""
    return re.sub(r"\\([\\`*_|<>{}\[\]()#+\-.!])", r"\1", text).strip()


def parse_p(text: str) -> PClaim | None:
    """ "< .001", "p < .05", ".034", "0.034", "ns", "> .05", "= .11"; None when not a p statement."""
    raw = clean(text).lower().replace(" ", "").replace("p", "", 1) if clean(text) else ""
    if raw in ("ns", "n.s.", "(ns)"):
        return PClaim(ALPHA, 1.0, False, "ns")
    match = re.fullmatch(r"(<|>|=|\u2264|\u2265|<=|>=)?(0?\.\d+|1(\.0+)?|0)", raw)
    if not match:
        return None
    operator, number = match.group(1) or "=", match.group(2)
    value = float(number)
    if operator in ("<", "\u2264", "<="):
        return PClaim(0.0, value, operator == "<", clean(text))
    if operator in (">", "\u2265", ">="):
        return PClaim(value, 1.0, False, clean(text))
    decimals = len(number.split(".", 1)[1]) if "." in number else 0
    half = 0.5 * 10.0 ** (-decimals)
    return PClaim(max(0.0, value - half), min(1.0, value + half), False, clean(text))


def stars_claim(marks: str) -> PClaim:
    """The p interval that stars (or no stars, with a p given) stand for."""
    bounds = {"***": (0.0, 0.001), "**": (0.001, 0.01), "*": (0.01, 0.05), "": (0.05, 1.0)}
    low, high = bounds[marks]
    return PClaim(low, high, marks != "", marks or "no stars")


def p_range_t(t: Reported, df: Reported | None) -> tuple[float, float]:
    """Two-sided p over every |t| (and df) that rounds to the reported ones; df None: normal."""
    abs_low = 0.0 if t.low <= 0 <= t.high else min(abs(t.low), abs(t.high))
    abs_high = max(abs(t.low), abs(t.high))
    if df is None:
        return 2 * float(stats.norm.sf(abs_high)), 2 * float(stats.norm.sf(abs_low))
    df_low, df_high = max(df.low, 0.5), max(df.high, 0.5)
    p_min = 2 * float(stats.t.sf(abs_high, df_high))
    p_max = 2 * float(stats.t.sf(abs_low, df_low))
    return p_min, p_max


def p_range_chi2(statistic: Reported, df: float) -> tuple[float, float]:
    return float(stats.chi2.sf(max(statistic.high, 0.0), df)), float(stats.chi2.sf(max(statistic.low, 0.0), df))


def ratio_range(estimate: Reported, se: Reported) -> tuple[float, float] | None:
    """The interval of estimate / SE over the rounding intervals (None when SE may be 0)."""
    if se.low <= 0:
        return None
    candidates = [e / s for e in (estimate.low, estimate.high) for s in (se.low, se.high)]
    return min(candidates), max(candidates)


def _fmt_range(low: float, high: float) -> str:
    return f"[{low:.4g}, {high:.4g}]"


# --------------------------------------------------------------------------------------------------
# One set of numbers reported together
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Numbers reported together (one table row, one sentence); any may be missing."""

    estimate: str = ""
    se: str = ""
    df: str = ""
    statistic: str = ""
    statistic_kind: str = "t"  # t, z, chi2
    p: str = ""
    marks: str | None = None  # stars attached to the estimate or in a "Sig." column; None: not reported
    ci: str = ""


# One problem among numbers reported together: (check, what was reported, what is wrong).
Problem = tuple[str, str, str]


def check_group(group: Group, file: str, line: int) -> list[Finding]:
    """Every inconsistency among the numbers of ``group``: t against estimate / SE, p against the
    statistic, stars against p, the CI against estimate, SE and df."""
    estimate, se = Reported.parse(group.estimate), Reported.parse(group.se)
    statistic, df = Reported.parse(group.statistic), Reported.parse(group.df)
    claim = parse_p(group.p) if group.p else None
    p_interval = _p_interval(group, estimate, se, statistic, df)
    problems = _check_ratio(group, estimate, se, statistic)
    if claim and p_interval and not claim.admits(*p_interval):
        what = (
            f"{group.statistic_kind}({group.df}) = {group.statistic}"
            if group.statistic
            else f"{group.estimate} ({group.se})"
        )
        problems.append(
            (
                "p from the test statistic",
                f"{what}, p {claim.text}",
                f"the statistic gives p in {_fmt_range(*p_interval)}",
            )
        )
    problems += _check_stars(group, claim, p_interval)
    problems += _check_ci(group, estimate, se, df)
    return [Finding(file, line, check, reported, message) for check, reported, message in problems]


def _check_ratio(
    group: Group, estimate: Reported | None, se: Reported | None, statistic: Reported | None
) -> list[Problem]:
    """t (or Z) = estimate / SE, over the rounding intervals."""
    if not (estimate and se and statistic and group.statistic_kind in ("t", "z")):
        return []
    interval = ratio_range(estimate, se)
    if not interval or interval[0] <= statistic.high and interval[1] >= statistic.low:
        return []
    return [
        (
            "t = estimate / SE",
            f"estimate {group.estimate}, SE {group.se}, {group.statistic_kind} {group.statistic}",
            f"estimate / SE lies in {_fmt_range(*interval)}, not {group.statistic}",
        )
    ]


def _p_interval(
    group: Group,
    estimate: Reported | None,
    se: Reported | None,
    statistic: Reported | None,
    df: Reported | None,
) -> tuple[float, float] | None:
    """The p the reported statistic (or, without one, estimate / SE) allows; None when nothing gives one."""
    if statistic is not None:
        if group.statistic_kind == "chi2" and df is not None:
            return p_range_chi2(statistic, df.value)
        if group.statistic_kind in ("t", "z"):
            return p_range_t(statistic, df if group.statistic_kind == "t" else None)
        return None
    if not (estimate and se and group.statistic_kind in ("t", "z")):
        return None
    interval = ratio_range(estimate, se)
    if not interval:
        return None
    implied = Reported((interval[0] + interval[1]) / 2, interval[0], interval[1])
    p_interval = p_range_t(implied, df)
    if df is None:  # unknown df: p can only be larger than the normal one
        p_interval = (p_interval[0], 1.0)
    return p_interval


def _check_stars(group: Group, claim: PClaim | None, p_interval: tuple[float, float] | None) -> list[Problem]:
    """Stars against the p stated, or (no p stated) against the p the statistic gives."""
    if group.marks is None or not (claim or p_interval):
        return []
    marks = stars_claim(group.marks)
    if claim is not None and claim.text != "ns":
        exact = (claim.low, claim.high if not claim.open_high else math.nextafter(claim.high, 0))
        if not marks.admits(*exact):
            return [
                (
                    "stars match p",
                    f"p {claim.text}, stars '{group.marks}'",
                    f"p {claim.text} calls for '{_stars_for(exact)}'",
                )
            ]
    elif claim is None and p_interval is not None and not marks.admits(*p_interval):
        return [
            (
                "stars match the statistic",
                f"{group.estimate} ({group.se}){group.marks}",
                f"the estimate and SE give p in {_fmt_range(*p_interval)}",
            )
        ]
    return []


def _check_ci(group: Group, estimate: Reported | None, se: Reported | None, df: Reported | None) -> list[Problem]:
    """A 95% CI centred on the estimate, its half-width t(.975, df) x SE, over the rounding intervals."""
    ci = re.fullmatch(r"\[\s*([^,]+),\s*([^\]]+)\]", clean(group.ci)) if group.ci else None
    if not (ci and estimate and se and df):
        return []
    low, high = Reported.parse(ci.group(1)), Reported.parse(ci.group(2))
    if not (low and high):
        return []
    crit_low = float(stats.t.ppf(0.975, max(df.high, 0.5)))
    crit_high = float(stats.t.ppf(0.975, max(df.low, 0.5)))
    half_low, half_high = (high.low - low.high) / 2, (high.high - low.low) / 2
    possible_low, possible_high = crit_low * se.low, crit_high * se.high
    centre_ok = (low.low + high.low) / 2 <= estimate.high and (low.high + high.high) / 2 >= estimate.low
    if centre_ok and half_low <= possible_high and half_high >= possible_low:
        return []
    return [
        (
            "95% CI",
            f"{group.estimate} ({group.se}) [{ci.group(1)}, {ci.group(2)}]",
            "the CI does not fit the estimate, SE and df",
        )
    ]


def _stars_for(interval: tuple[float, float]) -> str:
    middle = (interval[0] + interval[1]) / 2
    return next((mark for bound, mark in STAR_LEVELS if middle < bound), "")


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------

COLUMN_NAMES = {
    "estimate": ("estimate", "b", "beta", "coef", "coefficient"),
    "se": ("se", "std. error", "std_error", "std error"),
    "df": ("df",),
    "statistic": ("t", "t / z", "t/z", "z", "statistic", "t value", "wald z"),
    "p": ("p", "p value", "p-value", "p_value", "sig. p"),
    "marks": ("sig.", "sig", "stars"),
    "test": ("test",),
    "ci": ("95% ci", "95 % ci", "ci"),
}
STATISTIC_CELL = re.compile(
    r"^(t|z|chi2|\u03c7\u00b2|\u03c72|chi-square)\s*\(\s*([\d.]+)\s*\)\s*=\s*(-?[\d.]+)", re.IGNORECASE
)
ESTIMATE_CELL = re.compile(r"^(-?[\d.]+)\s*\(\s*([\d.]+)\s*\)\s*(\**)$")


@dataclass(frozen=True)
class Table:
    """A parsed table: header, rows of cleaned cells and the file line of each row."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]


def parse_markdown_tables(text: str) -> list[Table]:
    """Every pipe table of a Markdown text (first line = header, second = the rule)."""
    tables: list[Table] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if (
            lines[index].lstrip().startswith("|")
            and index + 1 < len(lines)
            and re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", lines[index + 1])
            and "-" in lines[index + 1]
        ):
            header = tuple(clean(c) for c in _split_row(lines[index]))
            rows, numbers = [], []
            index += 2
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                rows.append(tuple(clean(c) for c in _split_row(lines[index])))
                numbers.append(index + 1)
                index += 1
            tables.append(Table(header, tuple(rows), tuple(numbers)))
        else:
            index += 1
    return tables


def _split_row(line: str) -> list[str]:
    body = line.strip()
    body = body.removeprefix("|")
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [cell.replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", body)]


def parse_csv_table(text: str) -> Table | None:
    reader = csv.reader(io.StringIO(text))
    rows, numbers = [], []
    header: tuple[str, ...] | None = None
    for record in reader:
        if header is None:
            header = tuple(c.strip() for c in record)
            continue
        rows.append(tuple(c.strip() for c in record))
        numbers.append(reader.line_num)
    return Table(header, tuple(rows), tuple(numbers)) if header else None


def _columns(header: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        lowered = name.strip().lower()
        for role, names in COLUMN_NAMES.items():
            if lowered in names and role not in found:
                found[role] = index
    return found


def check_table(table: Table, file: str) -> list[Finding]:
    """Rows with estimate/SE/t/df/p columns, statistic cells ("t(146) = 2.31") with a p column, stars."""
    columns = _columns(table.header)
    findings: list[Finding] = []
    for row, line in zip(table.rows, table.lines, strict=True):
        group = _row_group(row, columns)
        if any((group.statistic, group.p, group.estimate)):
            findings += check_group(group, file, line)
        # Estimate cells with stars, "-0.02 (0.01)*", anywhere in the row (paper layouts).
        for text in row:
            match = ESTIMATE_CELL.match(clean(text))
            if match:
                marks = match.group(3) if match.group(3) else None
                findings += check_group(Group(estimate=match.group(1), se=match.group(2), marks=marks), file, line)
    return findings


def _row_group(row: tuple[str, ...], columns: Mapping[str, int]) -> Group:
    """The numbers one table row reports together, found by their columns' roles."""

    def cell(role: str) -> str:
        index = columns.get(role)
        return row[index] if index is not None and index < len(row) else ""

    kind = "t"
    test = cell("test").lower()
    statistic, df = cell("statistic"), cell("df")
    if "chi" in test:
        kind = "chi2"
    elif test.startswith("fisher"):
        statistic, df = "", ""
    elif not df and cell("statistic") and "statistic" in columns:
        kind = "z" if cell("estimate") else "t"
    # Statistic written in one cell: "t(146) = 2.31", "chi2(1) = 4.20".
    for text in row:
        match = STATISTIC_CELL.match(clean(text))
        if match:
            name = match.group(1).lower()
            kind = "t" if name == "t" else ("z" if name == "z" else "chi2")
            df, statistic = match.group(2), match.group(3)
            break
    marks_cell = cell("marks") if "marks" in columns else None
    p = cell("p")
    return Group(
        estimate=cell("estimate"),
        se=cell("se"),
        df=df if kind != "z" else "",
        statistic=statistic,
        statistic_kind=kind,
        p=p,
        # Stars without a p column to hold them against are left to the estimate cells.
        marks=None if marks_cell is None or not p else re.sub(r"[^*]", "", marks_cell),
        ci=cell("ci"),
    )


# --------------------------------------------------------------------------------------------------
# Prose
# --------------------------------------------------------------------------------------------------

NUMBER = r"[-\u2212]?\d*\.?\d+"
P_PART = r"p\s*(?:=|<|>|\u2264|\u2265|<=|>=)\s*0?\.\d+"
PROSE_PATTERNS = (
    (
        "t",
        re.compile(rf"\bt\s*\(\s*(?P<df>[\d.]+)\s*\)\s*=\s*(?P<stat>{NUMBER})\s*,\s*(?P<p>{P_PART}|ns)", re.IGNORECASE),
    ),
    (
        "chi2",
        re.compile(
            rf"(?:\u03c7\s*\u00b2|\u03c72|chi2|chi-square|\$\\chi\^2\$)\s*\(\s*(?P<df>\d+)(?:\s*,\s*N\s*=\s*\d+)?\s*\)\s*=\s*(?P<stat>{NUMBER})\s*,\s*(?P<p>{P_PART}|ns)",
            re.IGNORECASE,
        ),
    ),
    ("z", re.compile(rf"\b[zZ]\s*=\s*(?P<stat>{NUMBER})\s*,\s*(?P<p>{P_PART}|ns)")),
)
ESTIMATE_PATTERN = re.compile(
    rf"\b(?:b|B|\u03b2|estimate)\s*=\s*(?P<est>{NUMBER})\s*,\s*SE\s*=\s*(?P<se>{NUMBER})"
    rf"(?:\s*,\s*t\s*\(\s*(?P<df>[\d.]+)\s*\)\s*=\s*(?P<stat>{NUMBER}))?(?:\s*,\s*(?P<p>{P_PART}|ns))?"
    rf"(?:\s*,\s*95\s*%\s*CI\s*(?P<ci>\[[^\]]+\]))?"
)


def check_prose(text: str, file: str) -> list[Finding]:
    """Inline statistics of Markdown prose (table lines are left to :func:`check_table`)."""
    findings: list[Finding] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("|"):
            continue
        line = clean(raw.replace("\u2212", "-")).replace("*", "")  # emphasis: *b* = 0.02, *p* < .001
        covered: list[tuple[int, int]] = []
        for match in ESTIMATE_PATTERN.finditer(line):
            covered.append(match.span())
            group = Group(
                estimate=match.group("est"),
                se=match.group("se"),
                df=match.group("df") or "",
                statistic=match.group("stat") or "",
                statistic_kind="t",
                p=match.group("p") or "",
                ci=match.group("ci") or "",
            )
            findings += check_group(group, file, number)
        for kind, pattern in PROSE_PATTERNS:
            for match in pattern.finditer(line):
                if any(start <= match.start() < end for start, end in covered):
                    continue
                group = Group(
                    df=match.groupdict().get("df") or "",
                    statistic=match.group("stat"),
                    statistic_kind=kind,
                    p=match.group("p"),
                )
                findings += check_group(group, file, number)
    return findings


# --------------------------------------------------------------------------------------------------
# Paper layout against the full layout (ns and stars against the exact p)
# --------------------------------------------------------------------------------------------------


def check_paper_against_full(paper: Table, full: Table, file: str) -> list[Finding]:
    """Each row of a paper-layout model table is one model, in the order of the full table's "Model ID"s;
    its intercept cell is the predictor's main term (Intercept for a model without one) and its slope cell
    the time interaction (time). "ns" needs p >= .05 there, stars must match that p."""
    header = [h.lower() for h in paper.header]
    intercept_col = next((i for i, h in enumerate(header) if h.startswith("intercept")), None)
    slope_col = next((i for i, h in enumerate(header) if "slope" in h and "explained" not in h), None)
    fixed = _fixed_effect_p(full)
    if intercept_col is None or slope_col is None or fixed is None:
        return []
    # A section heading ("Patient factors") is a row without any estimate: not a model.
    kept = [(r, n) for r, n in zip(paper.rows, paper.lines, strict=True) if any(clean(c) for c in r[intercept_col:])]
    if len(fixed) != len(kept):
        line = kept[0][1] if kept else 1
        return [
            Finding(file, line, "paper vs full layout", f"{len(kept)} rows", f"the full table has {len(fixed)} models")
        ]
    findings: list[Finding] = []
    for (row, line), (model_id, terms) in zip(kept, fixed.items(), strict=True):
        main, slope = _row_terms(terms)
        for column, term in ((intercept_col, main), (slope_col, slope)):
            text = clean(row[column]) if column < len(row) else ""
            problem = _check_printed(text, term, terms.get(term, ""))
            if problem:
                findings.append(Finding(file, line, problem[0], f"{model_id} {term}: {text}", problem[1]))
    return findings


def _fixed_effect_p(full: Table) -> dict[str, dict[str, str]] | None:
    """The p of each fixed-effect term by model, in the full table's order of models; None when the table
    has no such columns."""
    columns = {h: i for i, h in enumerate(full.header)}
    if not {"Model ID", "Term", "p", "Effect"} <= set(columns):
        return None
    by_model: dict[str, dict[str, str]] = {}
    for row in full.rows:
        terms = by_model.setdefault(row[columns["Model ID"]], {})
        if row[columns["Effect"]] == "Fixed":
            terms[row[columns["Term"]]] = row[columns["p"]]
    return by_model


def _row_terms(terms: Mapping[str, str]) -> tuple[str, str]:
    """(intercept term, slope term) a paper row prints: the predictor's main term and its time
    interaction, or Intercept and time for a model without a predictor."""
    others = [
        t for t in terms if t not in ("Intercept", "time") and not t.startswith("time:") and not t.endswith(":time")
    ]
    if not others:
        return "Intercept", "time"
    main = others[0]
    return main, next((t for t in (f"time:{main}", f"{main}:time") if t in terms), "time")


def _check_printed(text: str, term: str, p_text: str) -> tuple[str, str] | None:
    """(check, problem) when a paper cell's "ns" or stars do not fit the exact p of its term."""
    claim = parse_p(p_text)
    if not text or claim is None:
        return None
    interval = (claim.low, math.nextafter(claim.high, 0) if claim.open_high else claim.high)
    if text == "ns":
        ns = PClaim(ALPHA, 1.0, False, "ns")
        return None if ns.admits(*interval) else ("ns means p >= .05", f"the full table gives p {p_text}")
    match = ESTIMATE_CELL.match(text)
    if match and term not in ("Intercept", "time") and not stars_claim(match.group(3)).admits(*interval):
        return ("stars match p", f"the full table gives p {p_text}")
    return None


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def check_text(text: str, file: str, suffix: str) -> list[Finding]:
    """All checks that apply to one file's text (``suffix`` ".md" or ".csv")."""
    if suffix == ".csv":
        table = parse_csv_table(text)
        return check_table(table, file) if table else []
    findings = check_prose(text, file)
    for table in parse_markdown_tables(text):
        findings += check_table(table, file)
    return findings


def check_declared_files(files: Declared, folders: Sequence[str]) -> tuple[list[Finding], list[str]]:
    """Check every declared ``*.md`` and ``*.csv`` in ``folders`` (folder by folder, sorted), a paper-layout
    CSV also against its declared ``_full`` companion; returns the findings and the names of the files
    checked."""
    findings: list[Finding] = []
    checked: list[str] = []
    for folder in folders:
        for name in files.names([folder]):
            path = files.files[name]
            if path.suffix not in (".md", ".csv"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            findings += check_text(text, name, path.suffix)
            checked.append(name)
            full = files.path(PurePosixPath(name).with_stem(f"{path.stem}_full").as_posix())
            if path.suffix == ".csv" and full is not None and full.exists():
                paper_table, full_table = parse_csv_table(text), parse_csv_table(full.read_text(encoding="utf-8"))
                if paper_table and full_table:
                    findings += check_paper_against_full(paper_table, full_table, name)
    return findings, checked
