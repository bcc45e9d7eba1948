"""Linear mixed growth models: the model catalogue, the data of one model, and fitting with inference.

Every model is Y_ij = X_ij beta + b0_i + b1_i time_ij + e_ij with an unstructured 2x2 covariance G of
(b0, b1) and residual variance s2 (the paper's equations). Estimation is statsmodels' MixedLM behind
the small :class:`GrowthEngine` interface, so a faster engine can be swapped in by configuration.

Inference is computed here, as SPSS MIXED and lmerTest report it, from an exact marginal likelihood
written in per-patient sufficient statistics (linear in patients):

* fixed effects: SE from (X' V^-1 X)^-1, Satterthwaite degrees of freedom (as lmerTest computes them:
  the gradient of Var(beta_j) in the variance parameters and their asymptotic covariance, 2 H^-1 of the
  deviance with beta profiled out), t, p and 95 % CI;
* variance components: SE from the observed information of the same likelihood (not statsmodels'
  ``bse_re``, which is on a different scale), Wald Z and p.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from alliance.instruments import COMMON_ITEMS_SUFFIX

WAI_OUTCOMES = ("goals", "bonds", "tasks")
# Subscales re-scored from the items worded identically in every WAI version (instruments.yaml
# wai.common_items), for the common-items sensitivity analysis; columns of wai_long.
WAI_COMMON_OUTCOMES = tuple(f"{name}{COMMON_ITEMS_SUFFIX}" for name in WAI_OUTCOMES)
CLINICAL_OUTCOMES = ("gaf", "wsas", "bsi")
ALL_OUTCOMES = WAI_OUTCOMES + WAI_COMMON_OUTCOMES + CLINICAL_OUTCOMES
VARIANCE_COMPONENTS = ("intercept", "covariance", "slope", "residual")


# --------------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ControlSpec:
    """A covariate entered beside the predictor: a column of patients.csv (patient level) or of the
    outcome's long data (observation level, e.g. the WAI version used at each administration).

    A numeric column enters as itself (``centre``: minus its mean over the model's patients, named
    ``<column>_centred``); a text column as one 0/1 indicator per level other than ``reference``
    (named ``<column>[<level>]``). Each term also enters x time unless ``with_time`` is false.
    """

    column: str
    centre: bool = False
    with_time: bool = True
    reference: str | None = None

    @property
    def name(self) -> str:
        return f"{self.column}_centred" if self.centre else self.column

    def describe(self) -> str:
        text = self.name
        if self.reference is not None:
            text += f"[ref={self.reference}]"
        return text + ("" if self.with_time else "[no time]")


def control_from_entry(entry: Any) -> ControlSpec:
    """``column`` or ``{column, centre, with_time, reference}`` of the catalogue."""
    if isinstance(entry, str):
        return ControlSpec(entry)
    if isinstance(entry, Mapping) and "column" in entry:
        unknown = set(entry) - {"column", "centre", "with_time", "reference"}
        if unknown:
            raise CatalogueError(f"control {entry}: unknown keys {sorted(unknown)}")
        reference = entry.get("reference")
        return ControlSpec(
            column=str(entry["column"]),
            centre=bool(entry.get("centre", False)),
            with_time=bool(entry.get("with_time", True)),
            reference=None if reference is None else str(reference),
        )
    raise CatalogueError(f"a control is a column name or a mapping with 'column', not {entry!r}")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    outcome: str
    kind: str = "growth"  # growth | means
    predictor: str | None = None
    moderator: Mapping[str, Any] | None = None
    subset: Mapping[str, Any] | None = None
    controls: tuple[ControlSpec, ...] = ()
    reference: str | None = None
    table: str | None = None
    label: str | None = None
    section: str | None = None  # a heading above the row in the paper's table ("Patient factors")
    # Set on the models the robustness analysis generates: the catalogue model it varies, and how.
    base: str | None = None
    variant: str | None = None

    @property
    def controls_text(self) -> str:
        return ",".join(control.describe() for control in self.controls)

    @property
    def predictor_term(self) -> str | None:
        """The predictor's term name; with a moderator, e.g. ``poor_outcome[paranoid_pd=1]``."""
        if self.predictor is None:
            return None
        if not self.moderator:
            return self.predictor
        return f"{self.predictor}[{describe_condition(self.moderator)}]"


@dataclass(frozen=True)
class CatalogueSettings:
    engine: str = "statsmodels"
    method: str = "ML"
    optimizers: tuple[str, ...] = ("lbfgs", "bfgs", "powell", "nm")
    alpha: float = 0.05


@dataclass(frozen=True)
class RobustnessVariant:
    """One way of re-estimating a finding: added controls, common-items outcomes, or another predictor."""

    id: str
    label: str
    controls: tuple[ControlSpec, ...] = ()
    common_items: bool = False
    replace_predictor: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_baseline(self) -> bool:
        return not (self.controls or self.common_items or self.replace_predictor)


