"""Sweep figures show what they claim: axes, labels, series, and the data behind each line.

Every expected value is computed here from the sweep's tables, independently of the code that
draws the figure.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib.collections as mcoll
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from relsim import RunResult, simulate
from relsim.analysis.summary import summarize
from relsim.analysis.sweep_data import load_sweep
from relsim.analysis.typical import resimulate, typical_runs
from relsim.cli import main
from relsim.errors import RelsimError
from relsim.presentation.figures import RUN_FIGURES, NamedFigure, save_figure
from relsim.presentation.labels import group_label, stratum_label, trusts_text
from relsim.presentation.plot import plot_directory
from relsim.presentation.sweep_figures import (
    SWEEP_FIGURES,
    adoption_curves_figure,
    outcome_distributions_figure,
    time_to_adoption_figure,
    trust_trajectories_figure,
    typical_heat_maps_figure,
)
from relsim.runs.executors import Serial
from relsim.runs.experiment import load_experiment
from relsim.runs.progress import Silent
from relsim.runs.runner import run_sweep
from relsim.runs.store import read_months

MODES = ["hierarchical", "networked"]
COMPACT = [True, False]
REPS = 6

SMALL = f"""
[experiment]
name = "small comparison"
description = "Does the governance mode change trust and the spread of the heat map?"
scenario = "nhs_vmi_partnership"
replications = {REPS}
seed = 11
[factors]
"governance.mode" = ["hierarchical", "networked"]
"governance.compact.enabled" = [true, false]
"""


def sweep(directory: Path, text: str, name: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    out = directory / name
    run_sweep(load_experiment(path), out, executor=Serial(), progress=Silent())
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """2 modes x 2 compact settings x 6 replications x 60 months, run serially (24 runs)."""
    return sweep(tmp_path_factory.mktemp("figures"), SMALL, "small")


@pytest.fixture(scope="module")
def data(small):
    return load_sweep(small)


@pytest.fixture(scope="module")
def runs(data) -> pd.DataFrame:
    return data.runs


@pytest.fixture(scope="module")
def months(data, runs) -> pd.DataFrame:
    """Each run's monthly series with its design cell."""
    cells = runs[["run_id", "governance.mode", "governance.compact.enabled"]]
    return read_months(data.directory).merge(cells, on="run_id")


@pytest.fixture(scope="module")
def typical(data):
    return typical_runs(data)


def panel_rows(fig, cols):
    """The figure's visible axes with data, as rows of ``cols`` panels (legend axes excluded)."""
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    return [axes[k : k + cols] for k in range(0, len(axes), cols)]


def legend_texts(fig):
    return [t.get_text() for t in fig.legends[0].get_texts()]


