"""Generated populations: hundreds of trusts in regional networks, from a ``[population]`` table.

A scenario can describe its trusts by counts and distributions instead of listing them::

    [population]
    trusts = 210
    regions = 42
    region_size = [3, 8]
    seed = 2019
    [population.readiness]
    mean = 0.55
    sd = 0.15

:func:`generate` turns such a table into trusts, as a pure function of the table: the
population has its own seed, separate from the run's, so that every run of a scenario (and
every arm of a paired comparison) simulates the same trusts. Each attribute is drawn from its
own stream, keyed by its name, so that changing one distribution leaves the others' draws alone.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
from numpy.typing import NDArray

from relsim.scenario.schema import Distribution, Population, TrustSpec

Float = NDArray[np.float64]
Int = NDArray[np.int64]

#: The smallest non-zero standard deviation of a distribution (a smaller one is refused).
MIN_SD = 1e-6


def region_count(population: Population) -> int:
    """Number of regions: as given, or (``regions = 0``) as few as keep regions within size."""
    if population.regions:
        return population.regions
    smallest, largest = population.region_size
    if population.trusts < smallest:
        return 1  # the whole population is smaller than one region: one region of all
    return max(1, math.ceil(population.trusts / largest))


def problem(population: Population) -> tuple[str, str] | None:
    """Why a population cannot be generated, as (dotted field, message), or None if it can.

    Distributions are checked by :func:`distribution_problem`; this checks that the trusts can
    be divided into the regions asked for.
    """
    n = population.trusts
    if n == 0:
        if population.regions:
            return (
                "population.regions",
                "needs population.trusts > 0 (listed trusts give their region in trusts[].region)",
            )
        return None
    smallest, largest = population.region_size
    regions = region_count(population)
    if population.regions > n:
        return (
            "population.regions",
            f"must not exceed population.trusts ({n}) (got {population.regions})",
        )
    if population.regions == 0 and n < smallest:
        return None  # one region, smaller than the smallest size: the population is that small
    if n > regions * largest:
        return (
            "population.trusts",
            f"{n} trusts do not fit in {regions} regions of at most {largest} trusts "
            f"(at most {regions * largest}); change population.regions or "
            f"population.region_size",
        )
    if n < regions * smallest:
        return (
            "population.trusts",
            f"{n} trusts cannot fill {regions} regions of at least {smallest} trusts "
            f"(at least {regions * smallest} needed); change population.regions or "
            f"population.region_size",
        )
    return None


def distribution_problem(d: Distribution) -> tuple[str, str] | None:
    """Why a distribution is impossible, as (field within it, message), or None."""
    if d.low > d.high:
        return "low", f"must not exceed high ({d.high:g}) (got {d.low:g})"
    if not d.low <= d.mean <= d.high:
        return "mean", f"must be between low ({d.low:g}) and high ({d.high:g}) (got {d.mean:g})"
    if 0 < d.sd < MIN_SD:
        # A spread this small is every trust at the mean, and its beta parameters overflow.
        return "sd", f"must be 0 (every trust at the mean) or at least {MIN_SD:g} (got {d.sd:g})"
    if d.sd > 0:
        # A beta distribution on [low, high] with this mean exists only for
        # sd² < (mean - low)(high - mean).
        limit = math.sqrt((d.mean - d.low) * (d.high - d.mean))
        if d.sd >= limit:
            return (
                "sd",
                f"must be below {limit:.4g} for a distribution on [{d.low:g}, {d.high:g}] "
                f"with mean {d.mean:g} (got {d.sd:g})",
            )
    return None


def _stream(population: Population, name: str) -> np.random.Generator:
    """An independent generator per attribute, keyed by its name (as the model's streams are)."""
    seq = np.random.SeedSequence(entropy=population.seed, spawn_key=(zlib.crc32(name.encode()),))
    return np.random.Generator(np.random.PCG64(seq))


def draw(d: Distribution, n: int, rng: np.random.Generator) -> Float:
    """``n`` values from a beta distribution on [low, high] with the given mean and sd."""
    if d.sd == 0 or d.high == d.low:
        return np.full(n, d.mean)
    width = d.high - d.low
    mu = (d.mean - d.low) / width
    var = (d.sd / width) ** 2
    concentration = mu * (1.0 - mu) / var - 1.0
    values = d.low + width * rng.beta(mu * concentration, (1.0 - mu) * concentration, size=n)
    return np.clip(values, d.low, d.high)


def region_sizes(population: Population, rng: np.random.Generator) -> Int:
    """Trusts per region, drawn within ``region_size`` and adding up to the trusts.

    Each region starts at the smallest size and the rest are spread at random over the regions
    that still have room (a multivariate hypergeometric draw).
    """
    n, regions = population.trusts, region_count(population)
    smallest, largest = population.region_size
    if regions == 1:
        return np.array([n], dtype=np.int64)
    extra = n - regions * smallest
    room = np.full(regions, largest - smallest, dtype=np.int64)
    added = rng.multivariate_hypergeometric(room, extra) if extra else np.zeros(regions, np.int64)
    return (smallest + added).astype(np.int64)


def trust_name(i: int, n: int) -> str:
    """Name of generated trust ``i`` (0-based) of ``n``: T001, T002, ..."""
    return f"T{i + 1:0{max(3, len(str(n)))}d}"


def region_name(r: int, regions: int) -> str:
    """Name of generated region ``r`` (0-based) of ``regions``: R01, R02, ..."""
    return f"R{r + 1:0{max(2, len(str(regions)))}d}"


def generate(population: Population) -> tuple[TrustSpec, ...]:
    """The trusts of a population, region by region (R01's trusts first).

    Assumes the population is possible (:func:`problem` and :func:`distribution_problem` found
    nothing); the scenario checks that before calling this.
    """
    n = population.trusts
    sizes = region_sizes(population, _stream(population, "regions"))
    regions = np.repeat(np.arange(len(sizes)), sizes)
    readiness = draw(population.readiness, n, _stream(population, "readiness"))
    coverage = draw(population.initial_coverage, n, _stream(population, "initial_coverage"))
    quality = draw(population.quality, n, _stream(population, "quality"))
    return tuple(
        TrustSpec(
            name=trust_name(i, n),
            readiness=float(readiness[i]),
            quality=float(quality[i]),
            initial_coverage=float(coverage[i]),
            region=region_name(int(regions[i]), len(sizes)),
        )
        for i in range(n)
    )
