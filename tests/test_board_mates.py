"""The adoption among the origin's board mates: what the board_size experiment asks about."""

from __future__ import annotations

import math

import pytest

from relsim import simulate
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep
from relsim.runs.store import read_runs
from relsim.scenario import load_scenario, with_overrides

EXPERIMENT = """
[experiment]
scenario = "{scenario}"
replications = 2
seed = 4
[base]
"scenario.months" = 48
{base}
[factors]
"governance.mode" = {modes}
"""


def _expected(scenario, seed: int, practice: str) -> float:
    """The share from the full run's trusts table, independently of the sweep's code."""
    result = simulate(scenario, seed=seed)
    last = result.trusts[result.trusts["month"] == result.trusts["month"].max()]
    origin = next(p.origin for p in scenario.practices if p.name == practice)
    mode = scenario.governance.mode
    if mode == "hierarchical":
        return math.nan
    region = last.loc[last["trust"] == origin, "region"].iloc[0]
    mates = last[last["trust"] != origin]
    if mode != "networked":  # regional boards: the origin's region only
        mates = mates[mates["region"] == region]
    return float((mates[f"practice_{practice}"] != "none").mean())


@pytest.mark.parametrize(
    ("scenario", "base", "modes"),
    [
        # Five trusts, one network: replications stepped together.
        ("nhs_vmi_partnership", "", '["hierarchical", "networked"]'),
        # Twelve generated trusts in regions: one model per run.
        (
            "board_size",
            '"population.trusts" = 12',
            '["networked", "regional_boards"]',
        ),
    ],
)
def test_board_mates_adoption_is_the_share_of_the_origins_board_that_adopted(
    tmp_path, scenario, base, modes
):
    path = tmp_path / "e.toml"
    path.write_text(EXPERIMENT.format(scenario=scenario, base=base, modes=modes))
    experiment = load_experiment(path)
    run_sweep(experiment, tmp_path / "s", executor=Serial(), progress=Silent())
    runs = read_runs(tmp_path / "s")
    practice = experiment.base.practices[0].name
    for _, run in runs.iterrows():
        point = with_overrides(experiment.base, {"governance.mode": run["governance.mode"]})
        want = _expected(point, int(run["seed"]), practice)
        got = run[f"board_mates_adopted_{practice}"]
        assert got == pytest.approx(want, nan_ok=True), run["governance.mode"]


def test_every_practice_has_a_board_mates_outcome():
    from relsim.runs.outcomes import outcome_names

    names = outcome_names(load_scenario("nhs_vmi_partnership"))
    for practice in load_scenario("nhs_vmi_partnership").practice_names:
        assert f"board_mates_adopted_{practice}" in names
