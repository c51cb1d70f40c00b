"""The model's mechanisms as small pure functions on numpy arrays.

Each function implements one submodel of MODEL.md §4 (named in its docstring), takes arrays and
parameters, and returns new arrays without touching model state, so that it can be tested alone
and applied to every trust (or every pair) at once. The model in :mod:`relsim.model.mesa_model`
decides *when* each one runs; the governance rules in :mod:`relsim.model.governance` decide *who
meets whom*.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from relsim.scenario import Scenario

Float = NDArray[np.floating[Any]]
Int = NDArray[np.integer[Any]]
Bool = NDArray[np.bool_]

# ---------------------------------------------------------------------------------------------
# M1 Trust
# ---------------------------------------------------------------------------------------------


def update_trust(
    trust: Float, positive: Float, negative: Float, gain: float, loss_ratio: float
) -> Float:
    """Apply a month's positive and negative interactions to a trust matrix (M1).

    For one interaction of weight w, MODEL.md M1 gives ``T += α·w·(1 − T)`` (positive) and
    ``T −= λ·α·w·T`` (negative): trust is built slowly and destroyed quickly (Slovic 1993). Here
    the month's total weights are applied in the continuous-time form of those rules,
    ``1 − T ← (1 − T)·exp(−α·W⁺)`` then ``T ← T·exp(−λ·α·W⁻)``, which agrees with M1 to first
    order for one interaction and keeps T in [0, 1] however many interactions a month holds.

    Args:
        trust: Trust levels in [0, 1] (any shape).
        positive: Total weight of positive interactions per entry (>= 0).
        negative: Total weight of negative interactions per entry (>= 0).
        gain: α, trust gained per unit of positive weight.
        loss_ratio: λ, how many times faster trust is lost than gained.
    """
    # expm1 keeps zero weight an exact identity and small weights accurate.
    built = trust - (1.0 - trust) * np.expm1(-gain * positive)
    return built * np.exp(-loss_ratio * gain * negative)


def drift_trust(trust: Float, baseline: Float | float, rate: float, contact: Bool) -> Float:
    """Move pairs that had no contact this month toward their baseline: ``T += φ(T0 − T)`` (M1)."""
    return np.where(contact, trust, trust + rate * (baseline - trust))


# ---------------------------------------------------------------------------------------------
# M2 Pressure
# ---------------------------------------------------------------------------------------------


def step_pressure(
    latent: Float | float,
    baseline: float,
    reversion: float,
    volatility: float,
    noise: Float | float,
) -> Float:
    """One month of the mean-reverting pressure process (M2), before shocks.

    ``X_{t+1} = X_t + κ(P̄ − X_t) + σ·ε_t``. Scripted shocks are added on top
    (:func:`pressure_level`) rather than into X, so that a shock of magnitude m raises pressure
    by m for its duration instead of compounding month after month.
    """
    return latent + reversion * (baseline - latent) + volatility * noise  # type: ignore[return-value]


def pressure_level[P: (float, Float)](latent: P, shock: float) -> P:
    """Observed pressure: the latent process plus active shocks, clipped at 0 (M2)."""
    return np.maximum(0.0, latent + shock)


def active_shock(month: int, shocks: tuple[tuple[int, float, int], ...]) -> float:
    """Total magnitude of the shocks active in ``month``; each is (month, magnitude, duration)."""
    return float(sum(m for start, m, d in shocks if start <= month < start + d))


# ---------------------------------------------------------------------------------------------
# M3 Problems and disclosure
# ---------------------------------------------------------------------------------------------


def logistic(x: Float) -> Float:
    """The logistic function, 1 / (1 + e^−x)."""
    return 1.0 / (1.0 + np.exp(-x))


def disclosure_probability(
    safety: Float,
    trust_in_regulator: Float,
    expected_sanction: Float | float,
    intercept: float,
    w_safety: float,
    w_trust: float,
    w_sanction: float,
) -> Float:
    """Probability that a trust discloses a pending problem at a governance contact (M3).

    ``P_d = logistic(a0 + a1·S + a2·T[i,0] − a3·expected_sanction)``: psychological safety and
    trust in the regulator raise disclosure, fear of sanction lowers it (Edmondson 1996, 1999).
    """
    return logistic(
        intercept
        + w_safety * safety
        + w_trust * trust_in_regulator
        - w_sanction * expected_sanction
    )


# ---------------------------------------------------------------------------------------------
# M4 Regulator response
# ---------------------------------------------------------------------------------------------


def supportive_probability(
    orientation: Float | float, pressure: Float | float, buffer: Float | float
) -> Float:
    """Probability that the regulator responds supportively (M4).

    ``ρ_eff = ρ·(1 − P·(1 − b))``: pressure pushes the regulator toward punitive responses, and a
    compact in force (b = buffer) shields its responses from that pressure. Arrays broadcast
    (one value per run, or per board).
    """
    return np.minimum(1.0, np.maximum(0.0, orientation * (1.0 - pressure * (1.0 - buffer))))


def shielded_probability[P: (float, Float)](p_supportive: P, protection: float) -> P:
    """Supportive probability inside a protected relational space (board meetings, M6).

    ``1 − (1 − ρ_eff)(1 − protection)``: the no-judgement norm of the board turns part of the
    punitive responses into supportive ones (Burgess et al. 2019).
    """
    return 1.0 - (1.0 - p_supportive) * (1.0 - protection)


def update_safety(
    safety: Float,
    supportive: Int,
    punitive: Int,
    attended: Bool,
    baseline: Float,
    supportive_gain: float,
    punitive_loss: float,
    board_gain: float,
    drift: float,
) -> Float:
    """Psychological safety after a month's responses and board attendance (M4).

    Each supportive response closes a share ``supportive_gain`` of the way to 1, each punitive
    one removes a share ``punitive_loss``; attending a protected relational space builds safety
    (Edmondson 1999); safety then drifts toward the trust's baseline.
    """
    s = 1.0 - (1.0 - safety) * (1.0 - supportive_gain) ** supportive
    s = s * (1.0 - punitive_loss) ** punitive
    s = np.where(attended, s + board_gain * (1.0 - s), s)
    return s + drift * (baseline - s)


# ---------------------------------------------------------------------------------------------
# M5 Postures and gaming
# ---------------------------------------------------------------------------------------------


class Posture(IntEnum):
    """Motivational postures toward a regulator (Braithwaite; Makkai & Braithwaite 1994)."""

    COMMITMENT = 0
    CAPITULATION = 1
    RESISTANCE = 2
    DISENGAGEMENT = 3
    GAME_PLAYING = 4


POSTURE_NAMES: tuple[str, ...] = tuple(p.name.lower() for p in Posture)


def classify_posture(
    trust_in_regulator: Float,
    level: Int,
    energy: Float,
    commitment_trust: float,
    capitulation_trust: float,
    gaming_level: int,
    disengagement_energy: float,
) -> NDArray[np.int8]:
    """Derive each trust's posture from its trust in the regulator, enforcement level and energy.

    Low trust under escalated enforcement turns to game-playing (Bevan & Hood 2006); exhausted
    trusts disengage; otherwise posture follows trust in the regulator: commitment above
    ``commitment_trust``, capitulation above ``capitulation_trust``, resistance below.
    """
    # RESISTANCE (2), one step up to CAPITULATION (1) and another to COMMITMENT (0); the
    # thresholds are ordered (capitulation <= commitment), so the steps add up.
    above_capitulation = trust_in_regulator >= capitulation_trust
    posture = (
        Posture.RESISTANCE - above_capitulation - (trust_in_regulator >= commitment_trust)
    ).astype(np.int8)
    posture[energy < disengagement_energy] = Posture.DISENGAGEMENT
    posture[~above_capitulation & (level >= gaming_level)] = Posture.GAME_PLAYING
    return posture


def update_gaming_gap(gap: Float, gaming: Bool, rate: float, max_gap: float, decay: float) -> Float:
    """Grow the gap between reported and true quality while game-playing; let it decay otherwise.

    Targets with sanctions produce gaming: Bevan & Hood (2006) found a 19-21 point gap between
    official and patient-reported A&E performance.
    """
    return np.where(gaming, gap + rate * (max_gap - gap), gap * (1.0 - decay))


def posture_of(
    trust_in_regulator: Float, level: Int, energy: Float, scenario: Scenario
) -> NDArray[np.int8]:
    """:func:`classify_posture` with the scenario's thresholds (M5)."""
    po = scenario.posture
    return classify_posture(
        trust_in_regulator,
        level,
        energy,
        po.commitment_trust,
        po.capitulation_trust,
        po.gaming_level,
        po.disengagement_energy,
    )


