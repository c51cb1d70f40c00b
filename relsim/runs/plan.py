"""What a sweep would do, before it runs: ``relsim sweep --dry-run``.

:func:`plan` counts the experiment's cells, design points and runs (the experiment is already
validated: a bad file never gets here), finds how many runs a sweep directory already holds,
and estimates the time from a short pilot: a few replications of the first and last design
points, stepped together as the sweep steps them, for at most :data:`PILOT_MONTHS` months.
Nothing is written.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relsim.atomic import MANIFEST
from relsim.runs.experiment import (
    Experiment,
    RunSpec,
    design_points,
    replication_draw,
    run_seed,
)
from relsim.runs.runner import run_chunk
from relsim.scenario import with_overrides

#: Months each pilot run lasts at most (the estimate scales with the horizon).
PILOT_MONTHS = 12
#: Replications of each piloted design point, stepped together as the sweep would.
PILOT_REPLICATIONS = 4
#: Grid cells listed at most; the rest are counted.
MAX_CELLS_SHOWN = 24


@dataclass(frozen=True)
class Plan:
    """A sweep before it runs."""

    experiment: Experiment
    workers: int
    saved: int
    """Runs the sweep directory holds already (0 if none)."""
    seconds_per_run: float
    """Pilot seconds per run, scaled to the full horizon."""

    @property
    def to_run(self) -> int:
        """Runs a sweep would run now (with ``--resume``: those not saved)."""
        return max(0, self.experiment.n_runs - self.saved)

    @property
    def estimated_seconds(self) -> float:
        """Wall-clock estimate: runs to do x seconds per run, spread over the workers."""
        return self.to_run * self.seconds_per_run / self.workers


def _pilot_specs(experiment: Experiment) -> list[list[RunSpec]]:
    """The first replications of the first and last design points, one task each."""
    points = design_points(experiment)
    reps = min(PILOT_REPLICATIONS, experiment.replications)
    tasks = []
    for p in sorted({0, len(points) - 1}):
        task = []
        for r in range(reps):
            crn = experiment.common_random_numbers
            seed = run_seed(experiment.seed, r, None if crn else p)
            draw, parameters = replication_draw(experiment, r)
            task.append(RunSpec(r * len(points) + p, p, r, seed, points[p], draw, parameters))
        tasks.append(task)
    return tasks


def _short(pairs: tuple[tuple[str, Any], ...], months: int) -> tuple[tuple[str, Any], ...]:
    """Overrides with ``scenario.months`` cut to at most ``months``."""
    return tuple((k, min(v, months) if k == "scenario.months" else v) for k, v in pairs)


def pilot_seconds_per_run(experiment: Experiment) -> float:
    """Seconds per run of the full horizon, from a pilot of at most 12 months.

    The horizon is cut to :data:`PILOT_MONTHS` for the pilot and the time scaled back by
    months (a run's cost is close to linear in its months).
    """
    months = experiment.base.months
    short = min(months, PILOT_MONTHS)
    base = with_overrides(experiment.base, {"scenario.months": short}, "--dry-run")
    runs = 0
    start = time.perf_counter()
    for task in _pilot_specs(experiment):
        # A design point (or a posterior draw) may vary the horizon itself: the pilot keeps it
        # short too.
        task = [
            dataclasses.replace(
                s, values=_short(s.values, short), parameters=_short(s.parameters, short)
            )
            for s in task
        ]
        run_chunk(base, task)
        runs += len(task)
    seconds = time.perf_counter() - start
    return seconds / max(runs, 1) * months / short


def manifest_runs_done(directory: Path) -> int:
    """Runs a sweep directory says it holds (its manifest's count; 0 if none)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    if not isinstance(manifest, dict) or manifest.get("relsim") != "sweep":
        return 0
    return int(manifest.get("runs_done") or 0)


def plan(experiment: Experiment, out: Path, workers: int, *, resume: bool = False) -> Plan:
    """What ``relsim sweep`` would do with this experiment, directory and number of workers."""
    saved = manifest_runs_done(out) if resume else 0
    return Plan(experiment, workers, saved, pilot_seconds_per_run(experiment))


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, math.ceil(seconds))} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def describe(p: Plan, out: Path) -> str:
    """The plan as text: design, counts, seeds, where it would write and how long it would take."""
    e = p.experiment
    lines = [
        f"experiment {e.name!r} ({e.source}): valid; nothing is run or written (--dry-run)",
        f"base scenario: {e.scenario_source}, {e.base.months} months, "
        f"{len(e.base.trusts)} trusts, governance {e.base.governance.mode}",
    ]
    for name, levels in e.factors:
        shown = ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in levels)
        lines.append(f"factor {name}: {len(levels)} levels ({shown})")
    if e.sampling is not None:
        keys = ", ".join(f"{k} [{lo:g}, {hi:g}]" for k, lo, hi in e.sampling.ranges)
        lines.append(f"sampled ({e.sampling.method}, n = {e.sampling.n}): {keys}")
    if e.posterior is not None:
        lines.append(
            f"posterior ({e.posterior_file}, {e.posterior.size} particles): each replication "
            f"draws {', '.join(e.posterior.names)}"
        )
    cells = list(itertools.product(*(levels for _, levels in e.factors)))
    names = [name for name, _ in e.factors]
    if names:
        lines.append(f"cells ({len(cells)}):")
        lines += [
            "  " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in zip(names, cell, strict=True))
            for cell in cells[:MAX_CELLS_SHOWN]
        ]
        if len(cells) > MAX_CELLS_SHOWN:
            lines.append(f"  ... and {len(cells) - MAX_CELLS_SHOWN} more")
    crn = "common random numbers" if e.common_random_numbers else "independent seeds"
    lines.append(
        f"{e.n_cells} cells, {e.n_points} design points, {e.replications} replications each: "
        f"{e.n_runs} runs ({crn}, experiment seed {e.seed})"
    )
    lines.append(f"output: {out}")
    if p.saved:
        lines.append(f"already saved there: {p.saved} runs; --resume would run {p.to_run}")
    lines.append(
        f"estimated time: about {_duration(p.estimated_seconds)} on {p.workers} "
        f"worker{'s' if p.workers > 1 else ''} ({p.seconds_per_run * 1000:.0f} ms a run, from a "
        f"pilot of a few runs of {min(e.base.months, PILOT_MONTHS)} months; a rough guide)"
    )
    return "\n".join(lines)


__all__ = ["Plan", "describe", "pilot_seconds_per_run", "plan"]