def line(ax, label):
    (found,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return found


# --- trust trajectories ----------------------------------------------------------------------


def test_the_figures_group_by_mode_with_the_compact_as_rows(data):
    assert data.group == "governance.mode"
    assert data.strata == ("governance.compact.enabled",)
    assert data.pooled == ()
    rows = data.cells()
    assert [[group_label(data, c.group) for c in row] for row in rows] == [MODES, MODES]
    assert [stratum_label(row[0].stratum) for row in rows] == [
        "compact.enabled = true",
        "compact.enabled = false",
    ]
    assert all(c.run_ids.size == REPS for row in rows for c in row)


def test_trust_trajectories_draw_the_median_and_two_bands_per_mode(data, months):
    fig = trust_trajectories_figure(data)
    rows = panel_rows(fig, 3)
    assert len(rows) == 2
    measures = ["mean_trust_in_regulator", "mean_regulator_trust", "mean_peer_trust"]
    titles = ["Trusts' trust in the regulator", "Regulator's trust in trusts", "Trust among trusts"]
    for compact, row in zip(COMPACT, rows, strict=True):
        for measure, title, ax in zip(measures, titles, row, strict=True):
            assert ax.get_title() == f"{title}\ncompact.enabled = {str(compact).lower()}"
            assert [ln.get_label() for ln in ax.get_lines()] == MODES
            bands = [c for c in ax.collections if isinstance(c, mcoll.PolyCollection)]
            assert len(bands) == 2 * len(MODES)  # 90% and 50% of runs, per mode
            for mode in MODES:
                cell = months[
                    (months["governance.mode"] == mode)
                    & (months["governance.compact.enabled"] == compact)
                ]
                median = cell.groupby("month")[measure].median()
                drawn = line(ax, mode)
                np.testing.assert_array_equal(drawn.get_xdata(), median.index.to_numpy())
                np.testing.assert_allclose(drawn.get_ydata(), median.to_numpy())
            assert ax.get_ylim() == (0, 1)
    assert rows[0][0].get_ylabel() == "Trust (0 = none, 1 = complete)"
    assert [ax.get_xlabel() for ax in rows[-1]] == ["Month"] * 3
    assert legend_texts(fig) == [*MODES, "middle 50% of runs", "middle 90% of runs"]
    title = fig.get_suptitle()
    assert "hierarchical vs networked" in title
    assert f"median of {REPS} runs per line" in title


def test_the_bands_hold_the_middle_half_of_runs(data, months):
    fig = trust_trajectories_figure(data)
    ax = panel_rows(fig, 3)[0][0]
    cell = months[(months["governance.mode"] == "networked") & months["governance.compact.enabled"]]
    q25 = cell.groupby("month")["mean_trust_in_regulator"].quantile(0.25).to_numpy()
    q75 = cell.groupby("month")["mean_trust_in_regulator"].quantile(0.75).to_numpy()
    bands = [c for c in ax.collections if isinstance(c, mcoll.PolyCollection)]
    # fill_between draws, per mode, the 90% band then the 50% band: networked's 50% is last.
    ys = bands[3].get_paths()[0].vertices[:, 1]
    assert np.isin(np.round(q25, 12), np.round(ys, 12)).all()
    assert np.isin(np.round(q75, 12), np.round(ys, 12)).all()


# --- adoption --------------------------------------------------------------------------------


def test_adoption_curves_show_the_mean_share_of_trusts_per_practice_and_mode(data, months):
    fig = adoption_curves_figure(data)
    rows = panel_rows(fig, 3)
    practices = data.scenario.practices
    assert len(rows) == 2
    for compact, row in zip(COMPACT, rows, strict=True):
        for practice, ax in zip(practices, row, strict=True):
            label = practice.name.replace("_", " ")
            assert ax.get_title().startswith(
                f"{label}\nintroduced month {practice.introduced_month}"
            )
            for mode in MODES:
                cell = months[
                    (months["governance.mode"] == mode)
                    & (months["governance.compact.enabled"] == compact)
                ]
                share = cell.groupby("month")[f"adopters_{practice.name}"].mean() / 5
                np.testing.assert_allclose(line(ax, mode).get_ydata(), share.to_numpy())
            introduced = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
            assert [list(ln.get_xdata()) for ln in introduced] == [[practice.introduced_month] * 2]
    assert rows[0][0].get_ylabel() == "Share of trusts that have adopted"
    assert rows[-1][0].get_xlabel() == "Month"
    assert legend_texts(fig) == [*MODES, "95% interval of the mean", "practice introduced"]
    assert fig.get_suptitle().startswith(
        "Spread of improvement practices: hierarchical vs networked"
    )


# --- time to full adoption -------------------------------------------------------------------


def kaplan_meier(times: np.ndarray, observed: np.ndarray) -> dict[float, float]:
    """The product-limit estimate at each event time, written out by hand."""
    survival, out = 1.0, {}
    for t in np.unique(times[observed]):
        at_risk = np.sum(times >= t)
        events = np.sum((times == t) & observed)
        survival *= 1 - events / at_risk
        out[float(t)] = survival
    return out


def test_survival_curves_are_kaplan_meier_with_censoring_at_the_horizon(data, runs):
    fig = time_to_adoption_figure(data)
    rows = panel_rows(fig, 3)
    summary = summarize(data.directory).cells.set_index(
        ["governance.mode", "governance.compact.enabled", "outcome"]
    )
    checked_events = 0
    for compact, row in zip(COMPACT, rows, strict=True):
        for practice, ax in zip(data.scenario.practices, row, strict=True):
            assert ax.get_xlabel() in ("", "Months since the practice was introduced")
            for mode in MODES:
                cell = runs[
                    (runs["governance.mode"] == mode)
                    & (runs["governance.compact.enabled"] == compact)
                ]
                month = cell[f"full_adoption_month_{practice.name}"].to_numpy(float)
                observed = ~np.isnan(month)
                times = np.where(observed, month, 60.0) - practice.introduced_month
                expected = kaplan_meier(times, observed)
                (drawn,) = [ln for ln in ax.get_lines() if ln.get_label().startswith(mode)]
                assert drawn.get_label() == f"{mode} ({observed.sum()} of {REPS} reached all)"
                x, y = drawn.get_xdata(), drawn.get_ydata()
                assert y[0] == 1.0
                for t, s in expected.items():
                    assert y[np.flatnonzero(x == t)[0]] == pytest.approx(s)
                checked_events += len(expected)
                # The curve crosses one half where the summary's Kaplan-Meier median is.
                below = x[np.flatnonzero(y <= 0.5)]
                median = summary.loc[
                    (mode, compact, f"months_to_full_adoption_{practice.name}"), "estimate"
                ]
                if below.size:
                    assert below[0] == median
                else:
                    assert np.isnan(median)
    assert checked_events > 0, "the small sweep should see some practice reach every trust"
    assert rows[0][0].get_ylabel() == "Share of runs not yet adopted by all"
    assert legend_texts(fig) == [*MODES, "95% pointwise interval", "half the runs"]
    assert "censored at the horizon" in fig.get_suptitle()


# --- typical runs and their heat maps --------------------------------------------------------


def test_the_typical_run_is_the_one_closest_to_its_cells_median(data, runs, typical):
    outcomes = [
        "trust_in_regulator_final",
        "regulator_trust_final",
        "peer_trust_final",
        "capability_final",
        "disclosures",
        "surprises",
        *(f"adopters_final_{p}" for p in data.scenario.practice_names),
    ]
    assert len(typical) == 4
    for chosen in typical:
        cell = runs[runs["run_id"].isin(chosen.cell.run_ids)].sort_values("run_id")
        distance = np.zeros(len(cell))
        for outcome in outcomes:
            sd = runs[outcome].std(ddof=0)
            if sd > 0:
                distance += (cell[outcome] - cell[outcome].median()).abs().to_numpy() / sd
        assert chosen.run_id == cell["run_id"].iloc[int(np.argmin(distance))]


def test_a_typical_run_re_simulated_equals_the_stored_series(data, typical):
    for chosen in typical:
        assert chosen.reproduced
        months = read_months(data.directory)
        stored = months[months["run_id"] == chosen.run_id].drop(columns="run_id")
        pd.testing.assert_frame_equal(
            chosen.result.months.reset_index(drop=True),
            stored.reset_index(drop=True),
            check_exact=True,  # bit for bit, not within a tolerance
        )
        row = data.runs.set_index("run_id").loc[chosen.run_id]
        assert chosen.seed == row["seed"]
        assert chosen.result.scenario.governance.mode == row["governance.mode"]
        assert (
            chosen.result.scenario.governance.compact.enabled == row["governance.compact.enabled"]
        )


def test_a_changed_series_is_noticed(data, monkeypatch):
    run_id = int(data.runs["run_id"].iloc[0])
    real = simulate

    def shifted(scenario, seed):
        result = real(scenario, seed=seed)
        result.months.loc[3, "mean_peer_trust"] += 1e-9
        return result

    monkeypatch.setattr("relsim.analysis.typical.simulate", shifted)
    _, same = resimulate(data, run_id)
    assert not same


def test_heat_maps_show_departments_by_months_for_each_trust_of_each_typical_run(data, typical):
    fig = typical_heat_maps_figure(data, typical)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == len(typical) * 5
    assert [ax.get_title() for ax in panels[:5]] == [
        f"{t.name} (readiness {t.readiness:.2f})" for t in data.scenario.trusts
    ]
    for r, chosen in enumerate(typical):
        first = panels[5 * r]
        assert first.get_ylabel().endswith(f"run {chosen.run_id}: department")
        assert group_label(data, chosen.cell.group) in first.get_ylabel()
        for c, name in enumerate(data.scenario.trust_names):
            grid = panels[5 * r + c].get_images()[0].get_array()
            assert grid.shape == (12, 61)  # departments x months
            cov = chosen.result.coverage
            expected = cov[cov["trust"] == name].pivot(
                index="department", columns="month", values="coverage"
            )
            np.testing.assert_allclose(grid, expected.to_numpy())
    assert [ax.get_xlabel() for ax in panels[-5:]] == ["Month"] * 5
    assert any(ax.get_ylabel() == "Share of department staff trained" for ax in fig.axes)
    assert "typical run per cell" in fig.get_suptitle()


# --- outcome distributions -------------------------------------------------------------------


def test_outcome_distributions_have_one_box_per_cell_with_its_median(data, runs):
    fig = outcome_distributions_figure(data)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.get_title().replace("\n", " ") for ax in panels]
    assert "Trusts' trust in the regulator at the end (0–1)" in titles
    assert "Problems disclosed over the run (count)" in titles
    assert "Trusts using the training heat map at the end (of 5)" in titles
    assert len(panels) == 7 + 3  # seven outcomes and one per practice
    ax = panels[titles.index("Problems disclosed over the run (count)")]
    assert ax.get_ylabel() == "Count over the run"
    assert len(ax.patches) == 4  # boxes: two modes x two compact settings
    # Boxes go stratum by stratum (compact true, then false), mode by mode within.
    medians = {
        ln.get_label(): ln.get_ydata()[0]
        for ln in ax.get_lines()
        if ln.get_label().startswith("_median")
    }
    expected = {
        f"_median {m} · compact.enabled = {str(c).lower()}": runs[
            (runs["governance.mode"] == m) & (runs["governance.compact.enabled"] == c)
        ]["disclosures"].median()
        for c in COMPACT
        for m in MODES
    }
    assert medians == pytest.approx(expected)
    means = line(ax, "mean")
    np.testing.assert_allclose(
        means.get_ydata(),
        [
            runs[(runs["governance.mode"] == m) & (runs["governance.compact.enabled"] == c)][
                "disclosures"
            ].mean()
            for c in COMPACT
            for m in MODES
        ],
    )
    assert [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()] == [
        "compact.enabled = true",
        "compact.enabled = false",
    ]
    assert legend_texts(fig) == [*MODES, "median", "mean"]


