"""Figures of a sweep: trust trajectories, adoption, time to full adoption, typical heat maps.

Every figure compares the groups of :func:`relsim.analysis.sweep_data.load_sweep`: the levels
of ``governance.mode`` when the experiment varies it (else of its first grid factor, else all
runs as one group), one row of panels per stratum of the other grid factors, sampled keys
pooled.

The figures, by file stem (:data:`SWEEP_FIGURES`):

- ``trust_trajectories``: median trust over months with the middle 50% and 90% of runs;
- ``adoption_curves``: mean share of trusts that have adopted each practice, with its 95%
  interval;
- ``time_to_full_adoption``: Kaplan–Meier curves of the months from a practice's introduction
  until every trust has it, runs that never got there censored at the horizon;
- ``typical_heat_maps``: the training heat map of each cell's most typical run, re-simulated
  from its seed (:mod:`relsim.analysis.typical`);
- ``outcome_distributions``: each headline outcome's distribution per design cell.

Built like :mod:`relsim.presentation.figures`: matplotlib :class:`~matplotlib.figure.Figure` objects
without pyplot, Okabe–Ito colours (cividis for ordered numeric levels and heat maps). The data
and statistics come from the analysis layer; this module only draws.
:func:`relsim.presentation.plot.plot_directory` writes the figures to files.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from relsim.analysis.stats import column_mean_intervals, column_percentiles, km_curve
from relsim.analysis.sweep_data import Cell, SweepData
from relsim.analysis.typical import TypicalRun, typical_outcomes, typical_runs
from relsim.presentation.figures import SERIES_COLOURS, NamedFigure, heat_map_panel
from relsim.presentation.labels import (
    cell_label,
    compared,
    group_label,
    outcome_label,
    pooled_note,
    practice_label,
    stratum_label,
)

#: Trusts whose heat maps are drawn for each typical run.
MAX_HEAT_TRUSTS = 6

#: The monthly trust series drawn, with their labels.
TRUST_MEASURES = (
    ("mean_trust_in_regulator", "Trusts' trust in the regulator"),
    ("mean_regulator_trust", "Regulator's trust in trusts"),
    ("mean_peer_trust", "Trust among trusts"),
)

#: Percentile bands drawn around a median (low, high, opacity): the middle 90% and 50% of runs.
BANDS = ((5.0, 95.0, 0.15), (25.0, 75.0, 0.35))

#: Outcomes whose distribution per cell is drawn (``<practice>`` for each practice).
DISTRIBUTION_OUTCOMES = (
    "trust_in_regulator_final",
    "peer_trust_final",
    "capability_final",
    "true_quality_final",
    "disclosures",
    "surprises",
    "gaming_gap",
    "adopters_final_<practice>",
)


def group_colours(data: SweepData) -> list[str]:
    """One colour per group (by :attr:`Cell.index`): Okabe–Ito, or cividis for ordered numbers."""
    levels = data.group_levels()
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels) and (
        len(levels) > 2
    )
    if numeric:
        cmap = colormaps["cividis"]
        return [to_hex(cmap(x)) for x in np.linspace(0.0, 0.8, len(levels))]
    return [SERIES_COLOURS[k % len(SERIES_COLOURS)] for k in range(len(levels))]


# ---------------------------------------------------------------------------------------------
# Shared drawing
# ---------------------------------------------------------------------------------------------


def _grid(rows: int, cols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width * cols + 0.8, height * rows + 1.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex="col", sharey="col")
    return fig, axes


def _band_handles(data: SweepData, cells: Sequence[Cell], *, bands: bool = True) -> list[Any]:
    colours = group_colours(data)
    handles: list[Any] = [
        Line2D([], [], color=colours[c.index], linewidth=2, label=group_label(data, c.group))
        for c in cells
    ]
    if bands:
        handles += [
            Patch(facecolor="0.5", alpha=BANDS[1][2] + BANDS[0][2], label="middle 50% of runs"),
            Patch(facecolor="0.5", alpha=BANDS[0][2], label="middle 90% of runs"),
        ]
    return handles


def _legend(fig: Figure, handles: Sequence[Any]) -> None:
    fig.legend(
        handles=list(handles),
        loc="outside lower center",
        ncols=min(len(handles), 4),
        frameon=False,
        fontsize=9,
    )


def _row_title(title: str, cells: Sequence[Cell], detail: str = "") -> str:
    """A panel's title: what it shows, then the detail and the stratum (on a line each if long)."""
    parts = [p for p in (detail, stratum_label(cells[0].stratum) if cells else "") if p]
    joined = " · ".join(parts)
    second = "\n".join(parts) if len(joined) > 44 else joined  # beyond ~44 they overlap
    return f"{title}\n{second}" if second else title


