"""Figures of a sweep: trust trajectories, adoption, time to full adoption, typical heat maps.

Every figure compares the levels of one factor, the *group*: ``governance.mode`` when the
experiment varies it, else its first grid factor, else all runs as one group. Each remaining
grid factor splits the figure into rows of panels (its *strata*), so that a panel compares
groups with everything else held fixed, as the comparison table does; sampled keys are pooled.

The figures, by file stem (:data:`SWEEP_FIGURES`):

- ``trust_trajectories``: median trust over months with the middle 50% and 90% of runs;
- ``adoption_curves``: mean share of trusts that have adopted each practice, with its 95%
  interval;
- ``time_to_full_adoption``: Kaplan–Meier curves of the months from a practice's introduction
  until every trust has it, runs that never got there censored at the horizon;
- ``typical_heat_maps``: the training heat map of each cell's most typical run, re-simulated
  from its seed (the sweep store keeps no per-department coverage);
- ``outcome_distributions``: each headline outcome's distribution per design cell.

Built like :mod:`relsim.presentation.figures`: matplotlib :class:`~matplotlib.figure.Figure` objects
without pyplot, Okabe–Ito colours (cividis for ordered numeric levels and heat maps). The model
never imports this module. :func:`plot_directory` writes the figures of a sweep or of a single run.
"""

from __future__ import annotations

import itertools
import json
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from relsim.analysis.stats import (
    censored_times,
    column_mean_intervals,
    column_percentiles,
    km_curve,
)
from relsim.analysis.summary import MODE, introduction_months
from relsim.atomic import MANIFEST, atomic_directory, write_json
from relsim.errors import RelsimError
from relsim.presentation.figures import (
    RUN_FIGURES,
    SERIES_COLOURS,
    heat_map_panel,
    save_figure,
)
from relsim.runs.simulation import RunResult, simulate
from relsim.runs.store import read_manifest, read_months, read_runs
from relsim.scenario.schema import Scenario, scenario_from_dict

#: Rows of panels drawn at most; with more strata, the other grid factors are pooled.
MAX_STRATA = 4
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

#: Outcomes on which a run is judged typical of its cell (``<practice>`` for each practice).
TYPICAL_OUTCOMES = (
    "trust_in_regulator_final",
    "regulator_trust_final",
    "peer_trust_final",
    "capability_final",
    "disclosures",
    "surprises",
    "adopters_final_<practice>",
)

#: Plain-language names of the outcomes, with their units; ``{practice}`` and ``{n}`` (trusts)
#: are filled in.
OUTCOME_LABELS = {
    "trust_in_regulator_final": "Trusts' trust in the regulator at the end (0–1)",
    "trust_in_regulator_m36": "Trusts' trust in the regulator at month 36 (0–1)",
    "regulator_trust_final": "Regulator's trust in trusts at the end (0–1)",
    "peer_trust_final": "Trust among trusts at the end (0–1)",
    "disclosures": "Problems disclosed over the run (count)",
    "surprises": "Hidden problems that surfaced as surprises (count)",
    "sanctions": "Punitive responses of the regulator (count)",
    "gaming_gap": "Gaming gap: reported minus true quality (mean, 0–1 scale)",
    "capability_final": "Improvement capability at the end (0–1)",
    "true_quality_final": "True quality of care at the end (0–1)",
    "safety_final": "Psychological safety at the end (0–1)",
    "attendance_mean": "Board attendance (share of trusts, mean over meetings)",
    "relational_orientation_final": "Regulator's relational orientation at the end (0–1)",
    "compact_month": "Month the compact came into force",
    "compact_in_force": "Runs in which the compact came into force (share)",
    "months_to_compact": "Months until the compact came into force (Kaplan–Meier median)",
    "adopters_final_": "Trusts using the {practice} at the end (of {n})",
    "full_adoption_month_": "Month the {practice} reached every trust",
    "reached_all_": "Runs in which the {practice} reached every trust (share)",
    "months_to_full_adoption_": (
        "Months from introduction until the {practice} reached every trust (Kaplan–Meier median)"
    ),
}


