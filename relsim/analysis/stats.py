"""Every interval and test relsim reports, in one place, on SciPy where SciPy has it.

- the mean with its t interval (:func:`mean_interval`; by column, :func:`column_mean_intervals`);
- differences of means: paired by seed (:func:`paired_difference`, ``scipy.stats.ttest_rel``) or
  unpaired with Welch's interval (:func:`welch_difference`, ``scipy.stats.ttest_ind``);
- Hedges' g, the standardised mean difference (:func:`hedges_g`);
- a proportion with its Wilson score interval (:func:`wilson_interval`,
  ``scipy.stats.binomtest``; of runs, :func:`share_interval`);
- Spearman's rank correlation (:func:`spearman`, ``scipy.stats.spearmanr``);
- Kaplan–Meier survival curves and median times with right censoring (:func:`kaplan_meier`,
  :func:`km_median`, :func:`km_curve`, on ``scipy.stats.ecdf``), and the censored times they
  take (:func:`censored_times`);
- percentiles of runs month by month (:func:`column_percentiles`).

**The unit of inference.** Runs that share a seed are not independent: with common random
numbers, replication r of every design point runs with the same seed, so a design cell that
pools sampled points (or a comparison that pools them) holds a few seeds, each many times. The
interval functions take ``clusters`` (each value's seed) and then treat the seed, not the run,
as the unit:

- a mean (and a paired difference, the mean of differences) gets the cluster-robust (CR1)
  standard error with a t reference on G − 1 degrees of freedom, G the number of seeds; when
  every seed has the same number of runs this is exactly the t interval of the seeds' means
  (Cameron & Miller 2015);
- a share gets the Wilson interval at the effective sample size n / deff, deff the design
  effect (Kish 1965), with the t quantile on G − 1 degrees of freedom (which is Korn &
  Graubard's 1998 degrees-of-freedom correction); when every run agrees, the correlation
  between a seed's runs cannot be estimated and the effective size is G;
- a Kaplan–Meier curve gets the cluster-robust (infinitesimal-jackknife) variance instead of
  Greenwood's, on the same log-log scale, with the t quantile on G − 1 degrees of freedom, and
  the median's interval from it as Brookmeyer & Crowley's.

When every seed has one value (independent runs: each grid cell of a sweep without sampling),
each of these is the usual interval, exactly. ``tests/test_coverage.py`` shows the intervals'
coverage on synthetic data with a known answer, and that the run-by-run intervals fail there.

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
from scipy import special, stats

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


def cluster_codes(clusters: ArrayLike) -> np.ndarray:
    """Each value's cluster as an integer code 0..G-1 (in order of first appearance)."""
    _, first, codes = np.unique(np.asarray(clusters), return_index=True, return_inverse=True)
    # np.unique sorts; renumber by first appearance so that codes do not depend on the labels.
    order = np.argsort(np.argsort(first))
    return order[codes.reshape(-1)]


def is_clustered(clusters: ArrayLike | None) -> bool:
    """Whether some cluster holds more than one value (else every value is its own unit)."""
    if clusters is None:
        return False
    codes = np.asarray(clusters)
    return codes.size > 0 and np.unique(codes).size < codes.size


def units(clusters: ArrayLike | None, values: ArrayLike) -> int:
    """Independent units among the values that are not NaN: distinct clusters, or values."""
    keep = ~np.isnan(np.asarray(values, dtype=float))
    if clusters is None:
        return int(keep.sum())
    return int(np.unique(np.asarray(clusters)[keep]).size)


def _t_quantile(level: float, df: float) -> float:
    """The two-sided t quantile (``scipy.special.stdtrit``: ``stats.t.ppf`` without overhead)."""
    return float(special.stdtrit(df, 0.5 + level / 2))


def cluster_variance(values: np.ndarray, codes: np.ndarray) -> float:
    """CR1 cluster-robust variance of the mean of ``values`` (no NaNs), clustered by ``codes``.

    ``G / (G - 1) * sum_g (sum_{i in g} (y_i - mean))^2 / n^2``. With one value per cluster it
    is ``s^2 / n``, the usual variance of a mean; with equal cluster sizes, the variance of the
    clusters' means over G.
    """
    n = values.size
    g = int(codes.max()) + 1
    totals = np.bincount(codes, weights=values - values.mean(), minlength=g)
    return float(g / (g - 1) * np.sum(totals**2) / n**2)


