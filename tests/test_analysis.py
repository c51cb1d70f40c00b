"""Sensitivity analysis, export to EMA Workbench and CSV, and validation of the stylised facts."""

from __future__ import annotations

import io
import json
import math
import re
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from scipy.stats import qmc

from relsim.analysis.export import ema_inputs
from relsim.analysis.facts import FactResult, PatternResult, Validation
from relsim.analysis.sensitivity import analyze, sensitivity
from relsim.cli import main
from relsim.presentation.sensitivity_figures import sensitivity_figure
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep
from relsim.runs.store import read_months, read_runs
from relsim.scenario import with_overrides

# --- sensitivity on functions with known answers ---------------------------------------------


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


PI = math.pi
ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-PI, PI]] * 3}


def test_sobol_indices_of_the_ishigami_function():
    # Analytical values (Ishigami & Homma 1990; Sobol' & Levitan 1999).
    x = sobol_sample.sample(ISHIGAMI, 2048, calc_second_order=False, seed=1)
    table = analyze("sobol", ISHIGAMI, x, ishigami(x)).set_index("parameter")
    np.testing.assert_allclose(table.loc[["x1", "x2", "x3"], "S1"], [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(
        table.loc[["x1", "x2", "x3"], "ST"], [0.558, 0.442, 0.244], atol=0.05
    )
    assert table.loc[["x1", "x2", "x3"], "rank"].tolist() == [1, 2, 3]


def test_morris_ranks_a_linear_function_by_its_coefficients():
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0, 1]] * 4}
    x = morris_sample.sample(problem, 20, num_levels=4, seed=2)
    y = 5 * x[:, 0] + 2 * x[:, 1] + 0 * x[:, 2] + 1 * x[:, 3]
    table = analyze("morris", problem, x, y).set_index("parameter")
    # For a linear function every elementary effect is the coefficient: mu* is exact, sigma 0.
    np.testing.assert_allclose(table.loc[list("abcd"), "mu_star"], [5, 2, 0, 1], atol=1e-9)
    np.testing.assert_allclose(table["sigma"], 0, atol=1e-9)
    assert table.loc[list("abdc"), "rank"].tolist() == [1, 2, 3, 4]


def test_delta_ranks_the_inputs_of_a_latin_hypercube():
    problem = {"num_vars": 3, "names": ["strong", "weak", "none"], "bounds": [[0, 1]] * 3}
    x = qmc.LatinHypercube(d=3, rng=3).random(500)
    y = 3 * x[:, 0] + x[:, 1] ** 2
    table = analyze("lhs", problem, x, y).set_index("parameter")
    assert table.loc[["strong", "weak", "none"], "rank"].tolist() == [1, 2, 3]


# --- a small sampled sweep -------------------------------------------------------------------

MORRIS = """
[experiment]
name = "small morris"
description = "Which of two assumptions matters more?"
scenario = "nhs_vmi_partnership"
replications = 2
seed = 3
[base]
"scenario.months" = 24
[sampling]
method = "morris"
n = 4
[sampling.ranges]
"trust_dynamics.loss_ratio" = [1.5, 5.0]
"regulator.disclosure_credit" = [0.0, 0.0001]
"""


