"""The plain-text tables the command line prints for a sweep: summary, sensitivity, validation.

Each function takes what the analysis returns (data) and writes it for a terminal; numbers are
written by :mod:`relsim.presentation.format`, as in the report. (A single run's few lines are
:mod:`relsim.presentation.console`'s, which stays free of SciPy and the sweep store.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from relsim.analysis.facts import Effect, FactResult
from relsim.analysis.sensitivity import COLUMNS, RANK_BY, Sensitivity
from relsim.analysis.summary import CELL_STATS, COMPARISON_STATS, Summary
from relsim.presentation.format import (
    format_cell,
    format_difference,
    format_effect_size,
    format_estimate,
    format_number,
)
from relsim.presentation.labels import is_headline


def format_summary(summary: Summary) -> str:
    """The headline outcomes by cell, and the mode comparison, as plain text tables."""
    if summary.cells.empty:
        return "no finished runs to summarise"
    cells = summary.cells
    shown = cells[cells["outcome"].map(is_headline)].copy()
    shown["value"] = shown.apply(format_cell, axis=1)
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
    if summary.duplicates:
        lines.append(
            f"NOTE: {summary.duplicates} runs were saved more than once; each is counted once"
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
        comp = comp[comp["outcome"].map(is_headline)]
        strata = [c for c in comp.columns if c not in COMPARISON_STATS]
        text = comp.assign(
            difference=comp.apply(format_difference, axis=1),
            g=comp["hedges_g"].map(format_effect_size),
        )[[*strata, "outcome", "compared", "difference", "g"]]
        first = comp.iloc[0]
        compared = first["compared"] if comp["compared"].nunique() == 1 else "each mode"
        lines += [
            "",
            f"{compared} minus {first['reference']} "
            f"({'paired by seed' if first['paired'] else 'unpaired'}); g = Hedges' g",
            text.to_string(index=False),
        ]
    return "\n".join(lines)


def replications_phrase(replications: int) -> str:
    """What each design point's value is, e.g. ``mean over 4 replications per design point``."""
    if replications == 1:
        return "1 replication per design point"
    return f"mean over {replications} replications per design point"


def format_sensitivity(result: Sensitivity, top: int = 8) -> str:
    """Ranked tables, one per outcome (and cell), as plain text."""
    key, conf = RANK_BY[result.method]
    lines = [
        f"{result.method} indices ({replications_phrase(result.replications)}); "
        f"ranked by {key}, with its 95% interval"
    ]
    group_keys = [
        c
        for c in result.table.columns
        if c not in {"parameter", "method", "rank", *COLUMNS[result.method]}
    ]
    for values, group in result.table.groupby(group_keys, sort=False):
        label = " · ".join(str(v) for v in (values if isinstance(values, tuple) else (values,)))
        lines.append(f"\n{label}")
        shown = group.nsmallest(top, "rank")
        for _, row in shown.iterrows():
            extra = "   ".join(
                f"{c} {format_number(float(row[c]))}"
                for c in COLUMNS[result.method]
                if c not in {key, conf}
            )
            half = float(row[conf])
            interval = "" if math.isnan(half) else f" ± {format_number(half)}"
            name = f"{int(row['rank']):2d}. {row['parameter']:42s}"
            lines.append(f"  {name} {key} {format_number(float(row[key]))}{interval}   {extra}")
    for outcome, why in result.skipped.items():
        lines.append(f"(left out {outcome}: {why})")
    return "\n".join(lines)


def _effect_text(effect: Effect) -> str:
    """``networked: 70% [40%, 89%]``; several estimates of one label joined by `` / ``."""
    estimates = " / ".join(format_estimate(e) for e in effect.estimates)
    return f"{effect.label}: {estimates}" if effect.label else estimates


def format_validation(results: Sequence[FactResult], replications: int) -> str:
    """The validation table as plain text: each fact, what it measures, its effect and rule."""
    lines = [
        f"Stylised facts (MODEL.md §5), {replications} paired replications, 95% intervals",
        "",
    ]
    for r in results:
        effect = "; ".join(_effect_text(e) for e in r.effect)
        lines += [
            f"{'holds' if r.holds else 'FAILS':5s}  {r.number:2d}. {r.fact}",
            f"{'':9s}measured: {r.measured}",
            f"{'':9s}effect:   {effect}   (holds if {r.rule})",
        ]
    failed = [r.number for r in results if not r.holds]
    lines += [
        "",
        "all facts hold" if not failed else f"failed: {', '.join(map(str, failed))}",
    ]
    return "\n".join(lines)
