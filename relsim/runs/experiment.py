"""Experiments: a sweep declared apart from the model, and its expansion into runs.

An experiment file (TOML) names a base scenario, the factors to vary over a full grid, or a
sampled design over ranges (or both, crossed), and how many replications each design point
gets. As in EMA Workbench, what is varied is declared apart from the model; the expansion into
runs (:func:`expand`) is a pure function of the experiment, tested on its own::

    [experiment]
    name = "governance comparison"
    scenario = "nhs_vmi_partnership"   # a bundled name, or a file relative to this one
    replications = 200
    seed = 20151001
    [factors]
    "governance.mode" = ["hierarchical", "networked"]

Seeds: replication r of every design point runs with the same seed (common random numbers), so
that differences between points are paired comparisons with one thing changed. Every seed
derives from the experiment's seed through :class:`numpy.random.SeedSequence`, whose output is
stable across NumPy versions and platforms.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from relsim.errors import RelsimError, ScenarioError
from relsim.runs.sampling import SAMPLING_METHODS, design_size, sample_unit
from relsim.scenario import (
    MAX_TITLE,
    Reporter,
    Scenario,
    build_table,
    bundled_files,
    bundled_scenarios,
    check_keys,
    load_scenario,
    param,
    read_source,
    required,
    resolve_scenario_path,
    schema_type_at,
    with_overrides,
)

if TYPE_CHECKING:
    from relsim.runs.posterior import Posterior

#: Most replications per design point, and most runs an experiment may expand to: a typo such
#: as ``replications = 2000000`` should be caught, not started.
MAX_REPLICATIONS = 100_000
MAX_RUNS = 10_000_000

#: SeedSequence spawn key reserved for drawing sampled designs (replications use 0, 1, ...).
_DESIGN_KEY = 2**32 - 1


def sampled_whole(value: float) -> int:
    """The whole number a sampled value of a whole-number key becomes: rounded half to even.

    The same rounding as the design's (``np.round``), so that the ends of a range are checked
    as the values that will be run: ``[0.6, 10.6]`` runs 1 to 11, not 0 to 10.
    """
    return int(np.round(value))


@dataclass(frozen=True, slots=True)
class Sampling:
    """A sampled design over ranges of scenario keys (scipy.stats.qmc or SALib)."""

    method: str
    """``"lhs"``, ``"sobol"`` or ``"morris"``."""
    n: int
    """Base sample size: points for LHS, N of Saltelli's scheme for Sobol, trajectories for
    Morris."""
    ranges: tuple[tuple[str, float, float], ...]
    """(dotted key, low, high) for each sampled key, in file order."""
    levels: int = 4
    """Grid levels of the Morris method."""
    integer: tuple[bool, ...] = ()
    """Whether each key takes whole numbers (sampled values are rounded)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The sampled keys."""
        return tuple(name for name, _, _ in self.ranges)

    def problem(self) -> dict[str, Any]:
        """The design as a SALib problem definition."""
        return {
            "num_vars": len(self.ranges),
            "names": list(self.names),
            "bounds": [[lo, hi] for _, lo, hi in self.ranges],
        }


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One run of a sweep: which design point, which replication, which seed."""

    run_id: int
    point: int
    replication: int
    seed: int
    values: tuple[tuple[str, Any], ...]
    """The design point's values of the varied keys, as (dotted key, value)."""
    draw: int | None = None
    """The posterior particle this run's parameters come from (None without a posterior)."""
    parameters: tuple[tuple[str, Any], ...] = ()
    """The posterior particle's values, as (dotted key, value)."""

    @property
    def overrides(self) -> dict[str, Any]:
        """The run's scenario overrides: the design point's values and the posterior draw's."""
        return dict(self.values + self.parameters)


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: base scenario, design and replications.

    A sampled design is drawn on first use of :attr:`design`: drawing it imports SciPy or SALib
    (most of a second), which listing experiments or counting their runs does not need.
    """

    name: str
    description: str
    source: str
    """The experiment file, as shown in messages."""
    scenario_source: str
    """The base scenario as written in the file."""
    base: Scenario
    """The base scenario with the experiment's ``[base]`` overrides applied."""
    replications: int
    seed: int
    common_random_numbers: bool
    factors: tuple[tuple[str, tuple[Any, ...]], ...]
    sampling: Sampling | None
    posterior: Posterior | None = None
    """Where replication r of every point takes its parameter set from (``[posterior]``)."""
    posterior_file: str = ""
    """The posterior as written in the file."""

    @functools.cached_property
    def design(self) -> np.ndarray:
        """Sampled points (rows) × sampled keys, in scenario units; 0 columns without sampling.

        Drawn from the experiment's seed, so the same file always gives the same design.
        """
        sampling = self.sampling
        if sampling is None:
            return np.zeros((0, 0))
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_DESIGN_KEY,)))
        unit = sample_unit(sampling.method, sampling.problem(), sampling.n, sampling.levels, rng)
        lo = np.array([r[1] for r in sampling.ranges])
        hi = np.array([r[2] for r in sampling.ranges])
        design = lo + unit * (hi - lo)
        whole = np.array(sampling.integer, dtype=bool)
        design[:, whole] = np.round(design[:, whole])  # as sampled_whole, on arrays
        return design

    @property
    def factor_names(self) -> tuple[str, ...]:
        """Every varied key: grid factors first, then sampled keys."""
        sampled = self.sampling.names if self.sampling else ()
        return tuple(name for name, _ in self.factors) + sampled

    @property
    def n_cells(self) -> int:
        """Grid cells (1 without factors)."""
        return math.prod(len(levels) for _, levels in self.factors)

    @property
    def n_points(self) -> int:
        """Design points: grid cells × sampled points (counted without drawing them)."""
        sampling = self.sampling
        if sampling is None:
            return self.n_cells
        return self.n_cells * design_size(sampling.method, sampling.n, len(sampling.ranges))

    @property
    def n_runs(self) -> int:
        """Runs in the sweep."""
        return self.n_points * self.replications

    def to_dict(self) -> dict[str, Any]:
        """The experiment as plain data (JSON-ready), design included."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "scenario": self.scenario_source,
            "base_scenario_hash": self.base.digest(),
            "replications": self.replications,
            "seed": self.seed,
            "common_random_numbers": self.common_random_numbers,
            "factors": {name: list(levels) for name, levels in self.factors},
            "sampling": None
            if self.sampling is None
            else {
                "method": self.sampling.method,
                "n": self.sampling.n,
                "levels": self.sampling.levels,
                "ranges": {name: [lo, hi] for name, lo, hi in self.sampling.ranges},
                "problem": self.sampling.problem(),
            },
            "design": self.design.tolist(),
            "posterior": None
            if self.posterior is None
            else self.posterior.to_dict(self.posterior_file),
        }

    def digest(self) -> str:
        """A SHA-256 hash of everything that decides the sweep's runs and results."""
        data = self.to_dict()
        for key in ("name", "description", "source", "scenario"):
            data.pop(key)  # naming and paths do not change what is run
        if data["posterior"] is not None:
            for key in ("file", "path"):
                data["posterior"].pop(key)  # its hash decides, not its name or place
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Seeds and expansion (pure functions)
# ---------------------------------------------------------------------------------------------