# --- grouping without a mode factor ----------------------------------------------------------


def test_without_a_mode_factor_the_first_grid_factor_groups_and_without_a_grid_all_runs(
    tmp_path,
):
    grid = sweep(
        tmp_path,
        """
[experiment]
scenario = "nhs_vmi_partnership"
replications = 2
seed = 1
[base]
"scenario.months" = 12
[factors]
"governance.compact.enabled" = [true, false]
""",
        "grid",
    )
    data = load_sweep(grid)
    assert (data.group, data.strata) == ("governance.compact.enabled", ())
    fig = trust_trajectories_figure(data)
    assert legend_texts(fig)[:2] == ["compact.enabled = true", "compact.enabled = false"]
    sampled = sweep(
        tmp_path,
        """
[experiment]
scenario = "nhs_vmi_partnership"
replications = 1
seed = 1
[base]
"scenario.months" = 12
[sampling]
method = "lhs"
n = 3
[sampling.ranges]
"pressure.baseline" = [0.1, 0.6]
""",
        "sampled",
    )
    data = load_sweep(sampled)
    assert (data.group, data.strata, data.pooled) == (None, (), ("pressure.baseline",))
    fig = trust_trajectories_figure(data)
    assert legend_texts(fig)[0] == "all runs"
    assert "pooled over pressure.baseline" in fig.get_suptitle()
    (chosen,) = typical_runs(data)
    assert chosen.reproduced  # a sampled point's values are found again from the runs table


