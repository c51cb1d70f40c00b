"""The example notebooks run, top to bottom, in a Jupyter kernel, without warnings or errors.

Each is executed with nbclient (what nbmake runs) in a fresh kernel. The files are kept with
their outputs stripped, so that a diff shows only what changed in the code.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.ipynb"))


def test_there_are_example_notebooks():
    assert {p.name for p in EXAMPLES} >= {"trust_trajectories.ipynb", "sweep_comparison.ipynb"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_notebook_runs_without_errors_or_warnings(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    stderr = [
        output["text"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("name") == "stderr"
    ]
    assert not [text for text in stderr if "Warning" in text], stderr
    html = [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "text/html" in output.get("data", {})
    ]
    assert html  # the reprs: a scenario, many runs, a run or a summary
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output


JUPYTER_WITHOUT_WIDGETS = """
import io, sys, types, warnings
import IPython  # a kernel has IPython; ipykernel.zmqshell marks a Jupyter kernel to tqdm
sys.modules["ipykernel"] = types.ModuleType("ipykernel")
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
sys.modules["ipywidgets"] = None  # not installed
warnings.simplefilter("error")
import relsim.model  # Mesa imports tqdm.auto, which warns here without ipywidgets
from relsim.runs.progress import Bar, make_progress
bar = make_progress(io.StringIO())
assert isinstance(bar, Bar) and bar.notebook, bar
bar.start(3, 0, 0, "here")
bar.update(3, 0)
bar.close()
print("ok")
"""


def test_in_jupyter_without_ipywidgets_nothing_warns_and_a_text_bar_is_drawn():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", JUPYTER_WITHOUT_WIDGETS], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_run_a_scenario_and_a_summary_display_briefly_in_a_notebook(tmp_path):
    from relsim import simulate
    from relsim.analysis.summary import summarize
    from relsim.runs.executors import Serial
    from relsim.runs.experiment import load_experiment
    from relsim.runs.progress import Silent
    from relsim.runs.runner import run_sweep

    result = simulate("nhs_vmi_partnership", seed=2, months=12)
    assert len(repr(result)) < 200  # was every table as text, some 6 KB
    assert repr(result).startswith("RunResult('NHS–VMI")
    assert "trust in the regulator" in result._repr_html_()
    assert "<code>.trusts</code>" in result._repr_html_()
    scenario = result.scenario._repr_html_()
    assert "networked governance, 5 trusts" in scenario
    assert "training heat map (from Trust B, month 18)" in scenario
    experiment = load_experiment(
        {
            "experiment": {"scenario": "nhs_vmi_partnership", "replications": 2},
            "base": {"scenario.months": 6},
        }
    )
    run_sweep(experiment, tmp_path / "s", executor=Serial(), progress=Silent())
    summary = summarize(tmp_path / "s")._repr_html_()
    assert "Unit of inference: the seed" in summary
    assert "<table" in summary
    assert "trust_in_regulator_final" in summary
