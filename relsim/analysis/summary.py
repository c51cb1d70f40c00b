"""Summaries of a sweep: each design cell's outcomes with 95% intervals, and mode comparisons.

For each cell of the grid factors (all runs pooled when there are none, and over the sampled
keys of a sampled design):

- every outcome's mean with a 95% t interval;
- for each practice, the share of runs in which it reached every trust (Wilson 95% interval)
  and the median number of months from its introduction to full adoption, estimated with the
  Kaplan–Meier method so that runs in which it never got there count as censored at the
  horizon rather than being dropped (scipy.stats.ecdf; interval after Brookmeyer & Crowley
  1982, from the pointwise log-log interval of the survival function);

and the contrasts of :mod:`relsim.analysis.contrasts`: each level of every grid factor against
its first level within each combination of the other factors, paired by seed when the sweep
used common random numbers, with Hedges' g, and, when ``governance.mode`` is a factor, each
other factor's interaction with it (a difference in differences).

**The unit of inference is the seed.** Runs that share a seed are not independent: with common
random numbers, a cell that pools sampled points holds each replication's seed once per point.
Every interval is computed with the runs' seeds as clusters (:mod:`relsim.analysis.stats`), and
``summary.csv`` and ``comparison.csv`` say in ``seeds`` how many independent units each
estimate rests on. In a cell where every seed has one run (a grid without sampling), the
intervals are the usual ones.

Every statistic comes from :mod:`relsim.analysis.stats`; this module chooses what to summarise.
The tables are data: :mod:`relsim.presentation.console` and :mod:`relsim.presentation.report`
render them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.analysis.contrasts import CONTRAST_STATS, contrasts
from relsim.analysis.stats import (
    censored_times,
    km_median,
    mean_interval,
    share_interval,
    units,
)
from relsim.atomic import atomic_file
from relsim.model.governance import GOVERNANCE
from relsim.runs.many import ManyRuns
from relsim.runs.outcomes import outcome_range
from relsim.runs.store import (
    RUN_ID_COLUMNS,
    STATUS_COLUMNS,
    posterior_columns,
    read_manifest,
    read_runs,
    saved_runs,
)
from relsim.scenario import Scenario, scenario_from_dict, with_overrides

#: Columns of ``summary.csv`` besides the grid factors that name its cell.
CELL_STATS = ("outcome", "statistic", "n", "seeds", "estimate", "sd", "ci_low", "ci_high")
#: Columns of ``comparison.csv`` besides the grid factors that name its stratum.
COMPARISON_STATS = CONTRAST_STATS


#: Outcomes that are the month of an event (empty if it never happened): summarised, like full
#: adoption, as the share of runs in which it happened and a Kaplan-Meier median time.
TIMED_OUTCOMES = frozenset({"compact_month"})


@dataclass(frozen=True)
class Summary:
    """A sweep's summary tables."""

    cells: pd.DataFrame
    """One row per cell and statistic (``summary.csv``)."""
    comparison: pd.DataFrame
    """The contrasts (``comparison.csv``, :func:`relsim.analysis.contrasts.contrasts`): one row
    per factor, stratum, level compared (and mode, for an interaction) and outcome; empty
    without grid factors."""
    factors: list[str]
    runs: int
    """Runs saved (finished or failed)."""
    failed: int
    total: int | None = None
    """Runs the experiment plans (None if the manifest does not say)."""
    clustered: bool = False
    """Whether some cell holds several runs of one seed (sampled points pooled under common
    random numbers), so that its intervals rest on fewer seeds than runs."""
    duplicates: int = 0
    """Runs saved more than once (read once: :func:`relsim.runs.store.saved_runs`)."""
    posterior: bool = False
    """Whether each replication drew its parameters from a posterior (``[posterior]``)."""

    @property
    def unit(self) -> str:
        """The unit of inference, in words, for the tables and the report."""
        drawn = " (with its draw from the posterior)" if self.posterior else ""
        covers = (
            "; intervals cover the calibrated parameters' uncertainty as well as chance"
            if self.posterior
            else ""
        )
        if self.clustered:
            return (
                f"the seed{drawn}: runs that share a seed (sampled points pooled under common "
                f"random numbers) count as one unit, and intervals are clustered by seed{covers}"
            )
        return (
            f"the seed{drawn}: each run in a cell has its own seed, so runs are independent "
            f"units{covers}"
        )

    def _repr_html_(self) -> str:
        """The cells' estimates and intervals as a table, for notebooks (numbers as stored).

        ``relsim summarize`` and the report write them by relsim's precision rule; here they
        are the numbers of ``summary.csv``, to four significant digits.
        """
        head = (
            f"<p>{self.runs} runs ({self.failed} failed)"
            + (f" of {self.total} planned" if self.unfinished else "")
            + f". Unit of inference: {html.escape(self.unit)}. <code>.cells</code>: "
            "summary.csv; <code>.comparison</code>: comparison.csv (contrasts).</p>"
        )
        if self.cells.empty:
            return head
        shown = self.cells.drop(columns=["sd"])
        return head + shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="")

    @property
    def unfinished(self) -> bool:
        """Whether the sweep holds fewer runs than its experiment plans (stopped, not resumed)."""
        return self.total is not None and self.runs < self.total


