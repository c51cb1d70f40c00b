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
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from relsim.atomic import atomic_file
from relsim.model.governance import GOVERNANCE
from relsim.runs.outcomes import outcome_range
from relsim.runs.store import RUN_ID_COLUMNS, STATUS_COLUMNS, read_manifest, read_runs
from relsim.scenario.schema import Scenario, scenario_from_dict

MODE = "governance.mode"
LEVEL = 0.95
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
_COMPACT_ROWS = frozenset({"compact_in_force", "months_to_compact"})


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
# Statistics (small pure functions)
# ---------------------------------------------------------------------------------------------


def mean_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float, float]:
    """Mean, standard deviation and t interval of the mean (NaNs left out)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (math.nan,) * 4
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def wilson_interval(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson 1927), sound near 0 and 1."""
    if n == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At 0 of n (n of n) the bound is exactly 0 (1); rounding would leave about 1e-18.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def km_median(
    times: np.ndarray, observed: np.ndarray, level: float = LEVEL
) -> tuple[float, float, float]:
    """Kaplan–Meier median time to an event, with its interval; NaN where not reached.

    Args:
        times: Time of the event, or of censoring where it was not observed.
        observed: Whether the event was observed at that time.
        level: Confidence level of the interval.

    Returns:
        (median, low, high): the first time at which the survival function is at or below one
        half, and the first times at which the lower and upper pointwise bands are.
    """
    times = np.asarray(times, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    if times.size == 0:
        return math.nan, math.nan, math.nan
    if not observed.any():
        return math.nan, math.nan, math.nan
    data = stats.CensoredData(uncensored=times[observed], right=times[~observed])
    sf = stats.ecdf(data).sf
    grid = sf.quantiles
    prob = sf.probabilities

    def first_below(values: np.ndarray) -> float:
        hits = np.flatnonzero(values <= 0.5)
        return float(grid[hits[0]]) if hits.size else math.nan

    with warnings.catch_warnings():
        # The band is undefined where the estimate is 0 or 1; it collapses to the estimate.
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(confidence_level=level, method="log-log")
    lows, highs = band.low.evaluate(grid), band.high.evaluate(grid)
    lows = np.where(np.isnan(lows), prob, lows)
    highs = np.where(np.isnan(highs), prob, highs)
    return first_below(prob), first_below(lows), first_below(highs)


def hedges_g(a: np.ndarray, b: np.ndarray) -> float:
    """Hedges' g: the standardised mean difference of b over a, corrected for small samples."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    na, nb = a.size, b.size
    if na < 2 or nb < 2:
        return math.nan
    pooled = math.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    if pooled == 0:
        return 0.0 if a.mean() == b.mean() else math.copysign(math.inf, b.mean() - a.mean())
    correction = 1 - 3 / (4 * (na + nb) - 9)
    return float((b.mean() - a.mean()) / pooled * correction)


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


def adoption_times(
    full_month: np.ndarray, horizon: np.ndarray, introduced: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Months from a practice's introduction to full adoption, for a Kaplan–Meier estimate.

    Only runs that lasted past the introduction gave the practice a chance to spread; the
    others are left out. Runs that never reached every trust are censored at their horizon.

    Args:
        full_month: Month every trust had adopted, NaN where never (one value per run).
        horizon: Each run's last month.
        introduced: Each run's month of introduction.

    Returns:
        (at_risk, times, reached): which runs count, and for those, the months and whether
        full adoption was observed.
    """
    at_risk = horizon > introduced
    month = full_month[at_risk]
    reached = ~np.isnan(month)
    times = np.where(reached, month, horizon[at_risk]) - introduced[at_risk]
    return at_risk, times, reached


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


def _cell_rows(
    group: pd.DataFrame,
    outcomes: Sequence[str],
    manifest: dict[str, Any],
    compact_from: int | None = 0,
) -> list[dict[str, Any]]:
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
        _, times, reached = adoption_times(
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
        _, times, reached = adoption_times(group["compact_month"].to_numpy(float), horizon, started)
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
                    diff = merged[f"{outcome}_other"].to_numpy(float) - merged[
                        f"{outcome}_ref"
                    ].to_numpy(float)
                    mean, _sd, lo, hi = mean_interval(diff)
                    n, paired = int((~np.isnan(diff)).sum()), True
                else:
                    mean, lo, hi, n = _welch(a, b)
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


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, int]:
    """Difference of means b − a with Welch's 95% interval (unpaired samples)."""
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size < 2 or b.size < 2:
        return math.nan, math.nan, math.nan, int(min(a.size, b.size))
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = float(b.mean() - a.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff, int(min(a.size, b.size))
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, dof)) * se
    return diff, diff - half, diff + half, int(min(a.size, b.size))


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
        start = compact_start(base.with_overrides(cell, "experiment") if cell else base)
        rows += [{**cell, **row} for row in _cell_rows(group, outcomes, manifest, start)]
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