def practice_label(name: str) -> str:
    """A practice's name as words: ``training_heat_map`` → ``training heat map``."""
    return name.replace("_", " ")


def outcome_label(outcome: str, practices: Sequence[str] = (), n_trusts: int | None = None) -> str:
    """The plain-language name of an outcome, with its unit."""
    if outcome in OUTCOME_LABELS:
        return OUTCOME_LABELS[outcome]
    for practice in practices:
        prefix = outcome.removesuffix(practice)
        if prefix != outcome and prefix in OUTCOME_LABELS:
            n = "all" if n_trusts is None else str(n_trusts)
            return OUTCOME_LABELS[prefix].format(practice=practice_label(practice), n=n)
    return outcome


def format_level(value: Any) -> str:
    """A factor level as written in an experiment file: ``true``, ``0.3``, ``networked``."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def short_key(key: str) -> str:
    """The last two parts of a dotted key (``governance.compact.enabled`` → ``compact.enabled``)."""
    return ".".join(key.split(".")[-2:])


def _stored(level: Any) -> Any:
    """A factor level as the runs table stores it (lists and tables as JSON text)."""
    return json.dumps(level) if isinstance(level, list | dict) else level


# ---------------------------------------------------------------------------------------------
# A sweep's data, grouped
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """The runs of one group within one stratum."""

    stratum: tuple[tuple[str, Any], ...]
    """The other grid factors' levels, as (dotted key, level)."""
    group: Any
    """The level of the group factor (``None`` when all runs form one group)."""
    label: str
    """The group's label, e.g. ``networked``."""
    colour: str
    run_ids: np.ndarray

    @property
    def stratum_label(self) -> str:
        """The stratum as text, e.g. ``compact.enabled = true`` (empty without strata)."""
        return ", ".join(f"{short_key(k)} = {format_level(v)}" for k, v in self.stratum)

    @property
    def full_label(self) -> str:
        """Group and stratum, e.g. ``networked · compact.enabled = true``."""
        return " · ".join(part for part in (self.label, self.stratum_label) if part)


