"""The dashboard's views: each a card with a chart and one or two sentences a student can read.

Every view reads what the panels recorded (``datacollector`` and ``history``); nothing is
recomputed here. The views subscribe to Mesa's ``update_counter``, which SolaraViz's controller
bumps after each step and reset, so they redraw as the model runs.

Mesa's own ``ComponentsView`` lays components out with ``solara.GridDraggable``, whose Vue 3
build stays blank with ipyvuetify 3 (the page shows the tab and no card), so the dashboard
lays its views out itself, in a fixed responsive grid that suits a projector anyway.
"""

from __future__ import annotations

from html import escape
from typing import Any

import solara
import traitlets
from mesa.visualization.utils import update_counter
from solara.widgets import VegaLite

from relsim.dashboard import charts
from relsim.dashboard.demo import DemoModel
from relsim.model.mechanisms import COMPACT_NAMES

ABOUT = {
    "network": (
        "Circles are the regulator (red, in the middle) and the trusts. The half of each line "
        "next to a circle shows how much that organisation trusts the other one: thick and "
        "yellow is high trust, thin and purple is low."
    ),
    "trust": (
        "Trust grows slowly with good experiences and falls fast after a bad one, such as a "
        "punishment or a surprise. Thick lines are averages; thin lines are each trust's trust "
        "in the regulator."
    ),
    "adoption": (
        "How many trusts use each improvement practice. A trust copies a practice after seeing "
        "it work in trusts it trusts; at a board meeting every member sees it at once."
    ),
    "heat": (
        "Where this trust's trained staff are: each row is a department, each column a month, "
        "and brighter means more staff trained. Once the trust uses the training heat map, it "
        "trains the palest departments first and the picture evens out."
    ),
    "events": (
        "Bars count problems trusts told the regulator about early (blue) and hidden problems "
        "that came out later as surprises (red). The strip below is the share of trusts at each "
        "board meeting. Where people feel safe, problems are told early."
    ),
    "state": (
        "The compact is the board's agreement of mutual commitments. It is negotiated first "
        "and comes into force once the members trust each other enough; while in force it "
        "shields trust from outside pressure."
    ),
}


class ChartSpec:
    """A chart's specification, wrapped so that Reacton does not walk its records.

    Reacton looks through every dict and list among an element's arguments for child elements;
    for a chart's thousands of records that walk cost more than the rest of a redraw. Wrapped,
    the specification reaches the widget untouched (:class:`LiveVegaLite`).
    """

    __slots__ = ("spec",)

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec


