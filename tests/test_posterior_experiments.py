"""Experiments that draw each replication's parameter set from a posterior (``[posterior]``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim import RegulationModel
from relsim.analysis.summary import summarize
from relsim.errors import RelsimError
from relsim.runs.executors import LocalPool, Serial
from relsim.runs.experiment import (
    expand,
    load_experiment,
    with_base_overrides,
    with_replications,
)
from relsim.runs.outcomes import run_outcomes
from relsim.runs.posterior import read_posterior
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep
from relsim.runs.store import read_manifest, read_months, read_runs
from relsim.scenario import load_scenario, with_overrides

HOURS, GAIN = "governance.board.hours", "trust_dynamics.gain"

EXPERIMENT = """
[experiment]
scenario = "nhs_vmi_partnership"
replications = {reps}
seed = 11
[base]
"scenario.months" = 18
[factors]
"governance.mode" = ["hierarchical", "hybrid"]
[posterior]
file = "{file}"
"""


def posterior_file(path: Path, weights=(0.5, 0.3, 0.2, 0.0), **columns) -> Path:
    """A posterior as relsim calibrate writes it: particle, keys, weight."""
    n = len(weights)
    data = {"particle": np.arange(n, dtype=np.int64)}
    data |= columns or {HOURS: [2.0, 4.0, 6.0, 8.0][:n], GAIN: [0.3, 0.5, 0.7, 0.9][:n]}
    data["weight"] = list(weights)
    pd.DataFrame(data).to_parquet(path, index=False)
    return path


def experiment(tmp_path: Path, reps: int = 6, file: str = "calib/posterior.parquet") -> Path:
    (tmp_path / "calib").mkdir(exist_ok=True)
    if not (tmp_path / "calib" / "posterior.parquet").exists():
        posterior_file(tmp_path / "calib" / "posterior.parquet")
    path = tmp_path / "e.toml"
    path.write_text(EXPERIMENT.format(reps=reps, file=file), encoding="utf-8")
    return path


def test_each_replication_takes_one_particle_for_every_design_point(tmp_path):
    exp = load_experiment(experiment(tmp_path, reps=8))
    posterior = exp.posterior
    assert posterior is not None
    assert posterior.names == (HOURS, GAIN)
    runs = expand(exp)
    for r in range(8):
        mine = [s for s in runs if s.replication == r]
        assert len({s.draw for s in mine}) == 1, "the points of a replication share a particle"
        assert len({s.seed for s in mine}) == 1, "and a seed"
        (draw,) = {s.draw for s in mine}
        assert draw is not None
        assert dict(mine[0].parameters) == {
            HOURS: posterior.values[draw, 0],
            GAIN: posterior.values[draw, 1],
        }
        assert mine[0].overrides[HOURS] == posterior.values[draw, 0]
    assert all(s.draw != 3 for s in runs), "a particle of weight 0 is never drawn"


def test_more_replications_keep_every_earlier_replications_particle(tmp_path):
    exp = load_experiment(experiment(tmp_path, reps=4))
    small = [(s.seed, s.draw) for s in expand(exp)]
    large = [(s.seed, s.draw) for s in expand(with_replications(exp, 40, "--replications"))]
    assert large[: len(small)] == small


def test_draws_follow_the_weights(tmp_path):
    """Over 4,000 replications each particle's share is its weight within 4 standard errors."""
    posterior = read_posterior(posterior_file(tmp_path / "p.parquet"))
    n = 4000
    draws = np.array([posterior.draw_index(2015, r) for r in range(n)])
    for i, weight in enumerate(posterior.weights):
        share = np.mean(draws == i)
        se = np.sqrt(max(weight * (1 - weight), 1e-12) / n)
        assert abs(share - weight) <= 4 * se, (i, share, weight)


def test_a_sample_for_conclusions_is_reproducible_by_seed(tmp_path):
    posterior = read_posterior(posterior_file(tmp_path / "p.parquet"))
    a, b, c = posterior.sample(50, 1), posterior.sample(50, 1), posterior.sample(50, 2)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert list(a.columns) == [HOURS, GAIN]


