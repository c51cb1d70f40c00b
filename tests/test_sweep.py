"""Sweeps: the same results on any executor, nothing lost or duplicated across kills."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import relsim.runs.runner
from relsim import RegulationModel
from relsim.cli import main
from relsim.runs.executors import DaskCluster, LocalPool, Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.outcomes import run_outcomes
from relsim.runs.progress import Lines, Silent
from relsim.runs.runner import run_sweep
from relsim.runs.store import read_manifest, read_months, read_runs
from relsim.scenario import with_overrides

RELSIM = [sys.executable, "-m", "relsim.cli"]

SMALL = """
[experiment]
name = "small"
scenario = "nhs_vmi_partnership"
replications = {reps}
seed = 7
[base]
"scenario.months" = {months}
[factors]
"governance.mode" = ["hierarchical", "networked"]
"governance.compact.enabled" = [true, false]
"""


def experiment_file(directory: Path, reps: int = 3, months: int = 24) -> Path:
    path = directory / f"small-{reps}-{months}.toml"
    path.write_text(SMALL.format(reps=reps, months=months), encoding="utf-8")
    return path


def tables(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs (without their wall-clock duration) and months, sorted."""
    return read_runs(directory).drop(columns="duration_s"), read_months(directory)


@cache
def reference(tmp: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An uninterrupted serial sweep of the small experiment."""
    out = tmp / "reference"
    run_sweep(load_experiment(experiment_file(tmp)), out, executor=Serial(), progress=Silent())
    return tables(out)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sweeps")


def assert_same(a: tuple[pd.DataFrame, pd.DataFrame], b: tuple[pd.DataFrame, pd.DataFrame]):
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])


def test_store_holds_one_row_per_run_and_each_runs_months(shared):
    runs, months = reference(shared)
    assert len(runs) == 12
    assert runs["run_id"].tolist() == list(range(12))
    assert set(runs["status"]) == {"ok"}
    assert months.groupby("run_id").size().eq(25).all()  # months 0..24
    # Readable as one table with plain pandas, as the README promises.
    assert len(pd.read_parquet(shared / "reference" / "runs")) == 12
    manifest = read_manifest(shared / "reference")
    assert manifest["status"] == "complete"
    assert manifest["runs_total"] == 12
    assert manifest["factors"] == ["governance.mode", "governance.compact.enabled"]
    assert manifest["scenario_hash"] == load_experiment(experiment_file(shared)).base.digest()
    assert {"relsim", "mesa", "python"} <= set(manifest["versions"])


def test_outcomes_agree_with_the_stored_series_and_a_direct_run(shared):
    runs, months = reference(shared)
    experiment = load_experiment(experiment_file(shared))
    row = runs.iloc[6]
    series = months[months["run_id"] == row["run_id"]]
    scenario = with_overrides(
        experiment.base,
        {
            "governance.mode": row["governance.mode"],
            "governance.compact.enabled": bool(row["governance.compact.enabled"]),
        },
    )
    model = RegulationModel(scenario, rng=int(row["seed"]), record="months")
    model.run_model()
    direct = run_outcomes(model.datacollector.model_vars, scenario)
    for name, value in direct.items():
        assert row[name] == pytest.approx(value, nan_ok=True), name
    stored = run_outcomes({c: series[c].to_numpy() for c in series.columns}, scenario)
    for name, value in stored.items():
        assert row[name] == pytest.approx(value, nan_ok=True), name


def test_common_random_numbers_make_the_compact_irrelevant_under_hierarchy(shared):
    runs, _ = reference(shared)
    hier = runs[runs["governance.mode"] == "hierarchical"]
    with_compact = hier[hier["governance.compact.enabled"]].drop(
        columns=["run_id", "point", "governance.compact.enabled"]
    )
    without = hier[~hier["governance.compact.enabled"]].drop(
        columns=["run_id", "point", "governance.compact.enabled"]
    )
    pd.testing.assert_frame_equal(
        with_compact.reset_index(drop=True), without.reset_index(drop=True)
    )


def test_process_pool_gives_identical_results(shared, tmp_path):
    experiment = load_experiment(experiment_file(shared))
    with LocalPool(2) as pool:
        run_sweep(experiment, tmp_path / "pool", executor=pool, progress=Silent(), flush_runs=5)
    assert_same(tables(tmp_path / "pool"), reference(shared))


def test_a_forked_pool_freezes_shared_objects_while_it_runs():
    """In a fresh process (one thread, so the pool forks): frozen while open, not after."""
    script = (
        "import gc\n"
        "from relsim.runs.executors import LocalPool\n"
        "frozen = gc.get_freeze_count()\n"
        "pool = LocalPool(2)\n"
        "assert pool.start_method == 'fork', pool.start_method\n"
        "assert gc.get_freeze_count() > frozen + 10_000, gc.get_freeze_count()\n"
        "other = LocalPool(2)  # the first pool's threads run: this one uses a fork server\n"
        "assert other.start_method == 'forkserver', other.start_method\n"
        "other.close()\n"
        "assert gc.get_freeze_count() > frozen + 10_000, 'still frozen for the first pool'\n"
        "pool.close()\n"
        "pool.close()\n"
        "assert gc.get_freeze_count() <= frozen, gc.get_freeze_count()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_dask_local_cluster_gives_identical_results(shared, tmp_path):
    experiment = load_experiment(experiment_file(shared))
    with DaskCluster("local", 2) as cluster:
        run_sweep(experiment, tmp_path / "dask", executor=cluster, progress=Silent())
    assert_same(tables(tmp_path / "dask"), reference(shared))


def test_a_run_that_raises_is_recorded_alone_and_the_sweep_goes_on(shared, tmp_path, monkeypatch):
    experiment = load_experiment(experiment_file(shared))
    bad_seed = int(reference(shared)[0]["seed"].iloc[4])

    class Fragile(RegulationModel):
        def step(self) -> None:
            if self.steps == 5 and self.run_seed == bad_seed and self.state.mode == "networked":
                raise FloatingPointError("boom")
            super().step()

    def build(scenario, rng, record):
        model = Fragile(scenario, rng=rng, record=record)
        model.run_seed = rng
        return model

    class FragileBatch(relsim.runs.runner.Batch):
        def __init__(self, scenario, seeds):
            # Replications stepped together fail as a whole; the sweep then runs each alone.
            if bad_seed in seeds and scenario.governance.mode == "networked":
                raise FloatingPointError("boom")
            super().__init__(scenario, seeds)

    monkeypatch.setattr("relsim.runs.runner.RegulationModel", build)
    monkeypatch.setattr("relsim.runs.runner.Batch", FragileBatch)
    outcome = run_sweep(experiment, tmp_path / "s", executor=Serial(), progress=Silent())
    runs, months = tables(tmp_path / "s")
    failed = runs[runs["status"] == "error"]
    assert outcome.failed == len(failed) == 2  # networked, with and without a compact
    assert failed["error"].str.contains("FloatingPointError: boom").all()
    assert failed["trust_in_regulator_final"].isna().all()
    assert not months["run_id"].isin(failed["run_id"]).any()
    ok = runs[runs["status"] == "ok"]
    assert len(ok) == 10
    pd.testing.assert_frame_equal(
        ok.drop(columns=["error"]).reset_index(drop=True),
        reference(shared)[0][lambda r: r["run_id"].isin(ok["run_id"])]
        .drop(columns=["error"])
        .reset_index(drop=True),
    )


def test_outcomes_that_fail_for_one_run_of_a_batch_fail_that_run_alone(
    shared, tmp_path, monkeypatch
):
    experiment = load_experiment(experiment_file(shared))
    runs = reference(shared)[0]
    bad = runs[runs["governance.mode"] == "networked"].iloc[0]
    model = RegulationModel(
        experiment.base,
        rng=int(bad["seed"]),
        record="months",
        governance__mode="networked",
        governance__compact__enabled=bool(bad["governance.compact.enabled"]),
        scenario__months=24,
    )
    model.step()
    marker = model.state.pressure  # month 1's pressure identifies the run
    outcomes = relsim.runs.runner.run_outcomes

    def fragile_outcomes(series, scenario):
        compact = bool(bad["governance.compact.enabled"])
        mode = scenario.governance.mode
        if series["pressure"][1] == marker and (mode, scenario.governance.compact.enabled) == (
            "networked",
            compact,
        ):
            raise ZeroDivisionError("no outcome")
        return outcomes(series, scenario)

    monkeypatch.setattr("relsim.runs.runner.run_outcomes", fragile_outcomes)
    run_sweep(experiment, tmp_path / "s", executor=Serial(), progress=Silent())
    got = tables(tmp_path / "s")[0]
    failed = got[got["status"] == "error"]
    assert failed["run_id"].tolist() == [int(bad["run_id"])]
    assert failed["error"].str.contains("ZeroDivisionError: no outcome").all()
    assert (got["status"] == "ok").sum() == len(got) - 1


def test_an_interrupted_sweep_resumes_without_loss_or_duplication(shared, tmp_path):
    experiment = load_experiment(experiment_file(shared))

    class Interrupting(Serial):
        def map_unordered(self, fn, base, chunks, lost):
            for i, result in enumerate(super().map_unordered(fn, base, chunks, lost)):
                if i == 4:
                    raise KeyboardInterrupt
                yield result

    out = tmp_path / "s"
    first = run_sweep(experiment, out, executor=Interrupting(), progress=Silent(), flush_runs=3)
    assert first.interrupted
    assert 0 < first.done < 12
    assert read_manifest(out)["status"] == "interrupted"
    second = run_sweep(experiment, out, resume=True, executor=Serial(), progress=Silent())
    assert second.ran == 12 - first.done
    assert_same(tables(out), reference(shared))


def test_readers_and_the_csv_export_leave_out_months_of_uncommitted_runs(shared, tmp_path, capsys):
    """A kill between a months part and its runs part leaves the series of uncommitted runs."""
    experiment = load_experiment(experiment_file(shared))
    out = tmp_path / "s"
    run_sweep(experiment, out, executor=Serial(), progress=Silent(), flush_runs=3)
    runs_part = sorted((out / "runs").glob("part-*.parquet"))[-1]
    uncommitted = set(pd.read_parquet(runs_part)["run_id"])
    runs_part.unlink()  # as if killed after the months part was written, before its runs part
    assert uncommitted <= set(pd.read_parquet(out / "months")["run_id"])  # still on disk

    committed = set(read_runs(out)["run_id"])
    assert committed
    assert committed.isdisjoint(uncommitted)
    assert set(read_months(out)["run_id"]) == committed
    assert set(read_months(out, columns=["pressure"])["run_id"]) == committed
    assert main(["export", str(out), "--format", "csv", "--out", str(tmp_path / "csv")]) == 0
    assert set(pd.read_csv(tmp_path / "csv" / "months.csv")["run_id"]) == committed
    assert set(pd.read_csv(tmp_path / "csv" / "runs.csv")["run_id"]) == committed
    capsys.readouterr()

    run_sweep(experiment, out, resume=True, executor=Serial(), progress=Silent())
    assert_same(tables(out), reference(shared))


def test_resume_is_refused_for_another_experiment_and_a_rerun_needs_a_flag(
    shared, tmp_path, capsys
):
    out = tmp_path / "s"
    path = experiment_file(shared)
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    other = experiment_file(tmp_path, reps=2)
    code = main(["sweep", str(other), "--out", str(out), "--resume", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "different experiment" in err
    assert "replications 3 there, 2 here" in err  # says what changed
    assert len(err.strip().splitlines()) == 1
    code = main(["sweep", str(path), "--out", str(out), "--quiet"])
    assert code == 2
    assert "--resume" in capsys.readouterr().err
    # Resuming a complete sweep runs nothing; --overwrite starts again.
    assert (
        main(["sweep", str(path), "--out", str(out), "--resume", "--workers", "1", "--quiet"]) == 0
    )
    assert len(read_runs(out)) == 12
    assert (
        main(["sweep", str(other), "--out", str(out), "--overwrite", "--workers", "1", "--quiet"])
        == 0
    )
    assert len(read_runs(out)) == 8


def test_sweep_refuses_a_directory_it_did_not_write(shared, tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    code = main(["sweep", str(experiment_file(shared)), "--out", str(tmp_path), "--quiet"])
    assert code == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_bad_experiment_file_exits_2_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "e.toml"
    path.write_text('[experiment]\nscenario = "nhs_vmi_partnership"\nreplications = -2\n')
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err.strip()
        == f"relsim: {path}: experiment.replications: must be between 1 and 100000 (got -2)"
    )
    assert not out.exists()


def _interruptible() -> None:
    """In the child, before exec: let SIGINT interrupt, as at a terminal.

    A shell starts background jobs (``make test &``, some CI runners) with SIGINT ignored, the
    child inherits that, and Python then installs no KeyboardInterrupt handler: Ctrl-C would
    be ignored, as Unix intends for background jobs, and the test would see no interruption.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _parts(out: Path) -> int:
    return len(list((out / "runs").glob("part-*.parquet"))) if (out / "runs").exists() else 0


@pytest.mark.parametrize(
    ("sig", "workers"), [(signal.SIGKILL, 2), (signal.SIGINT, 2), (signal.SIGTERM, 1)]
)
def test_a_real_sweep_killed_mid_way_resumes_to_the_uninterrupted_result(
    shared, tmp_path, sig, workers
):
    # 1,000 runs: the sweep is still running when the signal lands, however fast runs get.
    runs = 1000
    path = experiment_file(shared, reps=runs // 4, months=36)
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [
        *RELSIM,
        "sweep",
        str(path),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--flush-every",
        "8",
        "--no-summary",
    ]
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        preexec_fn=_interruptible,
    )
    deadline = time.monotonic() + 60
    while _parts(out) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the sweep finished before it could be interrupted"
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    if sig == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        # Ctrl-C, or SIGTERM (a serial sweep once stored the stop as a failed run and went on).
        assert process.returncode == 130, err
        assert "--resume" in err
        assert "Traceback" not in err
        assert read_manifest(out)["status"] == "interrupted"
    saved = len(read_runs(out))
    assert 0 < saved < runs
    assert (read_runs(out)["status"] == "ok").all()
    assert read_runs(out)["run_id"].is_unique
    done = subprocess.run([*args, "--resume"], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    resumed = tables(out)
    assert len(resumed[0]) == runs
    assert resumed[0]["run_id"].is_unique
    expected = tmp_path / "expected"
    run_sweep(load_experiment(path), expected, executor=Serial(), progress=Silent())
    assert_same(resumed, tables(expected))
    assert not list(out.rglob(".*.tmp"))


def test_progress_lines_when_not_on_a_terminal(tmp_path):
    log = tmp_path / "log.txt"
    with open(log, "w") as stream:
        lines = Lines(stream, interval=0.0)
        lines.start(10, 2, 0, "2 local processes")
        lines.update(6, 1)
        lines.close()
    text = log.read_text().splitlines()
    assert text[0] == "sweep: 10 runs on 2 local processes, 2 already saved"
    assert text[1].startswith("sweep: 6/10 runs (1 failed), ")
    assert "runs/s" in text[1]
    assert "left" in text[1]


def test_sweep_cli_prints_and_writes_the_summary(shared, tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", str(experiment_file(shared)), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "reached_all_training_heat_map" in printed
    assert "governance.mode: each level minus hierarchical" in printed
    assert "unit of inference: the seed" in printed
    summary = pd.read_csv(out / "summary.csv")
    assert {
        "governance.mode",
        "governance.compact.enabled",
        "outcome",
        "estimate",
        "ci_low",
        "ci_high",
    } <= set(summary.columns)
    assert (out / "comparison.csv").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert np.isfinite(summary["estimate"].dropna()).all()


def test_a_sweep_started_with_other_code_is_not_resumed(shared, tmp_path, monkeypatch, capsys):
    out = tmp_path / "s"
    path = str(experiment_file(shared))
    assert main(["sweep", path, "--out", str(out), "--workers", "1", "--quiet"]) == 0
    monkeypatch.setattr("relsim.runs.store.code_digest", lambda: "0" * 64)
    assert main(["sweep", path, "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "other relsim code" in err
    assert "this code's is 000000000000" in err


def test_readme_documents_every_column_of_the_runs_table(shared):
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Sweep `runs` table", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))
    runs, _ = reference(shared)
    experiment = load_experiment(experiment_file(shared))
    for column in [*runs.columns, "duration_s"]:
        generic = "<factor>" if column in experiment.factor_names else column
        for practice in experiment.base.practice_names:
            generic = generic.replace(f"_{practice}", "_<practice>")
        assert generic in documented, column


def test_an_unreachable_cluster_is_an_error_before_anything_is_written(
    shared, tmp_path, monkeypatch, capsys
):
    from relsim.errors import RelsimError

    def unreachable(workers, scheduler):
        raise RelsimError(f"--scheduler {scheduler}: cannot connect (refused)")

    monkeypatch.setattr("relsim.runs.runner.make_executor", unreachable)
    out = tmp_path / "s"
    args = ["sweep", str(experiment_file(shared)), "--out", str(out), "--scheduler", "tcp://x:1"]
    assert main(args) == 2
    assert "cannot connect" in capsys.readouterr().err
    assert not out.exists()


def test_a_run_never_overwrites_a_sweep(shared, capsys):
    reference(shared)
    before = sorted(p.name for p in (shared / "reference").rglob("*"))
    assert before
    code = main(["run", "nhs_vmi_partnership", "--months", "2", "--out", str(shared / "reference")])
    assert code == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in (shared / "reference").rglob("*")) == before


def test_a_factor_whose_levels_are_lists_of_tables_runs_each_level(tmp_path):
    """Shock schedules as a factor: each level reaches the scenario exactly as written."""
    path = tmp_path / "shocks.toml"
    path.write_text(
        '[experiment]\nname = "shocks"\nscenario = "nhs_vmi_partnership"\nreplications = 2\n'
        'seed = 3\n[base]\n"scenario.months" = 8\n[factors]\n'
        '"pressure.shocks" = [[], [{month = 3, magnitude = 0.4, duration = 2}]]\n',
        encoding="utf-8",
    )
    run_sweep(load_experiment(path), tmp_path / "out", executor=Serial(), progress=Silent())
    runs, months = tables(tmp_path / "out")
    assert (runs["status"] == "ok").all(), runs["error"].tolist()
    pressure = months.pivot(index="month", columns="run_id", values="pressure")
    shocked = runs.loc[runs["pressure.shocks"] != "[]", "run_id"]
    calm = runs.loc[runs["pressure.shocks"] == "[]", "run_id"]
    # Common random numbers: the same replication differs by the shock, in months 3 and 4 only.
    for a, b in zip(calm, shocked, strict=True):
        difference = (pressure[b] - pressure[a]).round(12)
        assert difference[[3, 4]].tolist() == [0.4, 0.4]
        assert (difference.drop([3, 4]) == 0).all()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--scheduler", "foo"], "--scheduler foo: expected 'local' or a scheduler address"),
        (["--resume", "--overwrite"], "--overwrite: not allowed with argument --resume"),
    ],
)
def test_bad_sweep_options_are_one_line_errors(shared, tmp_path, capsys, extra, message):
    out = tmp_path / "s"
    try:
        status = main(["sweep", str(experiment_file(shared)), "--out", str(out), *extra])
    except SystemExit as stop:  # argparse's own errors end this way
        status = stop.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not out.exists()


def test_a_pool_that_fails_to_start_leaves_nothing_frozen(monkeypatch):
    import relsim.runs.executors as executors

    class Broken(executors.ProcessPoolExecutor):
        def submit(self, *args, **kwargs):
            raise OSError("cannot fork")

    monkeypatch.setattr(executors, "ProcessPoolExecutor", Broken)
    monkeypatch.setattr(executors.threading, "active_count", lambda: 1)  # the fork path
    frozen = gc.get_freeze_count()
    with pytest.raises(OSError, match="cannot fork"):
        LocalPool(2)
    assert gc.get_freeze_count() <= frozen
