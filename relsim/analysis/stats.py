"""Every interval and test relsim reports, in one place, on SciPy where SciPy has it.

- the mean with its t interval (:func:`mean_interval`; by column, :func:`column_mean_intervals`);
- differences of means: paired by seed (:func:`paired_difference`, ``scipy.stats.ttest_rel``) or
  unpaired with Welch's interval (:func:`welch_difference`, ``scipy.stats.ttest_ind``);
- Hedges' g, the standardised mean difference (:func:`hedges_g`);
- a proportion with its Wilson score interval (:func:`wilson_interval`,
  ``scipy.stats.binomtest``);
- Spearman's rank correlation (:func:`spearman`, ``scipy.stats.spearmanr``);
- Kaplan–Meier survival curves and median times with right censoring (:func:`kaplan_meier`,
  :func:`km_median`, :func:`km_curve`, on ``scipy.stats.ecdf``), and the censored times they
  take (:func:`censored_times`);
- percentiles of runs month by month (:func:`column_percentiles`).

Each function leaves NaNs out and returns NaN where a statistic is undefined (too few values),
rather than raising or warning: a summary of a small or unusual sweep still has every row.
:class:`Estimate` is what the analysis hands to the presentation layer to render.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

#: Confidence level of every interval relsim reports.
LEVEL = 0.95

_NAN = math.nan


@dataclass(frozen=True)
class Estimate:
    """A reported number with its interval, for the presentation layer to render.

    ``statistic`` says what kind of number it is, and so how it is written: ``"mean"`` (a mean
    with its t interval), ``"difference"`` (a signed difference of means), ``"share"`` (a
    proportion with its Wilson interval), ``"km_median"`` (a Kaplan–Meier median in months) or
    ``"value"`` (a number without an interval).
    """

    statistic: str
    value: float
    low: float = _NAN
    high: float = _NAN


def _finite(values: ArrayLike) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def mean_interval(values: ArrayLike, level: float = LEVEL) -> tuple[float, float, float, float]:
    """Mean, standard deviation and t interval of the mean, NaNs left out.

    ``scipy.stats.ttest_1samp(...).confidence_interval``. With one value there is no standard
    deviation or interval (NaN); with none, no mean either. Values that are all equal give an
    interval of width zero.

    Returns:
        (mean, sd, low, high).
    """
    x = _finite(values)
    if x.size == 0:
        return _NAN, _NAN, _NAN, _NAN
    mean = float(x.mean())
    if x.size == 1:
        return mean, _NAN, _NAN, _NAN
    with warnings.catch_warnings():
        # All-equal values: SciPy warns of precision loss in t; the interval is still exact.
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence_level=level)
    return mean, float(x.std(ddof=1)), float(ci.low), float(ci.high)


def column_mean_intervals(
    values: ArrayLike, level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each column's mean with its t interval (:func:`mean_interval`), e.g. of runs × months.

    Returns:
        (mean, low, high), one value per column.
    """
    table = np.asarray(values, dtype=float)
    rows = np.array([mean_interval(column, level) for column in table.T]).reshape(-1, 4)
    return rows[:, 0], rows[:, 2], rows[:, 3]


