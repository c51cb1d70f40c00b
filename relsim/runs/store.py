"""The sweep store: an embedded Parquet store that grows as runs finish and survives a kill.

Layout of a sweep directory::

    DIR/manifest.json        the experiment, the resolved base scenario, versions, times
    DIR/.sweep.lock          held by the one process writing the sweep (relsim.runs.lock)
    DIR/runs/part-NNNNNN-TTTTTTTT.parquet     one row per run (factors, status, outcomes)
    DIR/months/part-NNNNNN-TTTTTTTT.parquet   each run's monthly model-level series
    DIR/summary.csv          written by ``relsim summarize``

One process writes a sweep at a time: it holds the directory's lock (:mod:`relsim.runs.lock`),
and a second writer, or an ``--overwrite`` under a live sweep, is refused naming it. Finished
runs are buffered and written as a pair of part files of one name (:mod:`relsim.runs.parts`):
first the months part, then the runs part, each to a temporary name unique to its writer,
flushed to disk and renamed into place, so a part is whole or absent. The runs part is the
commit record: a run is done when it is in a runs part. A sweep killed at any moment (even
with SIGKILL) loses at most the runs still in its buffer; on resume, temporary files and months
parts without their runs part are removed, every part is read through, a damaged or missing
part is set aside (renamed ``*.damaged``, never deleted) and its runs run again, so nothing is
lost and nothing is duplicated.

The readers (:func:`read_runs`, :class:`SweepMonths` and those built on them) read committed
runs only, each run once: a run id found in more than one runs part (a store copied by hand,
or written by relsim before the lock existed) is read from the first, and
:func:`saved_runs` says how many were duplicated. A damaged or missing part is one line naming
the file and the ``--resume`` command that repairs it. :class:`SweepMonths` reads the months
table with filters (pyarrow.dataset), in blocks of runs or of months whose size does not grow
with the number of runs.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from relsim.atomic import MANIFEST, atomic_file, write_json
from relsim.errors import RelsimError
from relsim.model.columns import month_columns
from relsim.runs.experiment import Experiment
from relsim.runs.lock import LOCK, SweepLock
from relsim.runs.outcomes import outcome_names
from relsim.runs.parts import (
    MONTHS,
    RUNS,
    SET_ASIDE,
    Inventory,
    damage,
    inventory,
    is_part_name,
    new_token,
    next_sequence,
    part_files,
    part_name,
    set_aside,
)
from relsim.runs.provenance import code_commit, code_digest, scenario_provenance, versions

#: Columns every run row has before its factors and outcomes.
RUN_ID_COLUMNS = ("run_id", "point", "replication", "seed")
STATUS_COLUMNS = ("status", "error", "duration_s")
#: The column naming the posterior particle a run drew its parameters from (``[posterior]``).
POSTERIOR_DRAW = "draw"


def posterior_columns(manifest: dict[str, Any]) -> list[str]:
    """The runs table's columns of the posterior draw: ``draw`` and the drawn keys (or none).

    They describe a run, as its seed does: neither factors (the runs of a point differ in them)
    nor outcomes.
    """
    posterior = manifest.get("experiment", {}).get("posterior")
    return [POSTERIOR_DRAW, *posterior["keys"]] if posterior else []


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _arrow_type(values: Sequence[Any]) -> pa.DataType:
    """Arrow type of a factor column from the values it takes."""
    if all(isinstance(v, bool) for v in values):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.int64()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pa.float64()
    if all(isinstance(v, str) for v in values):
        return pa.string()
    return pa.string()  # lists and tables, stored as JSON text


def factor_value(value: Any, kind: pa.DataType) -> Any:
    """A factor value as stored in its column (JSON text for lists and tables)."""
    if kind == pa.string() and not isinstance(value, str | None):
        return json.dumps(value)
    return value


def months_schema(experiment: Experiment) -> pa.Schema:
    """Schema of the months table: run id, then the columns of ``months.csv``."""
    columns = month_columns(experiment.base)
    fields = [pa.field("run_id", pa.int64())]
    fields += [pa.field(c.name, _COLUMN_TYPES[c.dtype]) for c in columns]
    return pa.schema(fields)


#: Arrow type of each type of monthly column (:class:`relsim.model.columns.MonthColumn`).
_COLUMN_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}


def runs_schema(experiment: Experiment) -> pa.Schema:
    """Schema of the runs table: ids, factors, status, outcomes."""
    fields = [pa.field(name, pa.int64()) for name in RUN_ID_COLUMNS]
    levels: dict[str, list[Any]] = {name: list(values) for name, values in experiment.factors}
    if experiment.sampling is not None:
        for name, whole in zip(experiment.sampling.names, experiment.sampling.integer, strict=True):
            levels[name] = [1] if whole else [1.0]
    fields += [pa.field(name, _arrow_type(values)) for name, values in levels.items()]
    posterior = experiment.posterior
    if posterior is not None:
        fields.append(pa.field(POSTERIOR_DRAW, pa.int64()))
        fields += [
            pa.field(name, pa.int64() if whole else pa.float64())
            for name, whole in zip(posterior.names, posterior.integer, strict=True)
        ]
    fields += [
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("duration_s", pa.float64()),
    ]
    fields += [pa.field(name, pa.float64()) for name in outcome_names(experiment.base)]
    return pa.schema(fields)


def _write_part(table: pa.Table, path: Path) -> None:
    """Write a Parquet part whole or not at all, durably (:func:`relsim.atomic.atomic_file`)."""
    with atomic_file(path, "a sweep part") as tmp:
        pq.write_table(table, tmp, compression="zstd")


#: How the parts of an experiment that decide its runs are named in messages.
_EXPERIMENT_PARTS = {
    "base_scenario_hash": "the base scenario",
    "replications": "replications",
    "seed": "seed",
    "common_random_numbers": "common_random_numbers",
    "factors": "factors",
    "sampling": "sampling",
    "design": "the sampled design",
    "posterior": "the posterior",
}


def experiment_differences(stored: dict[str, Any], experiment: Experiment) -> str:
    """What differs between a stored sweep's experiment and this one, for a refusal message."""
    current = experiment.to_dict()
    parts = []
    for key, name in _EXPERIMENT_PARTS.items():
        was, now = stored.get(key), current[key]
        if was == now:
            continue
        if isinstance(now, int | float | bool) and not isinstance(was, dict | list):
            parts.append(f"{name} {json.dumps(was)} there, {json.dumps(now)} here")
        else:
            parts.append(f"{name} differ" if name.endswith("s") else f"{name} differs")
    return "; ".join(parts) if parts else "its settings differ"


