"""The plain-text tables the command line prints for a sweep: summary, sensitivity, validation.

Each function takes what the analysis returns (data) and writes it for a terminal; numbers are
written by :mod:`relsim.presentation.format`, as in the report. (A single run's few lines are
:mod:`relsim.presentation.console`'s, which stays free of SciPy and the sweep store.)
"""

from __future__ import annotations

import math
import shutil
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from relsim.analysis.facts import Effect, Validation
from relsim.analysis.sensitivity import COLUMNS, RANK_BY, Sensitivity
from relsim.analysis.summary import CELL_STATS, COMPARISON_STATS, Summary
from relsim.presentation.format import (
    format_cell,
    format_difference,
    format_effect_size,
    format_estimate,
    format_number,
    row_decimals,
)
from relsim.presentation.labels import format_level, is_headline, ordered_outcomes, short_key

#: Terminal width assumed when none can be found (output to a file or a pipe).
DEFAULT_WIDTH = 100

if TYPE_CHECKING:
    import pandas as pd


def terminal_width() -> int:
    """The terminal's width in characters (:data:`DEFAULT_WIDTH` when output is not one)."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def fit_width(table: pd.DataFrame, width: int) -> str:
    """A table as text no wider than ``width``: its columns in blocks, each with the row labels.

    A wide table (many design cells) is cut into blocks of columns one under the other, rather
    than wrapped line by line by the terminal. A single column wider than ``width`` is written
    alone (it cannot be narrower).
    """
    table = table.rename_axis(index=None, columns=None)
    label = max((len(str(i)) for i in table.index), default=0)
    widths = [max(len(str(c)), *(len(str(v)) for v in table[c]), 1) + 2 for c in table.columns]
    blocks: list[list[Any]] = [[]]
    used = label
    for column, w in zip(table.columns, widths, strict=True):
        if blocks[-1] and used + w > width:
            blocks.append([])
            used = label
        blocks[-1].append(column)
        used += w
    return "\n\n".join(table[block].to_string() for block in blocks if block)


def _wrap(text: str, width: int) -> str:
    return textwrap.fill(text, width, subsequent_indent="  ", break_on_hyphens=False)


def _cells_text(summary: Summary, width: int) -> list[str]:
    cells = summary.cells
    shown = cells[cells["outcome"].map(is_headline)].copy()
    digits = {
        outcome: row_decimals(group, "estimate", "ci_low", "ci_high")
        for outcome, group in shown.groupby("outcome", sort=False)
    }
    shown["value"] = [format_cell(row, digits[row["outcome"]]) for _, row in shown.iterrows()]
    grid = [c for c in cells.columns if c not in CELL_STATS]
    if grid:
        shown["cell"] = shown[grid].map(format_level).agg(" · ".join, axis=1)
    else:
        shown["cell"] = "all runs"
    table = shown.pivot_table(
        index="outcome", columns="cell", values="value", aggfunc="first", sort=False
    )
    lines = []
    if grid:
        lines.append("cells: " + " · ".join(grid))
    lines.append(fit_width(table, width))
    return lines


def _contrast_heading(block: pd.DataFrame) -> str:
    first = block.iloc[0]
    factor, reference = str(first["factor"]), format_level(first["reference"])
    if isinstance(first["by"], str):
        what = (
            f"{factor} x {first['by']}: the effect of {first['by_compared']} over "
            f"{first['by_reference']} at each level of {short_key(factor)}, minus that at "
            f"{reference} (difference in differences)"
        )
    else:
        what = f"{factor}: each level minus {reference}"
    seeds = sorted({int(v) for v in block["seeds"]})
    span = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]}"
    if bool(first["paired"]):
        how = f"paired by seed, {span} seeds; difference [95% CI]"
    else:
        how = f"unpaired (independent runs, {span}); difference [95% CI]"
    g = "" if isinstance(first["by"], str) else "; g = Hedges' g"
    return f"{what} ({how}{g})"


def _contrast_column(row: pd.Series, strata: Sequence[str]) -> str:
    compared = format_level(row["compared"])
    if isinstance(row["by"], str):
        compared = f"at {compared}"
    where = [f"{short_key(k)} = {format_level(row[k])}" for k in strata if pd.notna(row[k])]
    return " · ".join([compared, *where])


def _contrasts_text(summary: Summary, width: int) -> list[str]:
    comp = summary.comparison
    comp = comp[comp["outcome"].map(is_headline)]
    strata = [c for c in comp.columns if c not in COMPARISON_STATS]
    lines: list[str] = []
    for _key, block in comp.groupby(["factor", comp["by"].fillna("")], sort=False):
        digits = {
            outcome: row_decimals(rows, "difference", "ci_low", "ci_high")
            for outcome, rows in block.groupby("outcome", sort=False)
        }
        text = []
        for _, row in block.iterrows():
            value = format_difference(row, digits[row["outcome"]])
            if not isinstance(row["by"], str):
                value += f" g {format_effect_size(float(row['hedges_g']))}"
            text.append(value)
        table = block.assign(
            column=[_contrast_column(row, strata) for _, row in block.iterrows()], value=text
        ).pivot_table(
            index="outcome", columns="column", values="value", aggfunc="first", sort=False
        )
        # An outcome a stratum cannot have (board mates where no board meets): a dash, as in
        # the cells' table, not NaN.
        table = table.fillna("–")
        lines += ["", _wrap(_contrast_heading(block), width), fit_width(table, width)]
    return lines


def format_summary(summary: Summary, width: int | None = None) -> str:
    """The headline outcomes by cell, and the contrasts, as plain text no wider than ``width``.

    ``width`` defaults to the terminal's (:func:`terminal_width`). Every number of a row (an
    outcome) is written with the same decimals (:func:`relsim.presentation.format.row_decimals`).
    """
    if summary.cells.empty:
        return "no finished runs to summarise"
    width = width or terminal_width()
    lines = []
    if summary.unfinished:
        lines.append(
            _wrap(
                f"UNFINISHED: {summary.runs} of the experiment's {summary.total} runs are "
                "saved; continue it with relsim sweep EXPERIMENT --out DIR --resume",
                width,
            )
        )
    if summary.duplicates:
        lines.append(
            _wrap(
                f"NOTE: {summary.duplicates} runs were saved more than once; each is counted once",
                width,
            )
        )
    lines.append(
        _wrap(
            f"{summary.runs} runs ({summary.failed} failed); mean [95% CI]; share of runs "
            "[95% CI]; months to full adoption: Kaplan–Meier median from introduction",
            width,
        )
    )
    lines.append(_wrap(f"unit of inference: {summary.unit}", width))
    lines += _cells_text(summary, width)
    if not summary.comparison.empty:
        lines += _contrasts_text(summary, width)
    return "\n".join(lines)


def replications_phrase(replications: int) -> str:
    """What each design point's value is, e.g. ``mean over 4 replications per design point``."""
    if replications == 1:
        return "1 replication per design point"
    return f"mean over {replications} replications per design point"


def format_sensitivity(result: Sensitivity, top: int = 8) -> str:
    """Ranked tables, one per outcome (and cell), as plain text."""
    key, conf = RANK_BY[result.method]
    units = (
        "; mu_star in the outcome's units over each input's full range"
        if result.method == "morris"
        else ""
    )
    lines = [
        f"{result.method} indices ({replications_phrase(result.replications)}); "
        f"ranked by {key}, with its 95% interval{units}"
    ]
    group_keys = [
        c
        for c in result.table.columns
        if c not in {"parameter", "method", "rank", *COLUMNS[result.method]}
    ]
    order = {o: k for k, o in enumerate(ordered_outcomes(result.table["outcome"]))}
    table = result.table.sort_values("outcome", key=lambda c: c.map(order), kind="stable")
    for values, group in table.groupby(group_keys, sort=False):
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
    lines += [f"note: {note}" for note in result.notes]
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