def _introduced(data: SweepData, practice: str) -> str:
    spec = next(p for p in data.scenario.practices if p.name == practice)
    return f"introduced month {spec.introduced_month}"


def _runs_per_cell(cells: Sequence[Sequence[Cell]]) -> str:
    sizes = sorted({c.run_ids.size for row in cells for c in row})
    return f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}–{sizes[-1]}"


# ---------------------------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------------------------


def trust_trajectories_figure(data: SweepData) -> Figure:
    """Median trust month by month per group, with the middle 50% and 90% of runs shaded."""
    cells = data.cells()
    colours = group_colours(data)
    fig, axes = _grid(len(cells), len(TRUST_MEASURES), 3.6, 2.9)
    quantiles = data.monthly([column for column, _ in TRUST_MEASURES], column_percentiles)
    for r, row in enumerate(cells):
        for c, (column, title) in enumerate(TRUST_MEASURES):
            ax = axes[r, c]
            for k, cell in enumerate(row):
                month, q = quantiles[column][r][k]
                for low, high, alpha in BANDS:
                    ax.fill_between(
                        month, q[low], q[high], color=colours[cell.index], alpha=alpha, linewidth=0
                    )
                ax.plot(
                    month,
                    q[50.0],
                    color=colours[cell.index],
                    linewidth=2,
                    label=group_label(data, cell.group),
                )
            ax.set_title(_row_title(title, row), fontsize=10)
            ax.set_ylim(0, 1)
            ax.set_xlim(0, data.last_month)
            if c == 0:
                ax.set_ylabel("Trust (0 = none, 1 = complete)")
            if r == len(cells) - 1:
                ax.set_xlabel("Month")
    _legend(fig, _band_handles(data, cells[0]))
    fig.suptitle(
        f"Trust over time: {compared(data)} ({data.name})\n"
        f"median of {_runs_per_cell(cells)} runs per line; shaded: middle 50% and 90% of runs"
        f"{pooled_note(data)}",
        fontsize=11,
    )
    return fig


