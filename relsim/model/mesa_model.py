"""The regulation model: a regulator and NHS trusts whose trust evolves under a governance rule.

See MODEL.md (and docs/ODD.md) for the specification; each mechanism lives in
:mod:`relsim.model.mechanisms` and each governance style in :mod:`relsim.model.governance`.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from relsim.model.agents import Convener, ImprovementPartner, Regulator, Trust
from relsim.model.governance import GOVERNANCE, GovernanceRule, Interactions
from relsim.model.mechanisms import (
    CompactState,
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
from relsim.model.recording import History, MonthlyCollector, trust_snapshot
from relsim.model.state import EMBEDDED, IMPLEMENTING, MAX_LEVEL, NOT_ADOPTED, State, initial_state
from relsim.model.streams import Streams, binomial, poisson
from relsim.scenario import MAX_MONTHS, Scenario, load_scenario

#: What a run keeps: every table (``"full"``), or the model-level monthly series only.
RECORD_MODES = ("full", "months")


class RegulationModel(mesa.Model):
    """A regulator, NHS trusts and an improvement partner, month by month.

    Each month (``step``) runs in this fixed order (MODEL.md §3):

    1. **Environment**: pressure moves (M2); scripted events apply: pressure shocks, the
       partner's arrival or exit, practices introduced by their origin trust, mandates, and
       changes of governance rule.
    2. **Improvement work** inside each trust: training from the partner and internal trainers
       is allocated across departments (with or without the heat map) and staff turnover
       erodes it (M8); capability, energy (M9) and true quality follow; known and hidden
       problems get fixed and new problems arise (M3).
    3. **Governance**: the active rule (:mod:`relsim.model.governance`) produces the month's
       interactions: reviews or board meetings, disclosures and the regulator's responses
       (M3-M6), surprises, peer encounters and showcases, and the compact's progress.
    4. **Trust update** from the month's interactions, asymmetric (M1); pairs with no contact
       drift toward their initial trust.
    5. **Psychological safety and posture**: supportive responses and board attendance raise
       safety, punitive ones lower it; postures are derived and gaming follows (M4, M5).
    6. **Learning**: trusts adopt practices after trusted exposures (M7), implementation
       matures, and some adopters abandon.
    7. **Regulator learning**: the relational orientation ρ moves with the month (M10).
    8. **Data collection**: model-level reporters (``datacollector``) and per-trust, per-
       department and per-pair history (``history``).

    Month 0 is the initial state; ``step`` number t produces month t, and the model sets
    ``running = False`` at the scenario's horizon, so ``mesa.batch_run`` can drive it.

    Args:
        scenario: A :class:`~relsim.scenario.schema.Scenario`, a path to a scenario file, or the
            name of a bundled scenario; ``None`` gives the defaults.
        rng: Seed or generator; all randomness comes from it, through one independent stream
            per mechanism (:mod:`relsim.model.streams`).
        record: ``"full"`` keeps per-trust, per-department and per-pair history for the run's
            tables; ``"months"`` keeps only the model-level series (faster, for sweeps).
        **overrides: Scenario overrides, with ``__`` for a dot:
            ``governance__mode="hierarchical"``.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        rng: Any = None,
        record: str = "full",
        **overrides: Any,
    ) -> None:
        if record not in RECORD_MODES:
            raise ValueError(f"record: expected one of {', '.join(RECORD_MODES)} (got {record!r})")
        super().__init__(rng=rng)
        dotted = {key.replace("__", "."): value for key, value in overrides.items()}
        self.config: Scenario = load_scenario(scenario, dotted, override_source="overrides")
        """The resolved relsim scenario (Mesa's own ``model.scenario`` holds only the seed)."""
        self.streams = Streams(self.rng)
        modes = {self.config.governance.mode, *(c.mode for c in self.config.governance.changes)}
        conveners = any(GOVERNANCE[mode].uses_conveners for mode in modes)
        self.state: State = initial_state(self.config, self.streams.setup, conveners=conveners)
        self.months = self.config.months

        practices = self.config.practices
        self._targets_training = np.array([p.targets_training for p in practices], dtype=float)
        self._benefit = np.array([p.benefit for p in practices], dtype=float)
        self._complexity = np.array([p.complexity for p in practices], dtype=np.int64)
        n_trusts = len(self.config.trusts)
        pr = self.config.problems
        self._fix_probability = np.repeat([pr.fix_disclosed, pr.fix_hidden], n_trusts)
        index = {name: i for i, name in enumerate(self.config.trust_names)}
        self._origin = np.array([index[p.origin] for p in practices], dtype=np.int64)
        self._shocks = tuple(
            (s.month, s.magnitude, s.duration) for s in self.config.pressure.shocks
        )
        self._changes = {c.month: c.mode for c in self.config.governance.changes}

        self.regulator = Regulator(self)
        self.trusts = [Trust(self, i, name) for i, name in enumerate(self.config.trust_names)]
        regions = self.config.region_names
        self.conveners = (
            [Convener(self, r, name) for r, name in enumerate(regions)] if conveners else []
        )
        partner = self.config.partner
        self.partner = ImprovementPartner(self, partner.name) if partner.enabled else None

        self.rule: GovernanceRule = self._install_rule(self.config.governance.mode)
        self.interactions = Interactions(self.state.relations.layout)
        """The last month's interactions (empty at month 0)."""
        self.exposures = np.zeros(self.state.adoption.shape, dtype=np.int64)
        """Trusted exposures per trust and practice in the last month (M7)."""
        self._scripted_events(0)
        self._derive(0)

        self.history = History(self.config, self.state.relations.layout, full=(record == "full"))
        self.datacollector = MonthlyCollector(self.config)
        self.snapshot = np.empty(0)
        """This month's per-trust state, fields × trusts (see :mod:`relsim.model.recording`)."""
        self.snapshot_sums: list[float] = []
        """Sums over trusts of each snapshot field, for the model-level reporters."""
        self.snapshot_means: list[float] = []
        """Means over trusts of each snapshot field, for the model-level reporters."""
        self.adopter_counts: list[int] = []
        """Trusts that have adopted each practice (implementing or embedded)."""
        self._record(0)

    # -----------------------------------------------------------------------------------------
    # The monthly loop
    # -----------------------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one month, in the order given in the class docstring."""
        month = self.steps
        self._environment(month)
        self._improvement_work(month)
        ix = self.rule.govern(self.state, self.streams, month)
        self._update_trust(ix)
        self._update_safety_and_posture(ix)
        self._learning(ix, month)
        self._regulator_learning(ix)
        self.interactions = ix
        self._record(month)
        if month >= self.months:
            self.running = False

    def apply_shock(self, magnitude: float, duration: int) -> int:
        """Add a pressure shock that starts next month, as a scenario's scripted shock would (M2).

        For interactive use, such as the dashboard's "pressure shock now" button: the shock is
        added to this model only, not to ``config``, so a run's recorded scenario does not
        show it.

        Args:
            magnitude: Pressure added while the shock lasts.
            duration: Months the shock lasts (at least 1).

        Returns:
            The first month of the shock.
        """
        whole = isinstance(duration, numbers.Integral) and not isinstance(duration, bool)
        if not (whole and 1 <= duration <= MAX_MONTHS):
            raise ValueError(
                f"duration: expected a whole number of months from 1 to {MAX_MONTHS} "
                f"(got {duration!r})"
            )
        if not (isinstance(magnitude, numbers.Real) and -10 <= magnitude <= 10):
            # NaN fails the comparison too; the bounds are those of pressure.shocks[].magnitude.
            raise ValueError(f"magnitude: expected a number from -10 to 10 (got {magnitude!r})")
        start = self.steps + 1
        self._shocks = (*self._shocks, (start, float(magnitude), int(duration)))
        return start

    def _environment(self, month: int) -> None:
        st, p = self.state, self.config.pressure
        noise = float(self.streams.pressure.standard_normal())
        st.latent_pressure = step_pressure(
            st.latent_pressure, p.baseline, p.reversion, p.volatility, noise
        )
        st.pressure = pressure_level(st.latent_pressure, active_shock(month, self._shocks))
        self._scripted_events(month)

    def _scripted_events(self, month: int) -> None:
        """Governance changes, the partner's presence, practice introductions and mandates."""
        st = self.state
        if month in self._changes:
            self.rule = self._install_rule(self._changes[month])
        partner = self.config.partner
        st.partner_active = partner.enabled and partner.start_month <= month < partner.end_month
        for k, practice in enumerate(self.config.practices):
            if practice.introduced_month == month:
                origin = self._origin[k]
                if st.adoption[origin, k] == NOT_ADOPTED:
                    st.adoption[origin, k] = EMBEDDED
                    st.adopted_month[origin, k] = month
            if practice.mandated_month == month:
                # A mandate is adopted at once by everyone, but shallowly (MODEL.md M5).
                new = st.adoption[:, k] == NOT_ADOPTED
                st.adoption[new, k] = IMPLEMENTING
                st.adopted_month[new, k] = month
                st.mandated[new, k] = True

    def _install_rule(self, mode: str) -> GovernanceRule:
        rule = GOVERNANCE[mode](self.config)
        rule.start(self.state)
        self.state.mode = mode
        return rule

    def _improvement_work(self, month: int) -> None:
        st, sc = self.state, self.config
        tr = sc.training
        budget = internal_training(st.capability, tr.internal_rate, tr.internal_threshold)
        if st.partner_active:
            budget = budget + sc.partner.training_capacity
        # Absorptive capacity: readier trusts turn the same training into more coverage
        # (Cohen & Levinthal 1990).
        effective = budget * st.readiness
        embedded = st.adoption == EMBEDDED
        targeted = (embedded @ self._targets_training) > 0
        gained = allocate_training(st.coverage, effective, targeted)
        st.coverage = np.minimum(1.0, st.coverage + gained) * (1.0 - tr.turnover)
        self._derive(month)

        pr = sc.problems
        draw = self.streams.problems
        # Disclosed problems are fixed faster than hidden ones (MODEL.md M3). One draw for both
        # kinds: the same numbers as two draws, known problems first.
        n = st.n_trusts
        fixed_both = binomial(draw, np.concatenate((st.known, st.hidden)), self._fix_probability)
        st.known -= fixed_both[:n]
        st.hidden -= fixed_both[n:]
        fixed = fixed_both[:n] + fixed_both[n:]
        benefit = embedded @ self._benefit
        q = sc.quality
        st.quality = update_quality(
            st.quality,
            st.capability,
            st.energy,
            fixed,
            benefit,
            st.pressure,
            q.growth,
            q.fix_gain,
            q.pressure_erosion,
        )
        st.pending += poisson(draw, pr.rate * (1.0 - st.quality))

    def _derive(self, month: int) -> None:
        """Capability and energy follow from coverage, enforcement and pressure."""
        st, sc = self.state, self.config
        st.capability = capability(st.coverage, sc.training.capability_coverage)
        st.energy = energy(
            st.level, st.pressure, sc.energy.level_weight, sc.energy.pressure_weight, MAX_LEVEL
        )
        if month == 0:
            st.posture = self._classify()

    def _update_trust(self, ix: Interactions) -> None:
        td = self.config.trust_dynamics
        layout = self.state.relations.layout
        if ix.layout is not layout and ix.layout != layout:
            raise ValueError(
                f"{self.rule!r} returned interactions for another system; build them with "
                "Interactions(state.relations.layout)"
            )
        self.state.relations.update(
            ix.positive,
            ix.negative,
            ix.contact,
            ix.cross_totals(),
            td.gain,
            td.loss_ratio,
            td.drift,
        )

    def _update_safety_and_posture(self, ix: Interactions) -> None:
        st = self.state
        st.safety, st.posture, st.gaming_gap = safety_posture_and_gaming(
            st.safety,
            st.safety_baseline,
            st.gaming_gap,
            st.relations.trust_in_regulator(),
            st.level,
            st.energy,
            ix.supportive,
            ix.punitive,
            ix.attended,
            self.config,
        )

    def _classify(self) -> np.ndarray:
        st = self.state
        return posture_of(st.relations.trust_in_regulator(), st.level, st.energy, self.config)

    def _learning(self, ix: Interactions, month: int) -> None:
        st, ad = self.state, self.config.adoption
        adopters = st.adoption > NOT_ADOPTED
        if st.relations.layout.identity and not ix.block_encounters:
            # One network whose encounters are over all trusts (the shared board).
            trusted = st.relations.blocks[0, 1:, 1:] >= ad.trust_threshold
            self.exposures = trusted_exposures(ix.encounters, trusted, adopters)
        else:
            self.exposures = self._exposures(ix, adopters, ad.trust_threshold)

        readiness, energy_ = st.readiness[:, None], st.energy[:, None]
        # Both streams are drawn every month, whatever happens, to stay aligned across runs.
        u_adopt = self.streams.adoption.random(adopters.shape)
        u_drop = self.streams.abandonment.random(adopters.shape)
        # (Each step below is skipped when it cannot change anything: no exposures, no
        # adopters, nobody implementing. The draws above are made regardless.)
        if np.count_nonzero(self.exposures):
            hazard = adoption_hazard(
                readiness, energy_, self.exposures, self._complexity[None, :], ad.p1, ad.p2
            )
            new = ~adopters & (u_adopt < hazard)
            if np.count_nonzero(new):
                st.adoption[new] = EMBEDDED if ad.implementation_months == 0 else IMPLEMENTING
                st.adopted_month[new] = month
        if not np.count_nonzero(adopters):
            return
        drop_hazard = abandonment_hazard(
            readiness, energy_, ad.abandonment, st.mandated, ad.mandate_abandonment_multiplier
        )
        # Nothing is abandoned in the month it was taken up.
        dropped = adopters & (st.adopted_month < month) & (u_drop < drop_hazard)
        implementing = adopters & (st.adoption == IMPLEMENTING)
        if np.count_nonzero(implementing):
            matured = (
                implementing & (month - st.adopted_month >= ad.implementation_months) & ~dropped
            )
            st.adoption[matured] = EMBEDDED
        if np.count_nonzero(dropped):
            st.adoption[dropped] = NOT_ADOPTED
            st.adopted_month[dropped] = -1
            st.mandated[dropped] = False

    def _exposures(self, ix: Interactions, adopters: np.ndarray, threshold: float) -> np.ndarray:
        """Trusted exposures per trust and practice this month, from every kind of encounter.

        Encounters within regions (block layout) and across regions (pairs) cover different
        pairs of trusts, so their counts add up; a rule whose encounters span the whole
        system (one shared board) gives them over all trusts.
        """
        relations = self.state.relations
        layout = relations.layout
        exposures = None
        if ix.encounters:
            trusted = relations.dense()[1:, 1:] >= threshold  # a view with one region
            exposures = trusted_exposures(ix.encounters, trusted, adopters)
        if ix.block_encounters:
            found = block_exposures(
                ix.block_encounters,
                relations.blocks >= threshold,
                adopters,
                layout.region,
                layout.position,
            )
            exposures = found if exposures is None else exposures + found
        if ix.pair_encounters:
            j = np.concatenate([e[0] for e in ix.pair_encounters])
            i = np.concatenate([e[1] for e in ix.pair_encounters])
            trusted = relations.trusted(j + 1, i + 1) >= threshold
            told = [e[2][e[1]] for e in ix.pair_encounters]
            found = pair_exposures(j, i, trusted, np.concatenate(told), adopters)
            exposures = found if exposures is None else exposures + found
        if exposures is None:
            return np.zeros(adopters.shape, dtype=np.int64)
        return exposures

    def _regulator_learning(self, ix: Interactions) -> None:
        st, reg = self.state, self.config.regulator
        st.orientation = learn_orientation(
            st.orientation,
            ix.board_positive_share,
            st.pressure,
            st.compact is CompactState.IN_FORCE,
            reg.learning_rate,
            reg.pressure_sensitivity,
        )

    def _record(self, month: int) -> None:
        st = self.state
        self.snapshot = trust_snapshot(st, self.interactions, self.history.snapshot_row(month))
        sums = np.add.reduce(self.snapshot, axis=1)
        self.snapshot_sums = sums.tolist()
        self.snapshot_means = (sums / st.n_trusts).tolist()
        self.adopter_counts = np.add.reduce(st.adoption > NOT_ADOPTED, axis=0).tolist()
        self.history.record(month, st)
        self.datacollector.collect(self)
