"""The designs of the power analysis (``power:`` of config.yaml) and their check against the catalogue and
the assessment schedule.

A design is a number of patients, a number of assessment waves (the first ``waves`` months of
``analysis.schedule.wai_months``) and a share of patients who drop out (docs/power.md). The simulations
themselves are :mod:`alliance.stats.power`. Standard library only: workflow/rules/power.smk checks the
configuration with this module at every load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alliance.errors import ConfigError
from alliance.settings import PowerSettings


@dataclass(frozen=True, order=True)
class Design:
    """One point of the grid: ``n_patients`` patients, observed at the first ``waves`` waves of the
    schedule, of whom a share ``dropout`` leaves early."""

    n_patients: int
    waves: int
    dropout: float

    def describe(self) -> str:
        """How the summary names the design: "6 waves, no dropout", "3 waves, 30 % dropout"."""
        return f"{self.waves} waves, {dropout_text(self.dropout)}"

    @property
    def schedule(self) -> tuple[int, float]:
        """The design without its number of patients: one line of the power curves."""
        return self.waves, self.dropout


def dropout_text(dropout: float) -> str:
    if dropout == 0:
        return "no dropout"
    return f"{100 * dropout:g} % dropout"


def grid(n_patients: Sequence[int], waves: Sequence[int], dropout: Sequence[float]) -> list[Design]:
    """Every design of the grid, ordered by waves (most first), dropout and number of patients."""
    return [
        Design(int(n), int(k), float(d))
        for k in sorted(waves, reverse=True)
        for d in sorted(dropout)
        for n in sorted(n_patients)
    ]


def power_designs(power: PowerSettings) -> list[Design]:
    """The grid of ``power:`` in the config."""
    return grid(power.n_patients, power.waves, power.dropout)


def check_power_settings(
    power: PowerSettings, finding_ids: Sequence[str], wai_months: Sequence[float], where: str = ""
) -> None:
    """``power.findings`` must be findings of the catalogue (robustness.findings of models.yaml) and
    ``power.waves`` at most the number of months in analysis.schedule.wai_months; ConfigError otherwise."""
    unknown = [finding for finding in power.findings if finding not in finding_ids]
    if unknown:
        raise ConfigError(
            f"{', '.join(unknown)} not among the catalogue's findings (robustness.findings of the model catalogue: "
            f"{', '.join(finding_ids) or 'none'})",
            file=where,
            key="power.findings",
        )
    too_many = [waves for waves in power.waves if waves > len(wai_months)]
    if too_many:
        raise ConfigError(
            f"{', '.join(map(str, too_many))} waves asked for, but analysis.schedule.wai_months has "
            f"{len(wai_months)} months ({', '.join(f'{m:g}' for m in wai_months)})",
            file=where,
            key="power.waves",
        )
