"""Replications of one scenario stepped together: the sweep's fast path.

A sweep runs each design point many times with different seeds. :class:`RegulationModel` steps
one run at a time, and for the five trusts of the NHS–VMI case a month is some two hundred
NumPy calls on arrays of five, so a run's cost is almost all call overhead. Here the state of R
replications carries a leading replication axis and the kernel (:mod:`relsim.model.kernel`),
the very code the Mesa model steps, makes each call once for all of them: the arithmetic is
shared, and only the random draws stay per replication, each from that run's own streams in the
order the model draws them (:class:`relsim.model.streams.BatchDraws`).

The result is *the same run*, bit for bit, as :class:`RegulationModel` with ``record="months"``
gives for each seed. ``tests/test_batch.py`` holds the two to that, for every bundled scenario
it covers and for every numeric parameter of the schema moved off its default.

Covered (:func:`supports`): one network of trusts (one region, no conveners), any governance
rule, scripted changes of rule included. Pairs of trusts in different regions are stored
sparsely, run by run, so a scenario with regions runs one model per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from relsim.model.governance import needs_conveners
from relsim.model.kernel import Kernel
from relsim.model.recording import SeriesRecorder
from relsim.model.state import initial_state
from relsim.model.streams import BatchDraws, Streams
from relsim.scenario import Scenario

__all__ = ["MAX_BATCH_TRUSTS", "Batch", "run_replications", "supports"]

#: Most trusts stepped together: the per-pair arrays hold R·(N+1)² values, and once a month's
#: arrays are that large there is no call overhead left to share (at 400 trusts, one model per
#: run is three times faster and needs a third of the memory).
MAX_BATCH_TRUSTS = 100


def supports(scenario: Scenario) -> bool:
    """Whether :func:`run_replications` can run this scenario (else: one model per run)."""
    modes = {scenario.governance.mode, *(c.mode for c in scenario.governance.changes)}
    return (
        len(scenario.region_names) <= 1
        and not needs_conveners(modes)
        and len(scenario.trusts) <= MAX_BATCH_TRUSTS
    )


class Batch:
    """R replications of one scenario, one seed each, stepped month by month together.

    Args:
        scenario: A scenario :func:`supports` accepts.
        seeds: One seed per replication; replication r draws what
            ``RegulationModel(scenario, rng=seeds[r])`` draws.
    """

    def __init__(self, scenario: Scenario, seeds: Sequence[int]) -> None:
        if not supports(scenario):
            raise ValueError(f"{scenario.name!r}: not a scenario the batched driver covers")
        self.scenario = scenario
        streams = [Streams(np.random.default_rng(seed)) for seed in seeds]
        self.state = initial_state(scenario, [s.setup for s in streams])
        self.kernel = Kernel(scenario, self.state, BatchDraws(streams))
        self.recorder = SeriesRecorder(scenario, len(streams))
        self.recorder.record(self.state, self.kernel.interactions, 0)

    def run(self) -> list[dict[str, list[Any]]]:
        """Step to the horizon; each replication's monthly series, as the model's collector."""
        for month in range(1, self.scenario.months + 1):
            ix = self.kernel.step(month)
            self.recorder.record(self.state, ix, month)
        return self.recorder.split()


def run_replications(scenario: Scenario, seeds: Sequence[int]) -> list[dict[str, list[Any]]]:
    """Run ``scenario`` once per seed, all together; each run's monthly series.

    Each element equals ``RegulationModel(scenario, rng=seed, record="months")``'s
    ``datacollector.model_vars`` after ``run_model()``: the same columns, the same values.
    """
    return Batch(scenario, seeds).run()