@pytest.fixture(scope="module")
def sampled(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("sampled")
    path = tmp / "e.toml"
    path.write_text(MORRIS)
    run_sweep(load_experiment(path), tmp / "sweep", executor=Serial(), progress=Silent())
    return tmp / "sweep"


def test_sensitivity_of_a_sweep_ranks_the_assumption_that_matters(sampled, capsys):
    assert main(["sensitivity", str(sampled)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(sampled / "sensitivity.csv")
    trust = table[table["outcome"] == "trust_in_regulator_final"].set_index("parameter")
    # The loss:gain ratio of trust drives trust; a near-zero disclosure credit barely does.
    assert trust.loc["trust_dynamics.loss_ratio", "rank"] == 1
    assert (
        trust.loc["trust_dynamics.loss_ratio", "mu_star"]
        > 10 * trust.loc["regulator.disclosure_credit", "mu_star"]
    )
    assert "ranked by mu_star" in printed
    assert (sampled / "sensitivity.png").exists()
    assert (sampled / "sensitivity.svg").exists()


def test_sensitivity_uses_the_recorded_design_and_the_means_over_replications(sampled):
    result = sensitivity(sampled, ["capability_final"])
    manifest = json.loads((sampled / "manifest.json").read_text())
    x = np.array(manifest["experiment"]["design"])
    runs = read_runs(sampled)
    y = runs.groupby("point")["capability_final"].mean().to_numpy()
    problem = manifest["experiment"]["sampling"]["problem"]
    want = analyze("morris", problem, x, y).set_index("parameter")["mu_star"]
    got = result.table.set_index("parameter")["mu_star"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index())


def test_sensitivity_figure_has_one_bar_per_parameter(sampled):
    result = sensitivity(sampled, ["trust_in_regulator_final", "disclosures"])
    fig = sensitivity_figure(result)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["trust_in_regulator_final", "disclosures"]
    for ax in axes:
        assert len(ax.patches) == 2
        assert {t.get_text() for t in ax.get_yticklabels()} == {
            "trust_dynamics.loss_ratio",
            "regulator.disclosure_credit",
        }
        assert "μ*" in ax.get_xlabel()
    assert "morris" in fig.get_suptitle()


def test_every_text_of_the_sensitivity_figure_is_inside_it(tmp_path):
    """Long outcome and parameter names, and a grid cell in the title, once ran off the PNG."""
    path = tmp_path / "e.toml"
    path.write_text(
        MORRIS.replace('"scenario.months" = 24', '"scenario.months" = 6')
        .replace("trust_dynamics.loss_ratio", "governance.compact.clauses")
        .replace("[1.5, 5.0]", "[3, 9]")
        + '[factors]\n"governance.compact.enabled" = [true, false]\n'
    )
    run_sweep(load_experiment(path), tmp_path / "s", executor=Serial(), progress=Silent())
    result = sensitivity(tmp_path / "s")
    long = sorted(set(result.table["outcome"]), key=len)[-3:]  # the right column clipped first
    fig = sensitivity_figure(result, long)
    canvas = FigureCanvasAgg(fig)  # as the PNG is drawn
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    texts = [fig._suptitle] + [
        t for ax in fig.axes if ax.get_visible() for t in (ax.title, ax.xaxis.label)
    ]
    for text in texts:
        if text is None or not text.get_text():
            continue
        extent = text.get_window_extent(renderer)
        assert box.x0 - 1 <= extent.x0, text.get_text()
        assert extent.x1 <= box.x1 + 1, text.get_text()
        assert box.y0 - 1 <= extent.y0, text.get_text()
        assert extent.y1 <= box.y1 + 1, text.get_text()


def test_sensitivity_needs_a_sampled_design(tmp_path, capsys):
    path = tmp_path / "grid.toml"
    path.write_text(
        '[experiment]\nscenario = "nhs_vmi_partnership"\nreplications = 2\n'
        '[base]\n"scenario.months" = 3\n'
    )
    run_sweep(load_experiment(path), tmp_path / "s", executor=Serial(), progress=Silent())
    assert main(["sensitivity", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "no sampled design" in err
    assert len(err.strip().splitlines()) == 1


# --- export ------------------------------------------------------------------------------------


def load_ema(path: Path) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """EMA Workbench's load_results for metadata version 0.1, step by step (EMA 2.x/3.x)."""
    with tarfile.open(path, "r:gz", encoding="UTF8") as archive:
        metadata = json.loads(archive.extractfile("metadata.json").read().decode())
        experiments = pd.read_csv(archive.extractfile("experiments.csv"))
        for name, dtype in metadata["experiments"].items():
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                dtype = pd.api.types.pandas_dtype(dtype)
            experiments[name] = experiments[name].astype(dtype)
        outcomes = {}
        for kind, name, filename in metadata["outcomes"]:
            data = io.BytesIO(archive.extractfile(filename).read())
            if kind == "ScalarOutcome":
                values = pd.read_csv(data, index_col=False, header=None).values
                outcomes[name] = values.reshape(values.shape[0])
            else:
                assert kind == "TimeSeriesOutcome"
                outcomes[name] = pd.read_csv(data, index_col=False, header=0).values
    return experiments, outcomes


def test_ema_export_round_trips(sampled, tmp_path, capsys):
    out = tmp_path / "results.tar.gz"
    assert main(["export", str(sampled), "--format", "ema", "--out", str(out)]) == 0
    experiments, outcomes = load_ema(out)
    runs = read_runs(sampled)
    assert len(experiments) == len(runs)
    assert {"scenario", "policy", "model"} <= set(experiments.columns)
    np.testing.assert_allclose(
        experiments["trust_dynamics.loss_ratio"], runs["trust_dynamics.loss_ratio"]
    )
    np.testing.assert_allclose(
        outcomes["trust_in_regulator_final"], runs["trust_in_regulator_final"]
    )
    months = read_months(sampled)
    first = months[months["run_id"] == runs["run_id"].iloc[0]]["mean_trust_in_regulator"]
    np.testing.assert_allclose(outcomes["mean_trust_in_regulator"][0], first)
    assert outcomes["mean_trust_in_regulator"].shape == (len(runs), 25)
    _experiments, scalars, series = ema_inputs(sampled)
    assert {*scalars, *series} == set(outcomes)
    # The same sweep gives the same archive, byte for byte.
    again = tmp_path / "again.tar.gz"
    main(["export", str(sampled), "--format", "ema", "--out", str(again), "--quiet"])
    assert out.read_bytes() == again.read_bytes()


def test_csv_export(sampled, tmp_path):
    assert (
        main(["export", str(sampled), "--format", "csv", "--out", str(tmp_path / "csv"), "--quiet"])
        == 0
    )
    runs = pd.read_csv(tmp_path / "csv" / "runs.csv")
    assert len(runs) == len(read_runs(sampled))
    assert len(pd.read_csv(tmp_path / "csv" / "months.csv")) == len(read_months(sampled))


def test_export_errors_are_one_line(sampled, tmp_path, capsys):
    assert (
        main(["export", str(tmp_path), "--format", "ema", "--out", str(tmp_path / "x.tar.gz")]) == 2
    )
    assert "not a relsim sweep directory" in capsys.readouterr().err
    assert (
        main(
            ["export", str(sampled), "--format", "ema", "--out", str(tmp_path / "no" / "x.tar.gz")]
        )
        == 2
    )
    assert "folder does not exist" in capsys.readouterr().err


# --- validation --------------------------------------------------------------------------------


def test_validate_passes_at_the_defaults(capsys):
    # 50 paired replications, half the command's default, to keep the suite's time: every fact
    # and pattern must hold with the wider intervals too.
    assert main(["validate", "--replications", "50"]) == 0
    printed = capsys.readouterr().out
    assert "all facts and patterns hold" in printed
    for number in range(1, 13):
        assert f"holds  {number:2d}." in printed
    for key in ("V1", "V2", "V3"):
        assert f"holds   {key} " in printed
    # Each fact is labelled: the five that restate a mechanism, and why; the rest emergent.
    kinds = re.findall(r"^ +kind: +(mechanism check|emergent)", printed, re.MULTILINE)
    assert kinds.count("mechanism check") == 5
    assert kinds.count("emergent") == 7
    assert printed.count("source:   “") == 3


def test_validate_fails_when_a_held_out_pattern_fails(capsys, monkeypatch):
    import relsim.analysis.facts as validation

    real = validation.arms

    def heat_map_first():
        arms = real()
        # The heat map shown from the first month, long before any compact: V1 must fail.
        arms["case"] = with_overrides(arms["case"], {"practices[0].introduced_month": 0})
        return arms

    monkeypatch.setattr(validation, "arms", heat_map_first)
    assert main(["validate", "--replications", "10", "--workers", "1"]) == 1
    printed = capsys.readouterr().out
    assert "FAILS   V1 " in printed
    assert re.search(r"^failed: .*\bV1\b", printed, re.MULTILINE)


def test_a_failing_pattern_alone_fails_the_validation():
    facts = [FactResult(1, "f", "m", (), True, "r")]
    pattern = PatternResult("V2", "p", "s", "m", (), False, "r")
    assert Validation(facts, [pattern]).failed == ["V2"]
    assert Validation(facts, [replace(pattern, holds=True)]).failed == []


def test_validate_fails_when_governance_makes_no_difference(capsys, monkeypatch):
    import relsim.analysis.facts as validation

    real = validation.arms

    def no_hierarchy():
        arms = real()
        arms["hierarchical"] = arms["case"]  # a "hierarchy" that is really the case
        return arms

    monkeypatch.setattr(validation, "arms", no_hierarchy)
    assert main(["validate", "--replications", "10", "--workers", "1"]) == 1
    printed = capsys.readouterr().out
    assert "FAILS   1." in printed
    assert "FAILS   6." in printed
    assert "failed: " in printed
    assert not re.search(r"\bnan\b", printed)


def test_indices_are_reproducible_and_leave_numpys_global_generator_alone():
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1]] * 2}
    x = qmc.LatinHypercube(d=2, rng=4).random(300)
    y = x[:, 0] + 0.1 * x[:, 1]
    np.random.seed(1)  # noqa: NPY002 - checking that analyze leaves it untouched
    first = analyze("lhs", problem, x, y)
    after = np.random.random()  # noqa: NPY002
    np.random.seed(2)  # noqa: NPY002
    second = analyze("lhs", problem, x, y)
    pd.testing.assert_frame_equal(first, second)
    np.random.seed(1)  # noqa: NPY002
    assert after == np.random.random()  # noqa: NPY002 - the same draw as without analyze