def safety_posture_and_gaming(
    safety: Float,
    safety_baseline: Float,
    gaming_gap: Float,
    trust_in_regulator: Float,
    level: Int,
    energy: Float,
    supportive: Int,
    punitive: Int,
    attended: Bool,
    scenario: Scenario,
) -> tuple[Float, NDArray[np.int8], Float]:
    """One month's safety, then posture, then gaming gap, with the scenario's parameters (M4, M5).

    The model and the lockstep path (any leading replication axis) both run this step.

    Returns:
        (safety, posture, gaming gap).
    """
    sf = scenario.safety
    safety = update_safety(
        safety,
        supportive,
        punitive,
        attended,
        safety_baseline,
        sf.supportive_gain,
        sf.punitive_loss,
        scenario.governance.board.safety_gain,
        sf.drift,
    )
    posture = posture_of(trust_in_regulator, level, energy, scenario)
    gaming = posture == Posture.GAME_PLAYING
    # Without gaming, and with no gap left to decay, the gap stays exactly zero.
    if np.count_nonzero(gaming) or np.count_nonzero(gaming_gap):
        en = scenario.enforcement
        gaming_gap = update_gaming_gap(
            gaming_gap, gaming, en.gaming_rate, en.max_gaming_gap, en.gaming_decay
        )
    return safety, posture, gaming_gap


