"""Run an experiment: every run once, streamed into a sweep store, resumable after any stop.

:func:`run_sweep` expands the experiment (:func:`relsim.runs.experiment.expand`), skips the runs the
store already holds, cuts the rest into chunks and hands them to an executor
(:mod:`relsim.runs.executors`). Each worker runs its chunk with :func:`run_chunk` and returns one
row per run (its outcomes, :mod:`relsim.runs.outcomes`) and the runs' monthly series; the parent
writes them into the store (:mod:`relsim.runs.store`) as they arrive. A run that raises is recorded
with its error, and the sweep goes on; so are runs whose worker process died each time they ran
(:mod:`relsim.runs.executors` rebuilds the pool).

Any other error (a full disk) ends the sweep as an interruption does: finished runs are saved
if they can be, the manifest is marked ``interrupted``, the directory's lock is released, and
:class:`SweepError` says how many runs are saved, so that ``--resume`` can go on from them.
"""

from __future__ import annotations

import json
import math
import signal
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from relsim.errors import RelsimError
from relsim.model.batch import Batch, supports
from relsim.model.mesa_model import RegulationModel
from relsim.runs.executors import Executor, make_executor
from relsim.runs.experiment import Experiment, RunSpec, expand
from relsim.runs.outcomes import board_mate_outcomes, origin_boards, run_outcomes
from relsim.runs.progress import Progress, make_progress
from relsim.runs.store import POSTERIOR_DRAW, SweepStore
from relsim.scenario import Scenario, with_overrides


@dataclass
class ChunkResult:
    """What a worker sends back for a chunk of runs."""

    rows: list[dict[str, Any]]
    """One row per run: ids, factor values, status, error, duration, outcomes."""
    months: dict[str, Any]
    """The successful runs' monthly series, concatenated, with a ``run_id`` column."""


@lru_cache(maxsize=256)
def _scenario(base: Scenario, key: str) -> Scenario:
    """A design point's scenario (cached per process: replications share their point's).

    ``key`` is the point's values as canonical JSON: a hashable cache key that turns back into
    exactly the values given, tables and lists of tables included.
    """
    values = json.loads(key)
    return with_overrides(base, values, "experiment") if values else base


def _point_key(spec: RunSpec) -> str:
    """The run's scenario overrides (design point and posterior draw) as canonical JSON."""
    return json.dumps(spec.overrides, sort_keys=True)


def spec_columns(spec: RunSpec) -> dict[str, Any]:
    """A run's identifying columns: ids, seed, the design point's values, the posterior draw."""
    columns: dict[str, Any] = {
        "run_id": spec.run_id,
        "point": spec.point,
        "replication": spec.replication,
        "seed": spec.seed,
        **dict(spec.values),
    }
    if spec.draw is not None:
        columns[POSTERIOR_DRAW] = spec.draw
        columns.update(spec.parameters)
    return columns


def run_one(base: Scenario, spec: RunSpec) -> tuple[dict[str, Any], dict[str, list[Any]] | None]:
    """Run one specification: its row, and its monthly series (None if it raised)."""
    row: dict[str, Any] = {
        **spec_columns(spec),
    }
    start = time.perf_counter()
    try:
        scenario = _scenario(base, _point_key(spec))
        model = RegulationModel(scenario, rng=spec.seed, record="months")
        model.run_model()
        series = model.datacollector.model_vars
        row.update(run_outcomes(series, scenario))
        boards = origin_boards(model.rule, model.state)
        row.update(board_mate_outcomes(model.state.adoption, boards, scenario))
        row.update(status="ok", error=None)
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f" ({Path(last.filename).name}:{last.lineno})" if last else ""
        row.update(status="error", error=f"{type(exc).__name__}: {exc}{where}")
        series = None
    row["duration_s"] = time.perf_counter() - start
    return row, series


