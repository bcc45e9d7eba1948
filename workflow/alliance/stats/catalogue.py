"""The model catalogue (config/models.yaml), parsed once into types: which linear mixed growth models
are fitted, with which predictors, moderators, subsets and controls, and the robustness variants.

Every model is Y_ij = X_ij beta + b0_i + b1_i time_ij + e_ij with an unstructured 2x2 covariance G of
(b0, b1) and residual variance s2 (the paper's equations). :mod:`alliance.stats.model_data` turns one
entry and the clean tables into the data the engine (alliance.stats.engine) fits. This module imports
no numpy or pandas: the Snakefile parses the catalogue with it at every load.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from alliance.data.instruments import COMMON_ITEMS_SUFFIX
from alliance.errors import ConfigError

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


# The engines a catalogue may name (settings.engine), and statsmodels' optimizers for the reference engine.
ENGINE_NAMES = ("exact", "statsmodels")
DEFAULT_ENGINE = "exact"
DEFAULT_OPTIMIZERS = ("lbfgs", "bfgs", "powell", "nm")


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


def control_from_entry(entry: Any, key: str = "") -> ControlSpec:
    """``column`` or ``{column, centre, with_time, reference}`` of the catalogue."""
    if isinstance(entry, str):
        return ControlSpec(entry)
    if isinstance(entry, Mapping) and "column" in entry:
        unknown = set(entry) - {"column", "centre", "with_time", "reference"}
        if unknown:
            raise CatalogueError(f"control {entry}: unknown keys {sorted(unknown)}", key=key)
        reference = entry.get("reference")
        return ControlSpec(
            column=str(entry["column"]),
            centre=bool(entry.get("centre", False)),
            with_time=bool(entry.get("with_time", True)),
            reference=None if reference is None else str(reference),
        )
    raise CatalogueError(f"a control is a column name or a mapping with 'column', not {entry!r}", key=key)


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
    def instruments(self) -> frozenset[str]:
        """The clinical instruments the model rests on: its outcome, and those its predictor, moderator,
        subset or controls derive from (``wsas_poor_outcome`` from the WSAS). Without one of them in a
        cohort's exports, the model is not analysed."""
        columns = [
            self.predictor or "",
            *(self.moderator or {}),
            *(self.subset or {}),
            *(c.name for c in self.controls),
        ]
        derived = {name for name in CLINICAL_OUTCOMES for column in columns if column.startswith(f"{name}_")}
        return frozenset({self.outcome} & set(CLINICAL_OUTCOMES)) | derived

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
    engine: str = DEFAULT_ENGINE
    method: str = "ML"
    optimizers: tuple[str, ...] = DEFAULT_OPTIMIZERS  # statsmodels' optimizers, for engine: statsmodels
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


def holds(finding: Finding, estimate: float, p_value: float, alpha: float) -> bool:
    """The finding holds: significant at alpha and in its stated direction."""
    if math.isnan(estimate) or math.isnan(p_value):
        return False
    direction_ok = estimate < 0 if finding.direction == "negative" else estimate > 0
    return direction_ok and p_value < alpha


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

    def models_by_outcome(self) -> dict[str, list[str]]:
        """Model ids by outcome, in catalogue order: the models that one fitting job fits."""
        groups: dict[str, list[str]] = {}
        for spec in self.models:
            groups.setdefault(spec.outcome, []).append(spec.id)
        return groups

    def model(self, model_id: str) -> ModelSpec:
        for spec in self.models:
            if spec.id == model_id:
                return spec
        raise KeyError(model_id)


class CatalogueError(ConfigError):
    """The model catalogue is inconsistent."""


def describe_condition(condition: Mapping[str, Any] | None) -> str:
    if not condition:
        return ""
    return ",".join(f"{column}={value}" for column, value in condition.items())