# ---------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------

#: Outcomes shown in the printed table (all are in summary.csv).
HEADLINE = (
    "reached_all_",
    "months_to_full_adoption_",
    "trust_in_regulator_m36",
    "trust_in_regulator_final",
    "peer_trust_final",
    "disclosures",
    "surprises",
    "gaming_gap",
    "capability_final",
    "compact_in_force",
    "months_to_compact",
)


def no_runs_text(outcome: str) -> str:
    """What a share or median with no run to count says: why no run counts."""
    return "no compact" if outcome in _COMPACT_ROWS else "not introduced"


def _format(row: pd.Series) -> str:
    est, lo, hi = row["estimate"], row["ci_low"], row["ci_high"]
    if row["statistic"] in ("share", "km_median") and row["n"] == 0:
        return no_runs_text(row["outcome"])
    if pd.isna(est):
        return "not reached" if row["statistic"] == "km_median" else "–"
    if row["statistic"] == "share":
        return f"{est:.0%} [{lo:.0%}, {hi:.0%}]"
    digits = 0 if abs(est) >= 10 or row["statistic"] == "km_median" else 2
    interval = (
        "" if pd.isna(lo) else f" [{lo:.{digits}f}, {'∞' if pd.isna(hi) else f'{hi:.{digits}f}'}]"
    )
    return f"{est:.{digits}f}{interval}"


def format_summary(summary: Summary) -> str:
    """The headline outcomes by cell, and the mode comparison, as plain text tables."""
    if summary.cells.empty:
        return "no finished runs to summarise"
    cells = summary.cells
    keep = cells["outcome"].map(lambda o: any(o.startswith(h) for h in HEADLINE))
    shown = cells[keep].copy()
    shown["value"] = shown.apply(_format, axis=1)
    grid = [c for c in cells.columns if c not in CELL_STATS]
    if grid:
        shown["cell"] = shown[grid].astype(str).agg(" · ".join, axis=1)
    else:
        shown["cell"] = "all runs"
    table = shown.pivot_table(
        index="outcome", columns="cell", values="value", aggfunc="first", sort=False
    )
    lines = []
    if summary.unfinished:
        lines.append(
            f"UNFINISHED: {summary.runs} of the experiment's {summary.total} runs are saved; "
            "continue it with relsim sweep EXPERIMENT --out DIR --resume"
        )
    lines.append(
        f"{summary.runs} runs ({summary.failed} failed); mean [95% CI]; "
        "months to full adoption: Kaplan–Meier median from introduction"
    )
    if grid:
        lines.append("cells: " + " · ".join(grid))
    lines.append(table.to_string())
    if not summary.comparison.empty:
        comp = summary.comparison
        keep = comp["outcome"].map(lambda o: any(o.startswith(h) for h in HEADLINE))
        comp = comp[keep]
        strata = [c for c in comp.columns if c not in COMPARISON_STATS]
        text = comp.assign(
            difference=comp.apply(
                lambda r: f"{r['difference']:+.3g} [{r['ci_low']:+.3g}, {r['ci_high']:+.3g}]",
                axis=1,
            ),
            g=comp["hedges_g"].map(lambda g: f"{g:+.2f}"),
        )[[*strata, "outcome", "compared", "difference", "g"]]
        first = comp.iloc[0]
        lines += [
            "",
            f"{first['compared']} minus {first['reference']} "
            f"({'paired by seed' if first['paired'] else 'unpaired'}); g = Hedges' g",
            text.to_string(index=False),
        ]
    return "\n".join(lines)
