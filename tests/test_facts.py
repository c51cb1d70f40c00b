"""The stylised facts of MODEL.md §5, as paired comparisons over many seeds.

Every comparison runs the same seeds with one thing changed (governance, the compact, the heat
map, a shock) and asserts the direction and size of the difference. The seeds (1000-1059) are
not the ones the defaults were calibrated on (0-39), so these are held-out checks. Intervals
are 99% normal-approximation intervals of a mean over seeds; tolerances are stated with each
assertion and are well inside what was observed (see docs/ODD.md).

Facts 8 (board size) and 10 (what lasts after the partner leaves) are not tested here: fact 8
needs generated populations and regional boards and is tested in ``tests/test_scale.py``, and
fact 10's horizon is checked by ``relsim validate``.
"""

from __future__ import annotations

import copy
from functools import cache
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from relsim import RegulationModel, load_scenario
from relsim.model.governance.contact import respond
from relsim.model.interactions import Interactions
from relsim.model.kernel import update_relations
from relsim.runs.simulation import months_frame
from relsim.scenario import with_overrides

pytestmark = pytest.mark.slow

SEEDS = range(1000, 1060)
Z99 = NormalDist().inv_cdf(0.995)

BASE = load_scenario("nhs_vmi_partnership")
SHOCK = load_scenario("pressure_shock")
ARMS = {
    "networked": BASE,
    "hierarchical": with_overrides(BASE, {"governance.mode": "hierarchical"}),
    "no_compact": with_overrides(BASE, {"governance.compact.enabled": False}),
    "shock": SHOCK,
    "shock_no_compact": with_overrides(SHOCK, {"governance.compact.enabled": False}),
}


@cache
def months(arm: str) -> dict[int, pd.DataFrame]:
    """Monthly series of one arm, by seed (computed once per test session)."""
    out = {}
    for seed in SEEDS:
        model = RegulationModel(ARMS[arm], rng=seed, record="months")
        model.run_model()
        out[seed] = months_frame(model)
    return out


def series(arm: str, column: str) -> pd.DataFrame:
    """One column of an arm as a months × seeds frame."""
    return pd.DataFrame({seed: frame[column] for seed, frame in months(arm).items()})


def interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 99% normal-approximation interval of a mean over seeds."""
    values = np.asarray(values, dtype=float)
    mean = values.mean()
    half = Z99 * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def final_history(scenario, seed):
    model = RegulationModel(scenario, rng=seed)
    model.run_model()
    return model


def test_fact1_heat_map_reaches_all_trusts_under_networked_governance_only():
    full_networked = series("networked", "adopters_training_heat_map").max() == 5
    full_hierarchical = series("hierarchical", "adopters_training_heat_map").max() == 5
    # Observed on these seeds: about 80% vs 0%. "Most runs" is asserted as at least 65%.
    assert full_networked.mean() >= 0.65
    assert full_hierarchical.mean() <= 0.10


def test_fact2_relational_trust_is_earned_over_years_not_months():
    trust = series("networked", "mean_trust_in_regulator")
    gain6, gain36 = trust.loc[6] - trust.loc[0], trust.loc[36] - trust.loc[0]
    # By month 6 less than a third of the gain of three years has been made ...
    assert gain6.mean() < gain36.mean() / 3
    # ... and trust is still rising in the second and third years.
    for early, late in ((12, 24), (24, 36)):
        mean, lo, _ = interval(trust.loc[late] - trust.loc[early])
        assert lo > 0.05, (early, late, mean)
    assert gain36.mean() >= 0.2


def test_fact3_one_punitive_response_costs_more_than_one_supportive_gains():
    """From the same model state, one extra supportive vs one extra punitive response."""
    losses, gains = [], []
    for seed in SEEDS[:30]:
        model = RegulationModel(BASE, rng=seed)
        for _ in range(24):
            model.step()
        for p_supportive, sink in ((1.0, gains), (0.0, losses)):
            twin = copy.deepcopy(model)
            before = twin.state.trust[1:, 0].copy()
            ix = Interactions(twin.state.n_trusts)
            respond(np.ones(5, dtype=np.int64), p_supportive, twin.kernel.draws, ix, twin.config)
            update_relations(twin.state, twin.config, ix.finish())
            sink.append(np.abs(twin.state.trust[1:, 0] - before))
    loss, gain = np.concatenate(losses), np.concatenate(gains)
    # Trust in the regulator at month 24 is 0.3-0.7 here, where λ = 3 makes a loss about
    # λT/(1-T) = 1.3-7 times a gain; on average at least 1.5 times.
    assert (loss > gain).mean() >= 0.9
    assert loss.mean() >= 1.5 * gain.mean()


def test_fact4_a_compact_buffers_trust_against_a_pressure_shock():
    """Difference in differences: the drop a shock causes, with and without a compact."""
    window = slice(27, 39)  # the shock (months 27-32) and six months after
    drop_compact = (
        (
            series("networked", "mean_trust_in_regulator")
            - series("shock", "mean_trust_in_regulator")
        )
        .loc[window]
        .mean()
    )
    drop_none = (
        (
            series("no_compact", "mean_trust_in_regulator")
            - series("shock_no_compact", "mean_trust_in_regulator")
        )
        .loc[window]
        .mean()
    )
    mean, lo, _ = interval(drop_none - drop_compact)
    assert drop_none.mean() > 0  # the shock hurts trust without a compact
    assert lo > 0, f"compact buffer {mean:.4f}, 99% interval lower bound {lo:.4f}"


def test_fact5_safety_raises_disclosure_and_reduces_surprises():
    disclosed = (
        series("networked", "disclosures").sum() - series("hierarchical", "disclosures").sum()
    )
    surprised = series("hierarchical", "surprises").sum() - series("networked", "surprises").sum()
    for difference in (disclosed, surprised):
        _mean, lo, _ = interval(difference)
        assert lo > 0
        assert (difference > 0).mean() >= 0.9
    safety = (
        series("networked", "mean_safety").loc[60] - series("hierarchical", "mean_safety").loc[60]
    )
    assert interval(safety)[1] > 0.3


def test_fact6_targets_with_sanctions_produce_gaming():
    gap_h = series("hierarchical", "gaming_gap").mean()
    gap_n = series("networked", "gaming_gap").mean()
    _mean, lo, _ = interval(gap_h - gap_n)
    assert lo > 0.02
    assert (gap_h > gap_n).mean() >= 0.9
    reported = series("hierarchical", "mean_reported_quality").mean()
    true = series("hierarchical", "mean_true_quality").mean()
    assert (reported > true).mean() >= 0.9


def test_fact7_the_same_intervention_gives_trajectories_ordered_by_readiness():
    readiness = np.array([t.readiness for t in BASE.trusts])
    capability = np.array(
        [final_history(BASE, seed).history.field("capability")[36] for seed in SEEDS[:40]]
    )
    mean_by_trust = capability.mean(axis=0)
    order = np.argsort(-readiness)
    # Averaged over seeds, capability at month 36 follows readiness exactly.
    assert np.all(np.diff(mean_by_trust[order]) < 0)
    rank = pd.DataFrame(capability).rank(axis=1).to_numpy()
    spearman = np.array([np.corrcoef(r, readiness)[0, 1] for r in rank])
    assert spearman.mean() >= 0.7


def test_fact9_the_heat_map_evens_coverage():
    without = with_overrides(BASE, {"practices[0].targets_training": False})
    assert BASE.practices[0].name == "training_heat_map"
    cv_with, cv_without, adopter_cv, other_cv = [], [], [], []
    for seed in SEEDS[:40]:
        with_model = final_history(BASE, seed)
        cv = with_model.history.field("coverage_cv")[60]
        cv_with.append(cv.mean())
        cv_without.append(final_history(without, seed).history.field("coverage_cv")[60].mean())
        adopted = with_model.state.adoption[:, 0] == 2
        adopter_cv.extend(cv[adopted])
        other_cv.extend(cv[~adopted])
    cv_with, cv_without = np.array(cv_with), np.array(cv_without)
    assert (cv_with < cv_without).mean() >= 0.95
    assert cv_with.mean() < 0.5 * cv_without.mean()
    assert np.mean(adopter_cv) < 0.5 * np.mean(other_cv)


def test_fact11_attendance_at_a_working_board_is_high():
    attendance = series("networked", "attendance_rate").loc[24:].mean()
    mean, lo, _ = interval(attendance)
    assert lo >= 0.9, f"attendance {mean:.3f}"


def test_fact12_the_regulator_learns_under_networked_governance():
    rho = series("networked", "relational_orientation")
    assert (rho.loc[60] > rho.loc[0]).mean() >= 0.95
    rho_h = series("hierarchical", "relational_orientation")
    _mean, lo, _ = interval(rho.loc[60] - rho_h.loc[60])
    assert lo > 0.3
