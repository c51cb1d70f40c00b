"""Patterns of the case as summary statistics of a set of runs: the menu calibration targets use.

A calibration target (``relsim calibrate``) compares one statistic of the runs at a proposed
parameter set with a window the case's sources allow. Each statistic here reduces the monthly
series of several replications of one scenario (as :func:`relsim.model.batch.run_replications`
returns them: one ``{column: [value per month]}`` per run) to one number, so that the same
parameters over the same seeds always give the same value. Statistics are pure functions of
those series and of the scenario, small enough to test on hand-made series.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from relsim.scenario import Scenario

#: One run's monthly series, by column of ``months.csv``.
Series = Mapping[str, Sequence[Any]]

#: The practice whose adoption by every trust is the heat-map pattern.
HEAT_MAP = "training_heat_map"

#: The months over which the rise in trust in the regulator is measured (about three years).
TRUST_RISE_MONTHS = 36


@dataclass(frozen=True, slots=True)
class Statistic:
    """One statistic of the menu.

    Attributes:
        doc: What it measures, for docs and error messages.
        compute: ``compute(runs, scenario, month)`` → the value (NaN when undefined).
        needs_month: Whether the target must give ``month`` (a statistic "by month M").
        last_month: The latest month it may take, given the scenario's horizon.
    """

    doc: str
    compute: Callable[[Sequence[Series], Scenario, int | None], float]
    needs_month: bool = False
    last_month: Callable[[Scenario], int] = lambda scenario: scenario.months


def first_month(values: Sequence[Any], months: Sequence[int], test: Callable[[Any], bool]) -> int:
    """The first month whose value passes ``test``, or one past the last month if none does.

    A run in which it never happens counts as happening after the horizon (right-censored), so
    that a median over runs stays defined and is pushed late by runs that never get there.
    """
    for month, value in zip(months, values, strict=True):
        if test(value):
            return int(month)
    return int(months[-1]) + 1


def compact_month(runs: Sequence[Series], scenario: Scenario, month: int | None) -> float:
    """Median over runs of the month the compact first comes into force (horizon + 1 if never)."""
    return float(
        np.median(
            [first_month(r["compact_state"], r["month"], lambda s: s == "in_force") for r in runs]
        )
    )


def heat_map_all_by_month(runs: Sequence[Series], scenario: Scenario, month: int | None) -> float:
    """Share of runs in which every trust has adopted the heat map at some month up to ``month``."""
    assert month is not None
    n = len(scenario.trusts)
    column = f"adopters_{HEAT_MAP}"
    return float(np.mean([max(r[column][: month + 1]) >= n for r in runs]))


def attendance_mean(runs: Sequence[Series], scenario: Scenario, month: int | None) -> float:
    """Mean share of trusts attending, over every board meeting of every run (NaN if none met)."""
    rates = np.concatenate([np.asarray(r["attendance_rate"], dtype=float) for r in runs])
    met = rates[~np.isnan(rates)]
    return float(met.mean()) if met.size else float("nan")


def trust_rise_share_by_month(
    runs: Sequence[Series], scenario: Scenario, month: int | None
) -> float:
    """Share of the rise in mean trust in the regulator over 36 months made by ``month``.

    On the mean over runs of ``mean_trust_in_regulator``: (T[month] − T[0]) / (T[36] − T[0]).
    Near 1 early means trust came at once; small or negative means it was earned over the
    three years. NaN when trust did not rise over the 36 months (there is no rise to share).
    """
    assert month is not None
    trust = np.mean([np.asarray(r["mean_trust_in_regulator"], dtype=float) for r in runs], axis=0)
    rise = trust[TRUST_RISE_MONTHS] - trust[0]
    if not rise > 0:
        return float("nan")
    return float((trust[month] - trust[0]) / rise)


#: The menu of statistics a calibration target may name.
STATISTICS: dict[str, Statistic] = {
    "compact_month": Statistic(
        "median month the compact comes into force (horizon + 1 for a run where it never does)",
        compact_month,
    ),
    "heat_map_all_by_month": Statistic(
        "share of runs in which every trust has adopted the training heat map by month M",
        heat_map_all_by_month,
        needs_month=True,
    ),
    "attendance_mean": Statistic("mean share of trusts attending a board meeting", attendance_mean),
    "trust_rise_share_by_month": Statistic(
        "share of the 36-month rise in mean trust in the regulator made by month M",
        trust_rise_share_by_month,
        needs_month=True,
        last_month=lambda scenario: TRUST_RISE_MONTHS,
    ),
}


def statistic_problem(name: str, scenario: Scenario) -> str | None:
    """Why statistic ``name`` cannot be computed on runs of ``scenario``, or None if it can."""
    if name == "heat_map_all_by_month" and HEAT_MAP not in scenario.practice_names:
        return f"needs a practice named {HEAT_MAP!r} in the scenario"
    if name == "trust_rise_share_by_month" and scenario.months < TRUST_RISE_MONTHS:
        return f"needs a scenario of at least {TRUST_RISE_MONTHS} months"
    return None


#: The distance of an undefined statistic (NaN: no rise in trust to share), in window widths:
#: far outside any window, yet finite, so that pyABC's quantiles of distances stay finite.
UNDEFINED_DISTANCE = 100.0


def window_distance(value: float, low: float, high: float) -> float:
    """How far ``value`` lies outside ``[low, high]``, in window widths (0 inside).

    An undefined value (NaN) is :data:`UNDEFINED_DISTANCE` away.
    """
    if np.isnan(value):
        return UNDEFINED_DISTANCE
    return max(0.0, low - value, value - high) / (high - low)


__all__ = [
    "STATISTICS",
    "UNDEFINED_DISTANCE",
    "Statistic",
    "statistic_problem",
    "window_distance",
]
