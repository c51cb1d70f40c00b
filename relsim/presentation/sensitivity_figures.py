"""The bar chart of a sweep's sensitivity indices (one panel per outcome)."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure

from relsim.analysis.sensitivity import COLUMNS, RANK_BY, Sensitivity
from relsim.presentation.figures import OKABE_ITO
from relsim.presentation.labels import ordered_outcomes

#: Panels drawn at most; every outcome is in sensitivity.csv.
MAX_PANELS = 6

_LABELS = {
    # SALib's elementary effects are per unit of the input scaled to [0, 1]: the change in the
    # outcome (in its units) over the input's whole sampled range.
    "mu_star": "μ* (outcome units per\nthe input's full range)",
    "ST": "total-order Sobol index",
    "delta": "Borgonovo δ",
}


def sensitivity_figure(result: Sensitivity, outcomes: list[str] | None = None) -> Figure:
    """Horizontal bars of the ranking index with its 95% interval, per outcome."""
    key, conf = RANK_BY[result.method]
    table = result.table
    grid = [
        c
        for c in table.columns
        if c not in {"outcome", "parameter", "method", "rank", *COLUMNS[result.method]}
    ]
    n_cells = len(table[grid].drop_duplicates()) if grid else 1
    if grid:  # one panel per outcome in the first cell keeps the figure legible
        first = table[grid].iloc[0]
        table = table[(table[grid] == first).all(axis=1)]
    every = ordered_outcomes(table["outcome"])
    chosen = [o for o in outcomes if o in every] if outcomes else every[:MAX_PANELS]
    n = len(chosen)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    lines = [f"What drives each outcome: {result.method} sensitivity indices, 95% intervals"]
    if grid:
        cell = ", ".join(f"{g} = {table[g].iloc[0]}" for g in grid)
        lines.append(f"design cell {cell}" + (f" (1 of {n_cells})" if n_cells > 1 else ""))
    lines += [textwrap.fill(note, 24 * cols) for note in result.notes]
    if len(chosen) < len(every) or n_cells > 1:
        shown = (
            f"{len(chosen)} of {len(every)} outcomes shown; " if len(chosen) < len(every) else ""
        )
        lines.append(f"{shown}every outcome and design cell is in sensitivity.csv")
    width = int(24 * cols)  # characters of the title that fit across the figure
    title = "\n".join(textwrap.fill(line, width) for line in lines)
    # Height: the bars, each panel's title and axis label, and the figure's title.
    panel = 0.35 * len(set(table["parameter"])) + 2.0
    fig = Figure(
        figsize=(5.2 * cols, panel * rows + 0.25 * (title.count("\n") + 1)),
        layout="constrained",
    )
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, outcome in zip(axes, chosen, strict=False):
        part = table[table["outcome"] == outcome].sort_values(key)
        y = np.arange(len(part))
        ax.barh(y, part[key], xerr=part[conf], color=OKABE_ITO["blue"], ecolor="0.3", capsize=2)
        if result.method == "sobol":
            ax.scatter(part["S1"], y, color=OKABE_ITO["orange"], zorder=3, label="first order (S1)")
            ax.legend(loc="lower right", fontsize="small")
        ax.set_yticks(y, part["parameter"], fontsize="small")
        ax.set_xlabel(_LABELS[key])
        ax.set_title(textwrap.fill(outcome, 28), fontsize="medium")
        # A bias-corrected delta can fall below 0 (the note says why): show it, do not clip it.
        ax.set_xlim(left=min(0.0, float((part[key] - part[conf]).min())))
        ax.axvline(0.0, color="0.3", linewidth=0.8)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig
