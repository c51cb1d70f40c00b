"""What a run records: model-level reporters for Mesa's DataCollector, and per-trust history.

Model-level series (one row a month) go through ``mesa.DataCollector`` with named reporter
functions (named, not lambdas, so a model can be pickled to a worker). Per-trust, per-department
and per-pair state is copied each month into preallocated numpy arrays (:class:`History`), which
is much cheaper than agent reporters and is turned into tidy tables once, at the end. Per-trust
columns that follow from other recorded state (trust from the trust matrix, mean coverage and
its dispersion from the heat map) are derived then, for all months at once, not every month.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from relsim.model.mechanisms import COMPACT_NAMES, POSTURE_NAMES, coefficient_of_variation
from relsim.model.relations import REGULATOR, Layout
from relsim.model.state import ADOPTION_NAMES, State, region_indices
from relsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from relsim.model.governance import Interactions
    from relsim.model.mesa_model import RegulationModel

# ---------------------------------------------------------------------------------------------
# The per-trust snapshot: one row per field, one column per trust
# ---------------------------------------------------------------------------------------------

#: Per-trust state copied every month (rows of the snapshot), in this order.
SNAPSHOT_FIELDS: tuple[str, ...] = (
    "trust_in_regulator",
    "regulator_trust",
    "peer_trust",
    "safety",
    "capability",
    "energy",
    "true_quality",
    "reported_quality",
    "gaming_gap",
    "known_problems",
    "hidden_problems",
    "enforcement_level",
    "attended",
    "disclosures",
    "surprises",
    "supportive_responses",
    "sanctions",
)
FIELD: dict[str, int] = {name: i for i, name in enumerate(SNAPSHOT_FIELDS)}

#: Numeric per-trust columns of trusts.csv, in order (posture and practices follow as text).
#: Those not in the snapshot are derived from the recorded matrices when the table is built.
TRUST_FIELDS: tuple[str, ...] = (
    "readiness",
    *SNAPSHOT_FIELDS[:3],
    "trusted_by_peers",
    *SNAPSHOT_FIELDS[3:],
    "mean_coverage",
    "coverage_cv",
)

_INTEGER_FIELDS = frozenset(
    {
        "known_problems",
        "hidden_problems",
        "enforcement_level",
        "disclosures",
        "surprises",
        "supportive_responses",
        "sanctions",
    }
)


def off_diagonal_means(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column means of a square block (or a stack of them), leaving out the diagonal.

    For the trusts' block of the trust matrix these are each trust's mean trust in its peers
    and its peers' mean trust in it.
    """
    n = block.shape[-1]
    diagonal = np.diagonal(block, axis1=-2, axis2=-1)
    off = max(n - 1, 1)
    rows = (np.add.reduce(block, axis=-1) - diagonal) / off
    cols = (np.add.reduce(block, axis=-2) - diagonal) / off
    return rows, cols


def trust_snapshot(state: State, ix: Interactions, out: np.ndarray | None = None) -> np.ndarray:
    """This month's per-trust state as a fields × trusts array (rows in ``SNAPSHOT_FIELDS`` order).

    Both tables are built from it: ``trusts.csv`` row by row, and the model-level means and
    totals of ``months.csv`` in one reduction, so the two always agree.

    Args:
        state: The model's state.
        ix: This month's interactions.
        out: Array to write into (e.g. the history's row for this month); a new one if None.
    """
    n = state.n_trusts
    if out is None:
        out = np.empty((len(SNAPSHOT_FIELDS), n))
    relations = state.relations
    if relations.layout.identity:  # one region: the block is the trust matrix
        trust = relations.blocks[0]
        out[0] = trust[1:, REGULATOR]
        out[1] = trust[REGULATOR, 1:]
        peers = trust[1:, 1:]
        out[2] = (np.add.reduce(peers, axis=1) - peers.diagonal()) / max(n - 1, 1)
    else:
        out[0] = relations.trust_in_regulator()
        out[1] = relations.regulator_trust()
        out[2] = relations.layout.peer_means(relations.blocks, columns=False)[0]
    out[3] = state.safety
    out[4] = state.capability
    out[5] = state.energy
    out[6] = state.quality
    out[7] = state.reported_quality
    out[8] = state.gaming_gap
    out[9] = state.known
    out[10] = state.hidden
    out[11] = state.level
    out[12] = ix.attended
    out[13] = ix.disclosures
    out[14] = ix.surprises
    out[15] = ix.supportive
    out[16] = ix.punitive
    return out


