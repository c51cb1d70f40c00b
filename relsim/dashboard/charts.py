"""The dashboard's charts as Vega-Lite specifications, drawn from what the model recorded.

Each view has two halves: a *template* (the chart's marks, encodings and scales, written with
Altair) and *records* (the rows it plots, read from ``model.datacollector`` and
``model.history``). Altair validates a chart against the Vega-Lite schema when it turns it into
a specification, which takes about ten milliseconds a chart; a template is therefore built and
validated once per shape (single or twin, number of trusts) and cached, and each redraw only
attaches fresh records to it as a named dataset. The browser draws the result (Vega-Lite in the
page), so one step and its redraw stay within the 100 ms a lecture can tolerate.

Records carry a ``run`` column (the panel's label); in twin mode every chart is faceted by it,
so the two governance rules stand side by side on the same scales.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np

from relsim.model.columns import FIELD
from relsim.presentation.figures import OKABE_ITO

if TYPE_CHECKING:
    from relsim.dashboard.demo import DemoModel
    from relsim.model.mesa_model import RegulationModel

Records = list[dict[str, Any]]
Spec = dict[str, Any]

#: Name of the dataset every template plots.
DATA = "table"
#: Width of one panel's chart, alone or beside its twin (pixels).
WIDTH = {False: 430, True: 250}
HEIGHT = 210
#: Coverage at which the heat map's colour saturates: the model counts a department as fully
#: capable at 0.3 (c*), and coverage rarely passes 0.5 in five years.
HEAT_MAX = 0.5

TRUST_SERIES = {
    "mean_trust_in_regulator": ("trusts → regulator", OKABE_ITO["blue"]),
    "mean_regulator_trust": ("regulator → trusts", OKABE_ITO["orange"]),
    "mean_peer_trust": ("among trusts", OKABE_ITO["green"]),
}
EACH_TRUST = "each trust → regulator"
EVENTS = {
    "disclosures": ("told early", OKABE_ITO["blue"]),
    "surprises": ("surprises", OKABE_ITO["vermillion"]),
}


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------


def _finish(chart: Any, twin: bool, order: tuple[str, ...]) -> Spec:
    """Facet by run in twin mode, validate once, and return a plain specification."""
    if twin:
        chart = chart.facet(column=alt.Column("run:N", title=None, sort=list(order)))
    spec = chart.to_dict()
    # Solara's page loads Vega-Lite 5; the features used here are the same in 5 and 6, and
    # without a $schema Vega-Embed compiles the spec with the Vega-Lite it has.
    spec.pop("$schema", None)
    return spec


def _months_axis(horizon: int) -> alt.X:
    # A fixed axis to the horizon: time visibly advances to the right as the run goes on.
    return alt.X("month:Q", title="Month", scale=alt.Scale(domain=[0, horizon], nice=False))


@cache
def trust_template(twin: bool, order: tuple[str, ...], horizon: int) -> Spec:
    """Mean trust in three directions over time, with each trust's trust in the regulator."""
    base = alt.Chart(alt.NamedData(name=DATA)).properties(width=WIDTH[twin], height=HEIGHT)
    y = alt.Y("value:Q", title="Trust (0 none, 1 complete)", scale=alt.Scale(domain=[0, 1]))
    each = (
        base.transform_filter(alt.datum.series == EACH_TRUST)
        .mark_line(strokeWidth=0.8, opacity=0.45, color=OKABE_ITO["sky"])
        .encode(x=_months_axis(horizon), y=y, detail="trust:N")
    )
    names = [label for label, _ in TRUST_SERIES.values()]
    colours = [colour for _, colour in TRUST_SERIES.values()]
    means = (
        base.transform_filter(alt.datum.series != EACH_TRUST)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=_months_axis(horizon),
            y=y,
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=names, range=colours),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["run:N", "month:Q", "series:N", alt.Tooltip("value:Q", format=".2f")],
        )
    )
    return _finish(alt.layer(each, means), twin, order)


