"""The training heat map view: where one trust's trained staff are, department by month.

Each row is a department and each column a month; the colour is the share of the department's
staff trained, from dark blue (few) to yellow (many), on the cividis scale the run figures use.
A rule marks the month the trust began to use the practice that steers training to the
least-trained departments (the "training heat map" of the NHS–VMI case), after which the dark
rows should catch up. In overlay mode (presentation, twin) one map shows the difference between
the two panels instead, on a diverging scale.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import altair as alt
import numpy as np

from relsim.dashboard.charts import DATA, event_layers
from relsim.dashboard.widget import Columns, Template

if TYPE_CHECKING:
    from relsim.model.mesa_model import RegulationModel

#: Coverage at which the colour saturates: the model counts a department as fully capable at
#: 0.3 (c*), and coverage rarely passes 0.5 in five years.
HEAT_MAX = 0.5
#: The difference map's range, either way.
DIFFERENCE_MAX = 0.25


def adoption_month(panel: RegulationModel, trust: int) -> int | None:
    """The month trust ``trust`` began to use a practice that steers training (None: not yet)."""
    history = panel.history
    months = history.months_recorded
    for k, practice in enumerate(panel.config.practices):
        if practice.targets_training:
            using = np.flatnonzero(history.adoption[:months, trust, k] > 0)
            if using.size:
                return int(using[0])
    return None


def coverage_columns(panels: list[RegulationModel], trust: int) -> Columns:
    """The heat map of one panel, or the difference of two (first minus second)."""
    months = panels[0].history.months_recorded
    grid = panels[0].history.coverage[:months, trust, :]
    if len(panels) == 2:
        grid = grid - panels[1].history.coverage[:months, trust, :]
    m, d = grid.shape
    return {
        "month": np.repeat(np.arange(m), d).tolist(),
        "department": np.tile(np.arange(1, d + 1), m).tolist(),
        "coverage": np.round(grid, 4).reshape(-1).tolist(),
    }


@cache
def heat_template(horizon: int, departments: int, difference: bool) -> Template:
    """Departments (rows) by months (columns), with the events' rules on top."""
    if difference:
        colour = alt.Color(
            "coverage:Q",
            title="more staff trained in the first run (blue: in the second)",
            scale=alt.Scale(
                scheme="blueorange",
                domain=[-DIFFERENCE_MAX, DIFFERENCE_MAX],
                reverse=True,
                clamp=True,
            ),
            legend=alt.Legend(format="+.0%", gradientLength=220),
        )
    else:
        colour = alt.Color(
            "coverage:Q",
            title="staff trained",
            scale=alt.Scale(scheme="cividis", domain=[0, HEAT_MAX], clamp=True),
            legend=alt.Legend(format="%", gradientLength=220),
        )
    cells = (
        alt.Chart(alt.NamedData(name=DATA))
        .transform_calculate(end="datum.month + 1")
        .mark_rect()
        .encode(
            x=alt.X(
                "month:Q",
                title="Month",
                scale=alt.Scale(domain=[0, horizon + 1], nice=False),
            ),
            x2="end:Q",
            y=alt.Y(
                "department:O",
                title="Department",
                sort="descending",
                axis=alt.Axis(values=[1, departments]),
            ),
            color=colour,
            tooltip=[
                alt.Tooltip("month:Q"),
                alt.Tooltip("department:O"),
                alt.Tooltip("coverage:Q", format=".0%", title="staff trained"),
            ],
        )
    )
    return Template.of(alt.layer(cells, *event_layers(horizon + 1)))