@dataclass(frozen=True)
class SweepData:
    """A sweep's finished runs and monthly series, and how the figures group them."""

    directory: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    """The successful runs (``status == "ok"``)."""
    months: pd.DataFrame
    group: str | None
    """The factor whose levels are compared in every panel (None: all runs as one group)."""
    strata: tuple[str, ...]
    """The other grid factors, one row of panels per combination of their levels."""
    pooled: tuple[str, ...]
    """Factors pooled over: sampled keys, and grid factors beyond :data:`MAX_STRATA` rows."""
    failed: int
    scenario: Scenario = field(repr=False)
    """The sweep's base scenario, rebuilt from its manifest."""

    @property
    def name(self) -> str:
        """The experiment's name."""
        return str(self.manifest["experiment"].get("name") or self.directory.name)

    @property
    def practices(self) -> list[str]:
        """Names of the practices in the base scenario, in order."""
        return list(self.scenario.practice_names)

    @property
    def n_trusts(self) -> int:
        """Trusts in the base scenario (see :attr:`trusts_per_run` when a factor changes them)."""
        return len(self.scenario.trusts)

    @cached_property
    def trusts_per_run(self) -> pd.Series:
        """Each finished run's number of trusts, by run id.

        ``population.trusts`` may be a factor (as in the board-size experiment), so the count
        is taken from each design point's scenario, built once per distinct point.
        """
        ids = self.runs["run_id"].to_numpy()
        factors = list(self.manifest["factors"])
        if not any(k.startswith(("population.", "trusts")) for k in factors):
            return pd.Series(self.n_trusts, index=ids, dtype=np.int64)
        counts = np.empty(len(ids), dtype=np.int64)
        for rows in self.runs.groupby(factors, sort=False, dropna=False).indices.values():
            point = point_scenario(self, self.runs.iloc[rows[0]])
            counts[rows] = len(point.trusts)
        return pd.Series(counts, index=ids)

    @property
    def common_trusts(self) -> int | None:
        """The number of trusts when every run has the same, else None (for labels)."""
        counts = self.trusts_per_run
        return int(counts.iloc[0]) if counts.nunique() == 1 else None

    def trusts_text(self) -> str:
        """The number of trusts, for prose: ``5``, or ``3 to 40`` when it is varied."""
        low, high = int(self.trusts_per_run.min()), int(self.trusts_per_run.max())
        return str(low) if low == high else f"{low} to {high}"

    def levels(self, key: str) -> list[Any]:
        """The levels of a grid factor that finished runs have, in the experiment's order."""
        listed = self.manifest["experiment"]["factors"][key]
        present = set(self.runs[key].tolist())
        return [level for level in listed if _stored(level) in present]

    def stratum_values(self) -> list[tuple[tuple[str, Any], ...]]:
        """Every combination of the strata's levels that has runs, in the experiment's order."""
        combos = itertools.product(*(self.levels(k) for k in self.strata))
        out = []
        for combo in combos:
            stratum = tuple(zip(self.strata, combo, strict=True))
            if self._mask(stratum).any():
                out.append(stratum)
        return out

    def _mask(self, values: Sequence[tuple[str, Any]]) -> np.ndarray:
        mask = np.ones(len(self.runs), dtype=bool)
        for key, level in values:
            mask &= (self.runs[key] == _stored(level)).to_numpy()
        return mask

    def group_levels(self) -> list[Any]:
        """The levels compared (``[None]`` when all runs form one group)."""
        return [None] if self.group is None else self.levels(self.group)

    def colours(self) -> list[str]:
        """One colour per group: Okabe–Ito, or cividis steps for ordered numeric levels."""
        levels = self.group_levels()
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels) and (
            len(levels) > 2
        )
        if numeric:
            cmap = colormaps["cividis"]
            return [to_hex(cmap(x)) for x in np.linspace(0.0, 0.8, len(levels))]
        return [SERIES_COLOURS[k % len(SERIES_COLOURS)] for k in range(len(levels))]

    def group_label(self, level: Any) -> str:
        """A group's label: the mode's name, ``pressure.baseline = 0.3``, or ``all runs``."""
        if self.group is None:
            return "all runs"
        if self.group == MODE:
            return format_level(level)
        return f"{short_key(self.group)} = {format_level(level)}"

    def cells(self) -> list[list[Cell]]:
        """Cells by stratum (rows), each a list of groups in order (columns of a comparison)."""
        rows = []
        for stratum in self.stratum_values():
            row = []
            for level, colour in zip(self.group_levels(), self.colours(), strict=True):
                values = [*stratum, *([(self.group, level)] if self.group is not None else [])]
                ids = self.runs.loc[self._mask(values), "run_id"].to_numpy()
                if ids.size:
                    row.append(Cell(stratum, level, self.group_label(level), colour, ids))
            rows.append(row)
        return rows

    def compared(self) -> str:
        """What the figures compare, for titles: ``hierarchical vs networked``."""
        if self.group is None:
            return "all runs"
        labels = [format_level(v) for v in self.group_levels()]
        what = " vs ".join(labels) if len(labels) <= 4 else f"{len(labels)} levels"
        return what if self.group == MODE else f"{self.group}: {what}"

    def pooled_note(self) -> str:
        """``pooled over ...`` when factors are pooled, else empty."""
        return f"; pooled over {', '.join(self.pooled)}" if self.pooled else ""

    def horizon(self, run_ids: np.ndarray) -> np.ndarray:
        """Each run's last month (``scenario.months`` may be a factor)."""
        rows = self.runs.set_index("run_id").loc[run_ids]
        if "scenario.months" in rows:
            return rows["scenario.months"].to_numpy(float)
        return np.full(len(run_ids), float(self.scenario.months))

    def trust_count(self, run_ids: np.ndarray) -> np.ndarray:
        """Each run's number of trusts (``population.trusts`` may be a factor)."""
        return self.trusts_per_run.loc[run_ids].to_numpy()

    def series(self, column: str, run_ids: np.ndarray) -> pd.DataFrame:
        """A monthly column for some runs as a runs × months table."""
        frame = self.months[self.months["run_id"].isin(run_ids)]
        return frame.pivot(index="run_id", columns="month", values=column)


