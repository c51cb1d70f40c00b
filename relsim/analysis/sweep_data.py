"""A sweep's finished runs and monthly series, grouped as its figures and report compare them.

:func:`load_sweep` reads a sweep directory and decides the grouping. Every figure compares the
levels of one factor, the *group*: ``governance.mode`` when the experiment varies it, else its
first grid factor, else all runs as one group. Each remaining grid factor splits the runs into
*strata* (rows of panels), so that groups are compared with everything else held fixed, as the
comparison table does; sampled keys are pooled. A :class:`Cell` holds the runs of one group in
one stratum.

The runs table is read whole; the months table never is: :meth:`SweepData.monthly` reads it in
blocks of months (:class:`relsim.runs.store.SweepMonths`, through a scratch folder in the sweep
directory, removed after) and reduces each block per cell, so that memory does not grow with
the number of runs.

This module only reads and groups data; :mod:`relsim.presentation.labels` names the groups and
strata, and :mod:`relsim.presentation.sweep_figures` draws them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from relsim.analysis.contrasts import MODE, stored_level
from relsim.analysis.stats import censored_times
from relsim.analysis.summary import introduction_months
from relsim.atomic import MANIFEST, scratch_directory
from relsim.errors import RelsimError
from relsim.runs.store import (
    POSTERIOR_DRAW,
    SweepMonths,
    posterior_columns,
    read_manifest,
    read_runs,
)
from relsim.scenario import Scenario, scenario_from_dict, with_overrides

#: Strata (rows of panels) at most; with more, the other grid factors are pooled.
MAX_STRATA = 4


class TimeToAdoption(NamedTuple):
    """Months to full adoption of the runs that count, for a Kaplan–Meier estimate."""

    times: np.ndarray
    reached: np.ndarray
    """Whether each run reached every trust (else it is censored at its time)."""
    end: float
    """The longest time (0 when no run counts)."""
    seeds: np.ndarray
    """Each run's seed (the unit of inference)."""


@dataclass(frozen=True)
class Cell:
    """The runs of one group within one stratum."""

    stratum: tuple[tuple[str, Any], ...]
    """The other grid factors' levels, as (dotted key, level)."""
    group: Any
    """The level of the group factor (``None`` when all runs form one group)."""
    index: int
    """The group's position among :meth:`SweepData.group_levels` (its colour in figures)."""
    run_ids: np.ndarray


