"""The command line, driven as a user drives it: exit codes, messages, and what is written."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from relsim.cli import main

RELSIM = [sys.executable, "-m", "relsim.cli"]


def relsim(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``relsim ARGS`` in this process: (exit status, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_run_writes_every_table_manifest_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = relsim(
        capsys, "run", "nhs_vmi_partnership", "--seed", "3", "--months", "12", "--out", str(out)
    )
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "months.csv",
        "trusts.csv",
        "coverage.csv",
        "relationships.csv",
        "manifest.json",
    } <= names
    assert any(n.endswith(".png") for n in names)
    months = pd.read_csv(out / "months.csv")
    assert months["month"].tolist() == list(range(13))
    for column in [
        "month",
        "pressure",
        "mean_trust_in_regulator",
        "mean_regulator_trust",
        "mean_peer_trust",
        "relational_orientation",
        "compact_state",
        "attendance_rate",
        "disclosures",
        "surprises",
        "sanctions",
        "mean_capability",
        "mean_true_quality",
        "mean_reported_quality",
        "adopters_training_heat_map",
    ]:
        assert column in months.columns
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert {"relsim", "mesa", "python"} <= set(manifest["versions"])
    assert "trust in the regulator" in stdout


def test_same_seed_same_bytes(tmp_path, capsys):
    for name in ("a", "b"):
        relsim(
            capsys,
            "run",
            "hierarchical_baseline",
            "--seed",
            "8",
            "--months",
            "10",
            "--no-figures",
            "--out",
            str(tmp_path / name),
        )
    for table in ("months", "trusts", "coverage", "relationships"):
        assert (tmp_path / "a" / f"{table}.csv").read_bytes() == (
            tmp_path / "b" / f"{table}.csv"
        ).read_bytes()


def test_set_overrides_reach_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    relsim(
        capsys,
        "run",
        "nhs_vmi_partnership",
        "--months",
        "3",
        "--no-figures",
        "--quiet",
        "--set",
        "governance.mode=hierarchical",
        "--out",
        str(out),
    )
    assert set(pd.read_csv(out / "months.csv")["governance"]) == {"hierarchical"}


def test_scenarios_lists_the_bundled_ones(capsys):
    code, out, _ = relsim(capsys, "scenarios")
    assert code == 0
    for name in ("nhs_vmi_partnership", "hierarchical_baseline", "pressure_shock", "no_compact"):
        assert name in out


def test_show_prints_the_resolved_scenario_with_overrides(capsys):
    code, out, _ = relsim(
        capsys, "show", "no_compact", "--set", "pressure.baseline=0.45", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["pressure"]["baseline"] == 0.45
    assert data["governance"]["compact"]["enabled"] is False
    assert data["trust_dynamics"]["gain"] == 0.5  # defaults filled in


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "no_such_scenario"], ["no_such_scenario", "no such file or bundled scenario"]),
        (
            ["run", "nhs_vmi_partnership", "--set", "pressure.basline=0.3"],
            ["--set", "pressure.basline", "unknown key"],
        ),
        (
            ["run", "nhs_vmi_partnership", "--set", "pressure.baseline=high"],
            ["--set", "pressure.baseline", "expected a number"],
        ),
        (["run", "nhs_vmi_partnership", "--set", "novalue"], ["--set", "KEY=VALUE"]),
        (["run", "nhs_vmi_partnership", "--seed", "-1"], ["--seed", "whole number"]),
        (["run", "nhs_vmi_partnership", "--seed", "abc"], ["--seed"]),
        (["run", "nhs_vmi_partnership", "--seed", str(2**64)], ["--seed"]),
        (["run", "nhs_vmi_partnership", "--months", "0"], ["--months"]),
        (["run", "nhs_vmi_partnership", "--months", "100000"], ["--months"]),
        (
            ["show", "nhs_vmi_partnership", "--set", "trusts[9].readiness=0.2"],
            ["trusts[9].readiness", "out of range"],
        ),
        (["frobnicate"], ["invalid choice"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, fragments):
    out = tmp_path / "out"
    extra = ["--out", str(out)] if args[0] == "run" else []
    code, _, err = relsim(capsys, *args, *extra)
    assert_one_line_error(code, err, *fragments)
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[pressure]\nbaseline = -1\n", "pressure.baseline"),
        (
            "[[trusts]]\nname = 'A'\nreadiness = 1.7\n",
            "trusts[0].readiness: must be between 0 and 1 (got 1.7)",
        ),
        ("[governance\n", "invalid TOML"),
        ("", "file is empty"),
    ],
)
def test_bad_files_are_named_and_nothing_is_written(tmp_path, capsys, content, fragment):
    path = tmp_path / "x.toml"
    path.write_text(content)
    out = tmp_path / "out"
    code, _, err = relsim(capsys, "run", str(path), "--out", str(out))
    assert_one_line_error(code, err, str(path), fragment)
    assert not out.exists()


def test_the_console_script_exits_2_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\x00\x01")
    done = subprocess.run(
        [*RELSIM, "run", str(bad)], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"relsim: {bad}: is a binary file, not TOML text"
    assert not (tmp_path / "results").exists()


def test_refuses_to_overwrite_a_directory_it_did_not_write(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    code, _, err = relsim(capsys, "run", "nhs_vmi_partnership", "--months", "2", "--out", str(mine))
    assert_one_line_error(code, err, "refusing to overwrite")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_default_output_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, _ = relsim(
        capsys, "run", "nhs_vmi_partnership", "--seed", "2", "--months", "2", "--no-figures"
    )
    assert code == 0
    assert (Path("results") / "nhs_vmi_partnership" / "seed-2" / "months.csv").exists()


def test_a_reader_that_stops_early_gets_no_traceback():
    """``relsim show ... | head -1``: the closed pipe ends relsim quietly, as SIGPIPE would."""
    process = subprocess.Popen(
        [*RELSIM, "show", "nhs_vmi_partnership"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # before relsim, still importing, writes anything: its write fails
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 128 + signal.SIGPIPE
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err


def test_an_override_that_duplicates_a_trust_name_is_blamed():
    done = subprocess.run(
        [*RELSIM, "show", "nhs_vmi_partnership", "--set", "trusts[0].name=Trust B"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "relsim: --set: trusts[1].name: duplicate trust name 'Trust B' (also trusts[0].name)"
    )
