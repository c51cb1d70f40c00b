"""The plain-text tables the command line prints for a sweep: summary, sensitivity, validation.

Each function takes what the analysis returns (data) and writes it for a terminal; numbers are
written by :mod:`relsim.presentation.format`, as in the report. (A single run's few lines are
:mod:`relsim.presentation.console`'s, which stays free of SciPy and the sweep store.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from relsim.analysis.facts import Effect, Validation
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

if TYPE_CHECKING:
    import pandas as pd


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


def _effects_text(effects: Sequence[Effect]) -> str:
    return "; ".join(_effect_text(e) for e in effects)


def _effect_text(effect: Effect) -> str:
    """``networked: 70% [40%, 89%]``; several estimates of one label joined by `` / ``."""
    estimates = " / ".join(format_estimate(e) for e in effect.estimates)
    return f"{effect.label}: {estimates}" if effect.label else estimates


def format_validation(validation: Validation, replications: int) -> str:
    """The validation table as plain text.

    First the stylised facts, each labelled a *mechanism check* (with why) or *emergent*; then
    the patterns of the case held out of calibration, each with the sources' words. Each row
    says what it measures, its effect and the rule by which it holds.
    """
    lines = [
        f"Stylised facts (MODEL.md §5), {replications} paired replications, 95% intervals",
        "",
    ]
    for r in validation.facts:
        kind = f"mechanism check ({r.check})" if r.check else "emergent"
        lines += [
            f"{'holds' if r.holds else 'FAILS':5s}  {r.number:2d}. {r.fact}",
            f"{'':9s}kind:     {kind}",
            f"{'':9s}measured: {r.measured}",
            f"{'':9s}effect:   {_effects_text(r.effect)}   (holds if {r.rule})",
        ]
    if validation.patterns:
        lines += ["", "Validation: patterns of the case held out of calibration", ""]
    for p in validation.patterns:
        lines += [
            f"{'holds' if p.holds else 'FAILS':5s}  {p.key:>3s} {p.pattern}",
            f"{'':9s}source:   {p.source}",
            f"{'':9s}measured: {p.measured}",
            f"{'':9s}effect:   {_effects_text(p.effect)}   (holds if {p.rule})",
        ]
    failed = validation.failed
    lines += [
        "",
        "all facts and patterns hold" if not failed else f"failed: {', '.join(failed)}",
    ]
    return "\n".join(lines)


def format_conclusions(
    table: pd.DataFrame, replications: int, deciders: pd.DataFrame | None = None
) -> str:
    """Each policy conclusion with the share of parameter sets in which it holds, as text.

    Args:
        table: :func:`relsim.analysis.conclusions.conclusions`'s table.
        replications: Paired seeds of each rule at each parameter set.
        deciders: :func:`relsim.analysis.conclusions.deciders`'s table, written under each
            conclusion (the parameters most partially rank-correlated with its advantage).
    """
    population = table["population"].iloc[0]
    draws = int(table["draws"].iloc[0])
    lines = [
        f"Policy conclusions over the {population} ({draws} parameter sets, {replications} "
        "paired seeds each; the partner leaves at month 60 of 120)",
        f"holds: share of the {population} where the first rule does better on average "
        "[95% interval]; clearly: its 95% interval excludes 0; reverse: the second rule "
        "clearly does better",
    ]
    texts = [f"{r['better']} > {r['worse']} on {r['label']}" for _, r in table.iterrows()]
    width = max(len(t) for t in texts)
    lines += ["", f"{'conclusion':{width}s} {'holds':>17s} {'clearly':>8s} {'reverse':>8s}"]
    for text, (_, row) in zip(texts, table.iterrows(), strict=True):
        holds = f"{row['holds']:.0%} [{row['low']:.0%}, {row['high']:.0%}]"
        lines.append(
            f"{text:{width}s} {holds:>17s} {row['clearly']:>8.0%} {row['reverse_clearly']:>8.0%}"
        )
        if deciders is not None:
            mine = deciders[
                (deciders["better"] == row["better"])
                & (deciders["worse"] == row["worse"])
                & (deciders["outcome"] == row["outcome"])
            ]
            if len(mine):
                named = ", ".join(f"{d['parameter']} {d['prcc']:+.2f}" for _, d in mine.iterrows())
                lines.append(f"    decided by (partial rank correlation): {named}")
    return "\n".join(lines)
