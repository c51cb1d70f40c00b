"""Replications of one design point, stepped together: the sweep's fast path.

A sweep runs each design point many times with different seeds. :class:`RegulationModel` steps
one run at a time, and for the five trusts of the NHS–VMI case a month is some two hundred
NumPy calls on arrays of five, so a run's cost is almost all call overhead. Here the state of R
replications is held with a leading replication axis, and each month makes the same calls once
for all of them: the arithmetic is shared, and only the random draws stay per replication,
each from that run's own streams (:mod:`relsim.model.streams`) in the order the model draws them.

The result is *the same run*, bit for bit, as :class:`RegulationModel` with ``record="months"``
gives for each seed: every operation is the model's, elementwise, on the same inputs, and
every draw comes from the same stream in the same order. ``tests/test_lockstep.py`` holds the
two to that over many seeds and every bundled scenario it covers; the sweep uses this path only
for scenarios :func:`supports` accepts and falls back to one model per run otherwise.

Covered: one network of trusts (no regions) under the ``hierarchical`` or ``networked`` rule,
without scripted changes of rule. Mechanisms are those of :mod:`relsim.model.mesa_model` and the two
rules (:mod:`relsim.model.governance.hierarchical`, :mod:`relsim.model.governance.networked`); each
step below names the model code it mirrors, which is where its documentation lives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from relsim.model.governance.base import symmetric
from relsim.model.mechanisms import (
    COMPACT_NAMES,
    CompactState,
    abandonment_hazard,
    active_shock,
    adoption_hazard,
    allocate_training,
    attendance_probability,
    board_pair_weights,
    capability,
    disclosure_probability,
    drift_trust,
    energy,
    internal_training,
    next_compact_states,
    posture_of,
    safety_posture_and_gaming,
    step_pressure,
    update_quality,
    update_trust,
)
from relsim.model.recording import (
    SNAPSHOT_FIELDS,
    adopters,
    model_reporters,
    trust_mean,
    trust_total,
)
from relsim.model.relations import REGULATOR, Layout
from relsim.model.state import EMBEDDED, IMPLEMENTING, MAX_LEVEL, NOT_ADOPTED, initial_state
from relsim.model.streams import Streams
from relsim.scenario.schema import Scenario

#: Governance rules this path steps; any other runs one model per run.
RULES = ("hierarchical", "networked")

__all__ = ["RULES", "run_replications", "supports"]


#: Most trusts stepped together: the per-pair arrays hold R·(N+1)² values, and once a month's
#: arrays are that large there is no call overhead left to share (at 400 trusts, one model per
#: run is three times faster and needs a third of the memory).
MAX_TRUSTS = 100


def supports(scenario: Scenario) -> bool:
    """Whether :func:`run_replications` can run this scenario (else: one model per run)."""
    if scenario.governance.mode not in RULES or scenario.governance.changes:
        return False
    return len(scenario.region_names) <= 1 and len(scenario.trusts) <= MAX_TRUSTS


class _Draws:
    """Each replication's streams, drawn in turn into one array with a leading replication axis."""

    def __init__(self, streams: Sequence[Streams], name: str) -> None:
        self.generators = [getattr(s, name) for s in streams]

    def random(self, shape: tuple[int, ...]) -> np.ndarray:
        out = np.empty((len(self.generators), *shape))
        for r, generator in enumerate(self.generators):
            generator.random(shape, out=out[r])
        return out

    def scalar_random(self) -> np.ndarray:
        return np.array([g.random() for g in self.generators])

    def standard_normal(self) -> np.ndarray:
        return np.array([float(g.standard_normal()) for g in self.generators])

    def binomial(self, counts: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Per replication, ``binomial(counts[r], p[r])`` (``p`` per run, or per run and trust).

        Element by element, as :func:`relsim.model.streams.binomial` draws small arrays (and as
        NumPy's array call draws any array, tests/test_streams.py): a zero count draws nothing.
        """
        rows = []
        for generator, ks, q in zip(self.generators, counts.tolist(), p.tolist(), strict=True):
            draw = generator.binomial
            if isinstance(q, float):
                rows.append([draw(k, q) if k else 0 for k in ks])
            else:
                rows.append([draw(k, x) if k else 0 for k, x in zip(ks, q, strict=True)])
        return np.array(rows, dtype=np.int64).reshape(counts.shape)

    def poisson(self, lam: np.ndarray) -> np.ndarray:
        """Per replication, ``poisson(lam[r])``, drawn as :func:`~relsim.model.streams.poisson`."""
        rows = []
        for generator, row in zip(self.generators, lam.tolist(), strict=True):
            draw = generator.poisson
            rows.append([draw(x) for x in row])
        return np.array(rows, dtype=np.int64).reshape(lam.shape)


class _Month:
    """One month's interactions for every replication (mirrors ``Interactions``)."""

    def __init__(self, reps: int, n: int) -> None:
        actors = n + 1
        self.positive = np.zeros((reps, actors, actors))
        self.negative = np.zeros((reps, actors, actors))
        self.contact = np.zeros((reps, actors, actors), dtype=bool)
        self.disclosures = np.zeros((reps, n), dtype=np.int64)
        self.surprises = np.zeros((reps, n), dtype=np.int64)
        self.supportive = np.zeros((reps, n), dtype=np.int64)
        self.punitive = np.zeros((reps, n), dtype=np.int64)
        self.attended = np.zeros((reps, n), dtype=bool)
        self.regulator = np.zeros((reps, 4, n))
        """Rows as ``Interactions._regulator``: trust+, trust-, regulator+, regulator-."""
        self.met: np.ndarray | None = None
        """Peer encounter, as in ``Interactions.encounters``: who met whom (R × N × N)."""
        self.presented: np.ndarray | None = None
        self.board_met = False
        self.attendance_rate = np.full(reps, np.nan)
        self.board_positive_share = np.full(reps, np.nan)
        self.repairs = np.zeros(reps, dtype=np.int64)

    def exchange(self, pair: np.ndarray, weight: Any, good: np.ndarray, neg: float) -> None:
        """``Interactions.exchange`` with one network (``good`` is ``pair & positive``)."""
        self.positive += good * weight
        if neg:
            self.negative += (pair ^ good) * (weight * neg)
        self.contact |= pair

    def finish(self) -> None:
        """``Interactions.finish`` with one network."""
        reg = self.regulator
        touched = np.add.reduce(reg, axis=1) > 0
        self.positive[:, 1:, REGULATOR] += reg[:, 0]
        self.negative[:, 1:, REGULATOR] += reg[:, 1]
        self.positive[:, REGULATOR, 1:] += reg[:, 2]
        self.negative[:, REGULATOR, 1:] += reg[:, 3]
        self.contact[:, 1:, REGULATOR] |= touched
        self.contact[:, REGULATOR, 1:] |= touched


class Lockstep:
    """R replications of one scenario, one seed each, stepped month by month together."""

    def __init__(self, scenario: Scenario, seeds: Sequence[int]) -> None:
        if not supports(scenario):
            raise ValueError(f"{scenario.name!r}: not a scenario the lockstep path covers")
        self.config = sc = scenario
        self.reps = reps = len(seeds)
        self.n = n = len(sc.trusts)
        streams = [Streams(np.random.default_rng(seed)) for seed in seeds]
        self.draws = {name: _Draws(streams, name) for name in _STREAMS[sc.governance.mode]}
        states = [initial_state(sc, s.setup) for s in streams]
        first = states[0]
        self.readiness: np.ndarray = first.readiness
        self.safety_baseline: np.ndarray = first.safety_baseline
        self.safety: np.ndarray = np.stack([s.safety for s in states])
        self.coverage: np.ndarray = np.stack([s.coverage for s in states])
        self.capability: np.ndarray = np.stack([s.capability for s in states])
        self.energy: np.ndarray = np.ones((reps, n))
        self.quality: np.ndarray = np.stack([s.quality for s in states])
        self.gaming_gap: np.ndarray = np.zeros((reps, n))
        self.pending: np.ndarray = np.zeros((reps, n), dtype=np.int64)
        self.known: np.ndarray = np.zeros((reps, n), dtype=np.int64)
        self.hidden: np.ndarray = np.zeros((reps, n), dtype=np.int64)
        self.level: np.ndarray = np.zeros((reps, n), dtype=np.int64)
        k = len(sc.practices)
        self.adoption: np.ndarray = np.zeros((reps, n, k), dtype=np.int8)
        self.adopted_month: np.ndarray = np.full((reps, n, k), -1, dtype=np.int64)
        self.mandated: np.ndarray = np.zeros((reps, n, k), dtype=bool)
        self.meeting_value: np.ndarray = np.full((reps, n), 0.5)
        self.trust: np.ndarray = np.stack([s.relations.blocks[0] for s in states])
        self.trust_baseline: np.ndarray = first.relations.baseline[0]
        self.latent_pressure: np.ndarray = np.full(reps, first.latent_pressure)
        self.pressure: np.ndarray = np.full(reps, first.pressure)
        self.orientation: np.ndarray = np.full(reps, first.orientation)
        self.attendance_norm: np.ndarray = np.full(reps, first.attendance_norm)
        self.months_negotiating: np.ndarray = np.zeros(reps, dtype=np.int64)
        self.compact_month: np.ndarray = np.full(reps, -1, dtype=np.int64)
        self.pending_repair: np.ndarray = np.zeros(reps, dtype=bool)
        self.partner_active = False
        networked = sc.governance.mode == "networked"
        start = (
            CompactState.NEGOTIATING
            if networked and sc.governance.compact.enabled
            else CompactState.NONE
        )
        self.compact: np.ndarray = np.full(reps, int(start), dtype=np.int64)
        self.govern = self._networked if networked else self._hierarchical
        self.layout = Layout.single(n)

        practices = sc.practices
        self._targets_training = np.array([p.targets_training for p in practices], dtype=float)
        self._benefit = np.array([p.benefit for p in practices], dtype=float)
        self._complexity = np.array([p.complexity for p in practices], dtype=np.int64)
        pr = sc.problems
        self._fix_probability: np.ndarray = np.repeat([pr.fix_disclosed, pr.fix_hidden], n)
        index = {name: i for i, name in enumerate(sc.trust_names)}
        self._origin = [index[p.origin] for p in practices]
        self._shocks = tuple((s.month, s.magnitude, s.duration) for s in sc.pressure.shocks)

        # The model's reporters say which columns are means, totals and adopter counts.
        reporters = model_reporters(sc)
        self.columns = list(reporters)
        self.series: dict[str, list[np.ndarray]] = {c: [] for c in self.columns}
        self._means = _fields(reporters, trust_mean, "field")
        self._totals = _fields(reporters, trust_total, "field")
        self._adopters = _fields(reporters, adopters, "k")
        self._scripted_events(0)
        self._derive()
        self.posture = self._classify()
        self._record(0, _Month(reps, n))

    # -- the month, in RegulationModel.step's order --------------------------------------------

    def run(self) -> list[dict[str, list[Any]]]:
        """Step to the horizon; each replication's monthly series, as the model's collector."""
        for month in range(1, self.config.months + 1):
            self._environment(month)
            self._improvement_work(month)
            ix = self.govern(month)
            self._update_trust(ix)
            self._update_safety_and_posture(ix)
            self._learning(ix, month)
            self._regulator_learning(ix)
            self._record(month, ix)
        return self._split()

    def _environment(self, month: int) -> None:
        """``RegulationModel._environment``."""
        p = self.config.pressure
        noise = self.draws["pressure"].standard_normal()
        self.latent_pressure = step_pressure(
            self.latent_pressure, p.baseline, p.reversion, p.volatility, noise
        )
        self.pressure = np.maximum(0.0, self.latent_pressure + active_shock(month, self._shocks))
        self._scripted_events(month)

    def _scripted_events(self, month: int) -> None:
        """``RegulationModel._scripted_events`` (changes of rule are not covered)."""
        partner = self.config.partner
        self.partner_active = partner.enabled and partner.start_month <= month < partner.end_month
        for k, practice in enumerate(self.config.practices):
            if practice.introduced_month == month:
                origin = self._origin[k]
                new = self.adoption[:, origin, k] == NOT_ADOPTED
                self.adoption[new, origin, k] = EMBEDDED
                self.adopted_month[new, origin, k] = month
            if practice.mandated_month == month:
                new = self.adoption[:, :, k] == NOT_ADOPTED
                self.adoption[:, :, k][new] = IMPLEMENTING
                self.adopted_month[:, :, k][new] = month
                self.mandated[:, :, k][new] = True

    def _improvement_work(self, month: int) -> None:
        """``RegulationModel._improvement_work``."""
        sc = self.config
        tr = sc.training
        reps, n = self.reps, self.n
        budget = internal_training(self.capability, tr.internal_rate, tr.internal_threshold)
        if self.partner_active:
            budget = budget + sc.partner.training_capacity
        effective = budget * self.readiness
        embedded = self.adoption == EMBEDDED
        targeted = (embedded @ self._targets_training) > 0
        # Per trust, row by row: the replications' trusts are rows like any others.
        depts = self.coverage.shape[-1]
        gained = allocate_training(
            self.coverage.reshape(reps * n, depts),
            effective.reshape(reps * n),
            targeted.reshape(reps * n),
        ).reshape(reps, n, depts)
        self.coverage = np.minimum(1.0, self.coverage + gained) * (1.0 - tr.turnover)
        self._derive()

        draws = self.draws["problems"]
        fixed_both = draws.binomial(
            np.concatenate((self.known, self.hidden), axis=1),
            np.broadcast_to(self._fix_probability, (reps, 2 * n)),
        )
        self.known -= fixed_both[:, :n]
        self.hidden -= fixed_both[:, n:]
        fixed = fixed_both[:, :n] + fixed_both[:, n:]
        benefit = embedded @ self._benefit
        q = sc.quality
        self.quality = update_quality(
            self.quality,
            self.capability,
            self.energy,
            fixed,
            benefit,
            self.pressure[:, None],
            q.growth,
            q.fix_gain,
            q.pressure_erosion,
        )
        self.pending += draws.poisson(sc.problems.rate * (1.0 - self.quality))

    def _derive(self) -> None:
        """``RegulationModel._derive``."""
        sc = self.config
        self.capability = capability(self.coverage, sc.training.capability_coverage)
        self.energy = energy(
            self.level,
            self.pressure[:, None],
            sc.energy.level_weight,
            sc.energy.pressure_weight,
            MAX_LEVEL,
        )

    def _supportive(self, buffer: np.ndarray | float) -> np.ndarray:
        """``supportive_probability`` per replication."""
        raw = self.orientation * (1.0 - self.pressure * (1.0 - buffer))
        return np.minimum(1.0, np.maximum(0.0, raw))

    # -- governance rules -----------------------------------------------------------------------

    def _hierarchical(self, month: int) -> _Month:
        """``Hierarchical.govern`` with one network."""
        h = self.config.governance.hierarchical
        n = self.n
        ix = _Month(self.reps, n)
        contact = self.draws["peer_contact"]
        u_meet = contact.random((1, n, n))
        u_valence = contact.random((1, n, n))
        p_supportive = self._supportive(0.0)
        severity = 1.0 + self.level / MAX_LEVEL
        self._disclose(
            ix, self.pending.copy(), p_supportive, (1.0 - p_supportive)[:, None] * severity
        )
        met_target = self._reported_quality() >= h.quality_target
        good = h.review_weight * met_target
        bad = h.review_weight * ~met_target
        ix.regulator[:, 0] += good
        ix.regulator[:, 1] += bad
        ix.regulator[:, 2] += good
        ix.regulator[:, 3] += bad
        self._surface(ix, p_supportive)
        escalate = ~met_target | (ix.punitive > 0)
        self.level = np.clip(self.level + np.where(escalate, 1, -1), 0, MAX_LEVEL)

        meet = symmetric(u_meet, h.peer_contact_rate)[:, 0]
        positive = symmetric(u_valence, h.peer_positive_probability)[:, 0]
        pair = np.zeros(ix.positive.shape, dtype=bool)
        pair[:, 1:, 1:] = meet
        full_positive = np.zeros_like(pair)
        full_positive[:, 1:, 1:] = positive
        ix.exchange(pair, np.float64(h.peer_weight), pair & full_positive, 1.0)
        ix.met, ix.presented = meet, self.adoption > 0
        ix.finish()
        return ix

    def _networked(self, month: int) -> _Month:
        """``Networked.govern``: the shared board of the regulator and every trust."""
        gov = self.config.governance
        n = self.n
        ix = _Month(self.reps, n)
        self._advance_compact(month)
        in_force = self.compact == CompactState.IN_FORCE
        p_supportive = self._supportive(np.where(in_force, gov.compact.buffer, 0.0))
        u_attend = self.draws["attendance"].random((n,))
        u_pairs = self.draws["board"].random((n + 1, n + 1))
        u_show = self.draws["showcase"].random(self.adoption.shape[1:])
        u_repair = self.draws["repair"].scalar_random()
        if (month - 1) % gov.board.meeting_interval_months == 0:
            self._meet(ix, p_supportive, in_force, u_attend, u_pairs, u_show)
        self._surface(ix, p_supportive)
        # Repairs are scalar per run; the model computes them in Python floats, so do we.
        rp = 1.0 - gov.compact.repair_probability
        breaches = np.add.reduce(ix.punitive, axis=1) + np.add.reduce(ix.surprises, axis=1)
        for r in np.flatnonzero(in_force).tolist():
            p_repair = 1.0 - rp ** int(breaches[r])
            self.pending_repair[r] = self.pending_repair[r] or u_repair[r] < p_repair
        ix.finish()
        return ix

    def _advance_compact(self, month: int) -> None:
        """``Networked._advance_compact``, for every replication's compact at once."""
        compact = self.config.governance.compact
        state = self.compact
        negotiating = state == CompactState.NEGOTIATING
        self.months_negotiating = np.where(
            negotiating, self.months_negotiating + 1, self.months_negotiating
        )
        moves = (state != CompactState.NONE) & ~(
            negotiating & (self.months_negotiating < compact.negotiation_months)
        )
        if not np.count_nonzero(moves):
            return
        new = next_compact_states(
            state,
            self.months_negotiating,
            self._mean_trust(),
            compact.negotiation_months,
            compact.threshold,
            compact.lapse_threshold,
        )
        new = np.where(moves, new, state)
        entered = (new == CompactState.IN_FORCE) & (state != CompactState.IN_FORCE)
        self.compact_month = np.where(entered & (self.compact_month < 0), month, self.compact_month)
        lapsed = (new == CompactState.NEGOTIATING) & (state == CompactState.IN_FORCE)
        self.months_negotiating = np.where(lapsed, 0, self.months_negotiating)
        self.compact = new

    def _mean_trust(self) -> np.ndarray:
        """``Relations.mean_trust`` with one network."""
        trust = self.trust
        actors = trust.shape[-1]
        total = np.add.reduce(trust.reshape(self.reps, -1), axis=-1)
        trace = np.add.reduce(np.diagonal(trust, axis1=1, axis2=2), axis=-1)
        return (total - trace) / (actors * (actors - 1))

    def _meet(
        self,
        ix: _Month,
        p_supportive: np.ndarray,
        in_force: np.ndarray,
        u_attend: np.ndarray,
        u_pairs: np.ndarray,
        u_show: np.ndarray,
    ) -> None:
        """``Networked._meet``: attendance, exchanges, frank talk, showcases and repairs."""
        board = self.config.governance.board
        compact = self.config.governance.compact
        n = self.n
        attend = u_attend < attendance_probability(
            self.meeting_value,
            self.attendance_norm[:, None],
            board.attendance_intercept,
            board.attendance_value_weight,
            board.attendance_norm_weight,
        )
        present = np.concatenate((np.ones((self.reps, 1), dtype=bool), attend), axis=1)
        attendees = np.count_nonzero(present, axis=1)
        weight = board_pair_weights(board.hours, attendees, board.pair_hours_scale)[:, None, None]
        pi = np.where(in_force, compact.positive_probability, board.positive_probability)
        pair = present[:, :, None] & present[:, None, :] & ~np.eye(n + 1, dtype=bool)
        good = pair & symmetric(u_pairs, pi[:, None, None])
        ix.exchange(pair, weight, good, board.negative_weight)

        partners = attendees - 1
        good_counts = np.add.reduce(good, axis=2)
        v = board.value_memory
        share = good_counts[:, 1:] / np.maximum(partners, 1)[:, None]
        updated = attend & (partners > 0)[:, None]
        self.meeting_value = np.where(
            updated, (1 - v) * self.meeting_value + v * share, self.meeting_value
        )
        ix.board_met = True
        ix.attended = attend
        ix.attendance_rate = self.attendance_norm = partners / n
        ix.board_positive_share = np.where(
            partners > 0,
            np.count_nonzero(good, axis=(1, 2)) / np.maximum(attendees * partners, 1),
            np.nan,
        )

        p_board = 1.0 - (1.0 - p_supportive) * (1.0 - board.protection)
        pending = np.where(attend, self.pending, 0)
        self._disclose(ix, pending, p_board, (1.0 - p_board)[:, None] * 1.0)

        presented = (self.adoption > 0) & attend[:, :, None] & (u_show < board.showcase_probability)
        ix.met, ix.presented = pair[:, 1:, 1:], presented

        repair = self.pending_repair
        if np.count_nonzero(repair):
            mended = pair & repair[:, None, None]
            ix.exchange(mended, weight, mended, 0.0)
            ix.repairs = repair.astype(np.int64)
            self.pending_repair = np.zeros(self.reps, dtype=bool)

    # -- problems meeting a regulator (governance.base) -----------------------------------------

    def _disclose(
        self,
        ix: _Month,
        at_contact: np.ndarray,
        p_supportive: np.ndarray,
        expected_sanction: np.ndarray,
    ) -> None:
        """``disclose``: problems at a governance contact disclosed or hidden; responses follow."""
        if not np.count_nonzero(at_contact):
            return
        pr = self.config.problems
        p_disclose = disclosure_probability(
            self.safety,
            self.trust[:, 1:, REGULATOR],
            expected_sanction,
            pr.disclosure_intercept,
            pr.disclosure_safety,
            pr.disclosure_trust,
            pr.disclosure_sanction,
        )
        disclosed = self.draws["disclosure"].binomial(at_contact, p_disclose)
        self.hidden += at_contact - disclosed
        self.known += disclosed
        self.pending -= at_contact
        ix.disclosures += disclosed
        ix.regulator[:, 2] += self.config.regulator.disclosure_credit * disclosed
        self._respond(ix, disclosed, p_supportive)

    def _surface(self, ix: _Month, p_supportive: np.ndarray) -> None:
        """``surface``: hidden problems surface as surprises, and the regulator responds."""
        surfaced = self.draws["surprises"].binomial(
            self.hidden, np.full(self.reps, self.config.problems.surface_probability)
        )
        if not np.count_nonzero(surfaced):
            return
        self.hidden -= surfaced
        self.known += surfaced
        ix.surprises += surfaced
        weight = self.config.problems.surprise_weight * surfaced
        ix.regulator[:, 1] += weight
        ix.regulator[:, 3] += weight
        self._respond(ix, surfaced, p_supportive)

    def _respond(self, ix: _Month, counts: np.ndarray, p_supportive: np.ndarray) -> None:
        """``respond``: each event met supportively or punitively."""
        supportive = self.draws["response"].binomial(counts, p_supportive)
        punitive = counts - supportive
        reg = self.config.regulator
        ix.regulator[:, 0] += reg.supportive_weight * supportive
        ix.regulator[:, 1] += reg.punitive_weight * punitive
        ix.supportive += supportive
        ix.punitive += punitive

    # -- after governance -----------------------------------------------------------------------

    def _update_trust(self, ix: _Month) -> None:
        """``Relations.update`` with one network."""
        td = self.config.trust_dynamics
        trust = update_trust(self.trust, ix.positive, ix.negative, td.gain, td.loss_ratio)
        self.trust = drift_trust(trust, self.trust_baseline, td.drift, ix.contact)

    def _update_safety_and_posture(self, ix: _Month) -> None:
        """``RegulationModel._update_safety_and_posture``."""
        self.safety, self.posture, self.gaming_gap = safety_posture_and_gaming(
            self.safety,
            self.safety_baseline,
            self.gaming_gap,
            self.trust[:, 1:, REGULATOR],
            self.level,
            self.energy,
            ix.supportive,
            ix.punitive,
            ix.attended,
            self.config,
        )

    def _classify(self) -> np.ndarray:
        return posture_of(self.trust[:, 1:, REGULATOR], self.level, self.energy, self.config)

    def _reported_quality(self) -> np.ndarray:
        return np.minimum(1.0, self.quality + self.gaming_gap)

    def _learning(self, ix: _Month, month: int) -> None:
        """``RegulationModel._learning``: adoption after trusted exposures, maturing, abandoning."""
        ad = self.config.adoption
        adopters = self.adoption > NOT_ADOPTED
        if ix.met is not None and ix.presented is not None:
            seen = ix.met & (self.trust[:, 1:, 1:] >= ad.trust_threshold)
            told = ix.presented & adopters
            exposures = np.matmul(seen.astype(np.int64), told.astype(np.int64))
        else:
            exposures = np.zeros(adopters.shape, dtype=np.int64)
        readiness, energy_ = self.readiness[:, None], self.energy[:, :, None]
        u_adopt = self.draws["adoption"].random(adopters.shape[1:])
        u_drop = self.draws["abandonment"].random(adopters.shape[1:])
        if np.count_nonzero(exposures):
            hazard = adoption_hazard(
                readiness, energy_, exposures, self._complexity[None, :], ad.p1, ad.p2
            )
            new = ~adopters & (u_adopt < hazard)
            self.adoption[new] = EMBEDDED if ad.implementation_months == 0 else IMPLEMENTING
            self.adopted_month[new] = month
        if not np.count_nonzero(adopters):
            return
        drop_hazard = abandonment_hazard(
            readiness, energy_, ad.abandonment, self.mandated, ad.mandate_abandonment_multiplier
        )
        dropped = adopters & (self.adopted_month < month) & (u_drop < drop_hazard)
        implementing = adopters & (self.adoption == IMPLEMENTING)
        matured = implementing & (month - self.adopted_month >= ad.implementation_months) & ~dropped
        self.adoption[matured] = EMBEDDED
        self.adoption[dropped] = NOT_ADOPTED
        self.adopted_month[dropped] = -1
        self.mandated[dropped] = False

    def _regulator_learning(self, ix: _Month) -> None:
        """``learn_orientation`` per replication."""
        reg = self.config.regulator
        rho = self.orientation
        share = ix.board_positive_share
        rho = np.where(np.isnan(share), rho, rho + reg.learning_rate * (share - rho))
        in_force = self.compact == CompactState.IN_FORCE
        rho = np.where(in_force, rho, rho - reg.pressure_sensitivity * self.pressure * rho)
        self.orientation = np.minimum(1.0, np.maximum(0.0, rho))

    # -- recording (recording.trust_snapshot and the model-level reporters) ---------------------

    def _record(self, month: int, ix: _Month) -> None:
        reps, n = self.reps, self.n
        snapshot = np.empty((reps, len(SNAPSHOT_FIELDS), n))
        trust = self.trust
        snapshot[:, 0] = trust[:, 1:, REGULATOR]
        snapshot[:, 1] = trust[:, REGULATOR, 1:]
        peers = trust[:, 1:, 1:]
        snapshot[:, 2] = (
            np.add.reduce(peers, axis=2) - np.diagonal(peers, axis1=1, axis2=2)
        ) / max(n - 1, 1)
        snapshot[:, 3] = self.safety
        snapshot[:, 4] = self.capability
        snapshot[:, 5] = self.energy
        snapshot[:, 6] = self.quality
        snapshot[:, 7] = self._reported_quality()
        snapshot[:, 8] = self.gaming_gap
        snapshot[:, 9] = self.known
        snapshot[:, 10] = self.hidden
        snapshot[:, 11] = self.level
        snapshot[:, 12] = ix.attended
        snapshot[:, 13] = ix.disclosures
        snapshot[:, 14] = ix.surprises
        snapshot[:, 15] = ix.supportive
        snapshot[:, 16] = ix.punitive
        sums = np.add.reduce(snapshot, axis=2)
        means = sums / n
        totals = np.rint(sums).astype(np.int64)
        counts = np.add.reduce(self.adoption > NOT_ADOPTED, axis=1)
        put = self.series
        put["month"].append(np.full(reps, month))
        put["governance"].append(np.full(reps, self.config.governance.mode, dtype=object))
        put["pressure"].append(self.pressure)
        put["relational_orientation"].append(self.orientation)
        put["compact_state"].append(np.array(COMPACT_NAMES, dtype=object)[self.compact])
        put["board_met"].append(np.full(reps, ix.board_met))
        put["attendance_rate"].append(ix.attendance_rate)
        put["repairs"].append(ix.repairs)
        put["partner_active"].append(np.full(reps, self.partner_active))
        for column, field in self._means:
            put[column].append(means[:, field])
        for column, field in self._totals:
            put[column].append(totals[:, field])
        for column, k in self._adopters:
            put[column].append(counts[:, k])

    def _split(self) -> list[dict[str, list[Any]]]:
        """Each replication's series, column by column, as Python scalars (as Mesa keeps them)."""
        stacked = {c: np.stack(self.series[c], axis=1) for c in self.columns}
        return [{c: stacked[c][r].tolist() for c in self.columns} for r in range(self.reps)]


#: Streams each rule draws from (the others are never made).
_STREAMS = {
    "hierarchical": (
        "pressure", "problems", "disclosure", "response", "surprises", "peer_contact",
        "adoption", "abandonment",
    ),
    "networked": (
        "pressure", "problems", "disclosure", "response", "surprises", "attendance", "board",
        "showcase", "repair", "adoption", "abandonment",
    ),
}  # fmt: skip


def _fields(
    reporters: dict[str, Callable[..., Any]], func: Callable[..., Any], keyword: str
) -> list[tuple[str, int]]:
    """The columns whose reporter is ``partial(func, keyword=i)``, with their ``i``."""
    return [
        (column, reporter.keywords[keyword])
        for column, reporter in reporters.items()
        if isinstance(reporter, partial) and reporter.func is func
    ]


def run_replications(scenario: Scenario, seeds: Sequence[int]) -> list[dict[str, list[Any]]]:
    """Run ``scenario`` once per seed, all together; each run's monthly series.

    Each element equals ``RegulationModel(scenario, rng=seed, record="months")``'s
    ``datacollector.model_vars`` after ``run_model()``: the same columns, the same values.
    """
    return Lockstep(scenario, seeds).run()
