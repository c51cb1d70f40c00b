"""Inputs that cannot run are refused at load; outputs never replace what changed (issue 18).

Files that are not files (a FIFO, a device, a huge file), encodings other than UTF-8, nesting
too deep, values that would crash the model or exhaust memory: each is one line naming the file
and the field, before anything runs. Output directories are replaced only if still what was
checked, and never with a user's file in them; names are printed with control characters
escaped; the dashboard warns when it listens beyond this machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from pathlib import Path

import pytest

from relsim.atomic import atomic_directory, atomic_file, write_json
from relsim.cli import main
from relsim.errors import RelsimError, ScenarioError
from relsim.runs.experiment import load_experiment
from relsim.scenario import load_scenario
from relsim.scenario.files import MAX_INPUT_BYTES, MAX_NESTING


def relsim(capsys, *args: str, timeout: float = 30.0) -> tuple[int, str, str]:
    """``relsim ARGS`` in this process, in a thread: a command that blocks fails the test."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(list(args))), daemon=True)
    thread.start()
    thread.join(timeout)
    out, err = capsys.readouterr()
    assert result, f"relsim {' '.join(args)} did not return within {timeout} s"
    return result[0], out, err


def one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "scenario.toml"
    os.mkfifo(path)
    yield path
    # Release a reader that old code left blocked on it, so the thread can end.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


# --- files that are not files ----------------------------------------------------------------


def test_a_fifo_or_a_device_is_refused_at_once(fifo, tmp_path, capsys):
    for args in (
        ["run", str(fifo), "--out", str(tmp_path / "run")],
        ["sweep", str(fifo), "--out", str(tmp_path / "sweep")],
        ["show", "/dev/zero"],
        ["calibrate", str(fifo), "--out", str(tmp_path / "calibration")],
        ["calibrate", "/dev/zero", "--out", str(tmp_path / "calibration")],
    ):
        code, _, err = relsim(capsys, *args)
        one_line_error(code, err, args[1], "not a regular file")
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(
        f'[experiment]\nscenario = "{fifo}"\nreplications = 2\n', encoding="utf-8"
    )
    code, _, err = relsim(capsys, "sweep", str(experiment), "--out", str(tmp_path / "s"))
    one_line_error(code, err, str(fifo), "not a regular file")
    assert not (tmp_path / "s").exists()
    assert not (tmp_path / "calibration").exists()


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path):
    path = tmp_path / "huge.toml"
    with open(path, "wb") as stream:
        stream.truncate(MAX_INPUT_BYTES + 1)  # sparse: nothing is written, or read
    with pytest.raises(ScenarioError, match="input files may be at most 17 MB"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeff".encode() + b'[scenario]\nname = "bom"\n', None),
        ('[scenario]\nname = "x"\n'.encode("utf-16"), "is UTF-16 text"),
        (
            '[scenario]\nname = "caf\u00e9"\n'.encode("cp1252"),
            "not UTF-8 text (byte 0xE9 on line 2",
        ),
    ],
)
def test_a_byte_order_mark_is_read_and_other_encodings_are_named(tmp_path, data, expected):
    path = tmp_path / "s.toml"
    path.write_bytes(data)
    if expected is None:
        assert load_scenario(path).scenario.name == "bom"
    else:
        with pytest.raises(ScenarioError, match=re.escape(expected)):
            load_scenario(path)


def test_nesting_too_deep_is_one_line(tmp_path, capsys):
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    code, _, err = relsim(capsys, "show", str(deep))
    one_line_error(code, err, str(deep), f"more than {MAX_NESTING} deep")
    nested = tmp_path / "nested.toml"
    nested.write_text("[scenario]\nname = " + "[" * 20 + "1" + "]" * 20 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"scenario\.name") as error:
        load_scenario(nested)
    assert "deep" in error.value.message


# --- values that cannot run ------------------------------------------------------------------


def test_a_vanishing_spread_is_refused_rather_than_divided_by(tmp_path):
    with pytest.raises(ScenarioError, match=r"population.readiness.sd: must be 0 .* at least"):
        load_scenario("england_system", {"population.readiness.sd": 1e-320})
    assert load_scenario("england_system", {"population.readiness.sd": 0.0})


def test_too_many_listed_trusts_and_names_too_long_are_refused(tmp_path):
    many = tmp_path / "many.toml"
    trusts = "".join(f'[[trusts]]\nname = "T{i}"\n' for i in range(10_001))
    many.write_text(trusts, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"trusts: at most 10000 trusts may be listed"):
        load_scenario(many)
    long_name = tmp_path / "long.toml"
    long_name.write_text(
        f'[[trusts]]\nname = "{"A" * 1_000_000}"\n[[trusts]]\nname = "B"\n', encoding="utf-8"
    )
    with pytest.raises(ScenarioError, match=r"trusts\[0\].name: must be at most 100 characters"):
        load_scenario(long_name)


