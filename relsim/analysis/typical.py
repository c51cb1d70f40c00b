"""Each cell's most typical run, re-simulated from its seed with every table recorded.

The sweep store keeps each run's outcomes and monthly series, not its per-department coverage.
To show what a typical run looked like inside (the training heat maps), the run of each cell
closest to the cell's median outcomes is run again from its scenario and seed; runs are
deterministic given both, so the re-simulated monthly series is checked, bit for bit, against
the one the sweep stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from relsim.analysis.sweep_data import Cell, SweepData, point_scenario
from relsim.runs.simulation import RunResult, simulate

#: Outcomes on which a run is judged typical of its cell (``<practice>`` for each practice).
TYPICAL_OUTCOMES = (
    "trust_in_regulator_final",
    "regulator_trust_final",
    "peer_trust_final",
    "capability_final",
    "disclosures",
    "surprises",
    "adopters_final_<practice>",
)


@dataclass(frozen=True)
class TypicalRun:
    """A cell's most typical run, re-simulated from its seed."""

    cell: Cell
    run_id: int
    seed: int
    result: RunResult
    reproduced: bool
    """Whether the re-simulated monthly series equals the one the sweep stored."""


def typical_outcomes(data: SweepData) -> list[str]:
    """The outcomes on which typical runs are chosen."""
    out = []
    for name in TYPICAL_OUTCOMES:
        out += [name.replace("<practice>", p) for p in data.practices] if "<" in name else [name]
    return [o for o in out if o in data.runs]


def typical_run_id(data: SweepData, run_ids: np.ndarray) -> int:
    """The run closest to its cell's median outcomes.

    Distance: the sum over :func:`typical_outcomes` of the absolute difference from the cell's
    median, in standard deviations over all the sweep's runs (outcomes that do not vary, or that
    some run of the cell lacks, are left out); ties go to the lowest run id.
    """
    rows = data.runs.set_index("run_id").loc[np.sort(run_ids)]
    distance = np.zeros(len(rows))
    for outcome in typical_outcomes(data):
        values = rows[outcome].to_numpy(float)
        sd = float(np.nanstd(data.runs[outcome].to_numpy(float)))
        if np.isnan(values).any() or not sd > 0:
            continue
        distance += np.abs(values - np.median(values)) / sd
    return int(rows.index[int(np.argmin(distance))])


def resimulate(data: SweepData, run_id: int) -> tuple[RunResult, bool]:
    """Run a sweep's run again (same scenario, same seed) with every table recorded.

    Returns:
        The result, and whether its monthly series equals the one the sweep stored (runs are
        deterministic given scenario and seed, so it does unless the code has changed).
    """
    row = data.runs[data.runs["run_id"] == run_id].iloc[0]
    result = simulate(point_scenario(data, row), seed=int(row["seed"]))
    stored = data.run_series(run_id)
    try:
        pd.testing.assert_frame_equal(
            result.months.reset_index(drop=True), stored.reset_index(drop=True), check_exact=True
        )
    except AssertionError:
        return result, False
    return result, True


def typical_runs(data: SweepData) -> list[TypicalRun]:
    """Each cell's most typical run, re-simulated, in the order of :meth:`SweepData.cells`."""
    out = []
    for row in data.cells():
        for cell in row:
            run_id = typical_run_id(data, cell.run_ids)
            result, same = resimulate(data, run_id)
            out.append(TypicalRun(cell, run_id, result.seed, result, same))
    return out
