"""The report of a calibration: what was fitted to what, how well, and with what certainty.

``relsim report CALIBRATION_DIR`` writes it as one self-contained HTML file, and a sweep's
report includes its main section (:func:`calibration_section`) when the sweep drew its
parameters from that calibration's posterior. Everything is read from the directory
:func:`relsim.runs.calibration.calibrate` wrote: ``calibration.json`` (the calibration as run),
the posterior, each particle's target statistics and the per-generation diagnostics.

Two numbers summarise each parameter: its posterior median and 90% interval, and the
*contraction*, the width of that interval over the width of the prior's middle 90%. A
contraction near 1 means the targets did not inform the parameter: its posterior is its prior,
and its value remains an assumption.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.errors import RelsimError
from relsim.presentation.calibration_figures import calibration_figures
from relsim.presentation.format import format_number
from relsim.presentation.html import document, escape, facts, inline_svg, table
from relsim.runs.calibration import SPEC, read_posterior
from relsim.runs.calibration_file import CalibrationRecord, record_from_dict

#: Below this contraction a parameter is reported as informed by the targets.
INFORMED = 0.6


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of weighted values (the inverse of the weighted empirical CDF)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = np.searchsorted(cumulative, q * cumulative[-1], side="left")
    return float(values[order][min(index, len(values) - 1)])


def read_record(directory: Path) -> CalibrationRecord:
    """The calibration as ``calibration.json`` records it.

    Raises:
        RelsimError: if the directory holds no calibration.
    """
    try:
        spec = json.loads((directory / SPEC).read_text(encoding="utf-8"))
        return record_from_dict(spec["calibration"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RelsimError(f"{directory}: not a relsim calibration directory ({exc})") from None


def parameter_table(posterior: pd.DataFrame, record: CalibrationRecord) -> pd.DataFrame:
    """Each calibrated key: prior range, posterior median and 90% interval, contraction."""
    weights = posterior["weight"].to_numpy(float)
    rows = []
    for prior in record.priors:
        values = posterior[prior.key].to_numpy(float)
        lo, mid, hi = (weighted_quantile(values, weights, q) for q in (0.05, 0.5, 0.95))
        rows.append(
            {
                "key": prior.key,
                "prior_low": prior.low,
                "prior_high": prior.high,
                "median": mid,
                "q05": lo,
                "q95": hi,
                "contraction": (hi - lo) / (0.9 * (prior.high - prior.low)),
            }
        )
    return pd.DataFrame(rows)


def target_table(statistics: pd.DataFrame, record: CalibrationRecord) -> pd.DataFrame:
    """Each target: its window, the posterior's median statistic, the share inside the window."""
    weights = statistics["weight"].to_numpy(float)
    rows = []
    for target in record.targets:
        values = statistics[target.name].to_numpy(float)
        known = np.isfinite(values)
        inside = known & (values >= target.low) & (values <= target.high)
        rows.append(
            {
                "target": target.name,
                "statistic": target.statistic,
                "month": target.month,
                "low": target.low,
                "high": target.high,
                "median": weighted_quantile(values[known], weights[known], 0.5)
                if known.any()
                else np.nan,
                "inside": float(weights[inside].sum() / weights.sum()),
                "source": target.source,
            }
        )
    return pd.DataFrame(rows)


def _n(value: Any) -> str:
    return escape(format_number(float(value)))