def test_a_board_too_big_for_memory_is_refused_with_an_estimate(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text(
        'practices = []\n[scenario]\nname = "one big board"\n[governance]\nmode = "networked"\n'
        "[population]\ntrusts = 5000\nregions = 0\nseed = 1\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"5000 trusts meeting at one board .* about 6 GB"):
        load_scenario(path)
    # The same trusts in regional boards meet a few at a time: fine.
    assert len(load_scenario(path, {"governance.mode": "regional_boards"}).trusts) == 5000


def test_whole_number_ranges_are_checked_as_they_are_sampled(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(
        '[experiment]\nscenario = "nhs_vmi_partnership"\nreplications = 1\n'
        '[sampling]\nmethod = "lhs"\nn = 8\n'
        '[sampling.ranges]\n"scenario.months" = [1, 600.6]\n',  # 600.6 is sampled as 601
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"sampling.ranges.\"scenario.months\"\[1\]"):
        load_experiment(path)


# --- outputs ---------------------------------------------------------------------------------


def _relsim_output(folder: Path, files: dict[str, str]) -> None:
    with atomic_directory(folder) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text)
        write_json(tmp / "manifest.json", {"relsim": "run"})


def test_a_file_added_while_an_output_is_made_is_kept_and_the_output_put_beside(tmp_path):
    out = tmp_path / "out"
    _relsim_output(out, {"a.csv": "1"})
    changed = r"changed while the output was being made.*out\.new-1"
    with pytest.raises(RelsimError, match=changed), atomic_directory(out) as tmp:  # noqa: PT012
        (tmp / "a.csv").write_text("2")
        write_json(tmp / "manifest.json", {"relsim": "run"})
        (out / "mine.txt").write_text("the user's")  # meanwhile, in the old output
    assert (out / "mine.txt").read_text() == "the user's"
    assert (out / "a.csv").read_text() == "1"
    assert (tmp_path / "out.new-1" / "a.csv").read_text() == "2"


def test_relsim_replaces_only_the_files_it_wrote(tmp_path):
    out = tmp_path / "out"
    _relsim_output(out, {"a.csv": "1", "b.png": "old figure"})
    assert json.loads((out / "manifest.json").read_text())["written"] == [
        "a.csv",
        "b.png",
        "manifest.json",
    ]
    _relsim_output(out, {"a.csv": "2"})  # b.png was relsim's: it goes
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "manifest.json"]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RelsimError, match=r"would not replace \(notes.txt\)"):
        _relsim_output(out, {"a.csv": "3"})
    assert (out / "notes.txt").read_text() == "mine"


def test_what_a_killed_writer_left_is_cleaned_up_by_the_next_write(tmp_path):
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    assert not Path(f"/proc/{dead}").exists()
    out = tmp_path / "out"
    _relsim_output(out, {"a.csv": "1"})
    partial = tmp_path / f".out.tmp-{dead}-x1y2"
    partial.mkdir()
    (partial / "big.csv").write_text("half")
    scratch = tmp_path / f".out.scratch-{dead}-abcd"
    scratch.mkdir()
    tmp_file = tmp_path / f".report.html.{dead}.k3j4.tmp"
    tmp_file.write_text("half a report")
    live = tmp_path / f".out.tmp-{os.getpid()}-live"  # a live writer's: never touched
    live.mkdir()
    _relsim_output(out, {"a.csv": "2"})
    with atomic_file(tmp_path / "report.html") as tmp:
        tmp.write_text("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "out", "report.html"]


def test_an_output_moved_aside_by_a_killed_writer_is_put_back(tmp_path):
    out = tmp_path / "out"
    _relsim_output(out, {"a.csv": "1"})
    aside = tmp_path / f".out.old-{2**22 + 12345}"
    out.rename(aside)  # killed between its two renames: out is missing
    _relsim_output(out, {"a.csv": "2"})
    assert (out / "a.csv").read_text() == "2"
    assert not aside.exists()


def test_out_dot_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = relsim(capsys, "run", "nhs_vmi_partnership", "--months", "2", "--out", ".")
    one_line_error(code, err, "current directory")
    assert list(tmp_path.iterdir()) == []


# --- what is printed -------------------------------------------------------------------------


def test_control_characters_in_names_are_printed_escaped(tmp_path, capsys):
    path = tmp_path / "evil.toml"
    path.write_text('[scenario]\nname = "evil\\u001b[2J\\u009b31m"\n', encoding="utf-8")
    code, out, err = relsim(
        capsys, "run", str(path), "--months", "2", "--no-figures", "--out", str(tmp_path / "run")
    )
    assert code == 0, err
    assert "\x1b" not in out
    assert "\x9b" not in out
    assert "evil\\x1b[2J\\x9b31m" in out


def test_the_dashboard_warns_when_it_listens_beyond_this_machine(monkeypatch, capsys):
    pytest.importorskip("solara")
    from relsim.dashboard import server

    monkeypatch.setattr(server, "serve", lambda *args: None)
    code, _, err = relsim(capsys, "demo", "--host", "0.0.0.0", "--port", "48765")
    assert code == 0
    assert "warning: --host 0.0.0.0" in err
    assert "no login" in err
    code, _, err = relsim(capsys, "demo", "--port", "48765")
    assert code == 0
    assert "warning" not in err