# --- writing ---------------------------------------------------------------------------------


def test_plot_writes_png_and_svg_of_every_figure_with_a_manifest(small, capsys):
    assert main(["plot", str(small)]) == 0
    out = small / "figures"  # the default
    assert f"wrote 10 files to {out}/" in capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    expected = sorted(f"{stem}.{fmt}" for stem in SWEEP_FIGURES for fmt in ("png", "svg"))
    assert names == sorted([*expected, "manifest.json"])
    assert (out / "trust_trajectories.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (out / "trust_trajectories.svg").read_bytes()[:1000]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["relsim"] == "figures"
    assert set(manifest["figures"]) == set(SWEEP_FIGURES)
    assert "re-simulated run reproduces" in manifest["figures"]["typical_heat_maps"]


def test_a_figures_directory_is_replaced_whole(small, tmp_path, monkeypatch):
    # Only the directory handling is under test here: one small figure stands in for the rest.
    monkeypatch.setattr(
        "relsim.presentation.plot.sweep_figures",
        lambda data: [NamedFigure("only", Figure(figsize=(1, 1)), "a stand-in")],
    )
    out = tmp_path / "figs"
    target, written = plot_directory(small, out, formats=("png",))
    assert (target, written) == (out, [out / "only.png"])
    plot_directory(small, out, formats=("svg",))  # the older plot's only.png goes with it
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "only.svg"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries
    (out / "mine.png").write_text("a user's file, never deleted")
    with pytest.raises(RelsimError, match=r"mine\.png\); the new figures is in .*figs\.new-1"):
        plot_directory(small, out, formats=("png",))
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "mine.png", "only.svg"]


