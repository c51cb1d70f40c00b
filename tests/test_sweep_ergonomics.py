"""Before and after a sweep: --dry-run, --replications, --set, and extending a finished sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from relsim.cli import main
from relsim.runs.store import read_manifest, read_months, read_runs

EXPERIMENT = """
[experiment]
name = "small"
scenario = "nhs_vmi_partnership"
replications = 2
seed = 3
[base]
"scenario.months" = 18
[factors]
"governance.mode" = ["hierarchical", "networked"]
"""


@pytest.fixture
def experiment(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def test_a_dry_run_checks_counts_and_estimates_and_writes_nothing(experiment, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["sweep", str(experiment), "--out", str(out), "--dry-run", "--workers", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "valid; nothing is run or written" in printed
    assert "2 cells, 2 design points, 2 replications each: 4 runs" in printed
    assert 'governance.mode = "networked"' in printed
    assert "estimated time: about" in printed
    assert not out.exists()


def test_a_dry_run_of_a_bad_experiment_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(EXPERIMENT.replace('"hierarchical"', '"hierarchal"'), encoding="utf-8")
    assert main(["sweep", str(bad), "--dry-run", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert 'factors."governance.mode"[0]' in err


def test_replications_and_set_make_a_small_version_of_an_experiment(tmp_path, capsys):
    out = tmp_path / "gc"
    args = ["sweep", "governance_comparison", "--out", str(out), "--workers", "1", "--quiet"]
    args += ["--replications", "2", "--set", "scenario.months=12", "--no-summary"]
    assert main(args) == 0
    runs = read_runs(out)
    assert len(runs) == 8 * 2  # four rules x compact on or off, two replications
    assert read_months(out)["month"].max() == 12
    manifest = read_manifest(out)
    assert manifest["experiment"]["replications"] == 2
    assert manifest["scenario"]["scenario"]["months"] == 12


def test_set_cannot_fix_a_varied_key(capsys):
    code = main(["sweep", "governance_comparison", "--dry-run", "--set", "governance.mode=x"])
    assert code == 2
    assert "governance.mode: is varied by the experiment" in capsys.readouterr().err


def _tables(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_runs(directory).drop(columns="duration_s"), read_months(directory)


def test_resume_with_more_replications_extends_a_finished_sweep(experiment, tmp_path, capsys):
    base = ["sweep", str(experiment), "--workers", "1", "--quiet", "--no-summary"]
    small, fresh = tmp_path / "small", tmp_path / "fresh"
    assert main([*base, "--out", str(small)]) == 0
    ran_first = read_runs(small)
    assert main([*base, "--out", str(small), "--replications", "4", "--resume"]) == 0
    manifest = read_manifest(small)
    assert manifest["status"] == "complete"
    assert manifest["runs_total"] == 8
    assert manifest["extended"][0]["replications"] == [2, 4]
    # The first runs were not run again (their wall-clock times are as first saved), and the
    # tables are exactly those of a sweep of 4 replications from the start.
    again = read_runs(small).set_index("run_id").loc[ran_first["run_id"], "duration_s"]
    assert again.tolist() == ran_first["duration_s"].tolist()
    assert main([*base, "--out", str(fresh), "--replications", "4"]) == 0
    extended, whole = _tables(small), _tables(fresh)
    pd.testing.assert_frame_equal(extended[0], whole[0])
    pd.testing.assert_frame_equal(extended[1], whole[1])
    # Fewer replications than the sweep holds would drop runs: refused.
    capsys.readouterr()
    assert main([*base, "--out", str(small), "--replications", "3", "--resume"]) == 2
    assert "replications 4 there, 3 here" in capsys.readouterr().err
    assert json.loads((small / "manifest.json").read_text())["runs_total"] == 8


def test_the_continue_hint_repeats_set_and_replications(tmp_path, capsys, monkeypatch, experiment):
    """The command printed after an interruption continues *this* sweep: run as printed, it
    neither extends it to the file's replications nor is refused as another experiment."""
    import shlex
    from types import SimpleNamespace

    import relsim.runs.runner as runner

    out = tmp_path / "o"
    args = ["sweep", str(experiment), "--out", str(out), "--workers", "1", "--quiet"]
    args += ["--set", "scenario.months=12", "--replications", "1", "--no-summary"]
    real = runner.run_sweep

    def interrupted(experiment, out, **options):
        real(experiment, out, **options)  # saves every run, then says it was stopped
        return SimpleNamespace(interrupted=True, done=2, total=2, repairs=[])

    monkeypatch.setattr(runner, "run_sweep", interrupted)
    assert main(args) == 130
    hint = capsys.readouterr().err.strip().split("continue with: ")[1]
    monkeypatch.setattr(runner, "run_sweep", real)
    again = shlex.split(hint)
    assert again[:2] == ["relsim", "sweep"]
    assert main([*again[1:], "--quiet", "--no-summary"]) == 0
    assert read_manifest(out)["runs_total"] == 2  # one replication of each mode, as started
    assert read_months(out)["month"].max() == 12