def load_sweep(directory: Path | str) -> SweepData:
    """Read a sweep directory and decide how its figures group the runs.

    Raises:
        RelsimError: if the directory holds no sweep, or no finished run.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    runs = read_runs(directory)
    failed = int((runs["status"] != "ok").sum()) if len(runs) else 0
    runs = runs[runs["status"] == "ok"].reset_index(drop=True) if len(runs) else runs
    if runs.empty:
        raise RelsimError(f"{directory}: the sweep has no finished runs to plot or report")
    months = read_months(directory)
    factors = list(manifest["factors"])
    grid = [f for f in factors if f in manifest["experiment"]["factors"]]
    levels = {key: len(manifest["experiment"]["factors"][key]) for key in grid}
    group = MODE if MODE in grid else (grid[0] if grid else None)
    if group == MODE and levels[MODE] <= MAX_STRATA:
        # A factor with too many levels for rows (board_size's eight sizes) would be pooled,
        # hiding what the experiment varies: compare its levels in each panel instead, one row
        # per governance mode.
        wide = [f for f in grid if f != MODE and levels[f] > MAX_STRATA]
        if wide:
            group = wide[0]
            grid = [MODE, *(f for f in grid if f != group and f != MODE)]
    others = [f for f in grid if f != group]
    strata: list[str] = []
    n = 1
    for key in others:  # as many of the other factors as fit in MAX_STRATA rows
        size = levels[key]
        if n * size > MAX_STRATA:
            break
        strata.append(key)
        n *= size
    pooled = tuple(f for f in factors if f != group and f not in strata)
    scenario = scenario_from_dict(manifest["scenario"], source=str(directory / MANIFEST))
    return SweepData(
        directory, manifest, runs, months, group, tuple(strata), pooled, failed, scenario
    )


# ---------------------------------------------------------------------------------------------
# Shared drawing
# ---------------------------------------------------------------------------------------------


def _grid(rows: int, cols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width * cols + 0.8, height * rows + 1.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex="col", sharey="col")
    return fig, axes


def _band_handles(cells: Sequence[Cell], *, bands: bool = True) -> list[Any]:
    handles: list[Any] = [Line2D([], [], color=c.colour, linewidth=2, label=c.label) for c in cells]
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
    parts = [p for p in (detail, cells[0].stratum_label if cells else "") if p]
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
    fig, axes = _grid(len(cells), len(TRUST_MEASURES), 3.6, 2.9)
    for r, row in enumerate(cells):
        for c, (column, title) in enumerate(TRUST_MEASURES):
            ax = axes[r, c]
            for cell in row:
                table = data.series(column, cell.run_ids)
                month = table.columns.to_numpy(float)
                q = column_percentiles(table)
                for low, high, alpha in BANDS:
                    ax.fill_between(
                        month, q[low], q[high], color=cell.colour, alpha=alpha, linewidth=0
                    )
                ax.plot(month, q[50.0], color=cell.colour, linewidth=2, label=cell.label)
            ax.set_title(_row_title(title, row), fontsize=10)
            ax.set_ylim(0, 1)
            ax.set_xlim(0, data.months["month"].max())
            if c == 0:
                ax.set_ylabel("Trust (0 = none, 1 = complete)")
            if r == len(cells) - 1:
                ax.set_xlabel("Month")
    _legend(fig, _band_handles(cells[0]))
    fig.suptitle(
        f"Trust over time: {data.compared()} ({data.name})\n"
        f"median of {_runs_per_cell(cells)} runs per line; shaded: middle 50% and 90% of runs"
        f"{data.pooled_note()}",
        fontsize=11,
    )
    return fig


def adoption_curves_figure(data: SweepData) -> Figure:
    """Mean share of trusts that have adopted each practice, month by month, per group."""
    cells = data.cells()
    practices = data.scenario.practices
    fig, axes = _grid(len(cells), len(practices), 3.6, 2.9)
    for r, row in enumerate(cells):
        for c, practice in enumerate(practices):
            ax = axes[r, c]
            for cell in row:
                table = data.series(f"adopters_{practice.name}", cell.run_ids)
                share = table.to_numpy(float) / data.trust_count(table.index.to_numpy())[:, None]
                month = table.columns.to_numpy(float)
                mean, low, high = column_mean_intervals(share)
                ax.fill_between(month, low, high, color=cell.colour, alpha=0.3, linewidth=0)
                ax.plot(month, mean, color=cell.colour, linewidth=2, label=cell.label)
            ax.axvline(practice.introduced_month, color="0.4", linestyle=":", linewidth=1)
            title = _row_title(practice_label(practice.name), row, _introduced(data, practice.name))
            ax.set_title(title, fontsize=10)
            ax.set_ylim(0, 1.02)
            ax.set_xlim(0, data.months["month"].max())
            if c == 0:
                ax.set_ylabel("Share of trusts that have adopted")
            if r == len(cells) - 1:
                ax.set_xlabel("Month")
    handles = [
        *_band_handles(cells[0], bands=False),
        Patch(facecolor="0.5", alpha=0.3, label="95% interval of the mean"),
        Line2D([], [], color="0.4", linestyle=":", linewidth=1, label="practice introduced"),
    ]
    _legend(fig, handles)
    fig.suptitle(
        f"Spread of improvement practices: {data.compared()} ({data.name})\n"
        f"mean over {_runs_per_cell(cells)} runs per line of the share of trusts using the "
        f"practice (implementing or embedded){data.pooled_note()}",
        fontsize=11,
    )
    return fig


def adoption_times(
    data: SweepData, run_ids: np.ndarray, practice: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """Months from a practice's introduction to full adoption, whether observed, and the end.

    As in the summary (:func:`relsim.analysis.stats.censored_times`): only runs that lasted past
    the practice's introduction count, and those that never reached every trust are censored at
    their horizon. The end is the longest such run's time (0 when none counts).
    """
    k = data.practices.index(practice)
    base = data.scenario.practices[k].introduced_month
    rows = data.runs.set_index("run_id").loc[run_ids]
    introduced = introduction_months(rows, k, base)
    horizon = data.horizon(run_ids)
    at_risk, times, reached = censored_times(
        rows[f"full_adoption_month_{practice}"].to_numpy(float), horizon, introduced
    )
    end = float((horizon - introduced)[at_risk].max()) if at_risk.any() else 0.0
    return times, reached, end


def time_to_adoption_figure(data: SweepData) -> Figure:
    """Kaplan–Meier curves of the months until each practice reached every trust, per group."""
    cells = data.cells()
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
            end = max(adoption_times(data, cell.run_ids, practice)[2] for cell in row)
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
                times, reached, cell_end = adoption_times(data, cell.run_ids, practice)
                if cell_end <= 0:
                    continue  # this cell's runs ended before the practice was introduced
                curve = km_curve(times, reached, cell_end)
                ax.fill_between(
                    curve.time,
                    curve.low,
                    curve.high,
                    step="post",
                    color=cell.colour,
                    alpha=0.25,
                    linewidth=0,
                )
                ax.step(
                    curve.time,
                    curve.survival,
                    where="post",
                    color=cell.colour,
                    linewidth=2,
                    label=f"{cell.label} ({curve.events} of {curve.n} reached all)",
                )
            ax.axhline(0.5, color="0.4", linestyle=":", linewidth=1)
            ax.set_ylim(-0.02, 1.05)
            ax.set_xlim(0, end)
            ax.legend(loc="lower left", fontsize=7, frameon=False)
    handles = [
        *_band_handles(cells[0], bands=False),
        Patch(facecolor="0.5", alpha=0.25, label="95% pointwise interval"),
        Line2D([], [], color="0.4", linestyle=":", linewidth=1, label="half the runs"),
    ]
    _legend(fig, handles)
    fig.suptitle(
        f"Time until every trust uses the practice: {data.compared()} ({data.name})\n"
        "Kaplan–Meier estimate; runs that never got there are censored at the horizon"
        f"{data.pooled_note()}",
        fontsize=11,
    )
    return fig


def outcome_distributions_figure(data: SweepData) -> Figure:
    """Each headline outcome's distribution across runs, one box per design cell."""
    rows = data.cells()
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
        tick_labels = [row[0].stratum_label.replace(" = ", "\n= ") for row in rows]
    else:
        ticks, tick_labels = [float(p) for p in positions], [cell.label for cell in cells]
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
            patch.set_facecolor(cells[k].colour)
            patch.set_alpha(0.6)
            median.set_label(f"_median {cells[k].full_label}")  # "_": not in legends
        ax.plot(
            [positions[k] for k in keep],
            [values[k].mean() for k in keep],
            linestyle="",
            marker="D",
            markersize=4,
            color="black",
            label="mean",
        )
        ax.set_xticks(ticks, tick_labels, fontsize=7, rotation=90 if len(ticks) > 6 else 0)
        title = outcome_label(outcome, data.practices, data.common_trusts)
        ax.set_title(textwrap.fill(title, 38), fontsize=9)
        ax.set_ylabel(_unit(outcome))
    for ax in axes.flat[len(outcomes) :]:
        ax.set_visible(False)
    handles = [
        *(Patch(facecolor=c.colour, alpha=0.6, label=c.label) for c in rows[0]),
        Line2D([], [], color="black", linewidth=1.5, label="median"),
        Line2D([], [], color="black", marker="D", markersize=4, linestyle="", label="mean"),
    ]
    _legend(fig, handles)
    fig.suptitle(
        f"Outcomes per design cell: {data.compared()} ({data.name})\n"
        f"{_runs_per_cell(rows)} runs per box; box: middle 50% of runs, whiskers: "
        f"middle 90%{data.pooled_note()}",
        fontsize=11,
    )
    return fig


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


