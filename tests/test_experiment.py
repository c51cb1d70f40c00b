"""Experiment files: validation, sampled designs, seeds, and expansion into runs (pure)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from relsim import ScenarioError
from relsim.runs.experiment import (
    bundled_experiments,
    design_points,
    expand,
    load_experiment,
    run_seed,
)

GRID = """
[experiment]
name = "grid"
scenario = "nhs_vmi_partnership"
replications = 3
seed = 42
[base]
"scenario.months" = 12
[factors]
"governance.mode" = ["hierarchical", "networked"]
"governance.compact.enabled" = [true, false]
"""


def write(tmp_path: Path, text: str, name: str = "e.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_grid_expands_replication_major_with_unique_ids(tmp_path):
    e = load_experiment(write(tmp_path, GRID))
    runs = expand(e)
    assert e.n_points == 4
    assert len(runs) == e.n_runs == 12
    assert [r.run_id for r in runs] == list(range(12))
    assert [r.replication for r in runs] == [0] * 4 + [1] * 4 + [2] * 4
    assert [r.point for r in runs[:4]] == [0, 1, 2, 3]
    # The grid in file order, first factor slowest.
    assert [r.overrides for r in runs[:4]] == [
        {"governance.mode": "hierarchical", "governance.compact.enabled": True},
        {"governance.mode": "hierarchical", "governance.compact.enabled": False},
        {"governance.mode": "networked", "governance.compact.enabled": True},
        {"governance.mode": "networked", "governance.compact.enabled": False},
    ]
    assert e.base.months == 12  # [base] applies to every run


def test_expansion_is_a_pure_function_of_the_experiment(tmp_path):
    path = write(tmp_path, GRID)
    assert expand(load_experiment(path)) == expand(load_experiment(path))


def test_common_random_numbers_share_a_seed_within_a_replication(tmp_path):
    runs = expand(load_experiment(write(tmp_path, GRID)))
    seeds = {}
    for r in runs:
        seeds.setdefault(r.replication, set()).add(r.seed)
    assert all(len(s) == 1 for s in seeds.values())
    assert len({next(iter(s)) for s in seeds.values()}) == 3


def test_without_common_random_numbers_every_run_has_its_own_seed(tmp_path):
    text = GRID.replace("seed = 42", "seed = 42\ncommon_random_numbers = false")
    runs = expand(load_experiment(write(tmp_path, text)))
    assert len({r.seed for r in runs}) == len(runs)


def test_seed_derivation_is_stable():
    # Pinned: these must never change, or old sweeps could not be resumed or reproduced.
    assert [run_seed(20151001, r) for r in range(3)] == [
        6539162595221799568,
        7139954776955459671,
        7233734238727500296,
    ]
    assert run_seed(1, 0, 5) == 3601273857580402086
    assert all(0 <= run_seed(s, r) < 2**63 for s in (0, 7, 2**63 - 1) for r in range(5))


@pytest.mark.parametrize(
    ("method", "n", "points"),
    [("lhs", 16, 16), ("sobol", 8, 8 * (3 + 2)), ("morris", 5, 5 * (3 + 1))],
)
def test_sampled_designs_stay_in_their_ranges(tmp_path, method, n, points):
    text = f"""
[experiment]
scenario = "nhs_vmi_partnership"
seed = 3
[sampling]
method = "{method}"
n = {n}
[sampling.ranges]
"pressure.baseline" = [0.1, 0.6]
"trust_dynamics.loss_ratio" = [1.5, 5.0]
"governance.compact.clauses" = [3, 12]
"""
    e = load_experiment(write(tmp_path, text))
    assert e.design.shape == (points, 3)
    assert e.n_runs == points
    lo, hi = np.array([0.1, 1.5, 3]), np.array([0.6, 5.0, 12])
    assert np.all(e.design >= lo - 1e-12)
    assert np.all(e.design <= hi + 1e-12)
    clauses = [dict(p)["governance.compact.clauses"] for p in design_points(e)]
    assert all(isinstance(c, int) for c in clauses)
    # The same file gives the same design; another seed another.
    again = load_experiment(write(tmp_path, text))
    np.testing.assert_array_equal(again.design, e.design)
    other = load_experiment(write(tmp_path, text.replace("seed = 3", "seed = 4"), "f.toml"))
    assert not np.array_equal(other.design, e.design)


def test_a_sampled_design_is_drawn_only_when_used():
    """Listing or counting an experiment's runs does not import SALib (most of a second)."""
    code = (
        "import sys\n"
        "from relsim.runs.experiment import load_experiment\n"
        "e = load_experiment('global_sensitivity')\n"
        "print(e.n_runs, 'SALib' in sys.modules)\n"
        "print(e.design.shape[0] * e.n_cells * e.replications, 'SALib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    counted, drawn = done.stdout.split("\n")[:2]
    assert counted.split()[1] == "False"
    assert drawn.split() == [counted.split()[0], "True"]


def test_latin_hypercube_puts_one_point_in_each_stratum(tmp_path):
    text = """
[experiment]
scenario = "nhs_vmi_partnership"
[sampling]
method = "lhs"
n = 20
[sampling.ranges]
"pressure.baseline" = [0.0, 1.0]
"adoption.p1" = [0.0, 1.0]
"""
    design = load_experiment(write(tmp_path, text)).design
    for column in design.T:
        assert sorted(np.floor(column * 20).astype(int)) == list(range(20))


def test_factors_cross_with_sampled_points(tmp_path):
    text = """
[experiment]
scenario = "nhs_vmi_partnership"
replications = 2
[factors]
"governance.mode" = ["hierarchical", "networked"]
[sampling]
method = "lhs"
n = 4
[sampling.ranges]
"pressure.baseline" = [0.1, 0.6]
"""
    e = load_experiment(write(tmp_path, text))
    assert e.n_points == 8
    assert e.n_runs == 16
    points = design_points(e)
    assert [dict(p)["governance.mode"] for p in points] == ["hierarchical"] * 4 + ["networked"] * 4
    sampled = [dict(p)["pressure.baseline"] for p in points]
    assert sampled[:4] == sampled[4:]


def test_scenario_path_is_relative_to_the_experiment_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path, "[pressure]\nbaseline = 0.45\n", "mine.toml")
    path = write(
        tmp_path / "sub", '[experiment]\nscenario = "../mine.toml"\nreplications = 2\n', "e.toml"
    )
    assert load_experiment(path).base.pressure.baseline == 0.45


