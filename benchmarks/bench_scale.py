"""Cost of the whole system: 210 trusts in 42 regions, and four times as many (issue 6's targets).

Targets: one run of ``england_system`` (210 trusts, 42 regional networks, 120 months, every
table built) within 1 s; four times the trusts (840 in 168 regions) within 4.5 times that
(cost about linear in the trusts for regional structures). Also printed: the peak memory a run
allocates (tracemalloc, so NumPy arrays count), the per-pair state the model stores against the
(N + 1)² a dense matrix would need, and the rows of ``relationships.csv``; and, for comparison,
the same trusts under one shared board of all (``networked``), where every pair does meet and
the cost grows with the pairs.

A "run" is what ``simulate`` does: build the model, step it 120 months and build its tables;
writing CSV files is not included. Times are medians over several runs, alternating sizes so
that the load of a shared machine affects both alike.

Run: ``.venv/bin/python benchmarks/bench_scale.py`` (or ``make bench``); ``--quick`` runs fewer
repetitions.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc

from relsim import RegulationModel, load_scenario
from relsim.runs.simulation import simulate
from relsim.scenario import with_overrides

BASE = load_scenario("england_system")
SIZES = {"210 trusts / 42 regions": (210, 42), "840 trusts / 168 regions": (840, 168)}


def scenario(trusts: int, regions: int, mode: str | None = None):
    overrides = {"population.trusts": trusts, "population.regions": regions}
    if mode:
        overrides["governance.mode"] = mode
    return with_overrides(BASE, overrides)


def timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_mib(fn) -> float:
    """Peak memory allocated while ``fn`` runs, in MiB."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run_model(s) -> RegulationModel:
    model = RegulationModel(s, rng=1)
    model.run_model()
    return model


def storage(s) -> tuple[int, int, int, float]:
    """Per-pair entries stored at the end of a run, the dense (N+1)² count, relationships rows,
    and the MiB of per-pair history kept to build them."""
    model = run_model(s)
    rel, history = model.state.relations, model.history
    stored = int(rel.layout.valid.sum()) + len(rel.cross)
    dense = (rel.layout.n_trusts + 1) ** 2
    rows = len(history.relationships_frame())
    kept = history.blocks.nbytes + sum(v.nbytes for v in history.cross_values)
    return stored, dense, rows, kept / 2**20


def main(argv: list[str]) -> None:
    repeats = 3 if "--quick" in argv else 7
    scenarios = {label: scenario(*size) for label, size in SIZES.items()}
    for s in scenarios.values():
        simulate(s, seed=0)  # warm up
    times: dict[str, list[float]] = {label: [] for label in scenarios}
    for seed in range(1, repeats + 1):
        for label, s in scenarios.items():
            times[label].append(timed(lambda s=s, seed=seed: simulate(s, seed=seed)))
    medians = {label: statistics.median(t) for label, t in times.items()}
    mode = BASE.governance.mode
    print(f"england_system ({mode}), 120 months, every table built; median of {repeats} runs")
    for label, s in scenarios.items():
        memory = peak_mib(lambda s=s: simulate(s, seed=1))
        model_memory = peak_mib(lambda s=s: run_model(s))
        stored, dense, rows, kept = storage(s)
        print(f"  {label}: {medians[label]:6.3f} s a run")
        print(
            f"    peak memory: {memory:6.1f} MiB with its tables, {model_memory:5.1f} MiB for "
            f"the model and its history"
        )
        print(
            f"    per-pair state: {stored:,} pairs stored (a dense matrix: {dense:,}); their "
            f"history {kept:.1f} MiB (dense: {dense * (s.months + 1) * 8 / 2**20:.0f} MiB); "
            f"relationships.csv {rows:,} rows"
        )
    small, large = medians.values()
    ratio = large / small
    print(f"  4x the trusts: {ratio:.2f}x the time")
    one = "met" if small <= 1.0 else "NOT met"
    linear = "met" if ratio <= 4.5 else "NOT met"
    print(f"target: 210 trusts within 1 s: {one}; 4x the trusts within 4.5x the time: {linear}")

    print("for comparison, one shared board of all (networked: every pair meets), months only")
    for label, (trusts, regions) in SIZES.items():
        s = scenario(trusts, regions, "networked")
        model_time = statistics.median(
            timed(lambda s=s, seed=seed: RegulationModel(s, rng=seed, record="months").run_model())
            for seed in range(1, 3)
        )
        print(f"  {label}: {model_time:6.3f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
