"""RegulationModel.apply_shock, the one model method the dashboard's shock button needs."""

from __future__ import annotations

import numpy as np
import pytest

from relsim import RegulationModel, load_scenario
from relsim.runs.simulation import months_frame
from relsim.scenario import with_overrides

SCENARIO = load_scenario("nhs_vmi_partnership")


def _pressure(model: RegulationModel) -> np.ndarray:
    return months_frame(model)["pressure"].to_numpy()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_shock_applied_now_starts_next_month_and_lasts_its_duration(seed):
    plain = RegulationModel(SCENARIO, rng=seed, record="months")
    shocked = RegulationModel(SCENARIO, rng=seed, record="months")
    for _ in range(10):
        plain.step()
        shocked.step()
    assert shocked.apply_shock(0.8, 4) == 11
    for _ in range(10):
        plain.step()
        shocked.step()
    difference = _pressure(shocked) - _pressure(plain)
    assert np.allclose(difference[:11], 0.0)
    # Pressure is clipped at 0, and the baseline plus noise stays well above it here.
    assert np.allclose(difference[11:15], 0.8)
    assert np.allclose(difference[15:], 0.0)


def test_a_shock_applied_now_equals_the_same_shock_scripted_in_the_scenario():
    scripted = with_overrides(
        SCENARIO, {"pressure.shocks": [{"month": 6, "magnitude": 0.5, "duration": 3}]}
    )
    expected = RegulationModel(scripted, rng=4, record="months")
    expected.run_model()
    live = RegulationModel(SCENARIO, rng=4, record="months")
    for _ in range(5):
        live.step()
    live.apply_shock(0.5, 3)
    live.run_model()
    assert months_frame(live).equals(months_frame(expected))


def test_a_shock_must_last_at_least_a_month():
    with pytest.raises(ValueError, match="duration: expected a whole number of months from 1"):
        RegulationModel(SCENARIO, rng=1).apply_shock(0.5, 0)
