"""Figures of a calibration: the posterior's marginals and pairs, each target against its window.

Drawn from what :func:`relsim.runs.calibration.calibrate` wrote (the posterior's particles and
weights, and each particle's target statistics), into ``figures/`` of the calibration's
directory, whole or not at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from relsim.atomic import MANIFEST, atomic_directory, write_json
from relsim.presentation.figures import OKABE_ITO, NamedFigure, save_figure
from relsim.runs.calibration import read_posterior
from relsim.runs.calibration_file import CalibrationRecord

#: Bins of each histogram.
BINS = 20


def _grid(n: int) -> tuple[int, int]:
    """Rows and columns of small multiples for ``n`` panels (at most four columns)."""
    cols = min(4, n)
    return -(-n // cols), cols


def marginals_figure(posterior: pd.DataFrame, calibration: CalibrationRecord) -> Figure:
    """Each parameter's weighted posterior histogram over its prior's range."""
    priors = calibration.priors
    rows, cols = _grid(len(priors))
    fig = Figure(figsize=(max(5.0, 3.2 * cols), 2.6 * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, prior in zip(axes, priors, strict=False):
        ax.hist(
            posterior[prior.key],
            bins=np.linspace(prior.low, prior.high, BINS + 1),
            weights=posterior["weight"],
            density=True,
            color=OKABE_ITO["blue"],
        )
        ax.axhline(1 / (prior.high - prior.low), color=OKABE_ITO["black"], ls="--", lw=1)
        ax.set_xlim(prior.low, prior.high)
        ax.set_title(prior.key, fontsize=8)
        ax.set_yticks([])
    for ax in axes[len(priors) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{calibration.name}\nposterior marginals (dashed: the uniform prior)", fontsize=10
    )
    return fig


def pairs_figure(posterior: pd.DataFrame, calibration: CalibrationRecord) -> Figure:
    """Every pair of parameters: the posterior's particles, shaded by weight."""
    priors = calibration.priors
    n = len(priors)
    fig = Figure(figsize=(max(5.0, 1.9 * n + 1), max(5.0, 1.9 * n + 1)), layout="constrained")
    axes = fig.subplots(n, n, squeeze=False)
    alpha = (posterior["weight"] / posterior["weight"].max()).clip(0.05, 1).to_numpy()
    for i, row in enumerate(priors):
        for j, col in enumerate(priors):
            ax = axes[i, j]
            if i == j:
                ax.hist(
                    posterior[col.key],
                    bins=np.linspace(col.low, col.high, BINS + 1),
                    weights=posterior["weight"],
                    color=OKABE_ITO["blue"],
                )
                ax.set_yticks([])
            else:
                ax.scatter(
                    posterior[col.key],
                    posterior[row.key],
                    s=6,
                    alpha=alpha,
                    color=OKABE_ITO["blue"],
                    linewidths=0,
                )
                ax.set_ylim(row.low, row.high)
            ax.set_xlim(col.low, col.high)
            ax.tick_params(labelsize=6)
            if i == n - 1:
                ax.set_xlabel(col.key.rsplit(".", 1)[-1], fontsize=7)
            if j == 0 and i != j:
                ax.set_ylabel(row.key.rsplit(".", 1)[-1], fontsize=7)
    fig.suptitle(f"{calibration.name}\nposterior pairs", fontsize=10)
    return fig


def targets_figure(statistics: pd.DataFrame, calibration: CalibrationRecord) -> Figure:
    """Each target's statistic at the posterior's particles, against the window of the case."""
    targets = calibration.targets
    rows, cols = _grid(len(targets))
    fig = Figure(figsize=(max(5.0, 3.4 * cols), 2.8 * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, target in zip(axes, targets, strict=False):
        values = statistics[target.name].to_numpy(dtype=float)
        shown = ~np.isnan(values)
        lo = min(target.low, values[shown].min()) if shown.any() else target.low
        hi = max(target.high, values[shown].max()) if shown.any() else target.high
        pad = 0.1 * (hi - lo)
        ax.axvspan(target.low, target.high, color=OKABE_ITO["green"], alpha=0.25, lw=0)
        ax.hist(
            values[shown],
            bins=np.linspace(lo - pad, hi + pad, BINS + 1),
            weights=statistics["weight"].to_numpy()[shown],
            color=OKABE_ITO["blue"],
        )
        inside = float(
            statistics["weight"][shown & (values >= target.low) & (values <= target.high)].sum()
        )
        ax.set_title(f"{target.name}: {inside:.0%} in window", fontsize=8)
        ax.set_xlabel(
            target.statistic + (f" (M = {target.month})" if target.month else ""), fontsize=7
        )
        ax.set_yticks([])
    for ax in axes[len(targets) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{calibration.name}\ntargets at the posterior (green: the case's window)", fontsize=10
    )
    return fig


def calibration_figures(out: Path | str, calibration: CalibrationRecord) -> list[NamedFigure]:
    """The figures of a calibration directory, with captions."""
    posterior, statistics, _ = read_posterior(out)
    return [
        NamedFigure(
            "marginals",
            marginals_figure(posterior, calibration),
            "Each calibrated parameter's posterior (weighted histogram) against its prior.",
        ),
        NamedFigure(
            "pairs",
            pairs_figure(posterior, calibration),
            "Every pair of calibrated parameters at the posterior's particles.",
        ),
        NamedFigure(
            "targets",
            targets_figure(statistics, calibration),
            "Each target's statistic at the posterior's particles against the case's window.",
        ),
    ]


def save_calibration_figures(out: Path | str, calibration: CalibrationRecord) -> list[Path]:
    """Write the figures (PNG) into ``out/figures/``, whole or not at all; the paths written."""
    target = Path(out) / "figures"
    figures = calibration_figures(out, calibration)
    with atomic_directory(target, kind="figures") as tmp:
        for named in figures:
            save_figure(named.figure, tmp / f"{named.stem}.png")
        write_json(
            tmp / MANIFEST,
            {
                "relsim": "figures",
                "source": str(out),
                "source_kind": "calibration",
                "figures": {named.stem: named.caption for named in figures},
            },
        )
    return [target / f"{named.stem}.png" for named in figures]


__all__ = ["calibration_figures", "save_calibration_figures"]
