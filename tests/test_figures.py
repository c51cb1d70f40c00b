"""Each run figure shows what it claims: axes, labels, series and titles."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from relsim import load_scenario, simulate
from relsim.presentation.figures import (
    RUN_FIGURES,
    adoption_figure,
    heat_map_figure,
    network_figure,
    save_run_figures,
    trust_figure,
)


@cache
def result():
    return simulate(load_scenario("nhs_vmi_partnership"), seed=2)


def test_trust_figure_plots_the_three_mean_series_against_months():
    fig = trust_figure(result())
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    for label in (
        "trusts' trust in the regulator (mean)",
        "regulator's trust in trusts (mean)",
        "trust among trusts (mean)",
    ):
        assert label in labels
    mean_line = ax.get_lines()[labels.index("trusts' trust in the regulator (mean)")]
    np.testing.assert_allclose(mean_line.get_ydata(), result().months["mean_trust_in_regulator"])
    assert ax.get_xlabel() == "Month"
    assert "Trust" in ax.get_ylabel()
    assert ax.get_ylim() == (0, 1)
    assert "NHS–VMI" in ax.get_title()
    assert "seed 2" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "compact in force" in legend  # the compact came into force in this run


def test_adoption_figure_has_one_step_series_per_practice():
    fig = adoption_figure(result())
    (ax,) = fig.axes
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [p.replace("_", " ") for p in result().scenario.practice_names]
    heat = next(line for line in ax.get_lines() if line.get_label() == "training heat map")
    np.testing.assert_array_equal(heat.get_ydata(), result().months["adopters_training_heat_map"])
    assert ax.get_xlabel() == "Month"
    assert "of 5" in ax.get_ylabel()


def test_heat_map_figure_shows_departments_by_months_for_each_trust():
    fig = heat_map_figure(result())
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 5
    assert [ax.get_title().split(" (")[0] for ax in panels] == list(result().scenario.trust_names)
    grid = panels[0].get_images()[0].get_array()
    assert grid.shape == (12, 61)  # departments x months
    cov = result().coverage
    expected = cov[(cov.trust == "Trust A") & (cov.month == 60)].sort_values("department")
    np.testing.assert_allclose(grid[:, 60], expected["coverage"])
    colorbar = [ax for ax in fig.axes if ax.get_ylabel() == "Share of department staff trained"]
    assert colorbar, "the colour scale is labelled"


def test_network_figure_draws_every_actor_and_pair():
    fig = network_figure(result())
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert texts == {"regulator", *result().scenario.trust_names}
    assert "month 60" in ax.get_title()
    # 6 actors: 30 directed edges, drawn as arrows.
    assert len(ax.patches) == 30


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_saving_writes_one_file_per_figure_and_is_reproducible(tmp_path, fmt):
    first = save_run_figures(result(), tmp_path, formats=(fmt,))
    assert sorted(p.stem for p in first) == sorted(RUN_FIGURES)
    data = {p.name: p.read_bytes() for p in first}
    again = tmp_path / "again"
    again.mkdir()
    second = save_run_figures(result(), again, formats=(fmt,))
    assert {p.name: p.read_bytes() for p in second} == data