# ---------------------------------------------------------------------------------------------
# The summary of a sweep
# ---------------------------------------------------------------------------------------------


def _outcome_columns(runs: pd.DataFrame, factors: Sequence[str]) -> list[str]:
    skip = set(RUN_ID_COLUMNS) | set(STATUS_COLUMNS) | set(factors)
    return [c for c in runs.columns if c not in skip]


def _practices(manifest: dict[str, Any]) -> list[tuple[str, int]]:
    return [(p["name"], int(p["introduced_month"])) for p in manifest["scenario"]["practices"]]


def introduction_months(runs: pd.DataFrame, k: int, base: int) -> np.ndarray:
    """The month practice ``k`` was introduced in each run: ``base``, unless a factor varied it."""
    column = f"practices[{k}].introduced_month"
    if column in runs:
        return runs[column].to_numpy(float)
    return np.full(len(runs), float(base))


def compact_start(scenario: Scenario) -> int | None:
    """The first month a rule that negotiates a compact is in force; None if none ever is.

    Negotiation starts when a rule with a board takes over (month 0, or a scripted change of
    rule), and only if the compact is enabled; the time to a compact counts from then.
    """
    if not scenario.governance.compact.enabled:
        return None
    schedule = [(0, scenario.governance.mode)]
    schedule += [(c.month, c.mode) for c in scenario.governance.changes]
    return next((m for m, mode in sorted(schedule) if GOVERNANCE[mode].has_board), None)


