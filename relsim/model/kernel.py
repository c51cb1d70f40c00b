"""The month: every monthly step of the model, written once, in its fixed order.

Each step is a small function of the state (:mod:`relsim.model.state`), the month's
interactions and the draws (:mod:`relsim.model.streams`), calling the pure mechanisms of
:mod:`relsim.model.mechanisms`; the governance rule in force produces the interactions
(:mod:`relsim.model.governance`). Every array carries the driver's leading axes (``state.lead``)
and every step broadcasts over them, so the same code steps one run (the Mesa model,
:mod:`relsim.model.mesa_model`, with no leading axis) and many replications of a scenario
together (:mod:`relsim.model.batch`, with a leading replication axis).

The order of a month (MODEL.md §3), as :meth:`Kernel.step` runs it:

1. **Environment**: pressure moves (M2); scripted events apply: pressure shocks, the partner's
   arrival or exit, practices introduced by their origin trust, mandates, and changes of
   governance rule.
2. **Improvement work** inside each trust: training from the partner and internal trainers is
   allocated across departments (with or without the heat map) and staff turnover erodes it
   (M8); capability, energy (M9) and true quality follow; known and hidden problems get fixed
   and new problems arise (M3).
3. **Governance**: the active rule produces the month's interactions: reviews or board
   meetings, disclosures and the regulator's responses (M3-M6), surprises, peer encounters and
   showcases, and the compact's progress.
4. **Trust update** from the month's interactions, asymmetric (M1); pairs with no contact
   drift toward their initial trust.
5. **Psychological safety and posture**: supportive responses and board attendance raise
   safety, punitive ones lower it; postures are derived and gaming follows (M4, M5).
6. **Learning**: trusts adopt practices after trusted exposures (M7), implementation matures,
   and some adopters abandon.
7. **Regulator learning**: the relational orientation ρ moves with the month (M10).
8. **Data collection**: each driver records the month from the same column table
   (:mod:`relsim.model.columns`): the Mesa model through its ``datacollector`` and per-trust,
   per-department and per-pair ``history`` (:mod:`relsim.model.recording`), the batched driver
   as each replication's monthly series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.model.governance import GOVERNANCE, GovernanceRule
from relsim.model.interactions import Interactions
from relsim.model.mechanisms import (
    CompactState,
    Float,
    Int,
    abandonment_hazard,
    active_shock,
    adoption_hazard,
    allocate_training,
    block_exposures,
    capability,
    energy,
    internal_training,
    learn_orientation,
    pair_exposures,
    posture_of,
    pressure_level,
    safety_posture_and_gaming,
    step_pressure,
    trusted_exposures,
    update_quality,
)
from relsim.model.state import EMBEDDED, IMPLEMENTING, MAX_LEVEL, NOT_ADOPTED, State, per_run
from relsim.model.streams import Draws
from relsim.scenario import Scenario

#: A pressure shock: (first month, magnitude, duration in months).
Shock = tuple[int, float, int]


@dataclass(frozen=True)
class Practices:
    """The practice catalogue as arrays, indexed by practice."""

    targets_training: Float
    """1 for a practice that targets training (the heat map), else 0."""
    benefit: Float
    complexity: Int
    origin: Int
    """Index of each practice's origin trust."""

    @classmethod
    def of(cls, scenario: Scenario) -> Practices:
        """The scenario's practices."""
        practices = scenario.practices
        index = {name: i for i, name in enumerate(scenario.trust_names)}
        return cls(
            targets_training=np.array([p.targets_training for p in practices], dtype=float),
            benefit=np.array([p.benefit for p in practices], dtype=float),
            complexity=np.array([p.complexity for p in practices], dtype=np.int64),
            origin=np.array([index[p.origin] for p in practices], dtype=np.int64),
        )


# ---------------------------------------------------------------------------------------------
# 1. Environment
# ---------------------------------------------------------------------------------------------


