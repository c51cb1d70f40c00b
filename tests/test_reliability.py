"""Nothing lost under concurrency, damage, full disks and dying workers (issue 18).

Driven as an adversarial user drives relsim: two writers on one sweep, parts truncated, emptied,
deleted or copied, a disk that fills, a pool worker killed with SIGKILL. Each case must end in
one line and exit status 2 (1 for a sweep that saved runs), or in a sweep that carries on, and
``--resume`` must always reach the result of an uninterrupted sweep.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psutil
import pytest

from relsim.cli import main
from relsim.errors import RelsimError
from relsim.runs.executors import WORKER_DIED, LocalPool, Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.lock import LOCK, SweepLock
from relsim.runs.progress import Silent
from relsim.runs.runner import chunk_size, run_chunk, run_sweep
from relsim.runs.store import read_manifest, read_months, read_runs, saved_runs

RELSIM = [sys.executable, "-m", "relsim.cli"]

EXPERIMENT = """
[experiment]
name = "reliability"
scenario = "nhs_vmi_partnership"
replications = {reps}
seed = 11
[base]
"scenario.months" = {months}
[factors]
"governance.mode" = ["hierarchical", "networked"]
"governance.compact.enabled" = [true, false]
"""


def experiment_file(folder: Path, reps: int, months: int) -> Path:
    path = folder / f"reliability-{reps}-{months}.toml"
    path.write_text(EXPERIMENT.format(reps=reps, months=months), encoding="utf-8")
    return path


def tables(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs (without their wall-clock duration) and months, sorted."""
    return read_runs(directory).drop(columns="duration_s"), read_months(directory)


def assert_same_tables(directory: Path, reference: Path) -> None:
    for got, expected in zip(tables(directory), tables(reference), strict=True):
        pd.testing.assert_frame_equal(got, expected)