@cache
def adoption_template(
    twin: bool, order: tuple[str, ...], horizon: int, trusts: int, practices: tuple[str, ...]
) -> Spec:
    """Trusts using each practice, month by month."""
    colours = [
        OKABE_ITO[c] for c in ("vermillion", "blue", "green", "purple", "orange", "sky", "black")
    ]
    chart = (
        alt.Chart(alt.NamedData(name=DATA))
        .mark_line(interpolate="step-after", strokeWidth=2.5)
        .encode(
            x=_months_axis(horizon),
            y=alt.Y(
                "adopters:Q",
                title=f"Trusts using it (of {trusts})",
                scale=alt.Scale(domain=[0, trusts]),
            ),
            color=alt.Color(
                "practice:N",
                title=None,
                scale=alt.Scale(domain=list(practices), range=colours[: len(practices)]),
                legend=alt.Legend(orient="bottom", columns=2),
            ),
            tooltip=["run:N", "month:Q", "practice:N", "adopters:Q"],
        )
        .properties(width=WIDTH[twin], height=HEIGHT)
    )
    return _finish(chart, twin, order)


@cache
def heat_template(twin: bool, order: tuple[str, ...], horizon: int, departments: int) -> Spec:
    """One trust's training coverage: departments (rows) by months (columns)."""
    chart = (
        alt.Chart(alt.NamedData(name=DATA))
        .mark_rect()  # cividis, as the run figures' heat map (presentation.figures.HEAT_CMAP)
        .encode(
            x=alt.X("month:Q", title="Month", scale=alt.Scale(domain=[0, horizon + 1], nice=False)),
            x2="month_end:Q",
            y=alt.Y(
                "department:O",
                title="Department",
                sort="descending",
                axis=alt.Axis(values=[1, departments]),
            ),
            color=alt.Color(
                "coverage:Q",
                title="staff trained",
                scale=alt.Scale(scheme="cividis", domain=[0, HEAT_MAX], clamp=True),
                legend=alt.Legend(format="%", orient="bottom", gradientLength=160),
            ),
            tooltip=[
                "run:N",
                "month:Q",
                "department:O",
                alt.Tooltip("coverage:Q", format=".0%", title="staff trained"),
            ],
        )
        .properties(width=WIDTH[twin], height=HEIGHT)
    )
    return _finish(chart, twin, order)