def adoption_curves_figure(data: SweepData) -> Figure:
    """Mean share of trusts that have adopted each practice, month by month, per group."""
    cells = data.cells()
    colours = group_colours(data)
    practices = data.scenario.practices
    fig, axes = _grid(len(cells), len(practices), 3.6, 2.9)

    def shares(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean share of trusts adopting, with its interval: adopters over each run's trusts."""
        ids = table.index.to_numpy()
        share = table.to_numpy(float) / data.trust_count(ids)[:, None]
        # Runs of one seed (sampled points pooled) are one unit; a share stays in [0, 1].
        mean, low, high = column_mean_intervals(share, clusters=data.seeds(ids))
        return mean, np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)

    columns = [f"adopters_{practice.name}" for practice in practices]
    adoption = data.monthly(columns, shares)
    for r, row in enumerate(cells):
        for c, practice in enumerate(practices):
            ax = axes[r, c]
            for k, cell in enumerate(row):
                month, (mean, low, high) = adoption[columns[c]][r][k]
                ax.fill_between(month, low, high, color=colours[cell.index], alpha=0.3, linewidth=0)
                ax.plot(
                    month,
                    mean,
                    color=colours[cell.index],
                    linewidth=2,
                    label=group_label(data, cell.group),
                )
            ax.axvline(practice.introduced_month, color="0.4", linestyle=":", linewidth=1)
            title = _row_title(practice_label(practice.name), row, _introduced(data, practice.name))
            ax.set_title(title, fontsize=10)
            ax.set_ylim(0, 1.02)
            ax.set_xlim(0, data.last_month)
            if c == 0:
                ax.set_ylabel("Share of trusts that have adopted")
            if r == len(cells) - 1:
                ax.set_xlabel("Month")
    handles = [
        *_band_handles(data, cells[0], bands=False),
        Patch(facecolor="0.5", alpha=0.3, label="95% interval of the mean"),
        Line2D([], [], color="0.4", linestyle=":", linewidth=1, label="practice introduced"),
    ]
    _legend(fig, handles)
    fig.suptitle(
        f"Spread of improvement practices: {compared(data)} ({data.name})\n"
        f"mean over {_runs_per_cell(cells)} runs per line of the share of trusts using the "
        f"practice (implementing or embedded){pooled_note(data)}",
        fontsize=11,
    )
    return fig


def time_to_adoption_figure(data: SweepData) -> Figure:
    """Kaplan–Meier curves of the months until each practice reached every trust, per group."""
    cells = data.cells()
    colours = group_colours(data)
    practices = data.practices
    fig, axes = _grid(len(cells), len(practices), 3.6, 2.9)
    for r, row in enumerate(cells):
        for c, practice in enumerate(practices):
            ax = axes[r, c]
            title = _row_title(practice_label(practice), row, _introduced(data, practice))
            ax.set_title(title, fontsize=10)
            if c == 0:
                ax.set_ylabel("Share of runs not yet adopted by all")
            if r == len(cells) - 1:
                ax.set_xlabel("Months since the practice was introduced")
            end = max(data.time_to_full_adoption(cell.run_ids, practice).end for cell in row)
            if end <= 0:
                ax.text(
                    0.5,
                    0.5,
                    "introduced at or after the horizon:\nno run gave it time to spread",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=9,
                    color="0.3",
                )
                ax.set_xticks([])
                ax.set_yticks([])
                continue
            for cell in row:
                label = group_label(data, cell.group)
                times, reached, cell_end, seeds = data.time_to_full_adoption(cell.run_ids, practice)
                if cell_end <= 0:
                    continue  # this cell's runs ended before the practice was introduced
                curve = km_curve(times, reached, cell_end, clusters=seeds)
                ax.fill_between(
                    curve.time,
                    curve.low,
                    curve.high,
                    step="post",
                    color=colours[cell.index],
                    alpha=0.25,
                    linewidth=0,
                )
                ax.step(
                    curve.time,
                    curve.survival,
                    where="post",
                    color=colours[cell.index],
                    linewidth=2,
                    label=f"{label} ({curve.events} of {curve.n} reached all)",
                )
            ax.axhline(0.5, color="0.4", linestyle=":", linewidth=1)
            ax.set_ylim(-0.02, 1.05)
            ax.set_xlim(0, end)
            ax.legend(loc="lower left", fontsize=7, frameon=False)
    handles = [
        *_band_handles(data, cells[0], bands=False),
        Patch(facecolor="0.5", alpha=0.25, label="95% pointwise interval"),
        Line2D([], [], color="0.4", linestyle=":", linewidth=1, label="half the runs"),
    ]
    _legend(fig, handles)
    fig.suptitle(
        f"Time until every trust uses the practice: {compared(data)} ({data.name})\n"
        "Kaplan–Meier estimate; runs that never got there are censored at the horizon"
        f"{pooled_note(data)}",
        fontsize=11,
    )
    return fig


