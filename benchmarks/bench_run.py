"""Cost of one NHS–VMI run against a bare Mesa model (issue 2's speed target).

The bare model has the same number of agents (a regulator, five trusts and a partner), a step
that does nothing, and a DataCollector with 15 model reporters collected every month. The
target: one full relsim run (60 months, every table built) within 10x the bare model's cost.

The two are timed in alternation, run after run, and the ratio is taken per pair, so that the
load of a shared machine affects both sides alike. The scenario file is read once: a "run" is
building the model, stepping it 60 months and building its tables.

Run: ``.venv/bin/python benchmarks/bench_run.py`` (or ``make bench``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import mesa

from relsim import RegulationModel, load_scenario, simulate

MONTHS = 60
PAIRS = 60
SCENARIO = load_scenario("nhs_vmi_partnership")


def _constant(model: mesa.Model) -> float:
    return 0.5


def _steps(model: mesa.Model) -> int:
    return model.steps


class BareModel(mesa.Model):
    """Seven agents whose step does nothing; 15 model reporters collected every month."""

    def __init__(self, rng: int = 0) -> None:
        super().__init__(rng=rng)
        for _ in range(7):
            mesa.Agent(self)
        reporters = {f"r{i}": _constant for i in range(14)}
        reporters["month"] = _steps
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    def step(self) -> None:
        self.agents.do("step")
        self.datacollector.collect(self)
        if self.steps >= MONTHS:
            self.running = False


def bare_run(seed: int) -> None:
    model = BareModel(rng=seed)
    model.run_model()
    model.datacollector.get_model_vars_dataframe()


def relsim_full(seed: int) -> None:
    simulate(SCENARIO, seed=seed)


def relsim_months(seed: int) -> None:
    model = RegulationModel(SCENARIO, rng=seed, record="months")
    model.run_model()
    model.datacollector.get_model_vars_dataframe()


def _time(fn: Callable[[int], None], seed: int) -> float:
    start = time.perf_counter()
    fn(seed)
    return time.perf_counter() - start


def paired(fn: Callable[[int], None]) -> tuple[float, float, float]:
    """Median bare time, median time of ``fn`` (ms) and median per-pair ratio."""
    fn(0)
    bare_run(0)
    bare, other, ratios = [], [], []
    for seed in range(1, PAIRS + 1):
        b = _time(bare_run, seed)
        o = _time(fn, seed)
        bare.append(b)
        other.append(o)
        ratios.append(o / b)
    return statistics.median(bare) * 1e3, statistics.median(other) * 1e3, statistics.median(ratios)


def main() -> None:
    bare, full, ratio_full = paired(relsim_full)
    _, months, ratio_months = paired(relsim_months)
    print(f"bare Mesa model (7 agents, 15 reporters, {MONTHS} steps): {bare:7.2f} ms")
    print(f"relsim NHS-VMI run, all tables built:            {full:7.2f} ms  ({ratio_full:.1f}x)")
    print(
        f"relsim NHS-VMI run, monthly series only:         {months:7.2f} ms  ({ratio_months:.1f}x)"
    )
    verdict = "met" if ratio_full <= 10 else "NOT met"
    print(f"target: full run within 10x the bare model: {verdict}")


if __name__ == "__main__":
    main()