# ---------------------------------------------------------------------------------------------
# M6 Board
# ---------------------------------------------------------------------------------------------


def board_pair_weights(hours: float, attendees: Int, scale: float) -> Float:
    """Weight of the contact each pair gets at a meeting of ``attendees`` members (M6).

    The meeting's hours are divided among its pairs, so a large board gives each pair less
    (Provan & Kenis 2008); the weight saturates, ``1 − exp(−hours per pair / scale)``, and is 0
    for a meeting with no pair. One weight per meeting (any array of attendee counts).
    """
    pairs = attendees * (attendees - 1) / 2
    per_pair = hours / np.maximum(pairs, 1.0)  # the value for a meeting with no pair is unused
    return np.where(pairs > 0, 1.0 - np.exp(-per_pair / scale), 0.0)


def attendance_probability(
    value: Float, norm: Float | float, intercept: float, w_value: float, w_norm: float
) -> Float:
    """Probability that each trust attends the board (M6).

    Attendance rises with the value a trust has found in past meetings and with the group's
    norm of attending (in the case, chief executives rarely missed a meeting).
    """
    return logistic(intercept + w_value * value + w_norm * norm)


class CompactState(IntEnum):
    """States of the compact of reciprocal commitments (M6)."""

    NONE = 0
    NEGOTIATING = 1
    IN_FORCE = 2


COMPACT_NAMES: tuple[str, ...] = ("none", "negotiating", "in_force")


def next_compact_states(
    states: Int,
    months_negotiating: Int,
    board_trust: Float,
    negotiation_months: int,
    threshold: float,
    lapse_threshold: float,
) -> Int:
    """The compact's state machine (M6): none → negotiating → in force, lapsing if trust fails.

    A compact comes into force once at least ``negotiation_months`` have passed and mean trust
    among board members reaches ``threshold``; one in force lapses back into negotiation when
    board trust falls below ``lapse_threshold``. One state per board (any array shape).
    """
    comes_into_force = (
        (states == CompactState.NEGOTIATING)
        & (months_negotiating >= negotiation_months)
        & (board_trust >= threshold)
    )
    lapses = (states == CompactState.IN_FORCE) & (board_trust < lapse_threshold)
    new = np.where(comes_into_force, CompactState.IN_FORCE, states)
    return np.where(lapses, CompactState.NEGOTIATING, new).astype(states.dtype)


