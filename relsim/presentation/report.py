"""A sweep's report: one self-contained HTML file an analyst can forward.

:func:`build_report` reads a sweep directory and returns the HTML: the question the experiment
asked, how to read the report, the design (base scenario, factors and levels, sampled ranges,
replications, seeds), the headline outcomes per design cell and the governance-mode comparison
with 95% confidence intervals (:func:`relsim.analysis.summary.summarize`), the figures
(:mod:`relsim.presentation.sweep_figures`, embedded as inline SVG), the sensitivity indices when
``DIR/sensitivity.csv`` exists, and provenance. Everything is inline: no scripts, no external
links, no files beside it. :func:`write_report` writes it atomically.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from relsim.analysis.contrasts import MODE
from relsim.analysis.sensitivity import NEGATIVE_DELTA
from relsim.analysis.summary import CELL_STATS, COMPARISON_STATS, Summary, summarize
from relsim.analysis.sweep_data import SweepData, load_sweep
from relsim.atomic import MANIFEST, atomic_write_bytes
from relsim.errors import RelsimError
from relsim.presentation.calibration_report import build_calibration_report, calibration_section
from relsim.presentation.format import (
    format_cell,
    format_difference,
    format_effect_size,
    format_number,
    format_value,
    row_decimals,
)
from relsim.presentation.html import document, escape, inline_svg
from relsim.presentation.html import facts as _facts
from relsim.presentation.html import table as _table
from relsim.presentation.labels import (
    format_level,
    is_headline,
    ordered_outcomes,
    outcome_label,
    short_key,
    trusts_text,
)
from relsim.presentation.plot import directory_kind
from relsim.presentation.sweep_figures import sweep_figures
from relsim.runs.calibration import SPEC
from relsim.runs.posterior import read_posterior
from relsim.runs.provenance import citation, code_digest, versions

_e = escape

#: Written by ``relsim sensitivity DIR`` (optional).
SENSITIVITY_CSV = "sensitivity.csv"
SENSITIVITY_PNG = "sensitivity.png"


def _outcome_cell(outcome: str, data: SweepData) -> str:
    label = outcome_label(outcome, data.practices, data.common_trusts)
    return f"{_e(label)}<br><code>{_e(outcome)}</code>"


def _cell_header(values: dict[str, Any]) -> str:
    if not values:
        return "all runs"
    parts = []
    for key, value in values.items():
        text = format_level(value)
        parts.append(_e(text) if key == MODE else f"{_e(short_key(key))} = {_e(text)}")
    return "<br>".join(parts)


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


def _how_to_read(data: SweepData, unit: str) -> str:
    n = data.manifest["experiment"]["replications"]
    return f"""
