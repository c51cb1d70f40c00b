"""Sensitivity analysis that leaves out what it cannot analyse, with a reason, instead of failing.

Most cases are small pure-data designs and outcome tables; the sweep behind ``sensitivity()`` is
replaced by a synthetic manifest and runs table, so each case controls exactly which replications
are missing. One test runs a tiny Latin-hypercube sweep and the command itself, as a user would.
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from SALib.sample import morris as morris_sample
from scipy.stats import qmc

import relsim.analysis.sensitivity as sens
from relsim.analysis.sensitivity import (
    Sensitivity,
    UndefinedIndicesError,
    analyze,
    delta_classes,
    delta_indices,
    discrete_delta,
    point_values,
    sensitivity,
    why_left_out,
)
from relsim.cli import main
from relsim.errors import RelsimError
from relsim.presentation.sensitivity_figures import sensitivity_figure
from relsim.presentation.tables import format_sensitivity, replications_phrase
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep

THREE = {"num_vars": 3, "names": ["strong", "weak", "none"], "bounds": [[0, 1]] * 3}


def lhs(n: int, seed: int, d: int = 3) -> np.ndarray:
    return qmc.LatinHypercube(d=d, rng=seed).random(n)


# --- each design point's value over its replications ------------------------------------------


def test_a_point_with_a_missing_replication_is_undefined_not_the_mean_of_the_others():
    sample = [0, 0, 1, 1, 2, 2]
    values = [10.0, math.nan, 2.0, 4.0, math.nan, math.nan]
    got = point_values(sample, values, 3)
    # Point 0 was censored in one run of two: its mean would be 10, biased toward the run that
    # got there. Point 1 is complete; point 2 has no value at all.
    assert np.isnan(got[0])
    assert got[1] == 3.0
    assert np.isnan(got[2])


def test_a_point_without_any_run_is_undefined():
    got = point_values([0, 0, 2], [1.0, 3.0, 5.0], 3)
    np.testing.assert_array_equal(got[[0, 2]], [2.0, 5.0])
    assert np.isnan(got[1])


def test_the_reason_says_how_many_points_are_undefined_and_why():
    y = np.r_[np.full(12, np.nan), np.arange(4.0)]
    assert why_left_out("full_adoption_month_daily_huddles", y) == (
        "undefined at 12 of 16 design points: some runs never reached full adoption"
    )
    assert "never had a compact in force" in str(why_left_out("compact_month", y))
    assert "shorter than 36 months" in str(why_left_out("trust_in_regulator_m36", y))
    assert why_left_out("disclosures", y) == (
        "undefined at 12 of 16 design points: some runs have no value"
    )


def test_a_constant_outcome_is_left_out_and_a_varying_one_is_not():
    assert why_left_out("gaming_gap", np.zeros(8)) == (
        "constant over the design (every design point gives 0)"
    )
    assert why_left_out("disclosures", np.arange(8.0)) is None


# --- Borgonovo's delta on a Latin hypercube ----------------------------------------------------


@pytest.mark.parametrize(("n", "at_least"), [(8, 15), (16, 18)])
def test_delta_gives_indices_for_designs_of_fewer_than_20_points(n, at_least):
    # SALib 1.6's delta.analyze left every index NaN below 20 points, and ranking NaNs raised
    # IntCastingNaNError. Over 20 designs the dominant input must come first nearly always.
    first = []
    for seed in range(20):
        x = lhs(n, seed)
        table = analyze("lhs", THREE, x, 3 * x[:, 0] + x[:, 1] ** 2)
        assert np.isfinite(table[["delta", "delta_conf", "S1", "S1_conf"]].to_numpy()).all()
        assert sorted(table["rank"]) == [1, 2, 3]
        first.append(table.loc[table["rank"] == 1, "parameter"].iloc[0])
    assert first.count("strong") >= at_least, first


def test_a_nearly_constant_count_gets_small_indices_from_frequencies():
    # The reviewer's case: 63 of 64 points give the same count. Kernel densities of its
    # bootstrap resamples were singular (SALib raised "Singular matrix"); frequencies are not.
    x = lhs(64, 1)
    y = np.full(64, 5.0)
    y[17] = 1.0
    table = analyze("lhs", THREE, x, y)
    assert np.isfinite(table[["delta", "delta_conf", "S1", "S1_conf"]].to_numpy()).all()
    assert (table["delta"] < 0.1).all()


def test_a_kernel_density_that_cannot_be_fitted_is_refused_with_a_reason(monkeypatch):
    import SALib.analyze.delta as salib_delta

    def singular(*args):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(salib_delta, "calc_delta", singular)
    x = lhs(64, 1)
    y = x[:, 0] + x[:, 1]  # continuous: the kernel-density estimator is used
    with pytest.raises(UndefinedIndicesError, match=r"too nearly constant"):
        analyze("lhs", THREE, x, y)


def test_analysis_leaks_no_warnings_and_leaves_the_callers_warning_filters_alone():
    x = lhs(16, 2)
    # Continuous above 0.5 but constant below: SALib warns of the classes it skips.
    y = np.where(x[:, 0] > 0.5, x[:, 0], 0.0)
    with warnings.catch_warnings(record=True) as provoked:
        warnings.simplefilter("always")
        delta_indices(x, y, seed=1)
    assert provoked, "this input no longer provokes SALib's warnings; the test proves nothing"
    filters, formatter = list(warnings.filters), warnings.formatwarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analyze("lhs", THREE, x, y)
    assert caught == []
    assert warnings.filters == filters
    assert warnings.formatwarning is formatter


def test_a_non_finite_index_is_refused_with_a_reason_not_a_casting_error(monkeypatch):
    def nan_for_one(method, problem, x, y, levels, seed):
        return {
            "delta": np.array([0.3, np.nan, 0.1]),
            "delta_conf": np.zeros(3),
            "S1": np.zeros(3),
            "S1_conf": np.zeros(3),
        }

    monkeypatch.setattr(sens, "method_indices", nan_for_one)
    with pytest.raises(UndefinedIndicesError, match=r"no finite delta for weak$"):
        analyze("lhs", THREE, lhs(8, 0), np.arange(8.0))


# --- a synthetic sweep: design, replications, outcomes -----------------------------------------


def synthetic_sweep(
    monkeypatch,
    method: str,
    x: np.ndarray,
    outcomes: dict[str, np.ndarray],
    replications: int,
    **cells: Any,
) -> None:
    """Make ``sensitivity()`` read a sweep of ``method``'s design ``x`` from memory.

    ``outcomes`` maps a name to its values, one row per run in the order point-major, then
    replication; ``cells`` (one grid factor at most) repeats the whole design per level.
    """
    names = [f"x{i}" for i in range(x.shape[1])]
    grid = {k: list(v) for k, v in cells.items()}
    levels = next(iter(grid.values())) if grid else [None]
    rows = []
    for c, level in enumerate(levels):
        for p in range(x.shape[0]):
            for r in range(replications):
                row = {
                    "run_id": len(rows),
                    "point": c * x.shape[0] + p,
                    "replication": r,
                    "seed": 1,
                    **dict(zip(names, x[p], strict=True)),
                    "status": "ok",
                    "error": None,
                    "duration_s": 0.1,
                }
                if grid:
                    row[next(iter(grid))] = level
                rows.append(row)
    runs = pd.DataFrame(rows)
    for name, values in outcomes.items():
        runs[name] = values
    manifest = {
        "factors": list(grid),
        "experiment": {
            "factors": grid,
            "replications": replications,
            "design": x.tolist(),
            "sampling": {
                "method": method,
                "levels": 4,
                "problem": {
                    "num_vars": len(names),
                    "names": names,
                    "bounds": [[0, 1]] * len(names),
                },
            },
        },
    }
    monkeypatch.setattr(sens, "read_manifest", lambda directory: manifest)
    monkeypatch.setattr(sens, "read_runs", lambda directory: runs)


def per_run(values: np.ndarray, replications: int) -> np.ndarray:
    return np.repeat(values, replications)


TWO = {"num_vars": 2, "names": ["x0", "x1"], "bounds": [[0, 1]] * 2}


def morris(trajectories: int, seed: int) -> np.ndarray:
    """A Morris design of two inputs: ``trajectories`` × 3 points."""
    return morris_sample.sample(TWO, trajectories, num_levels=4, seed=seed)


def test_a_partly_censored_outcome_is_left_out_and_the_command_says_why(
    monkeypatch, tmp_path, capsys
):
    x = morris(6, 4)  # 18 points
    signal = 3 * x[:, 0] + x[:, 1]
    month = per_run(10 + 20 * x[:, 0], 2)
    month[[1, 9, 21]] = np.nan  # one replication of points 0, 4 and 10 never got there
    synthetic_sweep(
        monkeypatch,
        "morris",
        x,
        {
            "trust_in_regulator_final": per_run(signal, 2),
            "full_adoption_month_training_heat_map": month,
            "gaming_gap": np.zeros(36),
        },
        replications=2,
    )
    code = main(["sensitivity", str(tmp_path), "--no-figure"])
    out, err = capsys.readouterr()
    assert code == 0
    # Six trajectories are too few for Morris to rank inputs reliably: said once, on stderr.
    assert err.startswith("relsim: warning: small design: 6 trajectories, below the 10")
    assert err.count("\n") == 1
    assert (
        "(left out full_adoption_month_training_heat_map: undefined at 3 of 18 design points: "
        "some runs never reached full adoption)"
    ) in out
    assert "(left out gaming_gap: constant over the design (every design point gives 0))" in out
    assert out.startswith("morris indices (mean over 2 replications per design point); ranked")
    written = pd.read_csv(tmp_path / "sensitivity.csv")
    assert set(written["outcome"]) == {"trust_in_regulator_final"}
    np.testing.assert_allclose(written.set_index("parameter")["mu_star"], [3, 1], atol=1e-9)


def test_a_nearly_constant_outcome_of_a_latin_hypercube_is_analysed(monkeypatch):
    x = lhs(16, 4, d=2)
    nearly_flat = np.full(16, 5.0)
    nearly_flat[3] = 1.0
    synthetic_sweep(
        monkeypatch,
        "lhs",
        x,
        {"disclosures": 3 * x[:, 0] + x[:, 1], "adopters_final_training_heat_map": nearly_flat},
        replications=1,
    )
    result = sensitivity("synthetic")
    # A nearly constant count is analysed (by frequencies), not refused.
    assert set(result.table["outcome"]) == {"disclosures", "adopters_final_training_heat_map"}
    assert result.skipped == {}


def test_a_fully_observed_month_is_analysed_and_the_figure_omits_what_was_left_out(monkeypatch):
    x = morris(4, 5)  # 12 points
    synthetic_sweep(
        monkeypatch,
        "morris",
        x,
        {
            "full_adoption_month_daily_huddles": 10 + 20 * x[:, 1],
            "compact_month": np.r_[np.nan, 12 + x[1:, 0]],
        },
        replications=1,
    )
    result = sensitivity("synthetic")
    assert set(result.table["outcome"]) == {"full_adoption_month_daily_huddles"}
    assert result.skipped == {
        "compact_month": "undefined at 1 of 12 design points: some runs never had a compact "
        "in force"
    }
    fig = sensitivity_figure(result)
    titles = [ax.get_title().replace("\n", "") for ax in fig.axes if ax.get_visible()]
    assert titles == ["full_adoption_month_daily_huddles"]  # (wrapped to fit its panel)
    np.testing.assert_allclose(
        result.table.set_index("parameter").loc[["x0", "x1"], "mu_star"], [0, 20], atol=1e-9
    )


def test_each_grid_cell_reports_its_own_left_out_outcomes(monkeypatch):
    x = morris(4, 6)  # 12 points
    month = np.r_[10 + 20 * x[:, 0], 10 + 20 * x[:, 0]]
    month[15] = np.nan  # censored in the second cell only
    synthetic_sweep(
        monkeypatch,
        "morris",
        x,
        {"full_adoption_month_p": month},
        replications=1,
        compact=[True, False],
    )
    result = sensitivity("synthetic")
    assert set(result.table["compact"]) == {True}
    assert result.skipped == {
        "False · full_adoption_month_p": "undefined at 1 of 12 design points: some runs never "
        "reached full adoption"
    }


def test_when_nothing_can_be_analysed_the_error_gives_every_reason(monkeypatch, tmp_path, capsys):
    x = lhs(8, 7, d=2)
    synthetic_sweep(
        monkeypatch,
        "lhs",
        x,
        {"gaming_gap": np.zeros(8), "compact_month": np.r_[np.nan, np.arange(7.0)]},
        replications=1,
    )
    code = main(["sensitivity", str(tmp_path), "--no-figure"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "no outcome can be analysed" in err
    assert "gaming_gap: constant over the design" in err
    assert "compact_month: undefined at 1 of 8 design points" in err


# --- the header ---------------------------------------------------------------------------------


def test_the_header_reads_naturally_for_one_and_several_replications():
    assert replications_phrase(1) == "1 replication per design point"
    assert replications_phrase(4) == "mean over 4 replications per design point"
    table = pd.DataFrame(
        {
            "outcome": ["y", "y"],
            "parameter": ["a", "b"],
            "method": ["sobol", "sobol"],
            "S1": [0.5, 0.1],
            "S1_conf": [0.1, 0.1],
            "ST": [0.6, 0.2],
            "ST_conf": [0.1, 0.1],
            "rank": [1, 2],
        }
    )
    header = format_sensitivity(Sensitivity("sobol", table, {}, 1)).splitlines()[0]
    assert header == (
        "sobol indices (1 replication per design point); ranked by ST, with its 95% interval"
    )


# --- the command on a real (tiny) Latin-hypercube sweep -----------------------------------------

LHS8 = """
[experiment]
name = "tiny lhs"
description = "Does a Latin hypercube of 8 points get its indices?"
scenario = "nhs_vmi_partnership"
replications = 1
seed = 20170601
[base]
"scenario.months" = 24
[sampling]
method = "lhs"
n = 8
[sampling.ranges]
"trust_dynamics.loss_ratio" = [1.5, 5.0]
"pressure.baseline" = [0.1, 0.6]
"""


def test_the_command_analyses_an_8_point_latin_hypercube_without_traceback_or_warnings(
    tmp_path: Path,
):
    path = tmp_path / "e.toml"
    path.write_text(LHS8)
    run_sweep(load_experiment(path), tmp_path / "s", executor=Serial(), progress=Silent())
    done = subprocess.run(
        [sys.executable, "-m", "relsim.cli", "sensitivity", str(tmp_path / "s"), "--no-figure"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # No Python warning or traceback; only relsim's own notes (8 points are too few for delta).
    assert all(line.startswith("relsim: warning: ") for line in done.stderr.splitlines())
    assert "small design: 8 points, below the 100" in done.stderr
    table = pd.read_csv(tmp_path / "s" / "sensitivity.csv")
    trust = table[table["outcome"] == "trust_in_regulator_final"]
    assert len(trust) == 2
    assert np.isfinite(trust["delta"]).all()
    assert "lhs indices (1 replication per design point)" in done.stdout


@pytest.mark.parametrize("outcome", ["binary", "count"])
def test_delta_ranks_first_an_input_that_decides_a_discrete_outcome(outcome):
    """A kernel density skips classes where the outcome is constant; frequencies do not."""
    x = qmc.LatinHypercube(d=3, rng=1).random(64)
    y = (x[:, 0] > 0.5).astype(float) if outcome == "binary" else np.floor(4 * x[:, 0])
    indices = delta_indices(x, y, seed=5)
    delta, conf = indices["delta"], indices["delta_conf"]
    assert np.argmax(delta) == 0
    # Its interval lies above both others'.
    assert delta[0] - conf[0] > max(delta[1:] + conf[1:])


@pytest.mark.parametrize("values", [2, 5, 10, 20])
def test_frequency_delta_of_an_input_that_does_nothing_is_near_zero(values):
    """Plug-in frequencies differ by chance; the permutation baseline removes that bias.

    Over 20 designs of 64 points, the mean δ of an irrelevant input is within 0.03 of 0 (without
    the baseline it was 0.06 to 0.21 for 5 to 20 values), and its 95% interval excludes 0 in
    at most 4 of the 20.
    """
    deltas, excluded = [], 0
    for seed in range(20):
        x = qmc.LatinHypercube(d=2, rng=seed).random(64)
        y = np.floor(np.random.default_rng(seed + 100).random(64) * values)
        indices = delta_indices(x, y, seed=5)
        deltas.append(indices["delta"][0])
        excluded += bool(indices["delta"][0] - indices["delta_conf"][0] > 0)
    assert abs(np.mean(deltas)) < 0.03
    assert excluded <= 4


def test_discrete_delta_is_zero_for_an_outcome_independent_of_the_input():
    y = np.tile([0.0, 1.0], 48)
    x = np.repeat(np.arange(48.0), 2)  # each class of x (24 points) holds as many 0s as 1s
    edges = delta_classes(96)
    assert np.all(edges % 2 == 0)
    assert discrete_delta(y, y, x, edges) == pytest.approx(0.0, abs=1e-12)


def _runs_after(monkeypatch, change):
    """Change the synthetic sweep's runs table as a failure or an interruption would."""
    runs = sens.read_runs("synthetic")
    monkeypatch.setattr(sens, "read_runs", lambda directory: change(runs.copy()))


