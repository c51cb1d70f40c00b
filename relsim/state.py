"""The world's state as numpy arrays, owned by the model.

Per-trust state is a vector with one entry per trust, per-department state a trusts × departments
matrix, and per-pair state a matrix over actors, where actor 0 is the regulator and actor
``1 + i`` is trust ``i``. Agents (:mod:`relsim.agents`) are thin views on a row of these arrays,
so the mechanisms can update every trust at once and the model scales to hundreds of trusts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.mechanisms import Bool, CompactState, Float, Int, capability
from relsim.scenario import Scenario

#: Adoption states of a practice in a trust.
NOT_ADOPTED, IMPLEMENTING, EMBEDDED = 0, 1, 2
ADOPTION_NAMES: tuple[str, ...] = ("none", "implementing", "embedded")

#: Index of the regulator in the trust matrix; trust ``i`` is actor ``1 + i``.
REGULATOR = 0

#: Highest enforcement level (special measures).
MAX_LEVEL = 5


@dataclass(slots=True)
class State:
    """Everything that changes during a run. Arrays are indexed by trust unless noted."""

    trust: Float
    """Directed trust matrix over actors (regulator + trusts): ``trust[i, j]`` is how much i
    trusts j."""
    trust_baseline: Float
    """Initial trust matrix; pairs without contact drift back toward it."""
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
    latent_pressure: float
    pressure: float
    orientation: float
    """The regulator's relational orientation ρ."""
    attendance_norm: float
    compact: CompactState = CompactState.NONE
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
    def peer_trust(self) -> Float:
        """Trust among trusts only (a view on the trust matrix without the regulator)."""
        return self.trust[1:, 1:]


def initial_state(scenario: Scenario, rng: np.random.Generator) -> State:
    """Build the state at month 0 from a scenario, drawing initial coverage from ``rng``."""
    trusts = scenario.trusts
    n = len(trusts)
    n_actors = n + 1
    td = scenario.trust_dynamics
    trust = np.full((n_actors, n_actors), td.initial_peer_trust)
    trust[REGULATOR, :] = td.initial_regulator_trust
    trust[:, REGULATOR] = td.initial_regulator_trust
    np.fill_diagonal(trust, 1.0)
    lo, hi = scenario.training.initial_coverage
    coverage = rng.uniform(lo, hi, size=(n, scenario.training.departments))
    safety = np.array([t.safety for t in trusts], dtype=float)
    n_practices = len(scenario.practices)
    return State(
        trust=trust,
        trust_baseline=trust.copy(),
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
        latent_pressure=scenario.pressure.baseline,
        pressure=scenario.pressure.baseline,
        orientation=scenario.regulator.relational_orientation,
        attendance_norm=scenario.governance.board.initial_norm,
    )