def mean_interval(
    values: ArrayLike, level: float = LEVEL, *, clusters: ArrayLike | None = None
) -> tuple[float, float, float, float]:
    """Mean, standard deviation and t interval of the mean, NaNs left out.

    Without ``clusters`` (or with one value per cluster), ``scipy.stats.ttest_1samp(...)
    .confidence_interval``. With clusters (each value's seed), the cluster-robust interval on
    G - 1 degrees of freedom (see the module's docstring); a single cluster has no interval.
    With one value there is no standard deviation or interval (NaN); with none, no mean
    either. Values that are all equal give an interval of width zero.

    Returns:
        (mean, sd, low, high); ``sd`` is the standard deviation over values (runs).
    """
    x = np.asarray(values, dtype=float)
    keep = ~np.isnan(x)
    x = x[keep]
    if x.size == 0:
        return _NAN, _NAN, _NAN, _NAN
    mean = float(x.mean())
    if x.size == 1:
        return mean, _NAN, _NAN, _NAN
    sd = float(x.std(ddof=1))
    if is_clustered(None if clusters is None else np.asarray(clusters)[keep]):
        codes = cluster_codes(np.asarray(clusters)[keep])
        g = int(codes.max()) + 1
        if g < 2:
            return mean, sd, _NAN, _NAN
        half = _t_quantile(level, g - 1) * math.sqrt(cluster_variance(x, codes))
        return mean, sd, mean - half, mean + half
    with warnings.catch_warnings():
        # All-equal values: SciPy warns of precision loss in t; the interval is still exact.
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence_level=level)
    return mean, sd, float(ci.low), float(ci.high)


