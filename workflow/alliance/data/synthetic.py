"""A synthetic cohort in the raw export format, calibrated to Folmo et al. (2020).

The real register data cannot leave the clinic, so the workflow is built and tested against a simulated
cohort that looks like the published sample: same file layout (``docs/export-format.md``), same
counts, similar means. Published counts are realised as *quotas* (largest-remainder rounding of the
published proportion times n), so at n = 155 they hold exactly for every seed; continuous targets use
exact-moment normals or stratified samples, so their sample moments barely move with the seed.

The generator also keeps its own record of what correct scoring must produce (``truth``), computed from
the item values it drew, never by calling the workflow's scoring code, so the two can check each other.

Everything is vectorised over patients (loops run over waves, items and groups only), driven by one
``numpy.random.default_rng(seed)`` and independent of the YAML's key order: the parameters arrive parsed
and checked (``alliance.data.synthetic_parameters``) and are read in the fixed orders below. The model is
documented in ``docs/synthetic-cohort.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from alliance.data.contract import PERSONALITY_DISORDERS, SYMPTOM_DISORDERS, TERMINATIONS
from alliance.data.derive import DAYS_PER_MONTH
from alliance.data.instruments import Gaf, Instruments
from alliance.data.synthetic_parameters import (
    Baseline,
    DurationSegment,
    Eq5dModel,
    GafModel,
    GroupNormals,
    GroupPercents,
    Outcomes,
    SelfReportModel,
    SyntheticParameters,
    WaiSchedule,
    check_against_instruments,
)

GROUPS = ("good", "poor", "unclassified")
GOOD, POOR, UNCLASSIFIED = 0, 1, 2
PLANNED, ONGOING = 0, 5
PD_COLUMNS = PERSONALITY_DISORDERS
SYMPTOM_COLUMNS = SYMPTOM_DISORDERS
VERSION_GROUP_KEYS = ("before_switch_only", "from_switch_only", "both")
FIRST_YEAR_DAYS = 365
LATE_SINGLE_MIN_DAYS = 380  # a "late" single assessment sits clearly after the first year

Array = NDArray[Any]


@dataclass(frozen=True)
class SimulatedCohort:
    """Raw exports (keyed by file base name) and the generator's record of the correct scores."""

    exports: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]


# ----------------------------------------------------------------------------------------------------
# Parameters and small sampling helpers


def largest_remainder(weights: Sequence[float], n: int) -> NDArray[np.int64]:
    """Integer counts summing to n, proportional to weights (Hamilton's method).

    This is what makes published counts hold exactly at n = 155 and scale proportionally for other n.
    Ties go to the earlier category so the result never depends on the seed.
    """
    w = np.asarray(weights, dtype=float)
    if n <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    raw = np.round(w / w.sum() * n, 9)
    counts = np.floor(raw).astype(np.int64)
    short = int(n - counts.sum())
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


def _choose(rng: np.random.Generator, eligible: Array, k: int, weights: Array | None = None) -> Array:
    """Boolean mask of exactly min(k, eligible) chosen elements, weighted sampling without replacement.

    Efraimidis-Spirakis keys (log U / w) give weighted draws in one vectorised sort; one uniform is drawn
    per element whatever the eligibility, so the random stream does not depend on the data.
    """
    n = len(eligible)
    keys = np.log(rng.random(n))
    if weights is not None:
        keys = keys / np.asarray(weights, dtype=float)
    keys = np.where(eligible, keys, -np.inf)
    k = int(min(k, int(eligible.sum())))
    chosen = np.zeros(n, dtype=bool)
    if k > 0:
        chosen[np.argsort(-keys, kind="stable")[:k]] = True
    return chosen


def _exact_normal(rng: np.random.Generator, n: int) -> Array:
    """Standard normal draws rescaled to sample mean 0 and SD 1, so group means and SDs hold by construction."""
    z = rng.standard_normal(n)
    if n >= 2:
        z = (z - z.mean()) / z.std(ddof=1)
    return z


def _stratified_uniform(rng: np.random.Generator, n: int) -> Array:
    """One uniform per 1/n quantile stratum in random order: low-variance moments of any inverse-CDF sample."""
    if n == 0:
        return np.zeros(0)
    return (rng.permutation(n) + rng.random(n)) / n