def run_seed(experiment_seed: int, replication: int, point: int | None = None) -> int:
    """The seed of one run, derived from the experiment's seed (stable across versions).

    With common random numbers (``point=None``) every design point's replication r gets the
    same seed; otherwise each (replication, point) gets its own.
    """
    key = (replication,) if point is None else (replication, point)
    words = np.random.SeedSequence(experiment_seed, spawn_key=key).generate_state(2, np.uint32)
    # 63 bits, so the seed fits a signed 64-bit column in every table format.
    return (int(words[0]) << 31) ^ int(words[1])


def design_points(experiment: Experiment) -> list[tuple[tuple[str, Any], ...]]:
    """Every design point as (key, value) pairs: grid cells (file order) × sampled rows."""
    names = [name for name, _ in experiment.factors]
    cells = list(itertools.product(*(levels for _, levels in experiment.factors)))
    sampled: list[tuple[tuple[str, Any], ...]] = [()]
    if experiment.sampling is not None:
        keys = experiment.sampling.names
        integer = experiment.sampling.integer
        sampled = [
            tuple(
                (key, int(v) if whole else float(v))
                for key, v, whole in zip(keys, row, integer, strict=True)
            )
            for row in experiment.design
        ]
    return [tuple(zip(names, cell, strict=True)) + sample for cell in cells for sample in sampled]


