"""The bar chart of a sweep's sensitivity indices (one panel per outcome)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from relsim.figures import OKABE_ITO
from relsim.sensitivity import COLUMNS, RANK_BY, Sensitivity

#: Panels drawn at most; every outcome is in sensitivity.csv.
MAX_PANELS = 6

_LABELS = {
    "mu_star": "μ* (mean |elementary effect|, outcome units)",
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
    if grid:  # one panel per outcome in the first cell keeps the figure legible
        first = table[grid].iloc[0]
        table = table[(table[grid] == first).all(axis=1)]
    chosen = outcomes or list(dict.fromkeys(table["outcome"]))[:MAX_PANELS]
    n = len(chosen)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig = Figure(
        figsize=(5.2 * cols, 0.35 * len(set(table["parameter"])) * rows + 1.6 * rows),
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
        ax.set_title(outcome, fontsize="medium")
        ax.set_xlim(left=0)
    for ax in axes[n:]:
        ax.set_visible(False)
    cell = "" if not grid else " · " + " · ".join(f"{g} = {table[g].iloc[0]}" for g in grid)
    fig.suptitle(
        f"What drives each outcome: {result.method} sensitivity indices with 95% intervals{cell}"
    )
    return fig