def test_the_digest_follows_the_posteriors_content_not_its_name(tmp_path):
    first = load_experiment(experiment(tmp_path))
    (tmp_path / "elsewhere").mkdir()
    copy = tmp_path / "elsewhere" / "p.parquet"
    copy.write_bytes((tmp_path / "calib" / "posterior.parquet").read_bytes())
    moved = load_experiment(experiment(tmp_path, file="elsewhere/p.parquet"))
    assert moved.digest() == first.digest()
    posterior_file(copy, weights=(0.25, 0.25, 0.25, 0.25))
    changed = load_experiment(experiment(tmp_path, file="elsewhere/p.parquet"))
    assert changed.digest() != first.digest()
    assert changed.to_dict()["posterior"]["file"] == "elsewhere/p.parquet"


def test_a_sweep_over_a_posterior_runs_each_particle_and_is_the_same_on_any_executor(tmp_path):
    exp = load_experiment(experiment(tmp_path, reps=5))
    serial, pooled = tmp_path / "serial", tmp_path / "pooled"
    run_sweep(exp, serial, executor=Serial(), progress=Silent())
    with LocalPool(2) as pool:
        run_sweep(exp, pooled, executor=pool, progress=Silent())
    runs = read_runs(serial).drop(columns="duration_s")
    pd.testing.assert_frame_equal(runs, read_runs(pooled).drop(columns="duration_s"))
    pd.testing.assert_frame_equal(read_months(serial), read_months(pooled))
    assert (runs["status"] == "ok").all()
    assert {"draw", HOURS, GAIN} <= set(runs.columns)
    assert read_manifest(serial)["factors"] == ["governance.mode"]
    # Every run is the base scenario at its particle, run alone with its seed.
    base = exp.base
    for _, row in runs.sample(4, random_state=0).iterrows():
        scenario = with_overrides(
            base,
            {"governance.mode": row["governance.mode"], HOURS: row[HOURS], GAIN: row[GAIN]},
            "test",
        )
        model = RegulationModel(scenario, rng=int(row["seed"]), record="months")
        model.run_model()
        expected = run_outcomes(model.datacollector.model_vars, scenario)
        for name, value in expected.items():
            assert row[name] == pytest.approx(value, nan_ok=True), name
    # The parameters vary between replications, so they change results beyond the seed's.
    assert runs[HOURS].nunique() > 1


def test_the_summary_treats_the_drawn_parameters_as_neither_factors_nor_outcomes(tmp_path):
    exp = load_experiment(experiment(tmp_path, reps=4))
    out = tmp_path / "sweep"
    run_sweep(exp, out, executor=Serial(), progress=Silent())
    summary = summarize(out)
    assert set(summary.cells["governance.mode"]) == {"hierarchical", "hybrid"}
    outcomes = set(summary.cells["outcome"])
    assert not outcomes & {"draw", HOURS, GAIN}
    assert len(summary.cells) == 2 * len(outcomes)


