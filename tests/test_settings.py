"""alliance.settings: the workflow's configuration parsed once into types, with one error naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from alliance.errors import AllianceError, ConfigError
from alliance.settings import MIN_CELL_REAL, MIN_CELL_SYNTHETIC, load_settings

ROOT = Path(__file__).resolve().parents[1]
MAIN = "config/config.yaml"


def shipped() -> dict:
    return yaml.safe_load((ROOT / MAIN).read_text(encoding="utf-8"))


def with_cohort(tmp_path: Path, **cohort: object) -> dict:
    config = shipped()
    config["cohorts"] = {"clinic": {"exports": str(tmp_path), **cohort}}
    return config


def test_the_shipped_configuration_parses_into_types():
    settings = load_settings(shipped(), [MAIN])
    assert settings.sources == (MAIN,)
    assert settings.files.models == "config/models.yaml"
    assert settings.files.verify == "config/verify.yaml"
    assert settings.analysis.gaf_cutoff == 60.0
    assert settings.analysis.wai_waves == (3.0, 9.0, 15.0, 21.0, 27.0, 33.0)
    synthetic = settings.cohort("synthetic")
    assert synthetic.simulated and synthetic.simulate is not None
    assert (synthetic.simulate.seed, synthetic.simulate.n_patients) == (20201012, 155)
    assert synthetic.disclosure_min_cell == 0
    assert settings.manuscript.pdf is False  # the PDF is off unless asked for


def test_defaults_live_in_the_settings_not_in_the_schema(tmp_path):
    cohort = load_settings(with_cohort(tmp_path), [MAIN]).cohort("clinic")
    assert cohort.reading_options() == {
        "name": "clinic",
        "delimiter": ",",
        "decimal": ".",
        "on_invalid": "stop",
        "encoding": "utf-8",
    }
    assert cohort.disclosure_min_cell == MIN_CELL_REAL
    schema = (ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text(encoding="utf-8")
    assert "default:" not in schema
    config = shipped()
    del config["cohorts"]["synthetic"]["disclosure"]
    assert load_settings(config, [MAIN]).cohort("synthetic").disclosure_min_cell == MIN_CELL_SYNTHETIC


def test_a_cohort_s_own_options_are_kept(tmp_path):
    cohort = load_settings(
        with_cohort(tmp_path, delimiter=";", decimal=",", encoding="cp1252", disclosure={"min_cell": 3}), [MAIN]
    ).cohort("clinic")
    assert (cohort.delimiter, cohort.decimal, cohort.encoding, cohort.disclosure_min_cell) == (";", ",", "cp1252", 3)


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"on_invalid": "ignore"}, "cohorts.clinic.on_invalid", "'ignore' is not one of"),
        ({"colour": "red"}, "cohorts.clinic", "'colour' was unexpected"),
        ({"delimiter": ",", "decimal": ","}, "cohorts.clinic.decimal", "one character for both"),
        ({"encoding": "klingon-8"}, "cohorts.clinic.encoding", "unknown encoding 'klingon-8'"),
        ({"exports": "no/such/folder"}, "cohorts.clinic.exports", "'no/such/folder' does not exist"),
        ({"simulate": {"seed": 1, "n_patients": 3}}, "cohorts.clinic", "either `exports: DIRECTORY` or `simulate"),
        ({"disclosure": {"min_cell": -1}}, "cohorts.clinic.disclosure.min_cell", "less than the minimum"),
    ],
)
def test_each_problem_is_one_error_naming_the_files_and_the_key(tmp_path, change, key, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(with_cohort(tmp_path, **change), ["mine.yaml", MAIN])
    error = caught.value
    assert isinstance(error, AllianceError) and error.key == key and message in error.message
    assert str(error).startswith(f"mine.yaml + {MAIN}, key '{key}': ")


def test_top_level_problems_name_their_key():
    config = shipped()
    config["analysis"]["gaf_cutoff"] = "sixty"
    with pytest.raises(ConfigError, match=r"key 'analysis.gaf_cutoff': 'sixty' is not of type 'number'"):
        load_settings(config, [MAIN])
    config = shipped()
    config["manuscript"] = {"pdf": "yes"}
    with pytest.raises(ConfigError, match=r"key 'manuscript.pdf'"):
        load_settings(config, [MAIN])
    config = shipped()
    del config["models"]
    with pytest.raises(ConfigError, match=r"'models' is a required property"):
        load_settings(config, [MAIN])


def test_an_instrument_definition_problem_names_the_file_and_the_key(tmp_path):
    from alliance.data.instruments import InstrumentConfigError, load_instruments

    spec = yaml.safe_load((ROOT / "config" / "instruments.yaml").read_text(encoding="utf-8"))
    version = next(iter(spec["wai"]["versions"]))
    del spec["wai"]["versions"][version]["scale_min"]
    path = tmp_path / "instruments.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(InstrumentConfigError) as caught:
        load_instruments(path)
    assert isinstance(caught.value, ConfigError)
    assert str(caught.value) == f"{path}, key 'wai.versions.{version}.scale_min': missing key"
    path.write_text("wai: [", encoding="utf-8")
    with pytest.raises(InstrumentConfigError, match="cannot read the instrument definitions"):
        load_instruments(path)


def test_the_config_files_read_are_named_for_provenance(tmp_path):
    synthetic = load_settings(shipped(), [MAIN])
    assert synthetic.simulates
    assert synthetic.config_files("config/published/folmo2020.yaml") == sorted(
        [MAIN, *synthetic.files.all(), "config/published/folmo2020.yaml"]
    )
    clinic = load_settings(with_cohort(tmp_path), ["mine.yaml", MAIN])
    assert not clinic.simulates
    assert "mine.yaml" in clinic.config_files()
    assert clinic.files.synthetic_parameters not in clinic.config_files()  # no cohort is simulated


def test_the_cohorts_built_are_those_the_users_configfile_names(tmp_path):
    shipped = yaml.safe_load(Path("config/config.yaml").read_text())
    exports = tmp_path / "exports"
    exports.mkdir()
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump({"cohorts": {"clinic": {"exports": str(exports)}}}))
    merged = {**shipped, "cohorts": {**shipped["cohorts"], "clinic": {"exports": str(exports)}}}
    settings = load_settings(merged, [str(mine), "config/config.yaml"], [str(mine)])
    assert list(settings.cohorts) == ["clinic"] and not settings.simulates
    # Named there too, the synthetic cohort is built as well; a file naming no cohorts keeps the default.
    mine.write_text(yaml.safe_dump({"cohorts": {"clinic": {"exports": str(exports)}, "synthetic": {}}}))
    assert list(load_settings(merged, [str(mine)], [str(mine)]).cohorts) == ["clinic", "synthetic"]
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"analysis": {"gaf_cutoff": 55}}))
    assert list(load_settings(shipped, [str(other)], [str(other)]).cohorts) == ["synthetic"]
    assert list(load_settings(merged, ["config/config.yaml"]).cohorts) == ["synthetic", "clinic"]


def test_a_cohort_can_have_its_own_bootstrap(tmp_path):
    config = yaml.safe_load(Path("config/config.yaml").read_text())
    config["cohorts"]["synthetic"]["bootstrap"] = {"replicates": 200, "shard_size": 50}
    settings = load_settings(config)
    own = settings.bootstrap_of("synthetic")
    assert (own.replicates, own.shard_size, own.shards) == (200, 50, 4)
    assert own.seed == settings.bootstrap.seed and settings.bootstrap.replicates == 2000
    config["cohorts"]["synthetic"]["bootstrap"] = {"replicate": 200}
    with pytest.raises(ConfigError) as error:
        load_settings(config, ["mine.yaml"])
    assert error.value.key == "cohorts.synthetic.bootstrap" and "replicate" in str(error.value)


def test_the_bootstrap_is_switched_off_with_zero_replicates_and_one_is_an_error():
    config = yaml.safe_load(Path("config/config.yaml").read_text())
    config["cohorts"]["synthetic"]["bootstrap"] = {"replicates": 0}
    assert not load_settings(config).bootstrap_of("synthetic").enabled
    config["cohorts"]["synthetic"]["bootstrap"] = {"replicates": 1}
    with pytest.raises(ConfigError, match="0 \\(no bootstrap\\) or at least 2") as error:
        load_settings(config, ["mine.yaml"])
    assert error.value.key == "cohorts.synthetic.bootstrap"