def move_pressure(
    state: State, scenario: Scenario, draws: Draws, shocks: tuple[Shock, ...], month: int
) -> None:
    """Pressure for the month: the mean-reverting process plus active shocks (M2)."""
    p = scenario.pressure
    noise = draws.pressure.standard_normal()
    state.latent_pressure = step_pressure(
        state.latent_pressure, p.baseline, p.reversion, p.volatility, noise
    )
    state.pressure = pressure_level(state.latent_pressure, active_shock(month, shocks))


def scripted_practices(state: State, scenario: Scenario, practices: Practices, month: int) -> None:
    """The partner's presence, practices introduced by their origin trust, and mandates."""
    partner = scenario.partner
    state.partner_active = partner.enabled and partner.start_month <= month < partner.end_month
    for k, practice in enumerate(scenario.practices):
        if practice.introduced_month == month:
            at = (..., int(practices.origin[k]), k)
            new = state.adoption[at] == NOT_ADOPTED
            state.adoption[at] = np.where(new, EMBEDDED, state.adoption[at])
            state.adopted_month[at] = np.where(new, month, state.adopted_month[at])
        if practice.mandated_month == month:
            # A mandate is adopted at once by everyone, but shallowly (MODEL.md M5).
            adoption = state.adoption[..., k]  # views, trusts of every run
            new = adoption == NOT_ADOPTED
            adoption[new] = IMPLEMENTING
            state.adopted_month[..., k][new] = month
            state.mandated[..., k][new] = True


# ---------------------------------------------------------------------------------------------
# 2. Improvement work
# ---------------------------------------------------------------------------------------------


def derive(state: State, scenario: Scenario) -> None:
    """Capability and energy follow from coverage, enforcement and pressure (M8, M9)."""
    state.capability = capability(state.coverage, scenario.training.capability_coverage)
    e = scenario.energy
    state.energy = energy(
        state.level, per_run(state.pressure), e.level_weight, e.pressure_weight, MAX_LEVEL
    )


def improvement_work(
    state: State, scenario: Scenario, practices: Practices, draws: Draws, fix: Float
) -> None:
    """Training, turnover, capability, energy and quality; problems fixed and new ones (M3, M8, M9).

    Args:
        state: The state, updated in place.
        scenario: The scenario.
        practices: The practice catalogue as arrays.
        draws: The draws.
        fix: Probability that a known, then a hidden, problem of each trust is fixed this month
            (known problems first, then hidden ones: ``2N`` entries).
    """
    tr = scenario.training
    budget = internal_training(state.capability, tr.internal_rate, tr.internal_threshold)
    if state.partner_active:
        budget = budget + scenario.partner.training_capacity
    # Absorptive capacity: readier trusts turn the same training into more coverage
    # (Cohen & Levinthal 1990).
    effective = budget * state.readiness
    embedded = state.adoption == EMBEDDED
    targeted = (embedded @ practices.targets_training) > 0
    gained = allocate_training(state.coverage, effective, targeted)
    state.coverage = np.minimum(1.0, state.coverage + gained) * (1.0 - tr.turnover)
    derive(state, scenario)

    # Disclosed problems are fixed faster than hidden ones (MODEL.md M3). One draw for both
    # kinds: the same numbers as two draws, known problems first.
    n = state.n_trusts
    fixed_both = draws.problems.binomial(np.concatenate((state.known, state.hidden), axis=-1), fix)
    state.known -= fixed_both[..., :n]
    state.hidden -= fixed_both[..., n:]
    fixed = fixed_both[..., :n] + fixed_both[..., n:]
    q = scenario.quality
    state.quality = update_quality(
        state.quality,
        state.capability,
        state.energy,
        fixed,
        embedded @ practices.benefit,
        per_run(state.pressure),
        q.growth,
        q.fix_gain,
        q.pressure_erosion,
    )
    state.pending += draws.problems.poisson(scenario.problems.rate * (1.0 - state.quality))


# ---------------------------------------------------------------------------------------------
# 4. Trust; 5. safety and posture
# ---------------------------------------------------------------------------------------------


