"""The dashboard page, as Solara serves it (``relsim demo`` points Solara at this module).

Each browser session gets its own page and so its own :class:`~relsim.dashboard.session.Session`.
The page is the dashboard's own: a header that stays in view (title, the month, the time
controls, presentation and dark switches), then two tabs: *Model* (the lesson card and the
assumptions on the left, the views on the right) and *Info* (the model explained for students).

Mesa's SolaraViz is not used for the page: it keeps the values of its parameter inputs in a
store of its own, filled once (after a preset change Reset built the model from that stale
store); its controller steps on a timer without waiting for the page to draw; and its sidebar
always shows developer controls (render interval, threads) that have no place in a lecture.
The model the page drives is still a Mesa model (:class:`~relsim.dashboard.demo.DemoModel`).
"""

from __future__ import annotations

import os
from pathlib import Path

import solara
import solara.lab

from relsim.dashboard.clock import EndNotice, LookBack, MonthReadout, TimeBar
from relsim.dashboard.connection import ConnectionNotice
from relsim.dashboard.controls import AssumptionsCard, LessonCard
from relsim.dashboard.demo import DEFAULT_PRESET
from relsim.dashboard.info import InfoTab
from relsim.dashboard.server import SCENARIO_ENV
from relsim.dashboard.session import Session
from relsim.dashboard.views import Dashboard
from relsim.dashboard.widget import Frames, FramesContext

TITLE = "relsim · regulation, trust and improvement"
STYLE = Path(__file__).with_name("style.css")
TABS = ("Model", "Info")
#: Presentation mode scales every size on the page (Vuetify's sizes are in rem).
PRESENTATION_STYLE = "html { font-size: 125%; }"


def start_preset() -> str:
    """The scenario ``relsim demo`` was given, or the NHS–VMI partnership."""
    return os.environ.get(SCENARIO_ENV) or DEFAULT_PRESET


@solara.component
def CompareCard(session: Session) -> None:
    """Whether the previous run is drawn, dashed, under the current one."""
    with solara.Card("Compare", classes=["relsim-controls"]):
        solara.Checkbox(
            label="Show the previous run, dashed",
            value=session.show_ghost.value,
            on_value=session.compare,
        )
        solara.Text(
            "After Reset, the run before it stays on the charts as dashed lines: change only "
            "the seed to see which conclusions survive it.",
            classes=["relsim-caption"],
        )


@solara.component
def Header(session: Session) -> None:
    """The title, the month and the time controls, always in view."""
    with solara.Div(classes=["relsim-header"]):
        with solara.Column(gap="0px"):
            solara.Text(TITLE, classes=["relsim-title"])
            MonthReadout(session)
        TimeBar(session)


@solara.component
def Switches(session: Session) -> None:
    """Presentation mode and the dark theme."""
    dark = solara.lab.use_dark_effective()
    with solara.Row(gap="16px", classes=["relsim-switches"]):
        solara.Switch(
            label="Presentation",
            value=session.presentation.value,
            on_value=session.present,
        )
        solara.Switch(
            label="Dark",
            value=dark,
            on_value=lambda on: setattr(solara.lab.theme, "dark", bool(on)),
        )


@solara.component
def ModelTab(session: Session) -> None:
    """The controls on the left, the views on the right."""
    with solara.Div(classes=["relsim-body"]):
        with solara.Div(classes=["relsim-side"]):
            LessonCard(session)
            AssumptionsCard(session)
            CompareCard(session)
        with solara.Div(classes=["relsim-main"]):
            if session.problem.value:
                solara.Error(session.problem.value, classes=["relsim-problem"])
            LookBack(session)
            Dashboard(session)


@solara.component
def Page() -> None:
    """The whole dashboard."""
    start = solara.use_memo(start_preset, [])
    session = solara.use_memo(lambda: Session.start(start), [start])
    frames = solara.use_memo(Frames, [])
    tab, set_tab = solara.use_state(0)
    FramesContext.provide(frames)

    solara.Title(TITLE)
    solara.Style(STYLE)
    if session.presentation.value:
        solara.Style(PRESENTATION_STYLE)
    classes = ["relsim-page"] + (["relsim-presentation"] if session.presentation.value else [])
    with solara.Div(classes=classes):
        ConnectionNotice.element()
        Header(session)
        EndNotice(session)
        with solara.Row(classes=["relsim-tabrow"]):
            with solara.v.Tabs(v_model=tab, on_v_model=set_tab, class_="relsim-tabs"):
                for name in TABS:
                    solara.v.Tab(children=[name])
            Switches(session)
        if TABS[tab] == "Model":
            ModelTab(session)
        else:
            InfoTab()


page = Page
