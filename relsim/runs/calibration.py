"""Pattern-oriented calibration by approximate Bayesian computation (ABC-SMC, with pyABC).

``relsim calibrate`` fits the assumption parameters a calibration file names to the patterns of
the case (its targets) by sequential Monte Carlo ABC, using pyABC's ABC-SMC: each generation
proposes parameter sets from the last generation's weighted particles, runs the base scenario
at each over a few seeds, and accepts those whose statistics lie within a tolerance ε of every
target's window; ε shrinks each generation to the median distance of the last one (pyABC's
quantile schedule) and the calibration stops once ε reaches 0 (every accepted particle meets
every target) or after the file's number of generations.

**Distance.** The sum over targets of how far the statistic lies outside its window, in window
widths (:func:`relsim.runs.patterns.window_distance`): 0 inside every window.

**Reproducibility.** pyABC's own parallel samplers accept whichever particles finish first, so
their posteriors depend on timing. :class:`OrderedSampler` instead gives proposal i of
generation t its own seed (from the calibration's seed, t and i through
:class:`numpy.random.SeedSequence`), evaluates proposals in batches on relsim's executors
(one process, local processes or Dask), and keeps the first ``population_size`` accepted in
the order of i. The posterior is therefore a function of the file alone, whatever the number of
workers. pyABC is driven one generation at a time, each from its database, so that a resumed
calibration (``--resume``) follows the very path of an uninterrupted one: the same seed gives
the same posterior, bytes and all.

**Outputs** (in the output directory): ``abc.db`` (pyABC's database: every generation, what
``--resume`` continues from), ``calibration.json`` (the validated file and its hash),
``posterior.parquet`` (the last generation's particles: parameters and weights),
``posterior_statistics.parquet`` (each particle's target statistics), ``generations.csv``
(per-generation diagnostics) and, once everything else is written, ``manifest.json``. pyABC is
imported only here, on first use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from relsim.atomic import MANIFEST, atomic_file, write_json
from relsim.errors import RelsimError, ScenarioError
from relsim.model.batch import run_replications, supports
from relsim.model.mesa_model import RegulationModel
from relsim.runs.calibration_file import Calibration, Prior, Target
from relsim.runs.executors import Executor
from relsim.runs.patterns import STATISTICS, window_distance
from relsim.runs.provenance import code_digest, versions
from relsim.scenario import Scenario, with_overrides

#: pyABC's database, the spec the calibration was started with, and the outputs.
DATABASE = "abc.db"
SPEC = "calibration.json"
POSTERIOR = "posterior.parquet"
STATISTICS_FILE = "posterior_statistics.parquet"
GENERATIONS = "generations.csv"

#: Proposals evaluated per task sent to a worker (amortises sending pyABC's sampling closure).
CHUNK = 8

#: pyABC's loggers, quietened: relsim prints its own line per generation.
_PYABC_LOGGERS = ("ABC", "pyabc", "Epsilon", "Distance", "Acceptor", "Sampler", "History")


# ---------------------------------------------------------------------------------------------
# The model pyABC calls: one evaluation = the scenario at one parameter set over a few seeds
# ---------------------------------------------------------------------------------------------


def scenario_at(base: Scenario, priors: Sequence[Prior], values: dict[str, float]) -> Scenario:
    """The base scenario with the calibrated keys set to ``values`` (whole numbers rounded).

    Raises:
        ScenarioError: if the values break a rule between keys (a floor above its ceiling).
    """
    overrides = {p.key: round(values[p.key]) if p.integer else float(values[p.key]) for p in priors}
    return with_overrides(base, overrides, "calibration")


def run_series(scenario: Scenario, seeds: Sequence[int]) -> list[dict[str, list[Any]]]:
    """Each seed's monthly series: all together when the batched driver covers the scenario."""
    if supports(scenario):
        return run_replications(scenario, seeds)
    series = []
    for seed in seeds:
        model = RegulationModel(scenario, rng=seed, record="months")
        model.run_model()
        series.append(model.datacollector.model_vars)
    return series


def target_statistics(
    runs: Sequence[dict[str, list[Any]]], scenario: Scenario, targets: Sequence[Target]
) -> dict[str, float]:
    """Each target's statistic over the runs, by target name."""
    return {t.name: STATISTICS[t.statistic].compute(runs, scenario, t.month) for t in targets}