MODEL_KEYS = frozenset(
    {"id", "outcome", "kind", "predictor", "moderator", "subset", "controls", "reference", "table", "label", "section"}
)
SETTINGS_KEYS = frozenset({"engine", "method", "optimizers", "alpha"})
TOP_KEYS = frozenset({"settings", "models", "robustness"})


def _check_keys(entry: Any, allowed: frozenset[str], key: str, required: tuple[str, ...] = ()) -> None:
    """A typo in a key must not be ignored silently: unknown keys and missing required ones are errors."""
    if not isinstance(entry, Mapping):
        raise CatalogueError(f"must be a mapping of keys to values, not {entry!r}", key=key)
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise CatalogueError(
            f"unknown key(s) {', '.join(map(str, unknown))} (known: {', '.join(sorted(allowed))})", key=key
        )
    missing = [name for name in required if name not in entry]
    if missing:
        raise CatalogueError(f"missing key(s) {', '.join(missing)}", key=key)


def _settings_from_mapping(raw: Mapping[str, Any]) -> CatalogueSettings:
    _check_keys(raw, SETTINGS_KEYS, "settings")
    settings = CatalogueSettings(
        engine=str(raw.get("engine", DEFAULT_ENGINE)),
        method=str(raw.get("method", "ML")).upper(),
        optimizers=tuple(raw.get("optimizers", CatalogueSettings.optimizers)),
        alpha=float(raw.get("alpha", 0.05)),
    )
    if settings.method not in ("ML", "REML"):
        raise CatalogueError(f"settings.method must be ML or REML, not {settings.method}", key="settings.method")
    if settings.engine not in ENGINE_NAMES:
        raise CatalogueError(
            f"settings.engine must be one of {', '.join(ENGINE_NAMES)}, not {settings.engine}", key="settings.engine"
        )
    return settings


def _model_from_entry(entry: Mapping[str, Any], key: str) -> ModelSpec:
    _check_keys(entry, MODEL_KEYS, key, required=("id", "outcome"))
    model = ModelSpec(
        id=str(entry["id"]),
        outcome=str(entry["outcome"]),
        kind=str(entry.get("kind", "growth")),
        predictor=entry.get("predictor"),
        moderator=entry.get("moderator"),
        subset=entry.get("subset"),
        controls=tuple(control_from_entry(c, f"{key}.controls[{j}]") for j, c in enumerate(entry.get("controls", ()))),
        reference=entry.get("reference"),
        table=entry.get("table"),
        label=entry.get("label"),
        section=entry.get("section"),
    )
    problem = _model_problem(model)
    if problem:
        raise CatalogueError(f"model {model.id}: {problem}", key=key)
    return model


def _model_problem(model: ModelSpec) -> str:
    if "__" in model.id:
        return "'__' is reserved for the robustness analysis' model ids"
    if model.outcome not in ALL_OUTCOMES:
        return f"unknown outcome '{model.outcome}'"
    if model.kind not in ("growth", "means"):
        return "kind must be growth or means"
    if model.kind == "means" and (model.predictor or model.controls):
        return "the unconditional means model takes no predictors"
    if model.moderator and not model.predictor:
        return "a moderator needs a predictor"
    return ""


def catalogue_from_mapping(spec: Mapping[str, Any]) -> Catalogue:
    """The catalogue of a parsed models.yaml; every problem is a CatalogueError naming its key."""
    _check_keys(spec, TOP_KEYS, "", required=("models",))
    settings = _settings_from_mapping(spec.get("settings") or {})
    models = [_model_from_entry(entry, f"models[{index}]") for index, entry in enumerate(spec["models"])]
    ids = [m.id for m in models]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise CatalogueError(f"duplicate model ids: {', '.join(duplicated)}", key="models")
    for index, model in enumerate(models):
        if model.reference is not None and model.reference not in ids:
            raise CatalogueError(
                f"model {model.id}: reference '{model.reference}' is not in the catalogue",
                key=f"models[{index}].reference",
            )
    robustness = robustness_from_mapping(spec.get("robustness") or {}, {m.id: m for m in models})
    generated, variant_models = robustness_models(robustness, models)
    return Catalogue(settings, tuple(models) + tuple(generated), robustness, variant_models)