@dataclass(frozen=True)
class Finding:
    """A main finding: the intercept or slope effect of one catalogue model's predictor."""

    id: str
    label: str
    model: str
    effect: str  # intercept | slope
    direction: str  # negative | positive
    text: str = ""  # how the manuscript names it mid-sentence (default: the label)

    def term(self, spec: ModelSpec) -> str:
        predictor = str(spec.predictor_term)
        return predictor if self.effect == "intercept" else f"time:{predictor}"


@dataclass(frozen=True)
class Robustness:
    findings: tuple[Finding, ...] = ()
    variants: tuple[RobustnessVariant, ...] = ()
    # Models with a centred control whose pattern-averaged slopes are reported (Hedeker & Gibbons).
    pattern_mixture_variant: str | None = None
    version_variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    settings: CatalogueSettings
    models: tuple[ModelSpec, ...]
    robustness: Robustness = field(default_factory=Robustness)
    # (catalogue model id, variant id) -> id of the model fitted for it; None: the variant does not apply.
    variant_models: Mapping[tuple[str, str], str | None] = field(default_factory=dict)

    def model(self, model_id: str) -> ModelSpec:
        for spec in self.models:
            if spec.id == model_id:
                return spec
        raise KeyError(model_id)


class CatalogueError(ValueError):
    """The model catalogue is inconsistent."""


def describe_condition(condition: Mapping[str, Any] | None) -> str:
    if not condition:
        return ""
    return ",".join(f"{column}={value}" for column, value in condition.items())


def catalogue_from_mapping(spec: Mapping[str, Any]) -> Catalogue:
    raw_settings = spec.get("settings", {})
    settings = CatalogueSettings(
        engine=str(raw_settings.get("engine", "statsmodels")),
        method=str(raw_settings.get("method", "ML")).upper(),
        optimizers=tuple(raw_settings.get("optimizers", CatalogueSettings.optimizers)),
        alpha=float(raw_settings.get("alpha", 0.05)),
    )
    if settings.method not in ("ML", "REML"):
        raise CatalogueError(f"settings.method must be ML or REML, not {settings.method}")
    models = []
    for entry in spec["models"]:
        model = ModelSpec(
            id=str(entry["id"]),
            outcome=str(entry["outcome"]),
            kind=str(entry.get("kind", "growth")),
            predictor=entry.get("predictor"),
            moderator=entry.get("moderator"),
            subset=entry.get("subset"),
            controls=tuple(control_from_entry(c) for c in entry.get("controls", ())),
            reference=entry.get("reference"),
            table=entry.get("table"),
            label=entry.get("label"),
            section=entry.get("section"),
        )
        if "__" in model.id:
            raise CatalogueError(f"model {model.id}: '__' is reserved for the robustness analysis' model ids")
        if model.outcome not in ALL_OUTCOMES:
            raise CatalogueError(f"model {model.id}: unknown outcome '{model.outcome}'")
        if model.kind not in ("growth", "means"):
            raise CatalogueError(f"model {model.id}: kind must be growth or means")
        if model.kind == "means" and (model.predictor or model.controls):
            raise CatalogueError(f"model {model.id}: the unconditional means model takes no predictors")
        if model.moderator and not model.predictor:
            raise CatalogueError(f"model {model.id}: a moderator needs a predictor")
        models.append(model)
    ids = [m.id for m in models]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise CatalogueError(f"duplicate model ids: {', '.join(duplicated)}")
    for model in models:
        if model.reference is not None and model.reference not in ids:
            raise CatalogueError(f"model {model.id}: reference '{model.reference}' is not in the catalogue")
    robustness = robustness_from_mapping(spec.get("robustness") or {}, {m.id: m for m in models})
    generated, variant_models = robustness_models(robustness, models)
    return Catalogue(settings, tuple(models) + tuple(generated), robustness, variant_models)