def network_compact(states: Int) -> Int:
    """The network's compact when each board has its own: the state half the boards reached.

    States are ordered none < negotiating < in force; boards are the last axis.
    """
    if states.shape[-1] == 1:
        return states[..., 0]
    return np.sort(states, axis=-1)[..., states.shape[-1] // 2]


# ---------------------------------------------------------------------------------------------
# M7 Adoption
# ---------------------------------------------------------------------------------------------


def adoption_hazard(
    readiness: Float, energy: Float, exposures: Int, complexity: Int, p1: float, p2: float
) -> Float:
    """Monthly adoption hazard of a practice by a non-adopter (M7, complex contagion).

    ``h = A·E·[1 − (1 − p1)(1 − p2)^(m − 1)]`` for m trusted exposures, and 0 below the
    practice's complexity: reinforcement from several trusted contacts matters (Centola 2010).
    Arrays broadcast: trusts × practices.
    """
    m = np.maximum(exposures, 1)
    reinforced = 1.0 - (1.0 - p1) * (1.0 - p2) ** (m - 1)
    return np.where(exposures >= complexity, readiness * energy * reinforced, 0.0)


def trusted_exposures(
    encounters: list[tuple[Bool, Bool]], trusted: Bool, adopters: Bool
) -> NDArray[np.int64]:
    """How many trusted adopters of each practice each trust was exposed to this month (M7).

    Only exposures to adopters a trust trusts count (``T[j, i] >= θ_T``); an adopter met in
    several encounters in one month counts once (Centola 2010 counts distinct contacts).

    Args:
        encounters: ``(met, presented)`` pairs: ``met[j, i]`` if trust j met trust i, and
            ``presented[i, k]`` if i talked about practice k at that encounter.
        trusted: ``trusted[j, i]`` if j trusts i enough for an exposure to count.
        adopters: ``adopters[i, k]`` if i has adopted practice k.

    Returns:
        ``exposures[j, k]``, trusts × practices (with any leading axes of the arguments).
    """
    sources = [(met & trusted, presented & adopters) for met, presented in encounters]
    sources = [(seen, told) for seen, told in sources if np.count_nonzero(told)]
    if not sources:
        return np.zeros(adopters.shape, dtype=np.int64)
    if len(sources) == 1:
        seen, told = sources[0]
        return seen.astype(np.int64) @ told.astype(np.int64)
    exposed = np.zeros((*adopters.shape[:-1], *adopters.shape[-2:]), dtype=bool)
    for seen, told in sources:
        exposed |= seen[..., :, :, None] & told[..., None, :, :]
    return np.add.reduce(exposed, axis=-2, dtype=np.int64)


def block_exposures(
    encounters: Sequence[tuple[Bool, Bool]],
    trusted: Bool,
    adopters: Bool,
    at: tuple[Any, ...],
) -> NDArray[np.int64]:
    """As :func:`trusted_exposures`, for encounters within regions given in block layout (M7).

    Args:
        encounters: ``(met, presented)`` pairs: ``met[r, q, p]`` if the actor at position q of
            region r's block met the actor at position p, and ``presented[i, k]`` (per trust)
            if trust i talked about practice k at that encounter.
        trusted: ``trusted[r, q, p]`` if q trusts p enough for an exposure to count.
        adopters: ``adopters[i, k]`` if trust i has adopted practice k.
        at: Index of the trusts' places in an array of blocks with a trailing practice axis,
            ``(..., regions, width, practices)``: ``(..., region, position, slice(None))`` per
            trust (a slice where the trusts of one region sit in order).

    Returns:
        ``exposures[j, k]``, trusts × practices. Leading axes of ``trusted``, ``adopters`` and
        the encounters (replications) carry through.
    """
    k = adopters.shape[-1]
    blocks = trusted.shape[:-1]  # (*lead, regions, width)
    sources = []
    for met, presented in encounters:
        told = presented & adopters
        if not np.count_nonzero(told):
            continue
        in_blocks = np.zeros((*blocks, k), dtype=bool)
        in_blocks[at] = told
        sources.append((met & trusted, in_blocks))
    if not sources:
        return np.zeros(adopters.shape, dtype=np.int64)
    if len(sources) == 1:
        seen, told = sources[0]
        exposed = seen.astype(np.int64) @ told.astype(np.int64)
    else:
        anyone = np.zeros((*blocks, blocks[-1], k), dtype=bool)
        for seen, told in sources:
            anyone |= seen[..., None] & told[..., None, :, :]
        exposed = np.add.reduce(anyone, axis=-2, dtype=np.int64)
    return exposed[at]


def pair_exposures(
    met_by: Int, met: Int, trusted: Bool, presented: Bool, adopters: Bool
) -> NDArray[np.int64]:
    """As :func:`trusted_exposures`, for encounters listed pair by pair (across regions, M7).

    Args:
        met_by: Trust j of each encounter (it met trust ``met[x]``).
        met: Trust i of each encounter.
        trusted: Whether j trusts i enough for an exposure to count, per encounter.
        presented: ``presented[x, k]`` if i talked about practice k at encounter x.
        adopters: ``adopters[i, k]`` if trust i has adopted practice k.

    Returns:
        ``exposures[j, k]``, trusts × practices; a pair met twice in a month counts once.
    """
    n, k = adopters.shape
    told = presented & adopters[met] & trusted[:, None]
    if not np.count_nonzero(told):
        return np.zeros((n, k), dtype=np.int64)
    keys, first, inverse = np.unique(met_by * n + met, return_index=True, return_inverse=True)
    combined = np.zeros((keys.size, k), dtype=bool)
    np.logical_or.at(combined, inverse, told)
    exposures = np.zeros((n, k), dtype=np.int64)
    np.add.at(exposures, met_by[first], combined)
    return exposures


def abandonment_hazard(
    readiness: Float, energy: Float, base: float, mandated: Bool, mandate_multiplier: float
) -> Float:
    """Monthly abandonment hazard of an adopted practice (M7): ``δ0·(1 − A)·(1 − E)``.

    Mandated adoption is shallow, so it is abandoned ``mandate_multiplier`` times as readily
    (MODEL.md M5).
    """
    hazard = base * (1.0 - readiness) * (1.0 - energy)
    return np.minimum(1.0, np.where(mandated, hazard * mandate_multiplier, hazard))


# ---------------------------------------------------------------------------------------------
# M8 Training and the heat map
# ---------------------------------------------------------------------------------------------


def water_fill(coverage: Float, budget: Float) -> Float:
    """Raise the least-covered departments of each trust to a common level (M8, heat map).

    Finds, per row, the level λ with Σ_d max(0, λ − c_d) = budget and returns the gain
    ``max(0, λ − c_d)``, capped so that coverage stays at most 1. This is what the training heat
    map makes possible: seeing where trained staff are missing and sending training there.
    """
    rows, n_depts = coverage.shape
    ordered = np.sort(coverage, axis=1)
    # Level if the k lowest departments are filled: (budget + sum of the k lowest) / k.
    levels = (budget[:, None] + np.add.accumulate(ordered, axis=1)) / _ranks(n_depts)
    # The levels that clear their k-th lowest coverage form a prefix (if filling k departments
    # does not reach the k-th, filling more cannot reach the next); the right k is its length.
    k_star = np.add.reduce(levels >= ordered, axis=1) - 1
    level = np.minimum(levels[_ranks(rows) - 1, k_star], 1.0)
    return np.maximum(0.0, level[:, None] - coverage)


@cache
def _ranks(n: int) -> NDArray[np.int64]:
    """``[1, 2, ..., n]``, read-only (cached: used every month)."""
    ranks = np.arange(1, n + 1)
    ranks.flags.writeable = False
    return ranks


def allocate_training(coverage: Float, budget: Float, targeted: Bool) -> Float:
    """Coverage gained by each department this month (M8).

    Without the heat map, training follows existing coverage: it clusters where it already is,
    so gains stay in particular pathways. With it, training targets the least-covered
    departments (:func:`water_fill`).

    Args:
        coverage: Coverage per trust and department, in [0, 1] (N × D, with any leading axes).
        budget: Effective training per trust this month, in department-equivalents (N).
        targeted: Whether each trust uses the heat map (N).
    """
    total = np.add.reduce(coverage, axis=-1, keepdims=True)
    if np.count_nonzero(total) == total.size:
        share = coverage / total
    else:  # a trust with no trained staff at all spreads its first training evenly
        share = np.divide(
            coverage, total, out=np.full_like(coverage, 1.0 / coverage.shape[-1]), where=total > 0
        )
    clustered = budget[..., None] * share * (1.0 - coverage)
    if not np.count_nonzero(targeted):
        return clustered
    depts = coverage.shape[-1]  # water_fill works row by row: trusts of every run are rows
    filled = water_fill(coverage.reshape(-1, depts), budget.reshape(-1)).reshape(coverage.shape)
    return np.where(targeted[..., None], filled, clustered)


def capability(coverage: Float, threshold: float) -> Float:
    """Capability from coverage: ``K = mean_d min(1, c_d / c*)`` (M8).

    Capability needs breadth, not one showcase ward: a department counts fully once its
    coverage reaches c*, and no further.
    """
    return np.add.reduce(np.minimum(1.0, coverage / threshold), axis=-1) / coverage.shape[-1]


def internal_training(capability_: Float, rate: float, threshold: float) -> Float:
    """Training a trust can give itself, in department-equivalents a month (M8, fact 10).

    Internal trainers are in proportion to capability, but only above a threshold: below it a
    trust has too few trained staff to train others, so when the partner leaves its coverage
    decays, while above it capability sustains itself.
    """
    above = np.minimum(1.0, np.maximum(0.0, (capability_ - threshold) / (1.0 - threshold + 1e-12)))
    return rate * above


def coefficient_of_variation(coverage: Float) -> Float:
    """Dispersion of coverage across departments (std / mean) per trust: how uneven the map is."""
    depts = coverage.shape[-1]
    mean = np.add.reduce(coverage, axis=-1) / depts
    deviation = coverage - mean[..., None]
    std = np.sqrt(np.add.reduce(deviation * deviation, axis=-1) / depts)
    return np.divide(std, mean, out=np.zeros_like(mean), where=mean > 0)


# ---------------------------------------------------------------------------------------------
# M9 Energy and quality
# ---------------------------------------------------------------------------------------------


def energy(
    level: Int,
    pressure: float | Float,
    level_weight: float,
    pressure_weight: float,
    max_level: int = 5,
) -> Float:
    """Improvement energy ``E = clip(1 − β_L·L/L_max − β_P·P)`` (M9).

    Escalation draws management attention from improvement to compliance; external pressure
    to show immediate change does the same.
    """
    raw = 1.0 - level_weight / max_level * level - pressure_weight * pressure
    return np.minimum(1.0, np.maximum(0.0, raw))


def update_quality(
    quality: Float,
    capability_: Float,
    energy_: Float,
    fixed: Int,
    benefit: Float,
    pressure: float | Float,
    growth: float,
    fix_gain: float,
    erosion: float,
) -> Float:
    """One month of true quality (M9).

    Quality grows with capability × energy, with each problem fixed and with embedded practices
    (``benefit``), each as a share of the way to 1, and erodes in proportion to pressure.
    """
    room = 1.0 - quality
    gained = growth * capability_ * energy_ + benefit + 1.0 - (1.0 - fix_gain) ** fixed
    q = quality + np.minimum(gained, 1.0) * room
    return np.minimum(1.0, np.maximum(0.0, q * (1.0 - erosion * pressure)))


# ---------------------------------------------------------------------------------------------
# M10 Regulator learning
# ---------------------------------------------------------------------------------------------


def learn_orientation(
    orientation: Float,
    positive_share: Float | float,
    pressure: Float,
    compact_in_force: Bool,
    rate: float,
    pressure_sensitivity: float,
) -> Float:
    """One month of regulator learning (M10).

    ρ moves toward the share of positive exchanges at this month's board meeting ("regulators
    reflecting on their behaviours", Burgess et al. 2019; NaN: no board met), and, without a
    compact in force, falls in proportion to external pressure. One value per run.
    """
    rho = np.where(
        np.isnan(positive_share), orientation, orientation + rate * (positive_share - orientation)
    )
    rho = np.where(compact_in_force, rho, rho - pressure_sensitivity * pressure * rho)[()]
    return np.minimum(1.0, np.maximum(0.0, rho))