<p>relsim is a simulation. Each <em>run</em> plays out one possible history, month by month,
of a regulator and {trusts_text(data)} NHS trusts; chance (which problems arise, who attends, how
the regulator responds) makes runs differ. The experiment repeats every design cell
{n} times and reports what happens across those runs. Its numbers show what follows from the
model's assumptions (described in the project's <code>docs/ODD.md</code>), not forecasts of what
real organisations will do.</p>
<ul>
<li><strong>Estimates with 95% confidence intervals</strong>, e.g.
<code>0.805 [0.797, 0.812]</code>: the first number is the average over the runs; the bracket is
the range in which the average of endless runs of the same model would lie, with 95% confidence.
It says how precisely the runs pin down the model's average, not how much runs vary, and not
whether the model is right. Numbers have about three significant digits.</li>
<li><strong>The unit of inference is the seed.</strong> Runs that share a seed (with common
random numbers, replication <em>r</em> of every design point does) are alike, so runs of one
seed count as one unit: {_e(unit)}. An interval resting on a few seeds is wide however many
runs there are.</li>
<li><strong>Shares</strong> (e.g. of runs in which a practice reached every trust) are given
with Wilson intervals.</li>
<li><strong>Months to full adoption</strong> is a Kaplan–Meier median: half the runs had seen
the practice reach every trust by then. Runs that never got there count for as long as they
ran, so they are not ignored; <em>not reached</em> means fewer than half the runs got
there within the horizon.</li>
<li><strong>Differences between governance modes</strong> are paired when the sweep used common
random numbers: each run under one mode is compared with the run under the other that shared
its random numbers, so the difference is due to the mode alone. <strong>Hedges' g</strong>
puts the difference in units of the run-to-run spread: about 0.2 is small, 0.5 medium and 0.8
or more large (Cohen 1988).</li>
<li><strong>Figures</strong>: lines are medians or means over runs; shaded bands show how
widely runs spread (middle 50% and 90%) or, where the caption says so, the 95% interval of a
mean. The heat maps show one <em>typical</em> run per cell, chosen as the run closest to its
cell's median outcomes.</li>
</ul>
"""


def _design(data: SweepData) -> str:
    manifest = data.manifest
    experiment = manifest["experiment"]
    scenario = manifest["scenario"]
    parts = [f"<h3>Base scenario: {_e(manifest.get('scenario_name', data.scenario.name))}</h3>"]
    partner = scenario["partner"]
    partner_text = (
        f"active from month {partner['start_month']} to month {partner['end_month']}, "
        f"training capacity {partner['training_capacity']} of a department's staff a month"
        if partner["enabled"]
        else "none"
    )
    parts.append(
        _facts(
            [
                ("Scenario file", f"<code>{_e(experiment.get('scenario', ''))}</code>"),
                ("Horizon", f"{data.scenario.months} months"),
                ("Governance (unless varied)", _e(data.scenario.governance.mode)),
                ("Baseline pressure", _e(scenario["pressure"]["baseline"])),
                ("Improvement partner", _e(partner_text)),
                ("Scenario hash", f"<code>{_e(manifest.get('scenario_hash', ''))}</code>"),
            ]
        )
    )
    population = data.scenario.population
    if population.trusts:
        # Hundreds of generated trusts: the description that generates them, not the list.
        readiness = [t.readiness for t in data.scenario.trusts]
        low, high = population.region_size
        varied = " (unless varied)" if data.common_trusts is None else ""
        parts.append(
            _table(
                ["Generated population", ""],
                [
                    (f"Trusts{varied}", str(len(data.scenario.trusts))),
                    (f"Regions{varied}", str(len(data.scenario.region_names))),
                    ("Region size", f"{low} to {high} trusts"),
                    (
                        "Readiness",
                        f"mean {sum(readiness) / len(readiness):.2f}, "
                        f"from {min(readiness):.2f} to {max(readiness):.2f}",
                    ),
                    ("Population seed", str(population.seed)),
                ],
            )
        )
    else:
        parts.append(
            _table(
                ["Trust", "Readiness (0–1)"],
                [(t.name, f"{t.readiness:.2f}") for t in data.scenario.trusts],
            )
        )
    parts.append(
        _table(
            ["Practice", "Origin trust", "Introduced (month)", "Targets training"],
            [
                (
                    p.name.replace("_", " "),
                    p.origin,
                    str(p.introduced_month),
                    "yes" if p.targets_training else "no",
                )
                for p in data.scenario.practices
            ],
        )
    )
    parts.append(
        "<details><summary>Every parameter of the base scenario (TOML)</summary>"
        f"<pre>{_e(tomli_w.dumps(scenario))}</pre></details>"
    )

    grid = [f for f in manifest["factors"] if f in experiment["factors"]]
    parts.append("<h3>What was varied</h3>")
    if grid:
        parts.append(
            _table(
                ["Factor (scenario key)", "Levels", "Number"],
                [
                    (
                        f"<code>{_e(key)}</code>",
                        ", ".join(_e(format_level(v)) for v in experiment["factors"][key]),
                        str(len(experiment["factors"][key])),
                    )
                    for key in grid
                ],
                raw=True,
            )
        )
        parts.append("<p>Every combination of the levels is a design cell (a full grid).</p>")
    sampling = experiment.get("sampling")
    n_sampled = len(experiment.get("design") or [])
    if sampling:
        method = {
            "lhs": "Latin hypercube (scipy.stats.qmc)",
            "sobol": "Sobol/Saltelli (SALib)",
            "morris": f"Morris elementary effects, {sampling['levels']} levels (SALib)",
        }.get(sampling["method"], sampling["method"])
        parts.append(
            f"<p>Sampled design: {_e(method)}, base sample size n = {sampling['n']}, giving "
            f"{n_sampled} sampled points{' in every grid cell' if grid else ''}; sampled keys "
            "are pooled in the tables and figures.</p>"
        )
        names = sampling["problem"]["names"]
        bounds = sampling["problem"]["bounds"]
        parts.append(
            _table(
                ["Sampled key", "Low", "High"],
                [
                    (f"<code>{_e(k)}</code>", _e(format_number(lo)), _e(format_number(hi)))
                    for k, (lo, hi) in zip(names, bounds, strict=True)
                ],
                raw=True,
            )
        )
    posterior = experiment.get("posterior")
    if posterior:
        drawn = data.runs.drop_duplicates("replication")
        parts.append(
            f"<p>Parameters from a posterior: replication <em>r</em> of every design point takes "
            f"one of the {posterior['particles']} weighted parameter sets of "
            f"<code>{_e(posterior['file'])}</code> (SHA-256 <code>{_e(posterior['sha256'][:12])}"
            "</code>…), drawn by weight with its own seed, so that the intervals below cover "
            "the parameters' uncertainty as well as chance. Each run's set is in the runs "
            "table (<code>draw</code> and the keys).</p>"
        )
        parts.append(
            _table(
                ["Drawn key", "Median", "5%", "95%"],
                [
                    (
                        f"<code>{_e(k)}</code>",
                        *(
                            _e(format_number(float(drawn[k].quantile(q))))
                            for q in (0.5, 0.05, 0.95)
                        ),
                    )
                    for k in posterior["keys"]
                    if k in drawn
                ],
                raw=True,
            )
        )
    if not grid and not sampling and not posterior:
        parts.append("<p>Nothing was varied: every run uses the base scenario.</p>")

    cells = 1
    for key in grid:
        cells *= len(experiment["factors"][key])
    points = cells * max(1, n_sampled)
    replications = experiment["replications"]
    crn = experiment["common_random_numbers"]
    seeds = data.runs.sort_values(["replication", "run_id"]).drop_duplicates("seed")["seed"]
    parts.append("<h3>Replications and seeds</h3>")
    parts.append(
        _facts(
            [
                (
                    "Design points",
                    f"{points} ({cells} grid cells × {n_sampled} sampled points)"
                    if n_sampled and grid
                    else f"{points} ({'sampled points' if n_sampled else 'grid cells'})",
                ),
                ("Replications per point", str(replications)),
                ("Runs", str(manifest.get("runs_total", points * replications))),
                ("Experiment seed", f"<code>{_e(experiment['seed'])}</code>"),
                (
                    "Common random numbers",
                    "yes: replication <em>r</em> of every design point runs with the same seed, "
                    "so differences between points are paired comparisons with one thing "
                    "changed"
                    if crn
                    else "no: every run has its own seed",
                ),
                (
                    "Run seeds",
                    f"{seeds.size} distinct, derived from the experiment seed with NumPy's "
                    "SeedSequence (stable across versions and platforms); each run's seed is in "
                    "the sweep's runs table",
                ),
            ]
        )
    )
    if seeds.size <= 1000:
        listed = ", ".join(str(s) for s in seeds)
        parts.append(
            f'<details><summary>The {seeds.size} run seeds</summary><p class="seeds">'
            f"{_e(listed)}</p></details>"
        )
    return "\n".join(parts)


def _cells_table(summary: Summary, data: SweepData, *, headline_only: bool) -> str:
    cells = summary.cells
    grid = [c for c in cells.columns if c not in CELL_STATS]
    keys = list(cells[grid].drop_duplicates().itertuples(index=False, name=None)) if grid else [()]
    outcomes = list(dict.fromkeys(cells["outcome"]))
    if headline_only:
        outcomes = [o for o in outcomes if is_headline(o)]
    lookup = {(tuple(row[g] for g in grid), row["outcome"]): row for _, row in cells.iterrows()}
    header = ["Outcome", *(_cell_header(dict(zip(grid, k, strict=True))) for k in keys)]
    digits = {
        outcome: row_decimals(group, "estimate", "ci_low", "ci_high")
        for outcome, group in cells.groupby("outcome", sort=False)
    }
    rows = []
    for outcome in outcomes:
        line = [_outcome_cell(outcome, data)]
        for key in keys:
            row = lookup.get((tuple(key), outcome))
            if row is None:
                line.append("–")
                continue
            count = f"n = {int(row['n'])}"
            if summary.clustered:
                count += f", {int(row['seeds'])} seeds"
            line.append(f"{_e(format_cell(row, digits[outcome]))}<br><small>{count}</small>")
        rows.append(line)
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>\n" for r in rows)
    return (
        f'<table class="numbers" id="{"headline" if headline_only else "all-outcomes"}">\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"
    )


def _contrast_block(block: pd.DataFrame, data: SweepData, strata: Sequence[str], key: str) -> str:
    """One factor's contrasts (or its interaction with the mode) as a heading, words, table."""
    first = block.iloc[0]
    factor = str(first["factor"])
    reference = format_level(first["reference"])
    interaction = isinstance(first["by"], str)
    paired = bool(first["paired"])
    shown = [s for s in strata if block[s].notna().any()]
    several = block["compared"].nunique() > 1 or interaction
    if interaction:
        title = f"{short_key(factor)} × governance mode (difference in differences)"
        words = (
            f"How much the effect of {_e(first['by_compared'])} over "
            f"{_e(first['by_reference'])} changes when <code>{_e(factor)}</code> moves from "
            f"{_e(reference)} to each other level: the effect at the level minus the effect at "
            f"{_e(reference)}. "
        )
    else:
        title = f"{factor}: each level against {reference}"
        words = (
            f"Each level of <code>{_e(factor)}</code> minus {_e(reference)}, with everything else "
            "held fixed. "
        )
    words += (
        "Paired by seed (common random numbers): from the runs that shared their random "
        "numbers, with the seed as the unit of the interval (pairs that share a seed count "
        "once). "
        if paired
        else "Unpaired (every run has its own seed): Welch's interval. "
    )
    if not interaction:
        words += "Hedges' g is the difference in units of the pooled run-to-run standard deviation."
    mean_ref = "Effect at " + _e(reference) if interaction else "Reference mean"
    mean_cmp = "Effect at the level" if interaction else "Compared mean"
    if not several:
        mean_ref = f"{_e(reference)} (mean)"
        mean_cmp = f"{_e(format_level(first['compared']))} (mean)"
    header = [
        "Outcome",
        *(_e(short_key(s)) for s in shown),
        *(["Level"] if several else []),
        mean_ref,
        mean_cmp,
        "Difference in differences [95% CI]" if interaction else "Difference [95% CI]",
        *([] if interaction else ["Hedges' g"]),
        "Pairs" if paired else "Runs",
        "Seeds",
    ]
    digits = {
        outcome: row_decimals(rows, "difference", "ci_low", "ci_high")
        for outcome, rows in block.groupby("outcome", sort=False)
    }
    means = {
        outcome: row_decimals(rows, "reference_mean", "compared_mean")
        for outcome, rows in block.groupby("outcome", sort=False)
    }
    block = block.assign(_order=block["outcome"].map(list(dict.fromkeys(block["outcome"])).index))
    rows = []
    for _, row in block.sort_values("_order", kind="stable").iterrows():
        outcome = row["outcome"]
        signed = interaction
        rows.append(
            [
                _outcome_cell(outcome, data),
                *(_e(format_level(row[s])) for s in shown),
                *([_e(format_level(row["compared"]))] if several else []),
                _e(format_value(float(row["reference_mean"]), means[outcome], signed=signed)),
                _e(format_value(float(row["compared_mean"]), means[outcome], signed=signed)),
                _e(format_difference(row, digits[outcome])),
                *([] if interaction else [_e(format_effect_size(float(row["hedges_g"])))]),
                _e(int(row["n"])),
                _e(int(row["seeds"])),
            ]
        )
    table = _table(header, rows, cls="numbers", raw=True).replace(
        '<table class="numbers">', f'<table class="numbers" id="{key}">', 1
    )
    return f"<h3>{_e(title)}</h3>\n<p>{words}</p>\n{table}"