def update_relations(state: State, scenario: Scenario, ix: Interactions) -> None:
    """Trust after the month's interactions, asymmetric, with drift where there was none (M1)."""
    td = scenario.trust_dynamics
    state.relations.update(
        ix.positive,
        ix.negative,
        ix.contact,
        ix.cross_totals(),
        td.gain,
        td.loss_ratio,
        td.drift,
    )


def update_safety_and_posture(state: State, scenario: Scenario, ix: Interactions) -> None:
    """Safety after the month's responses and attendance, then posture and gaming (M4, M5)."""
    state.safety, state.posture, state.gaming_gap = safety_posture_and_gaming(
        state.safety,
        state.safety_baseline,
        state.gaming_gap,
        state.relations.trust_in_regulator(),
        state.level,
        state.energy,
        ix.supportive,
        ix.punitive,
        ix.attended,
        scenario,
    )


# ---------------------------------------------------------------------------------------------
# 6. Learning
# ---------------------------------------------------------------------------------------------


def exposures(state: State, ix: Interactions, threshold: float) -> Int:
    """Trusted exposures per trust and practice this month, from every kind of encounter (M7).

    Encounters within regions (block layout), across regions (pairs) and over all trusts (a
    board spanning regions) cover different pairs, so their counts add up.
    """
    relations = state.relations
    adopters = state.adoption > NOT_ADOPTED
    found = []
    if ix.encounters:
        trusted = relations.dense()[..., 1:, 1:] >= threshold
        found.append(trusted_exposures(ix.encounters, trusted, adopters))
    if ix.block_encounters:
        at = relations.layout.trust_places
        trusted_blocks = relations.blocks >= threshold
        found.append(block_exposures(ix.block_encounters, trusted_blocks, adopters, at))
    if ix.pair_encounters:
        j = np.concatenate([e[0] for e in ix.pair_encounters])
        i = np.concatenate([e[1] for e in ix.pair_encounters])
        trusted_pairs = relations.trusted(j + 1, i + 1) >= threshold
        told = np.concatenate([e[2][e[1]] for e in ix.pair_encounters])
        found.append(pair_exposures(j, i, trusted_pairs, told, adopters))
    if not found:
        return np.zeros(adopters.shape, dtype=np.int64)
    return found[0] if len(found) == 1 else np.add.reduce(found)


def learn_practices(
    state: State, scenario: Scenario, practices: Practices, draws: Draws, exposed: Int, month: int
) -> None:
    """Adoption after trusted exposures (complex contagion), maturing, abandonment (M7)."""
    ad = scenario.adoption
    adopters = state.adoption > NOT_ADOPTED
    readiness, energy_ = state.readiness[:, None], state.energy[..., None]
    # Both streams are drawn every month, whatever happens, to stay aligned across runs.
    u_adopt = draws.adoption.random(adopters.shape[-2:])
    u_drop = draws.abandonment.random(adopters.shape[-2:])
    # (Each step below is skipped when it cannot change anything: no exposures, no adopters,
    # nobody implementing. The draws above are made regardless.)
    if np.count_nonzero(exposed):
        hazard = adoption_hazard(readiness, energy_, exposed, practices.complexity, ad.p1, ad.p2)
        new = ~adopters & (u_adopt < hazard)
        if np.count_nonzero(new):
            state.adoption[new] = EMBEDDED if ad.implementation_months == 0 else IMPLEMENTING
            state.adopted_month[new] = month
    if not np.count_nonzero(adopters):
        return
    drop_hazard = abandonment_hazard(
        readiness, energy_, ad.abandonment, state.mandated, ad.mandate_abandonment_multiplier
    )
    # Nothing is abandoned in the month it was taken up.
    dropped = adopters & (state.adopted_month < month) & (u_drop < drop_hazard)
    implementing = adopters & (state.adoption == IMPLEMENTING)
    if np.count_nonzero(implementing):
        matured = (
            implementing & (month - state.adopted_month >= ad.implementation_months) & ~dropped
        )
        state.adoption[matured] = EMBEDDED
    if np.count_nonzero(dropped):
        state.adoption[dropped] = NOT_ADOPTED
        state.adopted_month[dropped] = -1
        state.mandated[dropped] = False