def paired_difference(
    reference: ArrayLike, compared: ArrayLike, level: float = LEVEL
) -> tuple[float, float, float, int]:
    """Mean of the pairwise differences ``compared - reference`` with the paired t interval.

    ``scipy.stats.ttest_rel(...).confidence_interval``; pairs with a NaN on either side are
    left out.

    Returns:
        (difference, low, high, pairs counted).
    """
    a, b = np.asarray(reference, dtype=float), np.asarray(compared, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = int(a.size)
    if n == 0:
        return _NAN, _NAN, _NAN, 0
    difference = float((b - a).mean())
    if n == 1:
        return difference, _NAN, _NAN, 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # equal differences: see mean_interval
        ci = stats.ttest_rel(b, a).confidence_interval(confidence_level=level)
    return difference, float(ci.low), float(ci.high), n


def welch_difference(
    reference: ArrayLike, compared: ArrayLike, level: float = LEVEL
) -> tuple[float, float, float, int]:
    """Difference of means ``compared - reference`` with Welch's interval (unpaired samples).

    ``scipy.stats.ttest_ind(..., equal_var=False).confidence_interval``; NaNs left out. Each
    sample needs two values.

    Returns:
        (difference, low, high, size of the smaller sample).
    """
    a, b = _finite(reference), _finite(compared)
    n = int(min(a.size, b.size))
    if n < 2:
        return _NAN, _NAN, _NAN, n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-equal samples: see mean_interval
        ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(confidence_level=level)
    return float(b.mean() - a.mean()), float(ci.low), float(ci.high), n


def hedges_g(reference: ArrayLike, compared: ArrayLike) -> float:
    """Hedges' g: the standardised mean difference of ``compared`` over ``reference``.

    The difference of means over the pooled standard deviation, corrected for small samples
    (Hedges 1981). NaN with fewer than two values on either side; when neither sample varies,
    0 for equal means and an infinity of the difference's sign otherwise.
    """
    a, b = _finite(reference), _finite(compared)
    na, nb = a.size, b.size
    if na < 2 or nb < 2:
        return _NAN
    pooled = math.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    if pooled == 0:
        return 0.0 if a.mean() == b.mean() else math.copysign(math.inf, b.mean() - a.mean())
    correction = 1 - 3 / (4 * (na + nb) - 9)
    return float((b.mean() - a.mean()) / pooled * correction)


def wilson_interval(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson 1927), sound near 0 and 1.

    ``scipy.stats.binomtest(...).proportion_ci(method="wilson")``: exactly 0 below at no
    success and exactly 1 above at all; NaN when there is no trial.
    """
    if n == 0:
        return _NAN, _NAN
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's rank correlation (``scipy.stats.spearmanr``); tied values share their rank.

    NaN when either side does not vary (the correlation is undefined).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant input: SciPy warns and returns NaN
        return float(stats.spearmanr(x, y).statistic)


# ---------------------------------------------------------------------------------------------
# Times to an event, with right censoring
# ---------------------------------------------------------------------------------------------


def censored_times(
    event_month: np.ndarray, horizon: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Months from a start to an event, censored at the horizon, for a Kaplan–Meier estimate.

    Only runs that lasted past the start (a practice's introduction, the start of negotiation)
    gave the event a chance; the others are left out. Runs in which the event never happened
    are censored at their horizon rather than dropped.

    Args:
        event_month: Month of the event in each run, NaN where it never happened.
        horizon: Each run's last month.
        start: Each run's month from which the time is counted (``inf``: no run counts).

    Returns:
        (at_risk, times, observed): which runs count, and for those, the months from the start
        and whether the event was observed.
    """
    at_risk = horizon > start
    month = event_month[at_risk]
    observed = ~np.isnan(month)
    times = np.where(observed, month, horizon[at_risk]) - start[at_risk]
    return at_risk, times, observed


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan–Meier curve as steps: S(t) holds from ``time[k]`` until ``time[k + 1]``."""

    time: np.ndarray
    survival: np.ndarray
    low: np.ndarray
    """Lower bound of the pointwise interval (log-log)."""
    high: np.ndarray
    events: int
    n: int


def kaplan_meier(times: ArrayLike, observed: ArrayLike, level: float = LEVEL) -> SurvivalCurve:
    """The Kaplan–Meier estimate with its pointwise log-log interval, at each distinct time.

    ``scipy.stats.ecdf`` on right-censored data: runs in which the event was not observed count
    as at risk until their time, then leave. The interval is undefined where the estimate is 0
    or 1 (SciPy gives NaN); there it is the estimate itself. Without any observed event the
    curve is empty (no time at which the estimate changes).
    """
    t = np.asarray(times, dtype=float)
    seen = np.asarray(observed, dtype=bool)
    events = int(seen.sum())
    if events == 0:
        empty = np.empty(0)
        return SurvivalCurve(empty, empty, empty, empty, 0, int(t.size))
    sf = stats.ecdf(stats.CensoredData(uncensored=t[seen], right=t[~seen])).sf
    grid = np.asarray(sf.quantiles, dtype=float)
    estimate = np.asarray(sf.probabilities, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # where the estimate is 0 or 1
        band = sf.confidence_interval(confidence_level=level, method="log-log")
        low, high = band.low.evaluate(grid), band.high.evaluate(grid)
    low = np.where(np.isnan(low), estimate, low)
    high = np.where(np.isnan(high), estimate, high)
    return SurvivalCurve(grid, estimate, low, high, events, int(t.size))


def km_median(
    times: ArrayLike, observed: ArrayLike, level: float = LEVEL
) -> tuple[float, float, float]:
    """Kaplan–Meier median time to an event, with its interval; NaN where not reached.

    The interval is Brookmeyer & Crowley's (1982): the times at which the pointwise bands of
    :func:`kaplan_meier` reach one half.

    Args:
        times: Time of the event, or of censoring where it was not observed.
        observed: Whether the event was observed at that time.
        level: Confidence level of the interval.

    Returns:
        (median, low, high): the first time at which the survival function is at or below one
        half, and the first times at which the lower and upper bands are.
    """
    curve = kaplan_meier(times, observed, level)

    def first_half(values: np.ndarray) -> float:
        hits = np.flatnonzero(values <= 0.5)
        return float(curve.time[hits[0]]) if hits.size else _NAN

    return first_half(curve.survival), first_half(curve.low), first_half(curve.high)


def km_curve(
    times: ArrayLike, observed: ArrayLike, end: float, level: float = LEVEL
) -> SurvivalCurve:
    """:func:`kaplan_meier` as steps from time 0 (where it is 1) until ``end``, for drawing.

    Without an observed event the curve is flat at 1.
    """
    curve = kaplan_meier(times, observed, level)
    if curve.events == 0:
        flat = np.ones(2)
        return SurvivalCurve(np.array([0.0, end]), flat, flat, flat, 0, curve.n)
    start = [0.0] if curve.time[0] > 0 else []
    one = [1.0] if start else []

    def steps(values: np.ndarray) -> np.ndarray:
        return np.concatenate((one, values, values[-1:]))

    time = np.concatenate((start, curve.time, [max(end, curve.time[-1])]))
    return SurvivalCurve(
        time,
        steps(curve.survival),
        steps(curve.low),
        steps(curve.high),
        curve.events,
        curve.n,
    )


# ---------------------------------------------------------------------------------------------
# How runs spread
# ---------------------------------------------------------------------------------------------


def column_percentiles(
    values: ArrayLike, percentiles: Sequence[float] = (5.0, 25.0, 50.0, 75.0, 95.0)
) -> dict[float, np.ndarray]:
    """Percentiles of each column (e.g. of runs × months), NaNs left out; NaN for empty columns."""
    table = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with no value
        qs = np.nanpercentile(table, list(percentiles), axis=0)
    return dict(zip((float(p) for p in percentiles), qs, strict=True))