def test_bundled_experiments_load_and_the_headline_compares_the_four_rules():
    bundled = bundled_experiments()
    assert {"governance_comparison", "pressure_sensitivity", "global_sensitivity"} <= set(bundled)
    for path in bundled.values():
        load_experiment(path)
    headline = load_experiment("governance_comparison")
    assert headline.replications >= 100
    modes = ("hierarchical", "responsive", "hybrid", "networked")
    assert dict(headline.factors)["governance.mode"] == modes
    assert dict(headline.factors)["governance.compact.enabled"] == (True, False)
    assert load_experiment("global_sensitivity").sampling.method in {"morris", "sobol"}


HEAD = '[experiment]\nscenario = "nhs_vmi_partnership"\n'


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("[experimnt]\nname = 'x'\n", "experimnt", "unknown key"),
        ("[experiment]\nname = 'x'\n", "experiment.scenario", "is required"),
        (
            '[experiment]\nscenario = "nowhere.toml"\n',
            "experiment.scenario",
            "no such scenario",
        ),
        (  # a copied bundled experiment that still points at ../scenarios/
            '[experiment]\nscenario = "../scenarios/board_size.toml"\n',
            "experiment.scenario",
            'scenarios/board_size.toml, or write scenario = "board_size" for the bundled',
        ),
        (HEAD + "replicates = 3\n", "experiment.replicates", "unknown key"),
        (HEAD + "replications = 0\n", "experiment.replications", "between 1"),
        (HEAD + "replications = 2.5\n", "experiment.replications", "whole number"),
        (HEAD + "seed = -1\n", "experiment.seed", "between 0"),
        (HEAD + "common_random_numbers = 1\n", "experiment.common_random_numbers", "true or false"),
        (
            HEAD + '[factors]\n"pressure.basline" = [0.1]\n',
            'factors."pressure.basline"',
            "unknown key",
        ),
        (
            HEAD + '[factors]\n"pressure.baseline" = [0.1, -1.0]\n',
            'factors."pressure.baseline"[1]',
            "between 0 and 10",
        ),
        (
            HEAD + '[factors]\n"pressure.baseline" = []\n',
            'factors."pressure.baseline"',
            "non-empty list",
        ),
        (
            HEAD + '[factors]\n"pressure.baseline" = 0.3\n',
            'factors."pressure.baseline"',
            "non-empty list",
        ),
        (
            HEAD + '[factors]\n"governance.mode" = ["networked", "networked"]\n',
            'factors."governance.mode"',
            "same value twice",
        ),
        (
            HEAD + "[factors]\npressure.baseline = [0.1]\n",
            'factors."pressure"',
            "quote dotted keys",
        ),
        (
            HEAD + '[factors]\n"governance.board" = [1]\n',
            'factors."governance.board"',
            "table of settings",
        ),
        (
            HEAD
            + '[factors]\n"governance.board.positivity_floor" = [0.7]\n'
            + '"governance.board.positivity_ceiling" = [0.6]\n',
            "factors",
            "not a valid scenario",
        ),
        (
            HEAD + '[base]\n"pressure.baseline" = "high"\n',
            'base."pressure.baseline"',
            "expected a number",
        ),
        (HEAD + '[base]\n"nonsense.key" = 1\n', 'base."nonsense.key"', "unknown key"),
        (HEAD + '[sampling]\nmethod = "grid"\nn = 4\n', "sampling.method", "must be one of"),
        (HEAD + "[sampling]\nn = 4\n", "sampling.ranges", "expected a table"),
        (
            HEAD + '[sampling]\nmethod = "lhs"\n[sampling.ranges]\n"adoption.p1" = [0.1, 0.2]\n',
            "sampling.n",
            "is required",
        ),
        (
            HEAD + '[sampling]\nn = 4\n[sampling.ranges]\n"adoption.p1" = [0.3, 0.1]\n',
            'sampling.ranges."adoption.p1"',
            "low < high",
        ),
        (
            HEAD + '[sampling]\nn = 4\n[sampling.ranges]\n"adoption.p1" = [0.1, 1.5]\n',
            'sampling.ranges."adoption.p1"[1]',
            "between 0 and 1",
        ),
        (
            HEAD + '[sampling]\nn = 4\n[sampling.ranges]\n"governance.mode" = [0, 1]\n',
            'sampling.ranges."governance.mode"',
            "only numeric",
        ),
        (
            HEAD
            + '[sampling]\nmethod = "sobol"\nn = 6\n[sampling.ranges]\n'
            + '"adoption.p1" = [0.1, 0.2]\n"adoption.p2" = [0.1, 0.2]\n',
            "sampling.n",
            "power of two",
        ),
        (
            HEAD
            + '[factors]\n"adoption.p1" = [0.1]\n[sampling]\nn = 4\n'
            + '[sampling.ranges]\n"adoption.p1" = [0.1, 0.2]\n',
            'sampling.ranges."adoption.p1"',
            "also a grid factor",
        ),
    ],
)
def test_bad_experiments_are_named_by_file_and_field(tmp_path, text, field, expected):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    error = info.value
    assert error.source == str(path), str(error)
    assert error.field == field, str(error)
    assert expected in error.message, str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "file is empty"), (b"\x00\x00", "binary"), (b"[experiment\n", "invalid TOML")],
)
def test_unreadable_experiment_files(tmp_path, content, expected):
    path = tmp_path / "e.toml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match=expected):
        load_experiment(path)


