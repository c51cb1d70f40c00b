"""Run outputs: complete or absent, documented, and with their provenance."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from relsim import RelsimError, load_scenario, save_run, simulate
from relsim.atomic import atomic_directory, atomic_file, write_json
from relsim.runs.provenance import code_digest
from relsim.runs.simulation import TABLES

README = Path(__file__).resolve().parents[1] / "README.md"


@cache
def result():
    return simulate(load_scenario("nhs_vmi_partnership"), seed=4, months=6)


def documented_columns(table: str) -> set[str]:
    """Column names in the README's data dictionary section for ``<table>.csv``."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"### `{table}.csv`", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))


@pytest.mark.parametrize("table", TABLES)
def test_readme_documents_every_column(table):
    documented = documented_columns(table)
    assert documented, f"no data dictionary for {table}.csv"
    practices = result().scenario.practice_names
    for column in getattr(result(), table).columns:
        generic = column
        for practice in practices:
            generic = generic.replace(f"_{practice}", "_<practice>")
        assert generic in documented, f"{table}.csv column {column!r} is not in the README"
    # ... and documents nothing that is not there.
    produced = set(getattr(result(), table).columns)
    for column in documented:
        if "<practice>" not in column:
            assert column in produced, f"README documents {column!r}, which {table}.csv lacks"


def test_save_run_writes_tables_manifest_and_figures(tmp_path):
    out = tmp_path / "run"
    written = save_run(result(), out, source="nhs_vmi_partnership")
    names = {p.name for p in written}
    assert {f"{t}.csv" for t in TABLES} | {"manifest.json"} <= names
    assert {"trust_trajectories.png", "heat_map.png"} <= names
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 4
    assert manifest["months"] == 6
    assert manifest["scenario_hash"] == result().scenario.digest()
    assert manifest["scenario"] == result().scenario.to_dict()
    assert manifest["scenario_source"] == "nhs_vmi_partnership"
    assert {"relsim", "mesa", "python"} <= set(manifest["versions"])
    assert manifest["code_hash"] == code_digest()  # the version does not change with every edit
    assert manifest["tables"]["trusts.csv"] == 7 * 5


def test_save_writes_tables_and_manifest_without_the_presentation_layer(tmp_path):
    code = (
        "import sys\n"
        "from relsim import simulate\n"
        "written = simulate('nhs_vmi_partnership', seed=4, months=2).save(sys.argv[1])\n"
        "print(sorted(str(p) for p in written))\n"
        "drawing = ('relsim.presentation', 'matplotlib')\n"
        "print(sorted(m for m in sys.modules if m.startswith(drawing)))"
    )
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, check=True
    )
    written, imported = done.stdout.strip().splitlines()
    names = sorted([f"{t}.csv" for t in TABLES] + ["manifest.json"])
    assert written == repr(names)
    assert sorted(p.name for p in out.iterdir()) == names
    assert imported == "[]"


def write_half_then_fail(out: Path) -> None:
    with atomic_directory(out) as tmp:
        (tmp / "months.csv").write_text("half")
        raise RuntimeError("killed")


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path):
    with pytest.raises(RuntimeError, match="killed"):
        write_half_then_fail(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_replacing_keeps_the_previous_output(tmp_path):
    out = tmp_path / "run"
    result().save(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RuntimeError, match="killed"):
        write_half_then_fail(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_relsim_output_is_replaced_but_other_directories_are_refused(tmp_path):
    out = tmp_path / "run"
    save_run(result(), out)
    result().save(out)  # a relsim directory: replaced
    assert not list(out.glob("*.png"))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("precious")
    with pytest.raises(RelsimError, match="refusing to overwrite"):
        result().save(mine)
    assert [p.name for p in mine.iterdir()] == ["keep.txt"]
    with pytest.raises(RelsimError, match="refusing to overwrite"):
        result().save(mine / "keep.txt")


def test_output_directory_has_the_permissions_mkdir_would_give(tmp_path):
    out, reference = tmp_path / "run", tmp_path / "reference"
    result().save(out)
    reference.mkdir()
    assert out.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


def test_a_file_is_synced_then_renamed_then_its_directory_synced(tmp_path, monkeypatch):
    events = []
    fsync, replace = os.fsync, os.replace

    def recording_fsync(fd: int) -> None:
        events.append(("fsync", "directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        fsync(fd)

    def recording_replace(src: str, dst: str) -> None:
        events.append(("rename", Path(dst).name))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    write_json(tmp_path / "manifest.json", {"relsim": "run"})
    assert events == [("fsync", "file"), ("rename", "manifest.json"), ("fsync", "directory")]
    assert json.loads((tmp_path / "manifest.json").read_text()) == {"relsim": "run"}


def test_a_file_that_fails_while_written_keeps_the_old_one_and_leaves_nothing(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old")

    def write_half_then_fail() -> None:
        with atomic_file(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        write_half_then_fail()
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_a_file_that_cannot_be_written_is_one_line_naming_it(tmp_path):
    path = tmp_path / "missing" / "table.csv"
    with pytest.raises(RelsimError, match=r"missing/table.csv: cannot write the table \("):
        write_json(path, {}, "the table")


def test_a_written_file_has_the_mode_a_plain_write_would_give(tmp_path):
    reference = tmp_path / "reference"
    reference.write_text("x")
    write_json(tmp_path / "manifest.json", {})
    assert (tmp_path / "manifest.json").stat().st_mode & 0o777 == reference.stat().st_mode & 0o777