def run_chunk(base: Scenario, specs: Sequence[RunSpec]) -> ChunkResult:
    """Run a chunk of specifications (in a worker): rows and concatenated monthly series.

    Replications of one design point that :func:`relsim.model.batch.supports` covers are stepped
    together (:class:`relsim.model.batch.Batch`: the same results as one model per run,
    several times faster); each gets an equal share of their time as its ``duration_s``. If
    that raises, the point's runs are run one model at a time, so that only a run that fails
    alone is recorded as failed.
    """
    rows = []
    columns: dict[str, list[Any]] = {}
    for key, group in _by_point(specs):
        done = _run_together(base, key, group) or [run_one(base, spec) for spec in group]
        for spec, (row, series) in zip(group, done, strict=True):
            rows.append(row)
            if series is None:
                continue
            length = len(series["month"])
            columns.setdefault("run_id", []).extend([spec.run_id] * length)
            for name, values in series.items():
                columns.setdefault(name, []).extend(values)
    months = {
        name: values if isinstance(values[0], str) else np.asarray(values)
        for name, values in columns.items()
    }
    return ChunkResult(rows, months)


def _by_point(specs: Sequence[RunSpec]) -> list[tuple[str, list[RunSpec]]]:
    """The specifications grouped by design point, in order of first appearance."""
    groups: dict[str, list[RunSpec]] = {}
    for spec in specs:
        groups.setdefault(_point_key(spec), []).append(spec)
    return list(groups.items())


def _run_together(
    base: Scenario, key: str, specs: list[RunSpec]
) -> list[tuple[dict[str, Any], dict[str, list[Any]] | None]] | None:
    """Replications of one design point stepped together, or None if that is not possible."""
    if len(specs) < 2:
        return None
    start = time.perf_counter()
    try:
        scenario = _scenario(base, key)
        if not supports(scenario):
            return None
        batch = Batch(scenario, [spec.seed for spec in specs])
        runs = batch.run()
        boards = origin_boards(batch.kernel.rule, batch.state)
        outcomes = [
            run_outcomes(series, scenario)
            | board_mate_outcomes(batch.state.adoption[r], boards, scenario)
            for r, series in enumerate(runs)
        ]
    except Exception:
        return None  # one model per run says which runs fail, and why
    share = (time.perf_counter() - start) / len(specs)
    done: list[tuple[dict[str, Any], dict[str, list[Any]] | None]] = []
    for spec, series, outcome in zip(specs, runs, outcomes, strict=True):
        row: dict[str, Any] = {
            **spec_columns(spec),
            **outcome,
            "status": "ok",
            "error": None,
            "duration_s": share,
        }
        done.append((row, series))
    return done


def lost_chunk(specs: Sequence[RunSpec], reason: str) -> ChunkResult:
    """The result of a chunk whose worker died each time it ran: its runs, failed."""
    rows = [
        {
            **spec_columns(spec),
            "status": "error",
            "error": reason,
            "duration_s": math.nan,
        }
        for spec in specs
    ]
    return ChunkResult(rows, {})


def chunk_size(runs: int, workers: int) -> int:
    """Runs per task: enough tasks to balance the workers, few enough to keep overhead low."""
    return max(1, min(TASK_RUNS, math.ceil(runs / (8 * workers))))


#: Most runs in a task. Replications of one design point stepped together gain with their
#: number up to about 50 (NHS–VMI: 3.5 ms a run at 16, 2.2 at 50, 1.95 at 200); one model per
#: run gains nothing more.
TASK_RUNS = 50


def point_tasks(specs: Sequence[RunSpec], size: int) -> Iterator[list[RunSpec]]:
    """Tasks of up to ``size`` runs, each design point's runs together, in replication order.

    ``specs`` are replication-major (:func:`relsim.runs.experiment.expand`). Each point's runs are
    gathered until it has ``size`` of them, so that its replications can be stepped together
    and every point advances alike (a sweep stopped part-way holds about the same replications
    of each). What is left at the end (points with fewer runs than ``size``) is packed into
    tasks of up to ``size`` runs, a point's runs side by side.
    """
    pending: dict[int, list[RunSpec]] = {}
    for spec in specs:
        bucket = pending.setdefault(spec.point, [])
        bucket.append(spec)
        if len(bucket) == size:
            yield pending.pop(spec.point)
    task: list[RunSpec] = []
    for bucket in pending.values():
        for spec in bucket:
            task.append(spec)
            if len(task) == size:
                yield task
                task = []
    if task:
        yield task


