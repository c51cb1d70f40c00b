"""Validation: does the model reproduce what the case observed (MODEL.md §5, stylised facts)?

Each fact is checked at the bundled defaults, with one set of parameters for all of them, as a
paired comparison over replications: the arms that differ in one thing (governance, the
compact, a shock, the heat map) run with the same seeds. Each fact states what it measures,
the effect with a 95% interval, and the rule by which it holds. ``relsim validate`` prints the
table (:func:`relsim.presentation.console.format_validation`) and exits with status 1 when any
fact fails.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from relsim.analysis.stats import Estimate, mean_interval, spearman, wilson_interval
from relsim.model.governance.contact import respond
from relsim.model.interactions import Interactions
from relsim.model.kernel import update_relations
from relsim.model.mesa_model import RegulationModel
from relsim.model.state import NOT_ADOPTED
from relsim.runs.executors import Executor, make_executor
from relsim.runs.experiment import run_seed
from relsim.scenario import Scenario, load_scenario, with_overrides

#: Seed from which every validation run's seed derives (paired across arms).
VALIDATION_SEED = 20151001
DEFAULT_REPLICATIONS = 100
#: Fact 10: the partner leaves after two years of a ten-year horizon.
EXIT_MONTH, LONG_HORIZON = 24, 120
#: Fact 8: one board of 5 or 40 trusts, or the 40 in regional boards of 5 to 8, for four years.
SMALL_BOARD, LARGE_BOARD, BOARD_MONTHS = 5, 40, 48
SHOCK_WINDOW = (27, 39)  # the shock of pressure_shock (months 27-32) and six months after


def arms() -> dict[str, Scenario]:
    """The scenario variants the facts compare, each one change from the partnership."""
    base = load_scenario("nhs_vmi_partnership")
    shock = load_scenario("pressure_shock")
    return {
        "networked": base,
        "hierarchical": with_overrides(base, {"governance.mode": "hierarchical"}),
        "no_compact": with_overrides(base, {"governance.compact.enabled": False}),
        "shock": shock,
        "shock_no_compact": with_overrides(shock, {"governance.compact.enabled": False}),
        "no_heat_map": with_overrides(base, {"practices[0].targets_training": False}),
        "partner_leaves": with_overrides(
            base, {"scenario.months": LONG_HORIZON, "partner.end_month": EXIT_MONTH}
        ),
        **{
            name: with_overrides(
                load_scenario("board_size"),
                {"population.trusts": n, "governance.mode": mode, "scenario.months": BOARD_MONTHS},
            )
            for name, n, mode in (
                ("small_board", SMALL_BOARD, "networked"),
                ("large_board", LARGE_BOARD, "networked"),
                ("regional_boards", LARGE_BOARD, "regional_boards"),
            )
        },
    }


# ---------------------------------------------------------------------------------------------
# What each run contributes
# ---------------------------------------------------------------------------------------------


def _asymmetry(model: RegulationModel) -> tuple[float, float]:
    """Trust lost to one punitive and gained from one supportive response (fact 3).

    Both start from the same state (the model at month 24) and are averaged over trusts.
    """
    changes = []
    for p_supportive in (0.0, 1.0):
        twin = copy.deepcopy(model)
        before = twin.state.trust[1:, 0].copy()
        ix = Interactions(twin.state.n_trusts)
        ones = np.ones(twin.state.n_trusts, dtype=np.int64)
        respond(ones, p_supportive, twin.kernel.draws, ix, twin.config)
        update_relations(twin.state, twin.config, ix.finish())
        changes.append(float(np.abs(twin.state.trust[1:, 0] - before).mean()))
    return changes[0], changes[1]


def board_metrics(scenario: Scenario, seed: int) -> tuple[float, float, float]:
    """Per-pair contact, trust growth and adoption among the heat map origin's board mates.

    Per-pair contact: the mean weight of an exchange between two trusts that met, over the run
    (a board's hours divided among its pairs, M6). Trust growth: mean trust among trusts (within
    their region), last month minus month 0. Adoption: the share of the trusts on the origin's
    board that have adopted the heat map at the last month.
    """
    model = RegulationModel(scenario, rng=seed, record="months")
    layout = model.state.relations.layout
    trusts_only = layout.is_trust[:, :, None] & layout.is_trust[:, None, :]
    weight, exchanges = 0.0, 0
    while model.running:
        model.step()
        ix = model.interactions
        positive, negative, contact = ix.positive, ix.negative, ix.contact
        met = trusts_only & contact
        weight += float((positive + negative)[met].sum())
        exchanges += int(np.count_nonzero(met))
        cross = ix.cross_totals()
        if cross is not None:
            weight += float((cross[1] + cross[2]).sum())
            exchanges += cross[0].size
    state = model.state
    k = scenario.practice_names.index("training_heat_map")
    origin = scenario.trust_names.index(scenario.practices[k].origin)
    # One shared board seats everyone; regional boards seat the origin's region.
    if scenario.governance.mode == "networked":
        mates = np.ones(state.n_trusts, dtype=bool)
    else:
        mates = state.region == state.region[origin]
    mates[origin] = False
    adopted = float(np.mean(state.adoption[mates, k] > NOT_ADOPTED))
    peer = model.datacollector.model_vars["mean_peer_trust"]
    return weight / max(exchanges, 1), peer[-1] - peer[0], adopted


def run_metrics(arm: str, scenario: Scenario, seed: int) -> dict[str, Any]:
    """Run one arm with one seed and keep what the facts need."""
    if arm in ("small_board", "large_board", "regional_boards"):
        return {"board": board_metrics(scenario, seed)}
    model = RegulationModel(scenario, rng=seed)
    metrics: dict[str, Any] = {}
    for _ in range(24):
        model.step()
    if arm == "networked":
        metrics["loss"], metrics["gain"] = _asymmetry(model)
    model.run_model()
    m = model.datacollector.model_vars
    trust = np.asarray(m["mean_trust_in_regulator"], float)
    met = np.asarray(m["board_met"], bool)
    attendance = np.asarray(m["attendance_rate"], float)
    months = np.arange(len(trust))
    n = len(scenario.trusts)
    metrics.update(
        trust=trust,
        heat_map_everywhere=bool(np.max(m["adopters_training_heat_map"]) >= n),
        disclosures=float(np.sum(m["disclosures"])),
        surprises=float(np.sum(m["surprises"])),
        gaming=float(np.mean(np.asarray(m["gaming_gap"], float)[1:])),
        attendance=float(attendance[met & (months >= 24)].mean()) if met.any() else math.nan,
        rho=(float(m["relational_orientation"][0]), float(m["relational_orientation"][-1])),
    )
    history = model.history
    readiness = np.array([t.readiness for t in scenario.trusts])
    if arm == "networked":
        capability = history.field("capability")[36]
        metrics["readiness_rank"] = spearman(readiness, capability)
    if arm in ("networked", "no_heat_map"):
        metrics["coverage_cv"] = float(history.field("coverage_cv")[-1].mean())
    if arm == "partner_leaves":
        capability = history.field("capability")
        threshold = scenario.training.internal_threshold
        start, end = capability[EXIT_MONTH], capability[-1]
        above = start >= threshold
        metrics["kept_above"] = float((end - start)[above].mean()) if above.any() else math.nan
        metrics["kept_below"] = float((end - start)[~above].mean()) if (~above).any() else math.nan
    return metrics


def _run_chunk(scenarios: dict[str, Scenario], chunk: Sequence[tuple[str, int, int]]) -> list[Any]:
    return [(arm, r, run_metrics(arm, scenarios[arm], seed)) for arm, r, seed in chunk]


def _slices(specs: Sequence[tuple[str, int, int]], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(specs), size):
        yield list(specs[start : start + size])


def collect(replications: int, executor: Executor | None = None) -> dict[str, list[dict[str, Any]]]:
    """Run every arm ``replications`` times (paired seeds); metrics by arm, in replication order."""
    scenarios = arms()
    seeds = [run_seed(VALIDATION_SEED, r) for r in range(replications)]
    specs = [(arm, r, seeds[r]) for r in range(replications) for arm in scenarios]
    ex = executor or make_executor(None, None)
    out: dict[str, list[Any]] = {arm: [None] * replications for arm in scenarios}
    try:
        for results in ex.map_unordered(_run_chunk, scenarios, _slices(specs, 7)):
            for arm, r, metrics in results:
                out[arm][r] = metrics
    finally:
        if executor is None:
            ex.close()
    return out


# ---------------------------------------------------------------------------------------------
# The facts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """One labelled part of a fact's effect: an estimate, or several measured alike."""

    label: str
    """What is estimated, e.g. ``networked``; empty when the fact's measure says it all."""
    estimates: tuple[Estimate, ...]