def test_a_bad_scenario_file_named_by_an_experiment_is_reported_as_that_file(tmp_path):
    write(tmp_path, "[pressure]\nbaseline = -3\n", "bad.toml")
    path = write(tmp_path, '[experiment]\nscenario = "bad.toml"\n')
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert info.value.source.endswith("bad.toml")
    assert info.value.field == "pressure.baseline"


def test_factors_that_are_valid_together_are_accepted_though_not_beside_the_base(tmp_path):
    """board_size has 40 trusts: 2 regions alone do not fit them, but they fit 10 or 12."""
    head = '[experiment]\nscenario = "board_size"\n[factors]\n'
    fits = load_experiment(
        write(tmp_path, head + '"population.trusts" = [10, 12]\n"population.regions" = [2]\n')
    )
    assert fits.n_runs == 2
    # A cell that does not fit is still refused whole, naming the cell.
    with pytest.raises(ScenarioError, match=r"the cell population.trusts = 20, population"):
        load_experiment(
            write(tmp_path, head + '"population.trusts" = [10, 20]\n"population.regions" = [2]\n')
        )
    # A level that fits no cell is named itself, with the error of a cell that holds it.
    with pytest.raises(ScenarioError) as caught:
        load_experiment(
            write(tmp_path, head + '"population.regions" = [2, 60]\n"population.trusts" = [10]\n')
        )
    assert str(caught.value).endswith(
        'factors."population.regions"[1]: must not exceed population.trusts (10) (got 60)'
    )


def test_ranges_that_include_invalid_scenarios_are_refused_before_anything_runs(tmp_path):
    """Ranges valid alone can pair a partner's start after its end; runs used to fail one by one."""
    text = (
        '[experiment]\nscenario = "nhs_vmi_partnership"\n[sampling]\nmethod = "lhs"\nn = 8\n'
        '[sampling.ranges]\n"partner.start_month" = [0, 50]\n"partner.end_month" = [10, 60]\n'
    )
    # Listing skips only this check of the design as whole scenarios.
    assert load_experiment(write(tmp_path, text), check_design=False).n_runs == 8
    with pytest.raises(ScenarioError) as caught:
        load_experiment(write(tmp_path, text))
    assert str(caught.value).endswith(
        "sampling.ranges: the ranges include points that are not valid scenarios, e.g. "
        "partner.start_month = 50, partner.end_month = 10: partner.end_month: must not be "
        "before partner.start_month (50) (got 10)"
    )
    # Ranges that cannot cross are accepted.
    fine = text.replace("[0, 50]", "[0, 10]").replace("[10, 60]", "[12, 60]")
    assert load_experiment(write(tmp_path, fine, "fine.toml")).n_runs == 8
    # With grid factors as well, a bad cell is still blamed on the factors, not the ranges.
    crossed = fine.replace('scenario = "nhs_vmi_partnership"', 'scenario = "board_size"') + (
        '[factors]\n"population.trusts" = [10, 20]\n"population.regions" = [2]\n'
    )
    with pytest.raises(ScenarioError, match=r"factors: the cell population.trusts = 20, pop"):
        load_experiment(write(tmp_path, crossed, "crossed.toml"))
