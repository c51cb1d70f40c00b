"""Contrasts for every grid factor, their interaction with the mode, and the seed as the unit."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from relsim.analysis.contrasts import contrasts
from relsim.analysis.summary import summarize
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep

MODES = ["hierarchical", "networked"]
ORIENTATION = [0.2, 0.5, 0.8]


def _runs(replications: int = 8, points: int = 1, seed: int = 0) -> pd.DataFrame:
    """A synthetic runs table of a mode x orientation grid with common random numbers.

    y = seed effect + 1.0 (networked) + 2.0 * orientation + 3.0 * orientation (networked):
    the orientation's effect is 2 x its change, and 5 x under networked governance.
    """
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=replications)
    rows = []
    for r, p in itertools.product(range(replications), range(points)):
        for mode, level in itertools.product(MODES, ORIENTATION):
            networked = mode == "networked"
            y = shared[r] + networked + 2 * level + 3 * level * networked
            rows.append(
                {
                    "replication": r,
                    "seed": 1000 + r,
                    "pressure.baseline": 0.1 * p,
                    "governance.mode": mode,
                    "regulator.relational_orientation": level,
                    "y": y + 0.01 * rng.normal(),
                }
            )
    return pd.DataFrame(rows)


LEVELS = {"governance.mode": MODES, "regulator.relational_orientation": ORIENTATION}


def test_every_factor_is_contrasted_within_each_cell_of_the_others():
    table = contrasts(_runs(), LEVELS, ["y"])
    orientation = table[
        (table["factor"] == "regulator.relational_orientation") & table["by"].isna()
    ].set_index(["governance.mode", "compared"])
    assert len(orientation) == 4  # 2 modes x 2 levels against 0.2
    assert orientation["regulator.relational_orientation"].isna().all()  # the factor compared
    assert (orientation["reference"] == 0.2).all()
    assert orientation.loc[("hierarchical", 0.8), "difference"] == pytest.approx(1.2, abs=0.02)
    assert orientation.loc[("networked", 0.8), "difference"] == pytest.approx(3.0, abs=0.02)
    assert orientation["paired"].all()
    assert (orientation["n"] == 8).all()
    assert (orientation["seeds"] == 8).all()
    # The seed effect cancels in pairs: the interval is narrow, and g is the effect in units of
    # the (seed-dominated) run-to-run spread.
    assert (orientation["ci_high"] - orientation["ci_low"] < 0.05).all()
    assert orientation["hedges_g"].notna().all()
    mode = table[table["factor"] == "governance.mode"]
    assert len(mode) == 3  # one per orientation
    assert table.iloc[0]["factor"] == "governance.mode"  # the mode first


def test_the_interaction_with_the_mode_is_the_difference_in_differences():
    table = contrasts(_runs(), LEVELS, ["y"])
    did = table[table["by"] == "governance.mode"].set_index("compared")
    assert list(did.index) == [0.5, 0.8]
    assert (did["by_reference"] == "hierarchical").all()
    assert (did["by_compared"] == "networked").all()
    # The mode's effect: 1 + 3 x 0.2 at 0.2, 1 + 3 x 0.8 at 0.8; its change 3 x 0.6 = 1.8.
    assert did.loc[0.8, "reference_mean"] == pytest.approx(1.6, abs=0.02)
    assert did.loc[0.8, "compared_mean"] == pytest.approx(3.4, abs=0.02)
    assert did.loc[0.8, "difference"] == pytest.approx(1.8, abs=0.02)
    assert did.loc[0.8, "ci_low"] < 1.8 < did.loc[0.8, "ci_high"]
    assert did["governance.mode"].isna().all()


def test_contrasts_pooled_over_sampled_points_take_the_seed_as_the_unit():
    # 3 seeds x 20 sampled points: 60 pairs, 3 independent units.
    runs = _runs(replications=3, points=20, seed=1)
    rng = np.random.default_rng(2)
    # Each seed's pairs share part of their difference: the sampled points of one replication
    # are alike, as in a sweep with common random numbers.
    shift = rng.normal(0, 0.5, 3)
    networked = runs["governance.mode"] == "networked"
    runs.loc[networked, "y"] += shift[runs.loc[networked, "replication"]]
    table = contrasts(runs, LEVELS, ["y"], sampled=["pressure.baseline"])
    row = table[(table["factor"] == "governance.mode") & (table["compared"] == "networked")].iloc[0]
    assert (row["n"], row["seeds"]) == (60, 3)
    group = runs[
        runs["regulator.relational_orientation"] == row["regulator.relational_orientation"]
    ]
    pairs = group.pivot_table(
        index=["replication", "pressure.baseline"], columns="governance.mode", values="y"
    )
    difference = (pairs["networked"] - pairs["hierarchical"]).to_numpy()
    by_seed = (pairs["networked"] - pairs["hierarchical"]).groupby(level=0).mean()
    want = stats.ttest_1samp(by_seed, 0.0).confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((want.low, want.high))
    naive = stats.ttest_1samp(difference, 0.0).confidence_interval(0.95)
    assert row["ci_high"] - row["ci_low"] > 4 * (naive.high - naive.low)


def test_without_common_random_numbers_levels_are_compared_unpaired():
    runs = _runs()
    runs["seed"] = np.arange(len(runs))
    table = contrasts(runs, LEVELS, ["y"], paired=False)
    assert not table["paired"].any()
    did = table[table["by"] == "governance.mode"]
    assert len(did) == 2
    assert did["difference"].to_numpy() == pytest.approx([0.9, 1.8], abs=0.05)


SAMPLED = """
[experiment]
scenario = "nhs_vmi_partnership"
replications = 3
seed = 5
[base]
"scenario.months" = 30
[factors]
"governance.mode" = ["hierarchical", "networked"]
[sampling]
method = "lhs"
n = 8
[sampling.ranges]
"pressure.baseline" = [0.1, 0.6]
"""


def test_a_sampled_sweep_is_summarised_with_the_seed_as_the_unit(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(SAMPLED)
    run_sweep(load_experiment(path), tmp_path / "s", executor=Serial(), progress=Silent())
    summary = summarize(tmp_path / "s")
    assert summary.clustered
    assert "seed" in summary.unit
    cells = summary.cells.set_index(["governance.mode", "outcome"])
    row = cells.loc[("networked", "trust_in_regulator_final")]
    assert (row["n"], row["seeds"]) == (24, 3)
    runs = pd.read_parquet(tmp_path / "s" / "runs")
    runs = runs[runs["governance.mode"] == "networked"]
    by_seed = runs.groupby("seed")["trust_in_regulator_final"].mean()
    want = stats.ttest_1samp(by_seed, 0.0).confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (max(want.low, 0.0), min(want.high, 1.0))
    )
    comparison = summary.comparison
    assert (comparison["seeds"] == 3).all()
    assert (comparison["n"] <= 24).all()