def _contrasts(summary: Summary, data: SweepData) -> str:
    """Every factor's contrasts and interactions with the mode, headline outcomes."""
    comp = summary.comparison
    if comp.empty:
        return "<p>No grid factor was varied in this experiment, so there are no contrasts.</p>"
    comp = comp[comp["outcome"].map(is_headline)]
    strata = [c for c in comp.columns if c not in COMPARISON_STATS]
    parts = [
        "<p>Each grid factor's levels compared with its first level, within each combination "
        "of the other factors, and (when the governance mode is varied) each factor's "
        f"interaction with the mode. The unit of inference is {_e(summary.unit)}. Every "
        "outcome's contrasts are in <code>comparison.csv</code>.</p>"
    ]
    blocks = comp.groupby(["factor", comp["by"].fillna("")], sort=False)
    for k, (_key, block) in enumerate(blocks):
        first = block.iloc[0]
        plain_mode = first["factor"] == MODE and k == 0
        key = "comparison-table" if plain_mode else f"contrast-{k}"
        parts.append(_contrast_block(block, data, strata, key))
    return "\n".join(parts)


def _sensitivity(directory: Path) -> str | None:
    """The sensitivity section, when ``relsim sensitivity`` has written its table."""
    path = directory / SENSITIVITY_CSV
    if not path.exists():
        return None
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        return f"<p>{_e(path.name)} could not be read ({_e(exc)}).</p>"
    if "outcome" in table:  # the console's order: headline outcomes first, then by rank
        order = {o: k for k, o in enumerate(ordered_outcomes(table["outcome"].astype(str)))}
        keys = ["outcome", *(["rank"] if "rank" in table else [])]
        table = table.sort_values(
            keys, key=lambda c: c.map(order) if c.name == "outcome" else c, kind="stable"
        )
    method = ", ".join(sorted({str(m) for m in table.get("method", pd.Series(dtype=str))}))
    parts = [
        "<p>Which assumptions drive the result: global sensitivity indices computed with SALib "
        f"from the sweep's sampled design{f' ({_e(method)})' if method else ''}, ranked per "
        "outcome, headline outcomes first. Morris: μ* is the mean absolute elementary effect, in "
        "the outcome's units over the parameter's whole sampled range (how much the outcome "
        "moves when the parameter goes from its low to its high end), σ their spread "
        "(interactions or non-linearity). Sobol: S1 is the share of the outcome's variance due "
        "to the parameter alone, ST including its interactions. Borgonovo's δ (Latin "
        "hypercube) is how far the outcome's distribution moves when the parameter is fixed; "
        f"{_e(NEGATIVE_DELTA)}.</p>",
        _table(
            list(table.columns),
            [[format_number(v) for v in row] for row in table.itertuples(index=False, name=None)],
            cls="numbers",
        ),
    ]
    png = directory / SENSITIVITY_PNG
    if png.exists():
        encoded = base64.b64encode(png.read_bytes()).decode("ascii")
        parts.append(
            '<figure><img alt="Sensitivity indices per outcome" '
            f'src="data:image/png;base64,{encoded}"><figcaption>Sensitivity indices, as drawn by '
            "relsim sensitivity.</figcaption></figure>"
        )
    return "\n".join(parts)