def replication_draw(
    experiment: Experiment, replication: int
) -> tuple[int | None, tuple[tuple[str, Any], ...]]:
    """The posterior particle replication r of every design point takes, and its values.

    ``(None, ())`` without a ``[posterior]``. Like its seed, replication r's particle depends
    on the experiment's seed and r only (:meth:`relsim.runs.posterior.Posterior.draw_index`).
    """
    posterior = experiment.posterior
    if posterior is None:
        return None, ()
    draw = posterior.draw_index(experiment.seed, replication)
    return draw, posterior.parameters(draw)


def expand(experiment: Experiment) -> list[RunSpec]:
    """Every run of an experiment, replication-major.

    Run ``replication * n_points + point`` is replication r of design point p, so that a sweep
    stopped part-way holds whole replications of every point rather than all replications of
    a few.
    """
    points = design_points(experiment)
    runs = []
    for r in range(experiment.replications):
        shared = run_seed(experiment.seed, r) if experiment.common_random_numbers else None
        draw, parameters = replication_draw(experiment, r)
        for p, values in enumerate(points):
            seed = shared if shared is not None else run_seed(experiment.seed, r, p)
            runs.append(RunSpec(r * len(points) + p, p, r, seed, values, draw, parameters))
    return runs


# ---------------------------------------------------------------------------------------------
# Reading and validating experiment files
# ---------------------------------------------------------------------------------------------

#: The tables of an experiment file; ``[base]`` and ``[factors]`` are keyed by dotted scenario
#: keys, ``[experiment]`` and ``[sampling]`` are declared below and checked by the scenario
#: layer's validation engine, as a scenario's tables are.
_TOP = ("experiment", "base", "factors", "sampling", "posterior")

