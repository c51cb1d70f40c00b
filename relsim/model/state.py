"""The world's state as numpy arrays, owned by the model.

Per-trust state is a vector with one entry per trust, per-department state a trusts × departments
matrix, and per-pair state is trust between actors, where actor 0 is the regulator and actor
``1 + i`` is trust ``i``, stored by :class:`~relsim.model.relations.Relations` in one dense block
per region plus a sparse store of the pairs that meet across regions. Agents
(:mod:`relsim.model.agents`) are thin views on a row of these arrays, so the mechanisms can update
every trust at once and the model scales to hundreds of trusts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.model.mechanisms import Bool, CompactState, Float, Int, capability
from relsim.model.relations import REGULATOR, Layout, Relations
from relsim.scenario.schema import Scenario

#: Adoption states of a practice in a trust.
NOT_ADOPTED, IMPLEMENTING, EMBEDDED = 0, 1, 2
ADOPTION_NAMES: tuple[str, ...] = ("none", "implementing", "embedded")

__all__ = ["REGULATOR", "State", "initial_state"]

#: Highest enforcement level (special measures).
MAX_LEVEL = 5


@dataclass(slots=True)
class State:
    """Everything that changes during a run. Arrays are indexed by trust unless noted."""

    relations: Relations
    """Directed trust between actors (regulator, trusts, conveners) and its initial values,
    toward which pairs without contact drift."""
    readiness: Float
    safety: Float
    safety_baseline: Float
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
    attended: Bool
    region: Int
    """Region of each trust (an index into the scenario's ``region_names``)."""
    compact_of: np.ndarray
    """State of the compact of the board each trust sits on (a :class:`CompactState` code)."""
    board_compact: np.ndarray
    """Per regional board: state of its compact (regional rules; see ``compact`` for one
    shared board)."""
    board_months_negotiating: Int
    board_compact_month: Int
    board_pending_repair: Bool
    board_norm: Float
    """Per regional board: attendance norm (the last meeting's attendance rate)."""
    latent_pressure: float
    pressure: float
    orientation: float
    """The regulator's relational orientation ρ."""
    attendance_norm: float
    compact: CompactState = CompactState.NONE
    """State of the shared board's compact; under regional boards, the state at least half of
    the regional boards have reached."""
    months_negotiating: int = 0
    compact_month: int = -1
    """First month the compact was in force (-1: not yet)."""
    pending_repair: bool = False
    partner_active: bool = False
    mode: str = ""
    """Name of the governance rule in force this month."""

    @property
    def n_trusts(self) -> int:
        """Number of trusts."""
        return int(self.readiness.shape[0])

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
        return self.trust[1:, 1:]


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
    scenario: Scenario, rng: np.random.Generator, *, conveners: bool = False
) -> State:
    """Build the state at month 0 from a scenario, drawing initial coverage from ``rng``.

    Args:
        scenario: The scenario.
        rng: The stream initial coverage is drawn from.
        conveners: Whether each region has a convener agent (a governance rule of the
            scenario needs them).
    """
    trusts = scenario.trusts
    n = len(trusts)
    td = scenario.trust_dynamics
    region = region_indices(scenario)
    relations = Relations(
        Layout.of(region, conveners=conveners),
        regulator_trust=td.initial_regulator_trust,
        peer_trust=td.initial_peer_trust,
        convener_trust=scenario.governance.regional.convener_initial_trust,
    )
    coverage = initial_coverage(scenario, rng)
    safety = np.array([t.safety for t in trusts], dtype=float)
    n_practices = len(scenario.practices)
    n_regions = relations.layout.n_regions
    norm = scenario.governance.board.initial_norm
    return State(
        relations=relations,
        readiness=np.array([t.readiness for t in trusts], dtype=float),
        safety=safety,
        safety_baseline=safety.copy(),
        coverage=coverage,
        capability=capability(coverage, scenario.training.capability_coverage),
        energy=np.ones(n),
        quality=np.array([t.quality for t in trusts], dtype=float),
        gaming_gap=np.zeros(n),
        pending=np.zeros(n, dtype=np.int64),
        known=np.zeros(n, dtype=np.int64),
        hidden=np.zeros(n, dtype=np.int64),
        level=np.zeros(n, dtype=np.int64),
        posture=np.zeros(n, dtype=np.int8),
        adoption=np.zeros((n, n_practices), dtype=np.int8),
        adopted_month=np.full((n, n_practices), -1, dtype=np.int64),
        mandated=np.zeros((n, n_practices), dtype=bool),
        meeting_value=np.full(n, 0.5),
        attended=np.zeros(n, dtype=bool),
        region=region,
        compact_of=np.zeros(n, dtype=np.int8),
        board_compact=np.zeros(n_regions, dtype=np.int8),
        board_months_negotiating=np.zeros(n_regions, dtype=np.int64),
        board_compact_month=np.full(n_regions, -1, dtype=np.int64),
        board_pending_repair=np.zeros(n_regions, dtype=bool),
        board_norm=np.full(n_regions, norm),
        latent_pressure=scenario.pressure.baseline,
        pressure=scenario.pressure.baseline,
        orientation=scenario.regulator.relational_orientation,
        attendance_norm=scenario.governance.board.initial_norm,
    )