def _cite(data: SweepData) -> str:
    """How to cite the code that ran the sweep (its version and commit, from the manifest)."""
    manifest = data.manifest
    text = citation(
        manifest.get("versions", {}).get("relsim", "?"),
        manifest.get("code_commit"),
        manifest.get("code_hash", "?"),
    )
    return (
        "<p>If you use these results, cite the model and the code that produced them (the "
        "project's <code>CITATION.cff</code> says the same):</p>"
        f'<p class="question">{_e(text)}</p>'
        "<p>and give the experiment file and its hash (below), so that the sweep can be run "
        "again to the same numbers.</p>"
    )


def _provenance(data: SweepData, summary: Summary) -> str:
    manifest = data.manifest
    recorded = manifest.get("versions", {})
    now = versions()
    code = manifest.get("code_hash", "")
    same_code = code == code_digest()
    code_note = (
        "the code that wrote this report is the same"
        if same_code
        else "the code has changed since the sweep ran (this report was written with "
        f"relsim {now['relsim']}, code {code_digest()[:12]}…)"
    )
    try:
        import matplotlib
        import scipy

        drawn = f"matplotlib {matplotlib.__version__}, SciPy {scipy.__version__}"
    except ImportError:  # pragma: no cover
        drawn = "unknown"
    done = manifest.get("runs_done", summary.runs)
    return _facts(
        [
            (
                "Versions (sweep)",
                ", ".join(
                    f"{_e(name)} {_e(recorded.get(key, '?'))}"
                    for key, name in (
                        ("relsim", "relsim"),
                        ("mesa", "Mesa"),
                        ("numpy", "NumPy"),
                        ("pandas", "pandas"),
                        ("python", "Python"),
                    )
                ),
            ),
            ("Scenario hash", f"<code>{_e(manifest.get('scenario_hash', ''))}</code>"),
            ("Code hash", f"<code>{_e(code)}</code> ({_e(code_note)})"),
            (
                "Code commit",
                f"<code>{_e(manifest['code_commit'])}</code>"
                if manifest.get("code_commit")
                else "not recorded (not run from a git checkout)",
            ),
            ("Experiment hash", f"<code>{_e(manifest.get('experiment_hash', ''))}</code>"),
            ("Experiment file", f"<code>{_e(manifest['experiment'].get('source', ''))}</code>"),
            ("Experiment seed", f"<code>{_e(manifest['experiment']['seed'])}</code>"),
            ("Started", _e(manifest.get("started") or "–")),
            ("Finished", _e(manifest.get("finished") or "–")),
            ("Status", _e(manifest.get("status", "?"))),
            (
                "Runs",
                f"{_e(done)} of {_e(manifest.get('runs_total', '?'))} done, "
                f"{_e(manifest.get('runs_failed', summary.failed))} failed",
            ),
            ("Report drawn with", f"relsim {_e(now['relsim'])}, {_e(drawn)}"),
            ("Sweep directory", f"<code>{_e(data.directory)}</code>"),
        ]
    )


