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

With grid factors as well, each grid cell is analysed on its own. An outcome that cannot be
analysed (undefined at some design point, constant, or beyond what the estimator can handle) is
left out with a one-line reason instead of failing the whole analysis.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from relsim.atomic import atomic_file
from relsim.errors import RelsimError
from relsim.runs.outcomes import MID_MONTH
from relsim.runs.store import (
    RUN_ID_COLUMNS,
    STATUS_COLUMNS,
    posterior_columns,
    read_manifest,
    read_runs,
)

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
#: Bootstrap resamples of Borgonovo's δ: fewer than the other methods, as each one costs a
#: kernel density estimate per parameter and class.
DELTA_RESAMPLES = 100

#: An outcome with at most this many distinct values over the design (counts of adopters, say),
#: and ties (at most one distinct value per two points), gets Borgonovo's δ from frequencies
#: rather than kernel densities (see ``discrete_delta``).
DISCRETE_VALUES = 20

#: Why an outcome can have no value in a run (see relsim.runs.outcomes); the fallback is generic.
_MISSING_BECAUSE = {
    "full_adoption_month_": "some runs never reached full adoption",
    "compact_month": "some runs never had a compact in force",
    f"trust_in_regulator_m{MID_MONTH}": f"some runs are shorter than {MID_MONTH} months",
    "attendance_mean": "no board met in some runs",
    "board_mates_adopted_": "the rule in force at the end has no board in some runs",
}


#: The smallest design each method's indices mean much at, as (size, what is counted, why):
#: below it, the ranking is a rough screen at best and the command says so.
SENSIBLE_SIZE = {
    "morris": (
        10,
        "trajectories",
        "Campolongo, Cariboni & Saltelli (2007) use 10 or more to rank inputs",
    ),
    "sobol": (
        256,
        "base samples (N)",
        "Saltelli et al. (2010): Sobol indices of fewer are dominated by sampling error",
    ),
    "lhs": (
        100,
        "points",
        "Plischke, Borgonovo & Smith (2013): delta needs about 100 points or more",
    ),
}

#: What a negative Borgonovo delta means, printed whenever the table has one.
NEGATIVE_DELTA = (
    "a negative delta is the bias correction at work on an input with no detectable effect "
    "(delta is at least 0 by definition): read it as 0"
)


def design_notes(method: str, size: int, table: pd.DataFrame) -> tuple[str, ...]:
    """Warnings about a result: a design below the method's sensible size, negative deltas."""
    notes = []
    least, what, why = SENSIBLE_SIZE[method]
    if size < least:
        notes.append(
            f"small design: {size} {what}, below the {least} at which {method} indices mean "
            f"much ({why}); treat the ranking as a rough screen"
        )
    if method == "lhs" and (table["delta"] < 0).any():
        notes.append(NEGATIVE_DELTA)
    return tuple(notes)


