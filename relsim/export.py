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
spreadsheets.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from relsim.errors import RelsimError
from relsim.store import RUN_ID_COLUMNS, STATUS_COLUMNS, read_manifest, read_months, read_runs

#: Monthly series exported as EMA time-series outcomes (plus ``adopters_<practice>``).
SERIES = ("mean_trust_in_regulator", "mean_peer_trust", "mean_capability", "pressure")
EMA_METADATA_VERSION = 0.1
FORMATS = ("ema", "csv")


def ema_tables(directory: Path | str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A sweep as EMA Workbench's ``(experiments, outcomes)``: finished runs only."""
    manifest = read_manifest(directory)
    runs = read_runs(directory)
    runs = runs[runs["status"] == "ok"].reset_index(drop=True)
    factors = list(manifest["factors"])
    experiments = pd.DataFrame({f: runs[f] for f in factors})
    for name in factors:
        if experiments[name].dtype == object or pd.api.types.is_string_dtype(experiments[name]):
            experiments[name] = experiments[name].astype("category")
    experiments["scenario"] = runs["run_id"].astype(str)
    mode = runs.get("governance.mode", "none")
    experiments["policy"] = pd.Series(mode, index=runs.index, dtype=object).astype(str)
    experiments["model"] = "relsim"
    for column in ("scenario", "policy", "model"):
        experiments[column] = experiments[column].astype("category")
    skip = {*RUN_ID_COLUMNS, *STATUS_COLUMNS, *factors}
    outcomes: dict[str, np.ndarray] = {
        c: runs[c].to_numpy(float) for c in runs.columns if c not in skip
    }
    practices = [p["name"] for p in manifest["scenario"]["practices"]]
    series = [*SERIES, *(f"adopters_{p}" for p in practices)]
    months = read_months(directory, columns=series)
    months = months[months["run_id"].isin(runs["run_id"])]
    for name in series:
        wide = months.pivot(index="run_id", columns="month", values=name)
        outcomes[name] = wide.reindex(runs["run_id"]).to_numpy(float)
    return experiments, outcomes


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0  # the same sweep gives the same archive
    archive.addfile(info, io.BytesIO(data))


def write_ema(experiments: pd.DataFrame, outcomes: dict[str, np.ndarray], path: Path) -> None:
    """Write EMA Workbench's results archive (``save_results`` layout) atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    entries = []
    # No file name or time in the gzip header: the same sweep gives the same bytes.
    with (
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w") as archive,
    ):
        _add(archive, "experiments.csv", experiments.to_csv(index=False).encode())
        for name, values in outcomes.items():
            if values.ndim == 1:
                kind, filename = "ScalarOutcome", f"{name}.cls"
                text = pd.DataFrame(values).to_csv(header=False, index=False)
            else:
                kind, filename = "TimeSeriesOutcome", f"{name}.csv"
                text = pd.DataFrame(values).to_csv(header=True, index=False)
            _add(archive, filename, text.encode())
            entries.append((kind, name, filename))
        metadata = {
            "version": EMA_METADATA_VERSION,
            "outcomes": entries,
            "experiments": {k: v.name for k, v in experiments.dtypes.to_dict().items()},
        }
        _add(archive, "metadata.json", json.dumps(metadata).encode())
    os.replace(tmp, path)


def export(directory: Path | str, fmt: str, out: Path | str) -> list[Path]:
    """Export a sweep; returns the files written.

    Raises:
        RelsimError: for an unknown format or an output that cannot be written.
    """
    out = Path(out)
    if fmt not in FORMATS:
        raise RelsimError(f"--format: expected one of {', '.join(FORMATS)} (got {fmt!r})")
    if not out.parent.is_dir():
        raise RelsimError(f"{out}: its folder does not exist")
    if fmt == "ema":
        if out.exists() and out.is_dir():
            raise RelsimError(f"{out}: is a directory (expected a .tar.gz file name)")
        experiments, outcomes = ema_tables(directory)
        write_ema(experiments, outcomes, out)
        return [out]
    if out.exists() and not out.is_dir():
        raise RelsimError(f"{out}: exists and is not a directory")
    out.mkdir(exist_ok=True)
    written = []
    for name, frame in (("runs", read_runs(directory)), ("months", read_months(directory))):
        path = out / f"{name}.csv"
        tmp = path.with_name(f".{name}.csv.tmp")
        frame.to_csv(tmp, index=False, float_format="%.8g")
        os.replace(tmp, path)
        written.append(path)
    return written