def _calibration(posterior: dict[str, Any] | None) -> str | None:
    """The calibration section of the posterior a sweep drew from, if its directory is found.

    Only if its ``posterior.parquet`` is still the file the sweep drew from (same SHA-256): a
    calibration run again into the same place is another calibration.
    """
    if not posterior or not posterior.get("path"):
        return None
    path = Path(posterior["path"])
    directory = path.parent
    if not (directory / SPEC).is_file():
        return None
    try:
        found = read_posterior(path)
        if found.sha256 != posterior.get("sha256"):
            return (
                f"<p>The calibration at <code>{_e(directory)}</code> has changed since the sweep "
                "drew from it (its posterior's SHA-256 differs), so it is not shown.</p>"
            )
        return calibration_section(directory)
    except (RelsimError, KeyError, ValueError, OSError) as exc:
        return f"<p>The calibration at <code>{_e(directory)}</code> cannot be read: {_e(exc)}</p>"


def build_report(directory: Path | str) -> str:
    """The HTML report of a sweep directory, as one self-contained document.

    Raises:
        RelsimError: if the directory holds no sweep or no finished run.
    """
    directory = Path(directory)
    if directory_kind(directory, "relsim sweep") != "sweep":
        raise RelsimError(
            f"{directory}: holds a single run, not a sweep (relsim report needs a directory "
            "written by relsim sweep; relsim plot draws a run's figures)"
        )
    data = load_sweep(directory)
    summary = summarize(directory)
    manifest = data.manifest
    experiment = manifest["experiment"]
    question = experiment.get("description") or "(the experiment file states no question)"
    status = manifest.get("status")
    warning = ""
    if status != "complete" or summary.unfinished:
        # The runs counted in the store, not the manifest's count: parts can go missing.
        shown = status if status != "complete" else "incomplete"
        warning = (
            f'<p class="warning">This sweep is {_e(shown)}: '
            f"{_e(summary.runs)} of {_e(manifest.get('runs_total', '?'))} runs are saved, and "
            "the report covers only those.</p>"
        )
    if summary.duplicates:
        warning += (
            f'<p class="warning">{summary.duplicates} runs were saved more than once; each is '
            "counted once.</p>"
        )
    if data.failed:
        warning += (
            f'<p class="warning">{data.failed} runs failed and are left out of every table '
            "and figure (their errors are in the sweep's runs table).</p>"
        )
    figures = sweep_figures(data)
    figure_html = []
    for k, named in enumerate(figures, start=1):
        figure_html.append(
            f'<figure id="figure-{_e(named.stem)}">\n'
            f"{inline_svg(named.figure, named.stem, named.caption)}\n"
            f"<figcaption><strong>Figure {k}.</strong> {_e(named.caption)}</figcaption>\n"
            "</figure>"
        )
    sensitivity = _sensitivity(directory)
    sections = [
        ("question", "The question", f'<p class="question">{_e(question)}</p>'),
        ("how-to-read", "How to read this report", _how_to_read(data, summary.unit)),
        ("design", "Design", _design(data)),
        (
            "results",
            "Headline outcomes per design cell (95% confidence intervals)",
            "<p>Mean over runs [95% t interval], share of runs [Wilson interval] or "
            "Kaplan–Meier median [Brookmeyer–Crowley interval]; <em>n</em> is the number of "
            f"runs with a value. Unit of inference: {_e(summary.unit)}. Every outcome is in "
            "<code>summary.csv</code> and below.</p>"
            + _cells_table(summary, data, headline_only=True)
            + "<details><summary>All outcomes</summary>"
            + _cells_table(summary, data, headline_only=False)
            + "</details>",
        ),
        ("comparison", "Contrasts: each factor's levels compared", _contrasts(summary, data)),
        ("figures", "Figures", "\n".join(figure_html)),
    ]
    if sensitivity is not None:
        sections.append(("sensitivity", "Sensitivity analysis", sensitivity))
    calibrated = _calibration(experiment.get("posterior"))
    if calibrated is not None:
        sections.append(("calibration", "The calibration the parameters came from", calibrated))
    sections.append(("cite", "How to cite", _cite(data)))
    sections.append(("provenance", "Provenance", _provenance(data, summary)))
    title = experiment.get("name") or directory.name
    return document(title, "relsim sweep report", sections, warning)