def test_set_cannot_fix_a_drawn_key(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    with pytest.raises(RelsimError, match="drawn from the posterior"):
        with_base_overrides(exp, {HOURS: 3.0}, "--set")


@pytest.mark.parametrize(
    ("posterior", "table", "expected"),
    [
        (
            None,
            'file = "calib/none.parquet"',
            "posterior.file: calib/none.parquet: no such posterior",
        ),
        ({HOURS: [2.0], "weight": [0.0]}, 'file = "calib/bad.parquet"', "every weight is 0"),
        (
            {"governance.board.hourz": [2.0], "weight": [1.0]},
            'file = "calib/bad.parquet"',
            "unknown key",
        ),
        (
            {HOURS: [-2.0], "weight": [1.0]},
            'file = "calib/bad.parquet"',
            "particle 0 of calib/bad.parquet is not a valid scenario",
        ),
        (
            {"governance.mode": ["networked"], "weight": [1.0]},
            'file = "calib/bad.parquet"',
            "only numeric keys",
        ),
        (
            {HOURS: [2.0], "weight": [1.0]},
            'fil = "calib/bad.parquet"',
            "posterior.fil: unknown key",
        ),
        ({HOURS: [2.0], "weight": [True]}, 'file = "calib/bad.parquet"', "not true/false"),
        ({HOURS: [2.0], "weight": [1.0]}, 'file = "calib/bad.parquet"', "varied"),
    ],
)
def test_bad_posteriors_are_one_line_naming_the_experiment_and_field(
    tmp_path, posterior, table, expected
):
    (tmp_path / "calib").mkdir()
    if posterior is not None:
        pd.DataFrame(posterior).to_parquet(tmp_path / "calib" / "bad.parquet")
    path = tmp_path / "bad.toml"
    factors = f'"{HOURS}" = [2.0, 4.0]' if "varied" in expected else ""
    path.write_text(
        '[experiment]\nscenario = "nhs_vmi_partnership"\n'
        f"[factors]\n{factors}\n[posterior]\n{table}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "relsim.cli", "sweep", str(path), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"relsim: {path}: "), err
    assert expected in err, err


def test_load_scenario_is_untouched_by_a_posterior(tmp_path):
    """The experiment's base scenario stays the file's: the posterior acts on runs only."""
    exp = load_experiment(experiment(tmp_path))
    assert (
        exp.base.digest()
        == with_overrides(
            load_scenario("nhs_vmi_partnership"), {"scenario.months": 18}, "test"
        ).digest()
    )


def test_a_whole_number_key_takes_its_particles_value_rounded(tmp_path):
    key = "governance.board.meeting_interval_months"
    path = posterior_file(tmp_path / "p.parquet", weights=(1.0, 1.0), **{key: [1.6, 2.4]})
    posterior = read_posterior(path)
    assert posterior.integer == (True,)
    assert [posterior.parameters(i) for i in range(2)] == [((key, 2),), ((key, 2),)]
    assert all(isinstance(v, int) for _, v in posterior.parameters(0))


def test_the_report_says_the_parameters_came_from_a_posterior(tmp_path):
    from relsim.presentation.report import write_report

    exp = load_experiment(experiment(tmp_path, reps=4))
    out = tmp_path / "sweep"
    run_sweep(exp, out, executor=Serial(), progress=Silent())
    html = Path(write_report(out)).read_text(encoding="utf-8")
    assert "Parameters from a posterior" in html
    assert "calib/posterior.parquet" in html
    assert f"<code>{HOURS}</code>" in html
    # Typical runs are re-simulated with their drawn parameters, and reproduce bit for bit.
    assert "each re-simulated run reproduces the monthly series the sweep stored" in html


def test_a_dry_run_names_the_posterior_and_its_keys(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "relsim.cli", "sweep", str(experiment(tmp_path)), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        f"posterior (calib/posterior.parquet, 4 particles): each replication draws {HOURS}, {GAIN}"
        in proc.stdout
    )


def test_a_posterior_that_is_not_a_regular_file_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "p.parquet"
    os.mkfifo(fifo)
    with pytest.raises(RelsimError, match="not a regular file"):
        read_posterior(fifo)
    with pytest.raises(RelsimError, match="not a regular file"):
        read_posterior("/dev/zero")


def test_set_that_makes_a_particle_invalid_is_refused_before_running(tmp_path):
    """--set changes the base every particle is applied to, so each is checked again: a
    ceiling of 0.5 is valid beside the base's floor of 0.4 but not beside a drawn floor of 0.6."""
    floor = "governance.board.positivity_floor"
    (tmp_path / "calib").mkdir()
    posterior_file(
        tmp_path / "calib" / "posterior.parquet", weights=(1.0, 1.0), **{floor: [0.3, 0.6]}
    )
    exp = load_experiment(experiment(tmp_path))
    ceiling = {"governance.board.positivity_ceiling": 0.5}
    with_overrides(exp.base, ceiling, "--set")  # valid on the base alone
    with pytest.raises(RelsimError, match=r"particle 1 of calib/posterior\.parquet"):
        with_base_overrides(exp, ceiling, "--set")


def test_a_particle_that_breaks_a_rule_beside_a_cells_level_is_refused_before_running(tmp_path):
    """A drawn floor of 0.6 is valid beside the base's ceiling but not beside a varied one of
    0.5: refused at load, naming the particle and the cell, before any run fails."""
    floor, ceiling = "governance.board.positivity_floor", "governance.board.positivity_ceiling"
    (tmp_path / "calib").mkdir()
    posterior_file(tmp_path / "calib" / "p.parquet", weights=(1.0, 1.0), **{floor: [0.3, 0.6]})
    path = tmp_path / "e.toml"
    path.write_text(
        '[experiment]\nscenario = "nhs_vmi_partnership"\n'
        f'[factors]\n"{ceiling}" = [0.9, 0.5]\n[posterior]\nfile = "calib/p.parquet"\n',
        encoding="utf-8",
    )
    with pytest.raises(RelsimError, match=r"particle 1 of calib/p\.parquet .* in the cell"):
        load_experiment(path)


def test_base_cannot_fix_a_drawn_key(tmp_path):
    (tmp_path / "calib").mkdir()
    posterior_file(tmp_path / "calib" / "posterior.parquet")
    path = tmp_path / "e.toml"
    path.write_text(
        EXPERIMENT.format(reps=2, file="calib/posterior.parquet").replace(
            "[base]\n", f'[base]\n"{HOURS}" = 5.0\n'
        ),
        encoding="utf-8",
    )
    with pytest.raises(RelsimError, match="drawn from the posterior"):
        load_experiment(path)


def test_a_posterior_sweep_extended_by_resume_is_the_sweep_run_whole(tmp_path):
    """Two replications, then --replications 5 --resume on two workers: the same runs table
    (draws included) as five replications run at once on one."""
    exp = load_experiment(experiment(tmp_path, reps=5))
    whole, grown = tmp_path / "whole", tmp_path / "grown"
    run_sweep(exp, whole, executor=Serial(), progress=Silent())
    run_sweep(with_replications(exp, 2, "test"), grown, executor=Serial(), progress=Silent())
    with LocalPool(2) as pool:
        run_sweep(exp, grown, executor=pool, progress=Silent(), resume=True)
    pd.testing.assert_frame_equal(
        read_runs(whole).drop(columns="duration_s"), read_runs(grown).drop(columns="duration_s")
    )


def test_sensitivity_of_a_posterior_sweep_leaves_the_drawn_columns_out(tmp_path):
    from relsim.analysis.sensitivity import sensitivity

    (tmp_path / "calib").mkdir()
    posterior_file(tmp_path / "calib" / "posterior.parquet")
    path = tmp_path / "m.toml"
    path.write_text(
        '[experiment]\nscenario = "nhs_vmi_partnership"\nreplications = 2\nseed = 3\n'
        '[base]\n"scenario.months" = 12\n'
        '[sampling]\nmethod = "morris"\nn = 2\n[sampling.ranges]\n'
        '"pressure.baseline" = [0.1, 0.6]\n"trust_dynamics.loss_ratio" = [1.5, 5.0]\n'
        '[posterior]\nfile = "calib/posterior.parquet"\n',
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    run_sweep(load_experiment(path), out, executor=Serial(), progress=Silent())
    result = sensitivity(out)
    shown = set(result.table["outcome"]) | {k.split(" ")[0] for k in result.skipped}
    assert "trust_in_regulator_final" in shown
    assert not {"draw", HOURS, GAIN} & shown
    with pytest.raises(RelsimError, match="unknown outcome 'draw'"):
        sensitivity(out, outcomes=["draw"])
