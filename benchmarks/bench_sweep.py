"""Throughput and peak memory of `relsim sweep` against `mesa.batch_run` (issue 3's targets).

Three measurements, each in a fresh process so that memory is comparable:

1. The governance comparison (experiments/governance_comparison.toml: 4 rules x compact on/off
   x 200 replications = 1,600 runs of the NHS-VMI scenario, 60 months, at the defaults: the
   bundled file's `[posterior]` is left out, since batch_run cannot draw a parameter set per
   replication and runs with different parameters are not stepped together) through `relsim sweep`
   and through `mesa.batch_run` driving `RegulationModel` on the same runs and seeds, both
   keeping every run's monthly series and both on 2 processes (batch_run also on 1). Targets:
   relsim at least 2x batch_run's throughput, at no more than a third of its peak memory.
2. `relsim sweep` on 1 and on 2 workers: parallel efficiency (target >= 85% on 2 cores).
3. 1,000 runs of the NHS-VMI scenario through `relsim sweep` (target <= 15 s on 2 cores).

Peak memory is the largest total proportional set size (PSS) of the process and all its
children, sampled every 50 ms: memory shared between processes (relsim's workers are forked
from the parent, which has already imported relsim) is counted once, not once per process as the
resident set size would. Every Python process that imports Mesa holds about 140 MiB (Mesa
brings in pandas, pyarrow, SciPy and networkx), so at the headline's size both tools are mostly
that floor; what differs is growth with the number of runs, measured again at five times the
size (4,000 runs). Throughput counts the whole command: start-up, runs and writing results (for
batch_run, turning its rows into a DataFrame, as a user would).

Time and memory come from separate runs of each command: reading every process's memory map
20 times a second costs CPU on the same two cores the sweep needs (about 1 ms a process a
read), which slowed the two-worker sweep by about 5% and biased the parallel efficiency.

Since sweeps step a design point's replications together (:mod:`relsim.model.batch`), the runs of
the headline take about 1.6 s of one core, so the fixed costs of the command (importing relsim,
Mesa and SciPy; the summary) weigh on the parallel efficiency at 800 runs; it is measured again
at 4,000 runs, where the runs dominate.

Run: ``.venv/bin/python benchmarks/bench_sweep.py`` (about three minutes) on an otherwise idle
machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import psutil

from relsim.runs.experiment import load_experiment

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

BATCH_RUN = textwrap.dedent(
    """
    import sys, time, json
    import pandas as pd
    import mesa
    from relsim import RegulationModel
    from relsim.runs.experiment import load_experiment, run_seed

    if __name__ == "__main__":  # batch_run's workers are spawned: they re-import this file
        experiment = load_experiment(sys.argv[1])
        processes = int(sys.argv[2])
        seeds = [run_seed(experiment.seed, r) for r in range(experiment.replications)]
        rows = mesa.batch_run(
            RegulationModel,
            parameters={
                "scenario": experiment.base,
                **{k.replace(".", "__"): list(v) for k, v in experiment.factors},
                "record": "months",
            },
            rng=seeds,
            number_processes=processes,
            data_collection_period=1,
            max_steps=10_000,
            display_progress=False,
        )
        frame = pd.DataFrame(rows)
        print(json.dumps({"runs": int(frame["RunId"].nunique()), "rows": len(frame)}))
        frame.drop(columns=["scenario"]).to_parquet(sys.argv[3])
    """
)


def measure(args: list[str]) -> tuple[float, float, str]:
    """Wall time (s) of a command, then peak PSS of its process tree (MiB) in a second run.

    Returns the time, the peak memory and the stdout of the timed run.
    """
    seconds, _, out = _run(args, sample=False)
    _, peak, _ = _run(args, sample=True)
    return seconds, peak, out


def _run(args: list[str], *, sample: bool) -> tuple[float, float, str]:
    start = time.perf_counter()
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
    )
    peak = 0
    done = threading.Event()

    def sampler() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                total = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_full_info().pss
                peak = max(peak, total)
            except psutil.Error:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=sampler, daemon=True)
    if sample:
        thread.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    if sample:
        thread.join()
    if process.returncode:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(args)}")
    return seconds, peak / 2**20, out


def sweep(experiment: Path, out: Path, workers: int) -> tuple[float, float]:
    seconds, peak, _ = measure(
        [
            PY,
            "-m",
            "relsim.cli",
            "sweep",
            str(experiment),
            "--out",
            str(out),
            "--overwrite",
            "--workers",
            str(workers),
            "--no-summary",
            "--quiet",
        ]
    )
    return seconds, peak


def batch_run(experiment: Path, out: Path, processes: int) -> tuple[float, float]:
    script = out.with_suffix(".py")
    script.write_text(BATCH_RUN)
    seconds, peak, text = measure([PY, str(script), str(experiment), str(processes), str(out)])
    json.loads(text.strip().splitlines()[-1])
    return seconds, peak


def check_same_results(sweep_dir: Path, batch_file: Path) -> bool:
    """batch_run and relsim sweep ran the same runs with the same seeds: same series."""
    import pandas as pd

    from relsim.runs.store import read_months, read_runs

    runs = read_runs(sweep_dir)
    months = read_months(sweep_dir)
    batch = pd.read_parquet(batch_file)
    checked = 0
    for _, run in runs.sample(8, random_state=1).iterrows():
        mine = months[months["run_id"] == run["run_id"]]["mean_trust_in_regulator"].to_numpy()
        theirs = (
            batch[
                (batch["governance__mode"] == run["governance.mode"])
                & (batch["governance__compact__enabled"] == run["governance.compact.enabled"])
                & (batch["iteration"] == run["replication"])
            ]
            .sort_values("Step")["mean_trust_in_regulator"]
            .to_numpy()
        )
        checked += bool((mine == theirs).all())
    return checked == 8


def main() -> None:
    cores = len(os.sched_getaffinity(0))
    bundled = ROOT / "experiments" / "governance_comparison.toml"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # At the defaults: without the [posterior] table (the last one in the file).
        experiment = tmp / "governance_comparison.toml"
        experiment.write_text(bundled.read_text().split("[posterior]")[0])
        runs = load_experiment(experiment).n_runs
        print(f"machine: {cores} cores; governance comparison = {runs} runs x 61 months\n")
        posterior = tmp / "posterior.toml"
        posterior.write_text(
            bundled.read_text().replace(
                'file = "calibrations/', f'file = "{ROOT / "experiments" / "calibrations"}/'
            )
        )
        seconds, peak = sweep(posterior, tmp / "sp", 2)
        print(
            f"{'relsim sweep over the posterior':30s} {seconds:6.2f} s  {runs / seconds:6.1f} "
            f"runs/s  peak {peak:6.0f} MiB   (make run's headline; one model per run)"
        )
        results = {}
        for name, fn in (
            ("relsim sweep, 2 workers", lambda: sweep(experiment, tmp / "s2", 2)),
            ("relsim sweep, 1 worker", lambda: sweep(experiment, tmp / "s1", 1)),
            ("mesa.batch_run, 2 processes", lambda: batch_run(experiment, tmp / "b2.parquet", 2)),
            ("mesa.batch_run, 1 process", lambda: batch_run(experiment, tmp / "b1.parquet", 1)),
        ):
            seconds, peak = fn()
            results[name] = (seconds, peak)
            print(
                f"{name:30s} {seconds:6.2f} s  {runs / seconds:6.1f} runs/s  peak {peak:6.0f} MiB"
            )
        same = check_same_results(tmp / "s2", tmp / "b2.parquet")
        print(f"\nsame monthly series from both, on 8 sampled runs: {same}")
        s2, b2 = results["relsim sweep, 2 workers"], results["mesa.batch_run, 2 processes"]
        s1 = results["relsim sweep, 1 worker"]
        b1 = results["mesa.batch_run, 1 process"]
        speed = b2[0] / s2[0]
        memory = s2[1] / b2[1]
        print(f"throughput vs batch_run (both 2 processes): {speed:.2f}x   (target >= 2x)")
        print(f"throughput vs batch_run on its default (1 process): {b1[0] / s2[0]:.2f}x")
        print(f"peak memory vs batch_run (both 2 processes): {memory:.2f}   (target <= 0.33)")
        efficiency = s1[0] / (2 * s2[0])
        print(f"parallel efficiency, 1 -> 2 workers: {efficiency:.0%}   (target >= 85%)")
        print(
            "  (the whole command: importing relsim and Mesa, about 0.9 s, and the summary at "
            "the end, about 0.6 s, run on one core whatever the workers)"
        )
        _, floor, _ = _run([PY, "-c", "import mesa, time; time.sleep(1)"], sample=True)
        print(
            f"for scale: a Python process that only imports Mesa holds {floor:.0f} MiB, "
            f"{floor / b2[1]:.2f} of batch_run's peak"
        )

        large = tmp / "large.toml"
        large.write_text(
            experiment.read_text()
            .replace("replications = 200", "replications = 1000")
            .replace('"../scenarios/nhs_vmi_partnership.toml"', '"nhs_vmi_partnership"')
        )
        ls, lpeak = sweep(large, tmp / "l", 2)
        ls1, _ = sweep(large, tmp / "l1", 1)
        bs, bpeak = batch_run(large, tmp / "bl.parquet", 2)
        print(
            f"\nat {5 * runs:,} runs (1,000 replications), both on 2 processes:\n"
            f"{'relsim sweep':30s} {ls:6.2f} s  {5 * runs / ls:6.1f} runs/s  "
            f"peak {lpeak:6.0f} MiB\n"
            f"{'mesa.batch_run':30s} {bs:6.2f} s  {5 * runs / bs:6.1f} runs/s  "
            f"peak {bpeak:6.0f} MiB\n"
            f"throughput {bs / ls:.2f}x, peak memory {lpeak / bpeak:.2f} of batch_run's\n"
            f"relsim sweep on 1 worker: {ls1:.2f} s; parallel efficiency {ls1 / (2 * ls):.0%}"
        )

        thousand = tmp / "thousand.toml"
        thousand.write_text(
            '[experiment]\nname = "1000 runs"\nscenario = "nhs_vmi_partnership"\n'
            "replications = 1000\nseed = 1\n"
        )
        seconds, peak = sweep(thousand, tmp / "t", min(cores, 2))
        print(
            f"\n1,000 NHS-VMI runs, {min(cores, 2)} workers: {seconds:.2f} s, peak {peak:.0f} MiB"
            "   (target <= 15 s)"
        )


if __name__ == "__main__":
    main()
