"""The data of one model: a catalogue entry and the clean tables -> the GrowthData the engine fits
(outcome rows, predictors, moderators, subsets, controls as indicators, complete cases)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from alliance.errors import AllianceError
from alliance.stats.catalogue import WAI_COMMON_OUTCOMES, WAI_OUTCOMES, ControlSpec, ModelSpec
from alliance.stats.engine import GrowthData


def with_patient_codes(
    patients: pd.DataFrame, wai_long: pd.DataFrame, outcomes_long: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The clean tables with each patient id replaced by its rank among the sorted ids: models then
    match, group and sort patients as integers (text ids cost seconds per model at 100,000 patients), in
    the same order as by id, so that every sum runs in the same order and the fits keep their digits."""
    tables = (patients, wai_long, outcomes_long)
    codes, _ = pd.factorize(pd.concat([table["patient_id"] for table in tables], ignore_index=True), sort=True)
    ends = np.cumsum([len(table) for table in tables])
    return tuple(  # type: ignore[return-value]
        table.assign(patient_id=part) for table, part in zip(tables, np.split(codes, ends[:-1]), strict=True)
    )


def _matches(values: pd.Series, wanted: Any) -> pd.Series:
    if isinstance(wanted, str):
        return values.astype(str).eq(wanted)
    return pd.to_numeric(values, errors="coerce").eq(float(wanted))


def outcome_long(
    outcome: str, wai_long: pd.DataFrame, outcomes_long: pd.DataFrame, extra: Sequence[str] = ()
) -> pd.DataFrame:
    """patient_id, time, y (and ``extra`` columns of the same rows) of one outcome; rows with a missing
    score are not observations."""
    if outcome in WAI_OUTCOMES + WAI_COMMON_OUTCOMES:
        if outcome not in wai_long.columns:
            raise ModelDataError(f"wai_long has no column '{outcome}' (is wai.common_items configured?)")
        long = wai_long[["patient_id", "time_months", outcome, *extra]].rename(columns={outcome: "y"})
    else:
        rows = outcomes_long["measure"].eq(outcome)
        long = outcomes_long.loc[rows, ["patient_id", "time_months", "value", *extra]].rename(columns={"value": "y"})
    long = long.rename(columns={"time_months": "time"})
    return long.dropna(subset=["y", "time"])


class ModelDataError(AllianceError, ValueError):
    """A model asks for data the clean tables do not have."""


def _indicators(values: pd.Series, control: ControlSpec) -> dict[str, pd.Series]:
    """0/1 indicator per level of a text column, but the reference (given, else the first level)."""
    present = values.dropna().astype(str)
    levels = sorted(present.unique())
    reference = control.reference if control.reference in levels else (levels[0] if levels else None)
    text, missing = values.astype(str), values.isna()
    return {
        f"{control.column}[{level}]": text.eq(level).astype(float).mask(missing)
        for level in levels
        if level != reference
    }


def _is_text(values: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))


def model_data(
    spec: ModelSpec, patients: pd.DataFrame, wai_long: pd.DataFrame, outcomes_long: pd.DataFrame
) -> GrowthData:
    """The cases of one model: its subset, with every covariate present (complete cases).

    A control found in patients.csv is a patient-level covariate; otherwise it must be a column of the
    outcome's long data (an observation-level covariate), and observations without it are left out.
    A centred control is centred at its mean over the model's patients (each patient once).
    """
    people = patients.set_index("patient_id")
    keep = pd.Series(True, index=people.index)
    for column, wanted in (spec.subset or {}).items():
        keep &= _matches(people[column], wanted)
    patient_controls = [c for c in spec.controls if c.column in people.columns]
    observation_controls = [c for c in spec.controls if c.column not in people.columns]
    covariates = _patient_covariates(spec, people, keep, patient_controls)
    for values in covariates.values():
        keep &= values.notna()
    long = _observations(spec, wai_long, outcomes_long, [c.column for c in observation_controls], keep)
    # each observation's row of patients.csv, looked up once for every covariate
    rows = people.index.get_indexer(long["patient_id"])
    observed = {name: values.to_numpy(float)[rows] for name, values in covariates.items()}
    for control in observation_controls:
        if _is_text(long[control.column]):
            observed.update({k: v.to_numpy(float) for k, v in _indicators(long[control.column], control).items()})
        else:
            observed[control.name] = pd.to_numeric(long[control.column], errors="coerce").to_numpy(float)
    _centre(observed, spec, patient_controls, long["patient_id"].to_numpy())
    return GrowthData.from_long(
        long["patient_id"].to_numpy(),
        long["y"].to_numpy(),
        long["time"].to_numpy(),
        observed,
        random_slope=spec.kind == "growth",
        with_time=spec.kind == "growth",
        without_time_interaction=_without_time(spec, observed),
    )


def _patient_covariates(
    spec: ModelSpec, people: pd.DataFrame, keep: pd.Series, patient_controls: list[ControlSpec]
) -> dict[str, pd.Series]:
    """The predictor (zero outside its moderator's level) and the patient-level controls, by term."""
    covariates: dict[str, pd.Series] = {}
    if spec.predictor is not None:
        predictor = pd.to_numeric(people[spec.predictor], errors="coerce").astype("float64")
        for column, wanted in (spec.moderator or {}).items():
            moderator = people[column]
            predictor = predictor.where(moderator.notna()) * _matches(moderator, wanted).astype(float)
        covariates[str(spec.predictor_term)] = predictor
    for control in patient_controls:
        if _is_text(people[control.column]):
            covariates.update(_indicators(people.loc[keep, control.column].reindex(people.index), control))
        else:
            covariates[control.name] = pd.to_numeric(people[control.column], errors="coerce").astype("float64")
    return covariates


def _observations(
    spec: ModelSpec, wai_long: pd.DataFrame, outcomes_long: pd.DataFrame, extra: list[str], keep: pd.Series
) -> pd.DataFrame:
    """The outcome's observations of the kept patients, with every observation-level control present."""
    try:
        long = outcome_long(spec.outcome, wai_long, outcomes_long, extra)
    except KeyError as error:
        raise ModelDataError(
            f"model {spec.id}: control(s) {extra} are columns neither of patients.csv nor of the "
            f"{spec.outcome} observations"
        ) from error
    rows = keep.index.get_indexer(long["patient_id"])  # -1: a patient not in patients.csv, not kept
    long = long[np.where(rows >= 0, keep.to_numpy(bool)[rows], False)]
    return long.dropna(subset=extra)


def _centre(observed: dict[str, Any], spec: ModelSpec, patient_controls: list[ControlSpec], patient_ids: Any) -> None:
    for control in spec.controls:
        if control.centre:
            values = pd.Series(observed[control.name])
            if control in patient_controls:
                # each patient once, whatever the number of observations
                values = values.groupby(patient_ids).first()
            observed[control.name] = observed[control.name] - float(values.mean())


def _without_time(spec: ModelSpec, observed: dict[str, Any]) -> set[str]:
    """Terms of controls entered without their x time interaction."""
    return {
        name
        for control in spec.controls
        if not control.with_time
        for name in observed
        if name == control.name or name.startswith(f"{control.column}[")
    }