def extends(stored: dict[str, Any], experiment: Experiment) -> bool:
    """Whether ``experiment`` is the stored sweep's with more replications, and nothing else.

    Run ids are replication-major and replication r keeps its seed whatever their number
    (:func:`relsim.runs.experiment.expand`), so every stored run is a run of the larger
    experiment: ``--resume`` runs only the new replications.
    """
    before = stored.get("experiment", {}).get("replications")
    if not isinstance(before, int) or experiment.replications <= before:
        return False
    same = replace(experiment, replications=before)
    return bool(stored.get("experiment_hash") == same.digest())


#: Files a sweep directory may hold besides its manifest, parts and lock: what ``relsim
#: summarize``, ``sensitivity`` and ``report`` write there. ``--overwrite`` removes these and
#: the sweep's own files, and leaves anything else alone.
DERIVED = (
    "summary.csv",
    "comparison.csv",
    "sensitivity.csv",
    "sensitivity.png",
    "sensitivity.svg",
    "report.html",
)


def _is_temporary(name: str) -> bool:
    """A temporary name of :func:`relsim.atomic.atomic_file` (a write a kill cut short)."""
    return name.startswith(".") and name.endswith(".tmp")


def _sweep_debris(directory: Path) -> bool:
    """Whether a directory without a readable manifest holds only what a sweep writes.

    That is what a kill (or a full disk) leaves before the manifest is written, or a sweep
    whose manifest was damaged: its lock, temporary files, and the ``runs`` and ``months``
    directories with parts in them. Such a directory may be overwritten; anything else is
    someone else's, and is never touched.
    """
    for entry in directory.iterdir():
        if entry.name in (MANIFEST, LOCK) or _is_temporary(entry.name):
            continue
        if entry.name not in (RUNS, MONTHS) or not entry.is_dir():
            return False
        for inner in entry.iterdir():
            if not (_store_file(inner.name) and inner.is_file()):
                return False
    return True