# ---------------------------------------------------------------------------------------------
# Model-level reporters (months.csv)
# ---------------------------------------------------------------------------------------------


def month(m: RegulationModel) -> int:
    """Month number; 0 is the initial state."""
    return int(m.steps)


def governance(m: RegulationModel) -> str:
    """Name of the governance rule in force."""
    return m.state.mode


def pressure(m: RegulationModel) -> float:
    """External pressure P_t."""
    return m.state.pressure


def relational_orientation(m: RegulationModel) -> float:
    """The regulator's relational orientation ρ."""
    return m.state.orientation


def compact_state(m: RegulationModel) -> str:
    """State of the compact: none, negotiating or in_force."""
    return COMPACT_NAMES[m.state.compact]


def board_met(m: RegulationModel) -> bool:
    """Whether a board met this month."""
    return m.interactions.board_met


def attendance_rate(m: RegulationModel) -> float:
    """Share of trusts attending the board this month (NaN when no board met)."""
    return m.interactions.attendance_rate


def repairs(m: RegulationModel) -> int:
    """Boards that held a repair conversation this month (0 or 1 with one shared board)."""
    return m.interactions.repairs


def partner_active(m: RegulationModel) -> bool:
    """Whether the improvement partner is active."""
    return m.state.partner_active


def trust_mean(m: RegulationModel, field: int) -> float:
    """Mean over trusts of a per-trust field (a row of the month's snapshot)."""
    return m.snapshot_means[field]


def trust_total(m: RegulationModel, field: int) -> int:
    """Sum over trusts of a per-trust count (a row of the month's snapshot)."""
    return round(m.snapshot_sums[field])


def adopters(m: RegulationModel, k: int) -> int:
    """Trusts that have adopted practice k (implementing or embedded)."""
    return m.adopter_counts[k]


def _mean(name: str) -> Callable[[RegulationModel], float]:
    return partial(trust_mean, field=FIELD[name])


def _total(name: str) -> Callable[[RegulationModel], int]:
    return partial(trust_total, field=FIELD[name])


def model_reporters(scenario: Scenario) -> dict[str, Callable[[RegulationModel], Any]]:
    """Reporters for ``mesa.DataCollector``: the columns of ``months.csv``, in order.

    Named functions and partials only (no lambdas), so that a model can be pickled.
    """
    reporters: dict[str, Callable[[RegulationModel], Any]] = {
        "month": month,
        "governance": governance,
        "pressure": pressure,
        "mean_trust_in_regulator": _mean("trust_in_regulator"),
        "mean_regulator_trust": _mean("regulator_trust"),
        "mean_peer_trust": _mean("peer_trust"),
        "relational_orientation": relational_orientation,
        "compact_state": compact_state,
        "board_met": board_met,
        "attendance_rate": attendance_rate,
        "disclosures": _total("disclosures"),
        "surprises": _total("surprises"),
        "sanctions": _total("sanctions"),
        "supportive_responses": _total("supportive_responses"),
        "repairs": repairs,
        "mean_safety": _mean("safety"),
        "mean_capability": _mean("capability"),
        "mean_energy": _mean("energy"),
        "mean_true_quality": _mean("true_quality"),
        "mean_reported_quality": _mean("reported_quality"),
        "gaming_gap": _mean("gaming_gap"),
        "hidden_problems": _total("hidden_problems"),
        "mean_enforcement_level": _mean("enforcement_level"),
        "partner_active": partner_active,
    }
    for k, name in enumerate(scenario.practice_names):
        reporters[f"adopters_{name}"] = partial(adopters, k=k)
    return reporters


def month_columns(scenario: Scenario) -> list[str]:
    """Column names of the monthly table for a scenario."""
    return list(model_reporters(scenario))


class MonthlyCollector(mesa.DataCollector):
    """Mesa's DataCollector for relsim's model-level reporters.

    It collects exactly as ``mesa.DataCollector`` does, minus the defensive deep copy of each
    value: relsim's reporters return fresh Python scalars, so the copy (a third of collection
    time) protects nothing. ``mesa.batch_run`` and ``get_model_vars_dataframe`` work unchanged.
    The per-trust means and totals and the adopter counts, two thirds of the columns, are read
    straight from the month's snapshot lists, which is what their reporters return, without a
    call per column.
    """

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(model_reporters=model_reporters(scenario))
        self._means: list[tuple[list[Any], int]] = []
        self._totals: list[tuple[list[Any], int]] = []
        self._adopters: list[tuple[list[Any], int]] = []
        self._others: list[tuple[list[Any], Callable[[RegulationModel], Any]]] = []
        for name, reporter in self.model_reporters.items():
            column = self.model_vars[name]
            func = reporter.func if isinstance(reporter, partial) else None
            if func is trust_mean:
                self._means.append((column, reporter.keywords["field"]))
            elif func is trust_total:
                self._totals.append((column, reporter.keywords["field"]))
            elif func is adopters:
                self._adopters.append((column, reporter.keywords["k"]))
            else:
                self._others.append((column, reporter))

    def collect(self, model: mesa.Model) -> None:
        """Append this month's value of every model reporter."""
        self._collection_steps.append(model.time)
        means, sums = model.snapshot_means, model.snapshot_sums
        counts = model.adopter_counts
        for column, reporter in self._others:
            column.append(reporter(model))
        for column, field in self._means:
            column.append(means[field])
        for column, field in self._totals:
            column.append(round(sums[field]))
        for column, k in self._adopters:
            column.append(counts[k])


# ---------------------------------------------------------------------------------------------
# Per-trust, per-department and per-pair history
# ---------------------------------------------------------------------------------------------