@dataclass(frozen=True)
class SweepData:
    """A sweep's finished runs and monthly series, and how they are grouped."""

    directory: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    """The successful runs (``status == "ok"``)."""
    months: SweepMonths = field(repr=False)
    """The monthly series, read in blocks (:meth:`monthly`, :meth:`run_series`)."""
    group: str | None
    """The factor whose levels are compared in every panel (None: all runs as one group)."""
    strata: tuple[str, ...]
    """The other grid factors, one row of panels per combination of their levels."""
    pooled: tuple[str, ...]
    """Factors pooled over: sampled keys, and grid factors beyond :data:`MAX_STRATA` rows."""
    failed: int
    scenario: Scenario = field(repr=False)
    """The sweep's base scenario, rebuilt from its manifest."""

    @property
    def name(self) -> str:
        """The experiment's name."""
        return str(self.manifest["experiment"].get("name") or self.directory.name)

    @property
    def practices(self) -> list[str]:
        """Names of the practices in the base scenario, in order."""
        return list(self.scenario.practice_names)

    @property
    def n_trusts(self) -> int:
        """Trusts in the base scenario (see :attr:`trusts_per_run` when a factor changes them)."""
        return len(self.scenario.trusts)

    @cached_property
    def trusts_per_run(self) -> pd.Series:
        """Each finished run's number of trusts, by run id.

        ``population.trusts`` may be a factor (as in the board-size experiment), so the count
        is taken from each design point's scenario, built once per distinct point.
        """
        ids = self.runs["run_id"].to_numpy()
        factors = list(self.manifest["factors"])
        if not any(k.startswith(("population.", "trusts")) for k in factors):
            return pd.Series(self.n_trusts, index=ids, dtype=np.int64)
        counts = np.empty(len(ids), dtype=np.int64)
        for rows in self.runs.groupby(factors, sort=False, dropna=False).indices.values():
            point = point_scenario(self, self.runs.iloc[rows[0]])
            counts[rows] = len(point.trusts)
        return pd.Series(counts, index=ids)

    @property
    def common_trusts(self) -> int | None:
        """The number of trusts when every run has the same, else None."""
        counts = self.trusts_per_run
        return int(counts.iloc[0]) if counts.nunique() == 1 else None

    def levels(self, key: str) -> list[Any]:
        """The levels of a grid factor that finished runs have, in the experiment's order."""
        listed = self.manifest["experiment"]["factors"][key]
        present = set(self.runs[key].tolist())
        return [level for level in listed if stored_level(level) in present]

    def stratum_values(self) -> list[tuple[tuple[str, Any], ...]]:
        """Every combination of the strata's levels that has runs, in the experiment's order."""
        combos = itertools.product(*(self.levels(k) for k in self.strata))
        out = []
        for combo in combos:
            stratum = tuple(zip(self.strata, combo, strict=True))
            if self._mask(stratum).any():
                out.append(stratum)
        return out

    def _mask(self, values: Sequence[tuple[str, Any]]) -> np.ndarray:
        mask = np.ones(len(self.runs), dtype=bool)
        for key, level in values:
            mask &= (self.runs[key] == stored_level(level)).to_numpy()
        return mask

    def group_levels(self) -> list[Any]:
        """The levels compared (``[None]`` when all runs form one group)."""
        return [None] if self.group is None else self.levels(self.group)

    def cells(self) -> list[list[Cell]]:
        """Cells by stratum (rows), each a list of groups in order (columns of a comparison)."""
        rows = []
        for stratum in self.stratum_values():
            row = []
            for index, level in enumerate(self.group_levels()):
                values = [*stratum, *([(self.group, level)] if self.group is not None else [])]
                ids = self.runs.loc[self._mask(values), "run_id"].to_numpy()
                if ids.size:
                    row.append(Cell(stratum, level, index, ids))
            rows.append(row)
        return rows

    def horizon(self, run_ids: np.ndarray) -> np.ndarray:
        """Each run's last month (``scenario.months`` may be a factor)."""
        rows = self.runs.set_index("run_id").loc[run_ids]
        if "scenario.months" in rows:
            return rows["scenario.months"].to_numpy(float)
        return np.full(len(run_ids), float(self.scenario.months))

    def trust_count(self, run_ids: np.ndarray) -> np.ndarray:
        """Each run's number of trusts (``population.trusts`` may be a factor)."""
        return self.trusts_per_run.loc[run_ids].to_numpy()

    @cached_property
    def last_month(self) -> int:
        """The last month any run reached."""
        return self.months.last_month()

    def run_series(self, run_id: int) -> pd.DataFrame:
        """One run's monthly series (the columns of ``months.csv``), in month order."""
        return self.months.read(run_ids=np.array([run_id])).drop(columns="run_id")

    def monthly[T](
        self, columns: Sequence[str], stat: Callable[[pd.DataFrame], T]
    ) -> dict[str, list[list[tuple[np.ndarray, T]]]]:
        """A statistic of each cell's runs × months table of monthly columns, month by month.

        The months table is read in blocks of months, all cells and columns at once, and
        ``stat`` is applied to each cell's block (runs × the block's months, indexed by run
        id); its results are joined along the months. So ``stat`` must treat each month's
        column on its own, as percentiles and means over runs do, and return an array, or a
        tuple or dict of arrays, with one value per month.

        Returns:
            For each column, for each row of :meth:`cells` and each cell in it: the months
            and ``stat``'s result over them.
        """
        cells = self.cells()
        ids = np.concatenate([c.run_ids for row in cells for c in row])
        found: dict[str, list[list[list[tuple[np.ndarray, T]]]]] = {
            column: [[[] for _ in row] for row in cells] for column in columns
        }
        with scratch_directory(self.directory / "months") as scratch:
            try:
                for block in self.months.by_month(columns, scratch=scratch, run_ids=ids):
                    self._reduce(block, cells, columns, stat, found)
            except OSError as exc:  # the blocks are written beside the store: a full disk
                reason = exc.strerror or str(exc)
                raise RelsimError(
                    f"{scratch}: cannot write the months in blocks ({reason})"
                ) from None
        return {
            column: [[_joined(blocks) for blocks in row] for row in by_row]
            for column, by_row in found.items()
        }

    @staticmethod
    def _reduce[T](
        block: pd.DataFrame,
        cells: list[list[Cell]],
        columns: Sequence[str],
        stat: Callable[[pd.DataFrame], T],
        found: dict[str, list[list[list[tuple[np.ndarray, T]]]]],
    ) -> None:
        """Apply ``stat`` to each cell's part of a block of months, for :meth:`monthly`."""
        for r, row in enumerate(cells):
            for k, cell in enumerate(row):
                mine = block[block["run_id"].isin(cell.run_ids)]
                for column in columns:
                    table = mine.pivot(index="run_id", columns="month", values=column)
                    if table.shape[1]:
                        found[column][r][k].append((table.columns.to_numpy(float), stat(table)))

    def seeds(self, run_ids: np.ndarray) -> np.ndarray:
        """Each run's seed: the unit of inference (runs that share one are clustered)."""
        return self.runs.set_index("run_id").loc[run_ids, "seed"].to_numpy()

    def time_to_full_adoption(self, run_ids: np.ndarray, practice: str) -> TimeToAdoption:
        """Months from a practice's introduction to full adoption, whether observed, and the end.

        As in the summary (:func:`relsim.analysis.stats.censored_times`): only runs that lasted
        past the practice's introduction count, and those that never reached every trust are
        censored at their horizon. The end is the longest such run's time (0 when none counts).
        """
        k = self.practices.index(practice)
        base = self.scenario.practices[k].introduced_month
        rows = self.runs.set_index("run_id").loc[run_ids]
        introduced = introduction_months(rows, k, base)
        horizon = self.horizon(run_ids)
        at_risk, times, reached = censored_times(
            rows[f"full_adoption_month_{practice}"].to_numpy(float), horizon, introduced
        )
        end = float((horizon - introduced)[at_risk].max()) if at_risk.any() else 0.0
        return TimeToAdoption(times, reached, end, rows["seed"].to_numpy()[at_risk])


