"""The model as a Mesa model: construction, the monthly loop, randomness and scripted events."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import mesa
import numpy as np
import pandas as pd
import pytest

from relsim import GOVERNANCE, RegulationModel, load_scenario, simulate
from relsim.errors import RelsimError, ScenarioError
from relsim.model.agents import ImprovementPartner, Regulator, Trust
from relsim.model.governance import GovernanceRule
from relsim.runs.simulation import RunResult, months_frame
from relsim.scenario import with_overrides

SCENARIO = load_scenario("nhs_vmi_partnership")


def run(scenario=SCENARIO, seed=0, **overrides) -> pd.DataFrame:
    model = RegulationModel(scenario, rng=seed, record="months", **overrides)
    model.run_model()
    return months_frame(model)


def test_model_accepts_a_scenario_a_path_or_a_bundled_name(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "from a file"\nmonths = 12\n')
    assert RegulationModel(SCENARIO, rng=1).config is SCENARIO
    assert RegulationModel("no_compact", rng=1).config.governance.compact.enabled is False
    assert RegulationModel(path, rng=1).config.name == "from a file"
    assert RegulationModel(rng=1).config == load_scenario(None)


def test_keyword_overrides_use_double_underscore_for_a_dot():
    model = RegulationModel(
        SCENARIO, rng=1, governance__mode="hierarchical", trust_dynamics__loss_ratio=2.0
    )
    assert model.config.governance.mode == "hierarchical"
    assert model.config.trust_dynamics.loss_ratio == 2.0
    assert type(model.rule).name == "hierarchical"
    with pytest.raises(ScenarioError, match=r"governance\.mood"):
        RegulationModel(SCENARIO, rng=1, governance__mood="x")


def test_model_stops_itself_at_the_horizon():
    model = RegulationModel(SCENARIO, rng=1, scenario__months=7)
    model.run_model()
    assert model.steps == 7
    assert model.running is False
    frame = months_frame(model)
    assert list(frame["month"]) == list(range(8))


def test_agents_are_mesa_agents_viewing_model_arrays():
    model = RegulationModel(SCENARIO, rng=1)
    trusts = model.agents_by_type[Trust]
    assert len(trusts) == 5
    assert len(model.agents_by_type[Regulator]) == 1
    assert len(model.agents_by_type[ImprovementPartner]) == 1
    for _ in range(24):
        model.step()
    first = model.trusts[0]
    assert first.trust_in_regulator == model.state.trust[1, 0]
    assert first.capability == model.state.capability[0]
    assert first.coverage == list(model.state.coverage[0])
    assert set(first.practices.values()) <= {"none", "implementing", "embedded"}
    ready = trusts.select(lambda t: t.readiness > 0.5)
    assert {t.name for t in ready} == {"Trust A", "Trust B", "Trust C"}


def test_mesa_batch_run_drives_the_model():
    results = mesa.batch_run(
        RegulationModel,
        parameters={
            "scenario": "nhs_vmi_partnership",
            "scenario__months": 6,
            "governance__mode": ["hierarchical", "networked"],
        },
        rng=[1, 2],
        max_steps=100,
        data_collection_period=1,
        display_progress=False,
        number_processes=1,
    )
    frame = pd.DataFrame(results)
    assert len(frame) == 2 * 2 * 7  # 2 modes x 2 seeds x months 0..6
    assert set(frame["governance"]) == {"hierarchical", "networked"}
    assert frame.groupby("RunId")["Step"].max().eq(6).all()
    # batch_run's rows are the model's own monthly series.
    one = frame[(frame["governance__mode"] == "networked") & (frame["iteration"] == 0)]
    mine = months_frame(_run_model(1, "networked", 6))
    np.testing.assert_allclose(
        one.sort_values("Step")["mean_trust_in_regulator"], mine["mean_trust_in_regulator"]
    )


def _run_model(seed: int, mode: str, months: int) -> RegulationModel:
    model = RegulationModel(
        "nhs_vmi_partnership", rng=seed, governance__mode=mode, scenario__months=months
    )
    model.run_model()
    return model


def test_same_seed_same_output_and_different_seed_different_output():
    a, b, c = simulate(SCENARIO, seed=5), simulate(SCENARIO, seed=5), simulate(SCENARIO, seed=6)
    for name in ("months", "trusts", "coverage", "relationships"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.months.equals(c.months)


def test_each_mechanism_draws_from_its_own_stream():
    """Switching governance does not shift the random numbers of other mechanisms."""
    networked = run(seed=11)
    hierarchical = run(seed=11, governance__mode="hierarchical")
    # Pressure depends only on its own stream (and scripted shocks), so it is identical.
    pd.testing.assert_series_equal(networked["pressure"], hierarchical["pressure"])
    assert not networked["mean_trust_in_regulator"].equals(hierarchical["mean_trust_in_regulator"])


def test_initial_coverage_is_the_same_whatever_the_governance():
    a = simulate(SCENARIO, seed=3, months=1).coverage
    b = simulate(with_overrides(SCENARIO, {"governance.mode": "hierarchical"}), seed=3, months=1)
    pd.testing.assert_frame_equal(a[a.month == 0], b.coverage[b.coverage.month == 0])


def test_model_pickles_for_workers_and_continues_identically():
    model = RegulationModel(SCENARIO, rng=4)
    for _ in range(10):
        model.step()
    clone = pickle.loads(pickle.dumps(model))
    copied = copy.deepcopy(model)
    for m in (model, clone, copied):
        m.run_model()
    pd.testing.assert_frame_equal(months_frame(model), months_frame(clone))
    pd.testing.assert_frame_equal(months_frame(model), months_frame(copied))


def test_stepping_past_the_horizon_keeps_recording():
    model = RegulationModel(SCENARIO, rng=1, scenario__months=3)
    for _ in range(6):
        model.step()
    assert model.history.months_recorded == 7
    assert len(model.history.trusts_frame()) == 7 * 5
    assert len(months_frame(model)) == 7


def test_practice_is_introduced_by_its_origin_in_its_month():
    model = RegulationModel(SCENARIO, rng=2)
    k = SCENARIO.practice_names.index("training_heat_map")
    origin = SCENARIO.trust_names.index("Trust B")
    for _ in range(17):
        model.step()
    assert model.state.adoption[origin, k] == 0
    model.step()
    assert model.state.adoption[origin, k] == 2
    assert model.state.adopted_month[origin, k] == 18


def test_a_mandate_makes_every_trust_adopt_at_once_but_shallowly():
    frame = run(load_scenario("hierarchical_baseline"), seed=3)
    huddles = frame["adopters_daily_huddles"]
    assert huddles[23] < 5
    assert huddles[24] == 5
    model = RegulationModel("hierarchical_baseline", rng=3)
    for _ in range(24):
        model.step()
    k = model.config.practice_names.index("daily_huddles")
    assert model.state.mandated[:, k].sum() >= 1


def test_scripted_governance_change_switches_the_rule():
    scenario = with_overrides(
        SCENARIO, {"governance.changes": [{"month": 24, "mode": "hierarchical"}]}
    )
    frame = run(scenario, seed=1)
    assert set(frame.loc[:23, "governance"]) == {"networked"}
    assert set(frame.loc[24:, "governance"]) == {"hierarchical"}
    assert set(frame.loc[24:, "compact_state"]) == {"none"}
    assert frame.loc[25:, "board_met"].eq(False).all()


def test_partner_is_active_only_within_its_months():
    frame = run(with_overrides(SCENARIO, {"partner.start_month": 6, "partner.end_month": 30}))
    active = frame["partner_active"].to_numpy()
    assert not active[:6].any()
    assert active[6:30].all()
    assert not active[30:].any()


def test_no_compact_without_a_board_or_when_disabled():
    assert set(run(seed=1, governance__mode="hierarchical")["compact_state"]) == {"none"}
    assert set(run(load_scenario("no_compact"), seed=1)["compact_state"]) == {"none"}
    states = run(seed=1)["compact_state"]
    assert states[0] == "negotiating"
    assert "in_force" in set(states)


def test_compact_never_comes_into_force_before_negotiation_months():
    for seed in range(10):
        states = run(seed=seed, governance__compact__negotiation_months=20)["compact_state"]
        assert not states[:20].eq("in_force").any()


def test_governance_registry_holds_strategy_objects():
    assert set(GOVERNANCE) == {
        "hierarchical",
        "networked",
        "regional_boards",
        "lead_organisation",
        "network_administrative_organisation",
        "national_learning_network",
    }
    for name, rule in GOVERNANCE.items():
        assert issubclass(rule, GovernanceRule)
        assert rule.name == name


def test_a_new_governance_rule_needs_only_a_class_and_a_registry_entry(monkeypatch):
    from relsim.model.interactions import Interactions

    class Silence(GovernanceRule):
        """Nobody meets anybody."""

        name = "silence"

        def govern(self, state, streams, month):
            return Interactions(state.n_trusts).finish()

    monkeypatch.setitem(GOVERNANCE, "silence", Silence)
    # Scenario files may name only the schema's GOVERNANCE_MODES (tests/test_scenario.py keeps
    # them equal to the registry); a rule being tried out is set on a Scenario object.
    governance = dataclasses.replace(SCENARIO.governance, mode="silence")
    frame = run(dataclasses.replace(SCENARIO, governance=governance), seed=1)
    assert frame["disclosures"].sum() == 0
    # Without contact, trust drifts back toward its initial level: it never moves far.
    assert frame["mean_trust_in_regulator"].sub(0.3).abs().max() < 1e-12


@pytest.mark.parametrize("seed", [None, -1, 1.5, True, 2**64])
def test_simulate_needs_a_seed_it_can_record(seed):
    with pytest.raises(ValueError, match=r"^seed: expected a whole number"):
        simulate("no_compact", seed=seed, months=2)


def test_a_run_directory_without_a_whole_number_seed_is_refused(tmp_path):
    simulate("no_compact", seed=3, months=2).save(tmp_path / "run")
    manifest = tmp_path / "run" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"seed": 3', '"seed": null'))
    with pytest.raises(RelsimError, match=r"manifest.json: seed: expected a whole number"):
        RunResult.load(tmp_path / "run")


@pytest.mark.parametrize("record", ["bogus", "Full", None])
def test_an_unknown_record_mode_is_refused(record):
    with pytest.raises(ValueError, match=r"^record: expected one of full, months"):
        RegulationModel("no_compact", rng=1, record=record)


def test_tables_of_a_months_only_run_are_refused_with_the_reason():
    model = RegulationModel("no_compact", rng=1, record="months")
    model.run_model()
    for table in ("trusts_frame", "coverage_frame", "relationships_frame"):
        with pytest.raises(ValueError, match=r"record='months'"):
            getattr(model.history, table)()


@pytest.mark.parametrize(
    ("magnitude", "duration", "field"),
    [
        (float("nan"), 3, "magnitude"),
        (-11, 3, "magnitude"),
        (0.5, 2.7, "duration"),
        (0.5, 0, "duration"),
        (0.5, 601, "duration"),
    ],
)
def test_apply_shock_refuses_what_a_scenario_would(magnitude, duration, field):
    model = RegulationModel("no_compact", rng=1)
    with pytest.raises(ValueError, match=rf"^{field}: expected"):
        model.apply_shock(magnitude, duration)