ROBUSTNESS_KEYS = frozenset({"findings", "variants", "pattern_mixture_variant", "version_variants"})
FINDING_KEYS = frozenset({"id", "label", "model", "effect", "direction", "text"})
VARIANT_KEYS = frozenset({"id", "label", "controls", "common_items", "replace_predictor"})


def robustness_from_mapping(spec: Mapping[str, Any], models: Mapping[str, ModelSpec]) -> Robustness:
    _check_keys(spec, ROBUSTNESS_KEYS, "robustness")
    findings = [
        _finding(entry, f"robustness.findings[{i}]", models) for i, entry in enumerate(spec.get("findings", ()))
    ]
    variants = [_variant(entry, f"robustness.variants[{i}]") for i, entry in enumerate(spec.get("variants", ()))]
    for kind in ("findings", "variants"):
        names = [item.id for item in (findings if kind == "findings" else variants)]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise CatalogueError(f"duplicate robustness {kind}: {', '.join(duplicated)}", key=f"robustness.{kind}")
    variant_ids = {v.id for v in variants}
    pattern = spec.get("pattern_mixture_variant")
    version = tuple(str(v) for v in spec.get("version_variants", ()))
    for name in ([pattern] if pattern else []) + list(version):
        if name not in variant_ids:
            raise CatalogueError(f"robustness: '{name}' is not one of the variants", key="robustness")
    if pattern and not any(c.centre for v in variants if v.id == pattern for c in v.controls):
        raise CatalogueError(
            f"robustness: pattern_mixture_variant '{pattern}' has no centred control",
            key="robustness.pattern_mixture_variant",
        )
    return Robustness(tuple(findings), tuple(variants), pattern, version)


def _finding(entry: Mapping[str, Any], key: str, models: Mapping[str, ModelSpec]) -> Finding:
    _check_keys(entry, FINDING_KEYS, key, required=("id", "model"))
    finding = Finding(
        id=str(entry["id"]),
        label=str(entry.get("label", entry["id"])),
        model=str(entry["model"]),
        effect=str(entry.get("effect", "slope")),
        direction=str(entry.get("direction", "negative")),
        text=str(entry.get("text", entry.get("label", entry["id"]))),
    )
    if finding.model not in models:
        raise CatalogueError(
            f"finding {finding.id}: model '{finding.model}' is not in the catalogue", key=f"{key}.model"
        )
    if models[finding.model].predictor is None:
        raise CatalogueError(f"finding {finding.id}: model '{finding.model}' has no predictor", key=f"{key}.model")
    if finding.effect not in ("intercept", "slope") or finding.direction not in ("negative", "positive"):
        raise CatalogueError(f"finding {finding.id}: effect is intercept|slope, direction negative|positive", key=key)
    return finding


def _variant(entry: Mapping[str, Any], key: str) -> RobustnessVariant:
    _check_keys(entry, VARIANT_KEYS, key, required=("id",))
    variant = RobustnessVariant(
        id=str(entry["id"]),
        label=str(entry.get("label", entry["id"])),
        controls=tuple(control_from_entry(c, f"{key}.controls[{j}]") for j, c in enumerate(entry.get("controls", ()))),
        common_items=bool(entry.get("common_items", False)),
        replace_predictor={str(k): str(v) for k, v in (entry.get("replace_predictor") or {}).items()},
    )
    if "__" in variant.id:
        raise CatalogueError(f"robustness variant {variant.id}: '__' is reserved", key=f"{key}.id")
    return variant


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
    """config/models.yaml, parsed and checked; every problem is one CatalogueError naming the file and key."""
    try:
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        raise CatalogueError(f"cannot read the model catalogue: {error}", file=str(path)) from None
    try:
        return catalogue_from_mapping(spec)
    except CatalogueError as error:
        raise error.located(str(path)) from None