# ---------------------------------------------------------------------------------------------
# 7. Regulator learning
# ---------------------------------------------------------------------------------------------


def regulator_learning(state: State, scenario: Scenario, ix: Interactions) -> None:
    """ρ moves with the month's board exchanges and pressure (M10)."""
    reg = scenario.regulator
    state.orientation = learn_orientation(
        state.orientation,
        ix.board_positive_share,
        state.pressure,
        state.compact == CompactState.IN_FORCE,
        reg.learning_rate,
        reg.pressure_sensitivity,
    )


# ---------------------------------------------------------------------------------------------
# The month
# ---------------------------------------------------------------------------------------------


class Kernel:
    """A scenario's months, stepped on a state with any leading axes.

    Holds what the steps need besides the state: the scenario's constants, the rule in force
    and the draws. Both drivers build one and call :meth:`step` once a month.

    Args:
        scenario: The scenario.
        state: The state at month 0 (:func:`relsim.model.state.initial_state`).
        draws: The draws, with the state's leading axes.
    """

    def __init__(self, scenario: Scenario, state: State, draws: Draws) -> None:
        if draws.lead != state.lead:
            raise ValueError(f"draws lead {draws.lead} for a state of lead {state.lead}")
        self.scenario = scenario
        self.state = state
        self.draws = draws
        self.practices = Practices.of(scenario)
        pr = scenario.problems
        self.fix = np.repeat([pr.fix_disclosed, pr.fix_hidden], state.n_trusts)
        """Probability that a known, then a hidden, problem is fixed in a month, per trust."""
        self.shocks: tuple[Shock, ...] = tuple(
            (s.month, s.magnitude, s.duration) for s in scenario.pressure.shocks
        )
        self.changes = {c.month: c.mode for c in scenario.governance.changes}
        self.rule: GovernanceRule = self.install(scenario.governance.mode)
        self.interactions = Interactions(state.relations.layout, state.lead)
        """The last month's interactions (empty at month 0)."""
        self.exposures: Int = np.zeros(state.adoption.shape, dtype=np.int64)
        """Trusted exposures per trust and practice in the last month (M7)."""
        scripted_practices(state, scenario, self.practices, 0)
        derive(state, scenario)
        state.posture = posture_of(
            state.relations.trust_in_regulator(), state.level, state.energy, scenario
        )

    def install(self, mode: str) -> GovernanceRule:
        """Put the rule ``mode`` in force (month 0, or a scripted change of rule)."""
        rule = GOVERNANCE[mode](self.scenario)
        rule.start(self.state)
        self.state.mode = mode
        return rule

    def step(self, month: int) -> Interactions:
        """Advance one month, in the order given in the module docstring."""
        state, scenario, draws = self.state, self.scenario, self.draws
        move_pressure(state, scenario, draws, self.shocks, month)
        if month in self.changes:
            self.rule = self.install(self.changes[month])
        scripted_practices(state, scenario, self.practices, month)
        improvement_work(state, scenario, self.practices, draws, self.fix)
        ix = self.rule.govern(state, draws, month)
        if ix.layout is not state.relations.layout and ix.layout != state.relations.layout:
            raise ValueError(
                f"{self.rule!r} returned interactions for another system; build them with "
                "Interactions(state.relations.layout, state.lead)"
            )
        update_relations(state, scenario, ix)
        update_safety_and_posture(state, scenario, ix)
        self.exposures = exposures(state, ix, scenario.adoption.trust_threshold)
        learn_practices(state, scenario, self.practices, draws, self.exposures, month)
        regulator_learning(state, scenario, ix)
        self.interactions = ix
        return ix