def calibration_section(directory: Path | str) -> str:
    """The calibration of a directory as HTML: targets, parameters, generations, figures.

    Raises:
        RelsimError: if the directory holds no finished calibration.
    """
    directory = Path(directory)
    record = read_record(directory)
    posterior, statistics, generations = read_posterior(directory)
    params, targets = parameter_table(posterior, record), target_table(statistics, record)
    last = generations.iloc[-1]
    informed = params[params["contraction"] < INFORMED]["key"].tolist()
    parts = [
        f"<p>{escape(record.description)}</p>" if record.description else "",
        facts(
            [
                ("Base scenario", f"<code>{escape(record.scenario_source)}</code>"),
                (
                    "Method",
                    "approximate Bayesian computation by sequential Monte Carlo (pyABC), "
                    f"{record.population_size} particles a generation, each parameter set run "
                    f"over {record.replications} seeds; distance: how far each statistic lies "
                    "outside its window, in window widths, summed over targets",
                ),
                (
                    "Generations",
                    f"{len(generations)} of at most {record.populations}; final tolerance ε = "
                    f"{_n(last['epsilon'])}, effective sample size {_n(last['ess'])}, "
                    f"{int(generations['evaluations'].sum())} parameter sets evaluated",
                ),
                ("Seed", f"<code>{record.seed}</code>"),
                (
                    "Informed by the targets",
                    ", ".join(f"<code>{escape(k)}</code>" for k in informed)
                    if informed
                    else "none: every posterior is close to its prior",
                ),
            ]
        ),
        "<h3>Targets: the patterns of the case</h3>",
        "<p>Each target's statistic at the posterior's particles (weighted), and the share of "
        "the posterior whose statistic lies inside the window the sources allow.</p>",
        table(
            ["Target", "Statistic", "Window", "Posterior median", "Inside the window", "Source"],
            [
                (
                    f"<strong>{escape(t['target'])}</strong>",
                    f"<code>{escape(t['statistic'])}</code>"
                    + (
                        f" (month {int(t['month'])})" if pd.notna(t["month"]) and t["month"] else ""
                    ),
                    f"[{_n(t['low'])}, {_n(t['high'])}]",
                    _n(t["median"]),
                    f"{t['inside']:.0%}",
                    f"<small>{escape(t['source'])}</small>",
                )
                for t in targets.to_dict("records")
            ],
            raw=True,
        ),
        "<h3>Parameters: prior and posterior</h3>",
        f"<p>Contraction: the width of the posterior's 90% interval over that of the prior's "
        f"middle 90%. Below {INFORMED} the targets informed the parameter; near 1 its "
        "posterior is its prior, and its value remains an assumption.</p>",
        table(
            ["Parameter", "Prior (uniform)", "Posterior median", "90% interval", "Contraction"],
            [
                (
                    f"<code>{escape(p['key'])}</code>",
                    f"[{_n(p['prior_low'])}, {_n(p['prior_high'])}]",
                    _n(p["median"]),
                    f"[{_n(p['q05'])}, {_n(p['q95'])}]",
                    f"{p['contraction']:.2f}",
                )
                for p in params.to_dict("records")
            ],
            cls="numbers",
            raw=True,
        ),
        "<details><summary>Every generation</summary>",
        table(
            list(generations.columns),
            [[format_number(float(v)) for v in row] for row in generations.to_numpy()],
            cls="numbers",
        ),
        "</details>",
    ]
    # The pairs figure (a scatter per pair of parameters) would weigh megabytes as inline SVG:
    # it stays in the directory's figures/ (relsim calibrate writes it).
    shown = [f for f in calibration_figures(directory, record) if f.stem != "pairs"]
    for k, named in enumerate(shown, start=1):
        parts.append(
            f'<figure id="calibration-{escape(named.stem)}">\n'
            f"{inline_svg(named.figure, 'calibration-' + named.stem, named.caption)}\n"
            f"<figcaption><strong>Calibration figure {k}.</strong> {escape(named.caption)}"
            "</figcaption>\n</figure>"
        )
    return "\n".join(p for p in parts if p)


def build_calibration_report(directory: Path | str) -> str:
    """The HTML report of a calibration directory, as one self-contained document.

    Raises:
        RelsimError: if the directory holds no finished calibration.
    """
    directory = Path(directory)
    record = read_record(directory)
    sections = [
        ("calibration", "Calibration to the case", calibration_section(directory)),
        (
            "provenance",
            "Provenance",
            facts([("Calibration directory", f"<code>{escape(directory)}</code>")]),
        ),
    ]
    return document(record.name, "relsim calibration report", sections)


__all__ = [
    "build_calibration_report",
    "calibration_section",
    "parameter_table",
    "target_table",
    "weighted_quantile",
]
