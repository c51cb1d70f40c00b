"""The statistics module against known answers, SciPy, hand computations and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from relsim.analysis.stats import (
    censored_times,
    column_mean_intervals,
    column_percentiles,
    hedges_g,
    kaplan_meier,
    km_curve,
    km_median,
    mean_interval,
    paired_difference,
    spearman,
    welch_difference,
    wilson_interval,
)

# --- means and differences -------------------------------------------------------------------


def test_mean_interval_is_the_t_interval():
    x = np.array([0.2, 0.5, 0.4, 0.9, 0.3, np.nan])
    mean, sd, lo, hi = mean_interval(x)
    clean = x[~np.isnan(x)]
    want = stats.t.interval(0.95, len(clean) - 1, loc=clean.mean(), scale=stats.sem(clean))
    assert mean == pytest.approx(clean.mean())
    assert sd == pytest.approx(clean.std(ddof=1))
    assert (lo, hi) == pytest.approx(want)


def test_a_mean_of_too_few_values_has_no_interval_and_equal_values_a_point_interval():
    assert all(math.isnan(v) for v in mean_interval(np.array([])))
    assert all(math.isnan(v) for v in mean_interval(np.array([np.nan, np.nan])))
    mean, sd, lo, hi = mean_interval(np.array([1.5, np.nan]))
    assert mean == 1.5
    assert math.isnan(sd)
    assert math.isnan(lo)
    assert math.isnan(hi)
    with np.errstate(all="raise"):
        assert mean_interval(np.full(4, 0.25)) == (0.25, 0.0, 0.25, 0.25)


def test_column_intervals_are_each_columns_mean_interval():
    rng = np.random.default_rng(3)
    table = rng.normal(size=(7, 5))
    table[2:, 3] = np.nan  # two runs only
    table[1:, 4] = np.nan  # one run: a mean, no interval
    mean, low, high = column_mean_intervals(table)
    for k in range(4):
        m, _sd, lo, hi = mean_interval(table[:, k])
        assert (mean[k], low[k], high[k]) == (m, lo, hi)
    assert mean[4] == table[0, 4]
    assert np.isnan(low[4])
    assert np.isnan(high[4])


def test_the_paired_difference_is_the_mean_difference_with_scipys_paired_interval():
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, 12)
    b = a + rng.normal(0.3, 0.5, 12)
    a[4] = np.nan  # this pair is left out
    diff, lo, hi, n = paired_difference(a, b)
    keep = ~np.isnan(a)
    ci = stats.ttest_rel(b[keep], a[keep]).confidence_interval(0.95)
    assert n == 11
    assert diff == pytest.approx((b - a)[keep].mean())
    assert (lo, hi) == pytest.approx((ci.low, ci.high))
    assert mean_interval((b - a)[keep])[2:] == pytest.approx((lo, hi))


def test_paired_differences_of_few_or_equal_pairs():
    assert paired_difference([1.0], [3.0])[:1] == (2.0,)
    assert math.isnan(paired_difference([1.0], [3.0])[1])
    assert paired_difference([1.0], [3.0])[3] == 1
    assert math.isnan(paired_difference([np.nan], [3.0])[0])
    assert paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == (0.0, 0.0, 0.0, 3)


def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 30), rng.normal(0.5, 2, 40)
    diff, lo, hi, n = welch_difference(a, b)
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(b.mean() - a.mean())
    assert (lo, hi) == pytest.approx((ci.low, ci.high))
    assert n == 30


def test_welch_with_too_few_values_or_none_that_vary():
    assert math.isnan(welch_difference([1.0], [2.0, 3.0])[0])
    assert welch_difference([1.0, np.nan], [2.0, 3.0])[3] == 1
    assert welch_difference([1.0, 1.0, 1.0], [2.0, 2.0]) == (1.0, 1.0, 1.0, 2)


def test_hedges_g_known_value():
    assert hedges_g(np.array([1.0, 2, 3]), np.array([4.0, 5, 6])) == pytest.approx(3 * 0.8)
    assert hedges_g(np.array([1.0, 2, 3]), np.array([1.0, 2, 3])) == 0.0
    assert math.isnan(hedges_g(np.array([1.0]), np.array([2.0, 3.0])))
    assert hedges_g(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == math.inf


# --- proportions and ranks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "want"),
    [(0, 10, (0.0, 0.2775)), (5, 10, (0.2366, 0.7634)), (10, 10, (0.7225, 1.0))],
)
def test_wilson_interval_known_values(k, n, want):
    assert wilson_interval(k, n) == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("n", [1, 7, 200, 800])
def test_wilson_interval_is_exactly_bounded_at_none_and_all(n):
    assert wilson_interval(0, n)[0] == 0.0
    assert wilson_interval(n, n)[1] == 1.0


def test_wilson_interval_is_the_score_interval_written_out():
    z = stats.norm.ppf(0.975)
    for k, n in ((1, 3), (17, 40), (399, 800)):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half), abs=1e-12)


def test_a_share_of_no_runs_has_no_interval():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_spearman_ranks_ties_alike_and_is_undefined_without_variation():
    assert spearman([0.8, 0.65, 0.55, 0.45, 0.3], [5.0, 4.0, 3.5, 1.0, 0.0]) == pytest.approx(1.0)
    # Tied values share their average rank: (1, 2.5, 2.5, 4) against (1, 2, 3, 4).
    ranks = np.array([1.0, 2.5, 2.5, 4.0])
    want = np.corrcoef(ranks, [1, 2, 3, 4])[0, 1]
    assert spearman([1, 2, 2, 3], [10, 20, 30, 40]) == pytest.approx(want)
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5]))


# --- times to an event -----------------------------------------------------------------------


def test_censored_times_count_from_the_start_and_censor_at_the_horizon():
    at_risk, times, observed = censored_times(
        np.array([10.0, np.nan, 30.0, np.nan]),
        np.array([60.0, 60.0, 60.0, 5.0]),
        np.array([6.0, 6.0, 6.0, 6.0]),
    )
    assert at_risk.tolist() == [True, True, True, False]  # the last run ended before month 6
    assert times.tolist() == [4.0, 54.0, 24.0]
    assert observed.tolist() == [True, False, True]
    assert not censored_times(np.array([3.0]), np.array([60.0]), np.array([np.inf]))[0].any()


def test_kaplan_meier_median_without_censoring_is_the_sample_median():
    assert km_median(np.array([5, 1, 4, 2, 3]), np.ones(5, bool))[0] == 3


def test_kaplan_meier_median_counts_censored_runs_as_at_risk():
    times = np.array([1, 2, 3, 4, 5, 6])
    observed = np.array([1, 1, 0, 1, 0, 1], bool)
    # S(1) = 5/6, S(2) = 4/6, (3 censored), S(4) = 4/6 * 2/3 = 0.44: the median is 4,
    # where dropping the censored runs would say 2 or 3.
    assert km_median(times, observed)[0] == 4


def test_kaplan_meier_median_not_reached():
    times, observed = np.array([10, 10, 3, 10]), np.array([0, 0, 1, 0], bool)
    assert math.isnan(km_median(times, observed)[0])
    assert all(math.isnan(v) for v in km_median(times, np.zeros(4, bool)))
    assert all(math.isnan(v) for v in km_median(np.array([]), np.array([], bool)))


def test_kaplan_meier_interval_covers_the_true_median_about_95_percent_of_the_time():
    # Exponential times with median 20, censored at 40: 300 samples of 60. A 95% interval
    # should cover the true median in 90%-99% of samples (binomial spread at n = 300).
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(300):
        t = rng.exponential(20 / math.log(2), 60)
        observed = t <= 40
        times = np.minimum(np.ceil(t), 40)
        _, lo, hi = km_median(times, observed)
        covered += lo <= 20 <= (hi if not math.isnan(hi) else math.inf)
    assert 0.90 <= covered / 300 <= 0.99


def test_the_band_is_the_estimate_where_it_is_undefined():
    # Every run had the event by month 3: the estimate falls to 0, where log-log has no band.
    curve = kaplan_meier(np.array([1.0, 2.0, 3.0]), np.ones(3, bool))
    assert curve.survival[-1] == 0.0
    assert curve.low[-1] == 0.0
    assert curve.high[-1] == 0.0
    assert np.isfinite(curve.low).all()
    assert np.isfinite(curve.high).all()
    assert (curve.low <= curve.survival).all()
    assert (curve.survival <= curve.high).all()


def test_the_curve_for_drawing_runs_from_one_at_zero_to_the_end():
    curve = km_curve(np.array([2.0, 4.0, 9.0]), np.array([True, True, False]), end=12.0)
    assert curve.time.tolist() == [0.0, 2.0, 4.0, 9.0, 12.0]
    assert curve.survival.tolist() == pytest.approx([1.0, 2 / 3, 1 / 3, 1 / 3, 1 / 3])
    assert (curve.events, curve.n) == (2, 3)
    flat = km_curve(np.array([5.0, 5.0]), np.zeros(2, bool), end=5.0)
    assert (flat.time.tolist(), flat.survival.tolist(), flat.events) == ([0.0, 5.0], [1, 1], 0)


def test_column_percentiles_leave_out_missing_values():
    table = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, np.nan], [3.0, np.nan], [4.0, np.nan]])
    q = column_percentiles(table, (25.0, 50.0))
    assert q[50.0].tolist() == [2.0, 1.0]
    assert q[25.0].tolist() == [1.0, 1.0]
    assert np.isnan(column_percentiles(np.full((2, 1), np.nan))[50.0]).all()
