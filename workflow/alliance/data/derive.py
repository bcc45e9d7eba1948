"""Derived variables of the study: time, waves, final assessments, outcome subgroups, version groups.

Definitions follow Folmo et al. (2020) and ``export-format.md``; every threshold is a parameter that
comes from ``config/config.yaml`` (``analysis:``), never a literal in the code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alliance.data.contract import DAYS_PER_MONTH, PERSONALITY_DISORDERS, SYMPTOM_DISORDERS
from alliance.data.instruments import COMMON_ITEMS_SUFFIX, Instruments
from alliance.data.scoring import eq5d_index, score_item_scale, score_wai
from alliance.settings import AnalysisSettings


@dataclass(frozen=True)
class CleanCohort:
    patients: pd.DataFrame
    wai_long: pd.DataFrame
    outcomes_long: pd.DataFrame


WAI_LONG_COLUMNS = ["patient_id", "time_months", "wave", "version", "goals", "bonds", "tasks", "total"]
OUTCOMES_LONG_COLUMNS = ["patient_id", "time_months", "wave", "measure", "value"]


def months_since_admission(dates: pd.Series, admission: pd.Series) -> pd.Series:
    return (dates - admission).dt.days / DAYS_PER_MONTH


def nearest_wave(months: pd.Series, waves: Sequence[float]) -> pd.Series:
    """The nominal wave nearest to each exact time; ties go to the earlier wave."""
    grid = np.asarray(waves, dtype="float64")
    values = months.to_numpy(dtype="float64")
    distance = np.abs(values[:, None] - grid[None, :])
    nearest = pd.Series(grid[np.argmin(distance, axis=1)], index=months.index).where(months.notna())
    # Whole-month schedules print as whole months ("9", not "9.0").
    return nearest.astype("Int64") if np.all(grid == np.round(grid)) else nearest


def nearest_to_anchor(
    assessments: pd.DataFrame, anchor: pd.Series, window_days: int, columns: Sequence[str]
) -> pd.DataFrame:
    """Per patient, the assessment closest to an anchor date (admission or discharge) within a window.

    ``anchor`` is indexed by patient_id. Rows with every requested column missing are not candidates;
    on a tie the later assessment wins (closer to the end of treatment).
    """
    candidates = assessments.dropna(subset=list(columns), how="all")
    anchor_date = candidates["patient_id"].map(anchor)
    distance = (candidates["date"] - anchor_date).dt.days.abs()
    candidates = candidates.assign(_distance=distance)[distance.le(window_days).fillna(False)]
    best = candidates.sort_values(["patient_id", "_distance", "date"], ascending=[True, True, False], kind="stable")
    best = best.drop_duplicates("patient_id", keep="first").set_index("patient_id")
    return best[list(columns)]


def administered(wai: pd.DataFrame, subscales: Sequence[str]) -> pd.DataFrame:
    """WAI administrations that count: at least one subscale scored (an empty form does not)."""
    return wai.dropna(subset=list(subscales), how="all")


def wai_version_group(wai: pd.DataFrame, instruments: Instruments, patient_ids: pd.Index) -> pd.Series:
    """S_only / SR_only (a label per configured version) / both (more than one version) / none."""
    labels = {name: v.group_label for name, v in instruments.wai.versions.items()}
    versions_used = wai.groupby("patient_id")["version"].agg(lambda v: sorted(set(v.dropna())))
    group = versions_used.map(lambda used: "both" if len(used) > 1 else (f"{labels[used[0]]}_only" if used else "none"))
    return group.reindex(patient_ids).fillna("none")


def _group_by_cutoff(score: pd.Series, threshold: float, good_when_below: bool) -> pd.Series:
    good = score < threshold if good_when_below else score >= threshold
    return pd.Series(np.where(good, "good", "poor"), index=score.index, dtype=object).where(score.notna(), "")


def build_wai_long(scored_wai: pd.DataFrame, admission: pd.Series, settings: AnalysisSettings) -> pd.DataFrame:
    time = months_since_admission(scored_wai["date"], scored_wai["patient_id"].map(admission))
    long = scored_wai.assign(time_months=time, wave=nearest_wave(time, settings.wai_waves))
    # Common-items scores (instruments.yaml wai.common_items) follow the contract's columns.
    common = [f"{s}{COMMON_ITEMS_SUFFIX}" for s in ("goals", "bonds", "tasks") if f"{s}{COMMON_ITEMS_SUFFIX}" in long]
    return long.sort_values(["patient_id", "time_months", "version"], kind="stable").reset_index(drop=True)[
        WAI_LONG_COLUMNS + common
    ]


def _scored_outcomes(tables: Mapping[str, pd.DataFrame], instruments: Instruments) -> dict[str, pd.DataFrame]:
    """Each outcome measure as patient_id, date, value."""
    measures = {}
    gaf = tables[instruments.gaf.file]
    measures["gaf"] = pd.DataFrame(
        {
            "patient_id": gaf["patient_id"],
            "date": gaf["date"],
            "value": gaf[instruments.gaf.score_column].astype("float64"),
        }
    )
    for measure, scale in (("wsas", instruments.wsas), ("bsi", instruments.bsi)):
        frame = tables.get(scale.file)
        if frame is None:
            measures[measure] = pd.DataFrame(
                {
                    "patient_id": pd.Series(dtype=object),
                    "date": pd.Series(dtype="datetime64[ns]"),
                    "value": pd.Series(dtype="float64"),
                }
            )
            continue
        measures[measure] = pd.DataFrame(
            {"patient_id": frame["patient_id"], "date": frame["date"], "value": score_item_scale(frame, scale)}
        )
    return measures


def build_outcomes_long(
    measures: Mapping[str, pd.DataFrame], admission: pd.Series, settings: AnalysisSettings
) -> pd.DataFrame:
    parts = []
    for measure, frame in measures.items():
        time = months_since_admission(frame["date"], frame["patient_id"].map(admission))
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": frame["patient_id"],
                    "time_months": time,
                    "wave": nearest_wave(time, settings.outcome_waves),
                    "measure": measure,
                    "value": frame["value"],
                }
            )
        )
    long = pd.concat(parts, ignore_index=True)
    order = {m: i for i, m in enumerate(measures)}
    long = long.assign(_order=long["measure"].map(order))
    long = long.sort_values(["patient_id", "_order", "time_months"], kind="stable")
    return long.reset_index(drop=True)[OUTCOMES_LONG_COLUMNS]


def build_patients(
    tables: Mapping[str, pd.DataFrame],
    measures: Mapping[str, pd.DataFrame],
    scored_wai: pd.DataFrame,
    instruments: Instruments,
    settings: AnalysisSettings,
) -> pd.DataFrame:
    """One row per patient: registry, diagnoses, baseline questionnaires, outcomes and WAI counts, with
    the columns in the order of outputs.md (each helper appends its own, in turn)."""
    registry = tables["patients"].set_index("patient_id").sort_index()
    admission, discharge = registry["admission_date"], registry["discharge_date"]
    patients = _registry_columns(registry)
    _diagnosis_columns(patients, tables["diagnoses"].set_index("patient_id").reindex(registry.index))
    patients = _baseline_questionnaires(patients, tables, admission, instruments, settings)
    _outcome_columns(patients, measures, admission, discharge, instruments, settings)
    _wai_columns(patients, scored_wai, discharge, instruments, settings)
    return patients.reset_index()


def _registry_columns(registry: pd.DataFrame) -> pd.DataFrame:
    ids = registry.index
    admission, discharge = registry["admission_date"], registry["discharge_date"]
    ended = registry["termination"].ne("ongoing") & discharge.notna()
    patients = pd.DataFrame(index=ids)
    patients["age"] = registry["age"]
    patients["gender"] = registry["gender"]
    patients["termination"] = registry["termination"]
    patients["completed_as_planned"] = (
        pd.Series(np.where(registry["termination"].eq("planned"), 1, 0), index=ids).where(ended).astype("Int64")
    )
    patients["treatment_months"] = months_since_admission(discharge, admission)
    patients["work_study_months"] = registry["work_study_months"]
    patients["no_work_study"] = (
        registry["work_study_months"].eq(0).astype("Int64").where(registry["work_study_months"].notna())
    )
    return patients


def _diagnosis_columns(patients: pd.DataFrame, diagnoses: pd.DataFrame) -> None:
    patients["paranoid_pd"] = diagnoses["paranoid"]
    patients["mood_disorder"] = diagnoses["mood"]
    for column in (*PERSONALITY_DISORDERS, "borderline_traits", "pd_traits_total", *SYMPTOM_DISORDERS):
        patients[column] = diagnoses[column]
    has_diagnoses = diagnoses[list(PERSONALITY_DISORDERS)].notna().all(axis=1)
    patients["n_pds"] = diagnoses[list(PERSONALITY_DISORDERS)].sum(axis=1).where(has_diagnoses).astype("Int64")
    patients["n_symptom_disorders"] = (
        diagnoses[list(SYMPTOM_DISORDERS)].sum(axis=1).where(has_diagnoses).astype("Int64")
    )


def _baseline_questionnaires(
    patients: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    admission: pd.Series,
    instruments: Instruments,
    settings: AnalysisSettings,
) -> pd.DataFrame:
    """SIPP-SF domains and EQ-5D at admission; empty columns when the optional file is absent."""
    sipp = tables.get(instruments.sipp_sf.file)
    domains = list(instruments.sipp_sf.domains)
    if sipp is not None:
        baseline_sipp = nearest_to_anchor(sipp, admission, settings.baseline_window_days, domains)
        patients = patients.join(baseline_sipp.add_prefix("sipp_"))
    else:
        for d in domains:
            patients[f"sipp_{d}"] = np.nan
    eq = tables.get(instruments.eq5d.file)
    if eq is not None:
        eq = eq.assign(
            eq5d_index=eq5d_index(eq, instruments.eq5d), eq5d_vas=eq[instruments.eq5d.vas_column].astype("float64")
        )
        patients = patients.join(
            nearest_to_anchor(eq, admission, settings.baseline_window_days, ["eq5d_index", "eq5d_vas"])
        )
    else:
        patients["eq5d_index"] = np.nan
        patients["eq5d_vas"] = np.nan
    return patients


def _outcome_columns(
    patients: pd.DataFrame,
    measures: Mapping[str, pd.DataFrame],
    admission: pd.Series,
    discharge: pd.Series,
    instruments: Instruments,
    settings: AnalysisSettings,
) -> None:
    """Baseline and final scores of each outcome measure, and the outcome subgroups they define."""
    for measure, frame in measures.items():
        patients[f"baseline_{measure}"] = nearest_to_anchor(frame, admission, settings.baseline_window_days, ["value"])[
            "value"
        ]
        patients[f"final_{measure}"] = nearest_to_anchor(
            frame, discharge.dropna(), settings.final_window_days, ["value"]
        )["value"]
    patients["outcome_group"] = _group_by_cutoff(patients["final_gaf"], settings.gaf_cutoff, good_when_below=False)
    patients["poor_outcome"] = patients["outcome_group"].map({"good": 0, "poor": 1}).astype("Int64")
    patients["good_outcome"] = 1 - patients["poor_outcome"]
    patients["wsas_outcome"] = _group_by_cutoff(
        patients["final_wsas"], instruments.wsas.outcome_threshold, good_when_below=True
    )
    patients["bsi_outcome"] = _group_by_cutoff(
        patients["final_bsi"], instruments.bsi.outcome_threshold, good_when_below=True
    )
    # 0/1 codings for models: a predictor names the level coded 1 (outputs.md).
    for measure in ("wsas", "bsi"):
        patients[f"{measure}_poor_outcome"] = patients[f"{measure}_outcome"].map({"good": 0, "poor": 1}).astype("Int64")


def _wai_columns(
    patients: pd.DataFrame,
    scored_wai: pd.DataFrame,
    discharge: pd.Series,
    instruments: Instruments,
    settings: AnalysisSettings,
) -> None:
    # An administration counts (for n_wai, the version group and the final WAI) when at least one
    # subscale could be scored; an empty form stays in wai_long, with no scores.
    ids = patients.index
    administered_wai = administered(scored_wai, instruments.wai.subscales)
    patients["wai_version_group"] = wai_version_group(administered_wai, instruments, ids)
    patients["n_wai"] = administered_wai.groupby("patient_id").size().reindex(ids).fillna(0).astype("int64")
    final_wai = nearest_to_anchor(administered_wai, discharge.dropna(), settings.final_wai_window_days, ["version"])
    patients["has_final_wai"] = ids.isin(final_wai.index).astype("int64")


def clean_cohort(
    tables: Mapping[str, pd.DataFrame], instruments: Instruments, settings: AnalysisSettings
) -> CleanCohort:
    """Validated exports -> the three clean tables of ``outputs.md``."""
    admission = tables["patients"].set_index("patient_id")["admission_date"]
    wai = tables[instruments.wai.file]
    scored_wai = wai.join(score_wai(wai, instruments.wai))
    wai_long = build_wai_long(scored_wai, admission, settings)
    measures = _scored_outcomes(tables, instruments)
    outcomes_long = build_outcomes_long(measures, admission, settings)
    patients = build_patients(tables, measures, scored_wai, instruments, settings)
    return CleanCohort(patients, wai_long, outcomes_long)
