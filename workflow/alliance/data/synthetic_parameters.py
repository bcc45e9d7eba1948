"""The generating parameters of the synthetic cohort, read and checked once from ``config/synthetic.yaml``.

The generator (``alliance.data.synthetic``) reads some 250 values. Read as string keys of a plain dict, a
typo or a wrong type only surfaced as a KeyError or a NaN deep inside a simulation; here every section of
the file is a frozen dataclass, nested as the file is, and ``load_parameters`` checks everything before a
single number is drawn: every key present, no unknown keys, types, ranges, and the cross-field
constraints the generator relies on. Each problem is one ``SyntheticParametersError`` naming the file and
the dotted key (``config/synthetic.yaml, key 'wai_model.slope_sd': must be a number > 0, got 'abc'``).

Defaults live only in the dataclasses below: a termination left out of a group's ``termination_pct``
has 0 %, and ``wai_model.version_from_switch_shift`` is 0. Every other key is required.

Sections keyed by the instrument config's names (the WAI subscales of ``wai_model``, the SIPP-SF domains,
the EQ-5D dimensions) can only be matched against it once the instruments are known:
``check_against_instruments``, which ``simulate_cohort`` calls.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from alliance.data.contract import DAYS_PER_MONTH, PERSONALITY_DISORDERS, SYMPTOM_DISORDERS, TERMINATIONS
from alliance.data.instruments import Instruments
from alliance.errors import ConfigError

if TYPE_CHECKING:  # numpy is imported where a matrix is built: the Snakefile parses this file at load
    import numpy as np
    from numpy.typing import NDArray

# Table II rows given as [good %, poor %] in baseline.binary_pct: the two patient rows, then every
# diagnosis column of the export contract.
BINARY_ROWS = ("female", "no_work_study", *PERSONALITY_DISORDERS, *SYMPTOM_DISORDERS)
# The termination of patients still in treatment on the export date (they have no discharge).
STILL_IN_TREATMENT = "ongoing"


class SyntheticParametersError(ConfigError):
    """``config/synthetic.yaml`` is missing a key, has an unknown one, or a value the generator cannot use."""


# ----------------------------------------------------------------------------------------------------
# The parameters, one dataclass per section of config/synthetic.yaml


@dataclass(frozen=True)
class MeanSd:
    """A ``[mean, sd]`` pair."""

    mean: float
    sd: float


@dataclass(frozen=True)
class GroupPercents:
    """A Table II ``[good %, poor %]`` pair: a binary characteristic's prevalence per outcome group."""

    good: float
    poor: float


@dataclass(frozen=True)
class GroupNormals:
    """``{good: [mean, sd], poor: [mean, sd]}``: a normal characteristic per outcome group."""

    good: MeanSd
    poor: MeanSd


@dataclass(frozen=True)
class Calendar:
    """Admission period, the date the WAI form changed, the register extract's date, and the two forms."""

    first_admission: date
    wai_switch: date
    export_date: date
    version_before_switch: str
    version_from_switch: str


@dataclass(frozen=True)
class OutcomeGroups:
    """Patients per outcome group, of ``reference_n``."""

    good: int
    poor: int
    unclassified: int


@dataclass(frozen=True)
class AgeModel(GroupNormals):
    """Age per outcome group, clipped to [min, max] years."""

    min: int
    max: int


@dataclass(frozen=True)
class BorderlineTraits:
    """Borderline criteria met, with and without a borderline PD diagnosis."""

    with_bpd: MeanSd
    without_bpd: MeanSd


@dataclass(frozen=True)
class OtherPdTraits(GroupNormals):
    """Criteria of the other PDs: per outcome group, growing with the number of non-borderline PDs."""

    per_other_pd: float
    max_total: int


@dataclass(frozen=True)
class Baseline:
    """Table II characteristics: binary rows (keyed by ``BINARY_ROWS``), ages, traits, SIPP-SF, EQ-5D VAS."""

    binary_pct: Mapping[str, GroupPercents]
    symptom_clustering: float
    age: AgeModel
    borderline_traits: BorderlineTraits
    other_pd_traits: OtherPdTraits
    sipp_sf: Mapping[str, GroupNormals]  # keyed by the instrument config's SIPP-SF domains
    eq5d_vas: GroupNormals


@dataclass(frozen=True)
class LevelCuts:
    """The two latent-severity cuts between EQ-5D levels 1|2 and 2|3 of one dimension."""

    cut1: float
    cut2: float


@dataclass(frozen=True)
class Eq5dModel:
    """EQ-5D-3L levels from a latent severity tied to the VAS, and the VAS change to discharge."""

    vas_scale: float
    severity_sd: float
    noise_sd: float
    cuts: Mapping[str, LevelCuts]  # keyed by the instrument config's EQ-5D dimensions
    discharge_vas_change: GroupNormals