@dataclass(frozen=True)
class Evaluator:
    """pyABC's model: the statistics of the base scenario at a proposed parameter set.

    The replications' seeds are drawn from NumPy's global generator, which
    :class:`OrderedSampler` seeds for each proposal, so that an evaluation is a function of the
    calibration's seed, the generation and the proposal's index.
    """

    base: Scenario
    priors: tuple[Prior, ...]
    targets: tuple[Target, ...]
    replications: int

    def __call__(self, parameters: Any) -> dict[str, float]:
        """The targets' statistics at ``parameters`` (NaN for a proposal that breaks a rule)."""
        # pyABC draws its proposals from NumPy's global state; the seeds come from the same state.
        seeds = np.random.randint(0, 2**63 - 1, size=self.replications, dtype=np.int64)  # noqa: NPY002
        try:
            scenario = scenario_at(self.base, self.priors, dict(parameters))
        except ScenarioError:
            return {t.name: float("nan") for t in self.targets}
        return target_statistics(run_series(scenario, seeds.tolist()), scenario, self.targets)


@dataclass(frozen=True)
class WindowDistance:
    """pyABC's distance: the sum over targets of the distance outside each window."""

    targets: tuple[Target, ...]

    def __call__(self, x: dict[str, float], x_0: dict[str, float]) -> float:
        """0 when every statistic lies in its window; the observed ``x_0`` is not used."""
        return float(sum(window_distance(x[t.name], t.low, t.high) for t in self.targets))


# ---------------------------------------------------------------------------------------------
# A reproducible sampler on relsim's executors
# ---------------------------------------------------------------------------------------------


def proposal_seed(seed: int, t: int, index: int) -> np.ndarray:
    """The seed of proposal ``index`` of generation ``t`` (t = -1: pyABC's prior sample)."""
    return np.random.SeedSequence(seed, spawn_key=(t + 1, index)).generate_state(4, np.uint32)


def _evaluate_chunk(payload: bytes, chunk: tuple[int, int, int, int]) -> tuple[int, list[Any]]:
    """Run pyABC's ``simulate_one`` for proposals ``start`` to ``stop`` of generation ``t``."""
    import cloudpickle

    seed, t, start, stop = chunk
    simulate_one = cloudpickle.loads(payload)
    particles = []
    for index in range(start, stop):
        np.random.seed(proposal_seed(seed, t, index))  # noqa: NPY002 - pyABC draws from it
        particles.append(simulate_one())
    return start, particles


def _ordered(
    executor: Executor, payload: bytes, chunks: list[tuple[int, int, int, int]]
) -> list[Any]:
    """The particles of every chunk, in the order of the proposals' indices."""
    done = dict(executor.map_unordered(_evaluate_chunk, payload, chunks))
    return [particle for chunk in chunks for particle in done[chunk[2]]]


def _sampler_class() -> type:
    """:class:`OrderedSampler`'s class, built on first use so that pyABC loads only then."""
    from pyabc.sampler import Sampler

    class OrderedSampler(Sampler):
        """Evaluate seeded proposals in batches on an executor; keep the first n accepted.

        Args:
            executor: Where proposals are evaluated.
            seed: The calibration's seed.
        """

        def __init__(self, executor: Executor, seed: int) -> None:
            super().__init__()
            self.executor = executor
            self.seed = seed
            self.batch = CHUNK * max(1, executor.workers) * 2

        def sample_until_n_accepted(
            self,
            n: int,
            simulate_one: Any,
            t: int,
            *,
            max_eval: float = np.inf,
            all_accepted: bool = False,
            ana_vars: Any = None,
        ) -> Any:
            import cloudpickle

            payload = cloudpickle.dumps(simulate_one)
            sample = self._create_empty_sample()
            accepted = evaluations = start = 0
            while accepted < n and evaluations < max_eval:
                chunks = [
                    (self.seed, t, i, i + CHUNK) for i in range(start, start + self.batch, CHUNK)
                ]
                start += self.batch
                for particle in _ordered(self.executor, payload, chunks):
                    sample.append(particle)
                    evaluations += 1
                    accepted += bool(particle.accepted)
                    if accepted == n or evaluations >= max_eval:
                        break
            self.nr_evaluations_ = evaluations
            if accepted < n:
                sample.ok = False
            return sample

    return OrderedSampler


# ---------------------------------------------------------------------------------------------
# Running a calibration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """Diagnostics of one generation of ABC-SMC."""

    t: int
    epsilon: float
    evaluations: int
    accepted: int
    ess: float

    @property
    def acceptance_rate(self) -> float:
        """Accepted particles per evaluation."""
        return self.accepted / self.evaluations if self.evaluations else math.nan

    def line(self, populations: int, seconds: float) -> str:
        """The progress line printed when the generation ends."""
        return (
            f"generation {self.t + 1}/{populations}: epsilon {self.epsilon:.4g}, "
            f"acceptance {self.acceptance_rate:.3f} ({self.evaluations} evaluations), "
            f"ESS {self.ess:.1f}, {seconds:.1f} s"
        )


