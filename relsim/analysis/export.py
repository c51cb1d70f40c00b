"""Export a sweep to other tools: EMA Workbench's results archive, or plain CSV files.

**EMA Workbench** (Kwakkel 2017) analyses "experiments" (one row per run: the inputs) against
"outcomes" (arrays, one entry per run) with PRIM, CART, feature scoring and more. ``--format
ema`` writes the ``.tar.gz`` layout of its ``save_results`` (version 0.1 of its metadata, as in
EMA Workbench 2.x and 3.x): ``experiments.csv``, ``metadata.json`` and one file per outcome,
so that ``ema_workbench.load_results(path)`` returns ``(experiments, outcomes)`` ready for
``ema_workbench.analysis.prim``. Each run's outcomes are scalar outcomes; a few monthly series
(trust, capability, adoption) are time-series outcomes. Only runs that finished are exported.
In the experiments, ``scenario`` is the run's id, ``policy`` the governance mode when it was
varied, and ``model`` is ``relsim``.

**CSV** (``--format csv``) writes ``runs.csv`` and ``months.csv`` into a folder, for
spreadsheets, with a ``manifest.json`` that marks the folder as relsim's export.

Nothing is half-written or lost: the sweep is read and the output built beside its destination
before one rename puts it in place, so a failed export leaves everything as it was.

Memory does not grow with the sweep: the months table is read in blocks of runs
(:class:`relsim.runs.store.SweepMonths`) and written block by block, ``months.csv`` directly and
each EMA time series to a scratch file beside the archive, from which it is copied into the
archive; the bytes are the same as if the whole table had been read at once. An existing
archive or folder is replaced only when it is a previous relsim export, recognised by the mark
relsim leaves in it (``"relsim": "export"`` in the archive's ``metadata.json``, which EMA
Workbench ignores, or in the folder's ``manifest.json``), the rule :mod:`relsim.atomic` applies to
every directory relsim writes. Anything else there is refused, never overwritten.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tarfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from relsim.atomic import (
    MANIFEST,
    atomic_directory,
    atomic_file,
    scratch_directory,
    write_json,
)
from relsim.errors import RelsimError
from relsim.runs.store import (
    RUN_ID_COLUMNS,
    STATUS_COLUMNS,
    SweepMonths,
    posterior_columns,
    read_manifest,
    read_runs,
)

#: Monthly series exported as EMA time-series outcomes (plus ``adopters_<practice>``).
SERIES = ("mean_trust_in_regulator", "mean_peer_trust", "mean_capability", "pressure")
EMA_METADATA_VERSION = 0.1
EMA_SUFFIX = ".tar.gz"
FORMATS = ("ema", "csv")
#: The ``"relsim"`` mark of an export (archive metadata, folder manifest): only these are replaced.
KIND = "export"
#: relsim's own metadata.json is a few kilobytes; a larger one is not ours, and is not read.
_METADATA_LIMIT = 1 << 20


def ema_inputs(directory: Path | str) -> tuple[pd.DataFrame, dict[str, np.ndarray], list[str]]:
    """A sweep's finished runs as EMA Workbench's experiments and scalar outcomes.

    Returns:
        The experiments (one row per finished run, by run id), the scalar outcomes, and the
        names of the time-series outcomes (:data:`SERIES` and each practice's adopters).
    """
    manifest = read_manifest(directory)
    runs = read_runs(directory)
    runs = runs[runs["status"] == "ok"].reset_index(drop=True)
    factors = list(manifest["factors"])
    drawn = posterior_columns(manifest)  # the posterior's parameters are uncertainties too
    experiments = pd.DataFrame({f: runs[f] for f in [*factors, *drawn]})
    # Which seed and replication each run had: to pair runs, or to re-run one.
    experiments["seed"] = runs["seed"].astype("int64")
    experiments["replication"] = runs["replication"].astype("int64")
    for name in factors:
        if experiments[name].dtype == object or pd.api.types.is_string_dtype(experiments[name]):
            experiments[name] = experiments[name].astype("category")
    experiments["scenario"] = runs["run_id"].astype(str)
    mode = runs.get("governance.mode", "none")
    experiments["policy"] = pd.Series(mode, index=runs.index, dtype=object).astype(str)
    experiments["model"] = "relsim"
    for column in ("scenario", "policy", "model"):
        experiments[column] = experiments[column].astype("category")
    skip = {*RUN_ID_COLUMNS, *STATUS_COLUMNS, *factors, *drawn}
    outcomes: dict[str, np.ndarray] = {
        c: runs[c].to_numpy(float) for c in runs.columns if c not in skip
    }
    practices = [p["name"] for p in manifest["scenario"]["practices"]]
    return experiments, outcomes, [*SERIES, *(f"adopters_{p}" for p in practices)]


def write_series(
    directory: Path | str, run_ids: np.ndarray, series: list[str], scratch: Path
) -> dict[str, Path]:
    """Each time series as EMA's CSV (a row per run, a column per month), block by block.

    Args:
        directory: The sweep.
        run_ids: The runs, in the order of the experiments' rows (sorted).
        series: Monthly columns to write.
        scratch: A folder for the files.

    Returns:
        Each series' file.
    """
    months = SweepMonths(directory)
    width = months.last_month() + 1
    paths = {name: scratch / f"{name}.csv" for name in series}
    streams = {name: open(path, "w", newline="") for name, path in paths.items()}  # noqa: SIM115
    try:
        for stream in streams.values():
            pd.DataFrame(np.zeros((0, width))).to_csv(stream, header=True, index=False)
        blocks = scratch / "blocks"
        blocks.mkdir()
        for ids, block in months.by_run(series, scratch=blocks, run_ids=run_ids):
            for name, stream in streams.items():
                wide = block.pivot(index="run_id", columns="month", values=name)
                values = wide.reindex(index=ids, columns=range(width)).to_numpy(float)
                pd.DataFrame(values).to_csv(stream, header=False, index=False)
    finally:
        for stream in streams.values():
            stream.close()
    return paths


def _add(archive: tarfile.TarFile, name: str, data: bytes | Path) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = 0  # the same sweep gives the same archive
    if isinstance(data, Path):
        info.size = data.stat().st_size
        with open(data, "rb") as stream:
            archive.addfile(info, stream)
    else:
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def ema_archive(
    experiments: pd.DataFrame,
    outcomes: dict[str, np.ndarray],
    series: dict[str, Path],
    stream: IO[bytes],
) -> None:
    """Write EMA Workbench's results archive (``save_results`` layout) to a binary stream.

    The same sweep gives the same bytes.

    Args:
        experiments: One row per run.
        outcomes: Scalar outcomes, one value per run.
        series: Files of time-series outcomes (:func:`write_series`), copied in.
        stream: Where the archive goes.
    """
    entries = []
    # No file name or time in the gzip header: the same sweep gives the same bytes.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=stream, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w") as archive,
    ):
        _add(archive, "experiments.csv", experiments.to_csv(index=False).encode())
        for name, values in outcomes.items():
            text = pd.DataFrame(values).to_csv(header=False, index=False)
            _add(archive, f"{name}.cls", text.encode())
            entries.append(("ScalarOutcome", name, f"{name}.cls"))
        for name, path in series.items():
            _add(archive, f"{name}.csv", path)
            entries.append(("TimeSeriesOutcome", name, f"{name}.csv"))
        metadata = {
            "version": EMA_METADATA_VERSION,
            "outcomes": entries,
            "experiments": {k: v.name for k, v in experiments.dtypes.to_dict().items()},
            "relsim": KIND,  # EMA Workbench reads only the keys above
        }
        _add(archive, "metadata.json", json.dumps(metadata).encode())


def is_ema_export(path: Path | str) -> bool:
    """Whether ``path`` is an archive relsim exported (its ``metadata.json`` bears the mark).

    Only a regular file is opened (never a FIFO or device, which could block or be consumed).
    """
    path = Path(path)
    if not path.is_file():
        return False
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = archive.getmember("metadata.json")
            stream = archive.extractfile(member)
            if stream is None or member.size > _METADATA_LIMIT:
                return False
            metadata = json.loads(stream.read())
    except (OSError, EOFError, KeyError, ValueError, tarfile.TarError, zlib.error):
        return False
    return isinstance(metadata, dict) and metadata.get("relsim") == KIND


def write_ema(directory: Path | str, path: Path) -> None:
    """Write a sweep's EMA Workbench archive to ``path`` atomically, in bounded memory.

    Raises:
        RelsimError: if the sweep cannot be read or the archive cannot be written.
    """
    path = Path(path)
    experiments, outcomes, names = ema_inputs(directory)
    run_ids = experiments["scenario"].astype(int).to_numpy()
    try:
        with scratch_directory(path) as scratch:
            series = write_series(directory, run_ids, names, scratch)
            with atomic_file(path, "the archive") as tmp, open(tmp, "wb") as stream:
                ema_archive(experiments, outcomes, series, stream)
    except OSError as exc:
        raise RelsimError(f"{path}: cannot write the archive ({exc.strerror})") from None


def _check_ema_target(out: Path, as_given: str) -> None:
    """Refuse an archive name that is not ``*.tar.gz``, or a file relsim did not export."""
    if as_given.endswith(("/", os.sep)) or not out.name.lower().endswith(EMA_SUFFIX):
        raise RelsimError(
            f"{as_given}: expected a file name ending in {EMA_SUFFIX} for the EMA Workbench archive"
        )
    if out.is_dir():
        raise RelsimError(f"{out}: is a directory (expected a {EMA_SUFFIX} file name)")
    if out.exists() and not is_ema_export(out):
        raise RelsimError(
            f"{out}: refusing to overwrite: it exists and is not an archive relsim exported "
            "(remove it, or choose another --out)"
        )


def write_spreadsheet_csv(table: pd.DataFrame, out: Path | IO[str], header: bool = True) -> None:
    """A table as CSV for spreadsheets: text quoted, numbers not, seeds as (quoted) text.

    Seeds have up to 19 digits, and a spreadsheet that reads them as numbers keeps 15: quoted,
    they are text to a reader that honours quotes (LibreOffice's "quoted field as text", or a
    column imported as text). Floats keep 8 significant digits, as a run's CSV files do.

    Args:
        table: The rows to write.
        out: A file to write, or an open text stream to append to (a block of a long table).
        header: Whether to write the column names first (only the first block does).
    """
    table = table.copy()
    if "seed" in table:
        table["seed"] = table["seed"].astype(str)
    for column in table.columns:
        if pd.api.types.is_float_dtype(table[column]):
            table[column] = table[column].map(lambda v: v if np.isnan(v) else float(f"{v:.8g}"))
    table.to_csv(out, index=False, header=header, quoting=csv.QUOTE_NONNUMERIC)


def _write_csv(directory: Path, out: Path) -> list[Path]:
    """Write the CSV folder whole or not at all (:func:`relsim.atomic.atomic_directory`)."""
    if out.exists() and not out.is_dir():
        raise RelsimError(f"{out}: exists and is not a directory")
    names = []
    # atomic_directory refuses a folder relsim did not export before anything is read or made;
    # if reading the sweep or writing fails, its temporary folder goes and ``out`` stays as it was.
    try:
        with atomic_directory(out, kind=KIND) as tmp:
            write_spreadsheet_csv(read_runs(directory), tmp / "runs.csv")
            months = SweepMonths(directory)
            with (
                scratch_directory(out) as scratch,
                open(tmp / "months.csv", "w", newline="") as stream,
            ):
                header = True
                for _, block in months.by_run(scratch=scratch):
                    write_spreadsheet_csv(block, stream, header=header)
                    header = False
                if header:  # no run has a series: the header alone
                    write_spreadsheet_csv(months.read(run_ids=np.zeros(0, dtype=np.int64)), stream)
            names += ["runs.csv", "months.csv"]
            write_json(
                tmp / MANIFEST,
                {
                    "relsim": KIND,
                    "format": "csv",
                    "source": str(directory.resolve()),
                    "files": names,
                },
            )
    except OSError as exc:
        raise RelsimError(f"{out}: cannot write the export ({exc.strerror})") from None
    return [out / name for name in names]


def export(directory: Path | str, fmt: str, out: Path | str) -> list[Path]:
    """Export a sweep; returns the files written.

    Nothing is written unless the whole export succeeds, and only a previous relsim export is
    ever replaced.

    Raises:
        RelsimError: for an unknown format, a directory that holds no sweep, an ``--out`` that
            is not a ``.tar.gz`` name (ema) or is something relsim did not export, or an output
            that cannot be written.
    """
    directory = Path(directory)
    as_given = str(out)
    out = Path(out)
    if fmt not in FORMATS:
        raise RelsimError(f"--format: expected one of {', '.join(FORMATS)} (got {fmt!r})")
    if fmt == "ema":
        _check_ema_target(out, as_given)
    if not out.parent.is_dir():
        raise RelsimError(f"{out}: its folder does not exist")
    if fmt == "csv":
        return _write_csv(directory, out)
    write_ema(directory, out)
    return [out]
