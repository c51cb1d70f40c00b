"""The sweep store: an embedded Parquet store that grows as runs finish and survives a kill.

Layout of a sweep directory::

    DIR/manifest.json        the experiment, the resolved base scenario, versions, times
    DIR/runs/part-NNNNNN.parquet     one row per run (factors, status, outcomes)
    DIR/months/part-NNNNNN.parquet   each run's monthly model-level series
    DIR/summary.csv          written by ``relsim summarize``

Finished runs are buffered and written as a pair of part files: first the months part, then the
runs part, each to a temporary name, flushed to disk and renamed into place, so a part is whole
or absent. The runs part is the commit record: a run is done when it is in a runs part. A sweep
killed at any moment (even with SIGKILL) loses at most the runs still in its buffer; on resume,
temporary files and months parts without their runs part are removed and only the missing runs
are run again, so nothing is lost and nothing is duplicated.

:func:`read_runs` and :func:`read_months` read the committed runs only, sorted by run: a months
part counts once the runs part of the same number exists, so the series of runs that a kill left
uncommitted (until ``--resume`` removes them) are never read. ``pandas.read_parquet(DIR /
"runs")`` reads the runs table as one; ``pandas.read_parquet(DIR / "months")`` reads every
months part, and after a kill that may include such uncommitted series.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from relsim.atomic import MANIFEST, atomic_file, write_json
from relsim.errors import RelsimError
from relsim.model.columns import month_columns
from relsim.runs.experiment import Experiment
from relsim.runs.outcomes import outcome_names
from relsim.runs.provenance import code_commit, code_digest, scenario_provenance, versions

RUNS, MONTHS = "runs", "months"
_PART = re.compile(r"^part-(\d{6})\.parquet$")

#: Columns every run row has before its factors and outcomes.
RUN_ID_COLUMNS = ("run_id", "point", "replication", "seed")
STATUS_COLUMNS = ("status", "error", "duration_s")


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


def _parts(directory: Path) -> dict[int, Path]:
    out = {}
    if directory.is_dir():
        for path in directory.iterdir():
            match = _PART.match(path.name)
            if match:
                out[int(match.group(1))] = path
    return out


#: How the parts of an experiment that decide its runs are named in messages.
_EXPERIMENT_PARTS = {
    "base_scenario_hash": "the base scenario",
    "replications": "replications",
    "seed": "seed",
    "common_random_numbers": "common_random_numbers",
    "factors": "factors",
    "sampling": "sampling",
    "design": "the sampled design",
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
    same = dataclasses.replace(experiment, replications=before)
    return bool(stored.get("experiment_hash") == same.digest())


class SweepStore:
    """A sweep directory being written: manifest, part files, and the buffer of finished runs.

    Use :meth:`open` to start or resume one; :meth:`add` buffers finished runs and writes a pair
    of parts when the buffer is full or old enough; :meth:`flush` writes what is buffered.
    """

    def __init__(
        self,
        directory: Path,
        experiment: Experiment,
        manifest: dict[str, Any],
        done: set[int],
        failed: int,
        next_part: int,
        *,
        flush_runs: int = 200,
        flush_seconds: float = 10.0,
    ) -> None:
        self.directory = directory
        self.experiment = experiment
        self.manifest = manifest
        self.done = done
        """Run ids already saved."""
        self.failed = failed
        """Saved runs that raised."""
        self.flush_runs = flush_runs
        self.flush_seconds = flush_seconds
        self._next_part = next_part
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
        """Start a sweep in ``directory``, or resume the one there.

        Raises:
            RelsimError: if the directory holds something else, or a sweep of a different
                experiment, or a sweep and neither ``resume`` nor ``overwrite`` was asked for.
        """
        directory = Path(directory)
        manifest_path = directory / MANIFEST
        existing = _read_manifest(manifest_path) if manifest_path.exists() else None
        if directory.exists() and not directory.is_dir():
            raise RelsimError(f"{directory}: exists and is not a directory")
        if directory.exists() and any(directory.iterdir()) and existing is None:
            raise RelsimError(
                f"{directory}: refusing to write a sweep here: it is not empty and holds no "
                "relsim sweep"
            )
        if existing is not None and overwrite:
            shutil.rmtree(directory)
            existing = None
        if existing is not None and not resume:
            raise RelsimError(
                f"{directory}: holds a sweep already; add --resume to continue it, or "
                "--overwrite to start again"
            )
        if existing is not None:
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
            return cls._resume(directory, experiment, existing, **options)
        try:
            for sub in (RUNS, MONTHS):
                (directory / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RelsimError(
                f"{directory}: cannot create the sweep directory ({exc.strerror})"
            ) from None
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
        write_json(manifest_path, manifest)
        return cls(directory, experiment, manifest, set(), 0, 0, **options)

    @classmethod
    def _resume(
        cls, directory: Path, experiment: Experiment, manifest: dict[str, Any], **options: Any
    ) -> SweepStore:
        runs_dir, months_dir = directory / RUNS, directory / MONTHS
        for sub in (runs_dir, months_dir):
            sub.mkdir(exist_ok=True)
            for leftover in sub.glob(".*.tmp"):
                leftover.unlink()  # a part killed while being written
        runs_parts, months_parts = _parts(runs_dir), _parts(months_dir)
        for seq, path in months_parts.items():
            if seq not in runs_parts:
                path.unlink()  # its runs part was never committed: those runs will run again
        done: set[int] = set()
        failed = 0
        for path in runs_parts.values():
            table = pq.read_table(path, columns=["run_id", "status"])
            done.update(table.column("run_id").to_pylist())
            failed += sum(1 for s in table.column("status").to_pylist() if s != "ok")
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
        next_part = max(runs_parts, default=-1) + 1
        return cls(directory, experiment, manifest, done, failed, next_part, **options)

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
        """Write buffered runs as one months part and one runs part (months first)."""
        self._last_flush = time.monotonic()
        rows = self._rows
        if not rows:
            return
        seq = self._next_part
        name = f"part-{seq:06d}.parquet"
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
        """
        self.flush()
        if interrupted:
            status = "interrupted"
        else:
            status = "complete" if len(self.done) == self.experiment.n_runs else "incomplete"
        self.manifest["status"] = status
        self.manifest["finished"] = _now()
        self.manifest["runs_done"] = len(self.done)
        self.manifest["runs_failed"] = self.failed
        write_json(self.directory / MANIFEST, self.manifest)


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("relsim") == "sweep" else None


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


