"""Figures of one run: trust trajectories, adoption, the training heat map, the trust network.

Each ``*_figure`` function takes a :class:`~relsim.runs.simulation.RunResult` and returns a
matplotlib :class:`~matplotlib.figure.Figure` (built without pyplot, so no global state and no
display is needed); :func:`save_run_figures` writes them all, :func:`run_figures` gives them
with captions (as :class:`NamedFigure`, like the figures of a sweep), and :func:`save_run` writes
a whole run directory (tables, manifest and figures), as ``relsim run`` does. Colours come from the
Okabe-Ito palette and the heat map uses cividis, both safe for colour-blind readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib import colormaps, rc_context
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from relsim.atomic import atomic_directory
from relsim.runs.simulation import RunResult


@dataclass(frozen=True)
class NamedFigure:
    """A figure with its file stem and a caption saying what it shows."""

    stem: str
    figure: Figure
    caption: str


#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
SERIES_COLOURS = [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky")]
HEAT_CMAP = "cividis"
#: Heat maps drawn at most, so that a system of hundreds of trusts stays legible.
MAX_HEAT_MAPS = 12
#: Trusts drawn at most in the trust network (whole regions, in order), for the same reason.
MAX_NETWORK_TRUSTS = 30


def _subtitle(result: RunResult) -> str:
    return f"{result.scenario.name} · seed {result.seed} · {result.scenario.governance.mode}"


def _shade_compact(ax: Axes, months: pd.DataFrame) -> None:
    """Shade the months in which the compact was in force."""
    in_force = months["compact_state"].eq("in_force").to_numpy()
    if not in_force.any():
        return
    month = months["month"].to_numpy()
    edges = np.flatnonzero(np.diff(np.concatenate(([0], in_force.astype(int), [0]))))
    for k, (start, stop) in enumerate(zip(edges[::2], edges[1::2], strict=True)):
        ax.axvspan(
            month[start] - 0.5,
            month[stop - 1] + 0.5,
            color="0.9",
            zorder=0,
            label="compact in force" if k == 0 else None,
        )


def _mark_partner_exit(ax: Axes, result: RunResult) -> None:
    partner = result.scenario.partner
    last = int(result.months["month"].iloc[-1])
    if partner.enabled and 0 < partner.end_month < last:
        ax.axvline(
            partner.end_month, color="0.4", linestyle="--", linewidth=1, label="partner leaves"
        )


def trust_figure(result: RunResult) -> Figure:
    """Mean trust over time: trusts in the regulator, the regulator in trusts, among trusts."""
    months, trusts = result.months, result.trusts
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    _shade_compact(ax, months)
    for name, frame in trusts.groupby("trust", sort=False):
        ax.plot(
            frame["month"],
            frame["trust_in_regulator"],
            color=OKABE_ITO["sky"],
            linewidth=0.8,
            alpha=0.6,
            label="each trust's trust in the regulator"
            if name == trusts["trust"].iloc[0]
            else None,
        )
    series = (
        ("mean_trust_in_regulator", "trusts' trust in the regulator (mean)", "blue"),
        ("mean_regulator_trust", "regulator's trust in trusts (mean)", "orange"),
        ("mean_peer_trust", "trust among trusts (mean)", "green"),
    )
    for column, label, colour in series:
        ax.plot(months["month"], months[column], color=OKABE_ITO[colour], linewidth=2, label=label)
    _mark_partner_exit(ax, result)
    ax.set_xlim(0, months["month"].iloc[-1])
    ax.set_ylim(0, 1)
    ax.set_xlabel("Month")
    ax.set_ylabel("Trust (0 = none, 1 = complete)")
    ax.set_title(f"How trust evolved\n{_subtitle(result)}", fontsize=11)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def adoption_figure(result: RunResult) -> Figure:
    """Number of trusts that have adopted each practice, month by month."""
    months = result.months
    n = len(result.scenario.trusts)
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.add_subplot()
    for k, practice in enumerate(result.scenario.practices):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        label = practice.name.replace("_", " ")
        ax.step(
            months["month"],
            months[f"adopters_{practice.name}"],
            where="post",
            color=colour,
            linewidth=2,
            label=label,
        )
        ax.plot(
            [practice.introduced_month], [1], marker="o", color=colour, markersize=5, linestyle=""
        )
    _mark_partner_exit(ax, result)
    ax.set_xlim(0, months["month"].iloc[-1])
    ax.set_ylim(-0.2, n + 0.4)
    ax.set_yticks(range(n + 1) if n <= 12 else np.linspace(0, n, 6).round())
    ax.set_xlabel("Month")
    ax.set_ylabel(f"Trusts using the practice (of {n})")
    ax.set_title(
        f"Spread of improvement practices (dot: introduced by its origin trust)\n"
        f"{_subtitle(result)}",
        fontsize=11,
    )
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def heat_map_panel(
    ax: Axes, result: RunResult, trust: str, norm: Normalize, practices: Sequence[str]
) -> AxesImage:
    """One trust's training heat map (department × month) on ``ax``.

    A vertical line marks the month each of ``practices`` (those that target training by the
    heat map) became embedded in the trust.
    """
    frame = result.coverage[result.coverage["trust"] == trust]
    grid = frame.pivot(index="department", columns="month", values="coverage").to_numpy()
    last = int(result.coverage["month"].max())
    departments = result.scenario.training.departments
    image = ax.imshow(
        grid,
        aspect="auto",
        origin="lower",
        cmap=HEAT_CMAP,
        norm=norm,
        extent=(-0.5, last + 0.5, 0.5, departments + 0.5),
        interpolation="nearest",
    )
    rows = result.trusts[result.trusts["trust"] == trust]
    for practice in practices:
        embedded = rows.loc[rows[f"practice_{practice}"] == "embedded", "month"]
        if len(embedded):
            ax.axvline(embedded.iloc[0], color=OKABE_ITO["vermillion"], linewidth=1.2)
    return image


def heat_map_figure(result: RunResult) -> Figure:
    """The training heat map of each trust: coverage by department (rows) and month (columns)."""
    coverage = result.coverage
    names = list(result.scenario.trust_names)[:MAX_HEAT_MAPS]
    n = len(names)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(3.6 * cols + 1.2, 2.6 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    norm = Normalize(vmin=0.0, vmax=max(float(coverage["coverage"].max()), 1e-9))
    heat_practices = [p.name for p in result.scenario.practices if p.targets_training]
    image = None
    for ax, name in zip(axes.flat, names, strict=False):
        image = heat_map_panel(ax, result, name, norm, heat_practices)
        readiness = result.scenario.trusts[result.scenario.trust_names.index(name)].readiness
        ax.set_title(f"{name} (readiness {readiness:.2f})", fontsize=9)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("Month")
    for ax in axes[:, 0]:
        ax.set_ylabel("Department")
    if image is not None:
        fig.colorbar(image, ax=axes, label="Share of department staff trained", shrink=0.9)
    shown = (
        f" (first {n} of {len(result.scenario.trusts)})" if n < len(result.scenario.trusts) else ""
    )
    line = " · red line: heat map in use" if heat_practices else ""
    fig.suptitle(
        f"Training heat map: where trained staff sit{shown}{line}\n{_subtitle(result)}",
        fontsize=11,
    )
    return fig


def network_figure(result: RunResult, month: int | None = None) -> Figure:
    """The trust network at one month (the last by default): who trusts whom, and how much."""
    rel = result.relationships
    month = int(rel["month"].max()) if month is None else month
    frame = rel[rel["month"] == month]
    actors, shown = _network_actors(result, set(frame["from"]))
    if len(actors) < len(set(frame["from"])):
        frame = frame[frame["from"].isin(actors) & frame["to"].isin(actors)]
    graph = nx.DiGraph()
    graph.add_nodes_from(actors)
    for row in frame.itertuples(index=False):
        graph.add_edge(row[1], row[2], trust=row[3])
    ring = nx.circular_layout(actors[1:])
    pos = {name: np.asarray(xy) for name, xy in ring.items()}
    pos["regulator"] = np.zeros(2)
    fig = Figure(figsize=(7, 6.2), layout="constrained")
    ax = fig.add_subplot()
    weights = np.array([graph.edges[e]["trust"] for e in graph.edges])
    cmap = colormaps["viridis"]
    nx.draw_networkx_edges(
        graph,
        pos,
        ax=ax,
        width=0.4 + 4.0 * weights,
        edge_color=weights,
        edge_cmap=cmap,
        edge_vmin=0.0,
        edge_vmax=1.0,
        arrows=True,
        arrowsize=10,
        connectionstyle="arc3,rad=0.12",
        node_size=1400,
    )
    colours = [OKABE_ITO["vermillion"]] + [
        OKABE_ITO["orange"] if name.endswith(" convener") else OKABE_ITO["sky"]
        for name in actors[1:]
    ]
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colours, node_size=1400)
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=8)
    ax.set_axis_off()
    mappable = ScalarMappable(norm=Normalize(vmin=0.0, vmax=1.0), cmap=cmap)
    fig.colorbar(mappable, ax=ax, label="Trust of the arrow's tail in its head", shrink=0.8)
    ax.set_title(f"Trust network at month {month}{shown}\n{_subtitle(result)}", fontsize=11)
    return fig


def _network_actors(result: RunResult, present: set[str]) -> tuple[list[str], str]:
    """The actors to draw: all of a small system; the first whole regions of a large one.

    Returns the regulator, then each region's trusts followed by its convener (if the run had
    conveners), and a note saying which regions are shown when not all of them are.
    """
    scenario = result.scenario
    regions = scenario.region_names
    by_region: dict[str, list[str]] = {region: [] for region in regions}
    for trust in scenario.trusts:
        by_region[trust.region].append(trust.name)
    kept: list[str] = []
    count = 0
    for region in regions:
        if kept and count + len(by_region[region]) > MAX_NETWORK_TRUSTS:
            break
        kept.append(region)
        count += len(by_region[region])
    actors = ["regulator"]
    for region in kept:
        actors += by_region[region]
        convener = f"{region or 'network'} convener"
        if convener in present:
            actors.append(convener)
    shown = f" (regions {kept[0]}–{kept[-1]} of {len(regions)})" if len(kept) < len(regions) else ""
    return actors, shown


#: The figures of a run, by file stem.
RUN_FIGURES = {
    "trust_trajectories": trust_figure,
    "adoption_timeline": adoption_figure,
    "heat_map": heat_map_figure,
    "trust_network": network_figure,
}

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


def save_run_figures(
    result: RunResult, directory: Path, formats: tuple[str, ...] = ("png",)
) -> list[Path]:
    """Write every figure of a run into ``directory``; return the paths written."""
    written = []
    for stem, make in RUN_FIGURES.items():
        fig = make(result)
        for fmt in formats:
            path = Path(directory) / f"{stem}.{fmt}"
            save_figure(fig, path)
            written.append(path)
    return written


def save_run(result: RunResult, directory: Path | str, *, source: str | None = None) -> list[Path]:
    """Write what ``relsim run`` writes: the run's tables, ``manifest.json`` and its figures.

    The directory is written whole or not at all, as :meth:`RunResult.save
    <relsim.runs.simulation.RunResult.save>` writes the tables alone: an existing relsim output
    directory there is replaced, anything else is left alone.

    Args:
        result: The run.
        directory: Where to write it.
        source: Where its scenario came from (a file or a bundled name), for the manifest.

    Returns:
        Names of the files written, relative to ``directory``.
    """
    with atomic_directory(Path(directory)) as tmp:
        written = result.write_tables(tmp, source) + save_run_figures(result, tmp)
    return [Path(p.name) for p in written]


def save_figure(fig: Figure, path: Path) -> None:
    """Save a figure so that the same figure always gives the same bytes (PNG, SVG or PDF)."""
    # A fixed salt makes SVG element ids deterministic instead of random.
    with rc_context({"svg.hashsalt": "relsim"}):
        fig.savefig(path, dpi=120, metadata=_METADATA[path.suffix.lstrip(".")])


# Leave out creation dates and software versions so the same run gives the same bytes.
_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}