@dataclass(frozen=True)
class FactResult:
    """One row of the validation table, as data (:mod:`relsim.presentation.console` writes it)."""

    number: int
    fact: str
    measured: str
    effect: tuple[Effect, ...]
    holds: bool
    rule: str


def _mean(values: Iterable[float], statistic: str = "difference") -> Estimate:
    """The mean over replications with its 95% t interval (a paired difference by default)."""
    mean, _sd, low, high = mean_interval(np.asarray(list(values), float))
    return Estimate(statistic, mean, low, high)


def _share(hits: np.ndarray) -> Estimate:
    """The share of replications in which something happened, with its Wilson interval."""
    low, high = wilson_interval(int(hits.sum()), hits.size)
    return Estimate("share", float(hits.mean()), low, high)


def _one(estimate: Estimate) -> tuple[Effect]:
    """An effect of one unlabelled estimate (the fact's measure names it)."""
    return (Effect("", (estimate,)),)


def _get(runs: dict[str, list[dict[str, Any]]], arm: str, key: str) -> np.ndarray:
    return np.array([run[key] for run in runs[arm]], dtype=float)


def fact1(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 1: the heat map spreads to every trust under networked governance only."""
    net = _share(_get(runs, "networked", "heat_map_everywhere"))
    hier = _share(_get(runs, "hierarchical", "heat_map_everywhere"))
    return FactResult(
        1,
        "The heat map reaches all trusts under networked governance, rarely under hierarchy",
        "share of runs in which every trust adopted the heat map",
        (Effect("networked", (net,)), Effect("hierarchical", (hier,))),
        net.low > 0.5 and hier.high < 0.2,
        "networked lower bound > 50% and hierarchical upper bound < 20%",
    )


def fact2(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 2: relational trust rises over years, not months."""
    trust = np.array([run["trust"] for run in runs["networked"]])
    early = trust[:, 6] - trust[:, 0]
    late = _mean(trust[:, 36] - trust[:, 12])
    share = early.mean() / (trust[:, 36] - trust[:, 0]).mean()
    return FactResult(
        2,
        "Relational trust is earned over two to three years, not months",
        "networked: rise of trust in the regulator from month 12 to 36; share of the 3-year "
        "rise made by month 6",
        (Effect("months 12-36", (late,)), Effect("by month 6", (Estimate("value", share),))),
        late.low > 0.05 and share < 1 / 3,
        "months 12-36 rise lower bound > 0.05 and less than a third made by month 6",
    )


def fact3(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 3: trust is asymmetric."""
    loss = _get(runs, "networked", "loss")
    gain = _get(runs, "networked", "gain")
    ratio = _mean(loss / gain, "mean")
    return FactResult(
        3,
        "One punitive response costs more trust than one supportive response gains",
        "from the same state at month 24: trust lost to one punitive / gained from one "
        "supportive response",
        _one(ratio),
        ratio.low > 1,
        "ratio lower bound > 1",
    )


def fact4(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 4: a compact buffers external pressure (difference in differences)."""
    window = slice(*SHOCK_WINDOW)

    def drop(calm: str, shocked: str) -> np.ndarray:
        a = np.array([run["trust"][window].mean() for run in runs[calm]])
        b = np.array([run["trust"][window].mean() for run in runs[shocked]])
        return a - b

    buffer = _mean(drop("no_compact", "shock_no_compact") - drop("networked", "shock"))
    return FactResult(
        4,
        "A compact buffers external pressure",
        "fall in trust in the regulator during and after a shock: without minus with a compact",
        _one(buffer),
        buffer.low > 0,
        "lower bound > 0",
    )


def fact5(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 5: safety raises disclosure and lowers surprises."""
    disclosed = _mean(
        _get(runs, "networked", "disclosures") - _get(runs, "hierarchical", "disclosures")
    )
    surprised = _mean(
        _get(runs, "hierarchical", "surprises") - _get(runs, "networked", "surprises")
    )
    return FactResult(
        5,
        "Psychological safety raises disclosure: more disclosed, fewer surprises",
        "over 60 months, networked minus hierarchical disclosures; hierarchical minus "
        "networked surprises",
        (Effect("disclosures", (disclosed,)), Effect("surprises", (surprised,))),
        disclosed.low > 0 and surprised.low > 0,
        "both lower bounds > 0",
    )


def fact6(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 6: targets with sanctions produce gaming."""
    gap = _mean(_get(runs, "hierarchical", "gaming") - _get(runs, "networked", "gaming"))
    return FactResult(
        6,
        "Targets with sanctions produce gaming",
        "mean gap of reported over true quality: hierarchical minus networked",
        _one(gap),
        gap.low > 0,
        "lower bound > 0",
    )


def fact7(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 7: trajectories are ordered by readiness."""
    rank = _mean(_get(runs, "networked", "readiness_rank"), "mean")
    return FactResult(
        7,
        "The same intervention gives trajectories ordered by readiness",
        "networked: rank correlation (Spearman) of trusts' readiness and capability at month 36",
        _one(rank),
        rank.low > 0.5,
        "lower bound > 0.5",
    )


def fact8(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 8: a large shared board thins contact, trust growth and adoption; regions restore."""
    small, large, regional = (
        np.array([run["board"] for run in runs[arm]])
        for arm in ("small_board", "large_board", "regional_boards")
    )
    thinned = [_mean(large[:, i] - small[:, i]) for i in range(3)]
    restored = tuple(_mean(regional[:, i] - large[:, i]) for i in range(3))

    def means(arm: np.ndarray) -> tuple[Estimate, ...]:
        return tuple(Estimate("value", float(arm[:, i].mean())) for i in range(3))

    return FactResult(
        8,
        "Board size matters: one large board thins contact, trust growth and adoption; "
        "regional boards restore them",
        f"per-pair contact / trust growth / adoption among the origin's board mates over "
        f"{BOARD_MONTHS} months (means): one board of {SMALL_BOARD}, one board of "
        f"{LARGE_BOARD}, the {LARGE_BOARD} in regional boards of 5-8",
        (
            Effect(f"one board of {SMALL_BOARD}", means(small)),
            Effect(f"one board of {LARGE_BOARD}", means(large)),
            Effect("regional boards", means(regional)),
            Effect("regional minus one board", restored),
        ),
        all(e.high < 0 for e in thinned) and all(e.low > 0 for e in restored),
        f"board of {LARGE_BOARD} minus board of {SMALL_BOARD}: all three upper bounds < 0; "
        "regional minus one board: all three lower bounds > 0",
    )


def fact9(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 9: the heat map evens coverage."""
    evened = _mean(
        _get(runs, "no_heat_map", "coverage_cv") - _get(runs, "networked", "coverage_cv")
    )
    return FactResult(
        9,
        "The heat map evens coverage",
        "spread of coverage across departments at month 60 (coefficient of variation): "
        "without minus with heat-map targeting",
        _one(evened),
        evened.low > 0,
        "lower bound > 0",
    )


def fact10(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 10: what lasts after the partner leaves."""
    above = _get(runs, "partner_leaves", "kept_above")
    below = _get(runs, "partner_leaves", "kept_below")
    above, below = above[~np.isnan(above)], below[~np.isnan(below)]
    kept_above, kept_below = _mean(above), _mean(below)
    return FactResult(
        10,
        "What lasts: after the partner leaves, capability persists only above a threshold",
        f"partner leaves at month {EXIT_MONTH}; change in capability to month {LONG_HORIZON} "
        "of trusts above vs below the internal-training threshold at exit",
        (
            Effect(f"above (n={above.size})", (kept_above,)),
            Effect(f"below (n={below.size})", (kept_below,)),
        ),
        kept_above.low > -0.02 and kept_below.high < -0.05 and below.size >= 5,
        "above: lower bound > -0.02; below: upper bound < -0.05 (at least 5 runs with a "
        "trust below)",
    )


def fact11(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 11: attendance at a working board is high."""
    attendance = _mean(_get(runs, "networked", "attendance"), "mean")
    return FactResult(
        11,
        "Attendance at a working board is high once the relational space forms",
        "networked: mean attendance from month 24",
        _one(attendance),
        attendance.low >= 0.9,
        "lower bound >= 0.9",
    )


def fact12(runs: dict[str, list[dict[str, Any]]]) -> FactResult:
    """Fact 12: the regulator learns."""
    rho = np.array([run["rho"] for run in runs["networked"]])
    learned = _mean(rho[:, 1] - rho[:, 0])
    return FactResult(
        12,
        "The regulator learns: ρ rises under networked governance",
        "networked: relational orientation at month 60 minus month 0",
        _one(learned),
        learned.low > 0,
        "lower bound > 0",
    )


FACTS: tuple[Callable[[dict[str, list[dict[str, Any]]]], FactResult], ...] = (
    fact1,
    fact2,
    fact3,
    fact4,
    fact5,
    fact6,
    fact7,
    fact8,
    fact9,
    fact10,
    fact11,
    fact12,
)


def validate(
    replications: int = DEFAULT_REPLICATIONS, executor: Executor | None = None
) -> list[FactResult]:
    """Check every stylised fact; one row each."""
    runs = collect(replications, executor)
    return [fact(runs) for fact in FACTS]