def test_a_failed_replication_makes_its_design_point_undefined(monkeypatch):
    x = lhs(16, 4, d=2)
    synthetic_sweep(
        monkeypatch, "lhs", x, {"disclosures": per_run(3 * x[:, 0] + x[:, 1], 2)}, replications=2
    )

    def fail_one(runs):
        runs.loc[1, ["status", "error", "disclosures"]] = ["error", "ValueError: boom", np.nan]
        return runs

    _runs_after(monkeypatch, fail_one)
    with pytest.raises(RelsimError, match=r"disclosures: undefined at 1 of 16 design points: "):
        sensitivity("synthetic")


def test_a_sweep_missing_replications_is_refused_not_averaged(monkeypatch):
    x = lhs(16, 4, d=2)
    synthetic_sweep(
        monkeypatch, "lhs", x, {"disclosures": per_run(3 * x[:, 0] + x[:, 1], 2)}, replications=2
    )
    _runs_after(monkeypatch, lambda runs: runs[runs["replication"] == 0])  # stopped half-way
    with pytest.raises(RelsimError, match=r"16 of 16 design points lack some of their 2"):
        sensitivity("synthetic")


def test_notes_warn_of_a_small_design_and_explain_a_negative_delta():
    from relsim.analysis.sensitivity import NEGATIVE_DELTA, design_notes

    table = pd.DataFrame({"delta": [0.2, -0.01]})
    notes = design_notes("lhs", 64, table)
    assert notes[0].startswith("small design: 64 points, below the 100")
    assert notes[1] == NEGATIVE_DELTA
    assert design_notes("lhs", 128, table.abs()) == ()
    assert design_notes("morris", 20, pd.DataFrame({"mu_star": [1.0]})) == ()
    assert "9 trajectories" in design_notes("morris", 9, pd.DataFrame({"mu_star": [1.0]}))[0]


