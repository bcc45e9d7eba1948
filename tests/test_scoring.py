"""Scoring, checked against values worked out by hand from the instrument key (Table I of the paper)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alliance.data.instruments import InstrumentConfigError, instruments_from_mapping, load_instruments
from alliance.data.scoring import eq5d_index, score_item_scale, score_wai

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENTS = load_instruments(ROOT / "config" / "instruments.yaml")
ITEMS = [f"item_{i:02d}" for i in range(1, 13)]


def wai_rows(version: str, *rows: list[float | None]) -> pd.DataFrame:
    frame = pd.DataFrame([r for r in rows], columns=ITEMS, dtype="float64").astype("Int64")
    frame.insert(0, "version", version)
    return frame


def test_wai_s_reverses_items_4_and_10():
    # Goals = items 4, 6, 10, 11; 4 and 10 reversed (8 - x): (8-1, 2, 8-3, 4) -> (7 + 2 + 5 + 4) / 4
    scores = score_wai(wai_rows("WAI-S", [1, 1, 1, 1, 1, 2, 1, 1, 1, 3, 4, 1]), INSTRUMENTS.wai)
    assert scores.loc[0, "goals"] == pytest.approx(18 / 4)
    assert scores.loc[0, "bonds"] == pytest.approx(1.0)  # 3, 5, 7, 9
    assert scores.loc[0, "tasks"] == pytest.approx(1.0)  # 1, 2, 8, 12


def test_wai_sr_has_its_own_key_and_no_reversed_items():
    # WAI-SR Tasks 1, 2, 10, 12; Goals 4, 6, 8, 11; Bonds 3, 5, 7, 9.
    row = [7, 6, 1, 2, 1, 3, 1, 4, 1, 5, 5, 4]
    scores = score_wai(wai_rows("WAI-SR", row), INSTRUMENTS.wai)
    assert scores.loc[0, "tasks"] == pytest.approx((7 + 6 + 5 + 4) / 4)
    assert scores.loc[0, "goals"] == pytest.approx((2 + 3 + 4 + 5) / 4)
    assert scores.loc[0, "bonds"] == pytest.approx(1.0)
    assert scores.loc[0, "total"] == pytest.approx(((22 / 4) + (14 / 4) + 1.0) / 3)


def test_three_of_four_rule():
    three = [None, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]  # Tasks (WAI-SR) misses item 1: mean of 3
    two = [None, None, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]  # Tasks misses items 1 and 2: not scored
    scores = score_wai(wai_rows("WAI-SR", three, two), INSTRUMENTS.wai)
    assert scores.loc[0, "tasks"] == pytest.approx(5.0)
    assert math.isnan(scores.loc[1, "tasks"])
    assert scores.loc[1, "goals"] == pytest.approx(5.0)
    assert math.isnan(scores.loc[1, "total"]), "the total needs all three subscales"


def test_missing_reversed_item_is_not_reversed_into_a_value():
    # WAI-S Goals with item 4 missing: (6, 8-2, 4) / 3 -- the gap must stay a gap.
    row = [1, 1, 1, None, 1, 6, 1, 1, 1, 2, 4, 1]
    scores = score_wai(wai_rows("WAI-S", row), INSTRUMENTS.wai)
    assert scores.loc[0, "goals"] == pytest.approx((6 + 6 + 4) / 3)


def test_a_new_wai_version_needs_only_configuration():
    import yaml

    spec = yaml.safe_load((ROOT / "config" / "instruments.yaml").read_text())
    spec["wai"]["versions"]["WAI-SR5"] = {
        "group_label": "SR5",
        "scale_min": 1,
        "scale_max": 5,
        "min_answered": 3,
        "subscales": {"tasks": [1, 2, 10, 12], "goals": [4, 6, 8, 11], "bonds": [3, 5, 7, 9]},
        "reversed": [3],
    }
    # Item 3 is reversed in this form, so it is no longer common to all forms: the common-items scoring
    # has to be configured without it (instruments.yaml refuses it otherwise; see test_robustness.py).
    spec["wai"]["common_items"]["subscales"]["bonds"] = [7]
    spec["wai"]["common_items"]["min_answered"] = 1
    instruments = instruments_from_mapping(spec)
    scores = score_wai(wai_rows("WAI-SR5", [5, 5, 1, 5, 5, 5, 5, 5, 5, 5, 5, 5]), instruments.wai)
    assert scores.loc[0, "bonds"] == pytest.approx(5.0)  # item 3: 1 -> 1 + 5 - 1 = 5


def test_inconsistent_instrument_config_is_refused():
    import yaml

    spec = yaml.safe_load((ROOT / "config" / "instruments.yaml").read_text())
    spec["wai"]["versions"]["WAI-S"]["subscales"]["bonds"] = [3, 5, 7, 4]  # item 4 also in goals
    with pytest.raises(InstrumentConfigError, match="one subscale"):
        instruments_from_mapping(spec)


def test_wsas_total_needs_all_five_items():
    frame = pd.DataFrame({f"item_{i}": [2, 2] for i in range(1, 6)}, dtype="Int64")
    frame.loc[1, "item_3"] = pd.NA
    total = score_item_scale(frame, INSTRUMENTS.wsas)
    assert total.iloc[0] == 10
    assert np.isnan(total.iloc[1])


def test_bsi_mean_needs_fifteen_of_eighteen():
    items = {f"item_{i:02d}": [1, 1] for i in range(1, 19)}
    frame = pd.DataFrame(items, dtype="Int64")
    frame.loc[0, ["item_01", "item_02", "item_03"]] = [4, pd.NA, pd.NA]  # 16 answered
    frame.loc[1, ["item_01", "item_02", "item_03", "item_04"]] = pd.NA  # 14 answered
    score = score_item_scale(frame, INSTRUMENTS.bsi)
    assert score.iloc[0] == pytest.approx((4 + 15 * 1) / 16)
    assert np.isnan(score.iloc[1])


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ((1, 1, 1, 1, 1), 1.0),
        ((3, 3, 3, 3, 3), -0.594),  # the worst state of the UK TTO value set
        ((2, 1, 2, 3, 2), 1 - 0.081 - 0.069 - 0.036 - 0.386 - 0.071 - 0.269),
        ((1, 2, 1, 1, 1), 1 - 0.081 - 0.104),
    ],
)
def test_eq5d_uk_tto_index(levels, expected):
    frame = pd.DataFrame([levels], columns=list(INSTRUMENTS.eq5d.dimensions), dtype="Int64")
    assert eq5d_index(frame, INSTRUMENTS.eq5d).iloc[0] == pytest.approx(expected, abs=1e-9)


def test_eq5d_index_missing_when_a_dimension_is_missing():
    frame = pd.DataFrame([(1, 1, pd.NA, 1, 1)], columns=list(INSTRUMENTS.eq5d.dimensions), dtype="Int64")
    assert np.isnan(eq5d_index(frame, INSTRUMENTS.eq5d).iloc[0])
