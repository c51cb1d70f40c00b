"""Each mechanism of MODEL.md §4 alone, as a pure function."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from relsim.model.mechanisms import (
    CompactState,
    Posture,
    abandonment_hazard,
    active_shock,
    adoption_hazard,
    allocate_training,
    attendance_probability,
    board_pair_weights,
    board_positivity,
    capability,
    classify_posture,
    clause_agreement,
    coefficient_of_variation,
    disclosure_probability,
    drift_trust,
    energy,
    forget_mask,
    internal_training,
    learn_orientation,
    lenient_probability,
    next_compact_states,
    next_space,
    pressure_level,
    shielded_probability,
    space_target,
    step_pressure,
    supportive_probability,
    true_quality,
    trusted_exposures,
    update_gaming_gap,
    update_quality,
    update_trust,
    water_fill,
)

ALPHA, LAMBDA = 0.5, 3.0


def logit(t):
    return np.log(t / (1 - t))


# --- M1 trust -------------------------------------------------------------------------------


def test_trust_moves_in_log_odds_by_alpha_times_the_net_weight():
    t = np.array([0.05, 0.2, 0.5, 0.8, 0.95])
    pos, neg = np.array([1.0, 0.5, 2.0, 0.0, 1.0]), np.array([0.0, 0.2, 1.0, 1.0, 0.3])
    out = update_trust(t, pos, neg, ALPHA, LAMBDA)
    np.testing.assert_allclose(logit(out) - logit(t), ALPHA * (pos - LAMBDA * neg), rtol=1e-12)


@pytest.mark.parametrize("t", [0.01, 0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_one_punitive_costs_more_than_one_supportive_gains_at_every_level(t):
    """Slovic (1993) at the mechanism: loss exceeds gain at *every* level of trust.

    The rule MODEL.md started from (gain α(1 − T), loss λαT) reverses below T = 1/(1 + λ),
    where a loss cost less than a gain; in log-odds the ratio is about λ everywhere.
    """
    trust = np.array([t])
    gain = update_trust(trust, np.ones(1), np.zeros(1), ALPHA, LAMBDA)[0] - t
    loss = t - update_trust(trust, np.zeros(1), np.ones(1), ALPHA, LAMBDA)[0]
    assert loss > gain > 0


def test_distrust_perpetuates_itself():
    """Near 0 a positive interaction barely moves trust: low trust is hard to leave."""
    low, mid = np.array([0.02]), np.array([0.5])
    step_low = update_trust(low, np.ones(1), np.zeros(1), ALPHA, LAMBDA)[0] - low[0]
    step_mid = update_trust(mid, np.ones(1), np.zeros(1), ALPHA, LAMBDA)[0] - mid[0]
    assert step_low < step_mid / 5


def test_loss_ratio_one_is_symmetric_at_one_half():
    t = np.array([0.5])
    gain = update_trust(t, np.ones(1), np.zeros(1), ALPHA, 1.0)[0] - 0.5
    loss = 0.5 - update_trust(t, np.zeros(1), np.ones(1), ALPHA, 1.0)[0]
    assert gain == pytest.approx(loss)


def test_no_interaction_changes_nothing():
    t = np.random.default_rng(0).random((4, 4))
    np.testing.assert_array_equal(update_trust(t, 0 * t, 0 * t, ALPHA, LAMBDA), t)


def test_regular_positive_contact_takes_trust_from_03_to_07_in_12_to_24_months():
    """MODEL.md M1's calibration note, at the default α, with about 0.15 net positive weight a
    month (a monthly board: positive exchanges less λ times the light negative ones)."""
    t, months = np.array([0.3]), 0
    while t[0] < 0.7:
        t = update_trust(t, np.full(1, 0.15), np.zeros(1), ALPHA, LAMBDA)
        months += 1
    assert 12 <= months <= 24


@given(
    arrays(np.float64, 6, elements=st.floats(0, 1)),
    arrays(np.float64, 6, elements=st.floats(0, 50)),
    arrays(np.float64, 6, elements=st.floats(0, 50)),
    st.floats(0, 5),
    st.floats(1, 10),
)
def test_trust_stays_in_unit_interval_for_any_weights(t, pos, neg, gain, loss_ratio):
    out = update_trust(t, pos, neg, gain, loss_ratio)
    assert np.all((out >= 0) & (out <= 1))


@given(arrays(np.float64, 5, elements=st.floats(0, 1)), st.floats(0, 1))
def test_positive_never_lowers_and_negative_never_raises_trust(t, w):
    weights = np.full(5, w)
    assert np.all(update_trust(t, weights, 0 * weights, ALPHA, LAMBDA) >= t)
    assert np.all(update_trust(t, 0 * weights, weights, ALPHA, LAMBDA) <= t)


def test_drift_moves_only_pairs_without_contact_toward_baseline():
    t = np.array([[0.9, 0.1], [0.5, 0.2]])
    base = np.full((2, 2), 0.3)
    contact = np.array([[True, False], [False, True]])
    out = drift_trust(t, base, 0.1, contact)
    assert out[0, 0] == 0.9
    assert out[1, 1] == 0.2
    assert out[0, 1] == pytest.approx(0.1 + 0.1 * 0.2)
    assert out[1, 0] == pytest.approx(0.5 - 0.1 * 0.2)


# --- M2 pressure ----------------------------------------------------------------------------


def test_pressure_reverts_to_baseline_without_noise():
    x = 1.0
    for _ in range(60):
        x = step_pressure(x, 0.3, 0.2, 0.05, 0.0)
    assert x == pytest.approx(0.3, abs=1e-5)


def test_shock_shifts_pressure_for_its_duration_only():
    shocks = ((10, 0.4, 3), (11, 0.1, 1))
    assert [active_shock(m, shocks) for m in (9, 10, 11, 12, 13)] == pytest.approx(
        [0.0, 0.4, 0.5, 0.4, 0.0]
    )
    assert pressure_level(0.3, 0.4) == pytest.approx(0.7)
    assert pressure_level(0.1, -0.5) == 0.0  # clipped at 0


# --- M3 disclosure, M4 response ---------------------------------------------------------------


def test_disclosure_rises_with_safety_and_trust_and_falls_with_sanction():
    base = disclosure_probability(np.array([0.3]), np.array([0.3]), np.array([0.5]), -0.5, 2, 2, 2)
    safer = disclosure_probability(np.array([0.7]), np.array([0.3]), np.array([0.5]), -0.5, 2, 2, 2)
    trusting = disclosure_probability(
        np.array([0.3]), np.array([0.7]), np.array([0.5]), -0.5, 2, 2, 2
    )
    feared = disclosure_probability(
        np.array([0.3]), np.array([0.3]), np.array([1.0]), -0.5, 2, 2, 2
    )
    assert safer > base
    assert trusting > base
    assert feared < base
    assert base[0] == pytest.approx(1 / (1 + math.exp(-(-0.5 + 0.6 + 0.6 - 1.0))))


def test_compact_buffers_the_regulator_against_pressure():
    rho, pressure = 0.4, 1.0
    assert supportive_probability(rho, pressure, 0.0) == pytest.approx(0.0)
    assert supportive_probability(rho, pressure, 0.7) == pytest.approx(0.4 * 0.7)
    assert supportive_probability(rho, 0.0, 0.0) == pytest.approx(rho)
    assert supportive_probability(rho, 3.0, 0.0) == 0.0  # never negative under extreme pressure


def test_protected_space_turns_part_of_punitive_responses_supportive():
    assert shielded_probability(0.3, 0.0) == pytest.approx(0.3)
    assert shielded_probability(0.3, 1.0) == pytest.approx(1.0)
    assert shielded_probability(0.3, 0.5) == pytest.approx(1 - 0.7 * 0.5)


# --- M5 posture and gaming --------------------------------------------------------------------


def test_postures():
    trust = np.array([0.8, 0.5, 0.2, 0.2, 0.8])
    level = np.array([0, 0, 1, 3, 0])
    energy_ = np.array([0.9, 0.9, 0.9, 0.9, 0.1])
    posture = classify_posture(trust, level, energy_, 0.6, 0.4, 2, 0.4)
    assert list(posture) == [
        Posture.COMMITMENT,
        Posture.CAPITULATION,
        Posture.RESISTANCE,
        Posture.GAME_PLAYING,
        Posture.DISENGAGEMENT,
    ]


def test_gaming_gap_grows_while_gaming_and_decays_otherwise():
    gap = np.zeros(2)
    for _ in range(30):
        gap = update_gaming_gap(gap, np.array([True, False]), 0.1, 0.25, 0.2)
    assert gap[0] == pytest.approx(0.25 * (1 - 0.9**30))
    assert gap[1] == 0
    assert update_gaming_gap(np.array([0.2]), np.array([False]), 0.1, 0.25, 0.2)[
        0
    ] == pytest.approx(0.16)


# --- M6 board and compact ---------------------------------------------------------------------


def test_contact_per_pair_falls_with_board_size():
    weights = board_pair_weights(6.0, np.array([4, 6, 11, 21, 41]), 0.1).tolist()
    assert weights == sorted(weights, reverse=True)
    assert weights[1] == pytest.approx(1 - math.exp(-(6 / 15) / 0.1))
    assert board_pair_weights(6.0, np.array([1, 0]), 0.1).tolist() == [0.0, 0.0]


def test_attendance_rises_with_value_and_norm():
    low = attendance_probability(np.array([0.2]), 0.5, -1, 2.5, 2.5)
    valued = attendance_probability(np.array([0.9]), 0.5, -1, 2.5, 2.5)
    normed = attendance_probability(np.array([0.2]), 1.0, -1, 2.5, 2.5)
    assert valued > low
    assert normed > low


@pytest.mark.parametrize(
    ("state", "agreed", "trust", "expected"),
    [
        (CompactState.NEGOTIATING, 5, 0.9, CompactState.NEGOTIATING),  # a category open
        (CompactState.NEGOTIATING, 6, 0.2, CompactState.IN_FORCE),  # agreed: no input fixes when
        (CompactState.IN_FORCE, 6, 0.4, CompactState.IN_FORCE),  # holds above the lapse line
        (CompactState.IN_FORCE, 6, 0.3, CompactState.NEGOTIATING),  # lapses
        (CompactState.NONE, 6, 0.9, CompactState.NONE),  # no compact, nothing happens
    ],
)
def test_compact_state_machine(state, agreed, trust, expected):
    got = next_compact_states(np.array([state]), np.array([agreed]), 6, np.array([trust]), 0.35)
    assert got.tolist() == [expected]


def test_longer_and_frank_meetings_agree_the_compact_sooner():
    """Agreement per meeting rises with its hours and its share of positive exchanges (M6)."""
    shares = np.array([0.2, 0.5, 0.8])
    short = clause_agreement(3.0, shares, 16.0)
    long = clause_agreement(6.0, shares, 16.0)
    assert np.all(np.diff(short) > 0)
    assert np.all(long > short)
    assert clause_agreement(6.0, np.array([0.0]), 16.0)[0] == 0.0
    np.testing.assert_allclose(long, 1 - np.exp(-6.0 * shares / 16.0))


def test_the_protected_space_follows_what_the_regulator_shows():
    """The space moves toward the share of supportive responses; with none, the expected share;
    a neutral partner lifts it; without a meeting it stays (M6)."""
    supportive, punitive = np.array([3, 0, 0]), np.array([1, 2, 0])
    expected = np.array([0.9, 0.9, 0.4])
    target = space_target(supportive, punitive, expected, 0.0, False)
    np.testing.assert_allclose(target, [0.75, 0.0, 0.4])
    brokered = space_target(supportive, punitive, expected, 0.5, True)
    np.testing.assert_allclose(brokered, target + 0.5 * (1 - target))
    space = np.full(3, 0.3)
    moved = next_space(space, target, 0.2, np.array([True, True, False]))
    np.testing.assert_allclose(moved, [0.3 + 0.2 * 0.45, 0.3 - 0.2 * 0.3, 0.3])
    pi = board_positivity(np.array([0.0, 0.5, 1.0]), 0.4, 0.9)
    np.testing.assert_allclose(pi, [0.4, 0.65, 0.9])


def test_trust_built_tempers_the_regulators_responses():
    """More trust in a provider, likelier support, within [0, 1] (M4)."""
    p = lenient_probability(0.4, np.array([0.1, 0.3, 0.7, 1.0]), 0.3, 0.5)
    np.testing.assert_allclose(p, [0.3, 0.4, 0.6, 0.75])
    np.testing.assert_allclose(
        lenient_probability(0.9, np.array([0.0, 1.0]), 0.3, 0.5), [0.75, 1.0]
    )
    np.testing.assert_allclose(lenient_probability(0.1, np.array([0.0]), 0.3, 0.5), [0.0])
    assert lenient_probability(0.9, np.array([1.0]), 0.0, 5.0)[0] == 1.0
    assert lenient_probability(0.1, np.array([0.0]), 1.0, 5.0)[0] == 0.0


def test_leavers_take_the_trust_they_held():
    """A changed chief executive's row and column, and a region's regulator row, are hit."""
    places = (..., 0, slice(1, 4), slice(None))
    mask = forget_mask(np.array([False, True, False]), np.array([False]), places, (1, 4, 4))
    expected = np.zeros((1, 4, 4), dtype=bool)
    expected[0, 2, :] = expected[0, :, 2] = True
    np.testing.assert_array_equal(mask, expected)
    staff = forget_mask(np.zeros(3, dtype=bool), np.array([True]), places, (1, 4, 4))
    assert staff[0, 0].all()
    assert staff[0, 1:].sum() == 0


# --- M7 adoption ----------------------------------------------------------------------------


def test_adoption_hazard_is_complex_contagion():
    a, e = np.full(5, 0.6), np.full(5, 0.8)
    m = np.array([0, 1, 2, 3, 4])
    h = adoption_hazard(a, e, m, np.ones(5, dtype=int), 0.15, 0.3)
    assert h[0] == 0.0
    assert h[1] == pytest.approx(0.6 * 0.8 * 0.15)
    assert h[2] == pytest.approx(0.6 * 0.8 * (1 - 0.85 * 0.7))
    assert np.all(np.diff(h) > 0)  # reinforcement: each trusted exposure adds


def test_complex_practice_needs_enough_trusted_exposures_at_once():
    h = adoption_hazard(np.ones(3), np.ones(3), np.array([1, 2, 3]), np.full(3, 2), 0.15, 0.3)
    assert h[0] == 0.0
    assert h[1] > 0
    assert h[2] > h[1]


def naive_exposures(encounters, trusted, adopters):
    n, k = adopters.shape
    out = np.zeros((n, k), dtype=int)
    for j in range(n):
        for p in range(k):
            sources = {
                i
                for met, presented in encounters
                for i in range(n)
                if met[j, i] and trusted[j, i] and presented[i, p] and adopters[i, p]
            }
            out[j, p] = len(sources)
    return out


@pytest.mark.parametrize("n_encounters", [0, 1, 2, 3])
@pytest.mark.parametrize("seed", range(5))
def test_exposures_count_distinct_trusted_adopters_met(n_encounters, seed):
    rng = np.random.default_rng(seed)
    n, k = 6, 3
    trusted = rng.random((n, n)) < 0.6
    adopters = rng.random((n, k)) < 0.4
    encounters = [(rng.random((n, n)) < 0.5, rng.random((n, k)) < 0.7) for _ in range(n_encounters)]
    got = trusted_exposures(encounters, trusted, adopters)
    np.testing.assert_array_equal(got, naive_exposures(encounters, trusted, adopters))


def test_an_adopter_met_twice_in_a_month_counts_once():
    met = np.array([[False, True], [True, False]])
    presented = np.array([[True], [True]])
    trusted, adopters = np.ones((2, 2), dtype=bool), np.array([[True], [False]])
    once = trusted_exposures([(met, presented)], trusted, adopters)
    twice = trusted_exposures([(met, presented), (met, presented)], trusted, adopters)
    assert once.tolist() == twice.tolist() == [[0], [1]]


def test_mandated_adoption_is_abandoned_more_readily():
    a, e = np.array([0.5, 0.5]), np.array([0.6, 0.6])
    h = abandonment_hazard(a, e, 0.05, np.array([False, True]), 3.0)
    assert h[0] == pytest.approx(0.05 * 0.5 * 0.4)
    assert h[1] == pytest.approx(3 * h[0])


# --- M8 training and the heat map -------------------------------------------------------------


def test_without_heat_map_training_follows_existing_coverage():
    coverage = np.array([[0.1, 0.2, 0.4, 0.3]])
    gained = allocate_training(coverage, np.array([0.1]), np.array([False]))
    share = coverage / coverage.sum()
    np.testing.assert_allclose(gained, 0.1 * share * (1 - coverage))
    assert np.argmax(gained) == 2  # the best-covered department gains most


def test_with_heat_map_training_targets_least_covered_departments():
    coverage = np.array([[0.1, 0.2, 0.4, 0.3]])
    gained = allocate_training(coverage, np.array([0.15]), np.array([True]))
    # Water-filling: 0.15 lifts the two lowest departments to a common level of 0.225.
    np.testing.assert_allclose(gained, [[0.125, 0.025, 0.0, 0.0]])
    assert gained.sum() == pytest.approx(0.15)


def test_heat_map_evens_coverage_and_clustering_does_not():
    rng = np.random.default_rng(3)
    start = rng.uniform(0.02, 0.1, size=(50, 12))
    budget = np.full(50, 0.05)
    clustered, targeted = start.copy(), start.copy()
    for _ in range(36):
        clustered += allocate_training(clustered, budget, np.zeros(50, dtype=bool))
        targeted += allocate_training(targeted, budget, np.ones(50, dtype=bool))
    before = coefficient_of_variation(start).mean()
    assert coefficient_of_variation(targeted).mean() < 0.1 * before
    assert coefficient_of_variation(clustered).mean() > 0.8 * before


@given(
    arrays(np.float64, (3, 12), elements=st.floats(0, 1)),
    arrays(np.float64, 3, elements=st.floats(0, 2)),
)
def test_water_fill_spends_the_budget_on_the_lowest_departments(coverage, budget):
    gained = water_fill(coverage, budget)
    assert np.all(gained >= 0)
    after = coverage + gained
    assert np.all(after <= 1 + 1e-9)
    for row in range(3):
        room = (1 - coverage[row]).sum()
        assert gained[row].sum() == pytest.approx(min(budget[row], room), abs=1e-9)
        lifted = gained[row] > 1e-12
        if lifted.any():
            level = after[row][lifted].max()
            # Every lifted department reaches the same level; none left below it.
            np.testing.assert_allclose(after[row][lifted], level, atol=1e-9)
            assert np.all(after[row][~lifted] >= level - 1e-9)


def test_capability_needs_breadth_not_one_showcase_ward():
    broad = np.full((1, 12), 0.3)
    narrow = np.zeros((1, 12))
    narrow[0, 0] = 1.0
    assert capability(broad, 0.3)[0] == pytest.approx(1.0)
    assert capability(narrow, 0.3)[0] == pytest.approx(1 / 12)


def test_internal_training_only_above_threshold():
    k = np.array([0.1, 0.3, 0.65, 1.0])
    out = internal_training(k, 0.12, 0.3)
    assert out[0] == 0
    assert out[1] == 0
    assert out[2] == pytest.approx(0.06, rel=1e-6)
    assert out[3] == pytest.approx(0.12, rel=1e-6)


# --- M9 energy and quality, M10 regulator learning --------------------------------------------


def test_energy_falls_with_enforcement_and_pressure():
    e = energy(np.array([0, 5, 0, 5]), 0.3, 0.5, 0.5)
    np.testing.assert_allclose(e, [0.85, 0.35, 0.85, 0.35])
    assert energy(np.array([5]), 3.0, 0.5, 0.5)[0] == 0.0


def test_quality_grows_with_capability_energy_and_practices_and_erodes_with_pressure():
    q = np.full(4, 0.5)
    out = update_quality(
        q,
        np.array([0.0, 1.0, 0.0, 0.0]),
        np.array([1.0, 1.0, 1.0, 1.0]),
        np.array([0.0, 0.0, 0.01, 0.0]),
        0.0,
        0.03,
        0.03,
    )
    assert out[0] == 0.5
    assert out[1] > 0.5
    assert out[2] > 0.5
    eroded = update_quality(q, q * 0, q * 0 + 1, q * 0, 1.0, 0.03, 0.03)
    np.testing.assert_allclose(eroded, 0.5 * 0.97)


def test_regulator_learns_from_positive_board_exchanges_and_unlearns_under_pressure():
    assert learn_orientation(0.4, 0.85, 0.3, True, 0.05, 0.02) == pytest.approx(0.4 + 0.05 * 0.45)
    assert learn_orientation(0.4, math.nan, 0.3, False, 0.05, 0.02) == pytest.approx(
        0.4 * (1 - 0.02 * 0.3)
    )
    # A compact in force shields ρ from pressure.
    assert learn_orientation(0.4, math.nan, 0.3, True, 0.05, 0.02) == 0.4
    # One value per run: replications at once.
    both = learn_orientation(
        np.array([0.4, 0.4]), np.array([0.85, math.nan]), np.array([0.3, 0.3]),
        np.array([True, False]), 0.05, 0.02,
    )  # fmt: skip
    np.testing.assert_allclose(both, [0.4 + 0.05 * 0.45, 0.4 * (1 - 0.02 * 0.3)])


def test_more_problems_never_raise_quality():
    """Each open problem costs a share of quality; fixing it gives that back (M3, M9)."""
    q = np.full(4, 0.7)
    open_problems = np.array([0, 1, 5, 20])
    out = true_quality(q, open_problems, 0.02)
    assert out[0] == 0.7
    assert np.all(np.diff(out) < 0)
    np.testing.assert_allclose(out, 0.7 * 0.98**open_problems)