def relsim(capsys, *args: str) -> tuple[int, str, str]:
    """``relsim ARGS`` in this process: (exit status, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str, *fragments: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, Path]:
    """12 runs of 6 months, saved serially as six pairs of parts: (experiment, sweep)."""
    root = tmp_path_factory.mktemp("reliability")
    path = experiment_file(root, reps=3, months=6)
    out = root / "sweep"
    run_sweep(load_experiment(path), out, executor=Serial(), progress=Silent(), flush_runs=2)
    return path, out


@pytest.fixture
def damaged(small, tmp_path) -> tuple[Path, Path]:
    """A copy of the small sweep to damage."""
    path, out = small
    copy = tmp_path / "sweep"
    shutil.copytree(out, copy)
    return path, copy


def parts(directory: Path, table: str) -> list[Path]:
    return sorted((directory / table).glob("part-*.parquet"))


def sweep_args(path: Path, out: Path) -> list[str]:
    return ["sweep", str(path), "--out", str(out), "--workers", "1", "--no-summary", "--quiet"]


# --- one writer per sweep --------------------------------------------------------------------


def _started(out: Path, process: subprocess.Popen[str], deadline: float = 60.0) -> None:
    """Wait until a sweep process has committed a part (it then holds the lock)."""
    end = time.monotonic() + deadline
    while not parts(out, "runs") and process.poll() is None and time.monotonic() < end:
        time.sleep(0.02)
    assert process.poll() is None, "the sweep finished before the test could act"


def test_a_second_writer_or_an_overwrite_under_a_live_sweep_is_refused_naming_it(tmp_path, capsys):
    path = experiment_file(tmp_path, reps=250, months=12)  # 1,000 runs: still running
    out = tmp_path / "live"
    writer = subprocess.Popen(
        [*RELSIM, *sweep_args(path, out), "--flush-every", "8"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _started(out, writer)
        for flag in ("--overwrite", "--resume"):
            code, _, err = relsim(capsys, *sweep_args(path, out), flag)
            assert code == 2
            one_line(err, str(out), f"process {writer.pid}", "is writing this sweep")
            assert parts(out, "runs"), "the live sweep's parts are still there"
        writer.send_signal(signal.SIGKILL)  # a kill at any moment: the lock goes with it
        writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate()
    assert read_manifest(out)["status"] == "running"  # left by the kill
    code, _, err = relsim(capsys, *sweep_args(path, out), "--resume")
    assert code == 0, err
    runs = read_runs(out, ["run_id", "status"])
    assert runs["run_id"].tolist() == list(range(1000))
    assert saved_runs(out).duplicates == 0


def test_two_resumes_started_together_lose_and_duplicate_nothing(tmp_path):
    path = experiment_file(tmp_path, reps=150, months=24)
    out = tmp_path / "raced"
    experiment = load_experiment(path)

    class Stopping(Serial):
        def map_unordered(self, fn, base, chunks, lost):
            for i, result in enumerate(super().map_unordered(fn, base, chunks, lost)):
                if i == 3:
                    raise KeyboardInterrupt
                yield result

    partial = run_sweep(experiment, out, executor=Stopping(), progress=Silent(), flush_runs=8)
    assert partial.interrupted
    assert 0 < partial.done < experiment.n_runs
    args = [*RELSIM, *sweep_args(path, out), "--resume", "--flush-every", "4"]
    both = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    ends = [(p.pid, *p.communicate(timeout=120), p.returncode) for p in both]
    for pid, _, err, code in ends:
        assert code in (0, 2), err
        if code == 2:  # refused: the other one holds the lock, and is named
            other = next(q for q, *_ in ends if q != pid)
            one_line(err, f"process {other}")
    assert 0 in [code for *_, code in ends]
    runs = read_runs(out, ["run_id", "status"])
    assert runs["run_id"].tolist() == list(range(experiment.n_runs))
    assert (runs["status"] == "ok").all()
    assert saved_runs(out).duplicates == 0
    assert read_months(out, ["pressure"]).groupby("run_id").size().eq(25).all()
    assert not list(out.rglob(".*.tmp"))


def test_a_writer_arriving_before_the_holder_wrote_its_pid_still_names_it(tmp_path):
    """The window between a holder's flock and its PID write: the contender waits for the PID."""
    handle = os.open(tmp_path / LOCK, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # held, the PID not written yet
        timer = threading.Timer(0.2, os.pwrite, (handle, b"4242\n", 0))
        timer.start()
        with pytest.raises(RelsimError, match=r"another relsim \(process 4242\)"):
            SweepLock.acquire(tmp_path)
        timer.join()
    finally:
        os.close(handle)


def test_a_directory_left_before_its_manifest_or_with_a_damaged_one_can_be_started_again(
    small, tmp_path, capsys
):
    path, sweep = small
    # A kill between taking the lock and writing the manifest leaves the lock alone.
    early = tmp_path / "early"
    early.mkdir()
    (early / LOCK).write_text("12345\n")
    code, _, err = relsim(capsys, *sweep_args(path, early))
    assert code == 0, err
    assert_same_tables(early, sweep)
    # Parts without a readable manifest: which experiment they hold is unknown.
    broken = tmp_path / "broken"
    shutil.copytree(sweep, broken)
    (broken / "manifest.json").write_text('{"relsim": "swe')
    code, _, err = relsim(capsys, *sweep_args(path, broken), "--resume")
    assert code == 2
    one_line(err, "manifest.json is missing or damaged", "--overwrite")
    (broken / "notes.txt").write_text("mine")
    code, _, err = relsim(capsys, *sweep_args(path, broken), "--overwrite")
    assert code == 2  # not only the sweep's own files: someone else's folder
    one_line(err, "not empty and holds no relsim sweep")
    (broken / "notes.txt").unlink()
    code, _, err = relsim(capsys, *sweep_args(path, broken), "--overwrite")
    assert code == 0, err
    assert_same_tables(broken, sweep)


# --- damaged, missing and duplicated parts ---------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    "truncated runs part": lambda d: _truncate(parts(d, "runs")[1]),
    "empty runs part": lambda d: parts(d, "runs")[2].write_bytes(b""),
    "truncated months part": lambda d: _truncate(parts(d, "months")[3]),
    "empty months part": lambda d: parts(d, "months")[4].write_bytes(b""),
    "deleted months part": lambda d: parts(d, "months")[0].unlink(),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damage_is_one_line_for_readers_and_resume_repairs_it(damaged, small, case, capsys):
    path, out = damaged
    names = [p.name for p in parts(out, "runs")]
    DAMAGE[case](out)
    for command in (
        ["summarize", str(out), "--quiet"],
        ["report", str(out)],
        ["export", str(out), "--format", "csv", "--out", str(out.parent / "csv")],
    ):
        code, _, err = relsim(capsys, *command)
        assert code == 2, (command, err)
        line = one_line(err, "--resume", f"--out {out}")
        assert any(name in line for name in names), line  # names the file
    code, _, err = relsim(capsys, *sweep_args(path, out), "--resume")
    assert code == 0, err
    assert "set aside" in err
    assert_same_tables(out, small[1])
    assert list(out.rglob("*.damaged")), "the damaged file is kept, renamed, not deleted"
    code, _, err = relsim(capsys, "summarize", str(out), "--quiet")
    assert code == 0, err


def test_copied_parts_are_read_once_and_missing_runs_flagged(damaged, capsys):
    _, out = damaged
    for table in ("runs", "months"):
        shutil.copy(parts(out, table)[0], out / table / "part-000099.parquet")
    assert saved_runs(out).duplicates == 2
    assert len(read_runs(out)) == 12
    code, stdout, err = relsim(capsys, "summarize", str(out))
    assert code == 0, err
    assert "12 runs (0 failed)" in stdout
    assert "2 runs were saved more than once" in stdout
    for table in ("runs", "months"):
        parts(out, table)[1].unlink()  # two runs gone, the manifest still says complete
    assert read_manifest(out)["status"] == "complete"
    report = out.parent / "report.html"
    code, _, err = relsim(capsys, "report", str(out), "--out", str(report))
    assert code == 0, err
    html = report.read_text(encoding="utf-8")
    assert "10 of 12 runs are saved" in html
    assert "2 runs were saved more than once" in html


# --- a full disk -----------------------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(folder: Path, size_kb: int) -> Iterator[Path | None]:
    """A private tmpfs of ``size_kb`` mounted at ``folder``, or None where mounting is refused."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _file_size_limit(limit: int):
    """In the child: files may not grow past ``limit`` bytes (EFBIG, as a full disk's ENOSPC)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_is_one_line_and_the_sweep_resumes(small, tmp_path):
    """On a 160 kB tmpfs (mounted here as root); else under RLIMIT_FSIZE (files of 1 byte)."""
    path, reference = small
    with small_filesystem(tmp_path / "disk", 160) as disk:
        out = (disk or tmp_path) / "sweep"
        limit = None if disk else _file_size_limit(1)
        args = [*RELSIM, *sweep_args(path, out), "--flush-every", "1"]
        full = subprocess.run(args, capture_output=True, text=True, preexec_fn=limit)
        expected = "No space left on device" if disk else "File too large"
        line = one_line(full.stderr, expected, str(out))
        saved = len(read_runs(out)) if (out / "manifest.json").exists() else 0
        assert full.returncode == (1 if saved else 2), full.stderr
        if saved:
            assert f"{saved} runs are saved" in line
            assert "--resume" in line
            assert read_manifest(out)["status"] != "complete"
        run = subprocess.run(
            [
                *RELSIM,
                "run",
                "nhs_vmi_partnership",
                "--months",
                "3",
                "--out",
                str(out.parent / "r"),
            ],
            capture_output=True,
            text=True,
            preexec_fn=limit,
        )
        assert run.returncode == 2
        one_line(run.stderr, expected)
        if disk:
            grown = ["mount", "-o", "remount,size=64m", str(disk)]
            subprocess.run(grown, check=True)
        again = subprocess.run([*RELSIM, *sweep_args(path, out), "--resume"], capture_output=True)
        assert again.returncode == 0, again.stderr
        assert_same_tables(out, reference)


def test_a_full_disk_under_the_readers_is_one_line_naming_where(damaged, tmp_path):
    """summarize, report and plot write summaries, blocks of months and figures: each refused."""
    _, out = damaged
    for command in (
        ["summarize", str(out), "--quiet"],
        ["report", str(out), "--out", str(tmp_path / "report.html"), "--quiet"],
        ["plot", str(out), "--out", str(tmp_path / "figures"), "--quiet"],
    ):
        done = subprocess.run(
            [*RELSIM, *command], capture_output=True, text=True, preexec_fn=_file_size_limit(1)
        )
        assert done.returncode == 2, (command, done.stderr)
        line = one_line(done.stderr, "File too large")
        assert str(tmp_path) in line or str(out) in line, line  # names where it could not write


# --- a dying worker --------------------------------------------------------------------------

#: The run whose chunk kills its worker, every time it runs (as the OOM killer would).
FATAL_RUN = 5


def killing_chunk(base, specs):
    """run_chunk, but the worker dies (SIGKILL) on the chunk holding :data:`FATAL_RUN`."""
    if any(spec.run_id == FATAL_RUN for spec in specs):
        os.kill(os.getpid(), signal.SIGKILL)
    return run_chunk(base, specs)


def test_a_chunk_that_kills_its_worker_is_recorded_failed_and_the_sweep_carries_on(
    small, tmp_path, monkeypatch
):
    path, reference = small
    monkeypatch.setattr("relsim.runs.runner.run_chunk", killing_chunk)
    out = tmp_path / "sweep"
    with LocalPool(2) as pool:  # forked after the patch: its workers run killing_chunk
        outcome = run_sweep(load_experiment(path), out, executor=pool, progress=Silent())
    runs = read_runs(out)
    assert outcome.done == 12
    assert not outcome.interrupted
    dead = runs[runs["status"] != "ok"]
    assert FATAL_RUN in dead["run_id"].tolist()
    assert (dead["error"] == WORKER_DIED).all()
    assert len(dead) == chunk_size(12, 2)  # the runs of its task, no more
    ok = runs[runs["status"] == "ok"].drop(columns="duration_s").reset_index(drop=True)
    expected = read_runs(reference).drop(columns="duration_s")
    expected = expected[expected["run_id"].isin(ok["run_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(ok, expected)


def test_a_worker_killed_from_outside_is_replaced_and_no_run_is_lost(tmp_path):
    path = experiment_file(tmp_path, reps=250, months=24)
    out = tmp_path / "sweep"
    args = [*RELSIM, "sweep", str(path), "--out", str(out), "--workers", "2", "--no-summary"]
    process = subprocess.Popen(
        [*args, "--flush-every", "8"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _started(out, process)
        workers = psutil.Process(process.pid).children()
        assert workers, "the sweep has no worker processes"
        workers[0].send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    runs = read_runs(out, ["run_id", "status"])
    assert runs["run_id"].tolist() == list(range(1000))
    assert (runs["status"] == "ok").all()  # the chunks in flight ran again, alone
