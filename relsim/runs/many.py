"""Many runs from Python, as one tidy table: ``relsim.simulate_many``.

``simulate_many(scenario, seeds=20, grid={"governance.mode": ["hierarchical", "networked"]})``
runs every combination of the grid's levels with every seed, through the sweep's own machinery
(:func:`relsim.runs.runner.run_chunk`, which steps a design point's replications together where
:mod:`relsim.model.batch` can, on the executors of :mod:`relsim.runs.executors`), and returns
the runs (one row each, the sweep's runs table) and their monthly series, each with factor,
seed and replication columns, in memory: nothing is written. For a sweep that must survive a
kill or run on a cluster, write an experiment and use ``relsim sweep``.

Replication r of every grid point runs with the same seed (common random numbers), so a
difference between points is a paired comparison; ``relsim.summarize(many)``
(:func:`relsim.analysis.summary.summarize`) summarises and compares them as ``relsim summarize``
does a sweep, with the seed as the unit of inference.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.runs.executors import make_executor
from relsim.runs.experiment import Experiment, RunSpec, design_points, expand, grid_experiment
from relsim.runs.progress import Progress, Silent, make_progress
from relsim.runs.runner import TASK_RUNS, chunk_size, point_tasks, run_chunk
from relsim.runs.store import RUN_ID_COLUMNS
from relsim.scenario import Scenario, load_scenario, with_overrides

#: Seed from which the runs' seeds derive when ``seeds`` is a number of replications.
DEFAULT_SEED = 20240101


@dataclass(frozen=True)
class ManyRuns:
    """Many runs of one scenario: run-level and monthly tables with factor and seed columns."""

    runs: pd.DataFrame
    """One row per run: ``run_id``, ``point``, ``replication``, ``seed``, a column per grid
    factor, ``status``, ``error``, ``duration_s`` and the outcomes (the sweep's runs table)."""
    months: pd.DataFrame
    """Each successful run's monthly series (the columns of ``months.csv``), with ``run_id``,
    ``point``, ``replication``, ``seed`` and a column per grid factor."""
    experiment: Experiment
    """The design that was run (its base scenario, grid and replications)."""

    def manifest(self) -> dict[str, Any]:
        """The design as a sweep's manifest records it (for the summary and its figures)."""
        return {
            "relsim": "sweep",
            "experiment": self.experiment.to_dict(),
            "factors": list(self.experiment.factor_names),
            "runs_total": self.experiment.n_runs,
            "scenario": self.experiment.base.to_dict(),
        }

    def _repr_html_(self) -> str:
        failed = int((self.runs["status"] != "ok").sum())
        grid = ", ".join(f"<code>{name}</code>" for name, _ in self.experiment.factors)
        return (
            f"<p><strong>{len(self.runs)} runs</strong> of {self.experiment.base.name} "
            f"({failed} failed): {self.experiment.n_points} grid points × "
            f"{self.experiment.replications} seeds{'; grid: ' + grid if grid else ''}. "
            "<code>.runs</code>: one row per run; <code>.months</code>: monthly series; "
            "<code>relsim.summarize(…)</code>: intervals and contrasts.</p>"
        )


def _stored(value: Any) -> Any:
    """A factor level as a table column holds it (lists and tables as JSON text)."""
    return json.dumps(value) if isinstance(value, list | dict) else value


def _specs(experiment: Experiment, seeds: Sequence[int] | None) -> list[RunSpec]:
    if seeds is None:
        return expand(experiment)
    points = design_points(experiment)
    return [
        RunSpec(r * len(points) + p, p, r, int(seed), values)
        for r, seed in enumerate(seeds)
        for p, values in enumerate(points)
    ]


def _seeds(seeds: int | Sequence[int]) -> tuple[int, list[int] | None]:
    """(replications, explicit seeds or None) from ``seeds``."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if not 1 <= int(seeds) <= 100_000:
            raise ValueError(
                f"seeds: expected a number of replications from 1 to 100000 (got {seeds})"
            )
        return int(seeds), None
    listed = list(seeds)  # type: ignore[arg-type]
    bad = [s for s in listed if isinstance(s, bool) or not isinstance(s, numbers.Integral)]
    bad += [s for s in listed if not bad and not 0 <= int(s) < 2**63]
    if not listed or bad:
        raise ValueError(
            "seeds: expected a number of replications or a list of whole numbers from 0 to "
            f"2**63 - 1 (got {bad[0] if bad else 'an empty list'!r})"
        )
    return len(listed), [int(s) for s in listed]


def simulate_many(
    scenario: Scenario | str | Path | None = None,
    *,
    seeds: int | Sequence[int] = 10,
    grid: Mapping[str, Sequence[Any]] | None = None,
    months: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    workers: int | None = 1,
    seed: int = DEFAULT_SEED,
    progress: bool | Progress = False,
) -> ManyRuns:
    """Run a scenario for every seed and every combination of the grid's levels.

    Args:
        scenario: A :class:`Scenario`, a scenario file or a bundled scenario's name.
        seeds: A number of replications (their seeds derive from ``seed`` as a sweep's do), or
            the seeds themselves; replication r of every grid point runs with the r-th seed.
        grid: Dotted scenario keys and the levels to run each at, e.g.
            ``{"governance.mode": ["hierarchical", "networked"]}`` (validated as an
            experiment's ``[factors]``).
        months: Horizon, if different from the scenario's.
        overrides: Dotted-key overrides applied to every run (an experiment's ``[base]``).
        workers: Processes (1, the default: in this process; None: every core).
        seed: The seed the runs' seeds derive from when ``seeds`` is a number.
        progress: True for a progress bar (in a notebook, a widget; on a terminal, a bar),
            or a :class:`relsim.runs.progress.Progress`; False (the default) for none.

    Returns:
        The runs and their monthly series (:class:`ManyRuns`).

    Raises:
        ScenarioError: for a bad scenario, override or grid, naming the key.
        ValueError: for bad ``seeds``.
    """
    replications, explicit = _seeds(seeds)
    base = load_scenario(scenario)
    fixed = dict(overrides or {})
    if months is not None:
        fixed["scenario.months"] = months
    if fixed:
        base = with_overrides(base, fixed, "overrides")
    experiment = grid_experiment(base, grid or {}, replications=replications, seed=seed)
    specs = _specs(experiment, explicit)
    factors = [name for name, _ in experiment.factors]
    rows: list[dict[str, Any]] = []
    series: list[pd.DataFrame] = []
    with make_executor(workers, None) as executor:
        if isinstance(progress, bool):
            bar = make_progress() if progress else Silent()
        else:
            bar = progress
        bar.start(len(specs), 0, 0, executor.description)
        # In one process, a design point's replications go together (stepped together where
        # the batched driver can); across processes, tasks small enough to balance them.
        size = TASK_RUNS if executor.workers == 1 else chunk_size(len(specs), executor.workers)
        try:
            for result in executor.map_unordered(
                run_chunk, experiment.base, point_tasks(specs, size)
            ):
                rows += result.rows
                if result.months:
                    series.append(pd.DataFrame(result.months))
                bar.update(len(rows), sum(r["status"] != "ok" for r in rows))
        finally:
            bar.close()
    runs = pd.DataFrame(rows).sort_values("run_id", kind="stable").reset_index(drop=True)
    for name in factors:
        runs[name] = runs[name].map(_stored)
    ids = [*RUN_ID_COLUMNS, *factors]
    first = [*ids, "status", "error", "duration_s"]
    runs = runs[first + [c for c in runs.columns if c not in first]]
    months_frame = pd.concat(series, ignore_index=True) if series else pd.DataFrame()
    if len(months_frame):
        months_frame = months_frame.merge(runs[ids], on="run_id")
        order = ids + [c for c in months_frame.columns if c not in ids]
        months_frame = months_frame[order].sort_values(["run_id", "month"], kind="stable")
        months_frame = months_frame.reset_index(drop=True)
    return ManyRuns(runs, months_frame, experiment)


__all__ = ["ManyRuns", "simulate_many"]
