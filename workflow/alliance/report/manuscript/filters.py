"""The Jinja2 filters and tests of the manuscript's templates, and the wording rules they apply.

Numbers reach the text only through the APA filters here (``num``, ``p``, ``pct``, ``coef``, ...), which
record each one (:class:`~alliance.report.manuscript.provenance.Recorder`). Wording follows the results:
the tests ``significant``, ``positive`` and ``negative`` and the filters ``claim`` and ``ps`` choose words
("increased significantly", "did not differ") from the estimates and the catalogue's alpha, so the text
stays true for a cohort whose findings differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2

from alliance.report.formatting import join_names
from alliance.report.manuscript.apa import p_relation
from alliance.report.manuscript.provenance import ManuscriptError, Num, Recorder

# --------------------------------------------------------------------------------------------------
# Wording rules (pure)
# --------------------------------------------------------------------------------------------------


def sourced(value: Any) -> Num:
    """``value`` as a sourced number; an undefined template value names its key, anything else fails."""
    if isinstance(value, Num):
        return value
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()  # raises UndefinedError naming the missing key
    raise ManuscriptError(f"expected a sourced number, got {value!r}")


def is_significant(effect: Mapping[str, Any], alpha: float) -> bool:
    """p below alpha (an effect without a p value is not significant)."""
    p = sourced(effect["p_value"]).value
    return math.isfinite(p) and p < alpha


def is_positive(effect: Mapping[str, Any]) -> bool:
    return sourced(effect["estimate"]).value > 0


NOT_ESTIMABLE = "could not be estimated"


def unavailable(effect: Mapping[str, Any]) -> str:
    """Why an effect has no estimate (its model could not be fitted, or rests on an instrument the cohort
    did not collect), or "" when it has one."""
    for key in ("estimate", "p_value"):  # an effect of a model, or a test (which has no estimate)
        value = effect.get(key)
        if isinstance(value, Num) and value.reason:
            return value.reason
    return ""


def claim(effect: Mapping[str, Any], alpha: float, up: str, down: str, none: str) -> str:
    """``up`` when the effect is significant and positive, ``down`` when significant and negative, else ``none``
    (and NOT_ESTIMABLE for an effect without an estimate)."""
    if unavailable(effect):
        return NOT_ESTIMABLE
    if not is_significant(effect, alpha):
        return none
    if up == down:  # no direction to tell (e.g. a test statistic)
        return up
    return up if is_positive(effect) else down


CLAIM_ORDER = ("up", "down", "none", "unavailable")


def group_claims(
    pairs: Iterable[Sequence[Any]], alpha: float, up: str, down: str, none: str, not_estimable: str = NOT_ESTIMABLE
) -> list[dict[str, Any]]:
    """(name, effect) pairs grouped by the claim their effect supports, in the order up, down, none and
    unavailable (effects without an estimate; the template may word it to fit its sentence); groups
    without members are left out. Each group: {"phrase", "names", "effects"}."""
    phrases = {"up": up, "down": down, "none": none, "unavailable": not_estimable}
    groups: dict[str, dict[str, Any]] = {}
    for name, effect in pairs:
        phrase = not_estimable if unavailable(effect) else claim(effect, alpha, up, down, none)
        which = next(k for k in CLAIM_ORDER if phrases[k] == phrase)
        group = groups.setdefault(which, {"phrase": phrase, "names": [], "effects": []})
        group["names"].append(name)
        group["effects"].append(effect)
    return [groups[k] for k in CLAIM_ORDER if k in groups]


def midsentence(label: str) -> str:
    """A row label inside a sentence: "Total number of PD traits" -> "total number of PD traits"; words in
    capitals (PTSD, ADHD) are kept."""
    first = label.split(" ", 1)[0]
    if not first or first.isupper() or not first[0].isupper():
        return label
    return label[0].lower() + label[1:]


def serial(position: int, length: int) -> str:
    """The separator after item ``position`` (1-based) of ``length`` in an APA series: ", ", ", and ",
    " and " (two items) or "" after the last."""
    if position >= length:
        return ""
    if position == length - 1:
        return ", and " if length > 2 else " and "
    return ", "


# --------------------------------------------------------------------------------------------------
# The filters, bound to a recorder and the catalogue's alpha
# --------------------------------------------------------------------------------------------------


@dataclass
class Filters:
    """The APA filters of one rendering: each number they print is recorded by ``recorder``; ``alpha``
    decides significance; ``collected``: the outcomes the cohort collected (by default all)."""

    recorder: Recorder
    alpha: float
    collected: Mapping[str, bool] = field(default_factory=dict)

    def num(self, value: Any, places: int = 2) -> str:
        return self.recorder.mark(sourced(value), f"fixed{places}")

    def integer(self, value: Any) -> str:
        return self.recorder.mark(sourced(value), "int")

    def pct(self, value: Any, places: int = 0) -> str:
        number = sourced(value)
        if number.reason:
            return self.recorder.mark(number, f"pct{places}")
        return self.recorder.mark(number, f"pct{places}") + ("%" if not number.suppressed else " patients")

    def explained(self, model: Mapping[str, Any], which: str = "slope", places: int = 0) -> str:
        """A model's explained intercept or slope variance with its bootstrap interval (APA):
        "31%, 95% bootstrap CI [12%, 45%]"; the words alone where the number does not exist."""
        value = model[f"explained_{which}_pct"]
        text = self.pct(value, places)
        if sourced(value).reason or sourced(value).suppressed or "explained_ci" not in model:
            return text  # (no "explained_ci": a context built without the bootstrap's intervals)
        interval = model["explained_ci"].get(which)
        if interval is None:
            raise ManuscriptError(f"no bootstrap interval for the explained {which} variance of model {model['id']}")
        low, high = sourced(interval["ci_low"]), sourced(interval["ci_high"])
        level = self.level(interval["level"])
        if low.reason or high.reason:
            return f"{text}, {level} bootstrap CI {low.reason or high.reason}"
        return f"{text}, {level} bootstrap CI [{self.pct(low, places)}, {self.pct(high, places)}]"

    def level(self, value: Any) -> str:
        """A confidence level: 0.95 -> "95%"."""
        return self.recorder.mark(sourced(value), "level") + "%"

    def corr(self, value: Any) -> str:
        return self.recorder.mark(sourced(value), "corr")

    def prob(self, value: Any) -> str:
        return self.recorder.mark(sourced(value), "prob")

    def p(self, value: Any) -> str:
        number = sourced(value)
        if number.reason:
            return self.recorder.mark(number, "p")
        if number.missing:
            raise ManuscriptError(f"no value for {number.file}: {number.key}")
        return f"*p* {p_relation(number.value)} " + self.recorder.mark(number, "p")

    # An effect without an estimate says why once ("not estimable"), in place of all its numbers.
    def est_se(self, effect: Mapping[str, Any], places: int = 2) -> str:
        if unavailable(effect):
            return self.num(effect["estimate"], places)
        return f"{self.num(effect['estimate'], places)} ({self.num(effect['std_error'], places)})"

    def ci(self, effect: Mapping[str, Any], places: int = 2) -> str:
        if unavailable(effect):
            return self.num(effect["estimate"], places)
        return f"95% CI [{self.num(effect['ci_low'], places)}, {self.num(effect['ci_high'], places)}]"

    def t_test(self, effect: Mapping[str, Any]) -> str:
        if unavailable(effect):
            return self.num(effect["estimate"])
        return f"*t*({self.num(effect['df'], 1)}) = {self.num(effect['statistic'], 2)}"

    def coef(self, effect: Mapping[str, Any], places: int = 2) -> str:
        """APA: *b* = 0.02, *SE* = 0.01, *t*(139.2) = 2.10, *p* = .037, 95% CI [0.00, 0.04]."""
        if unavailable(effect):
            return self.num(effect["estimate"], places)
        return (
            f"*b* = {self.num(effect['estimate'], places)}, *SE* = {self.num(effect['std_error'], places)}, "
            f"{self.t_test(effect)}, {self.p(effect['p_value'])}, {self.ci(effect, places)}"
        )

    def chi2(self, test: Mapping[str, Any]) -> str:
        if unavailable(test):
            return self.p(test["p_value"])
        return f"χ²({self.integer(test['df'])}) = {self.num(test['chi2'], 2)}, {self.p(test['p_value'])}"

    def mean_sd(self, pair: Mapping[str, Any], places: int = 1) -> str:
        return f"{self.num(pair['mean'], places)} (*SD* = {self.num(pair['sd'], places)})"

    # The outcome-change table's full layout holds 2 decimals; printing them as they are avoids rounding
    # twice (26.349 -> "26.35" -> "26.4", where the table prints "26.3").
    def admission(self, record: Mapping[str, Any]) -> str:
        return self.mean_sd({"mean": record["admission_mean"], "sd": record["admission_sd"]}, places=2)

    def discharge(self, record: Mapping[str, Any]) -> str:
        return self.mean_sd({"mean": record["discharge_mean"], "sd": record["discharge_sd"]}, places=2)

    def ps(self, effects: Iterable[Mapping[str, Any]]) -> str:
        """The p values of several effects in one phrase: "all *p* < .001", "all *p* ≤ .034" when all are
        significant, "all *p* ≥ .210" when none is, else each one."""
        items = list(effects)
        if not items:
            raise ManuscriptError("ps: no effects to report (choose the sentence for that case in the template)")
        if all(unavailable(e) for e in items):
            return self.p(items[0]["p_value"])
        values = [sourced(e["p_value"]) for e in items if not unavailable(e)]
        if len(values) == 1:
            return self.p(values[0])
        if all(v.value < 0.001 for v in values):
            return "all " + self.p(max(values, key=lambda v: v.value))
        significant = [v.value < self.alpha for v in values]
        if all(significant):
            return "all *p* ≤ " + self.recorder.mark(max(values, key=lambda v: v.value), "p")
        if not any(significant):
            return "all *p* ≥ " + self.recorder.mark(min(values, key=lambda v: v.value), "p")
        return ", ".join(self.p(v) for v in values)

    def claim(self, effect: Mapping[str, Any], up: str, down: str, none: str) -> str:
        return claim(effect, self.alpha, up, down, none)

    def group_claims(
        self, pairs: Iterable[Sequence[Any]], up: str, down: str, none: str, not_estimable: str = NOT_ESTIMABLE
    ) -> list[dict[str, Any]]:
        return group_claims(pairs, self.alpha, up, down, none, not_estimable)

    def collected_only(self, pairs: Iterable[Sequence[Any]]) -> list[Sequence[Any]]:
        """(name, outcome) pairs of the outcomes the cohort collected (context "collected")."""
        return [pair for pair in pairs if self.collected.get(pair[1], True)]


NUMBER_FILTERS = (
    "num", "integer", "pct", "explained", "level", "corr", "prob", "p", "est_se", "ci", "t_test", "coef", "chi2", "mean_sd",
    "admission", "discharge", "ps", "claim", "group_claims", "collected_only",
)  # fmt: skip
# Pairs for group_claims: (name, one of the record's effects).
PAIRS: dict[str, Callable[[Sequence[Any]], tuple[Any, Any]]] = {
    "pair_slope": lambda pair: (pair[0], pair[1]["slope"]),
    "pair_pred": lambda pair: (pair[0], pair[1]["pred"]),
    "pair_pred_slope": lambda pair: (pair[0], pair[1]["pred_slope"]),
    "pair_slope_variance": lambda pair: (pair[0], pair[1]["variance"]["slope"]),
    "pair_lrt": lambda pair: (pair[0], pair[1]["lrt"]),
}


def filters(recorder: Recorder, alpha: float, collected: Mapping[str, bool] | None = None) -> dict[str, Callable]:
    """Every filter of the templates, the number filters bound to ``recorder`` and ``alpha``."""
    bound = Filters(recorder, alpha, dict(collected or {}))
    return {
        **{name: getattr(bound, name) for name in NUMBER_FILTERS},
        **PAIRS,
        "analysed": lambda pairs: [pair for pair in pairs if pair[1]["collected"]],
        "plural_s": lambda items: "s" if len(list(items)) > 1 else "",
        "named_pred": lambda model: (model["name"], model["pred"]),
        "named_pred_slope": lambda model: (model["name"], model["pred_slope"]),
        "join_names": join_names,
        "midsentence": midsentence,
    }


def tests(alpha: float) -> dict[str, Callable[[Any], bool]]:
    """The templates' tests: significance at ``alpha``, direction, and whether a number exists."""
    return {
        "significant": lambda effect: is_significant(effect, alpha),
        "positive": is_positive,
        "negative": lambda effect: sourced(effect["estimate"]).value < 0,
        "lrt_significant": lambda model: is_significant(model["lrt"], alpha),
        "sourced": lambda value: isinstance(value, Num) and not value.missing,
        # A number that exists (not withheld, not undefined by design): for clauses that only make sense with it.
        "available": lambda value: isinstance(value, Num) and value.available,
    }