@cache
def events_template(twin: bool, order: tuple[str, ...], horizon: int) -> Spec:
    """Problems told early and surprises each month, stacked."""
    names = [label for label, _ in EVENTS.values()]
    colours = [colour for _, colour in EVENTS.values()]
    chart = (
        alt.Chart(alt.NamedData(name=DATA))
        .mark_bar()
        .encode(
            x=_months_axis(horizon),
            y=alt.Y("count:Q", title="Problems that came to light", stack="zero"),
            color=alt.Color(
                "what:N",
                title=None,
                scale=alt.Scale(domain=names, range=colours),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["run:N", "month:Q", "what:N", "count:Q"],
        )
        .properties(width=WIDTH[twin], height=HEIGHT - 50)
    )
    return _finish(chart, twin, order)


@cache
def attendance_template(twin: bool, order: tuple[str, ...], horizon: int) -> Spec:
    """Share of trusts at each board meeting (a separate strip: its unit is not a count)."""
    chart = (
        alt.Chart(alt.NamedData(name=DATA))
        .mark_line(color="#555555", point=alt.OverlayMarkDef(size=14, color="#555555"))
        .encode(
            x=_months_axis(horizon),
            y=alt.Y(
                "share:Q",
                title="At the board",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", tickCount=3),
            ),
            tooltip=["run:N", "month:Q", alt.Tooltip("share:Q", format=".0%", title="attendance")],
        )
        .properties(width=WIDTH[twin], height=70)
    )
    return _finish(chart, twin, order)


@cache
def network_template(twin: bool, order: tuple[str, ...]) -> Spec:
    """The trust network: actors on a ring around the regulator, half-lines coloured by trust."""
    size = WIDTH[twin] if twin else 330
    base = alt.Chart(alt.NamedData(name=DATA)).properties(width=size, height=size)
    hidden = alt.Axis(grid=False, domain=False, ticks=False, labels=False, title=None)
    scale = alt.Scale(domain=[-1.3, 1.3], nice=False)
    x = alt.X("x:Q", axis=hidden, scale=scale)
    y = alt.Y("y:Q", axis=hidden, scale=scale)
    edges = (
        base.transform_filter(alt.datum.kind == "edge")
        .mark_rule(strokeCap="round")
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y2:Q",
            color=alt.Color(
                "trust:Q",
                title="trust",
                scale=alt.Scale(scheme="viridis", domain=[0, 1]),
                legend=alt.Legend(orient="bottom", gradientLength=160),
            ),
            strokeWidth=alt.StrokeWidth(
                "trust:Q", scale=alt.Scale(domain=[0, 1], range=[0.5, 9]), legend=None
            ),
            tooltip=["run:N", "from:N", "to:N", alt.Tooltip("trust:Q", format=".2f")],
        )
    )
    nodes = (
        base.transform_filter(alt.datum.kind == "node")
        .mark_circle(size=520, opacity=1, stroke="white", strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "role:N",
                scale=alt.Scale(
                    domain=["regulator", "trust"],
                    range=[OKABE_ITO["vermillion"], OKABE_ITO["sky"]],
                ),
                legend=None,
            ),
            tooltip=["run:N", "name:N"],
        )
    )
    labels = (
        base.transform_filter(alt.datum.kind == "node")
        .mark_text(fontSize=10, fontWeight="bold")
        .encode(x=x, y=y, text="short:N")
    )
    chart = alt.layer(edges, nodes, labels).resolve_scale(color="independent")
    return _finish(chart, twin, order)


# ---------------------------------------------------------------------------------------------
# Records, from what the model recorded
# ---------------------------------------------------------------------------------------------


def _with_data(template: Spec, records: Records) -> Spec:
    """A template with its dataset attached (the template itself is shared and not changed)."""
    return {**template, "datasets": {DATA: records}}


def _series(panel: RegulationModel, name: str) -> list[Any]:
    """A model-level series as the DataCollector gathered it (month 0 first)."""
    return panel.datacollector.model_vars[name]


def _number(value: float) -> float | None:
    """JSON has no NaN: a month without a board meeting has no attendance."""
    return None if value is None or math.isnan(value) else round(float(value), 4)


def _shape(demo: DemoModel) -> tuple[bool, tuple[str, ...], int]:
    return demo.twin, tuple(demo.labels), demo.horizon


def trust_spec(demo: DemoModel) -> Spec:
    """Trust trajectories of every panel, up to the current month."""
    records: Records = []
    column = FIELD["trust_in_regulator"]
    for label, panel in zip(demo.labels, demo.panels, strict=True):
        months = _series(panel, "month")
        for key, (series, _) in TRUST_SERIES.items():
            records += [
                {"run": label, "month": m, "series": series, "value": round(v, 4)}
                for m, v in zip(months, _series(panel, key), strict=True)
            ]
        recorded = panel.history.trusts[: len(months), column, :]
        for i, name in enumerate(panel.config.trust_names):
            records += [
                {
                    "run": label,
                    "month": m,
                    "series": EACH_TRUST,
                    "trust": name,
                    "value": round(v, 4),
                }
                for m, v in zip(months, recorded[:, i].tolist(), strict=True)
            ]
    return _with_data(trust_template(*_shape(demo)), records)


def practice_label(name: str) -> str:
    """A practice's name as a student reads it: ``training_heat_map`` → ``training heat map``."""
    return name.replace("_", " ")