# ---------------------------------------------------------------------------------------------
# Typical runs, re-simulated
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypicalRun:
    """A cell's most typical run, re-simulated from its seed."""

    cell: Cell
    run_id: int
    seed: int
    result: RunResult
    reproduced: bool
    """Whether the re-simulated monthly series equals the one the sweep stored."""


def point_values(data: SweepData, row: pd.Series) -> dict[str, Any]:
    """A run's design point as scenario overrides, with the levels the experiment wrote."""
    grid = data.manifest["experiment"]["factors"]
    values: dict[str, Any] = {}
    for key in data.manifest["factors"]:
        stored = row[key]
        if key in grid:
            values[key] = next(level for level in grid[key] if _stored(level) == stored)
        else:
            values[key] = stored.item() if isinstance(stored, np.generic) else stored
    return values


def point_scenario(data: SweepData, row: pd.Series) -> Scenario:
    """The scenario a run of the sweep ran: the base scenario with its design point."""
    return data.scenario.with_overrides(point_values(data, row), "experiment")


def typical_outcomes(data: SweepData) -> list[str]:
    """The outcomes on which typical runs are chosen."""
    out = []
    for name in TYPICAL_OUTCOMES:
        out += [name.replace("<practice>", p) for p in data.practices] if "<" in name else [name]
    return [o for o in out if o in data.runs]