def _store_file(name: str) -> bool:
    """A file of the store's own in ``runs/`` or ``months/`` (a part, set aside or not)."""
    return _is_temporary(name) or is_part_name(name.removesuffix(SET_ASIDE))


def _has_parts(directory: Path) -> bool:
    return any(part_files(directory / sub) for sub in (RUNS, MONTHS))


def _clear(directory: Path) -> None:
    """Remove a sweep's own files (``--overwrite``), leaving the lock and anything else."""
    for sub in (RUNS, MONTHS):
        folder = directory / sub
        if folder.is_dir():
            for entry in folder.iterdir():
                if _store_file(entry.name) and entry.is_file():
                    entry.unlink()
    for name in (MANIFEST, *DERIVED):
        (directory / name).unlink(missing_ok=True)
    for entry in directory.iterdir():
        if _is_temporary(entry.name) and entry.is_file():
            entry.unlink()


class SweepStore:
    """A sweep directory being written: manifest, part files, and the buffer of finished runs.

    Use :meth:`open` to start or resume one (it takes the directory's lock); :meth:`add`
    buffers finished runs and writes a pair of parts when the buffer is full or old enough;
    :meth:`flush` writes what is buffered; :meth:`finish` records the end; :meth:`close`
    releases the lock.
    """

    def __init__(
        self,
        directory: Path,
        experiment: Experiment,
        manifest: dict[str, Any],
        lock: SweepLock,
        *,
        done: set[int] | None = None,
        failed: int = 0,
        repairs: Sequence[str] = (),
        flush_runs: int = 200,
        flush_seconds: float = 10.0,
    ) -> None:
        self.directory = directory
        self.experiment = experiment
        self.manifest = manifest
        self.done = done or set()
        """Run ids already saved."""
        self.failed = failed
        """Saved runs that raised."""
        self.repairs = list(repairs)
        """What opening the store repaired (damaged parts set aside), one line each."""
        self.flush_runs = flush_runs
        self.flush_seconds = flush_seconds
        self._lock = lock
        self._token = new_token()
        self._next_part = next_sequence(directory)
        self._buffer: list[tuple[list[dict[str, Any]], pa.Table | None]] = []
        """Finished runs not yet written: (rows, their monthly series) per task."""
        self._last_flush = time.monotonic()
        self.runs_schema = runs_schema(experiment)
        self.months_schema = months_schema(experiment)

    # -----------------------------------------------------------------------------------------
    # Opening
    # -----------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        directory: Path | str,
        experiment: Experiment,
        *,
        resume: bool = False,
        overwrite: bool = False,
        **options: Any,
    ) -> SweepStore:
        """Start a sweep in ``directory``, or resume the one there, holding its lock.

        Raises:
            RelsimError: if another process is writing the directory, if it holds something
                other than a sweep, or a sweep of a different experiment, or a sweep and
                neither ``resume`` nor ``overwrite`` was asked for.
        """
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise RelsimError(f"{directory}: exists and is not a directory")
        unknown = directory.is_dir() and _read_manifest(directory / MANIFEST) is None
        if unknown and not _sweep_debris(directory):
            raise RelsimError(
                f"{directory}: refusing to write a sweep here: it is not empty and holds no "
                "relsim sweep"
            )
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RelsimError(
                f"{directory}: cannot create the sweep directory ({exc.strerror})"
            ) from None
        lock = SweepLock.acquire(directory)
        try:
            return cls._open_locked(directory, experiment, lock, resume, overwrite, options)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_locked(
        cls,
        directory: Path,
        experiment: Experiment,
        lock: SweepLock,
        resume: bool,
        overwrite: bool,
        options: dict[str, Any],
    ) -> SweepStore:
        existing = _read_manifest(directory / MANIFEST)
        if overwrite:
            _clear(directory)
            existing = None
        elif existing is None and _has_parts(directory):
            raise RelsimError(
                f"{directory}: holds sweep parts but its manifest.json is missing or damaged, so "
                "which experiment they belong to is unknown; start again with --overwrite"
            )
        if existing is None:
            return cls._start(directory, experiment, lock, options)
        if not resume:
            raise RelsimError(
                f"{directory}: holds a sweep already; add --resume to continue it, or "
                "--overwrite to start again"
            )
        if existing.get("code_hash") != code_digest():
            there = str(existing.get("code_hash", "?"))[:12]
            raise RelsimError(
                f"{directory}: holds a sweep started with other relsim code (relsim "
                f"{existing.get('versions', {}).get('relsim', '?')}, code hash {there}; "
                f"this code's is {code_digest()[:12]}); resuming it would mix results "
                "(use another --out, or --overwrite)"
            )
        if existing.get("experiment_hash") != experiment.digest() and not extends(
            existing, experiment
        ):
            changed = experiment_differences(existing.get("experiment", {}), experiment)
            raise RelsimError(
                f"{directory}: holds a sweep of a different experiment "
                f"({existing.get('experiment', {}).get('source', '?')}; {changed}); refusing "
                "to resume it with this one (use another --out, or --overwrite)"
            )
        return cls._resume(directory, experiment, existing, lock, options)

    @classmethod
    def _start(
        cls, directory: Path, experiment: Experiment, lock: SweepLock, options: dict[str, Any]
    ) -> SweepStore:
        """A new sweep: the manifest first, so that a sweep's parts never lack one."""
        manifest = {
            "relsim": "sweep",
            "experiment_hash": experiment.digest(),
            "code_hash": code_digest(),
            "code_commit": code_commit(),
            "experiment": experiment.to_dict(),
            "runs_total": experiment.n_runs,
            "factors": list(experiment.factor_names),
            "versions": versions(),
            "started": _now(),
            "finished": None,
            "status": "running",
            **scenario_provenance(experiment.base, experiment.scenario_source),
        }
        write_json(directory / MANIFEST, manifest)
        _make_part_directories(directory)
        return cls(directory, experiment, manifest, lock, **options)

    @classmethod
    def _resume(
        cls,
        directory: Path,
        experiment: Experiment,
        manifest: dict[str, Any],
        lock: SweepLock,
        options: dict[str, Any],
    ) -> SweepStore:
        """Continue a sweep: clear what kills left, set damaged parts aside, count what is done.

        Every part is read through (a damaged page is found now, not by a reader later).
        """
        _make_part_directories(directory)
        for sub in (directory, directory / RUNS, directory / MONTHS):
            for leftover in sub.iterdir():
                if _is_temporary(leftover.name) and leftover.is_file():
                    leftover.unlink()  # a write killed part-way (this process holds the lock)
        found = inventory(directory)
        for path in found.uncommitted:
            path.unlink()  # its runs part was never committed: those runs will run again
        repairs = []
        broken = damage(found.parts, deep=True)
        for problem in broken:
            set_aside(problem.part)
            repairs.append(
                f"{problem.path}: {problem.reason}; set aside (*{SET_ASIDE}), its runs run again"
            )
        bad = {problem.part.name for problem in broken}
        done: set[int] = set()
        failed = 0
        for part in found.parts:
            if part.name in bad:
                continue
            table = pq.read_table(part.runs, columns=["run_id", "status"])
            for run_id, status in zip(
                table.column("run_id").to_pylist(), table.column("status").to_pylist(), strict=True
            ):
                if run_id not in done:
                    done.add(run_id)
                    failed += status != "ok"
        if manifest.get("experiment_hash") != experiment.digest():  # more replications
            before = manifest["experiment"]["replications"]
            manifest["extended"] = [
                *manifest.get("extended", []),
                {"replications": [before, experiment.replications], "at": _now()},
            ]
            manifest["experiment"] = experiment.to_dict()
            manifest["experiment_hash"] = experiment.digest()
            manifest["runs_total"] = experiment.n_runs
        manifest["status"] = "running"
        manifest["resumed"] = [*manifest.get("resumed", []), _now()]
        write_json(directory / MANIFEST, manifest)
        return cls(
            directory,
            experiment,
            manifest,
            lock,
            done=done,
            failed=failed,
            repairs=repairs,
            **options,
        )

    # -----------------------------------------------------------------------------------------
    # Writing
    # -----------------------------------------------------------------------------------------

    def add(self, rows: list[dict[str, Any]], months: Mapping[str, Any] | None) -> None:
        """Buffer finished runs (rows) and their monthly series; write parts when due."""
        table = (
            pa.table(dict(months), schema=self.months_schema)
            if months and len(months["run_id"])
            else None
        )
        # One append: a stop (Ctrl-C, SIGTERM) raised between statements can never buffer
        # runs without their monthly series.
        self._buffer.append((rows, table))
        due = len(self._rows) >= self.flush_runs
        if due or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write buffered runs as one months part and one runs part (months first).

        Raises:
            RelsimError: if a part cannot be written (a full disk): the runs stay buffered.
        """
        self._last_flush = time.monotonic()
        rows = self._rows
        if not rows:
            return
        name = part_name(self._next_part, self._token)
        tables = [table for _, table in self._buffer if table is not None]
        months = pa.concat_tables(tables) if tables else self.months_schema.empty_table()
        _write_part(months, self.directory / MONTHS / name)
        factors = set(self.experiment.factor_names)
        columns = {
            f.name: [
                factor_value(r[f.name], f.type) if f.name in factors else r.get(f.name)
                for r in rows
            ]
            for f in self.runs_schema
        }
        _write_part(pa.table(columns, schema=self.runs_schema), self.directory / RUNS / name)
        self.done.update(row["run_id"] for row in rows)
        self.failed += sum(row["status"] != "ok" for row in rows)
        self._next_part += 1
        self._buffer = []

    @property
    def _rows(self) -> list[dict[str, Any]]:
        """The buffered runs' rows."""
        return [row for rows, _ in self._buffer for row in rows]

    @property
    def finished(self) -> tuple[int, int]:
        """Runs finished, and how many of them failed, whether written yet or buffered."""
        buffered_failures = sum(row["status"] != "ok" for row in self._rows)
        return len(self.done) + len(self._rows), self.failed + buffered_failures

    def finish(self, *, interrupted: bool = False) -> None:
        """Write what is buffered and record the end of the sweep in the manifest.

        Its status is then ``interrupted``, ``complete`` (every run saved) or ``incomplete``.

        Raises:
            RelsimError: if the parts or the manifest cannot be written (a full disk).
        """
        self.flush()
        if interrupted:
            status = "interrupted"
        else:
            status = "complete" if len(self.done) == self.experiment.n_runs else "incomplete"
        self._record(status)

    def abandon(self) -> None:
        """After an error: save what can be saved, mark the sweep interrupted, never raise.

        With a full disk neither may be possible; the runs already committed are safe, and a
        ``--resume`` continues from them (a manifest left ``running`` by a writer that has
        gone is resumed like an interrupted one).
        """
        for step in (self.flush, lambda: self._record("interrupted")):
            with contextlib.suppress(RelsimError, OSError):
                step()

    def _record(self, status: str) -> None:
        self.manifest["status"] = status
        self.manifest["finished"] = _now()
        self.manifest["runs_done"] = len(self.done)
        self.manifest["runs_failed"] = self.failed
        write_json(self.directory / MANIFEST, self.manifest)

    def close(self) -> None:
        """Release the directory's lock. Closing twice does nothing."""
        self._lock.release()