def _committed_parts(directory: Path, table: str) -> list[Path]:
    """The part files of ``table`` (``runs`` or ``months``) that hold committed runs, in order.

    Every runs part is committed: it is the commit record. A months part is committed when the
    runs part of the same number exists; one without it is the series of runs a kill stopped
    before their runs part was written, which ``--resume`` removes and runs again.
    """
    runs = _parts(directory / RUNS)  # first: a months part is written before its runs part
    if table == RUNS:
        return [runs[n] for n in sorted(runs)]
    months = _parts(directory / MONTHS)
    return [months[n] for n in sorted(months) if n in runs]


def _read(directory: Path, table: str, columns: Sequence[str] | None) -> pd.DataFrame:
    parts = _committed_parts(directory, table)
    if not parts:
        return pd.DataFrame(columns=list(columns or []))
    frame = pq.ParquetDataset(parts).read(columns=list(columns) if columns else None).to_pandas()
    return frame


def read_runs(directory: Path | str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The runs table of a sweep, one row per committed run, sorted by run id."""
    directory = Path(directory)
    read_manifest(directory)
    frame = _read(directory, RUNS, columns)
    if "run_id" in frame:
        frame = frame.sort_values("run_id", kind="stable").reset_index(drop=True)
    return frame


def read_months(
    directory: Path | str,
    columns: Sequence[str] | None = None,
    *,
    with_factors: bool = False,
) -> pd.DataFrame:
    """The months table of a sweep (each committed run's monthly series), sorted by run and month.

    It holds the runs of the runs table only: a months part without the runs part of its number
    (a sweep killed between writing the two) is not read. ``with_factors=True`` adds each run's
    ``point``, ``replication``, ``seed`` and factor columns after ``run_id``
    (:func:`with_run_columns`), for grouping the series by design point without a join.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    wanted = None if columns is None else list(dict.fromkeys(["run_id", "month", *columns]))
    frame = _read(directory, MONTHS, wanted)
    if len(frame):
        frame = frame.sort_values(["run_id", "month"], kind="stable").reset_index(drop=True)
    if with_factors:
        frame = with_run_columns(frame, directory, list(manifest["factors"]))
    return frame


def with_run_columns(months: pd.DataFrame, directory: Path, factors: Sequence[str]) -> pd.DataFrame:
    """A months table with each run's ids, seed and factor values from the runs table."""
    keys = [*RUN_ID_COLUMNS, *factors]
    runs = read_runs(directory, columns=keys)
    merged = months.merge(runs, on="run_id", how="left", validate="many_to_one")
    return merged[[*keys, *(c for c in months.columns if c != "run_id")]]