def robustness_from_mapping(spec: Mapping[str, Any], models: Mapping[str, ModelSpec]) -> Robustness:
    findings = []
    for entry in spec.get("findings", ()):
        finding = Finding(
            id=str(entry["id"]),
            label=str(entry.get("label", entry["id"])),
            model=str(entry["model"]),
            effect=str(entry.get("effect", "slope")),
            direction=str(entry.get("direction", "negative")),
            text=str(entry.get("text", entry.get("label", entry["id"]))),
        )
        if finding.model not in models:
            raise CatalogueError(f"finding {finding.id}: model '{finding.model}' is not in the catalogue")
        if models[finding.model].predictor is None:
            raise CatalogueError(f"finding {finding.id}: model '{finding.model}' has no predictor")
        if finding.effect not in ("intercept", "slope") or finding.direction not in ("negative", "positive"):
            raise CatalogueError(f"finding {finding.id}: effect is intercept|slope, direction negative|positive")
        findings.append(finding)
    variants = []
    for entry in spec.get("variants", ()):
        variant = RobustnessVariant(
            id=str(entry["id"]),
            label=str(entry.get("label", entry["id"])),
            controls=tuple(control_from_entry(c) for c in entry.get("controls", ())),
            common_items=bool(entry.get("common_items", False)),
            replace_predictor={str(k): str(v) for k, v in (entry.get("replace_predictor") or {}).items()},
        )
        if "__" in variant.id:
            raise CatalogueError(f"robustness variant {variant.id}: '__' is reserved")
        variants.append(variant)
    for kind in ("findings", "variants"):
        names = [item.id for item in (findings if kind == "findings" else variants)]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise CatalogueError(f"duplicate robustness {kind}: {', '.join(duplicated)}")
    variant_ids = {v.id for v in variants}
    pattern = spec.get("pattern_mixture_variant")
    version = tuple(str(v) for v in spec.get("version_variants", ()))
    for name in ([pattern] if pattern else []) + list(version):
        if name not in variant_ids:
            raise CatalogueError(f"robustness: '{name}' is not one of the variants")
    if pattern and not any(c.centre for v in variants if v.id == pattern for c in v.controls):
        raise CatalogueError(f"robustness: pattern_mixture_variant '{pattern}' has no centred control")
    return Robustness(tuple(findings), tuple(variants), pattern, version)


def _model_key(spec: ModelSpec) -> tuple:
    """What defines a model's fit; two specs with the same key are the same model."""

    def frozen(mapping: Mapping[str, Any] | None) -> tuple:
        return tuple(sorted((mapping or {}).items()))

    return (spec.outcome, spec.kind, spec.predictor, frozen(spec.moderator), frozen(spec.subset), spec.controls)


def apply_variant(spec: ModelSpec, variant: RobustnessVariant) -> ModelSpec | None:
    """The model re-estimated under a variant; None where the variant does not apply to it."""
    if variant.is_baseline:
        return spec
    predictor = spec.predictor
    if variant.replace_predictor:
        if predictor is None or predictor not in variant.replace_predictor:
            return None
        predictor = variant.replace_predictor[predictor]
    outcome = spec.outcome
    if variant.common_items:
        if spec.outcome not in WAI_OUTCOMES:
            return None
        outcome = f"{spec.outcome}{COMMON_ITEMS_SUFFIX}"
    return replace(
        spec,
        id=f"{spec.id}__{variant.id}",
        outcome=outcome,
        predictor=predictor,
        controls=spec.controls + variant.controls,
        table=None,
        label=None,
        section=None,
        base=spec.id,
        variant=variant.id,
    )


def robustness_models(
    robustness: Robustness, models: Sequence[ModelSpec]
) -> tuple[list[ModelSpec], dict[tuple[str, str], str | None]]:
    """The models each finding needs under each variant, and their references under the same variant.

    A variant's model is compared with its reference re-estimated under the same variant (so explained
    variance and the likelihood-ratio test isolate the predictor); a model without a reference that
    gains controls is compared with itself without them (the control's own test: the paper's "no
    AIC gain" for the WAI version). A generated model identical to one already in the catalogue is
    not fitted twice. Returns the new models and, for every (model id, variant id) visited, the id
    of the model that estimates it (None where the variant does not apply).
    """
    by_id = {m.id: m for m in models}
    by_key = {_model_key(m): m.id for m in models}
    generated: dict[str, ModelSpec] = {}
    resolved: dict[tuple[str, str], str | None] = {}

    def resolve(spec: ModelSpec, variant: RobustnessVariant) -> str | None:
        if (spec.id, variant.id) not in resolved:
            resolved[spec.id, variant.id] = resolve_new(spec, variant)
        return resolved[spec.id, variant.id]

    def resolve_new(spec: ModelSpec, variant: RobustnessVariant) -> str | None:
        varied = apply_variant(spec, variant)
        if varied is None:
            return None
        if varied.id == spec.id:
            return spec.id
        reference = None
        if spec.reference is not None:
            reference = resolve(by_id[spec.reference], variant) or spec.reference
        elif variant.controls:
            reference = spec.id
        varied = replace(varied, reference=reference)
        existing = by_key.get(_model_key(varied))
        if existing is not None and existing in by_id and by_id[existing].reference == reference:
            return existing
        if varied.id not in generated:
            generated[varied.id] = varied
        return varied.id

    for finding in robustness.findings:
        for variant in robustness.variants:
            resolve(by_id[finding.model], variant)
    return list(generated.values()), resolved


def variant_model_id(catalogue: Catalogue, model_id: str, variant_id: str) -> str | None:
    """The id of ``model_id`` re-estimated under ``variant_id`` (None if the variant does not apply)."""
    return catalogue.variant_models.get((model_id, variant_id))


def load_catalogue(path: str | Path) -> Catalogue:
    with open(path, encoding="utf-8") as handle:
        return catalogue_from_mapping(yaml.safe_load(handle))


