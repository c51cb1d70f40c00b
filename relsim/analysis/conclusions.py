"""How much of the plausible world each policy conclusion holds in.

A policy conclusion compares two governance rules on one outcome, e.g. "hybrid beats
hierarchical on full heat-map adoption". At the defaults it holds or not; but most of the
defaults it rests on are assumptions (the schema's parameters whose source reads
"assumption"). This module runs every governance rule at many *parameter sets* and reports, for
each conclusion, the share of parameter sets in which it holds.

The parameter sets are rows of a DataFrame whose columns are dotted scenario keys. By default
they are a Latin hypercube (``scipy.stats.qmc``) over the **prior box**
(:func:`prior_box`): every assumption parameter, and the board's meeting interval and hours,
from half to twice its default within its admissible range. A posterior sample of the same
parameters (what ``relsim calibrate`` produces) can be passed instead, and then the shares are
shares of the posterior.

Within a parameter set, the rules run with the same seeds (paired), ``replications`` each, all
replications of a rule stepped together (:func:`relsim.model.batch.run_replications`). The
partner leaves at month 60 of 120, so capability at month 120 is what lasts. A conclusion
*holds* in a parameter set when the paired mean difference over seeds favours the first rule;
it holds *clearly* when the 95% interval of that difference excludes zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.analysis.stats import LEVEL, wilson_interval
from relsim.atomic import atomic_write_bytes
from relsim.errors import RelsimError
from relsim.model.batch import run_replications
from relsim.runs.executors import Executor, make_executor
from relsim.runs.experiment import run_seed
from relsim.scenario import Scenario, load_scenario, schema_rows, with_overrides

#: The rules compared, from the purely relational to the purely positional; a conclusion reads
#: "the first of a pair does better than the second".
MODES: tuple[str, ...] = ("networked", "hybrid", "responsive", "hierarchical")
#: The partner leaves at month 60 of a 120-month horizon (what lasts after it).
EXIT_MONTH, HORIZON = 60, 120
#: The defaults of ``relsim conclusions`` (200 draws): 10 paired seeds a rule and draw.
DEFAULT_REPLICATIONS, DEFAULT_SEED = 10, 20150401
#: Besides the assumptions: how often and how long the board meets.
BOARD_KEYS = ("governance.board.meeting_interval_months", "governance.board.hours")
#: Assumptions of the scale-up (section 7.11 of the ODD): no effect on one network of five.
SCALE_UP_PREFIXES = ("governance.regional.", "governance.national.", "population.")
#: The floor and ceiling of the board's positivity must keep floor <= ceiling in every draw:
#: their boxes meet at the midpoint of their defaults instead of each spanning a factor of two.
POSITIVITY_SPLIT = 0.65
_EXCEPTIONS = {
    "governance.board.positivity_floor": (0.2, POSITIVITY_SPLIT),
    "governance.board.positivity_ceiling": (POSITIVITY_SPLIT, 1.0),
    # Calibrated parameters keep the box of the default assumed before calibration (16 hours
    # and 0.5): the box is the plausible world the data then narrow, not a box around the
    # posterior, and the conclusions over it stay comparable.
    "governance.compact.clause_hours": (8.0, 32.0),
    "governance.board.showcase_probability": (0.25, 1.0),
}


@dataclass(frozen=True)
class Outcome:
    """One outcome a conclusion compares the rules on.

    Attributes:
        name: Short name (a column of the per-draw table).
        label: What it is, for the table.
        better: +1 when more is better, -1 when less is.
        measure: From one run's monthly series and its number of trusts to the number.
    """

    name: str
    label: str
    better: int
    measure: Callable[[dict[str, list[Any]], int], float]


Series = dict[str, list[Any]]


def _last(column: str) -> Callable[[Series, int], float]:
    return lambda series, _n: float(series[column][-1])


def _total(column: str) -> Callable[[Series, int], float]:
    return lambda series, _n: float(np.sum(series[column]))


def _gaming(series: Series, _n: int) -> float:
    return float(np.mean(series["gaming_gap"][1:]))


def _heat_map_everywhere(series: Series, n: int) -> float:
    return float(np.max(series["adopters_training_heat_map"]) >= n)


OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "trust", f"trust in the regulator at month {HORIZON}", 1, _last("mean_trust_in_regulator")
    ),
    Outcome("disclosures", f"problems disclosed over {HORIZON} months", 1, _total("disclosures")),
    Outcome(
        "surprises",
        f"problems surfacing as surprises over {HORIZON} months",
        -1,
        _total("surprises"),
    ),
    Outcome("gaming", "mean gaming gap (reported minus true quality)", -1, _gaming),
    Outcome("heat_map", "the heat map reaches every trust", 1, _heat_map_everywhere),
    Outcome(
        "capability",
        f"capability at month {HORIZON} (the partner left at {EXIT_MONTH})",
        1,
        _last("mean_capability"),
    ),
)


def prior_box() -> dict[str, tuple[float, float]]:
    """The plausible range of every assumption parameter and of the board's interval and hours.

    Each parameter of the schema whose source starts with "assumption" or "calibrated" (not
    those of the scale-up, which do nothing in one network of five trusts), and the board's
    meeting interval and hours, range from half to twice the default, within the parameter's
    admissible range. The board's positivity floor and ceiling meet at
    :data:`POSITIVITY_SPLIT` instead, so that no draw puts the floor above the ceiling, and
    calibrated parameters keep the box of their default before calibration.
    """
    box: dict[str, tuple[float, float]] = {}
    for row in schema_rows():
        key, default = row["key"], row["default"]
        assumed = str(row["source"]).startswith(("assumption", "calibrated"))
        if not (assumed or key in BOARD_KEYS) or key.startswith(SCALE_UP_PREFIXES):
            continue
        lo, hi = (float(v) for v in row["range"].strip("[]()").split(","))
        box[key] = _EXCEPTIONS.get(key, (max(lo, default / 2), min(hi, default * 2.0)))
    return box


def _integer_keys() -> frozenset[str]:
    return frozenset(r["key"] for r in schema_rows() if type(r["default"]) is int)


def prior_sample(n: int, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """``n`` parameter sets: a Latin hypercube over :func:`prior_box` (whole numbers rounded)."""
    from scipy.stats import qmc

    box = prior_box()
    lo = np.array([b[0] for b in box.values()])
    hi = np.array([b[1] for b in box.values()])
    unit = qmc.LatinHypercube(d=len(box), rng=np.random.default_rng(seed)).random(n)
    draws = pd.DataFrame(lo + unit * (hi - lo), columns=list(box))
    for key in _integer_keys() & set(box):
        draws[key] = np.round(draws[key]).astype(int)
    return draws


def posterior_sample(source: Path | str, n: int, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """``n`` parameter sets drawn from a posterior sample, with replacement, by its weights.

    Args:
        source: ``posterior.parquet`` as ``relsim calibrate`` writes it, or its directory
            (:func:`relsim.runs.posterior.read_posterior`).
        n: How many parameter sets.
        seed: Seed of the resampling (the same seed, the same sets).

    Raises:
        RelsimError: one line naming the file and what is wrong with it.
    """
    from relsim.errors import ScenarioError
    from relsim.runs.posterior import read_posterior

    posterior = read_posterior(source)
    base = base_scenario()
    for i in posterior.distinct():  # before anything runs, naming the file and the particle
        try:
            with_overrides(base, dict(posterior.parameters(i)), "a posterior")
        except ScenarioError as exc:
            raise RelsimError(
                f"{posterior.path}: particle {i} is not a valid scenario: {exc.field}: "
                f"{exc.message}"
            ) from None
    return posterior.sample(n, seed)


def base_scenario() -> Scenario:
    """The case over ten years, the partner leaving after five."""
    return with_overrides(
        load_scenario("nhs_vmi_partnership"),
        {"scenario.months": HORIZON, "partner.end_month": EXIT_MONTH},
    )


def draw_outcomes(base: Scenario, params: dict[str, Any], seeds: Sequence[int]) -> np.ndarray:
    """Every rule at one parameter set: outcomes, ``(modes, outcomes, seeds)``, paired by seed."""
    scenario = with_overrides(base, params, source="a parameter set")
    out = np.empty((len(MODES), len(OUTCOMES), len(seeds)))
    for m, mode in enumerate(MODES):
        runs = run_replications(with_overrides(scenario, {"governance.mode": mode}), seeds)
        n = len(scenario.trusts)
        for r, series in enumerate(runs):
            out[m, :, r] = [o.measure(series, n) for o in OUTCOMES]
    return out


def _python(key: str, value: Any, integers: frozenset[str]) -> Any:
    """A drawn value as the Python value the scenario's validation expects.

    NumPy scalars become Python numbers, and a whole-number parameter drawn as a float (as a
    posterior sample may give it) is rounded.
    """
    value = value.item() if isinstance(value, np.generic) else value
    return round(value) if key in integers else value


def _run_draws(
    job: tuple[Scenario, int, int], chunk: Sequence[tuple[int, dict[str, Any]]]
) -> list[tuple[int, np.ndarray]]:
    base, seed, replications = job
    return [
        (
            d,
            draw_outcomes(
                base, params, [run_seed(seed, d * replications + r) for r in range(replications)]
            ),
        )
        for d, params in chunk
    ]


def _chunks(draws: pd.DataFrame) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    integers = _integer_keys()
    for d, row in enumerate(draws.to_dict("records")):
        yield [(d, {str(k): _python(str(k), v, integers) for k, v in row.items()})]


def collect(
    draws: pd.DataFrame,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
    executor: Executor | None = None,
    base: Scenario | None = None,
) -> np.ndarray:
    """Run every rule at every parameter set: ``(draws, modes, outcomes, replications)``.

    Draw d's replication r runs with ``run_seed(seed, d·replications + r)`` under every rule,
    so the rules are paired within a draw and the result does not depend on the executor.
    """
    job = (base or base_scenario(), seed, replications)
    out = np.empty((len(draws), len(MODES), len(OUTCOMES), replications))
    ex = executor or make_executor(None, None)
    try:
        for results in ex.map_unordered(_run_draws, job, _chunks(draws)):
            for d, values in results:
                out[d] = values
    finally:
        if executor is None:
            ex.close()
    return out


#: Every pair of rules, the more relational first.
PAIRS: tuple[tuple[str, str], ...] = tuple(combinations(MODES, 2))


def paired_advantage(values: np.ndarray, pairs: Sequence[tuple[str, str]] = PAIRS) -> np.ndarray:
    """Per draw, pair of rules and outcome: how much better the first rule does, per seed.

    Args:
        values: ``(draws, modes, outcomes, replications)`` as :func:`collect` returns.
        pairs: The conclusions' rules, ``(first, second)``, each one of :data:`MODES`.

    Returns:
        ``(draws, pairs, outcomes, replications)``; positive where the first rule does better.
    """
    better = np.array([o.better for o in OUTCOMES], float)[None, :, None]
    index = {mode: m for m, mode in enumerate(MODES)}
    return np.stack(
        [(values[:, index[a]] - values[:, index[b]]) * better for a, b in pairs], axis=1
    )


def mean_intervals(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over the last axis and its t interval (the interval of :func:`mean_interval`).

    Vectorised over every draw, pair and outcome at once; equal values give an interval of
    width zero.
    """
    from scipy.stats import t

    n = x.shape[-1]
    mean = x.mean(axis=-1)
    half = t.ppf(0.5 + LEVEL / 2, n - 1) * x.std(axis=-1, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def conclusions(
    values: np.ndarray,
    population: str = "prior box",
    pairs: Sequence[tuple[str, str]] = PAIRS,
) -> pd.DataFrame:
    """Each conclusion with the share of parameter sets in which it holds.

    Args:
        values: ``(draws, modes, outcomes, replications)`` as :func:`collect` returns.
        population: What the parameter sets are a sample of (``prior box``, ``posterior``).
        pairs: The rules compared, ``(first, second)``: "first does better than second".

    Returns:
        One row per pair of rules and outcome: ``better``, ``worse``, ``outcome``, ``label``,
        ``holds`` (share of draws where the mean paired advantage is above 0) with its Wilson
        interval ``low``, ``high``, ``clearly`` (share where its 95% interval is above 0),
        ``reverse_clearly`` (share where it is below 0), ``draws`` and ``population``.
    """
    mean, low, high = mean_intervals(paired_advantage(values, pairs))
    n = mean.shape[0]
    rows = []
    for p, (a, b) in enumerate(pairs):
        for k, outcome in enumerate(OUTCOMES):
            holds = int(np.sum(mean[:, p, k] > 0))
            interval = wilson_interval(holds, n)
            rows.append(
                {
                    "better": a,
                    "worse": b,
                    "outcome": outcome.name,
                    "label": outcome.label,
                    "holds": holds / n,
                    "low": interval[0],
                    "high": interval[1],
                    "clearly": float(np.mean(low[:, p, k] > 0)),
                    "reverse_clearly": float(np.mean(high[:, p, k] < 0)),
                    "draws": n,
                    "population": population,
                }
            )
    return pd.DataFrame(rows)


def partial_rank_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Partial rank correlation of ``y`` with each column of ``x`` (PRCC; Marino et al. 2008).

    Ranks everything, removes from ``y`` and from each column what the other columns explain
    linearly, and correlates the residuals: unlike a plain rank correlation, a parameter that
    happens to be correlated in the sample with one that matters gets no credit for it.

    Args:
        x: ``(draws, parameters)``; needs more draws than parameters + 1.
        y: ``(draws,)``.
    """
    from scipy.stats import rankdata

    rx = np.column_stack([rankdata(col) for col in x.T])
    ry = rankdata(y)
    out = np.empty(rx.shape[1])
    for j in range(rx.shape[1]):
        others = np.column_stack([np.ones(len(ry)), np.delete(rx, j, axis=1)])
        fit = np.linalg.lstsq(others, np.column_stack([rx[:, j], ry]), rcond=None)[0]
        res = np.column_stack([rx[:, j], ry]) - others @ fit
        out[j] = float(np.corrcoef(res[:, 0], res[:, 1])[0, 1])
    return out


def deciders(
    draws: pd.DataFrame,
    values: np.ndarray,
    top: int = 3,
    pairs: Sequence[tuple[str, str]] = PAIRS,
) -> pd.DataFrame:
    """Which parameters decide each conclusion: partial rank correlation with its advantage.

    For each conclusion, the partial rank correlation (:func:`partial_rank_correlations`) over
    draws between each varied parameter and the first rule's mean paired advantage; the
    ``top`` largest in absolute value. Positive: the higher the parameter, the larger the
    first rule's advantage. Empty with too few draws for the number of parameters, and for a
    conclusion whose advantage is the same in every draw.

    Returns:
        One row per conclusion and rank: ``better``, ``worse``, ``outcome``, ``rank``,
        ``parameter``, ``prcc``.
    """
    columns = ["better", "worse", "outcome", "rank", "parameter", "prcc"]
    varied = [str(c) for c in draws.columns if draws[c].nunique() > 1]
    if len(draws) <= len(varied) + 2:
        return pd.DataFrame(columns=columns)
    x = draws[varied].to_numpy(float)
    advantage = paired_advantage(values, pairs).mean(axis=-1)
    rows = []
    for p, (a, b) in enumerate(pairs):
        for k, outcome in enumerate(OUTCOMES):
            y = advantage[:, p, k]
            if np.ptp(y) == 0:
                continue
            prcc = partial_rank_correlations(x, y)
            for r, j in enumerate(np.argsort(-np.abs(prcc))[:top]):
                rows.append([a, b, outcome.name, r + 1, varied[j], float(prcc[j])])
    return pd.DataFrame(rows, columns=columns)


def per_draw_table(draws: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """The parameter sets with each rule's mean outcomes over seeds: one row per draw and rule."""
    rows = []
    for d, params in enumerate(draws.to_dict("records")):
        for m, mode in enumerate(MODES):
            means = values[d, m].mean(axis=-1)
            rows.append(
                {"draw": d, **params, "mode": mode}
                | {o.name: float(v) for o, v in zip(OUTCOMES, means, strict=True)}
            )
    return pd.DataFrame(rows)


def companion_paths(out: Path) -> tuple[Path, Path]:
    """Where :func:`write_conclusions` writes the draws' outcomes and the deciders, by ``out``."""
    return out.with_name(out.stem + ".draws.csv"), out.with_name(out.stem + ".deciders.csv")


def check_out(out: Path) -> None:
    """Fail before any run if ``--out`` cannot be written (its folder does not exist)."""
    if not out.parent.is_dir():
        raise RelsimError(f"{out}: its folder does not exist")


def write_conclusions(
    out: Path, table: pd.DataFrame, per_draw: pd.DataFrame, decided: pd.DataFrame
) -> None:
    """Write the conclusions (``out``, CSV), each draw's outcomes and the deciders beside it.

    Each file is written whole or not at all; equal results give the same bytes.
    """
    draws_file, deciders_file = companion_paths(out)
    for path, frame, what in (
        (out, table, "the conclusions"),
        (draws_file, per_draw, "the parameter sets' outcomes"),
        (deciders_file, decided, "the deciders of the conclusions"),
    ):
        atomic_write_bytes(path, frame.to_csv(index=False).encode(), what)
