"""The synthetic cohort's parameters: config/synthetic.yaml is parsed once into typed, checked dataclasses.

Every problem with the file is one ConfigError that names the file and the dotted key; the shipped file
parses; the dataclasses are the only place defaults live.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from alliance.data import synthetic_parameters as sp
from alliance.data.contract import TERMINATIONS
from alliance.data.instruments import load_instruments
from alliance.data.synthetic import simulate_cohort
from alliance.data.synthetic_parameters import (
    SyntheticParameters,
    SyntheticParametersError,
    check_against_instruments,
    load_parameters,
    parameters_from_mapping,
)
from alliance.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config" / "synthetic.yaml"
FILE = "config/synthetic.yaml"  # how a mapping's errors name it in these tests
RAW = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")
OPTIONAL = {("wai_model", "version_from_switch_shift")}


def _raw() -> dict[str, Any]:
    return copy.deepcopy(RAW)


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    mapping = _raw()
    *parents, last = path
    section = mapping
    for key in parents:
        section = section[key]
    section[last] = value
    return mapping


def _without(path: tuple[Any, ...]) -> dict[str, Any]:
    mapping = _raw()
    *parents, last = path
    section = mapping
    for key in parents:
        section = section[key]
    del section[last]
    return mapping


def _error(mapping: Any) -> SyntheticParametersError:
    with pytest.raises(SyntheticParametersError) as caught:
        check_against_instruments(parameters_from_mapping(mapping, file=FILE), INSTRUMENTS, file=FILE)
    return caught.value


def _paths(mapping: dict[Any, Any], prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key of the file, sections and leaves, as a tuple of keys."""
    for key, value in mapping.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(key) for key in path)


# ------------------------------------------------------------------------------------------------
# The shipped file


def test_the_shipped_file_parses_and_matches_the_instruments() -> None:
    parameters = load_parameters(SHIPPED)
    assert isinstance(parameters, SyntheticParameters)
    check_against_instruments(parameters, INSTRUMENTS)
    assert parameters.seed == RAW["seed"] and parameters.n_patients == RAW["n_patients"]
    assert set(parameters.wai_model.subscales) == set(INSTRUMENTS.wai.subscales)
    assert sum(parameters.wai_schedule.n_wai_counts) == parameters.reference_n


def test_parsed_values_are_the_files() -> None:
    parameters = load_parameters(SHIPPED)
    raw_wai = RAW["wai_model"]
    assert parameters.wai_model.slope_sd == raw_wai["slope_sd"]
    assert parameters.wai_model.subscales["tasks"].d_poor == raw_wai["tasks"]["d_poor"]
    assert parameters.outcomes.gaf.final_good == sp.MeanSd(*RAW["outcomes"]["gaf"]["final_good"])
    assert parameters.calendar.wai_switch.isoformat() == RAW["calendar"]["wai_switch"]
    counts = RAW["wai_schedule"]["n_wai_counts"]
    assert parameters.wai_schedule.n_wai_counts == tuple(counts[k] for k in sorted(counts))
    shares = RAW["termination_pct"]["poor"]
    assert parameters.termination_pct.poor.in_contract_order() == tuple(shares.get(t, 0) for t in TERMINATIONS)