# --------------------------------------------------------------------------------------------------
# The data of one model
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrowthData:
    """Long data of one model: ``frame`` has patient_id, y, time and one column per fixed term."""

    frame: pd.DataFrame
    terms: tuple[str, ...]
    random_slope: bool = True

    @property
    def n_patients(self) -> int:
        return int(self.frame["patient_id"].nunique())

    @property
    def n_obs(self) -> int:
        return len(self.frame)

    @property
    def patients(self) -> frozenset[str]:
        return frozenset(self.frame["patient_id"])

    @classmethod
    def from_long(
        cls,
        patient_id: Sequence,
        y: Sequence[float],
        time: Sequence[float],
        covariates: Mapping[str, Sequence[float]] | None = None,
        random_slope: bool = True,
        with_time: bool = True,
        without_time_interaction: Collection[str] = (),
    ) -> GrowthData:
        """Intercept (+ time) (+ each covariate and its interaction with time), as in the paper.

        Covariates named in ``without_time_interaction`` enter as a main effect only.
        """
        frame = pd.DataFrame(
            {"patient_id": np.asarray(patient_id), "y": np.asarray(y, float), "time": np.asarray(time, float)}
        )
        frame["Intercept"] = 1.0
        terms = ["Intercept"]
        if with_time:
            terms.append("time")
        for name, values in (covariates or {}).items():
            frame[name] = np.asarray(values, float)
            terms.append(name)
            if name not in without_time_interaction:
                frame[f"time:{name}"] = frame[name] * frame["time"]
                terms.append(f"time:{name}")
        frame = frame.sort_values(["patient_id", "time"], kind="stable").reset_index(drop=True)
        return cls(frame[["patient_id", "y", *dict.fromkeys(["time", *terms])]], tuple(terms), random_slope)

    def restricted_to(self, patients: frozenset[str]) -> GrowthData:
        frame = self.frame[self.frame["patient_id"].isin(patients)].reset_index(drop=True)
        return GrowthData(frame, self.terms, self.random_slope)


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


class ModelDataError(ValueError):
    """A model asks for data the clean tables do not have."""


