"""The dashboard's views: each a card with a chart and one or two sentences a student can read.

Every view reads what the panels recorded (``datacollector`` and ``history``); nothing is
recomputed here. A view redraws when the session's frame changes (a step, a reset, looking
back). In twin mode each card shows the two panels side by side, on the same scales; in
presentation mode one chart holds both, coloured by panel (the heat map then shows their
difference, and the networks stay side by side: two networks cannot share one drawing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import solara
import solara.lab

from relsim.dashboard import charts, heatmap, network
from relsim.dashboard.charts import TimeView, style
from relsim.dashboard.demo import DemoModel
from relsim.dashboard.events import compact_month, event_columns, rule
from relsim.dashboard.names import governance_name
from relsim.dashboard.session import Session
from relsim.dashboard.widget import Chart, Payload, Template
from relsim.model.columns import FIELD

ABOUT = {
    "network": (
        "The red circle in the middle is the regulator; the others are the trusts, coloured by "
        "how much each trusts the regulator. A spoke shows how much the regulator trusts that "
        "trust, and a line between two trusts how much they trust each other. Yellow and thick "
        "is high trust, purple and thin is low. Hover over a circle for its name."
    ),
    "network_large": (
        " On a board this large only each trust's two strongest ties to other trusts are drawn, "
        "and the spokes only if you choose them."
    ),
    "trust": (
        "Trust grows slowly with good experiences and falls fast after a bad one, such as a "
        "punishment or a surprise. Thick lines are averages; thin blue lines are each trust's "
        "trust in the regulator."
    ),
    "adoption": (
        "How many trusts use each improvement practice. A trust copies a practice after seeing "
        "it work in trusts it trusts; at a board meeting every member sees it at once. A "
        "mandate makes everyone start at once, but only on the surface."
    ),
    "heat": (
        "Where this trust's trained staff are: each row is a department, each column a month. "
        "Dark blue means few staff trained, yellow many. From the dashed line on, the trust "
        "uses the training heat map: it trains its least-trained (darkest) departments first, "
        "so the dark rows catch up and the picture evens out."
    ),
    "heat_difference": (
        "The difference between the two runs for this trust: orange where the first run has "
        "more staff trained, blue where the second has. Each row is a department, each column "
        "a month."
    ),
    "told": (
        "Problems trusts told the regulator about early, and hidden problems that came out "
        "later as surprises, added up since month 0. Where people feel safe, problems are told "
        "early. The grey strip is the share of trusts at each board meeting."
    ),
    "pressure": (
        "External pressure on the system (political and financial demands), and how "
        "supportive the regulator is (ρ: 0 punitive, 1 supportive). Orange bands are pressure "
        "shocks."
    ),
    "state": (
        "The compact is the board's agreement of mutual commitments. It is negotiated first "
        "and comes into force once the members trust each other enough; while in force it "
        "shields trust from outside pressure."
    ),
    "events": (
        "On every chart: orange bands are pressure shocks; dashed lines mark the compact "
        "coming into force, a mandate, or a change of governance. Dashed curves in the colour "
        "of a line are the previous run, for comparison."
    ),
}


@solara.component
def ViewCard(title: str, about: str, children: list[Any] | None = None) -> None:
    """A view: its title, its content and the sentences that say what it shows."""
    with solara.Card(title, classes=["relsim-view"]):
        solara.Column(children=children or [], gap="4px")
        solara.Text(about, classes=["relsim-caption"])


@solara.component
def Panels(
    session: Session,
    draw: Callable[[Sequence[int]], tuple[Template, Payload]],
    overlay: bool,
    height: int | None = None,
) -> None:
    """One chart per panel side by side, or (``overlay``) one chart of every panel.

    Charts take the page's theme and, in presentation mode, larger text.
    """
    demo = session.run.value
    dark = solara.lab.use_dark_effective()
    large = session.presentation.value
    groups: list[tuple[int, ...]] = (
        [tuple(range(len(demo.panels)))] if overlay else [(k,) for k in range(len(demo.panels))]
    )
    with solara.Div(classes=["relsim-panels", f"relsim-panels-{len(groups)}"]):
        for group in groups:
            template, payload = draw(group)
            with solara.Div(classes=["relsim-panel"]):
                if len(groups) > 1:
                    solara.Text(demo.labels[group[0]], classes=["relsim-panel-title"])
                Chart(
                    Template(style(template.spec, dark=dark, large=large, height=height)), payload
                )


@solara.component
def TimeCard(
    session: Session, title: str, about: str, view: TimeView, strip: TimeView | None = None
) -> None:
    """A view over time: its chart (per panel or overlaid) and, below, an optional strip."""
    demo, frame, look = session.run.value, session.frame.value, session.look.value
    ghost = session.ghost.value if session.show_ghost.value else None
    overlay = session.presentation.value and demo.twin

    def draw(with_view: TimeView) -> Callable[[Sequence[int]], tuple[Template, Payload]]:
        return lambda panels: charts.time_chart(
            with_view, demo, panels, frame=frame, look=look, ghost=ghost
        )

    with ViewCard(title, about):
        Panels(session, draw(view), overlay)
        if strip is not None:
            Panels(session, draw(strip), overlay, height=120)


@solara.component
def NetworkCard(session: Session) -> None:
    """The trust network at the month shown, one drawing per panel."""
    demo, frame, month = session.run.value, session.frame.value, session.shown_month
    n = len(demo.scenario_used.trusts)
    lines, set_lines = solara.use_state(network.default_lines(n))
    about = ABOUT["network"] + (ABOUT["network_large"] if n > network.ALL_TIES else "")

    def draw(panels: Sequence[int]) -> tuple[Template, Payload]:
        columns = network.network_columns(demo.panels[panels[0]], month, lines)
        return network.network_template(n), Payload(frame, {network.DATA: columns})

    with ViewCard(f"Trust network in month {month}", about):
        with solara.Row(style={"align-items": "center"}):
            solara.Text("Lines:")
            solara.ToggleButtonsSingle(
                value=lines, values=list(network.LINES), on_value=set_lines, dense=True
            )
        Panels(session, draw, overlay=False, height=400 if session.presentation.value else 330)


@solara.component
def HeatMapCard(session: Session) -> None:
    """The training heat map of one trust, chosen in the card (by default the map's origin)."""
    demo, frame, look = session.run.value, session.frame.value, session.look.value
    names = list(demo.scenario_used.trust_names)
    origins = [p.origin for p in demo.scenario_used.practices if p.targets_training]
    default = origins[0] if origins else names[0]
    chosen, set_chosen = solara.use_state(default)
    name = chosen if chosen in names else default
    trust = names.index(name)
    difference = session.presentation.value and demo.twin
    departments = demo.scenario_used.training.departments

    def draw(panels: Sequence[int]) -> tuple[Template, Payload]:
        template = heatmap.heat_template(demo.horizon, departments, difference)
        columns = heatmap.coverage_columns([demo.panels[k] for k in panels], trust)
        events = event_columns(demo, (), look)
        for k in panels:
            month = heatmap.adoption_month(demo.panels[k], trust)
            if month is not None and not difference:
                label = f"{name} uses the training heat map from month {month}"
                events = charts.concat([events, rule(month, "uses the heat map", label)])
        return template, Payload(frame, {charts.DATA: columns, charts.EVENTS: events})

    about = ABOUT["heat_difference"] if difference else ABOUT["heat"]
    with ViewCard(f"Training heat map: {name}", about):
        solara.Select("Trust", value=name, values=names, on_value=set_chosen)
        Panels(session, draw, overlay=difference)


def state_rows(demo: DemoModel, month: int) -> list[tuple[str, list[str]]]:
    """The state table at ``month``: one row per quantity, one column per panel."""
    rows: dict[str, list[str]] = {}

    def add(label: str, value: str) -> None:
        rows.setdefault(label, []).append(value)

    for panel in demo.panels:
        series = panel.datacollector.model_vars
        enforced = panel.history.trusts[month, FIELD["enforcement_level"], :] > 0
        since = compact_month(panel)
        compact = series["compact_state"][month].replace("_", " ")
        if not panel.config.governance.compact.enabled:
            compact = "none (switched off)"
        elif since is not None and since <= month and compact == "in force":
            compact += f" since month {since}"
        shock = demo.shock_in(month)
        rate = series["attendance_rate"][month]
        add("Month", f"{month} of {panel.months}")
        add("Governance", governance_name(series["governance"][month]))
        add("Compact", compact)
        add(
            "External pressure",
            f"{series['pressure'][month]:.2f}" + (f" (shock +{shock:.1f})" if shock else ""),
        )
        add("Regulator's supportiveness ρ", f"{series['relational_orientation'][month]:.2f}")
        add("Trusts' trust in the regulator", f"{series['mean_trust_in_regulator'][month]:.2f}")
        add("Board attendance this month", "no meeting" if rate != rate else f"{rate:.0%}")
        told = sum(series["disclosures"][: month + 1])
        surprises = sum(series["surprises"][: month + 1])
        add("Told early / surprises so far", f"{told} / {surprises}")
        add("Trusts under enforcement", f"{int(enforced.sum())} of {len(enforced)}")
        add("Gaming (reported − true quality)", f"{series['gaming_gap'][month]:+.3f}")
    return list(rows.items())


def state_table(demo: DemoModel, month: int) -> str:
    """The state rows as an HTML table (Solara's Markdown would fetch a diagram library)."""
    head = "".join(f"<th>{escape(label)}</th>" for label in demo.labels)
    body = "".join(
        f"<tr><td>{escape(label)}</td>" + "".join(f"<td>{escape(v)}</td>" for v in values) + "</tr>"
        for label, values in state_rows(demo, month)
    )
    return f"<thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody>"


def assumptions_line(demo: DemoModel, prefix: str = "This run") -> str:
    """A run's assumptions in one line."""
    a = demo.assumptions
    return (
        f"{prefix}: {demo.base.name}; {governance_name(a.governance)} governance, {a.trusts} "
        f"trusts, board every {a.meeting_interval} month(s), compact "
        f"{'on' if a.compact else 'off'}, pressure {a.pressure_baseline:.2f}, trust lost "
        f"{a.loss_ratio:.1f}× faster than gained, supportiveness {a.orientation:.2f}, readiness "
        f"spread ±{a.readiness_spread:.2f}, seed {demo.seed}"
        + (" (twin: same seed, the other governance)." if demo.twin else ".")
    )


@solara.component
def StateCard(session: Session) -> None:
    """The compact and the month's key numbers, as a small table."""
    session.frame.value  # redraw with every frame  # noqa: B018
    demo, month = session.run.value, session.shown_month
    ghost = session.ghost.value
    shocks = ", ".join(str(start) for start, _, _ in demo.shocks)
    with ViewCard("The compact and the state of play", ABOUT["state"]):
        solara.HTML(
            tag="table", unsafe_innerHTML=state_table(demo, month), classes=["relsim-state"]
        )
        if shocks:
            solara.Text(f"Pressure shocks applied from month {shocks}.")
        solara.Text(assumptions_line(demo), classes=["relsim-caption"])
        if ghost is not None and session.show_ghost.value:
            solara.Text(
                assumptions_line(ghost, "Dashed: the previous run")
                + f" Up to month {ghost.month}.",
                classes=["relsim-caption"],
            )


@solara.component
def Dashboard(session: Session) -> None:
    """All views of the current run, redrawn whenever the session's frame changes."""
    session.frame.value  # noqa: B018
    demo = session.run.value
    wide = demo.twin or session.presentation.value
    with solara.Div(classes=["relsim-grid", "relsim-grid-wide" if wide else "relsim-grid-two"]):
        # Keyed by board size: a new size starts with the lines that suit it.
        NetworkCard(session).key(f"network-{len(demo.scenario_used.trusts)}")
        TimeCard(session, "Trust over time", ABOUT["trust"], charts.TRUST)
        TimeCard(session, "Spread of improvement practices", ABOUT["adoption"], charts.ADOPTION)
        HeatMapCard(session)
        TimeCard(
            session,
            "Problems told early and surprises",
            ABOUT["told"],
            charts.TOLD_EARLY,
            strip=charts.ATTENDANCE_VIEW,
        )
        TimeCard(
            session, "Pressure and the regulator's stance", ABOUT["pressure"], charts.PRESSURE_VIEW
        )
        StateCard(session)
    solara.Text(ABOUT["events"], classes=["relsim-caption"])
