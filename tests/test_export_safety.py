"""``relsim export`` never destroys what it did not write, and leaves nothing behind on failure.

Driven as a user drives it: ``relsim export`` with bad or dangerous ``--out`` values must exit
with status 2, print one line on stderr naming the file, and leave every file and folder there
byte for byte as it was.
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

import relsim.analysis.export
from relsim.cli import main
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep
from relsim.runs.simulation import simulate

TINY = """
[experiment]
name = "tiny export"
scenario = "nhs_vmi_partnership"
replications = 2
seed = 5
[base]
"scenario.months" = 6
[factors]
"governance.mode" = ["hierarchical", "networked"]
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """2 modes x 2 replications x 6 months, run serially (4 runs)."""
    root = tmp_path_factory.mktemp("export_safety")
    path = root / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    run_sweep(load_experiment(path), root / "sweep", executor=Serial(), progress=Silent())
    return root / "sweep"


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` (hidden ones too), with the bytes of each file."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def export(capsys, *args: str) -> tuple[int, str]:
    """``relsim export ARGS``: the exit status and stderr."""
    status = main(["export", *args])
    return status, capsys.readouterr().err


def assert_refused(status: int, err: str, *needles: str) -> None:
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def someone_elses_archive(path: Path) -> None:
    """A .tar.gz in EMA Workbench's layout that relsim did not write (as ``save_results``)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        for name, data in (
            ("experiments.csv", b"x,scenario,policy,model\n1,0,a,lake\n"),
            ("metadata.json", json.dumps({"version": 0.1, "outcomes": []}).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(raw.getvalue())


# --- EMA archive -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.write_text("precious = 1\n"), id="toml-named-tar.gz"),
        pytest.param(lambda p: p.write_bytes(gzip.compress(b"not a tar")), id="plain-gzip"),
        pytest.param(someone_elses_archive, id="ema-archive-not-by-relsim"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty-file"),
    ],
)
def test_ema_refuses_to_replace_a_file_relsim_did_not_write(sweep, tmp_path, capsys, make):
    victim = tmp_path / "results.tar.gz"
    make(victim)
    before = snapshot(tmp_path)
    status, err = export(capsys, str(sweep), "--format", "ema", "--out", str(victim))
    assert_refused(status, err, str(victim), "refusing")
    assert snapshot(tmp_path) == before


def test_ema_refuses_a_name_not_ending_in_tar_gz(sweep, tmp_path, capsys):
    victim = tmp_path / "victim.toml"
    victim.write_text("precious = 1\n")
    for name in ("victim.toml", "gc.zip", "gc.tgz", "gc.tar", "gcdir/"):
        before = snapshot(tmp_path)
        out = str(tmp_path / name) + ("/" if name.endswith("/") else "")
        status, err = export(capsys, str(sweep), "--format", "ema", "--out", out)
        assert_refused(status, err, ".tar.gz")
        assert snapshot(tmp_path) == before, name
    assert not (tmp_path / "gcdir").exists()


def test_ema_refuses_a_trailing_slash_even_on_a_tar_gz_name(sweep, tmp_path, capsys):
    status, err = export(capsys, str(sweep), "--format", "ema", "--out", f"{tmp_path}/gc.tar.gz/")
    assert_refused(status, err, "gc.tar.gz")
    assert list(tmp_path.iterdir()) == []


def test_ema_replaces_its_own_export_with_the_same_bytes(sweep, tmp_path, capsys):
    out = tmp_path / "gc.tar.gz"
    assert main(["export", str(sweep), "--format", "ema", "--out", str(out), "--quiet"]) == 0
    first = out.read_bytes()
    out.write_bytes(first)  # a copy of an export is still an export
    assert main(["export", str(sweep), "--format", "ema", "--out", str(out), "--quiet"]) == 0
    assert out.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gc.tar.gz"]  # no temporary files
    with tarfile.open(out, "r:gz") as archive:
        metadata = json.loads(archive.extractfile("metadata.json").read())  # type: ignore[union-attr]
    assert metadata["version"] == 0.1  # still EMA Workbench's layout


def test_ema_export_of_a_non_sweep_writes_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    simulate("nhs_vmi_partnership", seed=1, months=3).save(run)
    before = snapshot(tmp_path)
    status, err = export(capsys, str(run), "--format", "ema", "--out", str(tmp_path / "x.tar.gz"))
    assert_refused(status, err, "not a relsim sweep directory")
    assert snapshot(tmp_path) == before


# --- CSV folder --------------------------------------------------------------------------------


def test_csv_refuses_a_folder_relsim_did_not_write(sweep, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "runs.csv").write_text("my,own\n1,2\n")
    (mine / "notes.txt").write_text("keep me\n")
    before = snapshot(tmp_path)
    status, err = export(capsys, str(sweep), "--format", "csv", "--out", str(mine))
    assert_refused(status, err, str(mine), "refusing")
    assert snapshot(tmp_path) == before


def test_csv_refuses_a_file(sweep, tmp_path, capsys):
    victim = tmp_path / "victim.toml"
    victim.write_text("precious = 1\n")
    before = snapshot(tmp_path)
    status, err = export(capsys, str(sweep), "--format", "csv", "--out", str(victim))
    assert_refused(status, err, str(victim))
    assert snapshot(tmp_path) == before


def test_csv_refuses_another_relsim_output(sweep, tmp_path, capsys):
    # The sweep itself is relsim's, but not an export: it must never be written into.
    before = snapshot(sweep)
    status, err = export(capsys, str(sweep), "--format", "csv", "--out", str(sweep))
    assert_refused(status, err, str(sweep), "refusing")
    assert snapshot(sweep) == before


def test_csv_replaces_its_own_export_whole(sweep, tmp_path, capsys):
    out = tmp_path / "csv"
    assert main(["export", str(sweep), "--format", "csv", "--out", str(out), "--quiet"]) == 0
    first = snapshot(out)
    assert {"runs.csv", "months.csv"} <= set(first)
    (out / "runs.csv").write_text("edited\n")  # a file relsim wrote: replaced
    assert main(["export", str(sweep), "--format", "csv", "--out", str(out), "--quiet"]) == 0
    assert snapshot(out) == first  # replaced whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv"]  # no temporary folders


def test_csv_export_never_deletes_a_file_a_user_put_in_a_previous_export(sweep, tmp_path, capsys):
    out = tmp_path / "csv"
    assert main(["export", str(sweep), "--format", "csv", "--out", str(out), "--quiet"]) == 0
    (out / "notes.txt").write_text("mine\n")
    before = snapshot(out)
    status, err = export(capsys, str(sweep), "--format", "csv", "--out", str(out))
    assert_refused(status, err, str(out), "notes.txt")
    assert snapshot(out) == before  # left as it was, the user's file with it
    beside = tmp_path / "csv.new-1"
    assert str(beside) in err
    assert (beside / "months.csv").read_bytes() == before["months.csv"]


def test_csv_export_of_a_non_sweep_writes_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    simulate("nhs_vmi_partnership", seed=1, months=3).save(run)
    before = snapshot(tmp_path)
    status, err = export(capsys, str(run), "--format", "csv", "--out", str(tmp_path / "x1"))
    assert_refused(status, err, "not a relsim sweep directory")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "x1").exists()


def test_csv_export_failing_half_way_keeps_the_previous_export(
    sweep, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "csv"
    assert main(["export", str(sweep), "--format", "csv", "--out", str(out), "--quiet"]) == 0
    before = snapshot(tmp_path)

    real_read_runs = relsim.analysis.export.read_runs

    def fewer_runs(*args, **kwargs):
        return real_read_runs(*args, **kwargs).head(1)  # a runs.csv unlike the previous one

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
        yield  # a generator, as the method it stands in for

    # The new runs.csv is written; then the disk fills while writing months.csv.
    monkeypatch.setattr(relsim.analysis.export, "read_runs", fewer_runs)
    monkeypatch.setattr(relsim.analysis.export.SweepMonths, "by_run", disk_full)
    status, err = export(capsys, str(sweep), "--format", "csv", "--out", str(out))
    assert_refused(status, err, str(out), "No space left on device")
    assert snapshot(tmp_path) == before


def test_ema_export_failing_to_write_keeps_the_previous_export(
    sweep, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "gc.tar.gz"
    assert main(["export", str(sweep), "--format", "ema", "--out", str(out), "--quiet"]) == 0
    before = snapshot(tmp_path)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(relsim.analysis.export.os, "replace", disk_full)
    status, err = export(capsys, str(sweep), "--format", "ema", "--out", str(out))
    assert_refused(status, err, str(out), "No space left on device")
    assert snapshot(tmp_path) == before  # the old archive, and no temporary file
