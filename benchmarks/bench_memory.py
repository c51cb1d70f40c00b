"""Peak memory of the commands that read a sweep, at 2,000, 20,000 and 200,000 runs (issue 18).

``relsim summarize``, ``report``, ``plot``, ``export --format csv`` and ``export --format ema``
each run in a fresh process on sweeps of the governance comparison's four cells with 120-month
runs; the peak resident set size of each command (``ru_maxrss``) is reported with its time. The
target: within 1 GB at 200,000 runs, and no growth with the number of runs from the months
table (the runs table, one row of a few hundred bytes per run, is still read whole).

The stores are **synthetic**: running 200,000 real runs of 120 months takes hours on two
cores, so a real sweep of 40 runs (10 replications of each cell, 120 months) is run once and
its parts are used as templates. A store of N runs has the real manifest of an experiment with
N / 4 replications, and parts of 200 runs (``relsim sweep``'s default flush) in which each run
is a copy of one of its cell's ten template runs, under its own run id, replication and seed.
Its files have the real schema and sizes; only the values repeat. Typical runs re-simulated by
``report`` and ``plot`` therefore do not reproduce their stored series, which they say.

Run: ``.venv/bin/python benchmarks/bench_memory.py [SIZES...] [--keep DIR]`` (sizes default to
2000 20000 200000; about 40 minutes in all on two cores, most of it the 200,000-run exports).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
MONTHS = 120
TEMPLATE_REPLICATIONS = 10
PART_RUNS = 200

EXPERIMENT = """
[experiment]
name = "governance comparison, {runs} runs"
scenario = "nhs_vmi_partnership"
replications = {replications}
seed = 20151001
[base]
"scenario.months" = {months}
[factors]
"governance.mode" = ["hierarchical", "networked"]
"governance.compact.enabled" = [true, false]
"""

COMMANDS = {
    "summarize": ["summarize", "{sweep}", "--quiet"],
    "report": ["report", "{sweep}", "--out", "{out}/report.html", "--quiet"],
    "plot": ["plot", "{sweep}", "--out", "{out}/figures", "--quiet"],
    "export csv": ["export", "{sweep}", "--format", "csv", "--out", "{out}/csv", "--quiet"],
    "export ema": ["export", "{sweep}", "--format", "ema", "--out", "{out}/ema.tar.gz", "--quiet"],
}

#: Runs a command in a child and prints the child's peak RSS (kB) and wall time as JSON.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "seconds": time.perf_counter() - start,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "stderr": done.stderr[-2000:]}))
"""


def experiment_file(folder: Path, runs: int) -> Path:
    path = folder / f"governance-{runs}.toml"
    text = EXPERIMENT.format(runs=runs, replications=runs // 4, months=MONTHS)
    path.write_text(text, encoding="utf-8")
    return path


def templates(folder: Path) -> tuple[pa.Table, pa.Table]:
    """A real sweep's runs and months tables (40 runs of 120 months), run once."""
    out = folder / "template"
    if not (out / "manifest.json").exists():
        path = experiment_file(folder, 4 * TEMPLATE_REPLICATIONS)
        relsim = [sys.executable, "-m", "relsim.cli"]
        args = ["sweep", str(path), "--out", str(out), "--no-summary", "--quiet", "--overwrite"]
        subprocess.run([*relsim, *args], check=True)
    from relsim.runs.store import read_months, read_runs

    return (
        pa.Table.from_pandas(read_runs(out), preserve_index=False),
        pa.Table.from_pandas(read_months(out), preserve_index=False),
    )


def synthetic_store(folder: Path, runs: int, runs_table: pa.Table, months_table: pa.Table) -> Path:
    """A store of ``runs`` runs built from the templates (see the module docstring)."""
    from relsim.runs.experiment import load_experiment, run_seed
    from relsim.runs.store import SweepStore

    out = folder / f"sweep-{runs}"
    if (out / "manifest.json").exists():
        return out
    experiment = load_experiment(experiment_file(folder, runs), check_design=False)
    store = SweepStore.open(out, experiment)
    store.finish()
    store.close()
    template_ids = runs_table.column("run_id").to_numpy()
    points = runs_table.column("point").to_numpy()
    rows_of = {int(i): pc.equal(months_table.column("run_id"), int(i)) for i in template_ids}
    series = {int(i): months_table.filter(mask) for i, mask in rows_of.items()}
    by_point = {p: template_ids[points == p] for p in np.unique(points)}
    for start in range(0, runs, PART_RUNS):
        ids = np.arange(start, min(runs, start + PART_RUNS))
        point, replication = ids % 4, ids // 4
        chosen = np.array(
            [
                by_point[p][r % TEMPLATE_REPLICATIONS]
                for p, r in zip(point, replication, strict=True)
            ]
        )
        index = np.searchsorted(template_ids, chosen)
        part_runs = runs_table.take(index)
        seeds = [run_seed(experiment.seed, int(r)) for r in replication]
        for name, values in (("run_id", ids), ("replication", replication), ("seed", seeds)):
            column = pa.array(values, pa.int64())
            part_runs = part_runs.set_column(part_runs.schema.get_field_index(name), name, column)
        pieces = []
        for run_id, template in zip(ids, chosen, strict=True):
            piece = series[int(template)]
            pieces.append(piece.set_column(0, "run_id", pa.array(np.full(piece.num_rows, run_id))))
        name = f"part-{start // PART_RUNS:06d}.parquet"
        pq.write_table(pa.concat_tables(pieces), out / "months" / name, compression="zstd")
        pq.write_table(part_runs, out / "runs" / name, compression="zstd")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.update(status="complete", runs_done=runs, runs_failed=0)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return out


def measure(sweep: Path, scratch: Path) -> dict[str, dict[str, float]]:
    results = {}
    for name, template in COMMANDS.items():
        out = scratch / name.replace(" ", "-")
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        args = [a.format(sweep=sweep, out=out) for a in template]
        command = [sys.executable, "-c", MEASURE, sys.executable, "-m", "relsim.cli", *args]
        env = {**os.environ, "MPLBACKEND": "Agg"}
        done = json.loads(
            subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
        )
        if done["rc"] != 0:
            print(f"  {name}: failed ({done['rc']}): {done['stderr']}", file=sys.stderr)
        results[name] = {"peak_mb": done["peak_kb"] / 1024, "seconds": done["seconds"]}
        print(
            f"  {name:12s} peak {done['peak_kb'] / 1024:7.0f} MB  {done['seconds']:7.1f} s",
            flush=True,
        )
        shutil.rmtree(out, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[2000, 20000, 200000])
    parser.add_argument("--keep", type=Path, help="keep the stores in this folder (reused)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="relsim-bench-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        runs_table, months_table = templates(folder)
        report = {}
        for size in args.sizes:
            start = time.perf_counter()
            sweep = synthetic_store(folder, size, runs_table, months_table)
            took = time.perf_counter() - start
            print(f"{size} runs of {MONTHS} months (store written in {took:.0f} s):")
            report[size] = measure(sweep, folder / "outputs")
        print(json.dumps(report, indent=2))
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