def _joined[T](blocks: list[tuple[np.ndarray, T]]) -> tuple[np.ndarray, T]:
    """Per-block (months, statistic) pairs joined along the months."""
    months = np.concatenate([month for month, _ in blocks])
    parts: list[Any] = [result for _, result in blocks]
    first = parts[0]
    if isinstance(first, dict):
        joined: Any = {key: np.concatenate([p[key] for p in parts]) for key in first}
    elif isinstance(first, tuple):
        joined = tuple(np.concatenate(pieces) for pieces in zip(*parts, strict=True))
    else:
        joined = np.concatenate(parts)
    return months, joined


def load_sweep(directory: Path | str, colour_by: str | None = None) -> SweepData:
    """Read a sweep directory and decide how its runs are grouped.

    Args:
        directory: The sweep directory.
        colour_by: The grid factor whose levels the figures compare in colour (``relsim plot
            --colour-by``); by default ``governance.mode`` when it is varied, else the first
            grid factor.

    Raises:
        RelsimError: if the directory holds no sweep, or no finished run, or ``colour_by`` is
            not one of its grid factors.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    runs = read_runs(directory)
    failed = int((runs["status"] != "ok").sum()) if len(runs) else 0
    runs = runs[runs["status"] == "ok"].reset_index(drop=True) if len(runs) else runs
    if runs.empty:
        raise RelsimError(f"{directory}: the sweep has no finished runs to plot or report")
    months = SweepMonths(directory)
    factors = list(manifest["factors"])
    grid = [f for f in factors if f in manifest["experiment"]["factors"]]
    levels = {key: len(manifest["experiment"]["factors"][key]) for key in grid}
    if colour_by is not None and colour_by not in grid:
        known = ", ".join(grid) if grid else "none: the experiment has no grid factor"
        raise RelsimError(f"--colour-by: {colour_by!r} is not a grid factor of the sweep ({known})")
    group = colour_by or (MODE if MODE in grid else (grid[0] if grid else None))
    if colour_by is None and group == MODE and levels[MODE] <= MAX_STRATA:
        # A factor with too many levels for rows (board_size's eight sizes) would be pooled,
        # hiding what the experiment varies: compare its levels in each panel instead, one row
        # per governance mode.
        wide = [f for f in grid if f != MODE and levels[f] > MAX_STRATA]
        if wide:
            group = wide[0]
            grid = [MODE, *(f for f in grid if f != group and f != MODE)]
    others = [f for f in grid if f != group]
    strata: list[str] = []
    n = 1
    for key in others:  # as many of the other factors as fit in MAX_STRATA rows
        size = levels[key]
        if n * size > MAX_STRATA:
            break
        strata.append(key)
        n *= size
    pooled = tuple(f for f in factors if f != group and f not in strata)
    scenario = scenario_from_dict(manifest["scenario"], source=str(directory / MANIFEST))
    return SweepData(
        directory, manifest, runs, months, group, tuple(strata), pooled, failed, scenario
    )


def point_overrides(data: SweepData, row: pd.Series) -> dict[str, Any]:
    """A run's scenario overrides: its design point and any parameters drawn from a posterior.

    Grid levels are given as the experiment wrote them; the parameter set comes from the runs
    table's columns of a ``[posterior]`` draw.
    """
    grid = data.manifest["experiment"]["factors"]
    drawn = [c for c in posterior_columns(data.manifest) if c != POSTERIOR_DRAW]
    values: dict[str, Any] = {}
    for key in [*data.manifest["factors"], *drawn]:
        stored = row[key]
        if key in grid:
            values[key] = next(level for level in grid[key] if stored_level(level) == stored)
        else:
            values[key] = stored.item() if isinstance(stored, np.generic) else stored
    return values


def point_scenario(data: SweepData, row: pd.Series) -> Scenario:
    """The scenario a run of the sweep ran: the base scenario with its design point."""
    return with_overrides(data.scenario, point_overrides(data, row), "experiment")