def _make_part_directories(directory: Path) -> None:
    try:
        for sub in (RUNS, MONTHS):
            (directory / sub).mkdir(exist_ok=True)
    except OSError as exc:
        raise RelsimError(
            f"{directory}: cannot create the sweep directory ({exc.strerror})"
        ) from None


def _read_manifest(path: Path) -> dict[str, Any] | None:
    if not path.is_file():  # never open a FIFO or device (it could block or never end)
        return None
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(_MANIFEST_LIMIT))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("relsim") == "sweep" else None


#: A sweep's manifest is a few hundred kilobytes at most (its scenario lists the trusts).
_MANIFEST_LIMIT = 64 << 20


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def read_manifest(directory: Path | str) -> dict[str, Any]:
    """The manifest of a sweep directory.

    Raises:
        RelsimError: if the directory holds no relsim sweep.
    """
    directory = Path(directory)
    if not directory.is_dir():
        what = "no such directory" if not directory.exists() else "not a directory"
        raise RelsimError(f"{directory}: {what} (expected a directory written by relsim sweep)")
    manifest = _read_manifest(directory / MANIFEST)
    if manifest is None:
        raise RelsimError(f"{directory}: not a relsim sweep directory (no sweep manifest.json)")
    return manifest


def _repair_hint(directory: Path, manifest: Mapping[str, Any]) -> str:
    source = manifest.get("experiment", {}).get("source", "EXPERIMENT")
    return f"repair the sweep with: relsim sweep {source} --out {directory} --resume"


