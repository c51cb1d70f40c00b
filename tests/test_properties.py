"""Invariants that hold for any scenario and seed (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relsim import GOVERNANCE, RegulationModel, load_scenario
from relsim.model.state import NOT_ADOPTED
from relsim.runs.simulation import months_frame

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw: st.DrawFn):
    """Random but valid scenarios: any governance, trusts, pressure and trust dynamics."""
    n = draw(st.integers(1, 7))
    # Regions for all trusts or none, and at least two trusts in each.
    regions = [""] * n
    if n >= 2 and draw(st.booleans()):
        north = draw(st.integers(2, n - 2)) if n >= 4 and draw(st.booleans()) else n
        regions = draw(st.permutations(["North"] * north + ["South"] * (n - north)))
    trusts = [
        {
            "name": f"T{i}",
            "readiness": draw(st.floats(0, 1)),
            "quality": draw(st.floats(0, 1)),
            "safety": draw(st.floats(0, 1)),
            "region": regions[i],
        }
        for i in range(n)
    ]
    practices = [
        {
            "name": f"p{k}",
            "origin": f"T{draw(st.integers(0, n - 1))}",
            "introduced_month": draw(st.integers(0, 12)),
            "complexity": draw(st.integers(1, 3)),
            "targets_training": draw(st.booleans()),
            "mandated_month": draw(st.sampled_from([-1, 6, 15])),
        }
        for k in range(draw(st.integers(0, 3)))
    ]
    shocks = [
        {"month": draw(st.integers(1, 20)), "magnitude": draw(st.floats(-1, 3)), "duration": 4}
        for _ in range(draw(st.integers(0, 2)))
    ]
    overrides = {
        "scenario.months": draw(st.integers(1, 30)),
        "governance.mode": draw(st.sampled_from(sorted(GOVERNANCE))),
        "governance.compact.enabled": draw(st.booleans()),
        "governance.compact.clauses": draw(st.integers(1, 8)),
        "governance.compact.clause_hours": draw(st.floats(0.1, 50)),
        "governance.board.meeting_interval_months": draw(st.integers(1, 4)),
        "trust_dynamics.gain": draw(st.floats(0, 2)),
        "trust_dynamics.loss_ratio": draw(st.floats(1, 10)),
        "pressure.baseline": draw(st.floats(0, 2)),
        "pressure.volatility": draw(st.floats(0, 0.5)),
        "pressure.shocks": shocks,
        "regulator.relational_orientation": draw(st.floats(0, 1)),
        "partner.end_month": draw(st.integers(0, 30)),
        "trusts": trusts,
        "practices": practices,
    }
    return load_scenario(None, overrides)


@SETTINGS
@given(scenarios(), st.integers(0, 2**32))
def test_state_stays_in_bounds_and_adoption_never_precedes_exposure(scenario, seed):
    model = RegulationModel(scenario, rng=seed)
    complexity = np.array([p.complexity for p in scenario.practices], dtype=int)
    introduced = np.array([p.introduced_month for p in scenario.practices])
    mandated = np.array([p.mandated_month for p in scenario.practices])
    origins = [scenario.trust_names.index(p.origin) for p in scenario.practices]
    n = len(scenario.trusts)
    while model.running:
        before = model.state.adoption.copy()
        model.step()
        month, s = model.steps, model.state
        assert np.all((s.trust >= 0) & (s.trust <= 1))
        np.testing.assert_array_equal(np.diagonal(s.trust), 1.0)
        for values in (s.coverage, s.safety, s.quality, s.true_quality, s.energy, s.capability):
            assert np.all((values >= 0) & (values <= 1))
        assert np.all(s.true_quality <= s.quality)  # open problems never raise quality
        assert np.all(s.reported_quality >= s.true_quality - 1e-12)
        assert np.all((s.board_space >= 0) & (s.board_space <= 1))
        assert 0 <= s.orientation <= 1
        assert s.pressure >= 0
        assert np.all((s.level >= 0) & (s.level <= 5))
        for count in (s.pending, s.known, s.hidden):
            assert np.all(count >= 0)
        # A trust takes up a practice only after enough trusted exposures that month, unless
        # it is the practice's origin introducing it or a mandate imposes it.
        new = (before == NOT_ADOPTED) & (s.adoption > NOT_ADOPTED)
        for i, k in zip(*np.nonzero(new), strict=True):
            if (i == origins[k] and introduced[k] == month) or mandated[k] == month:
                continue
            assert model.exposures[i, k] >= complexity[k] >= 1
        assert model.exposures.max(initial=0) <= max(n - 1, 0) + 1  # peers, and the partner


@SETTINGS
@given(scenarios(), st.integers(0, 2**32))
def test_same_seed_gives_identical_history(scenario, seed):
    runs = []
    for _ in range(2):
        model = RegulationModel(scenario, rng=seed)
        model.run_model()
        runs.append(model)
    a, b = (m.history for m in runs)
    np.testing.assert_array_equal(a.trusts, b.trusts)
    np.testing.assert_array_equal(a.coverage, b.coverage)
    np.testing.assert_array_equal(a.relationships, b.relationships)
    pd.testing.assert_frame_equal(months_frame(runs[0]), months_frame(runs[1]))
