"""docs/ODD.md stays true to the code: generated parameter table, mechanisms, monthly order."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from relsim.model import kernel
from relsim.scenario import schema_rows

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("odd_table", ROOT / "tools" / "odd_table.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def text() -> str:
    return ODD.read_text(encoding="utf-8")


def _section(text: str, number: int) -> str:
    """The body of top-level section ``## <number> ...`` up to the next ``## `` heading."""
    match = re.search(rf"^## {number} .*?$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"docs/ODD.md has no section '## {number} ...'"
    return match.group(1)


def _prose(text: str, tool: ModuleType) -> str:
    """The document without its generated table."""
    head, rest = text.split(tool.START, 1)
    return head + rest.split(tool.END, 1)[1]


# --- (1) the parameter table is generated and current ----------------------------------------


def test_parameter_table_is_current(tool):
    assert tool.is_current(ODD), "run: .venv/bin/python tools/odd_table.py"


def test_check_fails_when_the_schema_gains_a_parameter(tool, monkeypatch, capsys):
    rows = [*schema_rows(), {**schema_rows()[0], "key": "scenario.brand_new"}]
    assert not tool.is_current(ODD, rows)
    monkeypatch.setattr(tool, "schema_rows", lambda: rows)
    assert tool.main(["--check", "--path", str(ODD)]) == 1
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1
    assert "out of date" in out


def test_check_passes_and_write_mode_is_idempotent(tool, tmp_path, capsys):
    copy = tmp_path / "ODD.md"
    copy.write_text(ODD.read_text(encoding="utf-8"), encoding="utf-8")
    assert tool.main(["--check", "--path", str(copy)]) == 0
    before = copy.read_text(encoding="utf-8")
    assert tool.main(["--path", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == before
    assert "already up to date" in capsys.readouterr().out


def test_write_mode_replaces_only_the_text_between_the_markers(tool, tmp_path):
    doc = tmp_path / "ODD.md"
    doc.write_text(f"# Title\n\nbefore\n{tool.START}\nstale\n{tool.END}\nafter\n", encoding="utf-8")
    assert tool.main(["--path", str(doc)]) == 0
    new = doc.read_text(encoding="utf-8")
    assert new.startswith("# Title\n\nbefore\n")
    assert new.endswith(f"{tool.END}\nafter\n")
    assert "stale" not in new
    table = new.split(tool.START)[1].split(tool.END)[0].strip().splitlines()
    assert table[0] == "| parameter | default | range | unit | meaning | source |"
    assert len(table) == 2 + len(schema_rows())


def test_missing_markers_are_an_error_not_a_silent_pass(tool, tmp_path, capsys):
    doc = tmp_path / "ODD.md"
    doc.write_text("# No table here\n", encoding="utf-8")
    assert tool.main(["--check", "--path", str(doc)]) == 2
    assert "parameters:start" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ((0.02, 0.1), "[0.02, 0.1]"),
        ((), "[]"),
        ("networked", '"networked"'),
        ("", '""'),
        ("(required)", "(required)"),
        (True, "true"),
        (False, "false"),
        (6.0, "6.0"),
        (-1, "-1"),
    ],
)
def test_defaults_are_formatted_as_in_a_scenario_file(tool, value, shown):
    assert tool.format_default(value) == shown


def test_pipes_in_a_meaning_do_not_break_the_table(tool):
    row = {"key": "a.b", "default": 1, "range": "", "unit": "", "doc": "x | y", "source": ""}
    line = tool.render_table([row]).splitlines()[-1]
    assert line == "| `a.b` | 1 |  |  | x \\| y | — |"


# --- (2) every parameter is documented -------------------------------------------------------


def test_every_parameter_key_appears_in_the_document(text):
    keys = [row["key"] for row in schema_rows()]
    assert len(keys) > 50
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing, f"not in docs/ODD.md: {missing}"


def test_list_entries_appear_with_brackets(text):
    for key in ("trusts[].readiness", "practices[].complexity", "pressure.shocks[].magnitude"):
        assert f"`{key}`" in text
    assert "governance.changes[].mode" in text


def test_every_assumed_default_is_named_in_the_calibration_note(text, tool):
    assumed = [r["key"] for r in schema_rows() if r["source"].startswith("assumption")]
    assert assumed, "the schema marks no default as an assumption"
    match = re.search(r"^\*\*Calibration\.\*\*(.*?)(?:\n\n|\Z)", _prose(text, tool), re.M | re.S)
    assert match, "docs/ODD.md has no '**Calibration.**' paragraph"
    missing = [key for key in assumed if f"`{key}`" not in match.group(1)]
    assert not missing, f"calibrated defaults not named in the calibration note: {missing}"


# --- (3) every mechanism has its subsection ---------------------------------------------------


def test_every_mechanism_has_a_subsection_heading_in_order(text):
    submodels = _section(text, 7)
    positions = []
    for n in range(1, 11):
        match = re.search(rf"^###\s.*\bM{n}\b", submodels, re.MULTILINE)
        assert match, f"no '### ... M{n} ...' heading in section 7 (Submodels)"
        positions.append(match.start())
    assert positions == sorted(positions), "mechanism subsections are out of order"


# --- (4) the monthly order of the code is the documented one ----------------------------------


def _monthly_steps() -> list[str]:
    """The monthly order, as the kernel (the one place the month is written) lists it."""
    doc = kernel.__doc__ or ""
    return re.findall(r"^\s*\d+\.\s+\*\*(.+?)\*\*", doc, re.MULTILINE)


def test_the_model_docstring_lists_the_monthly_order():
    steps = _monthly_steps()
    assert len(steps) >= 8
    assert steps[0] == "Environment"
    assert steps[-1] == "Data collection"


def test_monthly_order_steps_appear_in_the_process_overview_in_order(text):
    overview = _section(text, 3)
    positions = []
    for step in _monthly_steps():
        bold = f"**{step}**"
        assert bold in overview, f"{bold} (the kernel's monthly order) not in the process overview"
        positions.append(overview.index(bold))
    assert positions == sorted(positions), "the process overview lists the steps out of order"