def _damaged(path: Path, reason: str, directory: Path, manifest: Mapping[str, Any]) -> RelsimError:
    hint = _repair_hint(directory, manifest)
    return RelsimError(f"{path}: damaged sweep part ({reason}); {hint}")


def _checked(directory: Path) -> tuple[dict[str, Any], Inventory]:
    """A sweep's manifest and parts, refusing a store with a missing or damaged part."""
    manifest = read_manifest(directory)
    found = inventory(directory)
    problems = damage(found.parts)
    if problems:
        first = problems[0]
        raise _damaged(first.path, first.reason, directory, manifest)
    return manifest, found


def _read_part(
    path: Path, columns: Sequence[str] | None, directory: Path, manifest: Mapping[str, Any]
) -> pa.Table:
    """One part's columns; a page that cannot be read is one line naming it."""
    try:
        return pq.read_table(path, columns=list(columns) if columns is not None else None)
    except (OSError, pa.ArrowException) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _damaged(path, f"unreadable: {reason}", directory, manifest) from None


@dataclass(frozen=True)
class SavedRuns:
    """How the runs a sweep holds compare with its design."""

    planned: int | None
    """Runs the experiment plans (None if the manifest does not say)."""
    saved: int
    """Distinct runs saved (finished or failed)."""
    duplicates: int
    """Rows of runs saved more than once, read once and otherwise ignored."""

    @property
    def missing(self) -> int:
        """Planned runs not saved."""
        return max(0, (self.planned or 0) - self.saved)


