"""Global sensitivity analysis of a sampled sweep: which assumptions drive each outcome.

The indices are computed with SALib from the design the sweep recorded in its manifest (the
exact points run, in order), with each design point's outcome averaged over its replications:

- a Morris design gives elementary-effect statistics μ* (mean absolute effect, with a
  bootstrap interval) and σ (their spread: interactions or non-linearity) — Morris 1991,
  Campolongo, Cariboni & Saltelli 2007;
- a Sobol (Saltelli) design gives first-order (S1) and total-order (ST) indices with bootstrap
  intervals — Saltelli 2002, Saltelli et al. 2010;
- a Latin hypercube gives Borgonovo's moment-independent δ and a first-order estimate S1 —
  Borgonovo 2007, Plischke, Borgonovo & Smith 2013.

With grid factors as well, each grid cell is analysed on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.errors import RelsimError
from relsim.store import read_manifest, read_runs

#: The index each method ranks parameters by, with its interval column.
RANK_BY = {
    "morris": ("mu_star", "mu_star_conf"),
    "sobol": ("ST", "ST_conf"),
    "lhs": ("delta", "delta_conf"),
}
#: Columns each method gives, in order.
COLUMNS = {
    "morris": ("mu_star", "mu_star_conf", "sigma", "mu"),
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "lhs": ("delta", "delta_conf", "S1", "S1_conf"),
}
CONF_LEVEL = 0.95
RESAMPLES = 1000


def analyze(
    method: str,
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    levels: int = 4,
    seed: int = 20170601,
) -> pd.DataFrame:
    """Sensitivity indices of one output ``y`` over a design ``x`` (a pure function).

    Args:
        method: ``"morris"``, ``"sobol"`` or ``"lhs"``: the design ``x`` was drawn by.
        problem: SALib problem (``num_vars``, ``names``, ``bounds``).
        x: The design, points × parameters, in the order it was drawn.
        y: One output value per design point.
        levels: Grid levels of a Morris design.
        seed: Seed of the bootstraps (non-zero: SALib ignores a seed of 0). SALib seeds NumPy's
            global generator with it; the global state is restored afterwards.

    Returns:
        One row per parameter with the method's indices, ranked (1 = most influential).
    """
    y = np.asarray(y, dtype=float)
    # SALib's delta and Sobol bootstraps seed NumPy's legacy global generator; keep the caller's.
    state = np.random.get_state()  # noqa: NPY002
    try:
        data = _indices(method, problem, x, y, levels, seed)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    frame = pd.DataFrame({"parameter": list(problem["names"]), **data})
    key = RANK_BY[method][0]
    frame["rank"] = frame[key].rank(ascending=False, method="min").astype(int)
    return frame.sort_values("rank", kind="stable").reset_index(drop=True)


def _indices(
    method: str, problem: dict[str, Any], x: np.ndarray, y: np.ndarray, levels: int, seed: int
) -> dict[str, np.ndarray]:
    """SALib's indices for one method, as arrays by column name."""
    if method == "morris":
        from SALib.analyze import morris

        result = morris.analyze(
            problem,
            x,
            y,
            num_resamples=RESAMPLES,
            conf_level=CONF_LEVEL,
            num_levels=levels,
            seed=seed,
        )
        data = {k: np.asarray(result[k], float) for k in COLUMNS["morris"]}
    elif method == "sobol":
        from SALib.analyze import sobol

        result = sobol.analyze(
            problem,
            y,
            calc_second_order=False,
            num_resamples=RESAMPLES,
            conf_level=CONF_LEVEL,
            seed=seed,
        )
        data = {k: np.asarray(result[k], float) for k in COLUMNS["sobol"]}
    elif method == "lhs":
        from SALib.analyze import delta

        # Borgonovo's delta on the sample as drawn ("raw": a Latin hypercube is uniform), with
        # a bootstrap interval; fewer resamples than the other methods, as each one costs a
        # kernel density estimate per parameter.
        result = delta.analyze(
            problem, x, y, num_resamples=100, conf_level=CONF_LEVEL, seed=seed, method="all"
        )
        data = {
            "delta": np.asarray(result["delta_raw"], float),
            "delta_conf": np.asarray(result["delta_raw_conf"], float),
            "S1": np.asarray(result["S1"], float),
            "S1_conf": np.asarray(result["S1_conf"], float),
        }
    else:
        raise ValueError(f"unknown method {method!r}")
    return data


@dataclass(frozen=True)
class Sensitivity:
    """The sensitivity indices of a sweep's outcomes."""

    method: str
    table: pd.DataFrame
    """One row per (grid cell,) outcome and parameter."""
    skipped: dict[str, str]
    """Outcomes left out, and why."""
    replications: int


