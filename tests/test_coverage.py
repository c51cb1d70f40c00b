"""Intervals that respect the design: coverage on synthetic data with a known answer.

With common random numbers, the runs of a design cell that pools sampled points come from a few
seeds, each many times, and runs that share a seed are alike. Here a seed's runs share a random
effect, as they do in a sweep, and each statistic's 95% interval is drawn for many synthetic
datasets (simulated all at once, as arrays) to count how often it holds the true value. The
intervals that treat the seed as the unit (``clusters=``) cover about 95% of the time; the
run-by-run (i.i.d.) intervals relsim reported before cover far less.

Tolerances: with D datasets the share of intervals that cover has a binomial standard error of
sqrt(0.95 * 0.05 / D); each check allows about 3.5 of them (or states why it allows more).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from relsim.analysis.stats import km_median, mean_interval, paired_difference, share_interval


def _covers(low: float, high: float, truth: float) -> bool:
    high = math.inf if math.isnan(high) else high
    return low <= truth <= high


def test_a_mean_over_few_seeds_covers_the_truth_as_often_as_it_says():
    # 4 seeds x 50 sampled points, a seed effect as large as the run-to-run noise: the pooled
    # mean of 200 runs carries about as much information as 4 independent ones.
    rng = np.random.default_rng(20240601)
    datasets, seeds, points, truth = 2000, 4, 50, 0.5
    y = (
        truth
        + 0.1 * rng.normal(size=(datasets, seeds, 1))
        + 0.1 * rng.normal(size=(datasets, seeds, points))
    )
    runs = y.reshape(datasets, -1)
    seed = np.repeat(np.arange(seeds), points)
    clustered = np.mean([_covers(*mean_interval(row, clusters=seed)[2:], truth) for row in runs])
    # The run-by-run t interval, vectorised (mean_interval without clusters is exactly this).
    iid = stats.ttest_1samp(runs, 0.0, axis=1).confidence_interval(0.95)
    old = np.mean((iid.low <= truth) & (truth <= iid.high))
    assert clustered == pytest.approx(0.95, abs=3.5 * math.sqrt(0.95 * 0.05 / datasets))
    assert old < 0.5  # about 0.3: 200 runs taken for 200 independent ones


def test_the_clustered_mean_is_the_t_interval_of_the_seed_means_when_balanced():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(5, 12)) + rng.normal(size=(5, 1))
    seed = np.repeat([11, 7, 3, 9, 5], 12)
    want = stats.ttest_1samp(y.mean(axis=1), 0.0).confidence_interval(0.95)
    mean, sd, low, high = mean_interval(y.ravel(), clusters=seed)
    assert mean == pytest.approx(y.mean())
    assert sd == pytest.approx(y.std(ddof=1))  # the spread of runs, not of seeds
    assert (low, high) == pytest.approx((want.low, want.high))


def test_one_run_per_seed_gives_the_usual_intervals_exactly():
    rng = np.random.default_rng(4)
    y = rng.normal(size=30)
    hits = rng.random(30) < 0.3
    seed = np.arange(30) * 7
    assert mean_interval(y, clusters=seed) == mean_interval(y)
    assert share_interval(hits, clusters=seed) == share_interval(hits)
    times = np.ceil(rng.exponential(10, 30))
    assert km_median(times, times < 20, clusters=seed) == km_median(times, times < 20)


def test_one_seed_has_no_interval():
    mean, _sd, low, high = mean_interval(np.arange(6.0), clusters=np.zeros(6))
    assert mean == 2.5
    assert math.isnan(low)
    assert math.isnan(high)


def test_a_share_over_few_seeds_covers_the_truth_as_often_as_it_says():
    # Each seed has its own chance of the event (beta distributed, mean 0.4), as a practice
    # that spreads easily in some seeds' histories and not in others.
    rng = np.random.default_rng(20240602)
    datasets, seeds, points, truth = 1500, 5, 40, 0.4
    chance = rng.beta(2, 3, size=(datasets, seeds, 1))
    hits = (rng.random((datasets, seeds, points)) < chance).reshape(datasets, -1)
    seed = np.repeat(np.arange(seeds), points)
    clustered = np.mean([_covers(*share_interval(row, clusters=seed)[1:], truth) for row in hits])
    old = np.mean([_covers(*share_interval(row)[1:], truth) for row in hits[:300]])
    # Wilson at the effective size is approximate: 0.954 at 3,000 datasets when this was
    # written; allowed the binomial spread and 0.01 for the approximation.
    assert clustered == pytest.approx(0.95, abs=3.5 * math.sqrt(0.95 * 0.05 / datasets) + 0.01)
    assert old < 0.7  # about 0.5


def test_a_share_that_every_run_agrees_on_counts_the_seeds():
    # 3 seeds x 100 runs, none reached: the runs say "0 of 300", the seeds "0 of 3".
    _p, low, high = share_interval(np.zeros(300, bool), clusters=np.repeat([1, 2, 3], 100))
    assert low == 0.0
    assert high > 0.5
    assert share_interval(np.zeros(300, bool))[2] < 0.02


def test_a_paired_difference_over_few_seeds_covers_the_truth():
    # A contrast pooled over sampled points: each seed's differences share an effect.
    rng = np.random.default_rng(20240603)
    datasets, seeds, points, truth = 1500, 5, 30, 0.2
    reference = rng.normal(size=(datasets, seeds, points))
    compared = (
        reference
        + truth
        + 0.2 * rng.normal(size=(datasets, seeds, 1))
        + 0.2 * rng.normal(size=(datasets, seeds, points))
    )
    a, b = reference.reshape(datasets, -1), compared.reshape(datasets, -1)
    seed = np.repeat(np.arange(seeds), points)
    clustered = np.mean(
        [
            _covers(*paired_difference(x, y, clusters=seed)[1:3], truth)
            for x, y in zip(a, b, strict=True)
        ]
    )
    iid = stats.ttest_rel(b, a, axis=1).confidence_interval(0.95)
    old = np.mean((iid.low <= truth) & (truth <= iid.high))
    assert clustered == pytest.approx(0.95, abs=3.5 * math.sqrt(0.95 * 0.05 / datasets))
    assert old < 0.6


def test_a_kaplan_meier_median_over_few_seeds_covers_the_truth():
    # Months to an event, log-normal with a seed effect (true median 20), censored at 40.
    rng = np.random.default_rng(20240604)
    datasets, seeds, points, truth = 400, 10, 30, 20.0
    t = truth * np.exp(
        0.5 * rng.normal(size=(datasets, seeds, 1))
        + 0.3 * rng.normal(size=(datasets, seeds, points))
    )
    observed = (t <= 40).reshape(datasets, -1)
    months = np.minimum(np.ceil(t), 40).reshape(datasets, -1)
    seed = np.repeat(np.arange(seeds), points)
    clustered = np.mean(
        [
            _covers(*km_median(m, o, clusters=seed)[1:], truth)
            for m, o in zip(months, observed, strict=True)
        ]
    )
    old = np.mean(
        [_covers(*km_median(m, o)[1:], truth) for m, o in zip(months, observed, strict=True)]
    )
    # Whole months make the median's interval conservative (0.98 when this was written); it
    # must not fall below nominal by more than the binomial spread.
    assert 0.95 - 3.5 * math.sqrt(0.95 * 0.05 / datasets) <= clustered <= 0.995
    assert old < 0.7  # about 0.5