def typical_run_id(data: SweepData, run_ids: np.ndarray) -> int:
    """The run closest to its cell's median outcomes.

    Distance: the sum over :func:`typical_outcomes` of the absolute difference from the cell's
    median, in standard deviations over all the sweep's runs (outcomes that do not vary, or that
    some run of the cell lacks, are left out); ties go to the lowest run id.
    """
    rows = data.runs.set_index("run_id").loc[np.sort(run_ids)]
    distance = np.zeros(len(rows))
    for outcome in typical_outcomes(data):
        values = rows[outcome].to_numpy(float)
        sd = float(np.nanstd(data.runs[outcome].to_numpy(float)))
        if np.isnan(values).any() or not sd > 0:
            continue
        distance += np.abs(values - np.median(values)) / sd
    return int(rows.index[int(np.argmin(distance))])


def resimulate(data: SweepData, run_id: int) -> tuple[RunResult, bool]:
    """Run a sweep's run again (same scenario, same seed) with every table recorded.

    Returns:
        The result, and whether its monthly series equals the one the sweep stored (runs are
        deterministic given scenario and seed, so it does unless the code has changed).
    """
    row = data.runs[data.runs["run_id"] == run_id].iloc[0]
    result = simulate(point_scenario(data, row), seed=int(row["seed"]))
    stored = data.months[data.months["run_id"] == run_id].drop(columns="run_id")
    try:
        pd.testing.assert_frame_equal(
            result.months.reset_index(drop=True), stored.reset_index(drop=True), check_exact=True
        )
    except AssertionError:
        return result, False
    return result, True


