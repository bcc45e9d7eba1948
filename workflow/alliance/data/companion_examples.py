"""The example exports of the companion studies (config/examples/<study>/), generated from
``config/examples/examples.yaml`` (seeded: the same parameters always give the same bytes) and committed, so
that the default build reads them exactly as it would a research group's exports.

Regenerate them with ``python -m alliance.data.companion_examples config/examples/examples.yaml
config/examples``; tests/test_companion_studies.py does so into a scratch folder and compares the bytes.

* A fidelity example (docs/fidelity-format.md): each format's sessions get true adherence and quality scores
  with exactly the target mean and SD (correlated); each rating adds the rater's leniency and an error and is
  rounded to the 1-7 scale. Of ``tries`` draws, the one closest to the targets (session means and SDs, and the
  scores of the extreme sessions when ``extremes`` is given) is kept.
* A qualitative example (docs/qualitative-format.md): the participants of each interview unit with the paper's
  occupations and modalities, their years drawn to the unit's mean and SD (or as given), and excerpts coded to
  each subtheme by as many participants as ``prevalence`` says (else drawn).
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from alliance.data.codebook import EXCERPTS, PARTICIPANTS, THEMES
from alliance.data.fidelity import FILE as FIDELITY_FILE
from alliance.data.fidelity import SCALE_MAX, SCALE_MIN

ITEM_SD = 0.8  # an item's rating about the session's global rating
NUMBER_TRIES = 200  # draws of a unit's years (or the ages), the closest to the target mean and SD kept
Draw = dict[str, np.ndarray]  # one format's ratings: session, rater, day, adherence, quality (arrays)


def _standardised(rng: np.random.Generator, n: int) -> np.ndarray:
    """n draws with mean exactly 0 and SD exactly 1 (zeros for fewer than two)."""
    if n < 2:
        return np.zeros(n)
    z = rng.standard_normal(n)
    return (z - z.mean()) / z.std(ddof=1)


def _csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def _number(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:g}"


# --------------------------------------------------------------------------------------------------
# Fidelity ratings
# --------------------------------------------------------------------------------------------------


def _rating(value: np.ndarray | float) -> np.ndarray:
    return np.clip(np.rint(value), SCALE_MIN, SCALE_MAX).astype(int)


def _therapists(spec: Mapping[str, Any], first: int, sessions: int, rng: np.random.Generator) -> list[str]:
    """The therapist (or co-therapist pair) of each session; every therapist leads at least one session."""
    ids = [f"T{first + i:02d}" for i in range(int(spec["therapists"]))]
    if spec.get("co_therapists"):
        ids = [f"{a}+{b}" for a, b in zip(ids[::2], ids[1::2], strict=False)]
    order = [ids[i % len(ids)] for i in range(sessions)]
    return [order[i] for i in rng.permutation(sessions)]


def _raters_of(index: int, spec: Mapping[str, Any], params: Mapping[str, Any], rng: np.random.Generator) -> list[int]:
    """Which raters rate session ``index`` of a format: the reliability block's, two random ones, or one."""
    block = params.get("reliability")
    if block and index < int(block["sessions"]):
        return list(range(int(block["raters"])))
    count = 2 if index < int(spec.get("rated_twice", 0)) else 1
    return sorted(int(r) for r in rng.choice(int(params["raters"]), size=count, replace=False))