def test_the_parameters_are_frozen() -> None:
    parameters = load_parameters(SHIPPED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parameters.wai_model.slope_sd = 1.0  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------
# One clear error per problem, naming the file and the dotted key


def test_a_missing_key() -> None:
    error = _error(_without(("wai_model", "slope_sd")))
    assert isinstance(error, ConfigError) and isinstance(error, ValueError)
    assert (error.file, error.key) == (FILE, "wai_model.slope_sd")
    assert str(error) == "config/synthetic.yaml, key 'wai_model.slope_sd': required key is missing"


def test_an_unknown_key() -> None:
    error = _error(_with(("outcomes", "gaf", "noise_sdd"), 4.0))
    assert (error.file, error.key) == (FILE, "outcomes.gaf.noise_sdd")
    assert str(error).startswith("config/synthetic.yaml, key 'outcomes.gaf.noise_sdd': unknown key (expected: ")
    assert "noise_sd" in error.message


def test_an_unknown_top_level_key() -> None:
    assert _error(_with(("calender",), {})).key == "calender"


def test_a_wrong_type() -> None:
    error = _error(_with(("wai_model", "slope_sd"), "abc"))
    assert str(error) == "config/synthetic.yaml, key 'wai_model.slope_sd': must be a number > 0, got 'abc'"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("outcomes", "wsas", "below_pct"), 120, "must be a number in [0, 100], got 120"),
        (("outcomes", "gaf", "final_age_corr"), 1.5, "must be a number in [-1, 1], got 1.5"),
        (("outcomes", "gaf", "noise_sd"), -1.0, "must be a number >= 0, got -1.0"),
        (("wai_schedule", "jitter_days"), -7, "must be an integer >= 0, got -7"),
        (("version_groups", "both"), 50.5, "must be an integer >= 0, got 50.5"),
        (("n_patients",), 0, "must be an integer >= 1, got 0"),
        (("wai_schedule", "slot_decay"), 0, "must be a number in (0, 1], got 0"),
        (("eq5d", "vas_scale"), True, "must be a number > 0, got True"),
        (("baseline", "age", "good"), [26], "must be [mean, sd] with sd >= 0, got [26]"),
        (("outcomes", "gaf", "final_good"), [66, 0], "must be [mean, sd] with sd > 0, got [66, 0]"),
        (("calendar", "wai_switch"), "June 2012", "must be a date YYYY-MM-DD, got 'June 2012'"),
    ],
)
def test_an_out_of_range_or_malformed_value(path: tuple[Any, ...], value: Any, message: str) -> None:
    error = _error(_with(path, value))
    assert str(error) == f"config/synthetic.yaml, key '{_dotted(path)}': {message}"


def test_a_section_that_is_not_a_mapping() -> None:
    error = _error(_with(("outcomes", "wsas"), [25.9, 7.9]))
    assert error.key == "outcomes.wsas" and error.message.startswith("must be a mapping")


@pytest.mark.parametrize("path", [p for p in _paths(RAW) if p not in OPTIONAL], ids=_dotted)
def test_every_key_is_required_and_its_absence_is_reported_where_it_belongs(path: tuple[Any, ...]) -> None:
    """Removing any key of the file (but the optional ones) is an error at that key or its section: a
    required key is missing, a quota no longer adds up, a section no longer matches the instruments."""
    key = _error(_without(path)).key
    assert _dotted(path) == key or _dotted(path).startswith(f"{key}."), key


# ------------------------------------------------------------------------------------------------
# Checks across fields


@pytest.mark.parametrize(
    ("path", "value", "key", "fragment"),
    [
        (("outcome_groups", "good"), 85, "outcome_groups", "must sum to reference_n (155), they sum to 156"),
        (("version_groups", "both"), 49, "version_groups", "they sum to 154"),
        (("wai_schedule", "n_wai_counts", 9), 2, "wai_schedule.n_wai_counts", "they sum to 156"),
        (("outcomes", "self_report_final_missing"), 156, "outcomes.self_report_final_missing", "at most"),
        (("termination_pct", "good", "planned"), 90, "termination_pct.good", "must sum to 100, they sum to 99"),
        (("duration_months", "referred"), [[2.0, 24.0, 1.0]], "duration_months.referred", "final_window_days"),
        (("duration_months", "planned"), [[36.0, 34.5, 1.0]], "duration_months.planned[0]", "lo <= hi"),
        (("eq5d", "cuts", "mobility"), [2.4, 1.2], "eq5d.cuts.mobility", "cut1 <= cut2"),
        (("baseline", "age", "max"), 15, "baseline.age.max", "at least min (16)"),
        (("calendar", "wai_switch"), "2017-01-01", "calendar.wai_switch", "between first_admission and export_date"),
        (("wai_schedule", "extra_months"), [3, 6], "wai_schedule.extra_months", "repeats scheduled month 3"),
        (("outcomes", "wave_months"), [3, 9, 9], "outcomes.wave_months", "month 9 more than once"),
        (("wai_model", "subscale_corr", "residual"), 1.0, "wai_model.subscale_corr.residual", "positive definite"),
        (("wai_model", "intercept_slope_corr"), -1.0, "wai_model.intercept_slope_corr", "positive definite"),
        (("outcome_groups",), {"good": 0, "poor": 0, "unclassified": 155}, "outcome_groups", "cannot both be 0"),
    ],
)
def test_cross_field_checks(path: tuple[Any, ...], value: Any, key: str, fragment: str) -> None:
    error = _error(_with(path, value))
    assert error.key == key and fragment in error.message, str(error)