@dataclass(frozen=True)
class TerminationShares:
    """% of an outcome group per termination; a termination the file leaves out has none."""

    planned: float = 0.0
    dropout_early: float = 0.0
    dropout_late: float = 0.0
    advised: float = 0.0
    referred: float = 0.0
    ongoing: float = 0.0

    def in_contract_order(self) -> tuple[float, ...]:
        """The shares in the order of the contract's ``TERMINATIONS`` (the generator's label codes)."""
        return tuple(float(getattr(self, name)) for name in TERMINATIONS)


@dataclass(frozen=True)
class TerminationQuotas:
    """Termination quotas per outcome group."""

    good: TerminationShares
    poor: TerminationShares
    unclassified: TerminationShares


@dataclass(frozen=True)
class DurationSegment:
    """One uniform segment [low, high] months of a treatment-length distribution, with its weight."""

    low: float
    high: float
    weight: float


@dataclass(frozen=True)
class DurationMonths:
    """Treatment length (for ``ongoing``: months elapsed up to the export date) per termination."""

    planned: tuple[DurationSegment, ...]
    dropout_early: tuple[DurationSegment, ...]
    dropout_late: tuple[DurationSegment, ...]
    advised: tuple[DurationSegment, ...]
    referred: tuple[DurationSegment, ...]
    ongoing: tuple[DurationSegment, ...]

    def in_contract_order(self) -> tuple[tuple[DurationSegment, ...], ...]:
        """The segments in the order of the contract's ``TERMINATIONS`` (the generator's label codes)."""
        return tuple(getattr(self, name) for name in TERMINATIONS)


@dataclass(frozen=True)
class FinalWeight:
    """Relative chance of a discharge WAI for completers (``planned``) and everyone else."""

    planned: float
    other: float


@dataclass(frozen=True)
class WaiSchedule:
    """When WAI administrations happen, and how many each patient has."""

    scheduled_months: tuple[float, ...]
    extra_months: tuple[float, ...]
    jitter_days: int
    final_jitter_days: int
    final_window_days: int
    slot_decay: float
    extra_weight: float
    n_wai_counts: tuple[int, ...]  # patients with 1, 2, ... administrations (index 0: one), of reference_n
    lacking_final_pct: float
    single_within_first_year_pct: float
    final_weight: FinalWeight


@dataclass(frozen=True)
class VersionGroups:
    """Patients per WAI version group, of ``reference_n``."""

    before_switch_only: int
    from_switch_only: int
    both: int


@dataclass(frozen=True)
class SubscaleGrowth:
    """Fixed effects of one WAI subscale's latent growth model (Table IV; time in months)."""

    b0: float
    b_poor: float
    b_mood: float
    b_paranoid: float
    b_nwai: float
    b1: float
    d_poor: float
    d_paranoid_poor: float


@dataclass(frozen=True)
class SubscaleCorrelations:
    """Within-patient correlation of the subscales' intercepts, slopes and residuals."""

    intercept: float
    slope: float
    residual: float


@dataclass(frozen=True)
class WaiModel:
    """Latent WAI trajectories: per-subscale fixed effects, random effects, item noise and missingness.

    ``subscales`` holds the file's per-subscale sections (``goals``, ``bonds``, ``tasks``), keyed by the
    instrument config's subscale names.
    """

    subscales: Mapping[str, SubscaleGrowth]
    intercept_sd: float
    slope_sd: float
    intercept_slope_corr: float
    residual_sd: float
    subscale_corr: SubscaleCorrelations
    item_sd: float
    item_missing_pct: float
    subscale_two_missing_pct: float
    version_from_switch_shift: float = 0.0

    def random_effects_correlation(self) -> NDArray[np.float64]:
        """Correlation of (intercepts of every subscale, then slopes of every subscale) within a patient."""
        import numpy as np

        k = len(self.subscales)
        corr = np.zeros((2 * k, 2 * k))
        corr[:k, :k] = equicorrelation(k, self.subscale_corr.intercept)
        corr[k:, k:] = equicorrelation(k, self.subscale_corr.slope)
        corr[:k, k:] = corr[k:, :k] = self.intercept_slope_corr * np.sqrt(corr[:k, :k] * corr[k:, k:])
        return corr

    def residual_correlation(self) -> NDArray[np.float64]:
        """Correlation of the subscales' occasion-level residuals."""
        return equicorrelation(len(self.subscales), self.subscale_corr.residual)


@dataclass(frozen=True)
class WavePresence:
    """% of intermediate outcome waves present, per kind of assessment."""

    gaf: float
    self_report: float


