"""Sampled experimental designs on the unit hypercube (scipy.stats.qmc and SALib).

An experiment's ``[sampling]`` table asks for one of three designs over ranges of scenario keys:

- ``lhs``: a Latin hypercube of ``n`` points (scipy.stats.qmc), for exploring a space evenly;
- ``sobol``: Saltelli's extension of a Sobol sequence, ``n·(D + 2)`` points, from which first-
  and total-order Sobol indices can be estimated (SALib; Saltelli 2002, Saltelli et al. 2010);
- ``morris``: ``n`` one-at-a-time trajectories on a grid of ``levels``, ``n·(D + 1)`` points,
  for Morris elementary effects, a cheap screening of many inputs (SALib; Morris 1991,
  Campolongo et al. 2007).

Each returns points in [0, 1]^D; the experiment scales them to the ranges. The generator comes
from the experiment's seed, so the same file always gives the same design.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The sampling methods an experiment file may name.
SAMPLING_METHODS: tuple[str, ...] = ("lhs", "sobol", "morris")


def design_size(method: str, n: int, dims: int) -> int:
    """Number of points a design of base size ``n`` over ``dims`` keys has."""
    if method == "lhs":
        return n
    if method == "sobol":
        return n * (dims + 2)
    if method == "morris":
        return n * (dims + 1)
    raise ValueError(f"unknown sampling method {method!r}")


def sample_unit(
    method: str, problem: dict[str, Any], n: int, levels: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw a design on the unit hypercube: points × keys, each coordinate in [0, 1].

    Args:
        method: ``"lhs"``, ``"sobol"`` or ``"morris"``.
        problem: SALib problem (``num_vars``, ``names``; bounds are ignored here).
        n: Base sample size (see the module docstring).
        levels: Grid levels for Morris.
        rng: Generator the design is drawn from.
    """
    dims = int(problem["num_vars"])
    unit_problem = {
        "num_vars": dims,
        "names": list(problem["names"]),
        "bounds": [[0.0, 1.0]] * dims,
    }
    if method == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=dims, rng=rng).random(n)
    if method == "sobol":
        from SALib.sample import sobol

        return np.asarray(
            sobol.sample(unit_problem, n, calc_second_order=False, scramble=True, seed=rng)
        )
    if method == "morris":
        from SALib.sample import morris

        return np.asarray(morris.sample(unit_problem, n, num_levels=levels, seed=rng))
    raise ValueError(f"unknown sampling method {method!r}")
