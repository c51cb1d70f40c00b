"""The dashboard's charts over time, as Vega-Lite templates and the data they plot.

Each chart has two halves: a *template* (marks, encodings and scales, written with Altair) and
its *data* (read from ``model.datacollector`` and ``model.history``). Altair validates a chart
against the Vega-Lite schema when it turns it into a specification, which takes milliseconds; a
template is therefore built once per shape and cached, and each frame only sends fresh data to
the browser, where the chart widget (:mod:`relsim.dashboard.widget`) draws it.

Every chart over time plots rows of ``run, month, series, value`` (dataset ``table``), and
draws on the same axis what happened when (dataset ``events``: shaded bands for pressure
shocks; rules where the compact came into force, a mandate fell or governance changed; the
month being looked back at) and, dashed, the same lines of the previous run (dataset
``ghost``). One chart shows one panel; in *overlay* mode (presentation, twin) one chart shows
both panels, coloured by panel, with the series told apart by dashes.

Text is at least 14 pixels (18 in presentation mode), and the colours follow the page's theme.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import altair as alt
import numpy as np

from relsim.dashboard.events import event_columns
from relsim.dashboard.widget import Columns, Payload, Template
from relsim.model.columns import FIELD
from relsim.presentation.figures import OKABE_ITO
from relsim.presentation.labels import practice_label

if TYPE_CHECKING:
    from relsim.dashboard.demo import DemoModel
    from relsim.model.mesa_model import RegulationModel

Spec = dict[str, Any]

#: Dataset names every chart over time plots.
DATA, EVENTS, GHOST = "table", "events", "ghost"
#: Chart heights (pixels), normal and in presentation mode; widths follow the card.
HEIGHT = {False: 230, True: 330}
#: Smallest text on any chart (pixels), normal and in presentation mode.
FONT = {False: 14, True: 18}
#: Colours of the two panels when they share one chart.
RUN_COLOURS = (OKABE_ITO["blue"], OKABE_ITO["vermillion"])
SHOCK_COLOUR = OKABE_ITO["orange"]
PRACTICE_COLOURS = tuple(
    OKABE_ITO[c] for c in ("vermillion", "blue", "green", "purple", "orange", "sky")
)

TRUST_SERIES = {
    "mean_trust_in_regulator": ("trusts → regulator", OKABE_ITO["blue"]),
    "mean_regulator_trust": ("regulator → trusts", OKABE_ITO["orange"]),
    "mean_peer_trust": ("among trusts", OKABE_ITO["green"]),
}
EACH_TRUST = "each trust → regulator"
TOLD = {
    "disclosures": ("told early", OKABE_ITO["blue"]),
    "surprises": ("surprises", OKABE_ITO["vermillion"]),
}
PRESSURE = {
    "pressure": ("external pressure", OKABE_ITO["vermillion"]),
    "relational_orientation": ("regulator's supportiveness ρ", OKABE_ITO["blue"]),
}
ATTENDANCE = "share of trusts at the board"


# ---------------------------------------------------------------------------------------------
# Style: the part of a specification that is not validated (it changes with the page's theme)
# ---------------------------------------------------------------------------------------------


def style(spec: Spec, *, dark: bool, large: bool, height: int | None = None) -> Spec:
    """A template with the page's text size, colours and the chart's height."""
    font = FONT[large]
    ink, faint = ("#eeeeee", "#555555") if dark else ("#222222", "#dddddd")
    axis = {
        "labelFontSize": font,
        "titleFontSize": font,
        "labelColor": ink,
        "titleColor": ink,
        "gridColor": faint,
        "domainColor": ink,
        "tickColor": ink,
        "titleFontWeight": "normal",
    }
    legend = {
        "labelFontSize": font,
        "titleFontSize": font,
        "labelColor": ink,
        "titleColor": ink,
        "orient": "bottom",
        "symbolStrokeWidth": 3,
        "labelLimit": 400,
        "columns": 2,
    }
    out = {
        **spec,
        # Re-fit on every update: the axis' labels widen as its top grows.
        "autosize": {"type": "fit", "contains": "padding", "resize": True},
        "background": None,
        "config": {
            "font": "Roboto, Helvetica, Arial, sans-serif",
            "axis": axis,
            "legend": legend,
            "text": {"fontSize": font, "color": ink},
            "view": {"stroke": None},
            "style": {"guide-label": {"fontSize": font}, "guide-title": {"fontSize": font}},
        },
    }
    out["height"] = height if height is not None else HEIGHT[large]
    return out


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lines:
    """What a chart over time plots: its series, their colours and its vertical axis.

    Attributes:
        title: The vertical axis' title, with its unit.
        series: Names of the series, as the legend shows them.
        colours: Their colours (one chart, one panel).
        top: The axis' top, or ``None`` when the data set it (signal ``ymax``, shared by
            panels so that twins are drawn to the same scale).
        step: Draw as steps (counts that change in jumps) rather than straight lines.
        percent: Label the axis in percent.
    """

    title: str
    series: tuple[str, ...]
    colours: tuple[str, ...]
    top: float | None
    step: bool = False
    percent: bool = False


def _months(horizon: int) -> alt.X:
    # A fixed axis to the horizon: time visibly advances to the right as the run goes on.
    return alt.X(
        "month:Q",
        title="Month",
        scale=alt.Scale(domain=[0, horizon], nice=False),
        axis=alt.Axis(tickMinStep=1),
    )


def event_layers(horizon: int) -> list[Any]:
    """Shaded bands for shocks, rules for other events and for the month looked back at."""
    events = alt.Chart(alt.NamedData(name=EVENTS))
    x = _months(horizon)
    bands = (
        events.transform_filter(alt.datum.kind == "shock")
        .mark_rect(color=SHOCK_COLOUR, opacity=0.22, clip=True)
        .encode(x=x, x2="end:Q", tooltip=[alt.Tooltip("label:N", title="event")])
    )
    rules = (
        events.transform_filter(alt.datum.kind == "rule")
        .mark_rule(strokeDash=[6, 3], strokeWidth=2, color="#888888")
        .encode(x=x, tooltip=[alt.Tooltip("label:N", title="event")])
    )
    labels = (
        events.transform_filter(alt.datum.kind != "cursor")
        .mark_text(align="left", baseline="top", dx=4, dy=2, clip=True)
        .encode(x=x, y=alt.value(0), text="short:N")
    )
    cursor = (
        events.transform_filter(alt.datum.kind == "cursor")
        .mark_rule(strokeWidth=3, color="#7f7f7f")
        .encode(x=x)
    )
    return [bands, rules, labels, cursor]


@cache
def lines_template(lines: Lines, horizon: int, overlay: bool, runs: tuple[str, ...]) -> Template:
    """A chart over time: the series of one panel (or, overlaid, of every panel in ``runs``)."""
    table = alt.Chart(alt.NamedData(name=DATA))
    scale = (
        alt.Scale(domain=[0, lines.top], nice=False)
        if lines.top is not None
        else alt.Scale(domain=alt.ExprRef("[0, ymax]"), nice=False)
    )
    y = alt.Y(
        "value:Q",
        title=lines.title,
        scale=scale,
        axis=alt.Axis(format="%" if lines.percent else "~s", tickCount=5),
    )
    interpolate: Literal["step-after", "linear"] = "step-after" if lines.step else "linear"
    tooltip = [
        alt.Tooltip("run:N", title="run"),
        alt.Tooltip("month:Q"),
        alt.Tooltip("series:N", title="what"),
        alt.Tooltip("value:Q", format=".0%" if lines.percent else ".2~f"),
    ]
    series = alt.Scale(domain=list(lines.series), range=list(lines.colours))
    if overlay:
        main = (
            table.transform_filter(alt.datum.series != EACH_TRUST)
            .mark_line(strokeWidth=3, interpolate=interpolate, clip=True)
            .encode(
                x=_months(horizon),
                y=y,
                color=alt.Color(
                    "run:N",
                    title=None,
                    scale=alt.Scale(domain=list(runs), range=list(RUN_COLOURS[: len(runs)])),
                ),
                strokeDash=alt.StrokeDash(
                    "series:N", title=None, scale=alt.Scale(domain=list(lines.series))
                ),
                detail="series:N",
                tooltip=tooltip,
            )
        )
        layers = [main]
    else:
        each = (
            table.transform_filter(alt.datum.series == EACH_TRUST)
            .mark_line(strokeWidth=1, opacity=0.4, color=OKABE_ITO["sky"], clip=True)
            .encode(x=_months(horizon), y=y, detail="trust:N")
        )
        main = (
            table.transform_filter(alt.datum.series != EACH_TRUST)
            .mark_line(strokeWidth=3, interpolate=interpolate, clip=True)
            .encode(
                x=_months(horizon),
                y=y,
                color=alt.Color("series:N", title=None, scale=series),
                tooltip=tooltip,
            )
        )
        ghost = (
            alt.Chart(alt.NamedData(name=GHOST))
            .mark_line(
                strokeWidth=2.5, strokeDash=[5, 4], opacity=0.6, interpolate=interpolate, clip=True
            )
            .encode(
                x=_months(horizon),
                y=y,
                # The same colour encoding as the main lines (one legend serves both).
                color=alt.Color("series:N", title=None, scale=series),
                detail="series:N",
                tooltip=[alt.Tooltip("run:N", title="run"), *tooltip[1:]],
            )
        )
        layers = [each, ghost, main]
    chart = alt.layer(*event_layers(horizon), *layers)
    if lines.top is None:
        chart = chart.add_params(alt.param(name="ymax", value=1.0))
    return Template.of(chart)


# ---------------------------------------------------------------------------------------------
# Data, from what the model recorded
# ---------------------------------------------------------------------------------------------


def _series(panel: RegulationModel, name: str) -> list[Any]:
    """A model-level series as the DataCollector gathered it (month 0 first)."""
    return panel.datacollector.model_vars[name]


def _number(value: Any) -> float | None:
    """A value for JSON, which has no NaN (a month without a board meeting has no attendance)."""
    return None if value is None or value != value else round(float(value), 4)


def long_columns(run: str, months: Sequence[int], values: Mapping[str, Sequence[Any]]) -> Columns:
    """Series as the columns ``run, month, series, value`` (rows in series order)."""
    n = len(months)
    out: Columns = {"run": [], "month": [], "series": [], "value": []}
    for series, column in values.items():
        out["run"] += [run] * n
        out["month"] += list(months)
        out["series"] += [series] * n
        out["value"] += [_number(v) for v in column]
    return out


def concat(parts: Sequence[Columns]) -> Columns:
    """Parts one after the other; a column a part lacks is empty (None) in its rows."""
    names = list(dict.fromkeys(name for part in parts for name in part))
    out: Columns = {name: [] for name in names}
    for part in parts:
        rows = len(next(iter(part.values()), []))
        for name in names:
            out[name] += part.get(name, [None] * rows)
    return out


def each_trust_columns(panel: RegulationModel, run: str) -> Columns:
    """Each trust's trust in the regulator, month by month (the thin lines)."""
    months = _series(panel, "month")
    recorded = panel.history.trusts[: len(months), FIELD["trust_in_regulator"], :]
    names = panel.config.trust_names
    n, m = len(names), len(months)
    return {
        "run": [run] * (n * m),
        "month": list(months) * n,
        "series": [EACH_TRUST] * (n * m),
        "value": np.round(recorded.T, 4).reshape(-1).tolist(),
        "trust": [name for name in names for _ in range(m)],
    }


