"""The report: one self-contained file with every section, and the numbers of the summary."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from matplotlib.figure import Figure
from scipy import stats

from relsim.analysis.summary import summarize
from relsim.cli import main
from relsim.presentation.figures import NamedFigure
from relsim.presentation.format import decimals, format_cell, row_decimals
from relsim.presentation.report import build_report, write_report
from relsim.presentation.sweep_figures import SWEEP_FIGURES
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.outcomes import outcome_range
from relsim.runs.progress import Silent
from relsim.runs.provenance import code_digest
from relsim.runs.runner import run_sweep
from relsim.runs.store import read_manifest, read_runs

ROOT = Path(__file__).resolve().parents[1]
MODES = ["hierarchical", "networked"]
REPS = 5

SMALL = f"""
[experiment]
name = "small report"
description = "Does the governance mode change trust & the spread of the <heat map>?"
scenario = "nhs_vmi_partnership"
replications = {REPS}
seed = 23
[base]
"scenario.months" = 36
[factors]
"governance.mode" = ["hierarchical", "networked"]
"""


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """2 modes x 5 replications x 36 months, run serially (10 runs)."""
    root = tmp_path_factory.mktemp("report")
    path = root / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    out = root / "small"
    run_sweep(load_experiment(path), out, executor=Serial(), progress=Silent())
    return out


@pytest.fixture(scope="module")
def report(sweep_dir) -> str:
    """The report, written as a user writes it: ``relsim report DIR`` (to DIR/report.html)."""
    assert main(["report", str(sweep_dir), "--quiet"]) == 0
    return (sweep_dir / "report.html").read_text(encoding="utf-8")


class Page(HTMLParser):
    """Tables (by id: rows of cell texts), section ids, and every tag with its attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.sections: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self.sections.append(attrs.get("id") or "")
        elif tag == "table":
            self._table = attrs.get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def page(report) -> Page:
    return Page(report)


def row_of(table: list[list[str]], outcome: str) -> list[str]:
    (row,) = [r for r in table if r and r[0].endswith(f"\n{outcome}")]
    return row


# --- what it holds ---------------------------------------------------------------------------


def test_the_report_holds_every_section_in_order(page):
    assert page.sections == [
        "question",
        "how-to-read",
        "design",
        "results",
        "comparison",
        "figures",
        "cite",
        "provenance",
    ]


def test_the_question_and_the_design_are_stated(report, sweep_dir):
    # The description is the question, escaped as text.
    assert "Does the governance mode change trust &amp; the spread of the &lt;heat map&gt;?" in (
        report
    )
    design = report.split('<section id="design">')[1].split("</section>")[0]
    for fragment in (
        "NHS–VMI partnership 2015–2020",  # the base scenario
        "36 months",
        "<code>governance.mode</code>",
        "hierarchical, networked",
        "<dt>Replications per point</dt><dd>5</dd>",
        "<dt>Runs</dt><dd>10</dd>",
        "<code>23</code>",  # the experiment seed
        "Common random numbers</dt><dd>yes",
        "Trust B",  # the trusts, with their readiness
        "0.65",
        "training heat map",
    ):
        assert fragment in design, fragment
    seeds = read_runs(sweep_dir)["seed"].unique()
    assert f"The {len(seeds)} run seeds" in design
    assert all(str(s) in design for s in seeds)


def test_the_how_to_read_section_explains_intervals_and_effect_sizes(report):
    text = report.split('<section id="how-to-read">')[1].split("</section>")[0]
    for words in ("95% confidence", "Kaplan–Meier", "Hedges' g", "paired", "not forecasts"):
        assert words in text


def test_provenance_names_versions_hashes_seed_times_and_runs(report, sweep_dir):
    manifest = read_manifest(sweep_dir)
    text = report.split('<section id="provenance">')[1].split("</section>")[0]
    for name, key in (
        ("relsim", "relsim"),
        ("Mesa", "mesa"),
        ("NumPy", "numpy"),
        ("pandas", "pandas"),
        ("Python", "python"),
    ):
        assert f"{name} {manifest['versions'][key]}" in text
    for value in (
        manifest["scenario_hash"],
        manifest["code_hash"],
        manifest["experiment_hash"],
        manifest["started"],
        manifest["finished"],
    ):
        assert value in text
    assert manifest["code_hash"] == code_digest()
    assert "the code that wrote this report is the same" in text
    assert "<code>23</code>" in text
    assert "10 of 10 done, 0 failed" in text
    assert "complete" in text


# --- one self-contained file -----------------------------------------------------------------


