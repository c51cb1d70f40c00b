"""Messages and recipes: what went wrong, the closest name, a missing folder, seeds as text."""

from __future__ import annotations

import csv
import io
import tarfile

import pandas as pd
import pytest

from relsim import load_scenario
from relsim.analysis.export import export
from relsim.cli import main
from relsim.errors import ScenarioError
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep
from relsim.runs.store import read_runs


def test_a_boolean_given_as_text_says_so():
    with pytest.raises(ScenarioError) as error:
        load_scenario(overrides={"governance.compact.enabled": "false"})
    message = str(error.value)
    assert "not the text 'false'" in message
    assert "without quotes" in message


@pytest.mark.parametrize(
    ("command", "typo", "want"),
    [
        ("run", "nhs_vmi_partnershp", "nhs_vmi_partnership"),
        ("sweep", "governance_comparisn", "governance_comparison"),
    ],
)
def test_a_mistyped_name_lists_the_bundled_ones_and_the_closest(command, typo, want, capsys):
    assert main([command, typo, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "(bundled: " in err
    assert f"did you mean {want!r}?" in err


@pytest.mark.parametrize("command", ["summarize", "report", "export"])
def test_a_missing_folder_is_said_to_be_missing(command, tmp_path, capsys):
    args = [command, str(tmp_path / "nowhere")]
    if command == "export":
        args += ["--format", "csv", "--out", str(tmp_path / "out")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "nowhere: no such directory" in err
    assert "manifest" not in err


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("messages")
    experiment = load_experiment(
        {
            "experiment": {"scenario": "nhs_vmi_partnership", "replications": 2, "seed": 8},
            "base": {"scenario.months": 6},
            "factors": {"governance.mode": ["hierarchical", "networked"]},
        }
    )
    run_sweep(experiment, root / "s", executor=Serial(), progress=Silent())
    return root


def test_csv_export_writes_seeds_as_quoted_text(sweep):
    export(sweep / "s", "csv", sweep / "csv")
    text = (sweep / "csv" / "runs.csv").read_text()
    rows = list(csv.reader(io.StringIO(text), quoting=csv.QUOTE_NONNUMERIC))
    header, first = rows[0], rows[1]
    seed = first[header.index("seed")]
    assert isinstance(seed, str)  # quoted: text, all 19 digits
    assert int(seed) == read_runs(sweep / "s")["seed"].iloc[0]
    assert isinstance(first[header.index("run_id")], float)  # numbers stay numbers
    back = pd.read_csv(sweep / "csv" / "runs.csv")
    assert back["seed"].tolist() == read_runs(sweep / "s")["seed"].tolist()


def test_ema_export_has_seed_and_replication_columns(sweep):
    export(sweep / "s", "ema", sweep / "gc.tar.gz")
    with tarfile.open(sweep / "gc.tar.gz") as archive:
        experiments = pd.read_csv(archive.extractfile("experiments.csv"))
    runs = read_runs(sweep / "s")
    assert experiments["seed"].tolist() == runs["seed"].tolist()
    assert experiments["replication"].tolist() == runs["replication"].tolist()
