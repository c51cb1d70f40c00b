"""Summaries of a sweep: each design cell's outcomes with 95% intervals, and mode comparisons.

For each cell of the grid factors (all runs pooled when there are none, and over the sampled
keys of a sampled design):

- every outcome's mean with a 95% t interval;
- for each practice, the share of runs in which it reached every trust (Wilson 95% interval)
  and the median number of months from its introduction to full adoption, estimated with the
  Kaplan–Meier method so that runs in which it never got there count as censored at the
  horizon rather than being dropped (scipy.stats.ecdf; interval after Brookmeyer & Crowley
  1982, from the pointwise log-log interval of the survival function);

and, when ``governance.mode`` is a factor, each mode against the first one listed, within each
combination of the other factors: the mean difference with a 95% interval, paired by seed when
the sweep used common random numbers, and Hedges' g as the effect size.

Every statistic comes from :mod:`relsim.analysis.stats`; this module chooses what to summarise.
The tables are data: :mod:`relsim.presentation.console` and :mod:`relsim.presentation.report`
render them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.analysis.stats import (
    censored_times,
    hedges_g,
    km_median,
    mean_interval,
    paired_difference,
    welch_difference,
    wilson_interval,
)
from relsim.atomic import atomic_file
from relsim.model.governance import GOVERNANCE
from relsim.runs.outcomes import outcome_range
from relsim.runs.store import RUN_ID_COLUMNS, STATUS_COLUMNS, read_manifest, read_runs
from relsim.scenario import Scenario, scenario_from_dict, with_overrides

MODE = "governance.mode"
#: Columns of ``summary.csv`` besides the grid factors that name its cell.
CELL_STATS = ("outcome", "statistic", "n", "estimate", "sd", "ci_low", "ci_high")
#: Columns of ``comparison.csv`` besides the grid factors that name its stratum.
COMPARISON_STATS = (
    "outcome",
    "reference",
    "compared",
    "n",
    "paired",
    "reference_mean",
    "compared_mean",
    "difference",
    "ci_low",
    "ci_high",
    "hedges_g",
)


#: Outcomes that are the month of an event (empty if it never happened): summarised, like full
#: adoption, as the share of runs in which it happened and a Kaplan-Meier median time.
TIMED_OUTCOMES = frozenset({"compact_month"})


@dataclass(frozen=True)
class Summary:
    """A sweep's summary tables."""

    cells: pd.DataFrame
    """One row per cell and statistic (``summary.csv``)."""
    comparison: pd.DataFrame
    """One row per stratum, outcome and mode compared (``comparison.csv``); empty when the
    governance mode was not varied."""
    factors: list[str]
    runs: int
    """Runs saved (finished or failed)."""
    failed: int
    total: int | None = None
    """Runs the experiment plans (None if the manifest does not say)."""

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
    for outcome in outcomes:
        if outcome in TIMED_OUTCOMES or outcome.startswith("full_adoption_month_"):
            continue  # summarised as a share and a Kaplan-Meier median below
        mean, sd, lo, hi = mean_interval(group[outcome].to_numpy())
        # A t interval can reach past what is possible (a share near 1, a count near 0).
        low, high = outcome_range(outcome)
        lo, hi = float(np.clip(lo, low, high)), float(np.clip(hi, low, high))
        rows.append(
            {
                "outcome": outcome,
                "statistic": "mean",
                "n": int(group[outcome].notna().sum()),
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
        _, times, reached = censored_times(
            group[f"full_adoption_month_{practice}"].to_numpy(float), horizon, introduced
        )
        rows += _event_rows(
            f"reached_all_{practice}", f"months_to_full_adoption_{practice}", times, reached
        )
    if "compact_month" in outcomes:
        # From the start of negotiation (compact_from; None: no rule of the cell negotiates one,
        # and no run counts). Runs whose compact never came into force are censored at their
        # horizon, not left out: a mean over the others would flatter slow boards.
        started = np.full(len(group), np.inf if compact_from is None else float(compact_from))
        _, times, reached = censored_times(group["compact_month"].to_numpy(float), horizon, started)
        rows += _event_rows("compact_in_force", "months_to_compact", times, reached)
    return rows


def _event_rows(
    share: str, median: str, times: np.ndarray, reached: np.ndarray
) -> list[dict[str, Any]]:
    """Rows for an event: the share of runs in which it happened, and its median time.

    The share has a Wilson interval; the median is Kaplan-Meier's, with the runs in which the
    event did not happen censored.
    """
    n = len(times)
    share_lo, share_hi = wilson_interval(int(reached.sum()), n)
    km, lo, hi = km_median(times, reached) if n else (math.nan, math.nan, math.nan)
    common = {"n": n, "sd": math.nan}
    return [
        {
            "outcome": share,
            "statistic": "share",
            **common,
            "estimate": reached.mean() if n else math.nan,
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


def _comparison(
    ok: pd.DataFrame,
    grid: Sequence[str],
    sampled: Sequence[str],
    outcomes: Sequence[str],
    order: Sequence[Any],
    crn: bool,
) -> pd.DataFrame:
    """Each governance mode against the first, within each combination of the other factors."""
    strata_keys = [k for k in grid if k != MODE]
    # With common random numbers, runs with the same replication (and sampled point) share
    # their seed: same seed, one thing changed, so they are compared pair by pair.
    pair_keys = ["replication", *sampled]
    reference = order[0]
    rows = []
    for stratum, group in _groups(ok, strata_keys):
        by_mode = dict(tuple(group.groupby(MODE, sort=False)))
        if reference not in by_mode:
            continue
        ref = by_mode[reference]
        for mode in order[1:]:
            if mode not in by_mode:
                continue
            other = by_mode[mode]
            merged = ref.merge(other, on=pair_keys, suffixes=("_ref", "_other")) if crn else None
            for outcome in outcomes:
                a, b = ref[outcome].to_numpy(float), other[outcome].to_numpy(float)
                if merged is not None and len(merged):
                    mean, lo, hi, n = paired_difference(
                        merged[f"{outcome}_ref"].to_numpy(float),
                        merged[f"{outcome}_other"].to_numpy(float),
                    )
                    paired = True
                else:
                    mean, lo, hi, n = welch_difference(a, b)
                    paired = False
                if np.isnan(a).all() or np.isnan(b).all():
                    continue  # e.g. the month of a compact that one side cannot have
                rows.append(
                    {
                        **stratum,
                        "outcome": outcome,
                        "reference": reference,
                        "compared": mode,
                        "n": n,
                        "paired": paired,
                        "reference_mean": _nanmean(a),
                        "compared_mean": _nanmean(b),
                        "difference": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "hedges_g": hedges_g(a, b),
                    }
                )
    return pd.DataFrame(rows)


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan


def summarize(directory: Path | str) -> Summary:
    """Summarise the runs saved in a sweep directory (finished or not)."""
    manifest = read_manifest(directory)
    runs = read_runs(directory)
    experiment = manifest["experiment"]
    factors = list(manifest["factors"])  # in file order (the experiment's tables are sorted)
    grid = [f for f in factors if f in experiment["factors"]]
    ok = runs[runs["status"] == "ok"] if len(runs) else runs
    outcomes = _outcome_columns(runs, factors)
    rows = []
    base = scenario_from_dict(manifest["scenario"], source=str(Path(directory) / "manifest.json"))
    for cell, group in _groups(ok, grid) if len(ok) else []:
        start = compact_start(with_overrides(base, cell, "experiment") if cell else base)
        rows += [{**cell, **row} for row in cell_rows(group, outcomes, manifest, start)]
    cells = pd.DataFrame(rows)
    comparison = pd.DataFrame()
    if MODE in grid and len(ok):
        plain = [
            o
            for o in outcomes
            if o not in TIMED_OUTCOMES and not o.startswith("full_adoption_month_")
        ]
        sampled = [f for f in factors if f not in grid]
        comparison = _comparison(
            ok,
            grid,
            sampled,
            plain,
            experiment["factors"][MODE],
            experiment["common_random_numbers"],
        )
    failed = int((runs["status"] != "ok").sum()) if len(runs) else 0
    total = manifest.get("runs_total")
    return Summary(cells, comparison, factors, len(runs), failed, total)


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