def spec(calibration: Calibration) -> dict[str, Any]:
    """What decides the results: the calibration and the code (``calibration.json``)."""
    return {
        "relsim": "calibration-spec",
        "calibration": calibration.to_dict(),
        "calibration_hash": calibration.digest(),
        "code_hash": code_digest(),
    }


def _check_output(out: Path, calibration: Calibration, resume: bool) -> None:
    """Refuse to overwrite anything; on ``--resume``, refuse a directory of another calibration."""
    if not resume:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise RelsimError(
                f"{out}: refusing to overwrite: it exists and is not empty "
                "(continue it with --resume, or choose another --out)"
            )
        return
    try:
        stored = json.loads((out / SPEC).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise RelsimError(f"{out}: nothing to resume (no {SPEC} of a calibration)") from None
    if stored.get("calibration_hash") != calibration.digest():
        raise RelsimError(f"{out}: cannot resume: it holds a different calibration")
    if stored.get("code_hash") != code_digest():
        raise RelsimError(
            f"{out}: cannot resume: it was started with other relsim code (its results would mix)"
        )


def _quiet_pyabc() -> None:
    for name in _PYABC_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def unit_bandwidth(n_samples: float, dimension: int) -> float:
    """No shrinking of the perturbation kernel by the population's size.

    With ``scaling=2``, the kernel's covariance is twice the weighted sample covariance of the
    last generation: Beaumont et al.'s (2009) choice (Biometrika 96:983).

    pyABC's default (Silverman's rule) shrinks the kernel as the population grows, which for
    a stochastic model over several parameters leaves a few far-out particles with most of the
    weight (an effective sample size of a few per cent).
    """
    return 1.0


def _abc(calibration: Calibration, sampler: Any) -> Any:
    """The ABC-SMC of pyABC for the calibration, on an :class:`OrderedSampler`."""
    import pyabc

    _quiet_pyabc()  # after the import, which sets pyABC's loggers' levels

    prior = pyabc.Distribution(
        **{p.key: pyabc.RV("uniform", p.low, p.high - p.low) for p in calibration.priors}
    )
    return pyabc.ABCSMC(
        Evaluator(
            calibration.base, calibration.priors, calibration.targets, calibration.replications
        ),
        prior,
        WindowDistance(calibration.targets),
        population_size=calibration.population_size,
        transitions=pyabc.MultivariateNormalTransition(
            scaling=2.0, bandwidth_selector=unit_bandwidth
        ),
        sampler=sampler,
        eps=pyabc.QuantileEpsilon(alpha=0.5),
    )


def generations(history: Any) -> list[Generation]:
    """Each stored generation's diagnostics, from pyABC's history."""
    from pyabc.weighted_statistics import effective_sample_size

    populations = history.get_all_populations()
    out = []
    for row in populations[populations["t"] >= 0].itertuples():
        _, weights = history.get_distribution(m=0, t=int(row.t))
        out.append(
            Generation(
                t=int(row.t),
                epsilon=float(row.epsilon),
                evaluations=int(row.samples),
                accepted=int(row.particles),
                ess=float(effective_sample_size(np.asarray(weights))),
            )
        )
    return out


def _run_generations(
    calibration: Calibration,
    executor: Executor,
    url: str,
    populations: int,
    progress: TextIO | None,
) -> Any:
    """Run pyABC one generation at a time until ε reaches 0 or ``populations`` are done.

    Each generation is run by a fresh ABC-SMC loaded from the database, exactly as a resumed
    calibration is, so that an interrupted and resumed calibration follows the same path as
    an uninterrupted one. (One ABC-SMC object run a generation at a time would not: it keeps
    the prior sample it first calibrated ε on.)

    Returns:
        The history of the last ABC-SMC.
    """
    sampler = _sampler_class()(executor, calibration.seed)
    while True:
        abc = _abc(calibration, sampler)
        if Path(url.removeprefix("sqlite:///")).exists():
            abc.load(url, 1)
        else:
            abc.new(url, {t.name: (t.low + t.high) / 2 for t in calibration.targets})
        history = abc.history
        done = generations(history)
        if history.max_t + 1 >= populations or (done and done[-1].epsilon <= 0):
            return history
        started = time.monotonic()
        abc.run(max_nr_populations=1, minimum_epsilon=0.0)
        latest = generations(history)[-1]
        if progress is not None:
            print(latest.line(populations, time.monotonic() - started), file=progress, flush=True)


def posterior_frames(history: Any, calibration: Calibration) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last generation's particles (parameters, weight) and their target statistics."""
    t = history.max_t
    parameters, weights = history.get_distribution(m=0, t=t)
    keys = [p.key for p in calibration.priors]
    posterior = parameters.reset_index(drop=True)[keys].astype(float)
    posterior.insert(0, "particle", np.arange(len(posterior), dtype=np.int64))
    posterior["weight"] = np.asarray(weights, dtype=float)
    stat_weights, stats = history.get_weighted_sum_stats(t=t)
    statistics = pd.DataFrame(
        [{t_.name: float(s[t_.name]) for t_ in calibration.targets} for s in stats]
    )
    statistics.insert(0, "particle", np.arange(len(statistics), dtype=np.int64))
    statistics["weight"] = np.asarray(stat_weights, dtype=float)
    return posterior, statistics


def _write_parquet(frame: pd.DataFrame, path: Path, what: str) -> None:
    with atomic_file(path, what) as tmp:
        frame.to_parquet(tmp, index=False)


def _write_csv(frame: pd.DataFrame, path: Path, what: str) -> None:
    with atomic_file(path, what) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.8g")


def generations_frame(rows: Sequence[Generation]) -> pd.DataFrame:
    """The per-generation diagnostics as a table (``generations.csv``)."""
    return pd.DataFrame(
        {
            "generation": [g.t + 1 for g in rows],
            "epsilon": [g.epsilon for g in rows],
            "evaluations": [g.evaluations for g in rows],
            "accepted": [g.accepted for g in rows],
            "acceptance_rate": [g.acceptance_rate for g in rows],
            "ess": [g.ess for g in rows],
        }
    )


def calibrate(
    calibration: Calibration,
    out: Path | str,
    executor: Executor,
    *,
    populations: int | None = None,
    resume: bool = False,
    progress: TextIO | None = None,
) -> Path:
    """Run (or continue) a calibration and write its posterior and diagnostics into ``out``.

    Args:
        calibration: The validated calibration file.
        out: The output directory: new or empty, or (``resume``) one this calibration started.
        executor: Where the evaluations run; the results do not depend on it.
        populations: Most generations (default: the file's ``populations``).
        resume: Continue from the directory's pyABC database.
        progress: Where to print a line per generation (None: nowhere).

    Returns:
        The output directory. ``manifest.json`` is written by :func:`write_manifest`, after
        the figures.

    Raises:
        RelsimError: if ``out`` would be overwritten, or holds another calibration.
    """
    out = Path(out)
    _check_output(out, calibration, resume)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RelsimError(f"{out}: cannot create output directory ({exc.strerror})") from None
    (out / MANIFEST).unlink(missing_ok=True)  # a resumed calibration is unfinished until done
    write_json(out / SPEC, spec(calibration), "the calibration's spec")
    url = f"sqlite:///{(out / DATABASE).resolve()}"
    populations = populations or calibration.populations
    history = _run_generations(calibration, executor, url, populations, progress)
    posterior, statistics = posterior_frames(history, calibration)
    _write_parquet(posterior, out / POSTERIOR, "the posterior")
    _write_parquet(statistics, out / STATISTICS_FILE, "the posterior's statistics")
    _write_csv(generations_frame(generations(history)), out / GENERATIONS, "the diagnostics")
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(out: Path | str, calibration: Calibration) -> Path:
    """Write ``manifest.json`` last: provenance and the hash of every output but the database.

    The database holds timestamps, so it differs between identical calibrations; every other
    file is the same bytes for the same file and seed.
    """
    import pyabc

    out = Path(out)
    files = sorted(
        p
        for p in out.rglob("*")
        if p.is_file() and p.name not in (MANIFEST, DATABASE) and not p.name.startswith(".")
    )
    source = Path(calibration.source)
    manifest = {
        "relsim": "calibration",
        "name": calibration.name,
        "seed": calibration.seed,
        "calibration_hash": calibration.digest(),
        "calibration_file": calibration.source,
        "calibration_file_sha256": _sha256(source) if source.is_file() else None,
        "code_hash": code_digest(),
        "versions": {**versions(), "pyabc": pyabc.__version__},
        "files": {p.relative_to(out).as_posix(): _sha256(p) for p in files},
    }
    write_json(out / MANIFEST, manifest)
    return out / MANIFEST


def read_posterior(out: Path | str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A calibration directory's posterior, its statistics and its diagnostics.

    Raises:
        RelsimError: if the directory holds no finished calibration outputs.
    """
    out = Path(out)
    try:
        return (
            pd.read_parquet(out / POSTERIOR),
            pd.read_parquet(out / STATISTICS_FILE),
            pd.read_csv(out / GENERATIONS),
        )
    except (OSError, ValueError) as exc:
        raise RelsimError(f"{out}: not a calibration directory ({exc})") from None


__all__ = [
    "Evaluator",
    "Generation",
    "WindowDistance",
    "calibrate",
    "generations_frame",
    "proposal_seed",
    "read_posterior",
    "scenario_at",
    "target_statistics",
    "write_manifest",
]