def column_mean_intervals(
    values: ArrayLike, level: float = LEVEL, *, clusters: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each column's mean with its t interval (:func:`mean_interval`), e.g. of runs × months.

    ``clusters`` gives each row's cluster (its run's seed).

    Returns:
        (mean, low, high), one value per column.
    """
    table = np.asarray(values, dtype=float)
    rows = np.array(
        [mean_interval(column, level, clusters=clusters) for column in table.T]
    ).reshape(-1, 4)
    return rows[:, 0], rows[:, 2], rows[:, 3]


def paired_difference(
    reference: ArrayLike,
    compared: ArrayLike,
    level: float = LEVEL,
    *,
    clusters: ArrayLike | None = None,
) -> tuple[float, float, float, int]:
    """Mean of the pairwise differences ``compared - reference`` with the paired t interval.

    ``scipy.stats.ttest_rel(...).confidence_interval``; pairs with a NaN on either side are
    left out. With ``clusters`` (each pair's seed) the differences are clustered by seed
    (:func:`mean_interval`): pairs that share a seed (sampled points pooled under common
    random numbers) are not independent.

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
    if clusters is not None and is_clustered(np.asarray(clusters)[keep]):
        _, _, low, high = mean_interval(b - a, level, clusters=np.asarray(clusters)[keep])
        return difference, low, high, n
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


def share_interval(
    hits: ArrayLike, level: float = LEVEL, *, clusters: ArrayLike | None = None
) -> tuple[float, float, float]:
    """The share of runs in which something happened, with its interval.

    Without ``clusters`` (or with one run per cluster), the Wilson interval
    (:func:`wilson_interval`). With clusters (each run's seed), the Wilson interval at the
    effective sample size ``n / deff`` with the t quantile on G - 1 degrees of freedom, where
    ``deff`` is the design effect: the cluster-robust variance of the share
    (:func:`cluster_variance`) over the variance it would have if runs were independent
    (``s^2 / n``), at least 1. When every run agrees, the correlation within seeds cannot be
    estimated, and the effective size is the number of seeds (as if a seed's runs all agreed).

    Args:
        hits: Whether it happened in each run (booleans, or 0/1).
        level: Confidence level.
        clusters: Each run's cluster (its seed).

    Returns:
        (share, low, high); NaN for no run.
    """
    x = np.asarray(hits, dtype=float)
    n = x.size
    if n == 0:
        return _NAN, _NAN, _NAN
    k = int(x.sum())
    p = k / n
    if not is_clustered(clusters):
        low, high = wilson_interval(k, n, level)
        return p, low, high
    codes = cluster_codes(np.asarray(clusters))
    g = int(codes.max()) + 1
    if g < 2:
        return p, _NAN, _NAN
    if k in (0, n):
        effective = float(g)
    else:
        independent = p * (1 - p) / (n - 1)  # s^2 / n, s^2 with ddof=1
        deff = max(1.0, cluster_variance(x, codes) / independent)
        effective = n / deff
    q = _t_quantile(level, g - 1)
    # Wilson's score interval written for a non-integer size (SciPy's takes whole numbers).
    shrink = 1 + q * q / effective
    centre = (p + q * q / (2 * effective)) / shrink
    half = q * math.sqrt(p * (1 - p) / effective + q * q / (4 * effective**2)) / shrink
    # Exactly 0 below at no hit and 1 above at all (the formula gives them up to rounding).
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return p, low, high


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


def kaplan_meier(
    times: ArrayLike,
    observed: ArrayLike,
    level: float = LEVEL,
    *,
    clusters: ArrayLike | None = None,
) -> SurvivalCurve:
    """The Kaplan–Meier estimate with its pointwise log-log interval, at each distinct time.

    ``scipy.stats.ecdf`` on right-censored data: runs in which the event was not observed count
    as at risk until their time, then leave. The interval is Greenwood's on the log-log scale
    (SciPy's), or with ``clusters`` (each run's seed) the cluster-robust one
    (:func:`robust_km_variance`) on the same scale with a t quantile on G - 1 degrees of
    freedom. It is undefined where the estimate is 0 or 1; there it is the estimate itself.
    Without any observed event the curve is empty (no time at which the estimate changes).
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
    if is_clustered(clusters):
        codes = cluster_codes(np.asarray(clusters))
        g = int(codes.max()) + 1
        variance = robust_km_variance(t, seen, codes, grid, estimate)
        q = _t_quantile(level, g - 1) if g > 1 else math.inf
        with np.errstate(divide="ignore", invalid="ignore"):
            centre = np.log(-np.log(estimate))
            spread = q * np.sqrt(variance) / np.abs(estimate * np.log(estimate))
            low, high = np.exp(-np.exp(centre + spread)), np.exp(-np.exp(centre - spread))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # where the estimate is 0 or 1
            band = sf.confidence_interval(confidence_level=level, method="log-log")
            low, high = band.low.evaluate(grid), band.high.evaluate(grid)
    low = np.where(np.isnan(low), estimate, low)
    high = np.where(np.isnan(high), estimate, high)
    return SurvivalCurve(grid, estimate, low, high, events, int(t.size))


def robust_km_variance(
    times: np.ndarray,
    observed: np.ndarray,
    codes: np.ndarray,
    grid: np.ndarray,
    survival: np.ndarray,
) -> np.ndarray:
    """Cluster-robust variance of the Kaplan–Meier estimate at each time of ``grid``.

    The infinitesimal jackknife: each run's influence on S(t) (the derivative of the product
    limit with respect to the run's weight) is
    ``-S(t) * sum_{t_j <= t} (dN_i(t_j) - Y_i(t_j) d_j / Y_j) / (Y_j - d_j)`` (N_i its event,
    Y_i whether it is at risk, d_j and Y_j the events and runs at risk at t_j); the influences
    are summed within each cluster and the variance is ``G / (G - 1)`` times the sum of their
    squares (as for a mean, :func:`cluster_variance`). With one run per cluster the sum of
    squares is exactly Greenwood's variance (Williams 1995; R's ``survfit`` with ``cluster``).
    """
    at_risk = times[:, None] >= grid[None, :]  # runs x times
    event = observed[:, None] & (times[:, None] == grid[None, :])
    risk, events = at_risk.sum(axis=0), event.sum(axis=0)
    hazard = events / np.maximum(risk, 1)
    # Where every run at risk has the event, S falls to 0 and stays there: its variance is 0
    # whatever this term is, so the division is guarded rather than special-cased.
    steps = (event - at_risk * hazard) / np.maximum(risk - events, 1)
    g = int(codes.max()) + 1
    by_cluster = np.zeros((g, grid.size))
    np.add.at(by_cluster, codes, np.cumsum(steps, axis=1))
    factor = g / (g - 1) if g > 1 else math.inf
    return factor * survival**2 * np.sum(by_cluster**2, axis=0)


def km_median(
    times: ArrayLike,
    observed: ArrayLike,
    level: float = LEVEL,
    *,
    clusters: ArrayLike | None = None,
) -> tuple[float, float, float]:
    """Kaplan–Meier median time to an event, with its interval; NaN where not reached.

    The interval is Brookmeyer & Crowley's (1982): the times at which the pointwise bands of
    :func:`kaplan_meier` reach one half (cluster-robust bands with ``clusters``).

    Args:
        times: Time of the event, or of censoring where it was not observed.
        observed: Whether the event was observed at that time.
        level: Confidence level of the interval.
        clusters: Each run's cluster (its seed), or None for independent runs.

    Returns:
        (median, low, high): the first time at which the survival function is at or below one
        half, and the first times at which the lower and upper bands are.
    """
    curve = kaplan_meier(times, observed, level, clusters=clusters)

    def first_half(values: np.ndarray) -> float:
        hits = np.flatnonzero(values <= 0.5)
        return float(curve.time[hits[0]]) if hits.size else _NAN

    return first_half(curve.survival), first_half(curve.low), first_half(curve.high)


def km_curve(
    times: ArrayLike,
    observed: ArrayLike,
    end: float,
    level: float = LEVEL,
    *,
    clusters: ArrayLike | None = None,
) -> SurvivalCurve:
    """:func:`kaplan_meier` as steps from time 0 (where it is 1) until ``end``, for drawing.

    Without an observed event the curve is flat at 1.
    """
    curve = kaplan_meier(times, observed, level, clusters=clusters)
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