def outcome_distributions_figure(data: SweepData) -> Figure:
    """Each headline outcome's distribution across runs, one box per design cell."""
    rows = data.cells()
    colours = group_colours(data)
    outcomes = []
    for name in DISTRIBUTION_OUTCOMES:
        names = (
            [name.replace("<practice>", p) for p in data.practices]
            if "<practice>" in name
            else [name]
        )
        outcomes += [o for o in names if o in data.runs and data.runs[o].notna().any()]
    # Boxes of one stratum side by side, coloured by group; a gap between strata.
    groups = max(len(row) for row in rows)
    cells, positions = [], []
    for s, row in enumerate(rows):
        for g, cell in enumerate(row):
            cells.append(cell)
            positions.append(s * (groups + 1) + g + 1)
    if data.strata:
        ticks = [float(np.mean(positions[k : k + len(row)])) for k, row in _starts(rows)]
        tick_labels = [stratum_label(row[0].stratum).replace(" = ", "\n= ") for row in rows]
    else:
        ticks, tick_labels = (
            [float(p) for p in positions],
            [group_label(data, cell.group) for cell in cells],
        )
    cols = min(4, len(outcomes))
    n_rows = math.ceil(len(outcomes) / cols)
    width = max(3.2, 0.45 * len(positions) + 1.4)
    fig = Figure(figsize=(width * cols + 0.8, 3.0 * n_rows + 1.6), layout="constrained")
    axes = fig.subplots(n_rows, cols, squeeze=False)
    by_run = data.runs.set_index("run_id")
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        values = [by_run.loc[cell.run_ids, outcome].dropna().to_numpy(float) for cell in cells]
        keep = [k for k, v in enumerate(values) if v.size]
        boxes = ax.boxplot(
            [values[k] for k in keep],
            positions=[positions[k] for k in keep],
            whis=(5, 95),
            showfliers=False,
            widths=0.7,
            patch_artist=True,
            medianprops={"color": "black", "linewidth": 1.5},
        )
        for patch, median, k in zip(boxes["boxes"], boxes["medians"], keep, strict=True):
            patch.set_facecolor(colours[cells[k].index])
            patch.set_alpha(0.6)
            median.set_label(f"_median {cell_label(data, cells[k])}")  # "_": not in legends
        ax.plot(
            [positions[k] for k in keep],
            [values[k].mean() for k in keep],
            linestyle="",
            marker="D",
            markersize=4,
            color="black",
            label="mean",
        )
        legible_ticks(ax, ticks, tick_labels)
        title = outcome_label(outcome, data.practices, data.common_trusts)
        ax.set_title(textwrap.fill(title, 38), fontsize=9)
        ax.set_ylabel(_unit(outcome))
    for ax in axes.flat[len(outcomes) :]:
        ax.set_visible(False)
    handles = [
        *(
            Patch(facecolor=colours[c.index], alpha=0.6, label=group_label(data, c.group))
            for c in rows[0]
        ),
        Line2D([], [], color="black", linewidth=1.5, label="median"),
        Line2D([], [], color="black", marker="D", markersize=4, linestyle="", label="mean"),
    ]
    _legend(fig, handles)
    fig.suptitle(
        f"Outcomes per design cell: {compared(data)} ({data.name})\n"
        f"{_runs_per_cell(rows)} runs per box; box: middle 50% of runs, whiskers: "
        f"middle 90%{pooled_note(data)}",
        fontsize=11,
    )
    upright_if_crowded(fig)
    return fig


def legible_ticks(ax: Axes, ticks: Sequence[float], labels: Sequence[str]) -> None:
    """Tick labels wrapped to the space each tick has (at spaces and dots of dotted keys).

    Long factor names and levels (``regulator.relational_orientation = 0.35``) would run into
    their neighbours; :func:`upright_if_crowded` turns them upright if, once the figure is laid
    out, they still do.
    """
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    width = ax.get_position().width * fig.get_figwidth() * 72  # points across the axes
    ordered = sorted(ticks)
    gap = min(np.diff(ordered)) if len(ordered) > 1 else 1.0
    span = ordered[-1] - ordered[0] + gap if len(ordered) > 1 else 1.0
    chars = max(8, int(width * gap / span / (0.6 * 7)))  # 7-point text: ~4.2 points a character
    wrapped = [
        "\n".join(textwrap.wrap(label.replace(".", ".\u200b"), chars)).replace("\u200b", "")
        for label in labels
    ]
    ax.set_xticks(list(ticks), wrapped, fontsize=7)