class History:
    """Monthly copies of per-trust, per-department and per-pair state in numpy arrays.

    Per-pair state is kept as it is stored (:mod:`relsim.model.relations`): the regional blocks
    every month, and the values of the cross-region pairs that have met, each from its first
    meeting. The history therefore grows with the pairs that meet, not with the square of the
    system. Arrays grow if the model is stepped past its horizon (e.g. in the dashboard).

    Args:
        scenario: The scenario being run.
        layout: Where per-pair state is stored (the model's ``state.relations.layout``); by
            default, the scenario's regions without conveners.
        full: Keep per-trust, per-department and per-pair history (else only the count of
            months recorded).
    """

    def __init__(
        self, scenario: Scenario, layout: Layout | None = None, *, full: bool = True
    ) -> None:
        self.scenario = scenario
        self.full = full
        self.months_recorded = 0
        n = len(scenario.trusts)
        rows = scenario.months + 1
        self.layout = layout if layout is not None else Layout.of(region_indices(scenario))
        self.readiness = np.array([t.readiness for t in scenario.trusts], dtype=float)
        self.regions = np.array([t.region for t in scenario.trusts], dtype=object)
        self.cross_keys: np.ndarray = np.zeros(0, dtype=np.int64)
        """Keys of the cross-region pairs that have met, in the order they first met."""
        self.cross_values: list[np.ndarray] = []
        """Per month, the trust of the cross-region pairs that had met by then."""
        self.cross_baseline = scenario.trust_dynamics.initial_peer_trust
        if full:
            self.trusts = np.zeros((rows, len(SNAPSHOT_FIELDS), n))
            self.posture = np.zeros((rows, n), dtype=np.int8)
            self.compact = np.zeros((rows, n), dtype=np.int8)
            self.adoption = np.zeros((rows, n, len(scenario.practices)), dtype=np.int8)
            self.coverage = np.zeros((rows, n, scenario.training.departments))
            self.blocks = np.zeros((rows, *self.layout.shape))

    def _grow(self, month: int) -> None:
        for name in ("trusts", "posture", "compact", "adoption", "coverage", "blocks"):
            array = getattr(self, name)
            if month >= array.shape[0]:
                extra = np.zeros((array.shape[0], *array.shape[1:]), dtype=array.dtype)
                setattr(self, name, np.concatenate([array, extra]))

    def snapshot_row(self, month: int) -> np.ndarray | None:
        """The array to write this month's snapshot into, or None when not keeping history."""
        if not self.full:
            return None
        if month >= self.trusts.shape[0]:
            self._grow(month)
        return self.trusts[month]

    def record(self, month: int, state: State) -> None:
        """Copy this month's state into the history (the snapshot is already in place)."""
        self.months_recorded = month + 1
        if not self.full:
            return
        self.posture[month] = state.posture
        self.compact[month] = state.compact_of
        self.adoption[month] = state.adoption
        self.coverage[month] = state.coverage
        relations = state.relations
        self.blocks[month] = relations.blocks
        cross = relations.cross
        if cross.keys.size or self.cross_values:
            del self.cross_values[month:]
            while len(self.cross_values) < month:
                self.cross_values.append(np.zeros(0))
            self.cross_values.append(cross.values.copy())
            self.cross_keys = cross.keys

    @property
    def relationships(self) -> np.ndarray:
        """The trust matrix over the regulator and trusts each month, months × (N+1)².

        For small systems (figures, the dashboard, tests): it has the square size that the
        stored history avoids. With one region it is a view on the recorded blocks.
        """
        self._require_full()
        layout = self.layout
        n = layout.n_trusts + 1
        if layout.identity:
            return self.blocks.reshape(self.blocks.shape[0], n, n)
        out = np.stack([layout.scatter(b, self.cross_baseline) for b in self.blocks])
        src, dst = self.cross_keys // layout.n_actors, self.cross_keys % layout.n_actors
        inside = (src < n) & (dst < n)
        for month, values in enumerate(self.cross_values):
            k = values.size
            out[month, src[:k][inside[:k]], dst[:k][inside[:k]]] = values[inside[:k]]
        return out

    def _require_full(self) -> None:
        if not self.full:
            raise ValueError(
                "this run kept only its monthly series (record='months'); run it with "
                "record='full' for per-trust, coverage and relationship tables"
            )

    def field(self, name: str) -> np.ndarray:
        """One numeric per-trust column of ``trusts.csv`` as a months × trusts array."""
        self._require_full()
        m = self.months_recorded
        if name in FIELD:
            return self.trusts[:m, FIELD[name], :]
        if name == "readiness":
            return np.broadcast_to(self.readiness, (m, len(self.readiness)))
        if name == "trusted_by_peers":
            cols = self.layout.peer_means(self.blocks[:m])[1]
            assert cols is not None
            return cols
        if name == "mean_coverage":
            coverage = self.coverage[:m]
            return np.add.reduce(coverage, axis=-1) / coverage.shape[-1]
        if name == "coverage_cv":
            return coefficient_of_variation(self.coverage[:m])
        raise KeyError(name)

    # -----------------------------------------------------------------------------------------
    # Tidy tables
    # -----------------------------------------------------------------------------------------

    def _months(self) -> np.ndarray:
        return np.arange(self.months_recorded)

    def trusts_frame(self) -> pd.DataFrame:
        """Month × trust state: the table written as ``trusts.csv``."""
        self._require_full()
        sc, m = self.scenario, self.months_recorded
        names = sc.trust_names
        n = len(names)
        frame: dict[str, Any] = {
            "month": np.repeat(self._months(), n),
            "trust": np.tile(np.array(names, dtype=object), m),
            "region": np.tile(self.regions, m),
        }
        for field in TRUST_FIELDS:
            column = np.ascontiguousarray(self.field(field)).reshape(-1)
            if field in _INTEGER_FIELDS:
                column = column.astype(np.int64)
            elif field == "attended":
                column = column.astype(bool)
            frame[field] = column
        frame["posture"] = np.array(POSTURE_NAMES, dtype=object)[self.posture[:m].reshape(-1)]
        frame["compact"] = np.array(COMPACT_NAMES, dtype=object)[self.compact[:m].reshape(-1)]
        states = np.array(ADOPTION_NAMES, dtype=object)
        for k, practice in enumerate(sc.practice_names):
            frame[f"practice_{practice}"] = states[self.adoption[:m, :, k].reshape(-1)]
        return pd.DataFrame(frame)

    def coverage_frame(self) -> pd.DataFrame:
        """Month × trust × department coverage: the heat map, written as ``coverage.csv``."""
        self._require_full()
        sc, m = self.scenario, self.months_recorded
        n, d = len(sc.trusts), sc.training.departments
        return pd.DataFrame(
            {
                "month": np.repeat(self._months(), n * d),
                "trust": np.tile(np.repeat(np.array(sc.trust_names, dtype=object), d), m),
                "department": np.tile(np.arange(1, d + 1), m * n),
                "coverage": self.coverage[:m].reshape(-1),
            }
        )

    def relationships_frame(self) -> pd.DataFrame:
        """Month × ordered pair trust: written as ``relationships.csv``.

        Every pair that is stored is written, every month: the regulator with each trust (and
        each convener), the trusts of a region among themselves and with their convener, and
        the pairs of trusts in different regions that met at least once during the run (at
        their initial trust before they first met). Pairs of different regions that never met
        are left out: their trust never left its initial value. Rows are ordered by month,
        then by the actor who trusts and the actor trusted (actor order: regulator, trusts,
        conveners). With one region this is every ordered pair of distinct actors.
        """
        self._require_full()
        if not self.layout.identity:
            return self._stored_relationships_frame()
        sc, m = self.scenario, self.months_recorded
        actors = np.array(["regulator", *sc.trust_names], dtype=object)
        a = len(actors)
        src, dst = np.nonzero(~np.eye(a, dtype=bool))
        pairs = len(src)
        return pd.DataFrame(
            {
                "month": np.repeat(self._months(), pairs),
                "from": np.tile(actors[src], m),
                "to": np.tile(actors[dst], m),
                "trust": self.relationships[:m][:, src, dst].reshape(-1),
            }
        )

    def _stored_relationships_frame(self) -> pd.DataFrame:
        sc, m, layout = self.scenario, self.months_recorded, self.layout
        actors = np.array(layout.actor_names(sc.trust_names, sc.region_names), dtype=object)
        r, p, q = np.nonzero(layout.valid)
        src = np.concatenate((layout.actor_at[r, p], self.cross_keys // layout.n_actors))
        dst = np.concatenate((layout.actor_at[r, q], self.cross_keys % layout.n_actors))
        values = np.full((m, src.size), self.cross_baseline)
        values[:, : r.size] = self.blocks[:m][:, r, p, q]
        for month, cross in enumerate(self.cross_values[:m]):
            values[month, r.size : r.size + cross.size] = cross
        order = np.lexsort((dst, src))
        pairs = order.size
        return pd.DataFrame(
            {
                "month": np.repeat(self._months(), pairs),
                "from": np.tile(actors[src[order]], m),
                "to": np.tile(actors[dst[order]], m),
                "trust": values[:, order].reshape(-1),
            }
        )