@dataclass(frozen=True)
class GafModel:
    """GAF at admission, at discharge per outcome group, and in between."""

    baseline: MeanSd
    baseline_mood: float
    final_good: MeanSd
    final_poor: MeanSd
    final_age_corr: float
    noise_sd: float
    split_scores_pct: float


@dataclass(frozen=True)
class SelfReportModel:
    """A self-report total (WSAS) or mean (BSI-18): admission, the discharge quota below its threshold."""

    baseline: MeanSd
    below_pct: float
    below_good_pct: float
    final_below: MeanSd
    final_above: MeanSd
    noise_sd: float
    item_sd: float
    item_missing_pct: float


@dataclass(frozen=True)
class BsiModel(SelfReportModel):
    """The BSI-18, whose discharge values below threshold go preferentially to patients with a mild WSAS."""

    wsas_concordance_weight: float


@dataclass(frozen=True)
class Outcomes:
    """Clinical outcome assessments: waves, the discharge window, GAF, WSAS and BSI-18."""

    wave_months: tuple[float, ...]
    wave_presence_pct: WavePresence
    wave_jitter_days: int
    final_jitter_days: int
    final_window_days: int
    gaf: GafModel
    self_report_final_missing: int
    wsas: SelfReportModel
    bsi: BsiModel


@dataclass(frozen=True)
class SyntheticParameters:
    """All of ``config/synthetic.yaml``."""

    seed: int
    n_patients: int
    reference_n: int
    calendar: Calendar
    outcome_groups: OutcomeGroups
    baseline: Baseline
    eq5d: Eq5dModel
    termination_pct: TerminationQuotas
    duration_months: DurationMonths
    wai_schedule: WaiSchedule
    version_groups: VersionGroups
    wai_model: WaiModel
    outcomes: Outcomes


def equicorrelation(k: int, rho: float) -> NDArray[np.float64]:
    """k x k correlation matrix with every off-diagonal entry rho."""
    import numpy as np

    return np.full((k, k), rho) + (1 - rho) * np.eye(k)


# ----------------------------------------------------------------------------------------------------
# Entry points


def load_parameters(path: str | Path) -> SyntheticParameters:
    """Read and check ``config/synthetic.yaml`` (or another file of the same shape)."""
    return parameters_from_mapping(read_parameter_mapping(path), file=str(path))


def read_parameter_mapping(path: str | Path) -> Any:
    """The file's YAML as read, before any check; unreadable files and duplicate keys are errors."""
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except SyntheticParametersError as error:  # a duplicate key, found by the loader without the path
        raise error.located(str(path)) from None
    except OSError as error:
        raise SyntheticParametersError(f"cannot be read: {error.strerror}", file=str(path)) from error
    except yaml.YAMLError as error:
        raise SyntheticParametersError(f"is not valid YAML: {error}", file=str(path)) from error


def parameters_from_mapping(mapping: object, file: str | Path = "") -> SyntheticParameters:
    """Check a mapping shaped like ``config/synthetic.yaml`` and return it typed; ``file`` names it in errors."""
    root = _Section(mapping, "", str(file))
    parameters = SyntheticParameters(
        seed=root.integer("seed"),
        n_patients=root.integer("n_patients", _AT_LEAST_ONE),
        reference_n=root.integer("reference_n", _AT_LEAST_ONE),
        calendar=root.section("calendar", _calendar),
        outcome_groups=root.section("outcome_groups", _outcome_groups),
        baseline=root.section("baseline", _baseline),
        eq5d=root.section("eq5d", _eq5d),
        termination_pct=root.section("termination_pct", _termination_quotas),
        duration_months=root.section("duration_months", _duration_months),
        wai_schedule=root.section("wai_schedule", _wai_schedule),
        version_groups=root.section("version_groups", _version_groups),
        wai_model=root.section("wai_model", _wai_model),
        outcomes=root.section("outcomes", _outcomes),
    )
    root.done()
    _check_quota_totals(parameters, str(file))
    _check_unclassified_durations(parameters, str(file))
    return parameters


def check_against_instruments(parameters: SyntheticParameters, instruments: Instruments, file: str = "") -> None:
    """The sections keyed by the instrument config's names must name exactly its WAI forms, subscales,
    SIPP-SF domains and EQ-5D dimensions (the generator looks each of them up)."""
    versions = instruments.wai.versions
    for key, version in (
        ("calendar.version_before_switch", parameters.calendar.version_before_switch),
        ("calendar.version_from_switch", parameters.calendar.version_from_switch),
    ):
        if version not in versions:
            known = ", ".join(sorted(versions))
            raise SyntheticParametersError(
                f"WAI version {version!r} is unknown to the instrument config ({known})", file, key
            )
    for key, given, expected in (
        ("wai_model", parameters.wai_model.subscales, instruments.wai.subscales),
        ("baseline.sipp_sf", parameters.baseline.sipp_sf, instruments.sipp_sf.domains),
        ("eq5d.cuts", parameters.eq5d.cuts, instruments.eq5d.dimensions),
    ):
        if set(given) != set(expected):
            raise SyntheticParametersError(
                f"has sections {sorted(given)}, but the instrument config defines {sorted(expected)}", file, key
            )


