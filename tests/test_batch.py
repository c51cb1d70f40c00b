"""Replications stepped together (the batched driver) give each run exactly what one model gives."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relsim import RegulationModel, load_scenario
from relsim.errors import ScenarioError
from relsim.model.batch import Batch, run_replications, supports
from relsim.runs.experiment import RunSpec
from relsim.runs.runner import chunk_size, point_tasks
from relsim.scenario import Scenario, schema_rows

SEEDS = list(range(40, 52))

PRACTICES = [
    {"name": "training_heat_map", "origin": "Trust A", "introduced_month": 0,
     "targets_training": True, "complexity": 2},
    {"name": "huddles", "origin": "Trust C", "introduced_month": 3, "mandated_month": 10},
]  # fmt: skip

#: Each branch of the monthly step: meetings skipped, mandates, practices embedded at once,
#: heavy enforcement and gaming, a partner that leaves, a compact that lapses, shocks, and
#: practices spreading between competitors.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "nhs_vmi": ("nhs_vmi_partnership", {}),
    "hierarchical": ("hierarchical_baseline", {}),
    "responsive": ("hierarchical_baseline", {"governance.mode": "responsive"}),
    "networked": ("nhs_vmi_partnership", {"governance.mode": "networked"}),
    "shock": ("pressure_shock", {}),
    "no_compact": ("no_compact", {}),
    "quarterly_board": (
        "nhs_vmi_partnership",
        {"governance.board.meeting_interval_months": 3, "partner.end_month": 20},
    ),
    "mandates": (
        "nhs_vmi_partnership",
        {"practices": PRACTICES, "adoption.implementation_months": 0},
    ),
    "fragile_compact": (
        "nhs_vmi_partnership",
        {
            "governance.compact.clauses": 1,
            "governance.compact.clause_hours": 2.0,
            "governance.compact.lapse_threshold": 0.45,
            "governance.compact.repair_probability": 0.3,
            "trust_dynamics.loss_ratio": 5.0,
            "pressure.volatility": 0.2,
        },
    ),
    "competitors_meet": (
        "hierarchical_baseline",
        {
            "governance.hierarchical.peer_contact_rate": 0.6,
            "governance.hierarchical.peer_positive_probability": 0.9,
            "adoption.trust_threshold": 0.3,
        },
    ),
    "gaming": (
        "hierarchical_baseline",
        {
            "governance.hierarchical.quality_target": 0.9,
            "practices": PRACTICES,
            "scenario.months": 30,
        },
    ),
    "changes_of_rule": (
        "nhs_vmi_partnership",
        {
            "governance.changes": [
                {"month": 12, "mode": "hierarchical"},
                {"month": 30, "mode": "networked"},
            ]
        },
    ),
    "lead_organisation": ("nhs_vmi_partnership", {"governance.mode": "lead_organisation"}),
    "national_network": (
        "nhs_vmi_partnership",
        {"governance.mode": "national_learning_network", "scenario.months": 30},
    ),
}


def one_by_one(scenario: Scenario, seed: int) -> dict[str, list[Any]]:
    model = RegulationModel(scenario, rng=seed, record="months")
    model.run_model()
    return model.datacollector.model_vars


def same(a: list[Any], b: list[Any]) -> bool:
    """Equal, element by element (NaN equals NaN: a month without a board)."""
    return len(a) == len(b) and all(
        x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_run_equals_its_model_run_bit_for_bit(variant):
    name, overrides = VARIANTS[variant]
    scenario = load_scenario(name, overrides)
    assert supports(scenario)
    together = run_replications(scenario, SEEDS)
    for seed, series in zip(SEEDS, together, strict=True):
        alone = one_by_one(scenario, seed)
        assert list(series) == list(alone)
        for column, values in alone.items():
            assert same(series[column], values), (variant, seed, column)


def test_the_variants_reach_the_branches_they_are_there_for():
    """Guard the equality test against variants that quietly stop exercising anything."""
    runs = {v: run_replications(load_scenario(n, o), SEEDS) for v, (n, o) in VARIANTS.items()}

    def ever(variant: str, column: str, test: Any) -> bool:
        return any(test(x) for run in runs[variant] for x in run[column])

    assert ever("nhs_vmi", "compact_state", lambda s: s == "in_force")
    assert ever("nhs_vmi", "repairs", lambda r: r > 0)
    assert ever("fragile_compact", "compact_state", lambda s: s == "in_force")
    lapsed = any(
        (a, b) == ("in_force", "negotiating")
        for run in runs["fragile_compact"]
        for a, b in itertools.pairwise(run["compact_state"])
    )
    assert lapsed
    assert not all(runs["quarterly_board"][0]["board_met"][1:])
    assert ever("mandates", "adopters_huddles", lambda a: a == 5)
    assert ever("gaming", "gaming_gap", lambda g: g > 0)
    assert ever("nhs_vmi", "gaming_gap", lambda g: g > 0)  # hybrid: reviews go on at the board
    assert not ever("networked", "gaming_gap", lambda g: g > 0)
    assert ever("responsive", "mean_enforcement_level", lambda level: level > 0)
    assert ever("gaming", "mean_enforcement_level", lambda level: level > 1)
    assert ever("competitors_meet", "adopters_training_heat_map", lambda a: a > 1)
    assert ever("changes_of_rule", "governance", lambda g: g == "hierarchical")
    assert ever("changes_of_rule", "compact_state", lambda s: s == "in_force")


def test_a_run_does_not_depend_on_the_runs_stepped_with_it():
    scenario = load_scenario("nhs_vmi_partnership", {"scenario.months": 24})
    crowd = run_replications(scenario, [3, 5, 8])
    alone = run_replications(scenario, [5])
    assert crowd[1].keys() == alone[0].keys()
    assert all(same(crowd[1][c], alone[0][c]) for c in alone[0])


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("board_size", {"governance.mode": "regional_boards"}),
        ("board_size", {}),
        ("england_system", {}),
        (
            "england_system",
            {
                "population.trusts": 101,
                "population.regions": 1,
                "population.region_size": [101, 101],
                "governance.mode": "networked",
            },
        ),
    ],
)
def test_what_it_does_not_cover_is_refused(name, overrides):
    scenario = load_scenario(name, overrides)
    assert not supports(scenario)
    with pytest.raises(ValueError, match="not a scenario the batched driver covers"):
        Batch(scenario, [1, 2])


def spec(run_id: int, points: int) -> RunSpec:
    return RunSpec(run_id, run_id % points, run_id // points, run_id // points, ())


def test_a_sweeps_tasks_hold_each_points_runs_together_in_replication_order():
    specs = [spec(i, 4) for i in range(4 * 7)]  # replication-major, as expand() gives them
    tasks = list(point_tasks(specs, 3))
    assert [len(task) for task in tasks] == [3] * 8 + [3, 1]
    # Full tasks hold one point; every point advances together.
    assert all(len({s.point for s in task}) == 1 for task in tasks[:8])
    assert [task[0].point for task in tasks[:4]] == [0, 1, 2, 3]
    # What is left (one run of each point) is packed, each point's runs side by side.
    assert [s.point for s in tasks[8] + tasks[9]] == [0, 1, 2, 3]
    for task in tasks:
        assert [s.replication for s in task] == sorted(s.replication for s in task)
    assert sorted(s.run_id for task in tasks for s in task) == list(range(28))
    # Many points of one replication each: tasks of several points, not one run each.
    assert [len(task) for task in point_tasks([spec(i, 200) for i in range(200)], 16)] == [
        16
    ] * 12 + [8]
    assert chunk_size(800, 2) == 50
    assert chunk_size(40, 2) == 3


@settings(max_examples=15, deadline=None)
@given(
    mode=st.sampled_from(["hierarchical", "responsive", "hybrid", "networked"]),
    compact=st.booleans(),
    baseline=st.floats(0.0, 1.0),
    loss_ratio=st.floats(1.0, 6.0),
    orientation=st.floats(0.0, 1.0),
    space=st.floats(0.0, 1.0),
    p1=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32),
)
def test_any_covered_scenario_runs_the_same_together_and_alone(
    mode, compact, baseline, loss_ratio, orientation, space, p1, seed
):
    scenario = load_scenario(
        "nhs_vmi_partnership",
        {
            "scenario.months": 24,
            "governance.mode": mode,
            "governance.compact.enabled": compact,
            "pressure.baseline": baseline,
            "trust_dynamics.loss_ratio": loss_ratio,
            "regulator.relational_orientation": orientation,
            "governance.board.initial_space": space,
            "adoption.p1": p1,
        },
    )
    seeds = [seed, seed + 1, seed + 2]
    for s, series in zip(seeds, run_replications(scenario, seeds), strict=True):
        alone = one_by_one(scenario, s)
        assert all(same(series[c], alone[c]) for c in alone), s


# --- Every parameter is wired into both drivers -----------------------------------------------

#: Base scenario (batch-covered) on which each group of parameters acts.
BASES: dict[str, tuple[str, dict[str, Any]]] = {
    # A mandate, and long enough for the compact to come into force and be breached.
    "networked": (
        "nhs_vmi_partnership",
        {"scenario.months": 48, "practices[2].mandated_month": 8},
    ),
    "hierarchical": (
        "hierarchical_baseline",
        {"scenario.months": 30, "governance.hierarchical.quality_target": 0.8},
    ),
    "responsive": (
        "hierarchical_baseline",
        {"scenario.months": 30, "governance.mode": "responsive"},
    ),
    # A compact that comes into force and lapses.
    "fragile": VARIANTS["fragile_compact"],
    "population": (
        "board_size",
        {
            "scenario.months": 30,
            "population.trusts": 8,
            "population.regions": 1,
            "population.region_size": [2, 50],
        },
    ),
}

#: Parameters that cannot act in any scenario the batched driver covers, and why.
INERT_IN_ONE_NETWORK = {
    "governance.regional.convener_protection": "conveners exist only with regions",
    "governance.regional.convener_initial_trust": "conveners exist only with regions",
    "governance.national.meeting_interval_months": "one region has no learning sets",
    "governance.national.hours": "one region has no learning sets",
    "governance.national.set_size": "one region has no learning sets",
    "governance.national.positive_probability": "one region has no learning sets",
    "population.regions": "one region is what the batched driver covers",
    "population.region_size": "one region is what the batched driver covers",
    "posture.commitment_trust": "posture is recorded per trust (trusts.csv), not monthly",
    "posture.disengagement_energy": "posture is recorded per trust (trusts.csv), not monthly",
}


#: Parameters whose default is a sentinel ("not set"), and a value that sets them.
SET_INSTEAD = {"trusts[].initial_coverage": 0.08, "practices[].mandated_month": 10}
#: Parameters that bite only far from their default in the base scenarios, and a value that
#: bites: the regulator's hours bind only below one board's 6 hours a month, and peer trust at
#: a hybrid board outgrows any adoption threshold short of near-certainty within four years.
SET_INSTEAD |= {"regulator.board_hours": 3.0, "adoption.trust_threshold": 0.95}


def _base_for(key: str) -> str:
    if key == "governance.compact.lapse_threshold":
        return "fragile"
    if key.startswith(("governance.hierarchical.", "enforcement.", "energy.level")):
        return "hierarchical"
    if key.startswith("population."):
        return "population"
    if key.startswith(("governance.responsive.", "posture.")):
        return "responsive"  # trust in the regulator mid-range, where the posture thresholds bite
    return "networked"


def _numeric_parameters() -> list[tuple[str, Any, Any]]:
    """(key, default, range) of every numeric parameter of the schema."""
    rows = []
    for row in schema_rows():
        default = row["default"]
        if row["range"] and not isinstance(default, bool | str):
            rows.append((row["key"], default, row["range"]))
    return rows


def _bounds(text: str) -> tuple[float, float]:
    lo, hi = (float(x) for x in text.strip("[]()").split(","))
    return lo, hi


def _moved(default: Any, text: str, up: bool, share: float) -> Any:
    """An in-range value away from the default: ``share`` of the way to a bound, kept moderate."""
    lo, hi = _bounds(text)
    if isinstance(default, tuple):  # a (low, high) range: shift both ends
        a, b = default
        shift = (b - a) * share or 0.05
        moved = (a + shift, b + shift) if up else (max(lo, a - shift / 2), b - shift / 2)
        return [type(a)(x) for x in moved]
    span = (hi - default) if up else (default - lo)
    step = share * min(span, abs(default) + (2 if isinstance(default, int) else 0.2))
    value = default + step if up else default - step
    return round(value) if isinstance(default, int) else value


def _scenario_with(key: str, value: Any) -> Scenario | None:
    name, overrides = BASES[_base_for(key)]
    path = key.replace("[]", "[0]")
    if key.startswith("pressure.shocks[]."):
        shock = {"month": 6, "magnitude": 0.4, "duration": 6, key.rsplit(".", 1)[1]: value}
        path, value = "pressure.shocks", [shock]
    elif key.startswith("governance.changes[]."):
        change = {"month": 10, "mode": "hierarchical", key.rsplit(".", 1)[1]: value}
        path, value = "governance.changes", [change]
    try:
        return load_scenario(name, {**overrides, path: value})
    except ScenarioError:
        return None


def _candidates(key: str, default: Any, text: str) -> list[Scenario]:
    """Scenarios with the parameter moved off its default, nearest the bounds first."""
    values = [SET_INSTEAD[key]] if key in SET_INSTEAD else []
    for share, up in itertools.product((0.5, 0.2, 0.05), (True, False)):
        values.append(_moved(default, text, up, share))
    loaded = (_scenario_with(key, value) for value in values if value != default)
    return [scenario for scenario in loaded if scenario is not None]


def _differ(a: list[dict[str, list[Any]]], b: list[dict[str, list[Any]]]) -> bool:
    return any(not same(x[c], y[c]) for x, y in zip(a, b, strict=True) for c in y)


def test_every_numeric_parameter_acts_the_same_in_the_batched_driver_and_the_model():
    """Move each numeric parameter off its default: the batched path must equal the model.

    A parameter read by one driver only (or read differently) makes its two runs differ. Each
    parameter must also change the runs (else the comparison would prove nothing), except the
    few that cannot act on the monthly series of one network of trusts.
    """
    seeds = [11, 12]
    references = {
        name: run_replications(load_scenario(*base), seeds) for name, base in BASES.items()
    }
    checked, inert = [], []
    parameters = _numeric_parameters()
    for key, default, text in parameters:
        default = BASES[_base_for(key)][1].get(key, default)
        if isinstance(default, list):
            default = tuple(default)
        scenarios = _candidates(key, default, text)
        assert scenarios, f"{key}: no in-range value away from {default!r} loads"
        acted = False
        for scenario in scenarios:
            if not supports(scenario):
                assert key in INERT_IN_ONE_NETWORK, key  # it takes the scenario out of one network
                continue
            together = run_replications(scenario, seeds)
            for seed, series in zip(seeds, together, strict=True):
                alone = one_by_one(scenario, seed)
                for column, values in alone.items():
                    assert same(series[column], values), (key, seed, column)
            if _differ(together, references[_base_for(key)]):
                acted = True
                break
        (checked if acted else inert).append(key)
    differ = sorted(set(inert) ^ set(INERT_IN_ONE_NETWORK))
    assert not differ, " ".join(differ)
    assert len(checked) + len(inert) == len(parameters) > 100