def typical_runs(data: SweepData) -> list[TypicalRun]:
    """Each cell's most typical run, re-simulated, in the order of :meth:`SweepData.cells`."""
    out = []
    for row in data.cells():
        for cell in row:
            run_id = typical_run_id(data, cell.run_ids)
            result, same = resimulate(data, run_id)
            out.append(TypicalRun(cell, run_id, result.seed, result, same))
    return out


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
                lines = [run.cell.label, run.cell.stratum_label, f"run {run.run_id}: department"]
                ax.set_ylabel("\n".join(line for line in lines if line), fontsize=8)
            if r == len(typical) - 1:
                ax.set_xlabel("Month")
    if image is not None:
        fig.colorbar(image, ax=axes, label="Share of department staff trained", shrink=0.8)
    shown = f" (first {columns} trusts)" if columns < most else ""
    line = "; red line: heat map in use" if heat else ""
    fig.suptitle(
        f"Training heat map of a typical run per cell{shown}: {data.compared()} ({data.name})\n"
        f"typical: the run closest to its cell's median outcomes, re-simulated from its seed"
        f"{line}",
        fontsize=11,
    )
    return fig


# ---------------------------------------------------------------------------------------------
# All figures of a directory
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedFigure:
    """A figure with its file stem and a caption saying what it shows."""

    stem: str
    figure: Figure
    caption: str


#: The figures of a sweep, by file stem, with their builders.
SWEEP_FIGURES: dict[str, Callable[[SweepData], Figure]] = {
    "trust_trajectories": trust_trajectories_figure,
    "adoption_curves": adoption_curves_figure,
    "time_to_full_adoption": time_to_adoption_figure,
    "typical_heat_maps": typical_heat_maps_figure,
    "outcome_distributions": outcome_distributions_figure,
}