def trust_values(panel: RegulationModel) -> dict[str, list[Any]]:
    """The three mean trust series of a panel, by their legend names."""
    return {label: _series(panel, key) for key, (label, _) in TRUST_SERIES.items()}


def adoption_values(panel: RegulationModel) -> dict[str, list[Any]]:
    """Trusts using each practice, month by month, by the practice's name in words."""
    return {
        practice_label(name): _series(panel, f"adopters_{name}")
        for name in panel.config.practice_names
    }


def told_values(panel: RegulationModel) -> dict[str, list[Any]]:
    """Problems told early and surprises so far (running totals), month by month."""
    return {label: np.cumsum(_series(panel, key)).tolist() for key, (label, _) in TOLD.items()}


def pressure_values(panel: RegulationModel) -> dict[str, list[Any]]:
    """External pressure and the regulator's supportiveness ρ, month by month."""
    return {label: _series(panel, key) for key, (label, _) in PRESSURE.items()}


def attendance_values(panel: RegulationModel) -> dict[str, list[Any]]:
    """The share of trusts at each board meeting (no value in months without one)."""
    return {ATTENDANCE: _series(panel, "attendance_rate")}


def trust_lines(demo: DemoModel) -> Lines:
    """Trust in three directions, on its 0–1 scale."""
    names = tuple(label for label, _ in TRUST_SERIES.values())
    colours = tuple(colour for _, colour in TRUST_SERIES.values())
    return Lines("Trust (0 none, 1 complete)", names, colours, top=1.0)