# ----------------------------------------------------------------------------------------------------
# Reading: one checked value at a time, each error naming its dotted key


T = TypeVar("T")


@dataclass(frozen=True)
class _Range:
    """The values a number may take, printed as the error message states the rule."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    def __str__(self) -> str:
        if math.isinf(self.high):
            return "" if math.isinf(self.low) else f" {'>' if self.low_open else '>='} {self.low:g}"
        return f" in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"


_ANY = _Range()
_NON_NEGATIVE = _Range(0)
_POSITIVE = _Range(0, low_open=True)  # divisors, weights of weighted sampling, SDs of a Cholesky factor
_AT_LEAST_ONE = _Range(1)
_PERCENT = _Range(0, 100)
_CORRELATION = _Range(-1, 1)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error: plain YAML keeps the
    last one silently, so an edit to the first would have no effect."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # '<<: *anchor' may repeat; the base loader merges it
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise SyntheticParametersError(f"key {key!r} appears twice in one section (line {line})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _shown(value: object) -> str:
    """The offending value as the file spells it, shortened so a whole section cannot flood the message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _finite_number(value: object) -> float | None:
    """The value as a float if it is a finite number (not a bool: YAML reads ``yes`` as True)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class _Section:
    """One mapping of the file being read. Hands out its keys with their checks, remembers which keys it
    was asked for, and reports any other key as unknown once the section is read (``done``)."""

    def __init__(self, value: object, key: str, file: str) -> None:
        self.key = key
        self.file = file
        if not isinstance(value, Mapping):
            raise SyntheticParametersError(f"must be a mapping of keys to values, got {_shown(value)}", file, key)
        self._values: Mapping[Any, Any] = value
        self._known: set[Any] = set()

    def child(self, name: object) -> str:
        return f"{self.key}.{name}" if self.key else str(name)

    def error(self, message: str, name: object = None) -> SyntheticParametersError:
        return SyntheticParametersError(message, self.file, self.key if name is None else self.child(name))

    def data_keys(self) -> list[Any]:
        """Every key of the section, in file order (for sections keyed by data, not by the schema)."""
        self._known.update(self._values)
        return list(self._values)

    def names(self) -> list[str]:
        """Every key of a section keyed by names (diagnoses, domains, dimensions), in file order."""
        for key in self._values:
            if not isinstance(key, str):
                raise self.error(f"keys must be names, got {key!r}")
        return self.data_keys()

    def has(self, name: str) -> bool:
        """Whether an optional key is given; it counts as a known key either way."""
        self._known.add(name)
        return name in self._values

    def optional_numbers(self, names: Sequence[str], allowed: _Range = _ANY) -> dict[str, float]:
        """The optional keys the file gives; an absent one keeps its dataclass default (no default here)."""
        return {name: self.number(name, allowed) for name in names if self.has(name)}

    def raw(self, name: object) -> Any:
        self._known.add(name)
        if name not in self._values:
            raise self.error("required key is missing", name)
        return self._values[name]

    def number(self, name: str, allowed: _Range = _ANY) -> float:
        value = self.raw(name)
        number = _finite_number(value)
        if number is None or number not in allowed:
            raise self.error(f"must be a number{allowed}, got {_shown(value)}", name)
        return number

    def integer(self, name: object, allowed: _Range = _NON_NEGATIVE) -> int:
        value = self.raw(name)
        integer = None if isinstance(value, bool) or not isinstance(value, numbers.Integral) else int(value)
        if integer is None or integer not in allowed:
            raise self.error(f"must be an integer{allowed}, got {_shown(value)}", name)
        return integer

    def text(self, name: str) -> str:
        value = self.raw(name)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"must be a non-empty name, got {_shown(value)}", name)
        return value

    def iso_date(self, name: str) -> date:
        """An ISO date, quoted (a string) or not (YAML reads it as a date)."""
        value = self.raw(name)
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and _DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(f"must be a date YYYY-MM-DD, got {_shown(value)}", name)

    def numbers(
        self, name: str, count: int, rule: str, valid: Callable[[tuple[float, ...]], bool]
    ) -> tuple[float, ...]:
        """A list of exactly ``count`` numbers satisfying ``valid``; ``rule`` describes it in the error."""
        value = self.raw(name)
        parsed = _number_list(value)
        if parsed is None or len(parsed) != count or not valid(parsed):
            raise self.error(f"must be {rule}, got {_shown(value)}", name)
        return parsed

    def months(self, name: str) -> tuple[float, ...]:
        """Months after admission of a list of waves: positive (day 0 is the admission), each once."""
        value = self.raw(name)
        parsed = _number_list(value)
        if parsed is None or not all(month in _POSITIVE for month in parsed):
            raise self.error(f"must be a list of months > 0, got {_shown(value)}", name)
        repeated = sorted({month for month in parsed if parsed.count(month) > 1})
        if repeated:
            raise self.error(f"lists month {repeated[0]:g} more than once", name)
        return parsed

    def section(self, name: str, parse: Callable[[_Section], T]) -> T:
        """A nested mapping, read by ``parse``; its unknown keys are reported once it is read."""
        section = _Section(self.raw(name), self.child(name), self.file)
        parsed = parse(section)
        section.done()
        return parsed

    def unread_sections(self) -> list[str]:
        """Keys not asked for yet whose values are mappings (the per-subscale sections of wai_model)."""
        return [
            k for k, v in self._values.items() if isinstance(k, str) and k not in self._known and isinstance(v, Mapping)
        ]

    def done(self) -> None:
        for key in self._values:
            if key not in self._known:
                expected = ", ".join(sorted(str(k) for k in self._known))
                raise self.error(f"unknown key (expected: {expected})", key)


def _number_list(value: object) -> tuple[float, ...] | None:
    if not isinstance(value, list):
        return None
    parsed = tuple(_finite_number(item) for item in value)
    return None if any(number is None for number in parsed) else tuple(n for n in parsed if n is not None)


# ----------------------------------------------------------------------------------------------------
# The sections


def _mean_sd(s: _Section, name: str, sd: _Range = _NON_NEGATIVE) -> MeanSd:
    mean, spread = s.numbers(name, 2, f"[mean, sd] with sd{sd}", lambda pair: pair[1] in sd)
    return MeanSd(mean, spread)


def _group_normals(s: _Section) -> GroupNormals:
    return GroupNormals(good=_mean_sd(s, "good"), poor=_mean_sd(s, "poor"))


def _calendar(s: _Section) -> Calendar:
    calendar = Calendar(
        first_admission=s.iso_date("first_admission"),
        wai_switch=s.iso_date("wai_switch"),
        export_date=s.iso_date("export_date"),
        version_before_switch=s.text("version_before_switch"),
        version_from_switch=s.text("version_from_switch"),
    )
    if calendar.export_date <= calendar.first_admission:
        raise s.error(f"must be after first_admission ({calendar.first_admission})", "export_date")
    # Admission windows of the version groups are built around the switch inside the admission period.
    if not calendar.first_admission <= calendar.wai_switch <= calendar.export_date:
        raise s.error("must lie between first_admission and export_date", "wai_switch")
    return calendar


def _outcome_groups(s: _Section) -> OutcomeGroups:
    groups = OutcomeGroups(good=s.integer("good"), poor=s.integer("poor"), unclassified=s.integer("unclassified"))
    # Unclassified patients are drawn like the pooled good and poor ones, which must therefore exist.
    if groups.good + groups.poor == 0:
        raise s.error("good and poor cannot both be 0: unclassified patients are drawn like the pooled two")
    return groups


def _binary_pct(s: _Section) -> dict[str, GroupPercents]:
    rule = "[good %, poor %], two numbers in [0, 100]"
    pairs = {row: s.numbers(row, 2, rule, lambda pair: all(x in _PERCENT for x in pair)) for row in BINARY_ROWS}
    return {row: GroupPercents(good, poor) for row, (good, poor) in pairs.items()}


def _age(s: _Section) -> AgeModel:
    age = AgeModel(good=_mean_sd(s, "good"), poor=_mean_sd(s, "poor"), min=s.integer("min"), max=s.integer("max"))
    if age.max < age.min:
        raise s.error(f"must be at least min ({age.min})", "max")
    return age


def _borderline_traits(s: _Section) -> BorderlineTraits:
    return BorderlineTraits(with_bpd=_mean_sd(s, "with_bpd"), without_bpd=_mean_sd(s, "without_bpd"))


def _other_pd_traits(s: _Section) -> OtherPdTraits:
    return OtherPdTraits(
        good=_mean_sd(s, "good"),
        poor=_mean_sd(s, "poor"),
        per_other_pd=s.number("per_other_pd", _NON_NEGATIVE),
        max_total=s.integer("max_total"),
    )


def _named_group_normals(s: _Section) -> dict[str, GroupNormals]:
    names = s.names()
    if not names:
        raise s.error("must give {good: [mean, sd], poor: [mean, sd]} per SIPP-SF domain")
    return {name: s.section(name, _group_normals) for name in names}


def _baseline(s: _Section) -> Baseline:
    return Baseline(
        binary_pct=s.section("binary_pct", _binary_pct),
        symptom_clustering=s.number("symptom_clustering", _NON_NEGATIVE),
        age=s.section("age", _age),
        borderline_traits=s.section("borderline_traits", _borderline_traits),
        other_pd_traits=s.section("other_pd_traits", _other_pd_traits),
        sipp_sf=s.section("sipp_sf", _named_group_normals),
        eq5d_vas=s.section("eq5d_vas", _group_normals),
    )


def _level_cuts(s: _Section) -> dict[str, LevelCuts]:
    names = s.names()
    if not names:
        raise s.error("must give [cut1, cut2] per EQ-5D dimension")
    rule = "[cut1, cut2], two numbers with cut1 <= cut2"
    pairs = {name: s.numbers(name, 2, rule, lambda pair: pair[0] <= pair[1]) for name in names}
    return {name: LevelCuts(cut1, cut2) for name, (cut1, cut2) in pairs.items()}


def _eq5d(s: _Section) -> Eq5dModel:
    return Eq5dModel(
        vas_scale=s.number("vas_scale", _POSITIVE),
        severity_sd=s.number("severity_sd", _NON_NEGATIVE),
        noise_sd=s.number("noise_sd", _NON_NEGATIVE),
        cuts=s.section("cuts", _level_cuts),
        discharge_vas_change=s.section("discharge_vas_change", _group_normals),
    )


def _termination_shares(s: _Section) -> TerminationShares:
    shares = TerminationShares(**s.optional_numbers(TERMINATIONS, _PERCENT))  # a termination left out: 0 %
    total = sum(shares.in_contract_order())
    if not math.isclose(total, 100.0, abs_tol=1e-9):
        raise s.error(f"% of the group must sum to 100, they sum to {total:g}")
    return shares


def _termination_quotas(s: _Section) -> TerminationQuotas:
    return TerminationQuotas(
        good=s.section("good", _termination_shares),
        poor=s.section("poor", _termination_shares),
        unclassified=s.section("unclassified", _termination_shares),
    )


def _segments(s: _Section, name: str) -> tuple[DurationSegment, ...]:
    value = s.raw(name)
    if not isinstance(value, list) or not value:
        raise s.error(f"must be a non-empty list of [lo, hi, weight] segments, got {_shown(value)}", name)
    segments = []
    for i, item in enumerate(value):
        parsed = _number_list(item)
        # Weights are divisors of the segment's quantile range, so each must be positive.
        if parsed is None or len(parsed) != 3 or not 0 <= parsed[0] <= parsed[1] or parsed[2] <= 0:
            raise s.error(
                f"must be [lo, hi, weight] with 0 <= lo <= hi and weight > 0, got {_shown(item)}", f"{name}[{i}]"
            )
        segments.append(DurationSegment(*parsed))
    return tuple(segments)


def _duration_months(s: _Section) -> DurationMonths:
    return DurationMonths(**{name: _segments(s, name) for name in TERMINATIONS})


def _administrations(key: object) -> int:
    """A key of n_wai_counts as a number of administrations (YAML reads ``3:`` as 3, ``'3':`` as '3'); 0 if none."""
    if isinstance(key, bool):
        return 0
    if isinstance(key, int):
        return key
    return int(key) if isinstance(key, str) and key.isdigit() else 0


def _n_wai_counts(s: _Section) -> tuple[int, ...]:
    """Counts per number of administrations (YAML keys 1, 2, ... or '1', '2', ...), every one from 1 up."""
    counts: dict[int, int] = {}
    for key in s.data_keys():
        n_wai = _administrations(key)
        if n_wai < 1:
            raise s.error("is not a number of administrations (an integer >= 1)", key)
        if n_wai in counts:
            raise s.error(f"gives the count for {n_wai} administrations twice", key)
        counts[n_wai] = s.integer(key)
    if not counts:
        raise s.error("must give the patients per number of administrations, from 1")
    largest = max(counts)
    missing = [n for n in range(1, largest + 1) if n not in counts]
    if missing:
        raise s.error(f"lacks a count for {missing[0]} administrations: give every number from 1 to {largest}")
    return tuple(counts[n] for n in range(1, largest + 1))


def _final_weight(s: _Section) -> FinalWeight:
    return FinalWeight(planned=s.number("planned", _POSITIVE), other=s.number("other", _POSITIVE))


def _wai_schedule(s: _Section) -> WaiSchedule:
    schedule = WaiSchedule(
        scheduled_months=s.months("scheduled_months"),
        extra_months=s.months("extra_months"),
        jitter_days=s.integer("jitter_days"),
        final_jitter_days=s.integer("final_jitter_days"),
        final_window_days=s.integer("final_window_days"),
        slot_decay=s.number("slot_decay", _Range(0, 1, low_open=True)),
        extra_weight=s.number("extra_weight", _POSITIVE),
        n_wai_counts=s.section("n_wai_counts", _n_wai_counts),
        lacking_final_pct=s.number("lacking_final_pct", _PERCENT),
        single_within_first_year_pct=s.number("single_within_first_year_pct", _PERCENT),
        final_weight=s.section("final_weight", _final_weight),
    )
    both = sorted(set(schedule.scheduled_months) & set(schedule.extra_months))
    if both:
        raise s.error(f"repeats scheduled month {both[0]:g}: two administrations would share a date", "extra_months")
    # Every administration is a scheduled or extra wave, or the discharge one.
    slots = len(schedule.scheduled_months) + len(schedule.extra_months) + 1
    if len(schedule.n_wai_counts) > slots:
        raise s.error(f"counts patients with {len(schedule.n_wai_counts)} administrations, but at most {slots} fit")
    return schedule


def _version_groups(s: _Section) -> VersionGroups:
    return VersionGroups(
        before_switch_only=s.integer("before_switch_only"),
        from_switch_only=s.integer("from_switch_only"),
        both=s.integer("both"),
    )


def _subscale_growth(s: _Section) -> SubscaleGrowth:
    names = ("b0", "b_poor", "b_mood", "b_paranoid", "b_nwai", "b1", "d_poor", "d_paranoid_poor")
    return SubscaleGrowth(**{name: s.number(name) for name in names})


def _subscale_correlations(s: _Section) -> SubscaleCorrelations:
    return SubscaleCorrelations(
        intercept=s.number("intercept", _CORRELATION),
        slope=s.number("slope", _CORRELATION),
        residual=s.number("residual", _CORRELATION),
    )


def _positive_definite(matrix: Sequence[Sequence[float]]) -> bool:
    """Whether the generator's Cholesky factorisation of this correlation matrix will succeed: the same
    factorisation, in plain Python (a matrix of at most a few rows), so that checking the file at load
    does not import numpy."""
    rows = [[float(value) for value in row] for row in matrix]
    if not all(math.isfinite(value) for row in rows for value in row):
        return False
    factor: list[list[float]] = []
    for i, row in enumerate(rows):
        factor.append([0.0] * len(rows))
        for j in range(i + 1):
            partial = row[j] - sum(factor[i][k] * factor[j][k] for k in range(j))
            if i == j:
                if partial <= 0.0:
                    return False
                factor[i][i] = math.sqrt(partial)
            else:
                factor[i][j] = partial / factor[j][j]
    return True


def _random_effects_rows(model: WaiModel) -> list[list[float]]:
    """WaiModel.random_effects_correlation without numpy (for the check only): intercepts, then slopes;
    an intercept and a slope correlate intercept_slope_corr * sqrt(their blocks' correlations)."""
    k, corr = len(model.subscales), model.subscale_corr
    intercepts = _equicorrelation_rows(k, corr.intercept)
    slopes = _equicorrelation_rows(k, corr.slope)
    cross = [[model.intercept_slope_corr * math.sqrt(a * b) for a, b in zip(i, s)] for i, s in zip(intercepts, slopes)]
    top = [intercepts[i] + cross[i] for i in range(k)]
    bottom = [[cross[j][i] for j in range(k)] + slopes[i] for i in range(k)]
    return top + bottom


def _equicorrelation_rows(k: int, rho: float) -> list[list[float]]:
    return [[1.0 if i == j else rho for j in range(k)] for i in range(k)]


def _wai_model(s: _Section) -> WaiModel:
    model = WaiModel(
        intercept_sd=s.number("intercept_sd", _POSITIVE),
        slope_sd=s.number("slope_sd", _POSITIVE),
        intercept_slope_corr=s.number("intercept_slope_corr", _CORRELATION),
        residual_sd=s.number("residual_sd", _POSITIVE),
        subscale_corr=s.section("subscale_corr", _subscale_correlations),
        item_sd=s.number("item_sd", _NON_NEGATIVE),
        item_missing_pct=s.number("item_missing_pct", _PERCENT),
        subscale_two_missing_pct=s.number("subscale_two_missing_pct", _PERCENT),
        **s.optional_numbers(["version_from_switch_shift"]),
        # Read last: every key not asked for above that holds a mapping is a subscale's growth model.
        subscales={name: s.section(name, _subscale_growth) for name in s.unread_sections()},
    )
    if not model.subscales:
        raise s.error("must give a section of growth coefficients (b0, b1, ...) per WAI subscale")
    if not _positive_definite(_random_effects_rows(model)):
        raise s.error(
            "with subscale_corr.intercept and .slope, gives random effects whose correlation matrix is not "
            "positive definite",
            "intercept_slope_corr",
        )
    if not _positive_definite(_equicorrelation_rows(len(model.subscales), model.subscale_corr.residual)):
        raise s.error("gives residuals whose correlation matrix is not positive definite", "subscale_corr.residual")
    return model


def _wave_presence(s: _Section) -> WavePresence:
    return WavePresence(gaf=s.number("gaf", _PERCENT), self_report=s.number("self_report", _PERCENT))


def _gaf_model(s: _Section) -> GafModel:
    return GafModel(
        baseline=_mean_sd(s, "baseline"),
        baseline_mood=s.number("baseline_mood"),
        # Discharge values are truncated normals, whose SD is a divisor.
        final_good=_mean_sd(s, "final_good", _POSITIVE),
        final_poor=_mean_sd(s, "final_poor", _POSITIVE),
        final_age_corr=s.number("final_age_corr", _CORRELATION),
        noise_sd=s.number("noise_sd", _NON_NEGATIVE),
        split_scores_pct=s.number("split_scores_pct", _PERCENT),
    )


def _self_report_fields(s: _Section) -> dict[str, Any]:
    return {
        "baseline": _mean_sd(s, "baseline"),
        "below_pct": s.number("below_pct", _PERCENT),
        "below_good_pct": s.number("below_good_pct", _PERCENT),
        "final_below": _mean_sd(s, "final_below", _POSITIVE),
        "final_above": _mean_sd(s, "final_above", _POSITIVE),
        "noise_sd": s.number("noise_sd", _NON_NEGATIVE),
        "item_sd": s.number("item_sd", _NON_NEGATIVE),
        "item_missing_pct": s.number("item_missing_pct", _PERCENT),
    }


def _wsas_model(s: _Section) -> SelfReportModel:
    return SelfReportModel(**_self_report_fields(s))


def _bsi_model(s: _Section) -> BsiModel:
    weight = s.number("wsas_concordance_weight", _POSITIVE)
    return BsiModel(**_self_report_fields(s), wsas_concordance_weight=weight)


def _outcomes(s: _Section) -> Outcomes:
    return Outcomes(
        wave_months=s.months("wave_months"),
        wave_presence_pct=s.section("wave_presence_pct", _wave_presence),
        wave_jitter_days=s.integer("wave_jitter_days"),
        final_jitter_days=s.integer("final_jitter_days"),
        final_window_days=s.integer("final_window_days"),
        gaf=s.section("gaf", _gaf_model),
        self_report_final_missing=s.integer("self_report_final_missing"),
        wsas=s.section("wsas", _wsas_model),
        bsi=s.section("bsi", _bsi_model),
    )


# ----------------------------------------------------------------------------------------------------
# Checks across sections


def _check_quota_totals(p: SyntheticParameters, file: str) -> None:
    """Quotas are counts "of reference_n" (the published sample): each set must add up to it."""
    groups, versions = p.outcome_groups, p.version_groups
    for key, total in (
        ("outcome_groups", groups.good + groups.poor + groups.unclassified),
        ("version_groups", versions.before_switch_only + versions.from_switch_only + versions.both),
        ("wai_schedule.n_wai_counts", sum(p.wai_schedule.n_wai_counts)),
    ):
        if total != p.reference_n:
            raise SyntheticParametersError(
                f"counts must sum to reference_n ({p.reference_n}), they sum to {total}", file, key
            )
    if p.outcomes.self_report_final_missing > p.reference_n:
        raise SyntheticParametersError(
            f"must be at most reference_n ({p.reference_n})", file, "outcomes.self_report_final_missing"
        )


def _check_unclassified_durations(p: SyntheticParameters, file: str) -> None:
    """Unclassified patients have no final GAF, so a discharged one's treatment must outlast the final
    window: otherwise the admission GAF would lie inside it and count as the final one."""
    window = p.outcomes.final_window_days
    shares = p.termination_pct.unclassified.in_contract_order()
    for name, share, segments in zip(TERMINATIONS, shares, p.duration_months.in_contract_order(), strict=True):
        if name == STILL_IN_TREATMENT or share == 0:
            continue
        shortest = min(segment.low for segment in segments)
        # The generator's length in days: floor(months x days per month), never below the segment's start.
        if math.floor(shortest * DAYS_PER_MONTH) <= window:
            raise SyntheticParametersError(
                f"starts at {shortest:g} months, but unclassified patients end '{name}' (termination_pct) and "
                f"need treatments longer than outcomes.final_window_days ({window} days)",
                file,
                f"duration_months.{name}",
            )
