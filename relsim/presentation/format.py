"""One way to write the numbers relsim reports, in the console, the report and ``relsim validate``.

The precision rule: a number is written with the decimals that give about three significant
digits of the largest number shown with it (the estimate and its interval's bounds, and in a
table, every estimate of the same outcome: :func:`row_decimals`, so that a row reads alike):

- means, ``0.805 [0.797, 0.812]``, ``19.2 [16.3, 22.1]``, ``148 [131, 165]``;
- differences, signed: ``+0.527 [+0.519, +0.535]``;
- shares of runs, in whole percent: ``82% [77%, 87%]``;
- Kaplan–Meier medians, in whole months, ``∞`` where the interval is unbounded:
  ``27 [9, ∞]``, or ``not reached``;
- an estimate that has no interval (a single run) says so: ``0.184 (no interval)``; one that
  is undefined is ``–``.

Effect sizes (Hedges' g) have two decimals, and numbers that are not estimates (sensitivity
indices, the bounds of a sampled range) three significant digits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from relsim.analysis.stats import Estimate

#: Written for a number that is undefined (no run has it, or too few to compute it).
MISSING = "–"
#: Written after an estimate whose interval is undefined (fewer than two values).
NO_INTERVAL = "(no interval)"
#: Outcomes (summary rows) timed from the start of a compact's negotiation.
_COMPACT_ROWS = frozenset({"compact_in_force", "months_to_compact"})


def decimals(*values: float) -> int:
    """Decimals that show about three significant digits of the largest of ``values``.

    NaNs and infinities are left out; with nothing left, three.
    """
    finite = [abs(v) for v in values if math.isfinite(v)]
    size = max(finite, default=0.0)
    if size >= 100:
        return 0
    if size >= 10:
        return 1
    if size >= 1:
        return 2
    return 3


def format_value(value: float, digits: int | None = None, *, signed: bool = False) -> str:
    """A number with ``digits`` decimals (by :func:`decimals` when not given); ``–`` if NaN."""
    if math.isnan(value):
        return MISSING
    d = decimals(value) if digits is None else digits
    return f"{value:+.{d}f}" if signed else f"{value:.{d}f}"


def row_decimals(rows: pd.DataFrame, *columns: str) -> int:
    """The decimals of a table row of estimates: by the largest of every value in ``columns``.

    A console or report row holds one outcome in several cells (or contrasts); written with
    the same decimals, ``8.8 [7.7, 10.0]`` stands beside ``11.0 [9.0, 13.0]``, not beside
    ``11 [9, 13]``.
    """
    return decimals(*rows[list(columns)].to_numpy(float).ravel())


def format_estimate(estimate: Estimate, digits: int | None = None) -> str:
    """An estimate as text, with its 95% interval, by the precision rule of this module.

    ``digits`` fixes the decimals of a mean or difference (:func:`row_decimals`); shares are
    in whole percent and medians in whole months whatever it says.
    """
    value, low, high = estimate.value, estimate.low, estimate.high
    no_interval = math.isnan(low) and math.isnan(high)
    if estimate.statistic == "share":
        if math.isnan(value):
            return MISSING
        if no_interval:
            return f"{value:.0%} {NO_INTERVAL}"
        return f"{value:.0%} [{low:.0%}, {high:.0%}]"
    if estimate.statistic == "km_median":
        if math.isnan(value):
            return "not reached"
        if no_interval:
            return f"{value:.0f} {NO_INTERVAL}"
        return f"{value:.0f} [{format_value(low, 0)}, {'∞' if math.isnan(high) else f'{high:.0f}'}]"
    if math.isnan(value):
        return MISSING
    if estimate.statistic == "value":
        return format_value(value)
    signed = estimate.statistic == "difference"
    d = decimals(value, low, high) if digits is None else digits
    text = format_value(value, d, signed=signed)
    if no_interval:
        return f"{text} {NO_INTERVAL}"
    return f"{text} [{format_value(low, d, signed=signed)}, {format_value(high, d, signed=signed)}]"


def no_runs_text(outcome: str) -> str:
    """What a share or median with no run to count says: why no run counts."""
    return "no compact" if outcome in _COMPACT_ROWS else "not introduced"


def format_cell(row: pd.Series | Mapping[str, Any], digits: int | None = None) -> str:
    """A row of ``summary.csv`` (one cell's statistic of one outcome) as text.

    A share or median that no run counts (no run lasted past the practice's introduction, or no
    rule of the cell negotiates a compact) says why instead of ``–``.
    """
    statistic = str(row["statistic"])
    if statistic in ("share", "km_median") and int(row["n"]) == 0:
        return no_runs_text(str(row["outcome"]))
    return format_estimate(
        Estimate(statistic, float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])),
        digits,
    )


def format_difference(row: pd.Series | Mapping[str, Any], digits: int | None = None) -> str:
    """A row of ``comparison.csv`` as its signed difference with the 95% interval."""
    return format_estimate(
        Estimate(
            "difference", float(row["difference"]), float(row["ci_low"]), float(row["ci_high"])
        ),
        digits,
    )


def format_effect_size(g: float) -> str:
    """Hedges' g, signed with two decimals: ``+0.53``; ``–`` if undefined, ``+∞`` if infinite."""
    if math.isnan(g):
        return MISSING
    if math.isinf(g):
        return "+∞" if g > 0 else "-∞"
    return f"{g:+.2f}"


def format_number(value: Any) -> str:
    """A table value that is not an estimate: three significant digits, ``yes``/``no``, ``–``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return MISSING if math.isnan(value) else f"{value:.3g}"
    return str(value)