def test_n_wai_counts_must_list_every_number_of_administrations() -> None:
    error = _error(_without(("wai_schedule", "n_wai_counts", 4)))
    assert error.key == "wai_schedule.n_wai_counts" and "lacks a count for 4" in error.message
    quoted = _raw()
    quoted["wai_schedule"]["n_wai_counts"] = {str(k): v for k, v in quoted["wai_schedule"]["n_wai_counts"].items()}
    assert (
        parameters_from_mapping(quoted).wai_schedule.n_wai_counts == load_parameters(SHIPPED).wai_schedule.n_wai_counts
    )


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("calendar", "version_from_switch"), "WAI-X", "calendar.version_from_switch"),
        (("baseline", "sipp_sf", "self_kontrol"), {"good": [23, 12], "poor": [25, 13]}, "baseline.sipp_sf"),
        (("eq5d", "cuts", "sleep"), [0.0, 1.0], "eq5d.cuts"),
        (("wai_model", "alliance"), dict(RAW["wai_model"]["goals"]), "wai_model"),
    ],
)
def test_sections_keyed_by_the_instruments_must_match_them(path: tuple[Any, ...], value: Any, key: str) -> None:
    parameters = parameters_from_mapping(_with(path, value), file=FILE)
    with pytest.raises(SyntheticParametersError) as caught:
        simulate_cohort(1, 5, parameters, INSTRUMENTS)
    assert caught.value.key == key


# ------------------------------------------------------------------------------------------------
# Files


def test_load_parameters_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.yaml"
    path.write_text(SHIPPED.read_text(encoding="utf-8").replace("slope_sd: 0.020", "slope_sd: abc"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_parameters(path)
    assert str(caught.value) == f"{path}, key 'wai_model.slope_sd': must be a number > 0, got 'abc'"


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    """Plain YAML keeps the last of two equal keys, so an edit to the first would silently do nothing."""
    path = tmp_path / "synthetic.yaml"
    text = SHIPPED.read_text(encoding="utf-8")
    path.write_text(text.replace("  slope_sd: 0.020", "  slope_sd: 0.020\n  slope_sd: 0.030"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_parameters(path)
    assert caught.value.file == str(path) and "'slope_sd' appears twice" in caught.value.message


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_parameters(tmp_path / "absent.yaml")
    assert caught.value.file == str(tmp_path / "absent.yaml")


# ------------------------------------------------------------------------------------------------
# Defaults live in the dataclasses only


def test_only_the_documented_fields_have_defaults() -> None:
    with_defaults = {
        f"{cls.__name__}.{field.name}"
        for cls in vars(sp).values()
        if isinstance(cls, type)
        and dataclasses.is_dataclass(cls)
        and cls.__module__ == sp.__name__
        and not cls.__name__.startswith("_")  # the parser's own helpers, not parameters
        for field in dataclasses.fields(cls)
        if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    }
    assert with_defaults == {"WaiModel.version_from_switch_shift"} | {f"TerminationShares.{t}" for t in TERMINATIONS}


def test_omitted_optional_keys_take_the_dataclass_defaults() -> None:
    defaults = {field.name: field.default for field in dataclasses.fields(sp.WaiModel)}
    parsed = parameters_from_mapping(_without(("wai_model", "version_from_switch_shift")))
    assert parsed.wai_model.version_from_switch_shift == defaults["version_from_switch_shift"]
    good = parameters_from_mapping(_raw()).termination_pct.good
    absent = [t for t in TERMINATIONS if t not in RAW["termination_pct"]["good"]]
    assert absent and all(getattr(good, t) == getattr(sp.TerminationShares(), t) for t in absent)


def test_the_termination_sections_follow_the_contract() -> None:
    for cls in (sp.TerminationShares, sp.DurationMonths):
        assert tuple(field.name for field in dataclasses.fields(cls)) == TERMINATIONS


# ------------------------------------------------------------------------------------------------
# Callers