def adoption_lines(demo: DemoModel) -> Lines:
    """Trusts using each practice, out of all the board's trusts."""
    names = tuple(practice_label(n) for n in demo.scenario_used.practice_names)
    n = len(demo.scenario_used.trusts)
    colours = PRACTICE_COLOURS[: len(names)]
    return Lines(f"Trusts using it (of {n})", names, colours, top=float(n), step=True)


def told_lines(demo: DemoModel) -> Lines:
    """Problems told early and surprises so far; the axis grows with the counts."""
    names = tuple(label for label, _ in TOLD.values())
    colours = tuple(colour for _, colour in TOLD.values())
    return Lines("Problems so far", names, colours, top=None, step=True)


def pressure_lines(demo: DemoModel) -> Lines:
    """Pressure and ρ; the axis reaches at least 1 and grows with a shock."""
    names = tuple(label for label, _ in PRESSURE.values())
    colours = tuple(colour for _, colour in PRESSURE.values())
    return Lines("Level", names, colours, top=None)


def attendance_lines(demo: DemoModel) -> Lines:
    """Board attendance, as a share of the trusts."""
    return Lines("Board", (ATTENDANCE,), ("#7f7f7f",), top=1.0, percent=True)


@dataclass(frozen=True)
class TimeView:
    """A chart over time: what it plots and how.

    Attributes:
        lines: Its series and axis, for a run.
        values: Its series' values in a panel, month by month.
        each_trust: Whether the thin line of every trust is drawn too.
        floor: For an axis that grows with the data, the least top it has.
    """

    lines: Callable[[DemoModel], Lines]
    values: Callable[[RegulationModel], dict[str, list[Any]]]
    each_trust: bool = False
    floor: float = 1.0