def test_svg_output_is_deterministic(data, tmp_path):
    fig = trust_trajectories_figure(data)
    save_figure(fig, tmp_path / "a.svg")
    save_figure(trust_trajectories_figure(data), tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_plot_of_a_run_directory_redraws_the_run_figures(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", "nhs_vmi_partnership", "--months", "12", "--out", str(run), "--quiet"]) == 0
    loaded = RunResult.load(run)
    direct = simulate("nhs_vmi_partnership", seed=1, months=12)
    for table in ("months", "trusts", "coverage", "relationships"):
        pd.testing.assert_frame_equal(
            getattr(loaded, table), getattr(direct, table), check_dtype=False, rtol=1e-7
        )
    assert main(["plot", str(run)]) == 0
    names = sorted(p.name for p in (run / "figures").iterdir())
    assert names == sorted(
        [*(f"{s}.{f}" for s in RUN_FIGURES for f in ("png", "svg")), "manifest.json"]
    )
    assert "wrote 8 files" in capsys.readouterr().out


# --- bad input -------------------------------------------------------------------------------


def one_line_error(capsys, *args):
    code = main(list(args))
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def test_a_missing_directory_is_named(tmp_path, capsys):
    err = one_line_error(capsys, "plot", str(tmp_path / "nowhere"))
    assert f"{tmp_path / 'nowhere'}: no such directory" in err
    assert "relsim sweep or relsim run" in err


def test_a_directory_relsim_did_not_write_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    err = one_line_error(capsys, "plot", str(tmp_path))
    assert "not a relsim sweep or run directory" in err
    assert not (tmp_path / "figures").exists()


def test_figures_never_replace_the_sweep_itself_or_a_foreign_directory(small, tmp_path, capsys):
    before = sorted(p.name for p in small.iterdir())
    err = one_line_error(capsys, "plot", str(small), "--out", str(small))
    assert "refusing to write figures here" in err
    assert sorted(p.name for p in small.iterdir()) == before
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("keep")
    one_line_error(capsys, "plot", str(small), "--out", str(foreign))
    assert [p.name for p in foreign.iterdir()] == ["keep.txt"]


def test_an_unwritable_figures_directory_is_one_line_and_leaves_nothing(small, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = one_line_error(capsys, "plot", str(small), "--out", str(blocker / "figs"))
    assert str(blocker / "figs") in err
    assert "cannot create" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_the_model_never_imports_figures_or_reports():
    code = (
        "import sys, relsim\n"
        "from relsim.model.mesa_model import RegulationModel\n"
        "RegulationModel('nhs_vmi_partnership', rng=1).run_model()\n"
        "print(sorted(m for m in sys.modules if m in "
        "('relsim.presentation.sweep_figures', 'relsim.presentation.report',"
        " 'relsim.presentation.figures', 'relsim.presentation.plot',"
        " 'relsim.presentation.labels')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_practice_introduced_after_the_horizon_is_said_to_be_not_introduced(tmp_path):
    """Months 0-12 and a heat map introduced in month 18: no run could adopt it."""
    path = tmp_path / "short.toml"
    path.write_text(
        '[experiment]\nname = "short"\nscenario = "nhs_vmi_partnership"\nreplications = 2\n'
        'seed = 3\n[base]\n"scenario.months" = 12\n'
        '[factors]\n"governance.mode" = ["hierarchical", "networked"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    run_sweep(load_experiment(path), out, executor=Serial(), progress=Silent())
    cells = summarize(out).cells
    heat = cells[
        cells["outcome"].isin(
            ["reached_all_training_heat_map", "months_to_full_adoption_training_heat_map"]
        )
    ]
    assert len(heat) == 4  # two statistics in each of two cells
    assert (heat["n"] == 0).all()
    assert heat["estimate"].isna().all()
    huddles = cells[cells["outcome"] == "reached_all_daily_huddles"]  # introduced in month 6
    assert (huddles["n"] == 2).all()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no degenerate axis limits
        fig = time_to_adoption_figure(load_sweep(out))
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert sum("introduced at or after the horizon" in t for t in texts) == 2  # heat map, RIW
    assert main(["summarize", str(out)]) == 0


def test_a_varied_introduction_month_is_each_runs_own(tmp_path):
    """With introduction in month 2 or 20 over 12 months, only the month-2 cell counts."""
    path = tmp_path / "intro.toml"
    path.write_text(
        '[experiment]\nname = "intro"\nscenario = "nhs_vmi_partnership"\nreplications = 2\n'
        'seed = 3\n[base]\n"scenario.months" = 12\n'
        '[factors]\n"practices[1].introduced_month" = [2, 20]\n',
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    run_sweep(load_experiment(path), out, executor=Serial(), progress=Silent())
    cells = summarize(out).cells
    share = cells[cells["outcome"] == "reached_all_daily_huddles"].set_index(
        "practices[1].introduced_month"
    )["n"]
    assert share.to_dict() == {2: 2, 20: 0}
    data = load_sweep(out)
    late = data.runs.loc[data.runs["practices[1].introduced_month"] == 20, "run_id"].to_numpy()
    early = data.runs.loc[data.runs["practices[1].introduced_month"] == 2, "run_id"].to_numpy()
    times, _, end, _seeds = data.time_to_full_adoption(early, "daily_huddles")
    assert end == 10
    assert (times >= 0).all()
    assert (times <= 10).all()
    assert data.time_to_full_adoption(late, "daily_huddles").end == 0


def test_a_varied_number_of_trusts_is_each_runs_own(tmp_path):
    """population.trusts as a factor: shares are of each run's trusts, labels say so.

    The figures once divided every run's adopters by the base scenario's 40 trusts, so a
    three-trust board whose origin trust alone used a practice showed 1/40 instead of 1/3.
    """
    text = (
        '[experiment]\nname = "size"\nscenario = "board_size"\nreplications = 2\nseed = 3\n'
        '[base]\n"scenario.months" = 8\n[factors]\n"governance.mode" = ["networked"]\n'
        '"population.trusts" = [3, 12]\n'
    )
    data = load_sweep(sweep(tmp_path, text, "size"))
    assert data.n_trusts == 40  # the base scenario's
    expected = data.runs.set_index("run_id")["population.trusts"]
    np.testing.assert_array_equal(data.trust_count(expected.index.to_numpy()), expected)
    assert data.common_trusts is None
    assert trusts_text(data) == "3 to 12"

    fig = adoption_curves_figure(data)
    months = read_months(data.directory).merge(
        data.runs[["run_id", "population.trusts"]], on="run_id"
    )
    practice = data.scenario.practices[1]  # daily huddles, introduced in month 6
    for size, row in zip([3, 12], panel_rows(fig, 3), strict=True):
        cell = months[months["population.trusts"] == size]
        share = cell.groupby("month")[f"adopters_{practice.name}"].mean() / size
        np.testing.assert_allclose(line(row[1], "networked").get_ydata(), share.to_numpy())
        assert share.max() >= 1 / size  # the origin trust at least, counted against its run

    typical = typical_runs(data)
    heat = typical_heat_maps_figure(data, typical)
    drawn = [len([ax for ax in heat.axes if ax.get_images()])]
    assert drawn == [3 + 6]  # three trusts in the small run's row, the first six in the other
    assert "(3 trusts in this run)" in [t.get_text() for ax in heat.axes for t in ax.texts]

    boxes = outcome_distributions_figure(data)
    titles = " ".join(ax.get_title().replace("\n", " ") for ax in boxes.axes)
    assert "(of all)" in titles
    assert "(of 40)" not in titles


def test_a_factor_with_more_levels_than_rows_is_compared_not_pooled(tmp_path):
    """Five pressure levels would be pooled as rows (at most four): they become the colours,
    and the governance modes the rows."""
    text = (
        '[experiment]\nname = "wide"\nscenario = "nhs_vmi_partnership"\nreplications = 2\n'
        'seed = 3\n[base]\n"scenario.months" = 6\n[factors]\n'
        '"governance.mode" = ["hierarchical", "networked"]\n'
        '"pressure.baseline" = [0.1, 0.2, 0.3, 0.4, 0.5]\n'
    )
    data = load_sweep(sweep(tmp_path, text, "wide"))
    assert (data.group, data.strata, data.pooled) == ("pressure.baseline", ("governance.mode",), ())
    cells = data.cells()
    assert [stratum_label(row[0].stratum) for row in cells] == [
        "governance.mode = hierarchical",
        "governance.mode = networked",
    ]
    assert [len(row) for row in cells] == [5, 5]
    assert "pooled" not in trust_trajectories_figure(data).get_suptitle()


# --- legible for long factor names, coloured by any factor -----------------------------------

LONG = """
[experiment]
scenario = "nhs_vmi_partnership"
replications = 2
seed = 9
[base]
"scenario.months" = 24
[factors]
"governance.mode" = ["hierarchical", "networked"]
"trust_dynamics.initial_peer_trust" = [0.2, 0.3, 0.4, 0.5]
"""


def _overlapping_ticks(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of x tick labels that overlap as drawn, in any axes of the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()
    pairs = []
    for ax in fig.axes:
        labels = [t for t in ax.get_xticklabels() if t.get_text() and t.get_visible()]
        boxes = sorted(
            ((t.get_window_extent(renderer), t.get_text()) for t in labels), key=lambda b: b[0].x0
        )
        pairs += [(a[1], b[1]) for a, b in itertools.pairwise(boxes) if a[0].x1 > b[0].x0]
    return pairs


@pytest.fixture(scope="module")
def long_names(tmp_path_factory) -> Path:
    """A long dotted factor with four levels (rows of panels) beside the mode: 16 runs."""
    return sweep(tmp_path_factory.mktemp("long"), LONG, "long")


def test_no_tick_labels_overlap_with_long_factor_names(long_names):
    # The box plots label each row of panels by its factor's level, under its boxes.
    assert _overlapping_ticks(outcome_distributions_figure(load_sweep(long_names))) == []


def test_figures_can_be_coloured_by_any_grid_factor(long_names, tmp_path):
    data = load_sweep(long_names, "trust_dynamics.initial_peer_trust")
    assert data.group == "trust_dynamics.initial_peer_trust"
    assert data.strata == ("governance.mode",)
    assert group_label(data, 0.3) == "trust_dynamics.initial_peer_trust = 0.3"
    assert _overlapping_ticks(outcome_distributions_figure(data)) == []
    code = main(
        ["plot", str(long_names), "--colour-by", "scenario.months", "--out", str(tmp_path / "f")]
    )
    assert code == 2  # not a grid factor: one line, nothing written
    assert not (tmp_path / "f").exists()


def test_the_band_of_a_mean_share_stays_within_0_and_1(long_names):
    # Two runs per line: the t interval of a mean share near 0 or 1 reaches far past them.
    fig = adoption_curves_figure(load_sweep(long_names))
    bands = [c for ax in fig.axes for c in ax.collections if isinstance(c, mcoll.PolyCollection)]
    assert bands
    for band in bands:
        y = np.concatenate([path.vertices[:, 1] for path in band.get_paths()])
        assert y.min() >= 0.0
        assert y.max() <= 1.0
