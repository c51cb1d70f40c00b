"""The world's state as numpy arrays, owned by the model.

Per-trust state is a vector with one entry per trust, per-department state a trusts × departments
matrix, and per-pair state is trust between actors, where actor 0 is the regulator and actor
``1 + i`` is trust ``i``, stored by :class:`~relsim.model.relations.Relations` in one dense block
per region plus a sparse store of the pairs that meet across regions. Agents
(:mod:`relsim.model.agents`) are thin views on a row of these arrays, so the mechanisms can update
every trust at once and the model scales to hundreds of trusts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from relsim.model.mechanisms import Bool, Float, Int, capability
from relsim.model.relations import REGULATOR, Layout, Relations
from relsim.scenario import Scenario

#: Adoption states of a practice in a trust.
NOT_ADOPTED, IMPLEMENTING, EMBEDDED = 0, 1, 2
ADOPTION_NAMES: tuple[str, ...] = ("none", "implementing", "embedded")

__all__ = ["REGULATOR", "State", "initial_state"]

#: Highest enforcement level (special measures).
MAX_LEVEL = 5


@dataclass(slots=True)
class State:
    """Everything that changes during a run.

    Arrays are indexed by trust (and practice, department, board) unless noted, after the
    leading axes ``lead``: none for one run, ``(R,)`` for R replications stepped together.
    Per-run quantities (pressure, the regulator's orientation, the network's compact) have shape
    ``lead``: for one run, 0-d arrays or NumPy scalars. Per-board arrays have one entry per board
    of the governance rule in force (one for a shared board, one per region for regional
    boards); the rule sizes them when it takes over (:meth:`GovernanceRule.start`).
    """

    lead: tuple[int, ...]
    relations: Relations
    """Directed trust between actors (regulator, trusts, conveners) and its initial values,
    toward which pairs without contact drift."""
    readiness: Float
    """Readiness per trust (no leading axes: the same in every replication)."""
    safety: Float
    safety_baseline: Float
    """Each trust's initial safety, toward which safety drifts (no leading axes)."""
    coverage: Float
    """Training coverage per trust and department: the heat map."""
    capability: Float
    energy: Float
    quality: Float
    gaming_gap: Float
    pending: Int
    """Problems that arose since the trust's last governance contact."""
    known: Int
    """Disclosed (or surfaced) problems not yet fixed."""
    hidden: Int
    """Problems the trust did not disclose."""
    level: Int
    """Enforcement level, 0 (none) to 5 (special measures)."""
    posture: np.ndarray
    adoption: np.ndarray
    """Adoption state per trust and practice: 0 none, 1 implementing, 2 embedded."""
    adopted_month: Int
    mandated: Bool
    meeting_value: Float
    """Remembered value of past board meetings, per trust."""
    region: Int
    """Region of each trust (an index into the scenario's ``region_names``; no leading axes)."""
    compact_of: np.ndarray
    """State of the compact of the board each trust sits on (a :class:`CompactState` code)."""
    board_compact: np.ndarray
    """Per board: state of its compact."""
    board_months_negotiating: Int
    """Per board: months its compact has been negotiated since negotiation (re)started."""
    board_compact_month: Int
    """Per board: first month its compact was in force (-1: not yet)."""
    board_pending_repair: Bool
    """Per board: a breach of its compact awaits a repair conversation at the next meeting."""
    board_norm: Float
    """Per board: attendance norm (the last meeting's attendance rate)."""
    latent_pressure: Float
    pressure: Float
    orientation: Float
    """The regulator's relational orientation ρ."""
    compact: np.ndarray
    """The network's compact: its board's, or under regional boards the state at least half of
    the boards have reached."""
    compact_month: Int
    """First month the network's compact was in force (-1: not yet)."""
    partner_active: bool = False
    """Whether the improvement partner works with the trusts this month (scheduled: the same in
    every replication)."""
    mode: str = ""
    """Name of the governance rule in force this month."""

    @property
    def n_trusts(self) -> int:
        """Number of trusts."""
        return int(self.readiness.shape[-1])

    @property
    def reported_quality(self) -> Float:
        """Quality as reported to the regulator: true quality plus the gaming gap."""
        return np.minimum(1.0, self.quality + self.gaming_gap)

    @property
    def trust(self) -> Float:
        """The directed trust matrix over the regulator and trusts, (N+1)² (conveners left out).

        For small systems, inspection and tests; the model itself reads :attr:`relations`,
        whose size grows with the pairs that meet rather than with N². With one region it is
        a view on the stored block.
        """
        return self.relations.dense()

    @property
    def peer_trust(self) -> Float:
        """Trust among trusts only (the trust matrix without the regulator)."""
        return self.trust[..., 1:, 1:]

    def size_boards(self, n_boards: int, initial_norm: float) -> None:
        """One entry per board in the per-board arrays, every compact at none.

        The attendance norm is the group's habit: it carries over a change of rule that keeps
        the number of boards, and starts at ``initial_norm`` for boards that are new.
        """
        lead = self.lead
        self.board_compact = np.zeros((*lead, n_boards), dtype=np.int8)
        self.board_months_negotiating = np.zeros((*lead, n_boards), dtype=np.int64)
        self.board_compact_month = np.full((*lead, n_boards), -1, dtype=np.int64)
        self.board_pending_repair = np.zeros((*lead, n_boards), dtype=bool)
        if self.board_norm.shape[-1] != n_boards:
            self.board_norm = np.full((*lead, n_boards), initial_norm)