def test_the_report_is_one_self_contained_file(report, page, sweep_dir):
    assert "<script" not in report.lower()
    assert "http" not in report  # no external link, source, namespace or metadata URL
    assert "@import" not in report
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed"), tag
        for name in ("href", "xlink:href"):
            if attrs.get(name):
                assert attrs[name].startswith(("#", "data:")), (tag, attrs[name])
        if attrs.get("src"):
            assert attrs["src"].startswith("data:"), (tag, attrs["src"])
    assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", report))
    # Nothing beside it: the sweep directory gained the report and nothing else.
    hidden = [p.name for p in sweep_dir.iterdir() if p.name.startswith(".")]
    assert hidden == [".sweep.lock"]  # the sweep's own lock, kept (relsim.runs.lock)


def test_the_report_embeds_every_figure_as_inline_svg(report, page):
    figures = report.split('<section id="figures">')[1].split("</section>")[0]
    assert figures.count("<svg ") == len(SWEEP_FIGURES)
    for k, stem in enumerate(SWEEP_FIGURES, start=1):
        assert f'<figure id="figure-{stem}">' in figures
        assert f"<strong>Figure {k}.</strong>" in figures
    ids = [attrs["id"] for _, attrs in page.tags if attrs.get("id")]
    assert len(ids) == len(set(ids)), "element ids must be unique across the figures"
    targets = {
        attrs[name][1:]
        for _, attrs in page.tags
        for name in ("href", "xlink:href")
        if (attrs.get(name) or "").startswith("#")
    }
    targets |= {ref[1:] for ref in re.findall(r"url\((#[^)]*)\)", report)}
    assert targets
    assert targets <= set(ids), "every internal reference points at an element of the page"


# --- the numbers are the summary's -----------------------------------------------------------


def test_headline_numbers_are_the_runs_means_with_t_intervals(page, sweep_dir):
    table = page.tables["headline"]
    assert table[0] == ["Outcome", *MODES]
    runs = read_runs(sweep_dir)
    # About three significant digits of the largest number in the row, the same decimals in
    # every cell of it (presentation.format.row_decimals).
    for outcome in ("trust_in_regulator_final", "disclosures"):
        row = row_of(table, outcome)
        estimates = {}
        for mode in MODES:
            x = runs.loc[runs["governance.mode"] == mode, outcome].to_numpy(float)
            lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
            lo, hi = np.clip([lo, hi], *outcome_range(outcome))  # never past what is possible
            estimates[mode] = (x.mean(), lo, hi)
        d = decimals(*(v for e in estimates.values() for v in e))
        for mode, cell in zip(MODES, row[1:], strict=True):
            mean, lo, hi = estimates[mode]
            assert cell == f"{mean:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]\nn = {REPS}", (outcome, mode)
    share = row_of(table, "reached_all_training_heat_map")
    for mode, cell in zip(MODES, share[1:], strict=True):
        reached = runs.loc[runs["governance.mode"] == mode, "full_adoption_month_training_heat_map"]
        assert cell.startswith(f"{reached.notna().mean():.0%} [")


def test_every_headline_cell_is_summarize_formatted(page, sweep_dir):
    cells = summarize(sweep_dir).cells.set_index(["governance.mode", "outcome"])
    table = page.tables["headline"]
    shown = 0
    for row in table[1:]:
        outcome = row[0].split("\n")[-1]
        # One precision per row: the decimals of the largest number of the outcome's cells.
        digits = row_decimals(cells.xs(outcome, level="outcome"), "estimate", "ci_low", "ci_high")
        for mode, cell in zip(MODES, row[1:], strict=True):
            s = cells.loc[(mode, outcome)]
            text = format_cell({**s.to_dict(), "outcome": outcome}, digits)
            if s["statistic"] in ("share", "km_median") and s["n"] == 0:
                text = "no compact" if "compact" in outcome else "not introduced"
            assert cell == f"{text}\nn = {int(s['n'])}"
            shown += 1
    assert shown >= 2 * 10
    assert {r[0].split("\n")[-1] for r in page.tables["all-outcomes"][1:]} == set(
        cells.index.get_level_values("outcome")
    )