TRUST = TimeView(trust_lines, trust_values, each_trust=True)
ADOPTION = TimeView(adoption_lines, adoption_values)
TOLD_EARLY = TimeView(told_lines, told_values, floor=5.0)
PRESSURE_VIEW = TimeView(pressure_lines, pressure_values, floor=1.0)
ATTENDANCE_VIEW = TimeView(attendance_lines, attendance_values)


def top_of(columns: Sequence[Columns], floor: float) -> float:
    """A top for an axis that grows with the data: a little above the largest value."""
    values = [v for part in columns for v in part.get("value", []) if v is not None]
    top = max([floor, *values])
    return float(np.ceil(top * 1.1)) if top > 2 else round(top * 1.1, 2)


def time_chart(
    view: TimeView,
    demo: DemoModel,
    panels: Sequence[int],
    *,
    frame: int,
    look: int | None = None,
    ghost: DemoModel | None = None,
) -> tuple[Template, Payload]:
    """One chart over time of ``panels`` (one panel, or every panel overlaid) and its data.

    Args:
        view: What the chart plots.
        demo: The run.
        panels: Indices of the panels drawn: one, or all of them overlaid in one chart.
        frame: The page's frame number.
        look: The month looked back at, marked with a rule (None: the latest).
        ghost: The previous run, drawn dashed under a single panel's lines.
    """
    lines = view.lines(demo)
    overlay = len(panels) > 1
    runs = tuple(demo.labels[k] for k in panels)
    template = lines_template(lines, demo.horizon, overlay, runs)
    parts = []
    for k in panels:
        panel = demo.panels[k]
        if view.each_trust and not overlay:
            parts.append(each_trust_columns(panel, demo.labels[k]))
        parts.append(long_columns(demo.labels[k], _series(panel, "month"), view.values(panel)))
    table = concat(parts)
    shadow: Columns = {}
    if ghost is not None and not overlay and panels[0] < len(ghost.panels):
        old = ghost.panels[panels[0]]
        values = {s: v for s, v in view.values(old).items() if s in lines.series}
        shadow = long_columns("previous run", _series(old, "month"), values)
    events = event_columns(demo, panels, look)
    top = None
    if lines.top is None:  # shared by all panels, so that twins side by side compare
        every = [long_columns("", _series(p, "month"), view.values(p)) for p in demo.panels]
        top = top_of([*every, shadow], view.floor)
    # An overlaid chart has no ghost layer, and Vega refuses data for a dataset it lacks.
    return template, payload(frame, table, events, None if overlay else shadow, top)


def payload(
    frame: int, table: Columns, events: Columns, ghost: Columns | None, top: float | None = None
) -> Payload:
    """One chart's frame: its data, its events, its ghost if it has one, and a shared top."""
    signals = {"ymax": top} if top is not None else {}
    data = {DATA: table, EVENTS: events} | ({GHOST: ghost} if ghost is not None else {})
    return Payload(frame, data, signals)