def per_run(value: Float) -> Float:
    """A value with one entry per run (shape ``lead``), shaped to broadcast over trusts.

    ``value`` is a NumPy array or scalar; one run's value (0-d) broadcasts as it is, and stays a
    scalar, for which NumPy's arithmetic is cheapest.
    """
    return value if value.ndim == 0 else value[..., None]


def region_indices(scenario: Scenario) -> Int:
    """Each trust's region as an index into ``scenario.region_names``."""
    index = {name: r for r, name in enumerate(scenario.region_names)}
    return np.array([index[t.region] for t in scenario.trusts], dtype=np.int64)


def initial_coverage(scenario: Scenario, rng: np.random.Generator) -> Float:
    """Coverage per trust and department at month 0, drawn from ``rng``.

    Every department is drawn uniformly from ``training.initial_coverage``; a trust with its own
    ``initial_coverage`` has its row rescaled to that mean (the same relative spread).
    """
    lo, hi = scenario.training.initial_coverage
    n = len(scenario.trusts)
    coverage = rng.uniform(lo, hi, size=(n, scenario.training.departments))
    if all(t.initial_coverage < 0 for t in scenario.trusts):
        return coverage
    means = np.array([t.initial_coverage for t in scenario.trusts], dtype=float)
    own = means >= 0
    if np.count_nonzero(own):
        middle = (lo + hi) / 2
        if middle > 0:
            coverage[own] *= (means[own] / middle)[:, None]
        else:  # no spread to rescale: every department at the trust's mean
            coverage[own] = means[own][:, None]
        np.clip(coverage, 0.0, 1.0, out=coverage)
    return coverage


def initial_state(
    scenario: Scenario,
    setup: np.random.Generator | Sequence[np.random.Generator],
    *,
    conveners: bool = False,
) -> State:
    """Build the state at month 0 from a scenario, drawing initial coverage from ``setup``.

    Args:
        scenario: The scenario.
        setup: The stream initial coverage is drawn from; a sequence of streams (one per
            replication) gives a state with a leading replication axis.
        conveners: Whether each region has a convener agent (a governance rule of the
            scenario needs them).
    """
    trusts = scenario.trusts
    n = len(trusts)
    if isinstance(setup, np.random.Generator):
        lead: tuple[int, ...] = ()
        coverage = initial_coverage(scenario, setup)
    else:
        lead = (len(setup),)
        coverage = np.stack([initial_coverage(scenario, rng) for rng in setup])
    td = scenario.trust_dynamics
    region = region_indices(scenario)
    relations = Relations(
        Layout.of(region, conveners=conveners),
        regulator_trust=td.initial_regulator_trust,
        peer_trust=td.initial_peer_trust,
        convener_trust=scenario.governance.regional.convener_initial_trust,
        lead=lead,
    )
    safety = np.array([t.safety for t in trusts], dtype=float)
    per_trust = (*lead, n)
    per_practice = (*lead, n, len(scenario.practices))
    baseline = scenario.pressure.baseline
    state = State(
        lead=lead,
        relations=relations,
        readiness=np.array([t.readiness for t in trusts], dtype=float),
        safety=np.broadcast_to(safety, per_trust).copy(),
        safety_baseline=safety,
        coverage=coverage,
        capability=capability(coverage, scenario.training.capability_coverage),
        energy=np.ones(per_trust),
        quality=np.broadcast_to(
            np.array([t.quality for t in trusts], dtype=float), per_trust
        ).copy(),
        gaming_gap=np.zeros(per_trust),
        pending=np.zeros(per_trust, dtype=np.int64),
        known=np.zeros(per_trust, dtype=np.int64),
        hidden=np.zeros(per_trust, dtype=np.int64),
        level=np.zeros(per_trust, dtype=np.int64),
        posture=np.zeros(per_trust, dtype=np.int8),
        adoption=np.zeros(per_practice, dtype=np.int8),
        adopted_month=np.full(per_practice, -1, dtype=np.int64),
        mandated=np.zeros(per_practice, dtype=bool),
        meeting_value=np.full(per_trust, 0.5),
        region=region,
        compact_of=np.zeros(per_trust, dtype=np.int8),
        board_compact=np.zeros((*lead, 1), dtype=np.int8),
        board_months_negotiating=np.zeros((*lead, 1), dtype=np.int64),
        board_compact_month=np.full((*lead, 1), -1, dtype=np.int64),
        board_pending_repair=np.zeros((*lead, 1), dtype=bool),
        board_norm=np.full((*lead, 1), scenario.governance.board.initial_norm),
        latent_pressure=np.full(lead, baseline),
        pressure=np.full(lead, baseline),
        orientation=np.full(lead, scenario.regulator.relational_orientation),
        compact=np.zeros(lead, dtype=np.int8),
        compact_month=np.full(lead, -1, dtype=np.int64),
    )
    return state