def _point_means(runs: pd.DataFrame, outcome: str, n_points: int) -> np.ndarray:
    means = runs.groupby("sample")[outcome].mean()
    return means.reindex(range(n_points)).to_numpy(float)


def sensitivity(directory: Path | str, outcomes: Sequence[str] | None = None) -> Sensitivity:
    """Sensitivity indices of a sampled sweep's outcomes.

    Raises:
        RelsimError: if the sweep has no sampled design, or is missing design points.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    experiment = manifest["experiment"]
    sampling = experiment.get("sampling")
    if not sampling:
        raise RelsimError(
            f"{directory}: the sweep has no sampled design ([sampling] with method lhs, sobol "
            "or morris); sensitivity indices need one"
        )
    method = sampling["method"]
    problem = sampling["problem"]
    x = np.asarray(experiment["design"], dtype=float)
    n_samples = x.shape[0]
    runs = read_runs(directory)
    ok = runs[runs["status"] == "ok"].copy()
    ok["sample"] = ok["point"] % n_samples
    grid = [f for f in manifest["factors"] if f in experiment["factors"]]
    names = set(problem["names"])
    candidates = [
        c
        for c in ok.columns
        if c
        not in {"run_id", "point", "replication", "seed", "status", "error", "duration_s", "sample"}
        and c not in names
        and c not in grid
    ]
    wanted = list(outcomes) if outcomes else candidates
    unknown = [o for o in wanted if o not in candidates]
    if unknown:
        raise RelsimError(
            f"--outcome: unknown outcome {unknown[0]!r} (known: {', '.join(candidates)})"
        )
    skipped: dict[str, str] = {}
    frames = []
    cells = ok.groupby(grid, sort=False) if grid else [((), ok)]
    for cell, group in cells:
        cell_values = dict(zip(grid, cell if isinstance(cell, tuple) else (cell,), strict=True))
        present = group["sample"].nunique()
        if present < n_samples:
            raise RelsimError(
                f"{directory}: {n_samples - present} of {n_samples} design points have no "
                "finished run; finish the sweep (relsim sweep ... --resume) first"
            )
        for outcome in wanted:
            y = _point_means(group, outcome, n_samples)
            if np.isnan(y).any():
                skipped[outcome] = "undefined at some design points (e.g. a month never reached)"
                continue
            if np.ptp(y) == 0:
                skipped[outcome] = "constant over the design"
                continue
            table = analyze(method, problem, x, y, levels=int(sampling.get("levels", 4)))
            frames.append(table.assign(outcome=outcome, method=method, **cell_values))
    if not frames:
        raise RelsimError(f"{directory}: no outcome varies over the design")
    table = pd.concat(frames, ignore_index=True)
    first = [*grid, "outcome", "parameter", "method"]
    table = table[first + [c for c in table.columns if c not in first]]
    return Sensitivity(method, table, skipped, int(experiment["replications"]))


def write_sensitivity(result: Sensitivity, directory: Path | str) -> Path:
    """Write ``sensitivity.csv`` atomically; returns its path."""
    path = Path(directory) / "sensitivity.csv"
    tmp = path.with_name(".sensitivity.csv.tmp")
    result.table.to_csv(tmp, index=False, float_format="%.6g")
    tmp.replace(path)
    return path


def format_sensitivity(result: Sensitivity, top: int = 8) -> str:
    """Ranked tables, one per outcome (and cell), as plain text."""
    key, conf = RANK_BY[result.method]
    lines = [
        f"{result.method} indices ({'mean over' if result.replications > 1 else 'one'} "
        f"{result.replications} replication{'s' if result.replications > 1 else ''} per "
        f"design point); ranked by {key}, with its 95% interval"
    ]
    group_keys = [
        c
        for c in result.table.columns
        if c not in {"parameter", "method", "rank", *COLUMNS[result.method]}
    ]
    for values, group in result.table.groupby(group_keys, sort=False):
        label = " · ".join(str(v) for v in (values if isinstance(values, tuple) else (values,)))
        lines.append(f"\n{label}")
        shown = group.nsmallest(top, "rank")
        for _, row in shown.iterrows():
            extra = "   ".join(
                f"{c} {row[c]:.3g}" for c in COLUMNS[result.method] if c not in {key, conf}
            )
            half = row[conf]
            interval = "" if math.isnan(half) else f" ± {half:.3g}"
            name = f"{int(row['rank']):2d}. {row['parameter']:42s}"
            lines.append(f"  {name} {key} {row[key]:.3g}{interval}   {extra}")
    for outcome, why in result.skipped.items():
        lines.append(f"(left out {outcome}: {why})")
    return "\n".join(lines)