def _truncnorm_ppf(u: Array, mean: float, sd: float, lo: float, hi: float) -> Array:
    """Quantiles of a normal(mean, sd) truncated to [lo, hi]; bounded outcomes with a target mean/SD."""
    return stats.truncnorm.ppf(u, (lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)


def _piecewise_uniform_ppf(u: Array, segments: Sequence[DurationSegment]) -> Array:
    """Quantiles of a mixture of uniform segments [lo, hi, weight]: a flexible, bounded duration model."""
    seg = np.array([(segment.low, segment.high, segment.weight) for segment in segments], dtype=float)
    weights = seg[:, 2] / seg[:, 2].sum()
    upper = np.cumsum(weights)
    lower = upper - weights
    which = np.minimum(np.searchsorted(upper, u, side="right"), len(seg) - 1)
    frac = np.clip((u - lower[which]) / weights[which], 0.0, 1.0)
    return seg[which, 0] + frac * (seg[which, 1] - seg[which, 0])


def _assign_by_rank(values: Array, score: Array) -> Array:
    """Give the k-th smallest value to the patient with the k-th smallest score (a rank copula).

    Keeps a quota-built marginal distribution intact while correlating it with another variable.
    """
    out = np.empty_like(values)
    out[np.argsort(score, kind="stable")] = np.sort(values, kind="stable")
    return out


def _group_shares(pair: GroupPercents, group_weights: Sequence[float]) -> tuple[float, float, float]:
    """Per-group shares (good, poor, unclassified) from a Table II [good %, poor %] pair.

    Unclassified patients are drawn like the pooled sample: the size-weighted mean of the two groups.
    """
    good, poor = pair.good / 100, pair.poor / 100
    w_good, w_poor = group_weights
    return good, poor, (w_good * good + w_poor * poor) / (w_good + w_poor)


def _group_normal_params(spec: GroupNormals, group_weights: Sequence[float]) -> list[tuple[float, float]]:
    """[mean, sd] per group; the unclassified stratum gets the pooled mixture's mean and SD."""
    (m_g, s_g), (m_p, s_p) = (spec.good.mean, spec.good.sd), (spec.poor.mean, spec.poor.sd)
    w_g, w_p = np.asarray(group_weights, dtype=float) / float(sum(group_weights))
    mean = w_g * m_g + w_p * m_p
    var = w_g * (s_g**2 + m_g**2) + w_p * (s_p**2 + m_p**2) - mean**2
    return [(float(m_g), float(s_g)), (float(m_p), float(s_p)), (float(mean), float(np.sqrt(var)))]


def _quota_by_group(
    rng: np.random.Generator, group: Array, shares: Sequence[float], weights: Array | None = None
) -> Array:
    """Exactly largest-remainder(share x group size) flags within each outcome group."""
    flags = np.zeros(len(group), dtype=bool)
    for g in range(len(GROUPS)):
        in_group = group == g
        k = int(largest_remainder([shares[g], 1.0 - shares[g]], int(in_group.sum()))[0])
        flags |= _choose(rng, in_group, k, weights)
    return flags


def _normal_by_group(rng: np.random.Generator, group: Array, params: Sequence[tuple[float, float]]) -> Array:
    """Exact-moment normal values per group: group means and SDs hold for any seed."""
    out = np.zeros(len(group))
    for g in range(len(GROUPS)):
        idx = np.flatnonzero(group == g)
        mean, sd = params[g]
        out[idx] = mean + sd * _exact_normal(rng, len(idx))
    return out


def patient_ids(n: int) -> Array:
    """``P00001``..., zero-padded to the width of n (at least 5 digits) so they sort as numbers."""
    width = max(5, len(str(n)))
    return np.array([f"P{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _days(day: date) -> int:
    """Days since 1970-01-01 of a date, the integer calendar used internally."""
    return int(np.datetime64(day, "D").astype(np.int64))


def _classified_weights(p: SyntheticParameters) -> list[float]:
    """Sizes of the good and poor groups: the weights that pool them for unclassified patients."""
    return [float(p.outcome_groups.good), float(p.outcome_groups.poor)]


# ----------------------------------------------------------------------------------------------------
# Patient level: outcome group, baseline, treatment


def _assign_groups(rng: np.random.Generator, n: int, p: SyntheticParameters) -> tuple[Array, Array]:
    """Outcome groups first (everything else is conditional on them), plus a hidden group for unclassified.

    Unclassified patients (no final GAF) still follow a good or poor alliance course; which one is drawn
    with the pooled poor-outcome share.
    """
    groups = p.outcome_groups
    weights = [float(groups.good), float(groups.poor), float(groups.unclassified)]  # GROUPS order
    group = rng.permutation(np.repeat(np.arange(len(GROUPS)), largest_remainder(weights, n)))
    pooled_poor = weights[POOR] / (weights[GOOD] + weights[POOR])
    latent_poor = (group == POOR) | ((group == UNCLASSIFIED) & (rng.random(n) < pooled_poor))
    return group, latent_poor


def _other_pd_count(diagnoses: Mapping[str, Array]) -> Array:
    """Number of specific personality disorders besides borderline (NOS is not a specific one)."""
    return np.sum([diagnoses[c] for c in PD_COLUMNS if c not in ("pd_nos", "borderline")], axis=0)


def _simulate_diagnoses(
    rng: np.random.Generator, n: int, flags: Callable[..., Array], clustering: float
) -> dict[str, Array]:
    """Personality and symptom disorder flags, each an exact quota per outcome group (``flags``)."""
    out = {name: flags(name) for name in PD_COLUMNS if name != "pd_nos"}
    # NOS is the diagnosis of patients who meet no specific PD, so prefer those.
    no_pd = (_other_pd_count(out) == 0) & ~out["borderline"]
    out["pd_nos"] = flags("pd_nos", np.where(no_pd, 20.0, 1.0))
    # A shared comorbidity propensity makes symptom disorders cluster, widening the spread of their count
    # (T2 "Total number, symptom disorders" SD 1.4-1.5) without touching any prevalence quota.
    propensity = np.exp(clustering * rng.standard_normal(n))
    for name in SYMPTOM_COLUMNS:
        out[name] = flags(name, propensity)
    return out


def _simulate_pd_traits(
    rng: np.random.Generator, group: Array, diagnoses: Mapping[str, Array], b: Baseline
) -> dict[str, Array]:
    """Borderline criteria met (5-9 with a BPD diagnosis, 0-4 without) and the total over all PDs."""
    n = len(group)
    bt = b.borderline_traits
    z = rng.standard_normal(n)
    with_bpd = np.clip(np.rint(bt.with_bpd.mean + bt.with_bpd.sd * z), 5, 9)
    without_bpd = np.clip(np.rint(bt.without_bpd.mean + bt.without_bpd.sd * z), 0, 4)
    borderline_traits = np.where(diagnoses["borderline"], with_bpd, without_bpd).astype(np.int64)
    # The other criteria grow with the number of non-borderline PDs (T2 total 14.0 / 14.5, SD 5.8).
    ot = b.other_pd_traits
    n_other = _other_pd_count(diagnoses)
    mean_other = np.array([ot.good.mean, ot.poor.mean, (ot.good.mean + ot.poor.mean) / 2])[group]
    sd_other = np.array([ot.good.sd, ot.poor.sd, (ot.good.sd + ot.poor.sd) / 2])[group]
    other = mean_other + ot.per_other_pd * (n_other - n_other.mean()) + sd_other * rng.standard_normal(n)
    other = np.clip(np.rint(other), 0, None)
    total = np.clip(borderline_traits + other, 0, ot.max_total).astype(np.int64)
    return {"borderline_traits": borderline_traits, "pd_traits_total": total}


def _simulate_baseline(
    rng: np.random.Generator, group: Array, p: SyntheticParameters, sipp_domains: Sequence[str]
) -> dict[str, Array]:
    """Table II characteristics conditional on outcome group (exact quotas for every binary row)."""
    b = p.baseline
    gw = _classified_weights(p)
    n = len(group)
    out: dict[str, Array] = {}

    def flags(name: str, weights: Array | None = None) -> Array:
        return _quota_by_group(rng, group, _group_shares(b.binary_pct[name], gw), weights)

    out["female"] = flags("female")
    no_work = flags("no_work_study")
    out["work_study_months"] = np.where(no_work, 0, rng.integers(1, 13, n))
    age = _normal_by_group(rng, group, _group_normal_params(b.age, gw))
    out["age"] = np.clip(np.rint(age), b.age.min, b.age.max).astype(np.int64)
    out.update(_simulate_diagnoses(rng, n, flags, b.symptom_clustering))
    out.update(_simulate_pd_traits(rng, group, out, b))
    for domain in sipp_domains:
        values = _normal_by_group(rng, group, _group_normal_params(b.sipp_sf[domain], gw))
        out[f"sipp_{domain}"] = np.round(np.clip(values, 0.0, 100.0), 1)
    vas = _normal_by_group(rng, group, _group_normal_params(b.eq5d_vas, gw))
    out["vas0"] = np.clip(np.rint(vas), 0, 100)
    return out


def _simulate_treatment(rng: np.random.Generator, group: Array, p: SyntheticParameters) -> dict[str, Array]:
    """Termination quotas per group, then treatment length conditional on termination.

    ``length_days`` is the treatment length for discharged patients and the time in treatment up to the
    export date for ``ongoing`` ones. (The parameters guarantee that unclassified patients' treatments
    outlast the final window: see ``synthetic_parameters``.)
    """
    n = len(group)
    termination = np.zeros(n, dtype=np.int64)
    quotas = p.termination_pct
    for g, shares in enumerate((quotas.good, quotas.poor, quotas.unclassified)):  # GROUPS order
        idx = np.flatnonzero(group == g)
        labels = np.repeat(np.arange(len(TERMINATIONS)), largest_remainder(shares.in_contract_order(), len(idx)))
        termination[idx] = rng.permutation(labels)
    months = np.zeros(n)
    for t, segments in enumerate(p.duration_months.in_contract_order()):
        idx = np.flatnonzero(termination == t)
        months[idx] = _piecewise_uniform_ppf(_stratified_uniform(rng, len(idx)), segments)
    length_days = np.floor(months * DAYS_PER_MONTH).astype(np.int64)
    return {"termination": termination, "length_days": length_days, "discharged": termination != ONGOING}


# ----------------------------------------------------------------------------------------------------
# WAI schedule: how many administrations, when, with or without the discharge one


def _wai_candidates(s: WaiSchedule) -> tuple[Array, Array]:
    """Nominal days of the non-final WAI candidates (scheduled and off-schedule), sorted by time."""
    months = [(m, False) for m in s.scheduled_months] + [(m, True) for m in s.extra_months]
    months.sort()
    nominal = np.array([round(m * DAYS_PER_MONTH) for m, _ in months], dtype=np.int64)
    extra = np.array([e for _, e in months], dtype=bool)
    return nominal, extra


def _horizon_days(treatment: Mapping[str, Array], final_window_days: int, jitter_days: int) -> Array:
    """Latest nominal day of an intermediate wave.

    The analysis takes "the assessment closest to discharge within final_window_days" as the final one, so
    an intermediate wave (after its date jitter) must stay outside that window: then a patient without a
    discharge assessment has no final one, exactly as the truth record says. For patients still in
    treatment the limit is two weeks before the export date.
    """
    length = treatment["length_days"]
    return np.where(treatment["discharged"], length - final_window_days - jitter_days - 1, length - 14)


def _assign_n_wai(rng: np.random.Generator, capacity: Array, counts: Array) -> Array:
    """Give the quota multiset of n_wai values to patients whose treatment has room for them.

    Values are handed out from the largest down, each to random patients with enough capacity; for nested
    eligibility sets this greedy succeeds whenever any assignment exists. Patients left over (only if the
    quotas are infeasible) get as many administrations as fit, at least one.
    """
    n = len(capacity)
    n_wai = np.zeros(n, dtype=np.int64)
    for value in range(len(counts), 0, -1):
        chosen = _choose(rng, (n_wai == 0) & (capacity >= value), int(counts[value - 1]))
        n_wai[chosen] = value
    left = n_wai == 0
    n_wai[left] = np.clip(capacity[left], 1, None)
    return n_wai


@dataclass(frozen=True)
class _WaiCandidates:
    """The non-final WAI waves a patient's treatment allows, and which of them a single one may use."""

    nominal: Array  # nominal day per candidate wave, sorted
    extra: Array  # off-schedule candidate
    available: Array  # patients x candidates: the wave falls before the patient's horizon
    early: Array  # per candidate: lies within the first year even after jitter
    late: Array  # per candidate: lies clearly after the first year even after jitter


def _candidate_waves(treatment: Mapping[str, Array], s: WaiSchedule) -> _WaiCandidates:
    """Candidate waves, each patient's available ones and the first-year split of their dates."""
    nominal, extra = _wai_candidates(s)
    horizon = _horizon_days(treatment, s.final_window_days, s.jitter_days)
    return _WaiCandidates(
        nominal=nominal,
        extra=extra,
        available=nominal[None, :] <= horizon[:, None],
        early=nominal + s.jitter_days < FIRST_YEAR_DAYS,
        late=nominal - s.jitter_days >= LATE_SINGLE_MIN_DAYS,
    )


@dataclass(frozen=True)
class _SingleAssessments:
    """Patients with one WAI answered within the first year (``early``) or clearly after it (``late``),
    and whether an intermediate wave or the discharge administration can fall in each of those periods."""

    early: Array
    late: Array
    early_nonfinal: Array
    late_nonfinal: Array
    early_final: Array
    late_final: Array


def _split_single_assessments(
    rng: np.random.Generator, treatment: Mapping[str, Array], waves: _WaiCandidates, n_wai: Array, s: WaiSchedule
) -> _SingleAssessments:
    """Which single-assessment patients answered within the first year: a quota, filled first by those
    whose treatment allows only that period, then at random among those whose treatment allows both."""
    discharged, length = treatment["discharged"], treatment["length_days"]
    single = n_wai == 1
    early_nonfinal = np.any(waves.available & waves.early[None, :], axis=1)
    late_nonfinal = np.any(waves.available & waves.late[None, :], axis=1)
    early_final = discharged & (length + s.final_jitter_days < FIRST_YEAR_DAYS)
    late_final = discharged & (length - s.final_jitter_days >= LATE_SINGLE_MIN_DAYS)
    early_ok, late_ok = early_nonfinal | early_final, late_nonfinal | late_final
    share = s.single_within_first_year_pct / 100
    k_early = int(largest_remainder([share, 1 - share], int(single.sum()))[0])
    forced_early = single & early_ok & ~late_ok
    early = forced_early | _choose(rng, single & early_ok & late_ok, k_early - int(forced_early.sum()))
    return _SingleAssessments(early, single & ~early, early_nonfinal, late_nonfinal, early_final, late_final)


def _assign_final_wai(
    rng: np.random.Generator,
    treatment: Mapping[str, Array],
    capacity_nonfinal: Array,
    n_wai: Array,
    single: _SingleAssessments,
    s: WaiSchedule,
) -> Array:
    """Who has the discharge administration: a quota, respecting what capacity and the single-assessment
    windows force (more administrations than intermediate waves fit; a single one only the discharge
    administration can place in its period)."""
    discharged = treatment["discharged"]
    must = discharged & (
        (n_wai > capacity_nonfinal) | (single.early & ~single.early_nonfinal) | (single.late & ~single.late_nonfinal)
    )
    cannot = ~discharged | (single.early & ~single.early_final) | (single.late & ~single.late_final)
    lacking = s.lacking_final_pct / 100
    k_final = int(largest_remainder([1 - lacking, lacking], len(n_wai))[0])
    w_final = np.where(treatment["termination"] == PLANNED, s.final_weight.planned, s.final_weight.other)
    return must | _choose(rng, ~must & ~cannot, k_final - int(must.sum()), w_final)


def _intermediate_wai_days(
    rng: np.random.Generator, waves: _WaiCandidates, single: _SingleAssessments, n_nonfinal: Array, s: WaiSchedule
) -> tuple[Array, Array]:
    """Which non-final waves each patient answered, and on which day: weighted sampling of n_nonfinal
    among the available candidates, early scheduled waves first (later ones are skipped more often)."""
    window = waves.available.copy()
    window[single.early] &= waves.early[None, :]
    window[single.late] &= waves.late[None, :]
    slot_rank = np.cumsum(~waves.extra) - 1
    w = np.where(waves.extra, s.extra_weight, s.slot_decay**slot_rank)
    keys = np.log(rng.random(window.shape)) / w[None, :]
    keys[~window] = -np.inf
    rank = np.argsort(np.argsort(-keys, axis=1, kind="stable"), axis=1, kind="stable")
    chosen = (rank < n_nonfinal[:, None]) & window
    jitter = rng.integers(-s.jitter_days, s.jitter_days + 1, size=window.shape)
    pat, col = np.nonzero(chosen)
    return pat, waves.nominal[col] + jitter[pat, col]


def _final_wai_days(
    rng: np.random.Generator,
    treatment: Mapping[str, Array],
    has_final: Array,
    single: _SingleAssessments,
    s: WaiSchedule,
) -> tuple[Array, Array]:
    """Patients with the discharge administration and its day, within final_jitter_days of discharge."""
    fj = s.final_jitter_days
    pat = np.flatnonzero(has_final)
    day = treatment["length_days"][pat] + rng.integers(-fj, fj + 1, size=len(pat))
    # Keep the first-year / after-first-year split of single final administrations exact.
    day = np.where(single.early[pat], np.minimum(day, FIRST_YEAR_DAYS - 1), day)
    day = np.where(single.late[pat], np.maximum(day, LATE_SINGLE_MIN_DAYS), day)
    return pat, day


def _simulate_wai_schedule(
    rng: np.random.Generator, treatment: Mapping[str, Array], p: SyntheticParameters
) -> dict[str, Array]:
    """Jointly assign n_wai, the discharge administration and the administration days.

    Order: n_wai (capacity assuming a discharge administration), then which single-assessment patients
    answered within the first year, then who has the final administration (quota, with the cases the first
    two steps force), then which waves were answered (weighted towards early scheduled waves).
    """
    s = p.wai_schedule
    n = len(treatment["length_days"])
    waves = _candidate_waves(treatment, s)
    capacity_nonfinal = waves.available.sum(axis=1)
    quota = largest_remainder([float(count) for count in s.n_wai_counts], n)
    n_wai = _assign_n_wai(rng, capacity_nonfinal + treatment["discharged"], quota)
    single = _split_single_assessments(rng, treatment, waves, n_wai, s)
    has_final = _assign_final_wai(rng, treatment, capacity_nonfinal, n_wai, single, s)
    pat_nf, day_nf = _intermediate_wai_days(rng, waves, single, n_wai - has_final, s)
    pat_f, day_f = _final_wai_days(rng, treatment, has_final, single, s)
    pat = np.concatenate([pat_nf, pat_f])
    day = np.concatenate([day_nf, day_f])
    final = np.concatenate([np.zeros(len(pat_nf), bool), np.ones(len(pat_f), bool)])
    order = np.lexsort((day, pat))
    pat, day, final = pat[order], day[order], final[order]
    n_rows = np.bincount(pat, minlength=n)
    return {"pat": pat, "day": day, "final": final, "n_wai": n_rows, "has_final": has_final}


def _assign_versions_and_admission(
    rng: np.random.Generator, treatment: Mapping[str, Array], schedule: Mapping[str, Array], p: SyntheticParameters
) -> tuple[Array, Array]:
    """WAI version-group quotas, realised by choosing admission dates around the June 2012 switch.

    Before-switch-only patients are admitted early enough that their last WAI precedes the switch,
    from-switch-only patients after it, "both" so that the switch falls between first and last WAI.
    Returns the version group (0, 1, 2 in VERSION_GROUP_KEYS order) and admission day numbers.
    """
    cal = p.calendar
    start, switch, export = _days(cal.first_admission), _days(cal.wai_switch), _days(cal.export_date)
    n = len(treatment["length_days"])
    discharged = treatment["discharged"]
    fj = p.wai_schedule.final_jitter_days
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, schedule["pat"], schedule["day"])
    np.maximum.at(last, schedule["pat"], schedule["day"])

    groups = p.version_groups
    weights = [float(groups.before_switch_only), float(groups.from_switch_only), float(groups.both)]
    counts = largest_remainder(weights, n)
    both = _choose(rng, discharged & (schedule["n_wai"] >= 2) & (first < last), int(counts[2]))
    before = _choose(rng, discharged & ~both, int(counts[0]))
    vgroup = np.where(both, 2, np.where(before, 0, 1))

    end = np.where(discharged, treatment["length_days"] + fj, treatment["length_days"])
    latest_admission = export - end
    lo = np.where(vgroup == 0, start, np.where(vgroup == 1, switch, switch - last))
    hi = np.where(vgroup == 0, switch - 1 - last, np.where(vgroup == 1, latest_admission, switch - 1 - first))
    lo = np.maximum(lo, start)
    hi = np.minimum(hi, latest_admission)
    hi = np.maximum(hi, lo)  # only reached if a window is empty (cannot happen with the default calendar)
    admission = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    # Ongoing patients are in treatment on the export date: their elapsed time fixes the admission.
    admission = np.where(discharged, admission, export - treatment["length_days"])
    return vgroup, admission


# ----------------------------------------------------------------------------------------------------
# WAI items


def _correlated_normal(rng: np.random.Generator, n: int, sds: Sequence[float], corr: Array) -> Array:
    """n draws of a multivariate normal with given SDs and correlation (via Cholesky)."""
    cov = np.asarray(corr) * np.outer(sds, sds)
    return rng.standard_normal((n, len(sds))) @ np.linalg.cholesky(cov).T


def _orthogonalise(u: Array, covariates: Array, sds: Array) -> Array:
    """Random effects made exactly uncorrelated in-sample with the model's covariates, then rescaled.

    With 155 patients, chance correlation between random intercepts and, say, mood disorder easily hides a
    -0.5 effect or invents one; removing it makes the fixed effects hold in every seed's sample.
    """
    if len(u) <= covariates.shape[1] + 2:
        return u
    x = np.column_stack([np.ones(len(u)), covariates])
    beta, *_ = np.linalg.lstsq(x, u, rcond=None)
    r = u - x @ beta
    sd = r.std(axis=0, ddof=1)
    return r * np.where(sd > 0, sds / np.where(sd > 0, sd, 1.0), 1.0)


def _simulate_wai_latent(
    rng: np.random.Generator,
    schedule: Mapping[str, Array],
    baseline: Mapping[str, Array],
    latent_poor: Array,
    subscales: Sequence[str],
    p: SyntheticParameters,
) -> Array:
    """Latent subscale scores per administration (rows x subscales), the linear growth model of Table IV."""
    m = p.wai_model
    n = len(latent_poor)
    pat = schedule["pat"]
    t = schedule["day"] / DAYS_PER_MONTH
    k = len(subscales)
    # Random effects: (u0 goals, bonds, tasks, u1 goals, bonds, tasks), subscales correlated within patient.
    sds = [m.intercept_sd] * k + [m.slope_sd] * k
    u = _correlated_normal(rng, n, sds, m.random_effects_correlation())
    poor = latent_poor.astype(float)
    mood = baseline["mood"].astype(float)
    paranoid = baseline["paranoid"].astype(float)
    n_wai = schedule["n_wai"].astype(float)
    centred_n = n_wai - n_wai.mean()
    u = _orthogonalise(u, np.column_stack([poor, mood, paranoid, paranoid * poor, centred_n]), np.asarray(sds))
    e = _correlated_normal(rng, len(pat), [m.residual_sd] * k, m.residual_correlation())
    latent = np.zeros((len(pat), k))
    for j, name in enumerate(subscales):
        c = m.subscales[name]
        intercept = c.b0 + c.b_poor * poor + c.b_mood * mood + c.b_paranoid * paranoid + c.b_nwai * centred_n + u[:, j]
        slope = c.b1 + c.d_poor * poor + c.d_paranoid_poor * paranoid * poor + u[:, k + j]
        latent[:, j] = intercept[pat] + slope[pat] * t + e[:, j]
    return latent


def _simulate_wai_items(
    rng: np.random.Generator, latent: Array, versions: Array, instruments: Instruments, p: SyntheticParameters
) -> Array:
    """Item answers in the scoring direction (rows x n_items, NaN = left empty), from the instrument config.

    Each item is its subscale's latent plus item noise, rounded and clipped to the form's scale. Items are
    left empty at random, and occasionally two in one subscale, so the at-least-k-answered rule is exercised.
    """
    m = p.wai_model
    wai = instruments.wai
    n_rows, n_items = len(latent), len(wai.item_columns)
    noise = rng.normal(0.0, m.item_sd, (n_rows, n_items))
    items = np.full((n_rows, n_items), np.nan)
    # A form effect of the switch (0 in the calibrated cohort): the new form's items that are not common to
    # both forms are answered `version_from_switch_shift` higher, as a test case for the version controls.
    shift = m.version_from_switch_shift
    after = p.calendar.version_from_switch
    for vname in sorted(wai.versions):
        version = wai.versions[vname]
        rows = versions == vname
        for j, sub in enumerate(wai.subscales):
            for item in version.subscales[sub]:
                col = item - 1
                form_effect = shift if vname == after and item not in wai.common_items.get(sub, ()) else 0.0
                value = np.rint(latent[rows, j] + noise[rows, col] + form_effect)
                items[rows, col] = np.clip(value, version.scale_min, version.scale_max)
    missing = rng.random((n_rows, n_items)) < m.item_missing_pct / 100
    two_missing = rng.random((n_rows, len(wai.subscales))) < m.subscale_two_missing_pct / 100
    pick = rng.random((n_rows, n_items))
    for vname in sorted(wai.versions):
        version = wai.versions[vname]
        rows = np.flatnonzero(versions == vname)
        for j, sub in enumerate(wai.subscales):
            cols = np.array(version.subscales[sub]) - 1
            sub_rows = rows[two_missing[rows, j]]
            if len(sub_rows) == 0:
                continue
            order = np.argsort(pick[np.ix_(sub_rows, cols)], axis=1)[:, :2]
            missing[sub_rows[:, None], cols[order]] = True
    items[missing] = np.nan
    # The analysis counts an administration only when some subscale is scored; keep every row countable.
    for vname in sorted(wai.versions):
        version = wai.versions[vname]
        rows = np.flatnonzero(versions == vname)
        scored = np.zeros(len(rows), dtype=bool)
        for sub in wai.subscales:
            cols = np.array(version.subscales[sub]) - 1
            scored |= (~np.isnan(items[np.ix_(rows, cols)])).sum(axis=1) >= version.min_answered
        unscored = rows[~scored]
        if len(unscored):
            cols = np.array(version.subscales[wai.subscales[0]]) - 1
            restored = np.clip(
                np.rint(latent[unscored, 0][:, None] + noise[np.ix_(unscored, cols)]),
                version.scale_min,
                version.scale_max,
            )
            items[np.ix_(unscored, cols)] = restored
    return items


def _score_wai(items: Array, versions: Array, instruments: Instruments) -> dict[str, Array]:
    """The generator's own subscale scores: mean of answered items if at least min_answered, else NaN."""
    wai = instruments.wai
    out = {sub: np.full(len(items), np.nan) for sub in wai.subscales}
    for vname in sorted(wai.versions):
        version = wai.versions[vname]
        rows = versions == vname
        for sub in wai.subscales:
            block = items[np.ix_(rows, np.array(version.subscales[sub]) - 1)]
            answered = (~np.isnan(block)).sum(axis=1)
            with np.errstate(invalid="ignore"):
                mean = np.nanmean(np.where(answered[:, None] > 0, block, 0.0), axis=1)
            out[sub][rows] = np.where(answered >= version.min_answered, mean, np.nan)
    out["total"] = np.mean([out[s] for s in wai.subscales], axis=0)  # NaN unless every subscale scored
    return out


# ----------------------------------------------------------------------------------------------------
# Outcomes: GAF, WSAS, BSI-18, EQ-5D-3L


def _outcome_visits(
    rng: np.random.Generator,
    treatment: Mapping[str, Array],
    final_mask: Array,
    presence_pct: float,
    o: Outcomes,
) -> dict[str, Array]:
    """Baseline (day 0), intermediate waves (present at random) and a final visit where final_mask is set."""
    n = len(final_mask)
    nominal = np.array([round(m * DAYS_PER_MONTH) for m in o.wave_months], dtype=np.int64)
    horizon = _horizon_days(treatment, o.final_window_days, o.wave_jitter_days)
    present = (nominal[None, :] <= horizon[:, None]) & (rng.random((n, len(nominal))) < presence_pct / 100)
    jd = o.wave_jitter_days
    jitter = rng.integers(-jd, jd + 1, size=present.shape)
    pat_w, col_w = np.nonzero(present)
    fj = o.final_jitter_days
    pat_f = np.flatnonzero(final_mask)
    day_f = treatment["length_days"][pat_f] + rng.integers(-fj, fj + 1, size=len(pat_f))
    pat = np.concatenate([np.arange(n), pat_w, pat_f])
    day = np.concatenate([np.zeros(n, np.int64), nominal[col_w] + jitter[pat_w, col_w], day_f])
    kind = np.concatenate([np.zeros(n, np.int64), np.ones(len(pat_w), np.int64), np.full(len(pat_f), 2)])
    order = np.lexsort((day, pat))
    return {"pat": pat[order], "day": day[order], "kind": kind[order]}


def _trajectory(visits: Mapping[str, Array], start: Array, end: Array, span_days: Array) -> Array:
    """Straight line from the admission value to the discharge value at each visit's fraction of treatment."""
    pat = visits["pat"]
    frac = np.clip(visits["day"] / np.maximum(span_days[pat], 1), 0.0, 1.0)
    return start[pat] + (end[pat] - start[pat]) * frac


def _span_days(treatment: Mapping[str, Array]) -> Array:
    """Treatment length, or the 36-month programme length for patients still in treatment."""
    return np.where(treatment["discharged"], treatment["length_days"], round(36 * DAYS_PER_MONTH))


def _final_cells(
    rng: np.random.Generator, group: Array, has_final: Array, spec: SelfReportModel, weights: Array | None = None
) -> tuple[Array, Array]:
    """Which patients with a final self-report fall below the threshold (quota and its good-group share).

    Returns (below flags for those with a final, hidden below flags for those without one; the latter only
    shape the trajectory towards a discharge value nobody recorded).
    """
    n_final = int(has_final.sum())
    share = spec.below_pct / 100
    k_below = int(largest_remainder([share, 1 - share], n_final)[0])
    good_share = spec.below_good_pct / 100
    k_good = int(largest_remainder([good_share, 1 - good_share], k_below)[0])
    good_final = has_final & (group == GOOD)
    below = _choose(rng, good_final, k_good, weights)
    below |= _choose(rng, has_final & (group != GOOD), k_below - int(below.sum()), weights)
    # Hidden values for the missing finals: same below-share as observed in the patient's group.
    p_good = below[good_final].mean() if good_final.any() else share
    other_final = has_final & (group != GOOD)
    p_other = below[other_final].mean() if other_final.any() else share
    hidden = rng.random(len(group)) < np.where(group == GOOD, p_good, p_other)
    return below, hidden & ~has_final


def _final_values(
    rng: np.random.Generator, below: Array, spec: SelfReportModel, lo: float, threshold: float, hi: float
) -> Array:
    """Final values per cell from truncated normals, stratified so the cell moments are stable."""
    out = np.zeros(len(below))
    for mask, normal, (a, b) in (
        (below, spec.final_below, (lo, threshold)),
        (~below, spec.final_above, (threshold, hi)),
    ):
        idx = np.flatnonzero(mask)
        out[idx] = _truncnorm_ppf(_stratified_uniform(rng, len(idx)), normal.mean, normal.sd, a, b)
    return out


def _items_with_total(
    rng: np.random.Generator, totals: Array, answered: Array, lo: int, hi: int, item_sd: float
) -> Array:
    """Integer items (NaN where unanswered) whose answered items sum exactly to the target totals.

    Items start as the per-item mean plus noise and are nudged one unit at a time (random items with room)
    until the sum matches, so a quota-built total or mean survives the move to item level.
    """
    n_rows, k = answered.shape
    n_ans = answered.sum(axis=1)
    target = np.clip(np.rint(totals), lo * n_ans, hi * n_ans).astype(np.int64)
    per_item = target / np.maximum(n_ans, 1)
    items = np.clip(np.rint(per_item[:, None] + rng.normal(0.0, item_sd, (n_rows, k))), lo, hi).astype(np.int64)
    items[~answered] = 0
    diff = target - items.sum(axis=1)
    for _ in range(k * (hi - lo) + 1):
        rows = np.flatnonzero(diff != 0)
        if len(rows) == 0:
            break
        step = np.sign(diff[rows])
        sub = items[rows]
        room = answered[rows] & np.where(step[:, None] > 0, sub < hi, sub > lo)
        keys = np.where(room, rng.random(room.shape), -1.0)
        col = keys.argmax(axis=1)
        ok = keys[np.arange(len(rows)), col] >= 0
        items[rows[ok], col[ok]] += step[ok]
        diff[rows[ok]] -= step[ok]
        diff[rows[~ok]] = 0
    out = items.astype(float)
    out[~answered] = np.nan
    return out


def _threshold_sum_bounds(n_answered: Array, threshold: float) -> Array:
    """Smallest item sum whose mean reaches the threshold (sum >= threshold x answered)."""
    return np.ceil(np.round(threshold * n_answered, 9)).astype(np.int64)


def _eq5d_levels(rng: np.random.Generator, vas: Array, instruments: Instruments, e: Eq5dModel) -> Array:
    """Dimension levels 1-3 from a latent severity tied to the VAS (rows x dimensions)."""
    eq = instruments.eq5d
    severity = -(vas - 50.0) / e.vas_scale + rng.normal(0.0, e.severity_sd, len(vas))
    levels = np.zeros((len(vas), len(eq.dimensions)), dtype=np.int64)
    noise = rng.normal(0.0, e.noise_sd, levels.shape)
    for j, dim in enumerate(eq.dimensions):
        cuts = e.cuts[dim]
        x = severity + noise[:, j]
        levels[:, j] = eq.level_min + (x > cuts.cut1) + (x > cuts.cut2)
    return np.clip(levels, eq.level_min, eq.level_max)


# ----------------------------------------------------------------------------------------------------
# Assembly


def _frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(dict(columns))


def _nullable_int(values: Array) -> pd.arrays.IntegerArray:
    arr = np.asarray(values, dtype=float)
    mask = np.isnan(arr)
    return pd.arrays.IntegerArray(np.where(mask, 0, arr).astype(np.int64), mask)


def _dates(day_numbers: Array) -> pd.Series:
    return pd.Series(np.asarray(day_numbers, dtype="datetime64[D]").astype("datetime64[s]"))


def export_columns(instruments: Instruments) -> dict[str, tuple[str, ...]]:
    """Column order of every export file, exactly as the export contract lists them."""
    return {
        "patients": (
            "patient_id",
            "age",
            "gender",
            "admission_date",
            "discharge_date",
            "termination",
            "work_study_months",
        ),
        "diagnoses": ("patient_id", *PD_COLUMNS, "borderline_traits", "pd_traits_total", *SYMPTOM_COLUMNS),
        instruments.wai.file: ("patient_id", "date", "version", *instruments.wai.item_columns),
        instruments.gaf.file: ("patient_id", "date", instruments.gaf.score_column, *instruments.gaf.optional_columns),
        instruments.wsas.file: ("patient_id", "date", *instruments.wsas.item_columns),
        instruments.bsi.file: ("patient_id", "date", *instruments.bsi.item_columns),
        instruments.sipp_sf.file: ("patient_id", "date", *instruments.sipp_sf.domains),
        instruments.eq5d.file: ("patient_id", "date", *instruments.eq5d.dimensions, instruments.eq5d.vas_column),
    }


def _simulate_wai(
    rng: np.random.Generator,
    schedule: Mapping[str, Array],
    baseline: Mapping[str, Array],
    latent_poor: Array,
    admission: Array,
    instruments: Instruments,
    p: SyntheticParameters,
) -> dict[str, Any]:
    """WAI administrations: dates, the form in use on each date, raw (exported) and scored items."""
    cal = p.calendar
    before, after = cal.version_before_switch, cal.version_from_switch
    wai_day = admission[schedule["pat"]] + schedule["day"]
    versions = np.where(wai_day < _days(cal.wai_switch), before, after).astype(object)
    latent = _simulate_wai_latent(rng, schedule, baseline, latent_poor, instruments.wai.subscales, p)
    items = _simulate_wai_items(rng, latent, versions, instruments, p)
    raw = items.copy()  # the export holds reversed items as the patient ticked them
    for vname in sorted(instruments.wai.versions):
        version = instruments.wai.versions[vname]
        rows = versions == vname
        for item in sorted(version.reversed_items):
            raw[rows, item - 1] = version.scale_min + version.scale_max - items[rows, item - 1]
    versions_cfg = instruments.wai.versions
    labels = (f"{versions_cfg[before].group_label}_only", f"{versions_cfg[after].group_label}_only", "both")
    return {
        "pat": schedule["pat"],
        "date": wai_day,
        "version": versions,
        "raw": raw,
        "scores": _score_wai(items, versions, instruments),
        "group_labels": np.array(labels, dtype=object),
    }


def _gaf_admission(rng: np.random.Generator, baseline: Mapping[str, Array], g: GafModel, spec: Gaf) -> Array:
    """Admission GAF: exact-moment normal plus the mood-disorder shift (T3), the total SD kept at target."""
    n = len(baseline["mood"])
    z0 = _exact_normal(rng, n)
    mood = baseline["mood"].astype(float)
    beta = g.baseline_mood
    sd0 = g.baseline.sd
    resid_sd = np.sqrt(max(sd0**2 - beta**2 * mood.var(ddof=1), 1e-9)) if n > 1 else sd0
    gaf0 = g.baseline.mean + beta * (mood - mood.mean()) + resid_sd * z0
    return np.clip(np.rint(gaf0), spec.scale_min, spec.scale_max)


def _gaf_discharge(
    rng: np.random.Generator, group: Array, latent_poor: Array, baseline: Mapping[str, Array], g: GafModel, spec: Gaf
) -> tuple[Array, Array]:
    """Discharge GAF: stratified truncated normals above / below the cut-off per outcome group, ranked
    against age (older, less improvement).

    Returns the recorded final GAF (NaN for unclassified patients) and the end point of every patient's
    trajectory (unclassified ones head for a value nobody recorded, on their hidden group's side).
    """
    n = len(group)
    age = baseline["age"].astype(float)
    age_z = (age - age.mean()) / max(float(age.std()), 1e-9)
    rho = g.final_age_corr
    score = -rho * age_z + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    cut = 60 - 0.5
    cells = ((GOOD, g.final_good, cut, spec.scale_max + 0.5), (POOR, g.final_poor, spec.scale_min - 0.5, cut))
    final = np.full(n, np.nan)
    for grp, normal, lo, hi in cells:
        idx = np.flatnonzero(group == grp)
        values = np.rint(_truncnorm_ppf(_stratified_uniform(rng, len(idx)), normal.mean, normal.sd, lo, hi))
        final[idx] = _assign_by_rank(values, score[idx])
    u_hidden = rng.random(n)
    hidden = np.zeros(n)
    for grp, normal, lo, hi in cells:
        values = _truncnorm_ppf(u_hidden, normal.mean, normal.sd, lo, hi)
        hidden = np.where(latent_poor == (grp == POOR), values, hidden)
    return final, np.where(group != UNCLASSIFIED, final, hidden)


def _simulate_gaf(
    rng: np.random.Generator,
    group: Array,
    latent_poor: Array,
    baseline: Mapping[str, Array],
    treatment: Mapping[str, Array],
    instruments: Instruments,
    p: SyntheticParameters,
) -> dict[str, Array]:
    """GAF at admission (all), at discharge (classified patients) and at intermediate waves."""
    g = p.outcomes.gaf
    spec = instruments.gaf
    gaf0 = _gaf_admission(rng, baseline, g, spec)
    final, end = _gaf_discharge(rng, group, latent_poor, baseline, g, spec)
    classified = group != UNCLASSIFIED
    presence = p.outcomes.wave_presence_pct.gaf
    visits = _outcome_visits(rng, treatment, classified & treatment["discharged"], presence, p.outcomes)
    line = _trajectory(visits, gaf0, end, _span_days(treatment))
    kind, pat = visits["kind"], visits["pat"]
    noisy = line + rng.normal(0.0, g.noise_sd, len(line))
    values = np.where(kind == 0, gaf0[pat], np.where(kind == 2, final[pat], noisy))
    values = np.clip(np.rint(values), spec.scale_min, spec.scale_max)
    split = rng.random(len(values)) < g.split_scores_pct / 100
    split_noise = rng.normal(0.0, 4.0, (len(values), 2))
    split_scores = [
        np.where(split, np.clip(np.rint(values + split_noise[:, j]), spec.scale_min, spec.scale_max), np.nan)
        for j in range(2)
    ]
    return {"pat": pat, "day": visits["day"], "gaf": values, "split": np.stack(split_scores), "final": final}


def _self_report_final(
    rng: np.random.Generator, group: Array, treatment: Mapping[str, Array], p: SyntheticParameters
) -> Array:
    """Who filled in the discharge self-report package (WSAS, BSI-18, EQ-5D): a missing-final quota.

    Patients without a discharge (ongoing) or without a final GAF miss it first; the remaining missing
    finals are spread over the outcome groups in proportion to their size.
    """
    n = len(group)
    missing = float(p.outcomes.self_report_final_missing)
    k_missing = int(largest_remainder([missing, float(p.reference_n) - missing], n)[0])
    # A patient discharged within the final window has the admission assessment inside it, which the
    # analysis would take as the final one: such short treatments always have the discharge package.
    can_miss = ~treatment["discharged"] | (treatment["length_days"] > p.outcomes.final_window_days)
    missing_final = _choose(rng, can_miss & (~treatment["discharged"] | (group == UNCLASSIFIED)), k_missing)
    rest = max(k_missing - int(missing_final.sum()), 0)
    sizes = [float((group == GOOD).sum()), float((group == POOR).sum())]
    for grp, k in zip((GOOD, POOR), largest_remainder(sizes, rest)):
        missing_final |= _choose(rng, can_miss & (group == grp) & ~missing_final, int(k))
    return treatment["discharged"] & ~missing_final


def _simulate_wsas(
    rng: np.random.Generator,
    group: Array,
    sr_final: Array,
    visits: Mapping[str, Array],
    span: Array,
    instruments: Instruments,
    p: SyntheticParameters,
) -> tuple[Array, Array]:
    """WSAS items per self-report visit, and which patients end below the threshold (mild impairment)."""
    w = p.outcomes.wsas
    spec = instruments.wsas
    n = len(group)
    below, hidden = _final_cells(rng, group, sr_final, w)
    max_total = spec.scale_max * len(spec.item_columns)
    thr = float(spec.outcome_threshold)
    end = np.rint(_final_values(rng, below | hidden, w, spec.scale_min - 0.5, thr - 0.5, max_total + 0.5))
    start = np.clip(np.rint(w.baseline.mean + w.baseline.sd * _exact_normal(rng, n)), 0, max_total)
    line = _trajectory(visits, start, end, span)
    total = np.where(visits["kind"] == 1, line + rng.normal(0.0, w.noise_sd, len(line)), line)
    total = np.where(visits["kind"] == 2, end[visits["pat"]], total)  # the discharge value is the cell value
    total = np.clip(np.rint(total), 0, max_total)
    k = len(spec.item_columns)
    missing = (visits["kind"][:, None] == 1) & (rng.random((len(total), k)) < w.item_missing_pct / 100)
    items = _items_with_total(rng, total, ~missing, spec.scale_min, spec.scale_max, w.item_sd)
    return items, below


def _simulate_bsi(
    rng: np.random.Generator,
    group: Array,
    sr_final: Array,
    wsas_below: Array,
    visits: Mapping[str, Array],
    span: Array,
    instruments: Instruments,
    p: SyntheticParameters,
) -> Array:
    """BSI-18 items per self-report visit; final means land on the quota's side of the 0.8 threshold."""
    b = p.outcomes.bsi
    spec = instruments.bsi
    n = len(group)
    concordance = np.where(wsas_below, b.wsas_concordance_weight, 1.0)
    below, hidden = _final_cells(rng, group, sr_final, b, concordance)
    thr = float(spec.outcome_threshold)
    end = _final_values(rng, below | hidden, b, float(spec.scale_min), thr, float(spec.scale_max))
    start = b.baseline.mean + b.baseline.sd * _exact_normal(rng, n)
    start = np.clip(start, spec.scale_min, spec.scale_max)
    line = _trajectory(visits, start, end, span)
    mean = np.where(visits["kind"] == 1, line + rng.normal(0.0, b.noise_sd, len(line)), line)
    mean = np.where(visits["kind"] == 2, end[visits["pat"]], mean)
    mean = np.clip(mean, spec.scale_min, spec.scale_max)
    k = len(spec.item_columns)
    missing = rng.random((len(mean), k)) < b.item_missing_pct / 100
    missing &= np.cumsum(missing, axis=1) <= k - spec.min_answered  # keep the global severity index scorable
    n_answered = k - missing.sum(axis=1)
    total = np.rint(mean * n_answered)
    final_rows = visits["kind"] == 2
    bound = _threshold_sum_bounds(n_answered, thr)
    row_below = below[visits["pat"]]
    total = np.where(final_rows & row_below, np.minimum(total, bound - 1), total)
    total = np.where(final_rows & ~row_below, np.maximum(total, bound), total)
    return _items_with_total(rng, total, ~missing, spec.scale_min, spec.scale_max, b.item_sd)


def _simulate_eq5d(
    rng: np.random.Generator,
    group: Array,
    baseline: Mapping[str, Array],
    sr_final: Array,
    visits: Mapping[str, Array],
    instruments: Instruments,
    p: SyntheticParameters,
) -> dict[str, Array]:
    """EQ-5D-3L at admission (all) and in the discharge package, VAS improving more in the good group."""
    eq = instruments.eq5d
    n = len(group)
    change = _normal_by_group(rng, group, _group_normal_params(p.eq5d.discharge_vas_change, _classified_weights(p)))
    vas_end = np.clip(np.rint(baseline["vas0"] + change), eq.vas_min, eq.vas_max)
    final_rows = visits["kind"] == 2
    final_day = np.full(n, -1)
    final_day[visits["pat"][final_rows]] = visits["day"][final_rows]
    pat = np.concatenate([np.arange(n), np.flatnonzero(sr_final)])
    kind = np.concatenate([np.zeros(n, np.int64), np.full(int(sr_final.sum()), 2)])
    day = np.where(kind == 0, 0, final_day[pat])
    order = np.lexsort((day, pat))
    pat, kind, day = pat[order], kind[order], day[order]
    vas = np.where(kind == 0, baseline["vas0"][pat], vas_end[pat])
    return {"pat": pat, "day": day, "vas": vas, "levels": _eq5d_levels(rng, vas, instruments, p.eq5d)}


def _final_self_report_scores(
    n: int, visits: Mapping[str, Array], wsas_items: Array, bsi_items: Array, instruments: Instruments
) -> tuple[Array, Array]:
    """The generator's own discharge WSAS total and BSI-18 mean (NaN when missing or unscorable)."""
    rows = np.flatnonzero(visits["kind"] == 2)
    pat = visits["pat"][rows]
    wsas = np.full(n, np.nan)
    wsas[pat] = wsas_items[rows].sum(axis=1)  # NaN if any item is missing: the total needs all five
    bsi = np.full(n, np.nan)
    block = bsi_items[rows]
    answered = (~np.isnan(block)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        means = np.nanmean(np.where(answered[:, None] > 0, block, 0.0), axis=1)
    bsi[pat] = np.where(answered >= instruments.bsi.min_answered, means, np.nan)
    return wsas, bsi


def _item_frame(
    ids: Array, dates: Array, items: Array, columns: Sequence[str], leading: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """patient_id, date, [leading columns], then one nullable-integer column per item."""
    cols: dict[str, Any] = {"patient_id": ids, "date": _dates(dates)}
    cols.update(leading or {})
    for j, col in enumerate(columns):
        cols[col] = _nullable_int(items[:, j])
    return _frame(cols)


@dataclass(frozen=True)
class _Draws:
    """What one cohort's random stream produced, before it is laid out as exports and the truth record."""

    ids: Array
    group: Array
    baseline: dict[str, Array]
    treatment: dict[str, Array]
    schedule: dict[str, Array]
    version_group: Array
    admission: Array
    wai: dict[str, Any]
    gaf: dict[str, Array]
    self_report_visits: dict[str, Array]
    wsas_items: Array
    bsi_items: Array
    eq5d: dict[str, Array]


def _draw_cohort(rng: np.random.Generator, n: int, p: SyntheticParameters, instruments: Instruments) -> _Draws:
    """Every random step, in the order that fixes the random stream: outcome groups, baseline, treatment,
    WAI schedule, calendar, WAI items, GAF, self-reports, EQ-5D. Each is conditional on the ones before."""
    group, latent_poor = _assign_groups(rng, n, p)
    base = _simulate_baseline(rng, group, p, instruments.sipp_sf.domains)
    treat = _simulate_treatment(rng, group, p)
    sched = _simulate_wai_schedule(rng, treat, p)
    vgroup, admission = _assign_versions_and_admission(rng, treat, sched, p)
    wai = _simulate_wai(rng, sched, base, latent_poor, admission, instruments, p)
    gaf = _simulate_gaf(rng, group, latent_poor, base, treat, instruments, p)
    sr_final = _self_report_final(rng, group, treat, p)
    span = _span_days(treat)
    sv = _outcome_visits(rng, treat, sr_final, p.outcomes.wave_presence_pct.self_report, p.outcomes)
    wsas_items, wsas_below = _simulate_wsas(rng, group, sr_final, sv, span, instruments, p)
    bsi_items = _simulate_bsi(rng, group, sr_final, wsas_below, sv, span, instruments, p)
    eq = _simulate_eq5d(rng, group, base, sr_final, sv, instruments, p)
    return _Draws(
        ids=patient_ids(n),
        group=group,
        baseline=base,
        treatment=treat,
        schedule=sched,
        version_group=vgroup,
        admission=admission,
        wai=wai,
        gaf=gaf,
        self_report_visits=sv,
        wsas_items=wsas_items,
        bsi_items=bsi_items,
        eq5d=eq,
    )


def _patients_export(d: _Draws) -> pd.DataFrame:
    base, treat = d.baseline, d.treatment
    discharged = treat["discharged"]
    discharge = _dates(np.where(discharged, d.admission + treat["length_days"], 0))
    discharge[~discharged] = pd.NaT
    return _frame(
        {
            "patient_id": d.ids,
            "age": base["age"],
            "gender": np.where(base["female"], "female", "male").astype(object),
            "admission_date": _dates(d.admission),
            "discharge_date": discharge,
            "termination": np.array(TERMINATIONS, dtype=object)[treat["termination"]],
            "work_study_months": _nullable_int(base["work_study_months"]),
        }
    )


def _diagnoses_export(d: _Draws) -> pd.DataFrame:
    base = d.baseline
    return _frame(
        {
            "patient_id": d.ids,
            **{c: base[c].astype(np.int64) for c in PD_COLUMNS},
            "borderline_traits": base["borderline_traits"],
            "pd_traits_total": base["pd_traits_total"],
            **{c: base[c].astype(np.int64) for c in SYMPTOM_COLUMNS},
        }
    )


def _exports(d: _Draws, instruments: Instruments) -> dict[str, pd.DataFrame]:
    """Raw exports in the contract's format: one frame per export file, columns in the contract's order."""
    ids, admission, wai, gaf, eq, sv = d.ids, d.admission, d.wai, d.gaf, d.eq5d, d.self_report_visits
    sv_ids, sv_dates = ids[sv["pat"]], admission[sv["pat"]] + sv["day"]
    exports: dict[str, pd.DataFrame] = {
        "patients": _patients_export(d),
        "diagnoses": _diagnoses_export(d),
        instruments.wai.file: _item_frame(
            ids[wai["pat"]], wai["date"], wai["raw"], instruments.wai.item_columns, {"version": wai["version"]}
        ),
        instruments.gaf.file: _item_frame(
            ids[gaf["pat"]],
            admission[gaf["pat"]] + gaf["day"],
            np.column_stack([gaf["gaf"], *gaf["split"]]),
            (instruments.gaf.score_column, *instruments.gaf.optional_columns),
        ),
        instruments.wsas.file: _item_frame(sv_ids, sv_dates, d.wsas_items, instruments.wsas.item_columns),
        instruments.bsi.file: _item_frame(sv_ids, sv_dates, d.bsi_items, instruments.bsi.item_columns),
        instruments.sipp_sf.file: _frame(
            {
                "patient_id": ids,
                "date": _dates(admission),
                **{dom: d.baseline[f"sipp_{dom}"] for dom in instruments.sipp_sf.domains},
            }
        ),
        instruments.eq5d.file: _item_frame(
            ids[eq["pat"]],
            admission[eq["pat"]] + eq["day"],
            np.column_stack([eq["levels"], eq["vas"]]),
            (*instruments.eq5d.dimensions, instruments.eq5d.vas_column),
        ),
    }
    for name, cols in export_columns(instruments).items():
        exports[name] = exports[name].loc[:, list(cols)]
    return exports


def _truth(d: _Draws, instruments: Instruments) -> dict[str, pd.DataFrame]:
    """The generator's record of what correct scoring must produce, from the item values it drew."""
    base, treat, wai = d.baseline, d.treatment, d.wai
    discharged = treat["discharged"]
    completed = np.where(discharged, (treat["termination"] == PLANNED).astype(float), np.nan)
    scores = wai["scores"]
    n = len(d.ids)
    wsas_final, bsi_final = _final_self_report_scores(n, d.self_report_visits, d.wsas_items, d.bsi_items, instruments)
    patients = {
        "patient_id": d.ids,
        "outcome_group": np.array(["good", "poor", ""], dtype=object)[d.group],
        "final_gaf": _nullable_int(d.gaf["final"]),
        "wai_version_group": wai["group_labels"][d.version_group],
        "n_wai": d.schedule["n_wai"],
        "completed_as_planned": _nullable_int(completed),
        "paranoid_pd": base["paranoid"].astype(np.int64),
        "mood_disorder": base["mood"].astype(np.int64),
        "has_final_wai": d.schedule["has_final"].astype(np.int64),
        "treatment_months": np.where(discharged, treat["length_days"] / DAYS_PER_MONTH, np.nan),
        "wsas_final_total": _nullable_int(wsas_final),
        "bsi_final_mean": bsi_final,
    }
    administrations = {
        "patient_id": d.ids[wai["pat"]],
        "date": _dates(wai["date"]),
        "version": wai["version"],
        **{sub: scores[sub] for sub in instruments.wai.subscales},
        "total": scores["total"],
    }
    return {"patients": _frame(patients), "wai": _frame(administrations)}


def simulate_cohort(
    seed: int, n_patients: int, parameters: SyntheticParameters, instruments: Instruments
) -> SimulatedCohort:
    """Simulate one cohort: raw exports in the contract's format plus the truth record.

    ``parameters`` come from ``alliance.data.synthetic_parameters.load_parameters`` (varied, in tests and
    calibration, with ``dataclasses.replace``).
    """
    if n_patients < 1:
        raise ValueError("n_patients must be at least 1")
    check_against_instruments(parameters, instruments)
    draws = _draw_cohort(np.random.default_rng(seed), int(n_patients), parameters, instruments)
    return SimulatedCohort(exports=_exports(draws, instruments), truth=_truth(draws, instruments))


# ----------------------------------------------------------------------------------------------------
# Writing


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Deterministic bytes: UTF-8, ',' and '.', '\\n' line ends, ISO dates, empty cell = missing."""
    frame.to_csv(
        path,
        index=False,
        sep=",",
        decimal=".",
        lineterminator="\n",
        date_format="%Y-%m-%d",
        na_rep="",
        encoding="utf-8",
    )


def write_exports(cohort: SimulatedCohort, directory: str | Path) -> None:
    """One CSV per export, named by its base name, in the contract's column and row order."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in sorted(cohort.exports):
        _write_csv(cohort.exports[name], directory / f"{name}.csv")


def write_truth(cohort: SimulatedCohort, directory: str | Path) -> None:
    """The generator's record of correct scores, one CSV per table (floats at full precision)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in sorted(cohort.truth):
        _write_csv(cohort.truth[name], directory / f"{name}.csv")