def _format_draw(
    kind: str, spec: Mapping[str, Any], params: Mapping[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """One format's ratings as numbers: session and rater index, the session's day, adherence and quality."""
    n = int(spec["sessions"])
    za = _standardised(rng, n)
    r = float(params["correlation"])
    zq = r * za + math.sqrt(1 - r * r) * _standardised(rng, n)
    zq = (zq - zq.mean()) / zq.std(ddof=1)
    first, last = (date.fromisoformat(d) for d in params["dates"])
    days = rng.integers(0, (last - first).days + 1, n)
    pairs = [(i, rater) for i in range(n) for rater in _raters_of(i, spec, params, rng)]
    session = np.array([i for i, _ in pairs])
    rater = np.array([j for _, j in pairs])
    error = np.broadcast_to(np.asarray(params["error_sd"], dtype=float), (2,))  # one SD, or adherence and quality
    noise = params["leniency"][rater][:, None] + rng.normal(0, 1, (len(pairs), 2)) * error
    return {
        "session": session,
        "rater": rater,
        "day": days[session],
        "adherence": _rating(spec["adherence"][0] + spec["adherence"][1] * za[session] + noise[:, 0]),
        "quality": _rating(spec["quality"][0] + spec["quality"][1] * zq[session] + noise[:, 1]),
    }


def _distance(draws: Mapping[str, Draw], params: Mapping[str, Any]) -> float:
    """How far a draw's session means and SDs (and extreme sessions) lie from the targets."""
    distance, totals = 0.0, []
    for kind, spec in params["formats"].items():
        frame = draws[kind]
        counts = np.bincount(frame["session"])
        means = {s: np.bincount(frame["session"], weights=frame[s]) / counts for s in ("adherence", "quality")}
        for score in ("adherence", "quality"):
            distance += abs(means[score].mean() - spec[score][0]) + abs(means[score].std(ddof=1) - spec[score][1])
        totals.append(np.column_stack([means["adherence"], means["quality"]]))
    extremes = params.get("extremes")
    if extremes:
        scores = np.vstack(totals)
        ordered = scores[np.argsort(scores.sum(axis=1), kind="stable")]
        k = int(extremes["k"])
        distance += float(np.abs(ordered[-k:] - np.array(extremes["high"])).sum())
        distance += float(np.abs(ordered[:k] - np.array(extremes["low"])).sum())
    return float(distance)


def _draw(params: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Draw]:
    leniency = rng.normal(0, float(params["rater_sd"]), int(params["raters"]))
    params = {**params, "leniency": leniency}
    return {kind: _format_draw(kind, spec, params, rng) for kind, spec in params["formats"].items()}


def _rows(draws: Mapping[str, Draw], params: Mapping[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """The chosen draw as the rows of fidelity.csv: ids, dates and (from ``rng``) the item ratings."""
    first = date.fromisoformat(params["dates"][0])
    start = {"session": 1, "patient": 1, "therapist": 1}
    frames = []
    for kind, spec in params["formats"].items():
        frame = draws[kind]
        therapists = _therapists(spec, start["therapist"], int(spec["sessions"]), rng)
        rows = pd.DataFrame({"session_id": [f"S{start['session'] + i:03d}" for i in frame["session"]]})
        patients = [f"P{start['patient'] + i:03d}" if kind == "individual" else "" for i in frame["session"]]
        rows["patient_id"] = patients
        rows["therapist_id"] = [therapists[i] for i in frame["session"]]
        rows["rater_id"] = [f"R{j + 1}" for j in frame["rater"]]
        rows["format"] = kind
        rows["date"] = [(first + timedelta(days=int(d))).isoformat() for d in frame["day"]]
        rows["adherence"], rows["quality"] = frame["adherence"], frame["quality"]
        frames.append(rows)
        start["session"] += int(spec["sessions"])
        start["patient"] += int(spec["sessions"]) if kind == "individual" else 0
        start["therapist"] += int(spec["therapists"])
    ratings = pd.concat(frames, ignore_index=True)
    for item in range(1, int(params.get("items", 0)) + 1):
        for score in ("adherence", "quality"):
            ratings[f"{score}_{item:02d}"] = _rating(ratings[score] + rng.normal(0, ITEM_SD, len(ratings)))
    return ratings


def fidelity_example(params: Mapping[str, Any]) -> dict[str, str]:
    """``fidelity.csv`` of a fidelity example: the draw closest to the targets of ``tries`` seeded draws."""
    best: tuple[float, int, dict[str, Draw]] | None = None
    for attempt in range(int(params.get("tries", 1))):
        draws = _draw(params, np.random.default_rng([int(params["seed"]), attempt]))
        distance = _distance(draws, params)
        if best is None or distance < best[0] - 1e-12:
            best = (distance, attempt, draws)
    assert best is not None
    ratings = _rows(best[2], params, np.random.default_rng([int(params["seed"]), best[1], 1]))
    ratings = ratings.sort_values(["session_id", "rater_id"], kind="stable")
    return {f"{FIDELITY_FILE}.csv": _csv(ratings)}


# --------------------------------------------------------------------------------------------------
# Qualitative codebooks
# --------------------------------------------------------------------------------------------------


def _numbers(spec: Any, n: int, bounds: Sequence[float] | None, rng: np.random.Generator, step: float) -> list[float]:
    """A unit's values of one number: as given, drawn to a mean and SD, or spread over [min, max]."""
    if spec is None:
        return [math.nan] * n
    if isinstance(spec, list):
        return [float(v) for v in spec]
    low, high = bounds if bounds else (-math.inf, math.inf)
    if "mean" not in spec:
        inner = rng.uniform(float(spec["min"]), float(spec["max"]), max(0, n - 2))
        values = rng.permutation(np.concatenate([[spec["min"], spec["max"]], inner])[:n])
        return [float(np.clip(np.round(v / step) * step, low, high)) for v in values]
    best: tuple[float, np.ndarray] | None = None
    for _ in range(NUMBER_TRIES):  # the draw whose rounded, bounded values come closest to the mean and SD
        raw = float(spec["mean"]) + float(spec["sd"]) * _standardised(rng, n)
        drawn = np.clip(np.round(raw / step) * step, low, high)
        spread = float(drawn.std(ddof=1)) if n > 1 else float(spec["sd"])
        distance = abs(float(drawn.mean()) - float(spec["mean"])) + abs(spread - float(spec["sd"]))
        if best is None or distance < best[0] - 1e-12:
            best = (distance, drawn)
    assert best is not None
    return [float(v) for v in best[1]]


def _participants(params: Mapping[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    ranges = params.get("ranges", {})
    rows = []
    for unit in params["units"]:
        n = len(unit["occupations"])
        years = {
            column: _numbers(unit.get(column), n, ranges.get(column), rng, 0.25)
            for column in ("years_mbt", "years_care")
        }
        for i in range(n):
            rows.append(
                {
                    "unit": unit["name"],
                    "occupation": unit["occupations"][i],
                    "years_mbt": _number(years["years_mbt"][i]),
                    "years_care": _number(years["years_care"][i]),
                    "modality": unit["modality"][i],
                }
            )
    people = pd.DataFrame(rows)
    people.insert(0, "participant_id", list(params["pseudonyms"])[: len(people)])
    if "age" in params:
        age = params["age"]
        ages = _numbers(age, len(people), (age["min"], age["max"]), rng, 1.0)
        people["age"] = [str(int(a)) for a in ages]
    genders = [g for g, count in params["gender"].items() for _ in range(int(count))]
    people["gender"] = [genders[i] for i in rng.permutation(len(people))]
    return people


def _excerpts(params: Mapping[str, Any], people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    low, high = params["excerpts"]["participants"]
    per_low, per_high = params["excerpts"]["per_participant"]
    prevalence = {str(k): int(v) for k, v in params.get("prevalence", {}).items()}
    ids = list(people["participant_id"])
    rows: list[dict[str, str]] = []
    for theme in params["themes"]:
        code = str(theme["code"])
        if "." not in code:
            continue
        count = min(prevalence.get(code, int(rng.integers(low, high + 1))), len(ids))
        chosen = sorted(rng.choice(len(ids), size=count, replace=False))
        for index in chosen:
            for _ in range(int(rng.integers(per_low, per_high + 1))):
                number = len(rows) + 1
                text = f"Synthetic excerpt {number} (subtheme {code})."
                rows.append({"excerpt_id": f"E{number:04d}", "participant_id": ids[index], "code": code, "text": text})
    return pd.DataFrame(rows)


def qualitative_example(params: Mapping[str, Any]) -> dict[str, str]:
    """``participants.csv``, ``themes.csv`` and ``excerpts.csv`` of a qualitative example."""
    rng = np.random.default_rng(int(params["seed"]))
    people = _participants(params, rng)
    themes = pd.DataFrame([{"code": str(t["code"]), "name": t["name"]} for t in params["themes"]])
    return {
        f"{PARTICIPANTS}.csv": _csv(people),
        f"{THEMES}.csv": _csv(themes),
        f"{EXCERPTS}.csv": _csv(_excerpts(params, people, rng)),
    }


# --------------------------------------------------------------------------------------------------
# All examples
# --------------------------------------------------------------------------------------------------


def generate(parameters: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Every example's files (name -> CSV text), by study."""
    makers = {"fidelity": fidelity_example, "qualitative": qualitative_example}
    return {study: makers[str(spec["kind"])](spec) for study, spec in parameters.items()}


def write_examples(parameters: str | Path, target: str | Path) -> list[Path]:
    """Write every example of the ``parameters`` file under ``target``/<study>/; returns the files written."""
    examples = generate(yaml.safe_load(Path(parameters).read_text(encoding="utf-8")))
    written = []
    for study, files in examples.items():
        folder = Path(target) / study
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_bytes(text.encode("utf-8"))
            written.append(folder / name)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m alliance.data.companion_examples PARAMETERS.yaml TARGET_FOLDER")
    for path in write_examples(sys.argv[1], sys.argv[2]):
        print(path)