def test_the_mode_comparison_is_the_paired_difference_with_hedges_g(page, report, sweep_dir):
    table = page.tables["comparison-table"]
    assert table[0] == [
        "Outcome",
        "hierarchical (mean)",
        "networked (mean)",
        "Difference [95% CI]",
        "Hedges' g",
        "Pairs",
        "Seeds",
    ]
    runs = read_runs(sweep_dir)
    by_mode = {m: runs[runs["governance.mode"] == m].set_index("replication") for m in MODES}
    diff = (by_mode["networked"]["disclosures"] - by_mode["hierarchical"]["disclosures"]).to_numpy()
    lo, hi = stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=stats.sem(diff))
    assert 10 <= abs(diff.mean()) < 100
    assert abs(lo) < 100
    d = 1
    row = row_of(table, "disclosures")
    assert row[3] == f"{diff.mean():+.{d}f} [{lo:+.{d}f}, {hi:+.{d}f}]"
    comparison = summarize(sweep_dir).comparison.set_index("outcome")
    assert row[4] == f"{comparison.loc['disclosures', 'hedges_g']:+.2f}"
    assert row[5] == str(REPS)
    assert row[6] == str(REPS)  # one pair per seed
    assert "Paired by seed (common random numbers)" in report


# --- the optional sensitivity section --------------------------------------------------------


@pytest.fixture
def quick_figures(monkeypatch):
    """One stand-in figure, for tests of what surrounds the figures."""
    monkeypatch.setattr(
        "relsim.presentation.report.sweep_figures",
        lambda data: [NamedFigure("stand_in", Figure(figsize=(1, 1)), "A stand-in.")],
    )


def test_sensitivity_is_included_when_its_table_exists(sweep_dir, tmp_path, quick_figures):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep_dir, copy)
    assert 'id="sensitivity"' not in build_report(copy)
    pd.DataFrame(
        {
            "outcome": ["trust_in_regulator_final", "trust_in_regulator_final"],
            "parameter": ["pressure.baseline", "adoption.p1"],
            "method": ["morris", "morris"],
            "mu_star": [0.21, 0.03],
            "mu_star_conf": [0.02, 0.01],
            "sigma": [0.05, 0.01],
            "rank": [1, 2],
        }
    ).to_csv(copy / "sensitivity.csv", index=False)
    fig = Figure(figsize=(1, 1))
    fig.savefig(copy / "sensitivity.png", format="png")
    report = build_report(copy)
    page = Page(report)
    assert page.sections[-3:] == ["sensitivity", "cite", "provenance"]
    (table,) = [
        t for t in page.tables.values() if t and t[0][:3] == ["outcome", "parameter", "method"]
    ]
    assert table[0] == [
        "outcome",
        "parameter",
        "method",
        "mu_star",
        "mu_star_conf",
        "sigma",
        "rank",
    ]
    assert table[1][:4] == ["trust_in_regulator_final", "pressure.baseline", "morris", "0.21"]
    assert '<img alt="Sensitivity indices per outcome" src="data:image/png;base64,' in report


# --- writing it, and bad input ---------------------------------------------------------------