def _indicators(values: pd.Series, control: ControlSpec) -> dict[str, pd.Series]:
    """0/1 indicator per level of a text column, but the reference (given, else the first level)."""
    present = values.dropna().astype(str)
    levels = sorted(present.unique())
    reference = control.reference if control.reference in levels else (levels[0] if levels else None)
    text = values.astype(object).where(values.notna())
    return {
        f"{control.column}[{level}]": text.map(lambda v, level=level: np.nan if pd.isna(v) else float(str(v) == level))
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
    covariates: dict[str, pd.Series] = {}
    if spec.predictor is not None:
        predictor = pd.to_numeric(people[spec.predictor], errors="coerce").astype("float64")
        for column, wanted in (spec.moderator or {}).items():
            moderator = people[column]
            predictor = predictor.where(moderator.notna()) * _matches(moderator, wanted).astype(float)
        covariates[str(spec.predictor_term)] = predictor
    patient_controls = [c for c in spec.controls if c.column in people.columns]
    observation_controls = [c for c in spec.controls if c.column not in people.columns]
    for control in patient_controls:
        if _is_text(people[control.column]):
            covariates.update(_indicators(people.loc[keep, control.column].reindex(people.index), control))
        else:
            covariates[control.name] = pd.to_numeric(people[control.column], errors="coerce").astype("float64")
    for values in covariates.values():
        keep &= values.notna()
    extra = [c.column for c in observation_controls]
    try:
        long = outcome_long(spec.outcome, wai_long, outcomes_long, extra)
    except KeyError as error:
        raise ModelDataError(
            f"model {spec.id}: control(s) {extra} are columns neither of patients.csv nor of the "
            f"{spec.outcome} observations"
        ) from error
    long = long[long["patient_id"].map(keep).fillna(False).astype(bool)]
    long = long.dropna(subset=extra)
    observed = {name: long["patient_id"].map(values).to_numpy(float) for name, values in covariates.items()}
    for control in observation_controls:
        if _is_text(long[control.column]):
            observed.update({k: v.to_numpy(float) for k, v in _indicators(long[control.column], control).items()})
        else:
            observed[control.name] = pd.to_numeric(long[control.column], errors="coerce").to_numpy(float)
    for control in spec.controls:
        if control.centre:
            values = pd.Series(observed[control.name])
            if control in patient_controls:
                # each patient once, whatever the number of observations
                values = values.groupby(long["patient_id"].to_numpy()).first()
            observed[control.name] = observed[control.name] - float(values.mean())
    no_time = {
        name
        for control in spec.controls
        if not control.with_time
        for name in observed
        if name == control.name or name.startswith(f"{control.column}[")
    }
    return GrowthData.from_long(
        long["patient_id"].to_numpy(),
        long["y"].to_numpy(),
        long["time"].to_numpy(),
        observed,
        random_slope=spec.kind == "growth",
        with_time=spec.kind == "growth",
        without_time_interaction=no_time,
    )


# --------------------------------------------------------------------------------------------------
# The marginal likelihood in per-patient sufficient statistics
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SufficientStatistics:
    """Per-patient cross-products; every likelihood quantity is a sum of q x q algebra over patients."""

    n: np.ndarray  # (m,)
    ZtZ: np.ndarray  # (m, q, q)
    ZtX: np.ndarray  # (m, q, p)
    Zty: np.ndarray  # (m, q)
    XtX: np.ndarray  # (p, p) summed
    Xty: np.ndarray  # (p,)
    yty: float

    @property
    def q(self) -> int:
        return self.ZtZ.shape[1]


def sufficient_statistics(data: GrowthData) -> SufficientStatistics:
    frame = data.frame
    codes, _ = pd.factorize(frame["patient_id"])
    m = int(codes.max()) + 1 if len(codes) else 0
    X = frame[list(data.terms)].to_numpy(float)
    y = frame["y"].to_numpy(float)
    Z = (
        np.column_stack([np.ones(len(frame)), frame["time"].to_numpy(float)])
        if data.random_slope
        else np.ones((len(frame), 1))
    )
    q, p = Z.shape[1], X.shape[1]

    def per_patient(values: np.ndarray) -> np.ndarray:
        out = np.zeros((m, values.shape[1]))
        np.add.at(out, codes, values)
        return out

    ZtZ = per_patient((Z[:, :, None] * Z[:, None, :]).reshape(len(frame), q * q)).reshape(m, q, q)
    ZtX = per_patient((Z[:, :, None] * X[:, None, :]).reshape(len(frame), q * p)).reshape(m, q, p)
    Zty = per_patient(Z * y[:, None])
    return SufficientStatistics(
        n=np.bincount(codes, minlength=m).astype(float),
        ZtZ=ZtZ,
        ZtX=ZtX,
        Zty=Zty,
        XtX=X.T @ X,
        Xty=X.T @ y,
        yty=float(y @ y),
    )


def covariance_matrix(theta: np.ndarray, q: int) -> tuple[np.ndarray, float]:
    """Natural parameters -> (G, s2). theta = (var_intercept, cov, var_slope, s2) or (var_intercept, s2)."""
    if q == 2:
        G = np.array([[theta[0], theta[1]], [theta[1], theta[2]]])
        return G, float(theta[3])
    return np.array([[theta[0]]]), float(theta[1])


@dataclass(frozen=True)
class _Marginal:
    XtViX: np.ndarray
    XtViy: np.ndarray
    ytViy: float
    logdetV: float
    ZtViX: np.ndarray  # (m, q, p), for the gradient of Var(beta)
    ZtViy: np.ndarray  # (m, q)
    XtVi2X: np.ndarray


def _marginal(ss: SufficientStatistics, theta: np.ndarray) -> _Marginal:
    """X'V^-1X, X'V^-1y, y'V^-1y and log|V| via (s2 I + Z G Z')^-1 = (I - Z (s2 I + G Z'Z)^-1 G Z') / s2.

    This form holds for a singular G (a slope variance on its boundary), unlike the usual Woodbury form.
    """
    G, s2 = covariance_matrix(theta, ss.q)
    eye = np.eye(ss.q)
    M = np.linalg.inv(s2 * eye[None] + G[None] @ ss.ZtZ)  # (m, q, q)
    K = M @ G[None]  # (m, q, q): V^-1 = (I - Z K Z') / s2
    KZtX = K @ ss.ZtX
    KZty = np.einsum("mij,mj->mi", K, ss.Zty)
    XtViX = (ss.XtX - np.einsum("mqi,mqj->ij", ss.ZtX, KZtX)) / s2
    XtViy = (ss.Xty - np.einsum("mqi,mq->i", ss.ZtX, KZty)) / s2
    ytViy = (ss.yty - float(np.einsum("mq,mq->", ss.Zty, KZty))) / s2
    _, logdet_inner = np.linalg.slogdet(eye[None] + G[None] @ ss.ZtZ / s2)
    logdetV = float(ss.n.sum() * np.log(s2) + logdet_inner.sum())
    ZtViX = (ss.ZtX - ss.ZtZ @ KZtX) / s2
    ZtViy = (ss.Zty - np.einsum("mij,mj->mi", ss.ZtZ, KZty)) / s2
    # X'V^-2X = (X - Z K Z'X)'(X - Z K Z'X) / s2^2
    XtVi2X = (
        ss.XtX
        - np.einsum("mqi,mqj->ij", ss.ZtX, KZtX)
        - np.einsum("mqi,mqj->ij", KZtX, ss.ZtX)
        + np.einsum("mqi,mqr,mrj->ij", KZtX, ss.ZtZ, KZtX)
    ) / s2**2
    return _Marginal(XtViX, XtViy, ytViy, logdetV, ZtViX, ZtViy, XtVi2X)


def profiled_loglik(ss: SufficientStatistics, theta: np.ndarray, reml: bool, within_space: bool = True) -> float:
    """Log-likelihood (ML) or restricted log-likelihood (REML) at theta, with beta at its GLS value.

    ``within_space=False`` also evaluates the (analytic) likelihood where G is slightly indefinite but
    every V_i is still positive definite, so that numerical derivatives at a fit near the boundary
    can step across it.
    """
    G, s2 = covariance_matrix(theta, ss.q)
    if s2 <= 0 or (within_space and np.linalg.eigvalsh(G).min() < -1e-12):
        return -np.inf
    signs, _ = np.linalg.slogdet(np.eye(ss.q)[None] + G[None] @ ss.ZtZ / s2)
    if np.any(signs <= 0):
        return -np.inf
    mg = _marginal(ss, theta)
    beta = np.linalg.solve(mg.XtViX, mg.XtViy)
    quadratic = mg.ytViy - float(mg.XtViy @ beta)
    n, p = float(ss.n.sum()), len(beta)
    if reml:
        _, logdet_xvx = np.linalg.slogdet(mg.XtViX)
        return -0.5 * ((n - p) * np.log(2 * np.pi) + mg.logdetV + logdet_xvx + quadratic)
    return -0.5 * (n * np.log(2 * np.pi) + mg.logdetV + quadratic)


def beta_covariance(ss: SufficientStatistics, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mg = _marginal(ss, theta)
    cov = np.linalg.inv(mg.XtViX)
    return cov @ mg.XtViy, cov


def beta_covariance_gradient(ss: SufficientStatistics, theta: np.ndarray) -> np.ndarray:
    """d (X'V^-1X)^-1 / d theta_k = C X'V^-1 (dV/dtheta_k) V^-1 X C, for each natural parameter."""
    mg = _marginal(ss, theta)
    C = np.linalg.inv(mg.XtViX)
    q = ss.q
    derivatives = []
    if q == 2:
        units = [
            np.array([[1.0, 0.0], [0.0, 0.0]]),
            np.array([[0.0, 1.0], [1.0, 0.0]]),
            np.array([[0.0, 0.0], [0.0, 1.0]]),
        ]
    else:
        units = [np.array([[1.0]])]
    for unit in units:
        inner = np.einsum("mqi,qr,mrj->ij", mg.ZtViX, unit, mg.ZtViX)
        derivatives.append(C @ inner @ C)
    derivatives.append(C @ mg.XtVi2X @ C)
    return np.stack(derivatives)  # (k, p, p)


def numerical_hessian(function, x: np.ndarray, relative_step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian with one Richardson extrapolation (error O(h^4))."""
    x = np.asarray(x, float)
    k = len(x)
    scale = np.maximum(np.abs(x), 1e-3)

    def at(h: np.ndarray) -> np.ndarray:
        H = np.zeros((k, k))
        f0 = function(x)
        for i in range(k):
            ei = np.zeros(k)
            ei[i] = h[i]
            H[i, i] = (function(x + ei) - 2 * f0 + function(x - ei)) / h[i] ** 2
            for j in range(i):
                ej = np.zeros(k)
                ej[j] = h[j]
                H[i, j] = H[j, i] = (
                    function(x + ei + ej) - function(x + ei - ej) - function(x - ei + ej) + function(x - ei - ej)
                ) / (4 * h[i] * h[j])
        return H

    h = relative_step * scale
    return (4 * at(h / 2) - at(h)) / 3


# --------------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitResult:
    method: str
    engine: str
    optimizer: str
    converged: bool
    warnings: tuple[str, ...]
    loglik: float
    aic: float
    bic: float
    n_patients: int
    n_obs: int
    theta: np.ndarray
    fixed: pd.DataFrame  # term, estimate, std_error, df, statistic, p_value, ci_low, ci_high
    variance: pd.DataFrame  # component, estimate, std_error, statistic, p_value
    beta_cov: np.ndarray = field(repr=False)

    def variance_of(self, component: str) -> float:
        rows = self.variance[self.variance["component"] == component]
        return float(rows["estimate"].iloc[0]) if len(rows) else float("nan")


class GrowthEngine(Protocol):
    """What a fitting engine must do: estimate (beta, theta) by ML or REML for one model's data."""

    name: str

    def estimate(self, data: GrowthData, reml: bool, optimizers: Sequence[str]) -> Estimate: ...


@dataclass(frozen=True)
class Estimate:
    theta: np.ndarray  # natural parameters, see covariance_matrix
    optimizer: str
    converged: bool
    warnings: tuple[str, ...]


class StatsmodelsEngine:
    """statsmodels MixedLM, optimizers tried in turn until one converges."""

    name = "statsmodels"

    def estimate(self, data: GrowthData, reml: bool, optimizers: Sequence[str]) -> Estimate:
        from statsmodels.regression.mixed_linear_model import MixedLM

        frame = data.frame
        exog = frame[list(data.terms)]
        exog_re = frame[["Intercept", "time"]] if data.random_slope else frame[["Intercept"]]
        model = MixedLM(frame["y"], exog, groups=frame["patient_id"], exog_re=exog_re)
        messages: list[str] = []
        candidates: list[tuple[float, Estimate]] = []
        for optimizer in optimizers:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = model.fit(reml=reml, method=[optimizer])
                except (np.linalg.LinAlgError, ValueError) as error:
                    messages.append(f"{optimizer}: {error}")
                    continue
            found = [f"{optimizer}: {w.message}" for w in caught]
            cov_re = np.asarray(result.cov_re) * 1.0
            s2 = float(result.scale)
            theta = (
                np.array([cov_re[0, 0], cov_re[0, 1], cov_re[1, 1], s2])
                if data.random_slope
                else np.array([cov_re[0, 0], s2])
            )
            llf = float(result.llf)
            # statsmodels can report convergence with an infinite likelihood at a degenerate point.
            converged = (
                bool(result.converged)
                and np.isfinite(llf)
                and not any("converge" in str(w.message).lower() for w in caught)
            )
            if not np.isfinite(llf):
                found.append(f"{optimizer}: non-finite log-likelihood; estimates rejected")
            messages += found
            if np.isfinite(llf):
                candidates.append((llf if converged else -np.inf, Estimate(theta, optimizer, converged, ())))
            singular = np.linalg.eigvalsh(covariance_matrix(theta, 2 if data.random_slope else 1)[0]).min() <= 1e-10
            # A singular (boundary) solution may be a false stop: let the other optimizers have a go.
            if converged and not singular:
                break
        if not candidates:
            raise FitFailed("; ".join(messages) or "no optimizer could fit the model")
        best = max(candidates, key=lambda c: c[0])[1]
        return Estimate(best.theta, best.optimizer, best.converged, tuple(messages))


ENGINES: dict[str, GrowthEngine] = {"statsmodels": StatsmodelsEngine()}


class FitFailed(RuntimeError):
    """No optimizer produced estimates."""


def _polish(ss: SufficientStatistics, theta: np.ndarray, reml: bool) -> np.ndarray:
    """A few Newton steps on the exact likelihood, so estimates agree with lme4 to optimizer precision.

    statsmodels stops on a gradient tolerance that leaves variance components a few 1e-4 from the
    optimum; Newton steps from there converge quadratically. A step that lowers the likelihood or
    leaves the parameter space is refused.
    """
    current = theta.copy()
    value = profiled_loglik(ss, current, reml)
    for _ in range(20):
        objective = lambda t: profiled_loglik(ss, t, reml)
        H = numerical_hessian(objective, current, 1e-2)
        g = np.zeros_like(current)
        for i in range(len(current)):
            h = 1e-5 * max(abs(current[i]), 1e-3)
            e = np.zeros_like(current)
            e[i] = h
            g[i] = (objective(current + e) - objective(current - e)) / (2 * h)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        accepted = False
        for shrink in (1.0, 0.5, 0.25, 0.125):
            candidate = current + shrink * step
            candidate_value = profiled_loglik(ss, candidate, reml)
            if np.isfinite(candidate_value) and candidate_value >= value - 1e-12:
                current, value, accepted = candidate, candidate_value, True
                break
        if not accepted or np.max(np.abs(step) / np.maximum(np.abs(current), 1e-8)) < 1e-10:
            break
    return current


def _theta_from_cholesky(params: np.ndarray, q: int) -> np.ndarray:
    """(l11, l21, l22, log s2) -> natural parameters with G = L L' (never indefinite, may be singular)."""
    s2 = float(np.exp(params[-1]))
    if q == 2:
        l11, l21, l22 = params[:3]
        return np.array([l11 * l11, l11 * l21, l21 * l21 + l22 * l22, s2])
    return np.array([params[0] ** 2, s2])


def _cholesky_params(theta: np.ndarray, q: int) -> np.ndarray:
    G, s2 = covariance_matrix(theta, q)
    values, vectors = np.linalg.eigh(G)
    G = (vectors * np.maximum(values, 0.0)) @ vectors.T + 1e-12 * np.eye(q)
    L = np.linalg.cholesky(G)
    log_s2 = np.log(max(s2, 1e-12))
    return np.array([L[0, 0], L[1, 0], L[1, 1], log_s2]) if q == 2 else np.array([L[0, 0], log_s2])


def _refine(ss: SufficientStatistics, data: GrowthData, theta: np.ndarray, reml: bool) -> np.ndarray:
    """The best of quasi-Newton searches of the exact likelihood, from the engine's estimate and from a
    start that ignores it, in a Cholesky parametrisation (as lme4 searches).

    An engine can stop at a point that satisfies its own tolerance near the boundary of the parameter
    space (a slope variance near zero) although the likelihood is higher elsewhere; lme4 does not.
    """
    from scipy.optimize import minimize

    y = data.frame["y"].to_numpy(float)
    half = max(float(np.var(y)) / 2, 1e-8)
    time_sd = float(np.std(data.frame["time"].to_numpy(float))) or 1.0
    generic = (
        np.array([np.sqrt(half), 0.0, np.sqrt(half) / time_sd / 4, np.log(half)])
        if ss.q == 2
        else np.array([np.sqrt(half), np.log(half)])
    )
    best, best_value = theta, profiled_loglik(ss, theta, reml)

    def objective(params: np.ndarray) -> float:
        value = profiled_loglik(ss, _theta_from_cholesky(params, ss.q), reml)
        return -value if np.isfinite(value) else 1e300

    for start in (_cholesky_params(theta, ss.q), generic):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = minimize(objective, start, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000})
        candidate = _theta_from_cholesky(result.x, ss.q)
        value = profiled_loglik(ss, candidate, reml)
        if np.isfinite(value) and value > best_value:
            best, best_value = candidate, value
    return best


def fit_growth(
    data: GrowthData,
    method: str = "ML",
    engine: str = "statsmodels",
    optimizers: Sequence[str] = CatalogueSettings.optimizers,
) -> FitResult:
    """Fit one model and compute its inference. Raises FitFailed when no optimizer gives estimates."""
    reml = method.upper() == "REML"
    estimate = ENGINES[engine].estimate(data, reml, optimizers)
    ss = sufficient_statistics(data)
    notes = list(estimate.warnings)
    start = _polish(ss, estimate.theta, reml)
    theta = _polish(ss, _refine(ss, data, start, reml), reml)
    gain = profiled_loglik(ss, theta, reml) - profiled_loglik(ss, start, reml)
    if gain > 1e-6:
        notes.append(
            f"{estimate.optimizer} stopped short of the maximum; refined on the exact likelihood (+{gain:.3g})"
        )
    else:
        theta = start
    loglik = profiled_loglik(ss, theta, reml)
    beta, C = beta_covariance(ss, theta)
    G, _ = covariance_matrix(theta, ss.q)
    on_boundary = np.linalg.eigvalsh(G).min() <= 1e-10 * max(1.0, abs(G).max())
    if on_boundary:
        notes.append("the random-effects covariance is on the boundary (singular)")

    # Asymptotic covariance of the variance parameters: 2 H^-1 of the deviance (-2 loglik), beta profiled.
    deviance = lambda t: -2.0 * profiled_loglik(ss, t, reml, within_space=False)
    try:
        # A relative step of 1e-2 with Richardson extrapolation: smaller steps drown in rounding error
        # (the deviance is ~1e3 while slope variances are ~1e-4).
        H = numerical_hessian(deviance, theta, 1e-2)
        theta_cov = 2.0 * np.linalg.inv(H)
        if np.any(np.diag(theta_cov) <= 0):
            raise np.linalg.LinAlgError("the information matrix is not positive definite")
    except np.linalg.LinAlgError as error:
        notes.append(f"variance parameters' information not invertible: {error}")
        theta_cov = np.full((len(theta), len(theta)), np.nan)

    gradient = beta_covariance_gradient(ss, theta)  # (k, p, p)
    se = np.sqrt(np.diag(C))
    df = np.empty(len(beta))
    for j in range(len(beta)):
        g = gradient[:, j, j]
        denominator = float(g @ theta_cov @ g)
        df[j] = 2.0 * C[j, j] ** 2 / denominator if denominator > 0 else np.nan
    statistic = beta / se
    p_value = 2 * stats.t.sf(np.abs(statistic), df)
    half_width = stats.t.ppf(0.975, df) * se
    fixed = pd.DataFrame(
        {
            "term": list(data.terms),
            "estimate": beta,
            "std_error": se,
            "df": df,
            "statistic": statistic,
            "p_value": p_value,
            "ci_low": beta - half_width,
            "ci_high": beta + half_width,
        }
    )
    components = ["intercept", "covariance", "slope", "residual"] if ss.q == 2 else ["intercept", "residual"]
    theta_se = np.sqrt(np.diag(theta_cov))
    wald_z = theta / theta_se
    variance = pd.DataFrame(
        {
            "component": components,
            "estimate": theta,
            "std_error": theta_se,
            "statistic": wald_z,
            "p_value": 2 * stats.norm.sf(np.abs(wald_z)),
        }
    )
    n_parameters = len(beta) + len(theta)
    return FitResult(
        method=method.upper(),
        engine=engine,
        optimizer=estimate.optimizer,
        converged=estimate.converged,
        warnings=tuple(notes),
        loglik=loglik,
        aic=-2 * loglik + 2 * n_parameters,
        bic=-2 * loglik + np.log(data.n_obs) * n_parameters,
        n_patients=data.n_patients,
        n_obs=data.n_obs,
        theta=theta,
        fixed=fixed,
        variance=variance,
        beta_cov=C,
    )
