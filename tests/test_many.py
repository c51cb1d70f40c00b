"""Many runs from Python as one tidy table: simulate_many, experiments from a dict, read_months."""

from __future__ import annotations

import pandas as pd
import pytest

import relsim
from relsim import simulate
from relsim.errors import ScenarioError
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep
from relsim.runs.store import read_months, read_runs
from relsim.scenario import load_scenario

GRID = {"governance.mode": ["hierarchical", "networked"]}


@pytest.fixture(scope="module")
def many():
    return relsim.simulate_many("nhs_vmi_partnership", seeds=[7, 8, 9], grid=GRID, months=24)


def test_simulate_many_gives_runs_and_months_with_factor_seed_and_replication(many):
    runs, months = many.runs, many.months
    assert len(runs) == 6
    assert runs[["governance.mode", "seed", "replication"]].values.tolist() == [
        ["hierarchical", 7, 0],
        ["networked", 7, 0],
        ["hierarchical", 8, 1],
        ["networked", 8, 1],
        ["hierarchical", 9, 2],
        ["networked", 9, 2],
    ]
    assert (runs["status"] == "ok").all()
    assert list(months.columns[:5]) == ["run_id", "point", "replication", "seed", "governance.mode"]
    assert months.groupby("run_id").size().eq(25).all()


def test_each_run_is_the_run_simulate_gives(many):
    # Replications stepped together, tidy tables: the same series as each run alone.
    for _, run in many.runs.iterrows():
        scenario = load_scenario(
            "nhs_vmi_partnership",
            {"governance.mode": run["governance.mode"], "scenario.months": 24},
        )
        alone = simulate(scenario, seed=int(run["seed"])).months
        mine = many.months[many.months["run_id"] == run["run_id"]]
        pd.testing.assert_frame_equal(
            mine[alone.columns].reset_index(drop=True), alone, check_dtype=False
        )


def test_a_summary_of_many_runs_compares_the_grid_paired_by_seed(many):
    summary = relsim.summarize(many)
    row = summary.comparison.set_index("outcome").loc["trust_in_regulator_final"]
    runs = many.runs.set_index(["replication", "governance.mode"])["trust_in_regulator_final"]
    difference = runs.xs("networked", level=1) - runs.xs("hierarchical", level=1)
    assert row["difference"] == pytest.approx(difference.mean())
    assert (row["n"], row["seeds"], bool(row["paired"])) == (3, 3, True)
    assert "3 seeds" in many._repr_html_()


def test_simulate_many_refuses_a_bad_grid_or_bad_seeds():
    with pytest.raises(ScenarioError, match=r"governance\.mode"):
        relsim.simulate_many(seeds=2, grid={"governance.mode": ["hierarchal"]})
    with pytest.raises(ValueError, match="seeds"):
        relsim.simulate_many(seeds=[1, -2])
    with pytest.raises(ValueError, match="seeds"):
        relsim.simulate_many(seeds=0)


def test_a_number_of_seeds_derives_them_as_a_sweep_does():
    many = relsim.simulate_many(seeds=2, months=6, seed=5)
    experiment = load_experiment(
        {"experiment": {"scenario": "nhs_vmi_partnership", "replications": 2, "seed": 5}}
    )
    from relsim.runs.experiment import expand

    assert many.runs["seed"].tolist() == [s.seed for s in expand(experiment)]


def test_an_experiment_from_a_dict_is_validated_like_a_file(tmp_path):
    raw = {
        "experiment": {"scenario": "nhs_vmi_partnership", "replications": 2, "seed": 1},
        "base": {"scenario.months": 12},
        "factors": GRID,
    }
    experiment = load_experiment(raw)
    assert (experiment.n_runs, experiment.base.months, experiment.source) == (4, 12, "<dict>")
    with pytest.raises(ScenarioError, match=r"<dict>: experiment.replications"):
        load_experiment({**raw, "experiment": {**raw["experiment"], "replications": 0}})
    run_sweep(experiment, tmp_path / "s", executor=Serial(), progress=Silent())
    months = read_months(tmp_path / "s", with_factors=True)
    assert list(months.columns[:5]) == ["run_id", "point", "replication", "seed", "governance.mode"]
    runs = read_runs(tmp_path / "s").set_index("run_id")
    for run_id, group in months.groupby("run_id"):
        assert (group["governance.mode"] == runs.loc[run_id, "governance.mode"]).all()
        assert (group["seed"] == runs.loc[run_id, "seed"]).all()