def test_the_console_figure_and_report_show_headline_outcomes_first_in_one_order(monkeypatch):
    from relsim.presentation.labels import ordered_outcomes
    from relsim.presentation.tables import format_sensitivity

    x = morris(10, 3)
    names = ["safety_final", "disclosures", "trust_in_regulator_final", "attendance_mean"]
    synthetic_sweep(
        monkeypatch,
        "morris",
        x,
        {name: per_run(k + 1 + x[:, 0] * (k + 1) + x[:, 1], 1) for k, name in enumerate(names)},
        replications=1,
    )
    result = sensitivity("synthetic")
    want = ["trust_in_regulator_final", "disclosures", "safety_final", "attendance_mean"]
    assert ordered_outcomes(result.table["outcome"]) == want
    text = format_sensitivity(result)
    assert [text.index(f"\n{o}\n") for o in want] == sorted(text.index(f"\n{o}\n") for o in want)
    assert "mu_star in the outcome's units over each input's full range" in text
    fig = sensitivity_figure(result, ["disclosures", "safety_final"])
    titles = [ax.get_title().replace("\n", "") for ax in fig.axes if ax.get_visible()]
    assert titles == ["disclosures", "safety_final"]  # the outcomes chosen, in that order
    assert "the input's full range" in fig.axes[0].get_xlabel()
    default = [ax.get_title() for ax in sensitivity_figure(result).axes if ax.get_visible()]
    assert default[0] == "trust_in_regulator_final"