def overlapping_axes(fig: Figure) -> list[Axes]:
    """The axes whose x tick labels overlap as drawn (the figure laid out once for all)."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    renderer = canvas.get_renderer()
    crowded = []
    for ax in fig.axes:
        boxes = sorted(
            (
                label.get_window_extent(renderer)
                for label in ax.get_xticklabels()
                if label.get_text() and label.get_visible()
            ),
            key=lambda b: b.x0,
        )
        if ax.get_visible() and any(a.x1 > b.x0 for a, b in itertools.pairwise(boxes)):
            crowded.append(ax)
    return crowded


def upright_if_crowded(fig: Figure) -> None:
    """Turn the tick labels of any axes whose labels overlap upright (one line each)."""
    for ax in overlapping_axes(fig):
        labels = [label.get_text().replace("\n", " ") for label in ax.get_xticklabels()]
        ax.set_xticks(ax.get_xticks(), labels, fontsize=7, rotation=90)


def _starts(rows: Sequence[Sequence[Cell]]) -> list[tuple[int, Sequence[Cell]]]:
    """Each row of cells with the index of its first cell in the flattened list."""
    out, start = [], 0
    for row in rows:
        out.append((start, row))
        start += len(row)
    return out


def _unit(outcome: str) -> str:
    label = outcome_label(outcome)
    if label.endswith("(count)"):
        return "Count over the run"
    if outcome.startswith("adopters_final_"):
        return "Trusts"
    if "month" in outcome:
        return "Month"
    return "Value (0–1)"


def typical_heat_maps_figure(
    data: SweepData, typical: Sequence[TypicalRun] | None = None
) -> Figure:
    """The training heat map (department × month) of each trust in each cell's typical run."""
    typical = list(typical) if typical is not None else typical_runs(data)
    # Each run's own trusts: population.trusts may be a factor, so runs may have fewer trusts
    # than the base scenario (generated populations share their first trusts).
    most = max(len(t.result.scenario.trusts) for t in typical)
    columns = min(most, MAX_HEAT_TRUSTS)
    fig = Figure(figsize=(2.6 * columns + 1.8, 2.0 * len(typical) + 1.6), layout="constrained")
    axes = fig.subplots(len(typical), columns, squeeze=False, sharex=True, sharey=True)
    vmax = max(float(t.result.coverage["coverage"].max()) for t in typical)
    norm = Normalize(vmin=0.0, vmax=max(vmax, 1e-9))
    heat = [p.name for p in data.scenario.practices if p.targets_training]
    image = None
    titled: set[int] = set()
    for r, run in enumerate(typical):
        trusts = run.result.scenario.trusts
        for c in range(columns):
            ax = axes[r, c]
            if c >= len(trusts):
                ax.set_axis_off()
                ax.text(
                    0.5,
                    0.5,
                    f"({len(trusts)} trusts in this run)",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=8,
                    color="0.4",
                )
                continue
            trust = trusts[c]
            image = heat_map_panel(ax, run.result, trust.name, norm, heat)
            if c not in titled:  # the first row in which the trust appears names it
                titled.add(c)
                ax.set_title(f"{trust.name} (readiness {trust.readiness:.2f})", fontsize=9)
            if c == 0:
                lines = [
                    group_label(data, run.cell.group),
                    stratum_label(run.cell.stratum),
                    f"run {run.run_id}: department",
                ]
                ax.set_ylabel("\n".join(line for line in lines if line), fontsize=8)
            if r == len(typical) - 1:
                ax.set_xlabel("Month")
    if image is not None:
        fig.colorbar(image, ax=axes, label="Share of department staff trained", shrink=0.8)
    shown = f" (first {columns} trusts)" if columns < most else ""
    line = "; red line: heat map in use" if heat else ""
    fig.suptitle(
        f"Training heat map of a typical run per cell{shown}: {compared(data)} ({data.name})\n"
        f"typical: the run closest to its cell's median outcomes, re-simulated from its seed"
        f"{line}",
        fontsize=11,
    )
    return fig