def test_the_report_replaces_an_old_one_whole(sweep_dir, tmp_path, quick_figures, monkeypatch):
    out = tmp_path / "out" / "r.html"  # missing parents are made
    assert write_report(sweep_dir, out) == out
    first = out.read_text(encoding="utf-8")
    assert "A stand-in." in first
    out.write_text(first.replace("A stand-in.", "An older report."), encoding="utf-8")
    write_report(sweep_dir, out)  # a report relsim wrote is replaced
    assert out.read_text(encoding="utf-8") == first

    def broken(directory):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr("relsim.presentation.report.build_report", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_report(sweep_dir, out)
    assert out.read_text(encoding="utf-8") == first  # untouched by a failed attempt
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.html"]


def one_line_error(capsys, *args):
    code = main(list(args))
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err.strip()


def test_bad_input_is_one_line_naming_the_path(sweep_dir, tmp_path, capsys, quick_figures):
    missing = tmp_path / "nowhere"
    err = one_line_error(capsys, "report", str(missing))
    assert err == (
        f"relsim: {missing}: no such directory (expected a directory written by relsim sweep)"
    )
    run = tmp_path / "run"
    assert (
        main(
            [
                "run",
                "nhs_vmi_partnership",
                "--months",
                "2",
                "--no-figures",
                "--quiet",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert "holds a single run, not a sweep" in one_line_error(capsys, "report", str(run))
    err = one_line_error(capsys, "report", str(sweep_dir), "--out", str(tmp_path / "r.pdf"))
    assert "expected a file name ending in .html" in err
    err = one_line_error(capsys, "report", str(sweep_dir), "--out", str(tmp_path))
    assert f"{tmp_path}: is a directory" in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = one_line_error(capsys, "report", str(sweep_dir), "--out", str(blocker / "r.html"))
    assert f"{blocker / 'r.html'}: cannot write the report" in err
    notes = tmp_path / "notes.html"  # someone's own page is never replaced by a report
    notes.write_text("<html>my notes</html>")
    err = one_line_error(capsys, "report", str(sweep_dir), "--out", str(notes))
    assert err == f"relsim: {notes}: refusing to overwrite: it exists and is not a relsim report"
    assert notes.read_text() == "<html>my notes</html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "notes.html", "run"]


def test_make_run_ends_with_the_report_of_the_headline_sweep():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (headline,) = re.findall(r"^HEADLINE := (.+)$", makefile, re.MULTILINE)
    assert headline == "results/sweeps/governance_comparison"
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines()[1:]]
    assert lines[0] == "$(BIN)/relsim sweep governance_comparison --out $(HEADLINE) --overwrite"
    assert lines[1] == "$(BIN)/relsim report $(HEADLINE)"
    assert lines[-1].startswith("@echo")
    assert "$(HEADLINE)/report.html" in lines[-1]


def test_the_report_shows_when_a_sweep_is_unfinished(sweep_dir, tmp_path, quick_figures):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep_dir, copy)
    manifest = (copy / "manifest.json").read_text()
    (copy / "manifest.json").write_text(manifest.replace('"complete"', '"interrupted"'))
    assert '<p class="warning">This sweep is interrupted' in build_report(copy)


def test_failed_runs_are_flagged_and_left_out(sweep_dir, tmp_path, quick_figures):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep_dir, copy)
    (part,) = (copy / "runs").glob("part-*.parquet")
    schema = pq.read_schema(part)
    runs = pq.read_table(part).to_pandas()
    runs.loc[0, ["status", "error"]] = ["error", "FloatingPointError: boom"]
    pq.write_table(pa.Table.from_pandas(runs, schema=schema, preserve_index=False), part)
    report = build_report(copy)
    assert '<p class="warning">1 runs failed and are left out' in report
    headline = Page(report).tables["headline"]
    mode = runs.loc[0, "governance.mode"]
    column = headline[0].index(mode)
    assert row_of(headline, "disclosures")[column].endswith(f"n = {REPS - 1}")


def test_a_sampled_design_is_described(tmp_path, quick_figures):
    path = tmp_path / "sampled.toml"
    path.write_text(
        """
[experiment]
scenario = "nhs_vmi_partnership"
replications = 1
seed = 5
[base]
"scenario.months" = 12
[sampling]
method = "lhs"
n = 3
[sampling.ranges]
"pressure.baseline" = [0.1, 0.6]
"governance.compact.clause_hours" = [8.0, 24.0]
""",
        encoding="utf-8",
    )
    run_sweep(load_experiment(path), tmp_path / "s", executor=Serial(), progress=Silent())
    report = build_report(tmp_path / "s")
    design = report.split('<section id="design">')[1].split("</section>")[0]
    assert "Latin hypercube (scipy.stats.qmc), base sample size n = 3" in design
    assert "<tr><td><code>pressure.baseline</code></td><td>0.1</td><td>0.6</td></tr>" in design
    assert "<dt>Design points</dt><dd>3 (sampled points)</dd>" in design
    assert "Nothing was varied" not in design
    assert "No grid factor was varied" in report
    assert Page(report).tables["headline"][0] == ["Outcome", "all runs"]


def test_a_generated_system_is_described_by_its_population_not_listed(tmp_path, quick_figures):
    path = tmp_path / "e.toml"
    path.write_text(
        '[experiment]\nscenario = "board_size"\nreplications = 2\n'
        '[base]\n"scenario.months" = 6\n"population.trusts" = 12\n'
    )
    run_sweep(load_experiment(path), tmp_path / "s", executor=Serial(), progress=Silent())
    html = build_report(tmp_path / "s")
    assert "Generated population" in html
    assert "Population seed" in html
    assert ">T007<" not in html  # no row per trust


def test_a_varied_number_of_trusts_is_not_reported_as_the_bases(tmp_path, quick_figures):
    path = tmp_path / "e.toml"
    path.write_text(
        '[experiment]\nscenario = "board_size"\nreplications = 2\n'
        '[base]\n"scenario.months" = 6\n[factors]\n"population.trusts" = [3, 12]\n'
    )
    run_sweep(load_experiment(path), tmp_path / "s", executor=Serial(), progress=Silent())
    html = build_report(tmp_path / "s")
    assert "a regulator and 3 to 12 NHS trusts" in html
    assert "<td>Trusts (unless varied)</td><td>40</td>" in html
    assert "(of 40)" not in html