def cell_rows(
    group: pd.DataFrame,
    outcomes: Sequence[str],
    manifest: dict[str, Any],
    compact_from: int | None = 0,
) -> list[dict[str, Any]]:
    """The rows of ``summary.csv`` for one design cell (without the cell's factor columns).

    Args:
        group: The cell's finished runs.
        outcomes: The outcome columns of the runs table.
        manifest: The sweep's manifest (its base scenario gives the horizon and practices).
        compact_from: The month negotiation of a compact starts in this cell (None: never).
    """
    rows = []
    seeds = group["seed"].to_numpy()
    for outcome in outcomes:
        if outcome in TIMED_OUTCOMES or outcome.startswith("full_adoption_month_"):
            continue  # summarised as a share and a Kaplan-Meier median below
        values = group[outcome].to_numpy(float)
        mean, sd, lo, hi = mean_interval(values, clusters=seeds)
        # A t interval can reach past what is possible (a share near 1, a count near 0).
        low, high = outcome_range(outcome)
        lo, hi = float(np.clip(lo, low, high)), float(np.clip(hi, low, high))
        rows.append(
            {
                "outcome": outcome,
                "statistic": "mean",
                "n": int(group[outcome].notna().sum()),
                "seeds": units(seeds, values),
                "estimate": mean,
                "sd": sd,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    horizon = (
        group["scenario.months"].to_numpy(float)
        if "scenario.months" in group
        else np.full(len(group), float(manifest["scenario"]["scenario"]["months"]))
    )
    for k, (practice, base) in enumerate(_practices(manifest)):
        introduced = introduction_months(group, k, base)
        at_risk, times, reached = censored_times(
            group[f"full_adoption_month_{practice}"].to_numpy(float), horizon, introduced
        )
        rows += _event_rows(
            f"reached_all_{practice}",
            f"months_to_full_adoption_{practice}",
            times,
            reached,
            seeds[at_risk],
        )
    if "compact_month" in outcomes:
        # From the start of negotiation (compact_from; None: no rule of the cell negotiates one,
        # and no run counts). Runs whose compact never came into force are censored at their
        # horizon, not left out: a mean over the others would flatter slow boards.
        started = np.full(len(group), np.inf if compact_from is None else float(compact_from))
        at_risk, times, reached = censored_times(
            group["compact_month"].to_numpy(float), horizon, started
        )
        rows += _event_rows("compact_in_force", "months_to_compact", times, reached, seeds[at_risk])
    return rows


def _event_rows(
    share: str, median: str, times: np.ndarray, reached: np.ndarray, seeds: np.ndarray
) -> list[dict[str, Any]]:
    """Rows for an event: the share of runs in which it happened, and its median time.

    The share has a Wilson interval; the median is Kaplan-Meier's, with the runs in which the
    event did not happen censored. Both are clustered by the runs' ``seeds``.
    """
    n = len(times)
    estimate, share_lo, share_hi = share_interval(reached, clusters=seeds)
    km, lo, hi = km_median(times, reached, clusters=seeds) if n else (math.nan, math.nan, math.nan)
    common = {"n": n, "seeds": units(seeds, times), "sd": math.nan}
    return [
        {
            "outcome": share,
            "statistic": "share",
            **common,
            "estimate": estimate,
            "ci_low": share_lo,
            "ci_high": share_hi,
        },
        {
            "outcome": median,
            "statistic": "km_median",
            **common,
            "estimate": km,
            "ci_low": lo,
            "ci_high": hi,
        },
    ]


def _groups(frame: pd.DataFrame, keys: Sequence[str]) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    if not keys:
        return [({}, frame)]
    out = []
    for values, group in frame.groupby(list(keys), sort=False, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        out.append((dict(zip(keys, values, strict=True)), group))
    return out


def summarize(source: Path | str | ManyRuns) -> Summary:
    """Summarise the runs saved in a sweep directory (finished or not), or many runs in memory.

    Args:
        source: A sweep directory, or what :func:`relsim.runs.many.simulate_many` returned.
    """
    if isinstance(source, ManyRuns):
        return summarize_runs(source.runs, source.manifest(), source="simulate_many")
    manifest = read_manifest(source)
    runs = read_runs(source)
    summary = summarize_runs(runs, manifest, source=str(Path(source) / "manifest.json"))
    return replace(summary, duplicates=saved_runs(source).duplicates)


def summarize_runs(
    runs: pd.DataFrame, manifest: dict[str, Any], *, source: str = "manifest.json"
) -> Summary:
    """Summarise a runs table (a sweep's, or :func:`relsim.runs.many.simulate_many`'s).

    Args:
        runs: One row per run, with the columns of a sweep's runs table.
        manifest: The sweep's manifest (its experiment, factors and base scenario).
        source: Where the manifest came from, for messages.
    """
    experiment = manifest["experiment"]
    factors = list(manifest["factors"])  # in file order (the experiment's tables are sorted)
    grid = [f for f in factors if f in experiment["factors"]]
    ok = runs[runs["status"] == "ok"] if len(runs) else runs
    outcomes = _outcome_columns(runs, [*factors, *posterior_columns(manifest)])
    rows = []
    base = scenario_from_dict(manifest["scenario"], source=source)
    clustered = False
    for cell, group in _groups(ok, grid) if len(ok) else []:
        start = compact_start(with_overrides(base, cell, "experiment") if cell else base)
        rows += [{**cell, **row} for row in cell_rows(group, outcomes, manifest, start)]
        clustered |= bool(group["seed"].duplicated().any())
    cells = pd.DataFrame(rows)
    comparison = pd.DataFrame()
    if grid and len(ok):
        plain = [
            o
            for o in outcomes
            if o not in TIMED_OUTCOMES and not o.startswith("full_adoption_month_")
        ]
        comparison = contrasts(
            ok,
            {key: experiment["factors"][key] for key in grid},
            plain,
            sampled=[f for f in factors if f not in grid],
            paired=bool(experiment["common_random_numbers"]),
        )
    failed = int((runs["status"] != "ok").sum()) if len(runs) else 0
    total = manifest.get("runs_total")
    return Summary(
        cells,
        comparison,
        factors,
        len(runs),
        failed,
        total,
        clustered,
        posterior=bool(experiment.get("posterior")),
    )


def write_summary(summary: Summary, directory: Path | str) -> list[Path]:
    """Write ``summary.csv`` (and ``comparison.csv`` when modes were compared), atomically."""
    directory = Path(directory)
    written = []
    for name, frame in (("summary.csv", summary.cells), ("comparison.csv", summary.comparison)):
        path = directory / name
        if frame.empty:
            path.unlink(missing_ok=True)
            continue
        with atomic_file(path, "the summary") as tmp:
            frame.to_csv(tmp, index=False, float_format="%.6g")
        written.append(path)
    return written