def saved_runs(directory: Path | str) -> SavedRuns:
    """How many runs a sweep holds, and how many rows duplicate a run (read once)."""
    directory = Path(directory)
    manifest, found = _checked(directory)
    ids = _run_ids(found, directory, manifest)
    total = manifest.get("runs_total")
    unique = int(np.unique(ids).size)
    return SavedRuns(int(total) if total is not None else None, unique, int(ids.size) - unique)


def _run_ids(found: Inventory, directory: Path, manifest: Mapping[str, Any]) -> np.ndarray:
    """The run id of every committed runs row, duplicates included, in part order."""
    ids = [
        _read_part(part.runs, ["run_id"], directory, manifest).column("run_id").to_numpy()
        for part in found.parts
    ]
    return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)


def read_runs(directory: Path | str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The runs table of a sweep, one row per committed run (each run once), sorted by run id.

    Raises:
        RelsimError: if the directory holds no sweep, or a part is missing or damaged (naming
            it and the command that repairs it).
    """
    directory = Path(directory)
    manifest, found = _checked(directory)
    wanted = None if columns is None else list(dict.fromkeys(["run_id", *columns]))
    tables = [_read_part(part.runs, wanted, directory, manifest) for part in found.parts]
    if not tables:
        return pd.DataFrame(columns=list(columns or []))
    frame = pa.concat_tables(tables).to_pandas()
    frame = frame.drop_duplicates("run_id", keep="first")
    frame = frame.sort_values("run_id", kind="stable").reset_index(drop=True)
    return frame if columns is None else frame[list(columns)]


#: Values (rows times columns) a block of the months table holds: 32 MB as numbers.
BLOCK_VALUES = 4_000_000
#: Most blocks (files open at once while splitting); larger sweeps get larger blocks.
MAX_BLOCKS = 512


class SweepMonths:
    """The months table of a sweep, read with filters, whole or in blocks of bounded size.

    Only the committed months parts are read (pyarrow.dataset over them), and each run's month
    once: a run saved twice (see :func:`saved_runs`) is read from its first part. The block
    readers hold about :data:`BLOCK_VALUES` values at a time, however many runs the sweep has.

    Raises:
        RelsimError: if the directory holds no sweep, or a part is missing or damaged.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.manifest, found = _checked(self.directory)
        ids = _run_ids(found, self.directory, self.manifest)
        self.run_ids = np.unique(ids)
        """The committed runs, sorted."""
        self._duplicates = ids.size > self.run_ids.size
        self._paths = [str(part.months) for part in found.parts if part.months is not None]
        self._dataset = ds.dataset(self._paths, format="parquet") if self._paths else None

    def read(
        self,
        columns: Sequence[str] | None = None,
        *,
        run_ids: np.ndarray | None = None,
        months: tuple[int, int] | None = None,
    ) -> pd.DataFrame:
        """Rows of the months table sorted by run and month (all of it, by default).

        Args:
            columns: Columns besides ``run_id`` and ``month`` (default: all).
            run_ids: Only these runs.
            months: Only months ``first`` to ``last``, inclusive.
        """
        wanted = None if columns is None else list(dict.fromkeys(["run_id", "month", *columns]))
        if self._dataset is None:
            return pd.DataFrame(columns=wanted or ["run_id", "month"])
        where = None
        if run_ids is not None:
            where = ds.field("run_id").isin(pa.array(np.asarray(run_ids, dtype=np.int64)))
        if months is not None:
            within = (ds.field("month") >= months[0]) & (ds.field("month") <= months[1])
            where = within if where is None else where & within
        try:
            table = self._dataset.to_table(columns=wanted, filter=where)
        except (OSError, pa.ArrowException) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise RelsimError(
                f"{self.directory / MONTHS}: a months part could not be read ({reason}); "
                + _repair_hint(self.directory, self.manifest)
            ) from None
        frame = table.to_pandas()
        if self._duplicates:
            frame = frame.drop_duplicates(["run_id", "month"], keep="first")
        return frame.sort_values(["run_id", "month"], kind="stable").reset_index(drop=True)

    def last_month(self) -> int:
        """The last month any run reached (-1 when there is none)."""
        if self._dataset is None:
            return -1
        month = self._dataset.to_table(columns=["month"]).column("month")
        return int(pc.max(month).as_py()) if len(month) else -1

    def by_run(
        self,
        columns: Sequence[str] | None = None,
        *,
        scratch: Path,
        run_ids: np.ndarray | None = None,
        values: int = BLOCK_VALUES,
    ) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        """Some runs' series (default all), sorted by run and month, in blocks of whole runs.

        Args:
            columns: Columns besides ``run_id`` and ``month`` (default: all).
            scratch: An empty folder on disk for the blocks (:meth:`_split`).
            run_ids: Only these runs.
            values: Values (rows times columns) a block may hold.

        Yields:
            Each block's run ids (sorted) and their rows.
        """
        ids = self.run_ids if run_ids is None else np.sort(np.asarray(run_ids, dtype=np.int64))
        if self._dataset is None or not ids.size:
            return
        wanted = self._wanted(columns)
        per_run = max(1, self._dataset.count_rows() // max(1, self.run_ids.size))
        runs_per_block = max(1, values // len(wanted) // per_run)
        blocks = min(MAX_BLOCKS, -(-ids.size // runs_per_block))
        span = -(-(int(ids[-1]) + 1) // blocks)
        chosen = None if run_ids is None else ids
        for key, frame in self._split(wanted, "run_id", span, chosen, scratch):
            yield ids[(ids >= key * span) & (ids < (key + 1) * span)], frame

    def by_month(
        self,
        columns: Sequence[str],
        *,
        scratch: Path,
        run_ids: np.ndarray | None = None,
        values: int = BLOCK_VALUES,
    ) -> Iterator[pd.DataFrame]:
        """Some runs' series (default all) in blocks of consecutive months, each sorted.

        Args:
            columns: Columns besides ``run_id`` and ``month``.
            scratch: An empty folder on disk for the blocks (:meth:`_split`).
            run_ids: Only these runs.
            values: Values (rows times columns) a block may hold.
        """
        runs = self.run_ids.size if run_ids is None else len(run_ids)
        if self._dataset is None or not runs:
            return
        wanted = self._wanted(columns)
        months = self.last_month() + 1
        span = max(1, values // len(wanted) // runs)
        span = max(span, -(-months // MAX_BLOCKS))
        chosen = None if run_ids is None else np.asarray(run_ids, dtype=np.int64)
        for _, frame in self._split(wanted, "month", span, chosen, scratch):
            yield frame

    def _wanted(self, columns: Sequence[str] | None) -> list[str]:
        assert self._dataset is not None
        names = self._dataset.schema.names if columns is None else columns
        return list(dict.fromkeys(["run_id", "month", *names]))

    def _split(
        self,
        wanted: list[str],
        key: str,
        span: int,
        run_ids: np.ndarray | None,
        scratch: Path,
    ) -> Iterator[tuple[int, pd.DataFrame]]:
        """The table in blocks of ``span`` consecutive values of ``key``, each sorted by run.

        Runs of one part are spread over the design, and every part holds every month, so a
        block cannot be read from a few parts: the table is first split in one pass, part by
        part, each block's rows appended to its own Arrow IPC file in ``scratch``; then each
        block is read back, sorted and yielded, and its file removed. The months table is read
        once, and memory holds one part or one block at a time.

        Yields:
            Each block's number (``key // span``) and rows.
        """
        chosen = None if run_ids is None else pa.array(run_ids, pa.int64())
        writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        try:
            for part in self._paths:
                table = _read_part(Path(part), wanted, self.directory, self.manifest)
                if chosen is not None:
                    table = table.filter(pc.is_in(table.column("run_id"), value_set=chosen))
                block = table.column(key).to_numpy() // span
                order = np.argsort(block, kind="stable")
                table, block = table.take(order), block[order]
                starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]]) if block.size else ()
                for start, end in zip(starts, [*starts[1:], block.size], strict=True):
                    number = int(block[start])
                    if number not in writers:
                        path = scratch / f"{number}.arrow"
                        writers[number] = pa.ipc.new_file(path, table.schema)
                    writers[number].write_table(table.slice(start, end - start))
        finally:
            for writer in writers.values():
                writer.close()
        for number in sorted(writers):
            spilled = scratch / f"{number}.arrow"
            with pa.memory_map(str(spilled)) as source:
                frame = pa.ipc.open_file(source).read_all().to_pandas()
            spilled.unlink()
            if self._duplicates:
                frame = frame.drop_duplicates(["run_id", "month"], keep="first")
            yield (
                number,
                frame.sort_values(["run_id", "month"], kind="stable").reset_index(drop=True),
            )


def read_months(
    directory: Path | str,
    columns: Sequence[str] | None = None,
    *,
    with_factors: bool = False,
) -> pd.DataFrame:
    """The months table of a sweep (each committed run's series), sorted by run and month.

    It holds the runs of the runs table only: a months part without its runs part (a sweep
    killed between writing the two) is not read. ``with_factors=True`` adds each run's
    ``point``, ``replication``, ``seed`` and factor columns after ``run_id``
    (:func:`with_run_columns`), for grouping the series by design point without a join.

    It holds the whole table in memory (about 6 KB a run of 120 months per column read): for
    large sweeps, read it in blocks with :class:`SweepMonths`.
    """
    months = SweepMonths(directory)
    frame = months.read(columns)
    if with_factors:
        described = [*months.manifest["factors"], *posterior_columns(months.manifest)]
        frame = with_run_columns(frame, Path(directory), described)
    return frame


def with_run_columns(months: pd.DataFrame, directory: Path, factors: Sequence[str]) -> pd.DataFrame:
    """A months table with each run's ids, seed and factor values from the runs table."""
    keys = [*RUN_ID_COLUMNS, *factors]
    runs = read_runs(directory, columns=keys)
    merged = months.merge(runs, on="run_id", how="left", validate="many_to_one")
    return merged[[*keys, *(c for c in months.columns if c != "run_id")]]
