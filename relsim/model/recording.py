"""What a run records: monthly columns through Mesa's DataCollector, and per-trust history.

Model-level series (one row a month, the columns of :func:`relsim.model.columns.month_columns`)
go through a ``mesa.DataCollector`` (:class:`Recorder`) whose reporters are generated from that
table: named callables, not lambdas, so a model can be pickled to a worker. Per-trust,
per-department and per-pair state is copied each month into preallocated numpy arrays
(:class:`History`), which is much cheaper than agent reporters and is turned into tidy tables
once, at the end. Per-trust columns that follow from other recorded state (trust from the trust
matrix, mean coverage and its dispersion from the heat map) are derived then, for all months at
once, not every month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from relsim.model.columns import (
    FIELD,
    PYTHON_TYPES,
    SNAPSHOT_FIELDS,
    MonthColumn,
    month_columns,
    month_values,
    summed,
    trust_snapshot,
)
from relsim.model.mechanisms import COMPACT_NAMES, POSTURE_NAMES, coefficient_of_variation
from relsim.model.relations import Layout
from relsim.model.state import ADOPTION_NAMES, State, region_indices
from relsim.scenario import Scenario

if TYPE_CHECKING:
    from relsim.model.mesa_model import RegulationModel

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


def python_value(value: Any) -> Any:
    """A NumPy scalar or 0-d array as the Python scalar Mesa's collector keeps."""
    return value.item() if isinstance(value, np.ndarray | np.generic) else value


class Reporter:
    """Mesa model reporter of one monthly column, computed from the model's state as it is now.

    The :class:`Recorder` does not call it (it computes every column at once); it is what
    ``datacollector.model_reporters`` holds, for code that asks for one column's current value.
    """

    def __init__(self, column: MonthColumn) -> None:
        self.column = column

    def __call__(self, model: RegulationModel) -> Any:
        """The column's value for the model's current month."""
        column, state, ix = self.column, model.state, model.interactions
        if column.value is not None:
            return python_value(column.value(state, ix, model.steps))
        values = month_values((), state, ix, model.steps, trust_snapshot(state, ix))
        source = {"mean": values.means, "total": values.totals, "adopters": values.adopters}
        return python_value(source[column.source][column.index])

    def __repr__(self) -> str:
        return f"Reporter({self.column.name!r})"


def model_reporters(scenario: Scenario) -> dict[str, Reporter]:
    """Reporters for ``mesa.DataCollector``: the columns of ``months.csv``, in order."""
    return {column.name: Reporter(column) for column in month_columns(scenario)}


class Recorder(mesa.DataCollector):
    """What a run records: its monthly columns (as Mesa's DataCollector) and its history.

    It collects exactly what ``mesa.DataCollector`` would with the reporters of
    :func:`model_reporters` (``mesa.batch_run`` and ``get_model_vars_dataframe`` work
    unchanged), but computes the month's per-trust snapshot once, for every column and for the
    history, instead of once per reporter, and keeps Python scalars without Mesa's defensive
    deep copy.

    Args:
        scenario: The scenario being run.
        layout: Where per-pair state is stored (the model's ``state.relations.layout``).
        full: Keep per-trust, per-department and per-pair history (else only the monthly
            columns).
    """

    def __init__(self, scenario: Scenario, layout: Layout, *, full: bool) -> None:
        self.columns = month_columns(scenario)
        super().__init__(model_reporters=model_reporters(scenario))
        self.history = History(scenario, layout, full=full)
        """Per-trust, per-department and per-pair state, month by month."""
        vars_ = self.model_vars
        self._run = [
            (vars_[c.name], c.value, PYTHON_TYPES[c.dtype]) for c in self.columns if c.value
        ]
        self._summed = [(vars_[c.name], c.source, c.index) for c in self.columns if not c.value]

    def collect(self, model: mesa.Model) -> None:
        """Record this month: the snapshot, the history and one value of every column."""
        month, state, ix = model.steps, model.state, model.interactions
        snapshot = trust_snapshot(state, ix, self.history.snapshot_row(month))
        self.history.record(month, state)
        means, totals, adopters = summed(state, snapshot)
        by_source = {
            "mean": means.tolist(),
            "total": totals.tolist(),
            "adopters": adopters.tolist(),
        }
        self._collection_steps.append(model.time)
        for column, value, python_type in self._run:
            column.append(python_type(value(state, ix, month)))
        for column, source, index in self._summed:
            column.append(by_source[source][index])


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


class SeriesRecorder:
    """The monthly columns of R replications stepped together, from the same column table.

    The batched driver's counterpart of :class:`Recorder`: each month it takes the same
    snapshot and the same values, with a leading replication axis, and at the end gives each
    replication's series as Python scalars, as Mesa's collector keeps them.
    """

    def __init__(self, scenario: Scenario, reps: int) -> None:
        self.columns = month_columns(scenario)
        self.reps = reps
        self.series: dict[str, list[np.ndarray]] = {c.name: [] for c in self.columns}

    def record(self, state: State, ix: Any, month: int) -> None:
        """Record this month of every replication."""
        values = month_values(self.columns, state, ix, month, trust_snapshot(state, ix))
        by_source = {"mean": values.means, "total": values.totals, "adopters": values.adopters}
        run = iter(values.run)
        lead = (self.reps,)
        for column in self.columns:
            if column.source == "run":
                value = np.broadcast_to(next(run), lead)
            else:
                value = by_source[column.source][:, column.index]
            self.series[column.name].append(value)

    def split(self) -> list[dict[str, list[Any]]]:
        """Each replication's series, column by column, as Python scalars."""
        stacked = {name: np.stack(values, axis=1) for name, values in self.series.items()}
        return [{name: s[r].tolist() for name, s in stacked.items()} for r in range(self.reps)]
