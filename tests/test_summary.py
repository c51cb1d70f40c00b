"""Summary statistics against known answers, and the summary of a real sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relsim.analysis.stats import km_median
from relsim.analysis.summary import (
    cell_rows,
    compact_start,
    summarize,
)
from relsim.presentation.tables import format_summary
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep
from relsim.runs.store import read_runs
from relsim.scenario import load_scenario, with_overrides

EXPERIMENT = """
[experiment]
scenario = "nhs_vmi_partnership"
replications = 6
seed = 11
[factors]
"governance.mode" = ["hierarchical", "networked"]
"""


def test_summary_of_a_sweep_matches_direct_computation(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(EXPERIMENT)
    run_sweep(load_experiment(path), tmp_path / "s", executor=Serial(), progress=Silent())
    runs = read_runs(tmp_path / "s")
    summary = summarize(tmp_path / "s")
    cells = summary.cells.set_index(["governance.mode", "outcome"])
    for mode, group in runs.groupby("governance.mode"):
        mean = cells.loc[(mode, "trust_in_regulator_final"), "estimate"]
        assert mean == pytest.approx(group["trust_in_regulator_final"].mean())
        share = cells.loc[(mode, "reached_all_training_heat_map"), "estimate"]
        assert share == pytest.approx(group["full_adoption_month_training_heat_map"].notna().mean())
        # The compact: the share of runs in which it came into force, and a Kaplan-Meier
        # median in which runs without one are censored at the horizon (not a mean of the rest).
        month = group["compact_month"].to_numpy(float)
        reached = ~np.isnan(month)
        compact = cells.loc[(mode, "compact_in_force")]
        assert (mode, "compact_month") not in cells.index
        if mode == "hierarchical":  # no board, no compact to negotiate: no run counts
            assert compact["n"] == 0
            assert not reached.any()
            continue
        assert compact["estimate"] == pytest.approx(reached.mean())
        median = cells.loc[(mode, "months_to_compact"), "estimate"]
        want = km_median(np.where(reached, month, 60.0), reached)[0]
        assert median == pytest.approx(want)
    comparison = summary.comparison.set_index("outcome")
    assert (comparison["compared"] == "networked").all()
    assert comparison["paired"].all()
    paired = (
        runs[runs["governance.mode"] == "networked"].set_index("replication")["disclosures"]
        - runs[runs["governance.mode"] == "hierarchical"].set_index("replication")["disclosures"]
    )
    assert comparison.loc["disclosures", "difference"] == pytest.approx(paired.mean())
    assert comparison.loc["disclosures", "n"] == 6
    assert isinstance(summary.cells, pd.DataFrame)


def test_mean_intervals_stay_within_what_an_outcome_can_take():
    from relsim.runs.outcomes import outcome_range

    assert outcome_range("attendance_mean") == (0.0, 1.0)
    assert outcome_range("surprises") == (0.0, float("inf"))
    runs = pd.DataFrame(
        {"attendance_mean": [1.0, 1.0, 0.86], "surprises": [0.0, 0.0, 24.0], "run_id": [0, 1, 2]}
    )
    manifest = {"scenario": {"scenario": {"months": 60}, "practices": []}}
    rows = {r["outcome"]: r for r in cell_rows(runs, ["attendance_mean", "surprises"], manifest)}
    assert rows["attendance_mean"]["ci_high"] == 1.0  # the t interval alone reaches 1.13
    assert rows["surprises"]["ci_low"] == 0.0  # and this one -26


class _StopAfterFirstTask(Silent):
    def update(self, done: int, failed: int) -> None:
        raise KeyboardInterrupt


def test_the_summary_of_an_unfinished_sweep_says_so(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(EXPERIMENT.replace("replications = 6", "replications = 60"))
    out = tmp_path / "s"
    stopped = run_sweep(
        load_experiment(path), out, executor=Serial(), progress=_StopAfterFirstTask()
    )
    assert stopped.interrupted
    summary = summarize(out)
    assert (summary.runs, summary.total) == (len(read_runs(out)), 120)
    assert summary.unfinished
    first = format_summary(summary).splitlines()[0]
    assert first.startswith(f"UNFINISHED: {summary.runs} of the experiment's 120 runs are saved")
    run_sweep(load_experiment(path), out, executor=Serial(), progress=Silent(), resume=True)
    done = summarize(out)
    assert not done.unfinished
    assert not format_summary(done).startswith("UNFINISHED")


def test_the_compact_is_timed_from_when_a_board_rule_takes_over():
    base = load_scenario("nhs_vmi_partnership")
    assert compact_start(base) == 0
    assert compact_start(with_overrides(base, {"governance.compact.enabled": False})) is None
    hierarchical = with_overrides(base, {"governance.mode": "hierarchical"})
    assert compact_start(hierarchical) is None
    switched = with_overrides(
        hierarchical, {"governance.changes": [{"month": 30, "mode": "networked"}]}
    )
    assert compact_start(switched) == 30


class _StopAtOnce(Silent):
    def start(self, total: int, done: int, failed: int, where: str) -> None:
        raise KeyboardInterrupt


def test_a_sweep_stopped_before_any_run_is_summarised_without_error(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(EXPERIMENT)
    out = tmp_path / "s"
    assert run_sweep(
        load_experiment(path), out, executor=Serial(), progress=_StopAtOnce()
    ).interrupted
    summary = summarize(out)
    assert (summary.runs, summary.total, summary.cells.empty) == (0, 12, True)
    assert format_summary(summary) == "no finished runs to summarise"