_RANGES_EXAMPLE = '"dotted.key" = [low, high], e.g. "pressure.baseline" = [0.1, 0.6]'


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentTable:
    """The ``[experiment]`` table of an experiment file, as written."""

    name: str = param("", "Name shown in outputs; empty: the file's stem.")
    description: str = param("", "One or two sentences on what the experiment asks.")
    scenario: str = required(
        "The base scenario: a file (relative to the experiment file) or a bundled name.",
        expected="a scenario file or a bundled name",
    )
    replications: int = param(
        1, "Runs of each design point.", lo=1, hi=MAX_REPLICATIONS, unit="runs"
    )
    seed: int = param(0, "Seed from which every run's seed derives.", lo=0, hi=2**63 - 1)
    common_random_numbers: bool = param(
        True, "Whether replication r of every design point runs with the same seed."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SamplingTable:
    """The ``[sampling]`` table of an experiment file, as written."""

    method: str = param("lhs", "Sampling method.", choices=SAMPLING_METHODS)
    n: int = required(
        "Base sample size: points for LHS, N of Saltelli's scheme for Sobol, trajectories for "
        "Morris.",
        expected="a whole number, the base sample size",
        lo=1,
        hi=MAX_RUNS,
    )
    ranges: dict[str, Any] = required(
        "The sampled keys and their ranges.", expected=f"a table of {_RANGES_EXAMPLE}"
    )
    levels: int = param(4, "Grid levels of the Morris method.", lo=2, hi=100)


@dataclass(frozen=True, slots=True, kw_only=True)
class PosteriorTable:
    """The ``[posterior]`` table of an experiment file, as written."""

    file: str = required(
        "A posterior sample to draw each replication's parameter set from: relsim calibrate's "
        "output directory or its posterior.parquet, relative to the experiment file.",
        expected="a posterior file or calibration directory",
    )


def _quoted(key: str) -> str:
    return f'"{key}"'


def _check_override(base: Scenario, src: str, path: str, key: str, value: Any) -> Scenario:
    """Apply one override to the base scenario, reporting a bad value at ``path`` in ``src``."""
    try:
        return with_overrides(base, {key: value}, src)
    except ScenarioError as exc:
        raise ScenarioError(src, path, exc.message) from None


def _resolve_base(text: str, file: Path, src: str) -> Path:
    """The base scenario's file: relative to the experiment file, or a bundled scenario."""
    candidate = Path(text)
    relative = (file.parent / candidate).resolve()  # an absolute path stays itself
    if relative.is_file():
        return relative
    try:
        return resolve_scenario_path(text)
    except ScenarioError:
        # Say where the file was looked for (paths are relative to the experiment file, which
        # trips up a copied bundled experiment), and name a bundled scenario of the same stem.
        hint = f"; looked for {relative}"
        if candidate.stem in bundled_scenarios():
            hint += f', or write scenario = "{candidate.stem}" for the bundled scenario'
        raise ScenarioError(
            src,
            "experiment.scenario",
            f"no such scenario file or bundled scenario ({text!r}){hint}",
        ) from None


def _factors(raw: Any, base: Scenario, src: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    if not isinstance(raw, dict):
        raise ScenarioError(src, "factors", "expected a table of dotted keys and lists of values")
    out = []
    for key, levels in raw.items():
        path = f"factors.{_quoted(key)}"
        if isinstance(levels, dict):
            raise ScenarioError(
                src, path, 'expected a list of values; quote dotted keys: "governance.mode" = [...]'
            )
        if dataclasses.is_dataclass(schema_type_at(key, src, path)):
            raise ScenarioError(src, path, "is a table of settings; vary one of its keys")
        if not isinstance(levels, list) or not levels:
            raise ScenarioError(src, path, f"expected a non-empty list of values (got {levels!r})")
        out.append((key, tuple(levels)))
    for key, levels in out:
        path = f"factors.{_quoted(key)}"
        others = [(k, v) for k, v in out if k != key]
        for i, level in enumerate(levels):
            # A level may be wrong beside the base scenario and right beside the other factors'
            # levels (population.regions = 2 with population.trusts = 12, where the base has
            # 40 trusts): a level is refused here only if no cell can hold it; the check of
            # whole cells (experiment_from_dict) judges the rest.
            error = _error_in_every_cell(base, src, key, level, others)
            if error is not None:
                raise ScenarioError(src, f"{path}[{i}]", error.message)
        if len({json.dumps(v, sort_keys=True) for v in levels}) != len(levels):
            raise ScenarioError(src, path, "lists the same value twice")
    return tuple(out)


def _error_in_every_cell(
    base: Scenario, src: str, key: str, level: Any, others: list[tuple[str, tuple[Any, ...]]]
) -> ScenarioError | None:
    """Why ``key = level`` fits no design cell, or None if it fits one.

    None if the level gives a valid scenario beside some levels of the other factors; else the
    error of the first cell that holds it (of the base alone if nothing else is varied).
    """
    try:
        with_overrides(base, {key: level}, src)
        return None
    except ScenarioError as exc:
        if not others:
            return exc
    names = [k for k, _ in others]
    first: ScenarioError | None = None
    for cell in itertools.product(*(levels for _, levels in others)):
        try:
            with_overrides(base, {**dict(zip(names, cell, strict=True)), key: level}, src)
        except ScenarioError as exc:
            first = first or exc
            continue
        return None
    return first


def _sampling(raw: Any, base: Scenario, src: str, factor_keys: set[str]) -> Sampling:
    table = build_table(SamplingTable, raw, "sampling", Reporter(src))
    method, n = table.method, table.n
    if not table.ranges:
        raise ScenarioError(src, "sampling.ranges", f"needs at least one {_RANGES_EXAMPLE}")
    ranges, integer = [], []
    for key, bounds in table.ranges.items():
        path = f"sampling.ranges.{_quoted(key)}"
        if isinstance(bounds, dict):
            raise ScenarioError(
                src,
                path,
                'expected [low, high]; quote dotted keys: "pressure.baseline" = [0.1, 0.6]',
            )
        tp = schema_type_at(key, src, path)
        if tp not in (float, int):
            raise ScenarioError(src, path, "only numeric keys can be sampled over a range")
        if key in factor_keys:
            raise ScenarioError(src, path, "is also a grid factor; vary it one way only")
        if (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or any(isinstance(b, bool) or not isinstance(b, int | float) for b in bounds)
        ):
            raise ScenarioError(src, path, f"expected [low, high] numbers (got {bounds!r})")
        lo, hi = float(bounds[0]), float(bounds[1])
        if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
            raise ScenarioError(src, path, f"expected finite low < high (got {bounds!r})")
        whole = tp is int
        for i, bound in enumerate((lo, hi)):
            _check_override(
                base, src, f"{path}[{i}]", key, sampled_whole(bound) if whole else bound
            )
        ranges.append((key, lo, hi))
        integer.append(whole)
    if method == "sobol" and len(ranges) < 2:
        raise ScenarioError(src, "sampling.ranges", "Sobol indices need at least two ranges")
    if method == "sobol" and n & (n - 1):
        # Saltelli's scheme keeps the Sobol sequence's balance only for powers of two.
        raise ScenarioError(src, "sampling.n", f"must be a power of two for Sobol (got {n})")
    return Sampling(method, n, tuple(ranges), table.levels, tuple(integer))


def _posterior(
    raw: Any, file: Path, src: str, varied: set[str], fixed: set[str]
) -> tuple[Posterior, str]:
    """The ``[posterior]`` table's sample, checked against the base scenario and the design."""
    from relsim.runs.posterior import read_posterior

    table = build_table(PosteriorTable, raw, "posterior", Reporter(src))
    path = (file.parent / Path(table.file)).resolve()
    try:
        posterior = read_posterior(path, table.file)
    except RelsimError as exc:
        raise ScenarioError(src, "posterior.file", str(exc)) from None
    for key in posterior.names:
        if key in varied:
            raise ScenarioError(
                src, "posterior.file", f"{key} is drawn from the posterior and varied; vary it once"
            )
        if key in fixed:
            raise ScenarioError(
                src, f"base.{_quoted(key)}", "is drawn from the posterior; [base] cannot fix it"
            )
    return posterior, table.file


def experiment_from_dict(
    raw: Mapping[str, Any], *, file: Path, source: str, check_design: bool = True
) -> Experiment:
    """Build a validated experiment from the parsed contents of a file.

    Args:
        raw: The parsed file.
        file: The file, to resolve a base scenario named relative to it.
        source: The file as shown in messages.
        check_design: Also build the grid's cells and the corners of sampled ranges as whole
            scenarios, for the rules between keys (hundreds of scenarios for a large design),
            and read and check the ``[posterior]``. Only listing known-good experiments skips
            it: a sweep must not start without it.
    """
    src = source
    rep = Reporter(src)
    check_keys(raw, _TOP, "", rep)
    if "experiment" not in raw:
        raise ScenarioError(src, "experiment", "the [experiment] table is required")
    meta = build_table(ExperimentTable, raw["experiment"], "experiment", rep)
    for key in ("name", "description"):
        text = getattr(meta, key)
        limit = MAX_TITLE if key == "name" else MAX_TITLE * 10
        if len(text) > limit:
            raise rep.error(
                f"experiment.{key}", f"must be at most {limit} characters (got {len(text)})"
            )
    scenario_path = _resolve_base(meta.scenario, file, src)

    base_raw = raw.get("base", {})
    if not isinstance(base_raw, dict):
        raise ScenarioError(src, "base", "expected a table of dotted scenario keys and values")
    for key in base_raw:
        schema_type_at(key, src, f"base.{_quoted(key)}")
    try:
        base = load_scenario(scenario_path, base_raw, override_source=f"{src}: base")
    except ScenarioError as exc:
        if exc.source == f"{src}: base":
            raise ScenarioError(src, f"base.{_quoted(exc.field)}", exc.message) from None
        raise

    factors = _factors(raw.get("factors", {}), base, src)
    sampling = None
    if "sampling" in raw:
        sampling = _sampling(raw["sampling"], base, src, {k for k, _ in factors})
    if sampling is not None:
        unit_size = design_size(sampling.method, sampling.n, len(sampling.ranges))
        if unit_size > MAX_RUNS:
            raise ScenarioError(src, "sampling.n", f"gives {unit_size} points (at most {MAX_RUNS})")
    posterior, posterior_file = None, ""
    if "posterior" in raw and not check_design:
        # Listing known-good experiments: the file is named, not read (reading it imports
        # pandas and pyarrow, which listing does not need).
        posterior_file = build_table(PosteriorTable, raw["posterior"], "posterior", rep).file
    elif "posterior" in raw:
        varied = {k for k, _ in factors} | set(sampling.names if sampling else ())
        posterior, posterior_file = _posterior(raw["posterior"], file, src, varied, set(base_raw))
    experiment = Experiment(
        name=meta.name or file.stem,
        description=meta.description,
        source=src,
        scenario_source=meta.scenario,
        base=base,
        replications=meta.replications,
        seed=meta.seed,
        common_random_numbers=meta.common_random_numbers,
        factors=factors,
        sampling=sampling,
        posterior=posterior,
        posterior_file=posterior_file,
    )
    if experiment.n_runs > MAX_RUNS:
        raise ScenarioError(
            src,
            "experiment.replications",
            f"the design expands to {experiment.n_runs} runs (at most {MAX_RUNS})",
        )
    if check_design:
        _check_design(experiment, src)
    return experiment


#: Most scenarios built to check the corners of a sampled design's ranges, and a posterior's
#: particles in the grid's cells (about 1 ms each).
MAX_CORNER_CHECKS = 1024
MAX_PARTICLE_CHECKS = 4096


def _shown(values: Mapping[str, Any]) -> str:
    """Overrides as messages show them: ``key = value, ...`` (values as JSON)."""
    return ", ".join(f"{k} = {json.dumps(v)}" for k, v in values.items())


def _check_design(experiment: Experiment, src: str) -> None:
    """Check the design as whole scenarios, before anything runs.

    Cross-field rules need whole scenarios: a level can be valid alone and not beside another
    factor's level (a compact's lapse threshold above its threshold), and sampled ranges can
    pair a partner's start after its end. Every grid cell is checked. Sampled points are too
    many to build one by one (a Sobol design has tens of thousands), so the corners of the
    ranges are checked in each cell, which catches rules between keys that hold or break
    monotonically, as those do; a point that still breaks a rule fails as its run does. Every
    distinct particle of a posterior is checked in every cell (a drawn floor above a varied
    ceiling), or in the first cell only beyond :data:`MAX_PARTICLE_CHECKS`.
    """
    base = experiment.base
    names = [k for k, _ in experiment.factors]
    cells = [
        dict(zip(names, cell, strict=True))
        for cell in itertools.product(*(levels for _, levels in experiment.factors))
    ]
    for cell in cells:
        try:
            with_overrides(base, cell, src)
        except ScenarioError as exc:
            raise ScenarioError(
                src,
                "factors",
                f"the cell {_shown(cell)} is not a valid scenario: {exc.field}: {exc.message}",
            ) from None
    _check_corners(experiment, cells, src)
    _check_particles(experiment, cells, src)


def _check_corners(experiment: Experiment, cells: list[dict[str, Any]], src: str) -> None:
    """Check the corners of the sampled ranges in each cell (within :data:`MAX_CORNER_CHECKS`)."""
    sampling = experiment.sampling
    if sampling is None or len(cells) * 2 ** len(sampling.ranges) > MAX_CORNER_CHECKS:
        return
    ends = [
        (sampled_whole(lo), sampled_whole(hi)) if whole else (lo, hi)
        for (_, lo, hi), whole in zip(sampling.ranges, sampling.integer, strict=True)
    ]
    for cell in cells:
        for corner in itertools.product(*ends):
            point = dict(zip(sampling.names, corner, strict=True))
            try:
                with_overrides(experiment.base, {**cell, **point}, src)
            except ScenarioError as exc:
                raise ScenarioError(
                    src,
                    "sampling.ranges",
                    "the ranges include points that are not valid scenarios, e.g. "
                    + _shown(point)
                    + (f" (in the cell {_shown(cell)})" if cell else "")
                    + f": {exc.field}: {exc.message}",
                ) from None


def _check_particles(experiment: Experiment, cells: list[dict[str, Any]], src: str) -> None:
    """Check every distinct particle of the posterior in each cell (see :func:`_check_design`)."""
    posterior = experiment.posterior
    if posterior is None:
        return
    distinct = posterior.distinct()
    if len(distinct) * len(cells) > MAX_PARTICLE_CHECKS:
        cells = cells[:1]
    for cell in cells:
        for i in distinct:
            try:
                with_overrides(experiment.base, {**cell, **dict(posterior.parameters(i))}, src)
            except ScenarioError as exc:
                raise ScenarioError(
                    src,
                    "posterior.file",
                    f"particle {i} of {experiment.posterior_file} is not a valid scenario"
                    + (f" in the cell {_shown(cell)}" if cell else "")
                    + f": {exc.field}: {exc.message}",
                ) from None


def bundled_experiments() -> dict[str, Path]:
    """Map the name of each bundled experiment to its file."""
    return bundled_files("experiments")


def load_experiment(
    source: str | Path | Mapping[str, Any], *, check_design: bool = True
) -> Experiment:
    """Load and validate an experiment: a file, a bundled experiment's name, or a dict.

    A dict has the tables of an experiment file, e.g. ``{"experiment": {"scenario":
    "nhs_vmi_partnership", "replications": 20}, "factors": {"governance.mode":
    ["hierarchical", "networked"]}}``; a scenario file it names is relative to the working
    directory, and messages name it ``<dict>``.

    ``check_design=False`` skips building the design's cells and corners as whole scenarios
    (see :func:`experiment_from_dict`): for listing the bundled experiments, which the tests
    check whole.

    Raises:
        ScenarioError: naming the file, the field and what was expected.
    """
    if isinstance(source, Mapping):
        return experiment_from_dict(
            source, file=Path.cwd() / "<dict>", source="<dict>", check_design=check_design
        )
    path, shown, raw = read_source(source, "experiments")
    return experiment_from_dict(raw, file=path.resolve(), source=shown, check_design=check_design)


def grid_experiment(
    base: Scenario,
    factors: Mapping[str, Any],
    *,
    replications: int,
    seed: int,
    source: str = "grid",
) -> Experiment:
    """An experiment over a grid of levels on a scenario already built (``simulate_many``).

    The levels are checked as an experiment file's ``[factors]`` are: each against the
    scenario's schema, and each cell as a whole scenario.

    Raises:
        ScenarioError: naming ``source``, the factor and what was expected.
    """
    raw = {
        key: list(levels) if isinstance(levels, tuple) else levels
        for key, levels in factors.items()
    }
    experiment = Experiment(
        name=base.name,
        description="",
        source=source,
        scenario_source=base.name,
        base=base,
        replications=replications,
        seed=seed,
        common_random_numbers=True,
        factors=_factors(raw, base, source),
        sampling=None,
    )
    if experiment.n_runs > MAX_RUNS:
        raise ScenarioError(
            source, "seeds", f"the grid expands to {experiment.n_runs} runs (at most {MAX_RUNS})"
        )
    _check_design(experiment, source)
    return experiment


def with_replications(experiment: Experiment, replications: int, source: str) -> Experiment:
    """The experiment with another number of replications (``relsim sweep --replications``).

    Replication r keeps its seed whatever their number, so a sweep with more replications
    holds every run of one with fewer, and ``--resume`` can extend a finished sweep.

    Raises:
        ScenarioError: if the design would expand to more than :data:`MAX_RUNS` runs.
    """
    changed = dataclasses.replace(experiment, replications=replications)
    if changed.n_runs > MAX_RUNS:
        raise ScenarioError(
            source,
            "replications",
            f"the design expands to {changed.n_runs} runs (at most {MAX_RUNS})",
        )
    return changed


def with_base_overrides(
    experiment: Experiment, overrides: Mapping[str, Any], source: str
) -> Experiment:
    """The experiment with more ``[base]`` overrides (``relsim sweep --set KEY=VALUE``).

    Applied to the base scenario and checked as the file's own ``[base]`` is: every level of
    every factor, and the design's cells, must still be valid scenarios.

    Raises:
        ScenarioError: naming ``source`` (``--set``), the key and what was expected.
    """
    factor_keys = {k for k, _ in experiment.factors} | set(
        experiment.sampling.names if experiment.sampling else ()
    )
    drawn = set(experiment.posterior.names if experiment.posterior else ())
    for key in overrides:
        if key in factor_keys:
            raise ScenarioError(source, key, "is varied by the experiment; --set cannot fix it")
        if key in drawn:
            raise ScenarioError(source, key, "is drawn from the posterior; --set cannot fix it")
    base = with_overrides(experiment.base, dict(overrides), source)
    changed = dataclasses.replace(experiment, base=base)
    _check_design(changed, source)
    return changed


__all__ = [
    "Experiment",
    "ExperimentTable",
    "PosteriorTable",
    "RunSpec",
    "Sampling",
    "SamplingTable",
    "bundled_experiments",
    "design_points",
    "expand",
    "grid_experiment",
    "load_experiment",
    "replication_draw",
    "run_seed",
    "with_base_overrides",
    "with_replications",
]