def _typical_caption(typical: Sequence[TypicalRun], data: SweepData) -> str:
    chosen = "; ".join(f"{t.cell.full_label}: run {t.run_id} (seed {t.seed})" for t in typical)
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
            "by month: the mean over runs with its 95% confidence interval. The dotted line is "
            "the month the practice is introduced by its origin trust."
        ),
        "time_to_full_adoption": (
            "How long each practice takes to reach every trust, counted from its introduction: "
            "the Kaplan–Meier estimate of the share of runs in which it has not yet done so, "
            "with a 95% pointwise interval. Runs in which it never reached every trust count "
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


#: What each figure of a single run shows (the figures of ``relsim run``).
RUN_CAPTIONS = {
    "trust_trajectories": "Mean trust of trusts in the regulator, of the regulator in trusts "
    "and among trusts, with each trust's own line; the compact's months shaded.",
    "adoption_timeline": "Trusts using each practice, month by month.",
    "heat_map": "For each trust, training coverage by department (rows) and month (columns), "
    "with the month the heat map came into use.",
    "trust_network": "The directed trust network at the last month.",
}


def run_figures(result: RunResult) -> list[NamedFigure]:
    """The figures of one run (those ``relsim run`` writes), with captions."""
    return [
        NamedFigure(stem, make(result), RUN_CAPTIONS[stem]) for stem, make in RUN_FIGURES.items()
    ]


def directory_kind(directory: Path, expected: str = "relsim sweep or relsim run") -> str:
    """``"sweep"`` or ``"run"``: what wrote a directory.

    Args:
        directory: The directory.
        expected: What the caller wants, for the message: the commands that write it.

    Raises:
        RelsimError: if it is missing, or holds neither.
    """
    expected = f"expected a directory written by {expected}"
    if not directory.exists():
        raise RelsimError(f"{directory}: no such directory ({expected})")
    if not directory.is_dir():
        raise RelsimError(f"{directory}: not a directory ({expected})")
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    kind = manifest.get("relsim") if isinstance(manifest, dict) else None
    if kind not in ("sweep", "run"):
        raise RelsimError(f"{directory}: not a relsim sweep or run directory ({expected})")
    return str(kind)


def _check_target(out: Path) -> None:
    """Figures may replace only an empty directory or one this module wrote."""
    if not out.exists():
        return
    if out.is_dir() and not any(out.iterdir()):
        return
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not (isinstance(manifest, dict) and manifest.get("relsim") == "figures"):
        raise RelsimError(
            f"{out}: refusing to write figures here: it exists and is not a relsim figures "
            "directory (choose another --out)"
        )


def plot_directory(
    directory: Path | str,
    out: Path | str | None = None,
    formats: Sequence[str] = ("png", "svg"),
) -> tuple[Path, list[Path]]:
    """Write the figures of a sweep or run directory into ``out`` (default ``DIR/figures``).

    The figures directory is written whole or not at all, with a ``manifest.json`` saying
    what each figure shows (and which runs were re-simulated as typical).

    Returns:
        The figures directory and the paths written.

    Raises:
        RelsimError: if ``directory`` holds no sweep or run, or ``out`` cannot be written.
    """
    directory = Path(directory)
    kind = directory_kind(directory)
    target = Path(out) if out is not None else directory / "figures"
    _check_target(target)
    names = []
    with atomic_directory(target, kind="figures") as tmp:  # fails at once if unwritable
        if kind == "run":
            figures = run_figures(RunResult.load(directory))
        else:
            figures = sweep_figures(load_sweep(directory))
        for named in figures:
            for fmt in formats:
                save_figure(named.figure, tmp / f"{named.stem}.{fmt}")
                names.append(f"{named.stem}.{fmt}")
        write_json(
            tmp / MANIFEST,
            {
                "relsim": "figures",
                "source": str(directory),
                "source_kind": kind,
                "figures": {named.stem: named.caption for named in figures},
            },
        )
    return target, [target / name for name in names]


__all__ = [
    "SWEEP_FIGURES",
    "Cell",
    "NamedFigure",
    "SweepData",
    "TypicalRun",
    "adoption_curves_figure",
    "directory_kind",
    "load_sweep",
    "outcome_distributions_figure",
    "outcome_label",
    "plot_directory",
    "resimulate",
    "run_figures",
    "sweep_figures",
    "time_to_adoption_figure",
    "trust_trajectories_figure",
    "typical_heat_maps_figure",
    "typical_run_id",
    "typical_runs",
]