class UndefinedIndicesError(ValueError):
    """The estimator cannot give indices for this output; the message says why, in one line."""


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
        seed: Seed of the bootstraps (non-zero: SALib ignores a seed of 0). NumPy's global
            generator is left as the caller had it, whatever SALib does with the seed.

    Returns:
        One row per parameter with the method's indices, ranked (1 = most influential).

    Raises:
        UndefinedIndicesError: if the estimator fails on this output or gives a non-finite ranking
            index; its message is the reason, fit to print.
    """
    y = np.asarray(y, dtype=float)
    # SALib's analyzers have seeded NumPy's legacy global generator (1.5's Morris did); keep
    # the caller's state whatever the version does.
    state = np.random.get_state()  # noqa: NPY002
    try:
        # SALib warns about each degenerate bootstrap resample; what matters reaches the caller
        # as UndefinedIndicesError or as the width of the interval, not as lines on stderr.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = method_indices(method, problem, x, y, levels, seed)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    frame = pd.DataFrame({"parameter": list(problem["names"]), **data})
    key = RANK_BY[method][0]
    bad = frame.loc[~np.isfinite(frame[key]), "parameter"].tolist()
    if bad:
        raise UndefinedIndicesError(f"the estimator gave no finite {key} for {', '.join(bad)}")
    frame["rank"] = frame[key].rank(ascending=False, method="min").astype(int)
    return frame.sort_values("rank", kind="stable").reset_index(drop=True)


def method_indices(
    method: str, problem: dict[str, Any], x: np.ndarray, y: np.ndarray, levels: int, seed: int
) -> dict[str, np.ndarray]:
    """One method's indices, as arrays by column name.

    SALib's Morris or Sobol analysis, or :func:`delta_indices` for a Latin hypercube.
    """
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
        data = delta_indices(x, y, seed=seed)
    else:
        raise ValueError(f"unknown method {method!r}")
    return data


def delta_classes(n: int) -> np.ndarray:
    """Edges, in ranks 0..n, of the equal-frequency classes δ conditions each input on.

    The number of classes grows slowly with the sample (Plischke, Borgonovo & Smith 2013), by
    the rule SALib's delta module uses.
    """
    power = 2.0 / (7.0 + np.tanh((1500.0 - n) / 500.0))
    classes = int(min(math.ceil(n**power), 48))
    return np.linspace(0, n, classes + 1)


def delta_indices(
    x: np.ndarray, y: np.ndarray, *, seed: int, resamples: int = DELTA_RESAMPLES
) -> dict[str, np.ndarray]:
    """Borgonovo's δ and a first-order index S1 of each input of a given-data sample.

    δ is Plischke, Borgonovo & Smith's (2013) estimator (SALib's ``calc_delta``) on the sample
    as drawn (a Latin hypercube is uniform), bias-corrected by the bootstrap (their eqn 30:
    twice the estimate on the sample less the mean over resamples) with a normal 95% interval.
    An outcome with few distinct values and ties gets δ from frequencies (``discrete_delta``),
    corrected instead by subtracting its mean over permutations of the outcome (its value under
    independence); its scale is therefore not that of the kernel-density estimate.
    S1 is the correlation ratio over the same classes (SALib's ``sobol_first``). The bootstrap
    draws from its own generator, seeded with ``seed``. SALib's ``delta.analyze`` is not used:
    its keys differ between 1.5 and 1.6, and from 1.6 it first runs a
    "balanced" bootstrap that needs at least 10 points in each of two bins of every input, and
    when that fails it leaves the input's plain δ and S1 as NaN too, so any design of fewer
    than 20 points got no index at all.

    Raises:
        UndefinedIndicesError: if a kernel density cannot be fitted: the outcome is so nearly
            constant that some bootstrap resample of it is constant.
    """
    from SALib.analyze.delta import calc_delta, sobol_first
    from scipy.stats import norm

    n, n_inputs = x.shape
    edges = delta_classes(n)
    y_grid = np.linspace(y.min(), y.max(), 100)
    discrete = np.unique(y).size <= min(DISCRETE_VALUES, n // 2)
    if discrete:
        # A kernel density cannot describe a class in which the outcome is constant, and
        # calc_delta skips such classes: for an outcome an input decides outright, that input
        # would get δ near 0. With few distinct values the densities are probabilities.
        calc_delta = discrete_delta  # same signature as SALib's
    z = float(norm.ppf(0.5 + CONF_LEVEL / 2))
    rng = np.random.default_rng(seed)
    out = {k: np.full(n_inputs, np.nan) for k in COLUMNS["lhs"]}
    for i in range(n_inputs):
        xi = x[:, i]
        draws = rng.integers(n, size=(resamples, n))
        try:
            d_hat = calc_delta(y, y_grid, xi, edges)
            d_boot = np.array([calc_delta(y[r], y_grid, xi[r], edges) for r in draws])
        except np.linalg.LinAlgError:
            raise UndefinedIndicesError(
                "Borgonovo's δ cannot be estimated: the outcome is too nearly constant for a "
                f"kernel density of its bootstrap resamples ({_commonest(y)})"
            ) from None
        s1_boot = np.array([sobol_first(y[r], xi[r], edges) for r in draws])
        if discrete:
            # Frequencies in classes of a few points differ by chance even when the input does
            # nothing; the bootstrap, which repeats points, cannot remove that. Subtract what
            # the same outcome gives when shuffled against the input (its value under
            # independence), so that an input that does nothing gets δ near 0.
            null = np.mean([calc_delta(rng.permutation(y), y_grid, xi, edges) for _ in draws])
            out["delta"][i] = d_hat - null
        else:
            out["delta"][i] = 2.0 * d_hat - d_boot.mean()
        out["delta_conf"][i] = z * d_boot.std(ddof=1)
        out["S1"][i] = sobol_first(y, xi, edges)
        out["S1_conf"][i] = z * s1_boot.std(ddof=1)
    return out


def discrete_delta(y: np.ndarray, y_grid: np.ndarray, x: np.ndarray, edges: np.ndarray) -> float:
    """Borgonovo's δ of an outcome with few distinct values (``y_grid`` is not used).

    δ is half the expected L1 distance between the outcome's distribution and its distribution
    given the input (Borgonovo 2007); for a discrete outcome the distributions are probabilities,
    estimated by frequencies, over the same equal-frequency classes of the input (by rank) as
    SALib's ``calc_delta`` uses.
    """
    from scipy.stats import rankdata

    n = y.size
    values, codes = np.unique(y, return_inverse=True)
    overall = np.bincount(codes, minlength=values.size) / n
    ranks = rankdata(x, method="ordinal")  # distinct ranks, ties in the order they come
    delta = 0.0
    for low, high in itertools.pairwise(edges):
        members = codes[(ranks > low) & (ranks <= high)]
        if members.size:
            given = np.bincount(members, minlength=values.size) / members.size
            delta += members.size / (2 * n) * float(np.abs(overall - given).sum())
    return delta


def _commonest(y: np.ndarray) -> str:
    """How dominant the most common value is, e.g. ``63 of 64 design points give 5``."""
    values, counts = np.unique(y, return_counts=True)
    top = int(np.argmax(counts))
    return f"{counts[top]} of {y.size} design points give {values[top]:g}"


def point_values(sample: ArrayLike, values: ArrayLike, n_points: int) -> np.ndarray:
    """Each design point's outcome: the mean over its replications, NaN if any is missing.

    A missing value is usually censored (a month never reached), so the mean of the other
    replications alone would be biased toward the runs that got there; the point is undefined
    instead. A point with no replication at all is NaN too.

    Args:
        sample: The design point (0..n_points-1) of each run.
        values: The outcome of each run, NaN where it has none.
        n_points: Points in the design.
    """
    frame = pd.DataFrame({"sample": np.asarray(sample), "value": np.asarray(values, float)})
    by_point = frame.groupby("sample")["value"]
    means = by_point.mean().where(by_point.count() == by_point.size())
    return means.reindex(range(n_points)).to_numpy(float)


def missing_because(outcome: str) -> str:
    """Why runs can lack a value of ``outcome``, in words."""
    for prefix, why in _MISSING_BECAUSE.items():
        if outcome.startswith(prefix):
            return why
    return "some runs have no value"


def why_left_out(outcome: str, y: np.ndarray) -> str | None:
    """Why the point values ``y`` of ``outcome`` cannot be analysed, or None if they can."""
    undefined = int(np.isnan(y).sum())
    if undefined:
        return f"undefined at {undefined} of {y.size} design points: {missing_because(outcome)}"
    if np.ptp(y) == 0:
        return f"constant over the design (every design point gives {y[0]:g})"
    return None


@dataclass(frozen=True)
class Sensitivity:
    """The sensitivity indices of a sweep's outcomes."""

    method: str
    table: pd.DataFrame
    """One row per (grid cell,) outcome and parameter."""
    skipped: dict[str, str]
    """Outcomes left out (labelled with their grid cell, if any), and why."""
    replications: int
    notes: tuple[str, ...] = ()
    """Warnings to print with the table (:func:`design_notes`)."""


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
    runs["sample"] = runs["point"] % n_samples
    grid = [f for f in manifest["factors"] if f in experiment["factors"]]
    names = set(problem["names"])
    described = {*RUN_ID_COLUMNS, *STATUS_COLUMNS, "sample", *posterior_columns(manifest)}
    candidates = [c for c in runs.columns if c not in described and c not in names | set(grid)]
    wanted = list(outcomes) if outcomes else candidates
    unknown = [o for o in wanted if o not in candidates]
    if unknown:
        raise RelsimError(
            f"--outcomes: unknown outcome {unknown[0]!r} (known: {', '.join(candidates)})"
        )
    replications = int(experiment["replications"])
    skipped: dict[str, str] = {}
    frames = []
    # Every run, failed ones too: a failure makes its design point undefined, as a missing
    # value does, rather than leaving the mean of the other replications.
    cells = runs.groupby(grid, sort=False) if grid else [((), runs)]
    for cell, group in cells:
        cell_values = dict(zip(grid, cell if isinstance(cell, tuple) else (cell,), strict=True))
        runs_per_point = group["sample"].value_counts().reindex(range(n_samples), fill_value=0)
        short = int((runs_per_point < replications).sum())
        if short:
            raise RelsimError(
                f"{directory}: {short} of {n_samples} design points lack some of their "
                f"{replications} replications; finish the sweep (relsim sweep ... --resume) first"
            )
        failed = group.loc[group["status"] != "ok", "sample"].nunique()
        for outcome in wanted:
            label = " · ".join([*(str(v) for v in cell_values.values()), outcome])
            if failed:
                skipped[label] = (
                    f"undefined at {failed} of {n_samples} design points: some runs failed "
                    "(see the error column of the runs table)"
                )
                continue
            y = point_values(group["sample"], group[outcome], n_samples)
            why = why_left_out(outcome, y)
            if why is None:
                try:
                    table = analyze(method, problem, x, y, levels=int(sampling.get("levels", 4)))
                except UndefinedIndicesError as error:
                    why = str(error)
            if why is not None:
                skipped[label] = why
                continue
            frames.append(table.assign(outcome=outcome, method=method, **cell_values))
    if not frames:
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        raise RelsimError(f"{directory}: no outcome can be analysed ({reasons})")
    table = pd.concat(frames, ignore_index=True)
    first = [*grid, "outcome", "parameter", "method"]
    table = table[first + [c for c in table.columns if c not in first]]
    per_point = {"morris": 1, "sobol": 2, "lhs": 0}[method]  # points per base sample - D
    size = int(
        sampling.get(
            "n", n_samples // (problem["num_vars"] + per_point) if per_point else n_samples
        )
    )
    notes = design_notes(method, size, table)
    return Sensitivity(method, table, skipped, replications, notes)


def write_sensitivity(result: Sensitivity, directory: Path | str) -> Path:
    """Write ``sensitivity.csv`` atomically; returns its path."""
    path = Path(directory) / "sensitivity.csv"
    with atomic_file(path, "the sensitivity table") as tmp:
        result.table.to_csv(tmp, index=False, float_format="%.6g")
    return path