@dataclass(frozen=True)
class SweepOutcome:
    """How a sweep ended."""

    directory: Path
    total: int
    done: int
    failed: int
    ran: int
    """Runs executed by this invocation (the rest were saved before)."""
    seconds: float
    interrupted: bool = False
    repairs: tuple[str, ...] = ()
    """Damaged parts that opening the sweep set aside (their runs ran again), one line each."""


class SweepError(RelsimError):
    """A sweep ended by an error (a full disk); ``saved`` runs are in the store all the same."""

    def __init__(self, message: str, saved: int) -> None:
        super().__init__(message)
        self.saved = saved


class _StopRequestedError(BaseException):
    """SIGTERM, turned into an orderly stop that saves finished runs.

    A ``BaseException``, like ``KeyboardInterrupt``: in a serial sweep the signal arrives while
    a run is computing, and the handler that records a failing run as data (``except
    Exception``) must not catch it, or the stop would be stored as a failed run and ignored.
    """


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _StopRequestedError


def _run(
    store: SweepStore, experiment: Experiment, ex: Executor, progress: Progress
) -> tuple[int, bool]:
    """Run what the store lacks; (runs executed, whether stopped by Ctrl-C or SIGTERM)."""
    specs = [s for s in expand(experiment) if s.run_id not in store.done]
    ran = 0
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # pragma: no cover - not in the main thread
        previous = None
    try:
        if specs:
            progress.start(experiment.n_runs, len(store.done), store.failed, ex.description)
            size = chunk_size(len(specs), ex.workers)
            tasks = point_tasks(specs, size)
            for result in ex.map_unordered(run_chunk, experiment.base, tasks, lost_chunk):
                store.add(result.rows, result.months)
                ran += len(result.rows)
                progress.update(*store.finished)
        store.finish()
        return ran, False
    except (KeyboardInterrupt, _StopRequestedError):
        store.finish(interrupted=True)
        return ran, True
    except BaseException:
        store.abandon()
        raise
    finally:
        progress.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def run_sweep(
    experiment: Experiment,
    out: Path | str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
    executor: Executor | None = None,
    flush_runs: int = 200,
) -> SweepOutcome:
    """Run every run of ``experiment`` not yet in the store at ``out``.

    Args:
        experiment: The validated experiment.
        out: The sweep directory.
        workers: Local processes (default: all cores; 1 runs serially in this process).
        scheduler: A Dask scheduler address, or ``"local"`` for a Dask LocalCluster.
        resume: Continue the sweep in ``out`` (refused if it is another experiment's).
        overwrite: Start again, replacing the sweep in ``out``.
        progress: Where progress goes (default: a bar on a terminal, lines otherwise).
        executor: An executor to use instead of building one from ``workers``/``scheduler``.
        flush_runs: Finished runs buffered before a pair of part files is written.

    Ctrl-C or SIGTERM stops the sweep after saving every finished run; the outcome says so.

    Raises:
        RelsimError: if the sweep cannot start (another process is writing ``out``, it holds
            something else, ...).
        SweepError: if it stopped on an error after starting (a full disk), saying how many
            runs are saved.
    """
    started = time.perf_counter()
    # The executor first: a cluster that cannot be reached is an error before anything is
    # written.
    owns_executor = executor is None
    ex = executor or make_executor(workers, scheduler)
    try:
        store = SweepStore.open(
            out, experiment, resume=resume, overwrite=overwrite, flush_runs=flush_runs
        )
        try:
            ran, interrupted = _run(store, experiment, ex, progress or make_progress())
        except RelsimError as exc:
            raise SweepError(str(exc), len(store.done)) from None
        finally:
            store.close()
    finally:
        if owns_executor:
            ex.close()
    return SweepOutcome(
        directory=Path(out),
        total=experiment.n_runs,
        done=len(store.done),
        failed=store.failed,
        ran=ran,
        seconds=time.perf_counter() - started,
        interrupted=interrupted,
        repairs=tuple(store.repairs),
    )


__all__ = [
    "ChunkResult",
    "SweepError",
    "SweepOutcome",
    "chunk_size",
    "lost_chunk",
    "point_tasks",
    "run_chunk",
    "run_one",
    "run_sweep",
]