def adoption_spec(demo: DemoModel) -> Spec:
    """How many trusts use each practice, month by month, in every panel."""
    scenario = demo.scenario_used
    records: Records = []
    for label, panel in zip(demo.labels, demo.panels, strict=True):
        months = _series(panel, "month")
        for name in scenario.practice_names:
            records += [
                {"run": label, "month": m, "practice": practice_label(name), "adopters": a}
                for m, a in zip(months, _series(panel, f"adopters_{name}"), strict=True)
            ]
    practices = tuple(practice_label(n) for n in scenario.practice_names)
    template = adoption_template(*_shape(demo), len(scenario.trusts), practices)
    return _with_data(template, records)


def heat_spec(demo: DemoModel, trust: int) -> Spec:
    """The training heat map of trust number ``trust`` (0-based) in every panel."""
    records: Records = []
    departments = demo.scenario_used.training.departments
    for label, panel in zip(demo.labels, demo.panels, strict=True):
        recorded = panel.history.months_recorded
        grid = np.round(panel.history.coverage[:recorded, trust, :], 4).tolist()
        records += [
            {"run": label, "month": m, "month_end": m + 1, "department": d + 1, "coverage": c}
            for m, row in enumerate(grid)
            for d, c in enumerate(row)
        ]
    return _with_data(heat_template(*_shape(demo), departments), records)


def events_spec(demo: DemoModel) -> Spec:
    """Problems told early and surprises, month by month, in every panel."""
    records: Records = []
    for label, panel in zip(demo.labels, demo.panels, strict=True):
        months = _series(panel, "month")
        for key, (what, _) in EVENTS.items():
            records += [
                {"run": label, "month": m, "what": what, "count": c}
                for m, c in zip(months, _series(panel, key), strict=True)
            ]
    return _with_data(events_template(*_shape(demo)), records)


def attendance_spec(demo: DemoModel) -> Spec:
    """Board attendance at every meeting so far, in every panel (none under hierarchy)."""
    records: Records = []
    for label, panel in zip(demo.labels, demo.panels, strict=True):
        months = _series(panel, "month")
        records += [
            {"run": label, "month": m, "share": _number(s)}
            for m, s in zip(months, _series(panel, "attendance_rate"), strict=True)
            if _number(s) is not None
        ]
    return _with_data(attendance_template(*_shape(demo)), records)


def ring(n: int) -> np.ndarray:
    """Positions of ``n`` trusts on a circle around the regulator, the first at the top."""
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    return np.column_stack([np.cos(angles), np.sin(angles)])


def short_name(name: str) -> str:
    """A label that fits in a node: ``Trust A`` → ``A``, ``regulator`` → ``Reg``."""
    if name == "regulator":
        return "Reg"
    return name.removeprefix("Trust ").strip()[:3]


def network_spec(demo: DemoModel) -> Spec:
    """The trust matrix of every panel at the current month, as a network."""
    records: Records = []
    for label, panel in zip(demo.labels, demo.panels, strict=True):
        names = ["regulator", *panel.config.trust_names]
        position = np.vstack([np.zeros((1, 2)), ring(len(names) - 1)])
        trust = panel.history.relationships[panel.history.months_recorded - 1]
        for i, name in enumerate(names):
            x, y = position[i]
            role = "regulator" if i == 0 else "trust"
            records.append(
                {"run": label, "kind": "node", "x": x, "y": y, "name": name, "role": role}
                | {"short": short_name(name)}
            )
            for j, other in enumerate(names):
                if i == j:
                    continue
                # The half of the line next to i shows how much i trusts j (a directed edge).
                mx, my = (position[i] + position[j]) / 2
                records.append(
                    {
                        "run": label,
                        "kind": "edge",
                        "x": x,
                        "y": y,
                        "x2": mx,
                        "y2": my,
                        "from": name,
                        "to": other,
                        "trust": round(float(trust[i, j]), 4),
                    }
                )
    return _with_data(network_template(demo.twin, tuple(demo.labels)), records)