#: The figures of a sweep, by file stem, with their builders.
SWEEP_FIGURES: dict[str, Callable[[SweepData], Figure]] = {
    "trust_trajectories": trust_trajectories_figure,
    "adoption_curves": adoption_curves_figure,
    "time_to_full_adoption": time_to_adoption_figure,
    "typical_heat_maps": typical_heat_maps_figure,
    "outcome_distributions": outcome_distributions_figure,
}


def _typical_caption(typical: Sequence[TypicalRun], data: SweepData) -> str:
    chosen = "; ".join(
        f"{cell_label(data, t.cell)}: run {t.run_id} (seed {t.seed})" for t in typical
    )
    outcomes = ", ".join(typical_outcomes(data))
    check = (
        "each re-simulated run reproduces the monthly series the sweep stored"
        if all(t.reproduced for t in typical)
        else "WARNING: some re-simulated runs differ from the series the sweep stored (the code "
        "has changed since the sweep ran)"
    )
    return (
        "Training coverage by department (rows) and month (columns) for each trust of one "
        "typical run per cell. The sweep keeps no per-department coverage, so the run whose "
        "outcomes are closest to its cell's median (sum of absolute differences in standard "
        f"deviations over {outcomes}) is run again from its scenario and seed; {check}. "
        f"Runs shown: {chosen}."
    )


def sweep_figures(data: SweepData) -> list[NamedFigure]:
    """Every figure of a sweep with its caption (typical runs are re-simulated once)."""
    typical = typical_runs(data)
    n = _runs_per_cell(data.cells())
    captions = {
        "trust_trajectories": (
            "Trust month by month: the line is the median over the runs of each group, the "
            "darker band holds the middle 50% of runs and the lighter band the middle 90%. "
            f"{n} runs per line."
        ),
        "adoption_curves": (
            "Share of trusts that have adopted each practice (implementing or embedded), month "
            "by month: the mean over runs with its 95% confidence interval (runs that share a "
            "seed counted as one unit, and the band kept within 0 and 1). The dotted line is "
            "the month the practice is introduced by its origin trust."
        ),
        "time_to_full_adoption": (
            "How long each practice takes to reach every trust, counted from its introduction: "
            "the Kaplan–Meier estimate of the share of runs in which it has not yet done so, "
            "with a 95% pointwise interval (runs that share a seed counted as one unit). Runs "
            "in which it never reached every trust count "
            "until the horizon (censored), not as failures or as missing. The curve crossing "
            "the dotted line is the median time in the comparison table."
        ),
        "typical_heat_maps": _typical_caption(typical, data),
        "outcome_distributions": (
            "Distribution of headline outcomes across runs, one box per design cell: the box "
            "holds the middle 50% of runs, the whiskers the middle 90%, the line is the median "
            "and the diamond the mean."
        ),
    }
    figures = []
    for stem, make in SWEEP_FIGURES.items():
        fig = typical_heat_maps_figure(data, typical) if stem == "typical_heat_maps" else make(data)
        figures.append(NamedFigure(stem, fig, captions[stem]))
    return figures


__all__ = [
    "SWEEP_FIGURES",
    "adoption_curves_figure",
    "group_colours",
    "outcome_distributions_figure",
    "sweep_figures",
    "time_to_adoption_figure",
    "trust_trajectories_figure",
    "typical_heat_maps_figure",
]