class LiveVegaLite(VegaLite):
    """Solara's Vega-Lite widget, fed a :class:`ChartSpec` through its ``chart`` trait."""

    chart = traitlets.Any(None)

    @traitlets.observe("chart")
    def _show(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.spec = change["new"].spec


@solara.component
def Chart(chart: ChartSpec) -> None:
    """A Vega-Lite chart, drawn in the browser."""
    LiveVegaLite.element(chart=chart, listen_to_click=False, listen_to_hover=False)


@solara.component
def ViewCard(title: str, about: str, children: list[Any] | None = None) -> None:
    """A view: its title, its content and the sentences that say what it shows."""
    with solara.Card(title, classes=["relsim-view"], style={"height": "100%"}):
        solara.Column(children=children or [])
        solara.Text(about, style={"font-size": "0.95rem", "color": "#333"})


@solara.component
def HeatMapCard(demo: DemoModel) -> None:
    """The training heat map of one trust, chosen in the card (by default the map's origin)."""
    update_counter.get()  # redraw after each step, though ``demo`` is the same object
    names = list(demo.scenario_used.trust_names)
    origins = [p.origin for p in demo.scenario_used.practices if p.targets_training]
    default = origins[0] if origins else names[0]
    chosen, set_chosen = solara.use_state(default)
    name = chosen if chosen in names else default
    with ViewCard(f"Training heat map: {name}", ABOUT["heat"]):
        solara.Select("Trust", value=name, values=names, on_value=set_chosen)
        Chart(ChartSpec(charts.heat_spec(demo, names.index(name))))


def _state_rows(demo: DemoModel) -> list[tuple[str, list[str]]]:
    """The compact state table: one row per quantity, one column per panel."""
    rows: dict[str, list[str]] = {}

    def add(label: str, value: str) -> None:
        rows.setdefault(label, []).append(value)

    for panel in demo.panels:
        st, series = panel.state, panel.datacollector.model_vars
        month = int(panel.steps)
        compact = COMPACT_NAMES[st.compact].replace("_", " ")
        if st.compact_month >= 0 and compact == "in force":
            compact += f" since month {st.compact_month}"
        shock = demo.shock_in(month)
        add("Month", f"{month} of {panel.months}")
        add("Governance", st.mode)
        add(
            "Compact", compact if panel.config.governance.compact.enabled else "none (switched off)"
        )
        add("External pressure", f"{st.pressure:.2f}" + (f" (shock +{shock:.1f})" if shock else ""))
        add("Regulator's supportiveness ρ", f"{st.orientation:.2f}")
        add("Trusts' trust in the regulator", f"{series['mean_trust_in_regulator'][-1]:.2f}")
        rate = series["attendance_rate"][-1]
        add("Board attendance this month", "no meeting" if rate != rate else f"{rate:.0%}")
        add(
            "Told early / surprises so far",
            f"{sum(series['disclosures'])} / {sum(series['surprises'])}",
        )
        add("Trusts under enforcement", f"{int((st.level > 0).sum())} of {st.n_trusts}")
        add("Gaming (reported − true quality)", f"{series['gaming_gap'][-1]:+.3f}")
    return list(rows.items())


def assumptions_line(demo: DemoModel) -> str:
    """This run's assumptions in one line, since Mesa's sliders do not print their values."""
    a = demo.assumptions
    return (
        f"This run: {a.governance} governance, {a.trusts} trusts, board every "
        f"{a.meeting_interval} month(s), compact {'on' if a.compact else 'off'}, pressure "
        f"{a.pressure_baseline:.2f}, loss:gain {a.loss_ratio:.1f}, supportiveness "
        f"{a.orientation:.2f}, readiness spread {a.readiness_spread:.2f}, seed {demo.seed}"
        + (" (twin: same seed, other governance)." if demo.twin else ".")
    )


def state_table(demo: DemoModel) -> str:
    """The state rows as an HTML table (Solara's Markdown would fetch a diagram library)."""
    head = "".join(f"<th>{escape(label)}</th>" for label in demo.labels)
    body = "".join(
        f"<tr><td>{escape(label)}</td>" + "".join(f"<td>{escape(v)}</td>" for v in values) + "</tr>"
        for label, values in _state_rows(demo)
    )
    return f"<thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody>"


@solara.component
def StateCard(demo: DemoModel) -> None:
    """The compact and the month's key numbers, as a small table."""
    update_counter.get()
    shocks = ", ".join(str(start) for start, _, _ in demo.shocks)
    with ViewCard("The compact and the state of play", ABOUT["state"]):
        solara.HTML(
            tag="table",
            unsafe_innerHTML=state_table(demo),
            classes=["relsim-state"],
            style={"width": "100%", "text-align": "left", "font-size": "0.95rem"},
        )
        if shocks:
            solara.Text(f"Pressure shocks applied from month {shocks}.")
        solara.Text(assumptions_line(demo), style={"font-size": "0.85rem", "color": "#555"})


@solara.component
def Dashboard(model: solara.Reactive[DemoModel]) -> None:
    """All views of the current model, redrawn after every step or reset."""
    update_counter.get()
    demo = model.value
    # Twins need the full width for their two facets; a single run fits two cards a row.
    width = {"default": 12} if demo.twin else {"default": 12, "large": 6}
    with solara.ColumnsResponsive(**width):
        with ViewCard("Trust network", ABOUT["network"]):
            Chart(ChartSpec(charts.network_spec(demo)))
        with ViewCard("Trust over time", ABOUT["trust"]):
            Chart(ChartSpec(charts.trust_spec(demo)))
        with ViewCard("Spread of improvement practices", ABOUT["adoption"]):
            Chart(ChartSpec(charts.adoption_spec(demo)))
        HeatMapCard(demo)
        with ViewCard("Meetings, problems told early, surprises", ABOUT["events"]):
            Chart(ChartSpec(charts.events_spec(demo)))
            Chart(ChartSpec(charts.attendance_spec(demo)))
        StateCard(demo)