def default_report_path(directory: Path | str) -> Path:
    """Where ``relsim report DIR`` writes without ``--out``: ``DIR/report.html``."""
    return Path(directory) / "report.html"


#: What every report has near its start (its title), and what marks a file relsim may replace.
_REPORT_MARK = b"<title>relsim report: "


def _is_report(path: Path) -> bool:
    """Whether ``path`` is a report relsim wrote (only those are replaced)."""
    try:
        with path.open("rb") as stream:
            return _REPORT_MARK in stream.read(4096)
    except OSError:
        return False


def _manifest_kind(directory: Path) -> str | None:
    """What wrote a directory, as its manifest says (None without a readable one)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = manifest.get("relsim") if isinstance(manifest, dict) else None
    return kind if isinstance(kind, str) else None


def write_report(directory: Path | str, out: Path | str | None = None) -> Path:
    """Write the report of a sweep (or calibration) directory to ``out`` (``DIR/report.html``).

    The file is written beside its destination under a temporary name and renamed into place,
    so a reader sees the old report or the new one, never half of one. An existing file is
    replaced only if it is a relsim report.

    Raises:
        RelsimError: if the directory holds no sweep, ``out`` is another file, or it cannot
            be written.
    """
    directory = Path(directory)
    target = Path(out) if out is not None else default_report_path(directory)
    if target.is_dir():
        raise RelsimError(f"{target}: is a directory (expected the report's file name)")
    if target.suffix.lower() not in (".html", ".htm"):
        raise RelsimError(f"{target}: expected a file name ending in .html for the report")
    if target.exists() and not (target.is_file() and _is_report(target)):
        raise RelsimError(f"{target}: refusing to overwrite: it exists and is not a relsim report")
    if _manifest_kind(directory) == "calibration":
        page = build_calibration_report(directory)
    else:
        page = build_report(directory)  # before touching the destination
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RelsimError(f"{target}: cannot write the report ({exc.strerror})") from None
    atomic_write_bytes(target, page.encode("utf-8"), "the report")
    return target


__all__ = ["build_report", "inline_svg", "write_report"]
