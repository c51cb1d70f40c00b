"""Conclusions over the plausible parameter space (relsim.analysis.conclusions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim.analysis import conclusions as c
from relsim.cli import main
from relsim.runs.executors import LocalPool, Serial
from relsim.runs.experiment import bundled_experiments, load_experiment
from relsim.scenario import schema_rows

GAMING = [o.name for o in c.OUTCOMES].index("gaming")


def test_the_prior_box_is_every_assumption_acting_on_the_case_and_the_boards_timing():
    box = c.prior_box()
    rows = {r["key"]: r for r in schema_rows()}
    assumed = {
        k
        for k, r in rows.items()
        if str(r["source"]).startswith(("assumption", "calibrated"))
        and not k.startswith(c.SCALE_UP_PREFIXES)
    }
    assert set(box) == assumed | set(c.BOARD_KEYS)
    for key, (lo, hi) in box.items():
        assert lo < hi, key
        assert lo <= rows[key]["default"] <= hi, key
    floor = box["governance.board.positivity_floor"]
    ceiling = box["governance.board.positivity_ceiling"]
    assert floor[1] <= ceiling[0]  # no draw puts the floor above the ceiling


def test_the_bundled_sensitivity_experiment_screens_the_prior_box():
    experiment = load_experiment(bundled_experiments()["assumption_sensitivity"])
    assert experiment.sampling is not None
    assert {k: (lo, hi) for k, lo, hi in experiment.sampling.ranges} == c.prior_box()
    assert experiment.sampling.method == "morris"


def test_prior_samples_are_a_reproducible_latin_hypercube_inside_the_box():
    draws = c.prior_sample(40, seed=5)
    assert draws.equals(c.prior_sample(40, seed=5))
    assert not draws.equals(c.prior_sample(40, seed=6))
    for key, (lo, hi) in c.prior_box().items():
        assert draws[key].between(lo, hi).all(), key
        # A Latin hypercube: one draw in each of 40 equal strata of every (continuous) range.
        if key != "governance.board.meeting_interval_months":
            strata = np.floor((draws[key] - lo) / (hi - lo) * 40).clip(0, 39)
            assert sorted(strata) == list(range(40)), key
    assert set(draws["governance.board.meeting_interval_months"]) == {1, 2}


def _values(advantage: float, noise: float, draws: int = 6, reps: int = 5) -> np.ndarray:
    """Synthetic outcomes: the networked rule better by ``advantage`` on every outcome."""
    rng = np.random.default_rng(1)
    values = rng.normal(0.0, noise, (draws, len(c.MODES), len(c.OUTCOMES), reps))
    better = np.array([o.better for o in c.OUTCOMES], float)[None, :, None]
    values[:, c.MODES.index("networked")] += advantage * better
    return values


def test_a_conclusion_holds_everywhere_when_the_first_rule_is_always_better():
    table = c.conclusions(_values(1.0, 0.01))
    mine = table[table["better"] == "networked"]
    assert (mine["holds"] == 1.0).all()
    assert (mine["clearly"] == 1.0).all()
    assert (mine["reverse_clearly"] == 0.0).all()
    assert (mine["low"] > 0.5).all()
    flipped = c.conclusions(_values(1.0, 0.01), pairs=[("hierarchical", "networked")])
    assert (flipped["holds"] == 0.0).all()
    assert (flipped["reverse_clearly"] == 1.0).all()


def test_a_conclusion_no_rule_makes_holds_in_about_half_and_never_clearly_everywhere():
    table = c.conclusions(_values(0.0, 1.0, draws=200))
    assert table["holds"].between(0.35, 0.65).all()
    assert (table["clearly"] < 0.2).all()


@pytest.fixture(scope="module")
def small_prior():
    draws = c.prior_sample(4, seed=11)
    with Serial() as ex:
        return draws, c.collect(draws, replications=3, seed=2, executor=ex)


def test_the_networked_rule_has_no_gaming_anywhere_in_the_prior_box(small_prior):
    _draws, values = small_prior
    table = c.conclusions(values)
    row = table[
        (table["better"] == "networked")
        & (table["worse"] == "hierarchical")
        & (table["outcome"] == "gaming")
    ]
    assert row["holds"].item() == 1.0  # no targets, no gaming: must hold in 100%
    assert (values[:, c.MODES.index("networked"), GAMING] == 0).all()
    # ... and its reverse must fail everywhere.
    reverse = c.conclusions(values, pairs=[("hierarchical", "networked")])
    assert reverse.set_index("outcome").loc["gaming", "holds"] == 0.0


def test_runs_do_not_depend_on_the_executor(small_prior):
    draws, values = small_prior
    with LocalPool(2) as ex:
        again = c.collect(draws, replications=3, seed=2, executor=ex)
    np.testing.assert_array_equal(values, again)


def test_a_posterior_sample_can_stand_in_for_the_prior_box():
    posterior = pd.DataFrame(
        {
            "governance.board.showcase_probability": [0.0, 0.0],
            "governance.board.hours": [6.0, 6],
            "governance.board.meeting_interval_months": [1.0, 1.2],  # whole numbers, as floats
        }
    )
    with Serial() as ex:
        values = c.collect(posterior, replications=2, seed=3, executor=ex)
    table = c.conclusions(values, population="posterior")
    assert set(table["population"]) == {"posterior"}
    # With no showcases the heat map cannot travel at the board: no rule with a board beats
    # hierarchy on spreading it (peer contact spreads it under hierarchy, if at all).
    heat = table[(table["outcome"] == "heat_map") & (table["worse"] == "hierarchical")]
    assert (heat["holds"] == 0.0).all()


def test_deciders_credit_the_parameter_that_drives_an_advantage_not_its_correlate():
    rng = np.random.default_rng(3)
    a = rng.uniform(size=60)
    # b is correlated with a in the sample but does nothing; c does a little.
    draws = pd.DataFrame({"a": a, "b": a + rng.normal(0, 0.1, 60), "c": rng.uniform(size=60)})
    values = np.zeros((60, len(c.MODES), len(c.OUTCOMES), 2))
    values[:, 0, :, :] = (a + 0.1 * draws["c"].to_numpy())[:, None, None]  # networked gains
    decided = c.deciders(draws, values, top=3)
    mine = decided[(decided["worse"] == "hybrid") & (decided["outcome"] == "trust")]
    assert list(mine["parameter"]) == ["a", "c", "b"]
    assert mine["prcc"].iloc[0] > 0.9
    assert abs(mine["prcc"].iloc[2]) < 0.3
    assert set(decided["better"]) == {"networked"}  # no advantage elsewhere: nothing decides it
    assert c.deciders(draws.head(4), values[:4]).empty  # too few draws for three parameters


def test_the_command_writes_its_tables_whole(tmp_path: Path, capsys):
    out = tmp_path / "conclusions.csv"
    args = ["conclusions", "--draws", "2", "--replications", "2", "--workers", "1"]
    assert main([*args, "--seed", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "networked > hierarchical on mean gaming gap" in printed
    table = pd.read_csv(out)
    assert len(table) == len(c.PAIRS) * len(c.OUTCOMES)
    draws_file, deciders_file = c.companion_paths(out)
    assert len(pd.read_csv(draws_file)) == 2 * len(c.MODES)
    assert deciders_file.exists()
    first = out.read_bytes()
    assert main([*args, "--seed", "4", "--out", str(out)]) == 0
    assert out.read_bytes() == first  # same seed, same bytes


def test_the_command_refuses_an_output_folder_that_does_not_exist(tmp_path: Path, capsys):
    missing = tmp_path / "nowhere" / "c.csv"
    assert main(["conclusions", "--draws", "2", "--out", str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("its folder does not exist")
    assert len(err.splitlines()) == 1


def test_the_intervals_are_those_of_the_statistics_module():
    from relsim.analysis.stats import mean_interval

    x = np.random.default_rng(2).normal(size=(3, 2, 7))
    mean, low, high = c.mean_intervals(x)
    for i in range(3):
        for j in range(2):
            m, _sd, lo, hi = mean_interval(x[i, j])
            assert (mean[i, j], low[i, j], high[i, j]) == pytest.approx((m, lo, hi))


def test_the_commands_defaults_are_the_modules():
    from relsim.cli import build_parser

    args = build_parser().parse_args(["conclusions"])
    assert (args.replications, args.seed) == (c.DEFAULT_REPLICATIONS, c.DEFAULT_SEED)


def _posterior_file(path: Path, **columns) -> Path:
    pd.DataFrame(columns).to_parquet(path)
    return path


def test_posterior_draws_follow_the_weights_and_the_seed(tmp_path: Path):
    key = "governance.board.showcase_probability"
    path = _posterior_file(tmp_path / "posterior.parquet", **{key: [0.1, 0.9], "weight": [0, 3.0]})
    draws = c.posterior_sample(tmp_path, 50, seed=1)  # a calibration's directory will do
    assert list(draws.columns) == [key]
    assert (draws[key] == 0.9).all()  # a particle of weight 0 is never drawn
    path = _posterior_file(path, **{key: [0.1, 0.9], "weight": [1.0, 3.0]})
    draws = c.posterior_sample(path, 400, seed=1)
    assert 0.68 < (draws[key] == 0.9).mean() < 0.82  # 3/4, within 3 standard errors
    assert draws.equals(c.posterior_sample(path, 400, seed=1))


def test_the_command_takes_a_posterior_and_says_so(tmp_path: Path, capsys):
    key = "governance.board.showcase_probability"
    path = _posterior_file(tmp_path / "p.parquet", **{key: [0.4, 0.6], "weight": [1.0, 1.0]})
    args = ["conclusions", "--posterior", str(path), "--draws", "2", "--replications", "2"]
    assert main([*args, "--workers", "1"]) == 0
    assert "Policy conclusions over the posterior (2 parameter sets" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (None, "no such posterior"),
        ({"governance.board.hours": [6.0]}, "weight: expected a column of particle weights"),
        ({"governance.board.hourz": [6.0], "weight": [1.0]}, "unknown key"),
        ({"governance.board.hours": [6.0], "weight": [0.0]}, "every weight is 0"),
        ({"governance.board.hours": [6.0], "weight": [-1.0]}, "expected finite weights >= 0"),
        ({"governance.board.hours": [-6.0], "weight": [1.0]}, "particle 0 is not a valid scenario"),
    ],
)
def test_a_bad_posterior_is_one_line_naming_the_file(tmp_path: Path, capsys, columns, expected):
    path = tmp_path / "p.parquet"
    if columns is not None:
        _posterior_file(path, **columns)
    assert main(["conclusions", "--posterior", str(path), "--draws", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err, err
    assert expected in err, err
