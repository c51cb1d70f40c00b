"""The dashboard's page rendered in memory, and ``relsim demo``'s handling of bad input.

The page is rendered with ``solara.render`` (Solara's own test helper): it builds the real
widgets in memory, and clicking a button runs the same handlers a browser click would. The
browser test (tests/test_dashboard_browser.py) covers the page as served and drawn.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import ipyvuetify as v
import pytest
import solara
from solara.widgets import HTML

from relsim.dashboard.app import Page
from relsim.dashboard.server import SCENARIO_ENV
from relsim.dashboard.widget import Frames, LiveChart


@pytest.fixture
def page(monkeypatch):
    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    rc.box = box
    yield rc
    rc.close()


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def choose(rc, label: str, value: str) -> None:
    rc.find(v.Select, label=label).widget.v_model = value


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", None) or []:
        if not isinstance(child, str):
            yield from _walk(child)


def texts(rc) -> list[str]:
    """Every piece of text on the page."""
    return [
        c for w in _walk(rc.box) for c in (getattr(w, "children", None) or []) if isinstance(c, str)
    ]


def view_cards(rc) -> dict[str, list]:
    """The charts of each view card, by the card's title."""
    cards = {}
    for card in rc.find(v.Card).widgets:
        if "relsim-view" in (card.class_ or "").split():
            title = card.children[0].children[0]
            cards[title] = [w for w in _walk(card) if isinstance(w, LiveChart)]
    return cards


def charts_on(rc) -> list[LiveChart]:
    return [w for w in _walk(rc.box) if isinstance(w, LiveChart)]


def month_readout(rc) -> str:
    return next(t for t in texts(rc) if t.startswith("Month ") and " of " in t)


def test_page_shows_the_month_every_view_and_its_explanation(page):
    assert month_readout(page) == "Month 0 of 60"
    assert list(view_cards(page)) == [
        "Trust network in month 0",
        "Trust over time",
        "Spread of improvement practices",
        "Training heat map: Trust B",
        "Problems told early and surprises",
        "Pressure and the regulator's stance",
        "The compact and the state of play",
    ]
    shown = " ".join(texts(page))
    assert "coloured by how much each trusts the regulator" in shown
    assert "Dark blue means few staff trained, yellow many" in shown


def test_mesas_developer_controls_are_not_on_the_page(page):
    shown = " ".join(texts(page))
    for developer in ("Render Interval", "Use Threads", "Play Interval", "Model Parameters"):
        assert developer not in shown
    labels = [w.label for w in page.find(v.Slider).widgets]
    assert not any("Interval" in (label or "") for label in labels)


def test_sliders_say_their_value_and_unit(page):
    shown = texts(page)
    for text in (
        "Trusts on the board: 5",
        "Board meets every: 1 month(s)",
        "External pressure: 0.30 (0 calm, 1.5 crisis)",
        "Trust lost faster than gained: 3.0×",
    ):
        assert text in shown


def test_no_code_names_reach_students(page):
    page.find(v.Checkbox, label="Twin: the other governance alongside").widget.v_model = True
    click(page, "Reset")
    click(page, "+6 months")
    shown = " ".join(texts(page))
    for code in ("nhs_vmi_partnership", "training_heat_map", "daily_huddles", "in_force"):
        assert code not in shown
    for chart in charts_on(page):
        for column in chart.payload["data"].values():
            for values in column.values():
                assert not any(isinstance(x, str) and "_" in x for x in values), values[:3]


def test_a_step_redraws_every_chart_with_a_new_frame(page):
    before = {id(c): c.payload for c in charts_on(page)}
    click(page, "+1 month")
    after = charts_on(page)
    assert month_readout(page) == "Month 1 of 60"
    # the network, four views over time with the told-early strip, and the heat map
    assert len(after) == len(before) == 7
    for chart in after:
        assert chart.payload != before[id(chart)]
        assert chart.payload["frame"] == after[0].payload["frame"]
    click(page, "+6 months")
    assert month_readout(page) == "Month 7 of 60"


def test_choosing_a_preset_shows_its_values_and_reset_builds_it(page):
    choose(page, "Preset", "Hierarchical baseline")
    assert page.find(v.Select, label="Governance").widget.v_model.startswith("Hierarchical")
    click(page, "Reset")
    shown = " ".join(texts(page))
    assert "This run: Hierarchical baseline; Hierarchical governance" in shown
    events = [
        c.payload["data"]["events"]["short"]
        for c in charts_on(page)
        if "events" in c.payload["data"]
    ]
    assert not any("mandate" in e for e in events)  # its mandate is not reached yet: month 0


def test_twin_mode_puts_the_twins_side_by_side_and_presentation_overlays_them(page):
    page.find(v.Checkbox, label="Twin: the other governance alongside").widget.v_model = True
    click(page, "Reset")
    assert len(view_cards(page)["Trust over time"]) == 2
    page.find(v.Switch, label="Presentation").widget.v_model = True
    cards = view_cards(page)
    assert len(cards["Trust over time"]) == 1
    assert len(cards["Trust network in month 0"]) == 2  # two networks cannot share a drawing
    runs = set(cards["Trust over time"][0].payload["data"]["table"]["run"])
    assert runs == {"Hybrid", "Hierarchical"}


def test_the_shock_button_is_disabled_when_no_month_is_left(page):
    shock = page.find(v.Btn, children=["Pressure shock now"]).widget
    assert not shock.disabled
    for _ in range(10):
        click(page, "+6 months")
    assert month_readout(page) == "Month 60 of 60"
    assert shock.disabled
    assert page.find(v.Btn, children=["▶ Play"]).widget.disabled
    assert any(t.startswith("The run has reached month 60, its end.") for t in texts(page))
    click(page, "Start again (Reset)")
    assert month_readout(page) == "Month 0 of 60"
    assert not page.find(v.Btn, children=["▶ Play"]).widget.disabled


def test_a_bad_seed_is_named_next_to_its_field_and_reset_refuses_it(page):
    seed = page.find(v.TextField, label="Seed").widget
    seed.v_model = "forty-two"
    assert seed.error
    assert "seed: expected a whole number" in str(seed.messages)
    click(page, "+1 month")
    click(page, "Reset")
    assert month_readout(page) == "Month 1 of 60"  # nothing else was run instead
    assert any(t.startswith("seed: expected a whole number") for t in texts(page))


def test_play_waits_until_the_page_has_drawn_each_month(page):
    """Play steps, then waits for every chart to report the month drawn, then steps again."""
    choose(page, "Speed", "As fast as it draws")
    click(page, "▶ Play")
    deadline = time.monotonic() + 3
    while month_readout(page) == "Month 0 of 60" and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # no browser draws here: play must not have moved on
    assert month_readout(page) == "Month 1 of 60"
    for chart in charts_on(page):  # what the browser does after drawing the month
        chart.drawn = chart.payload["frame"]
    deadline = time.monotonic() + 3
    while month_readout(page) == "Month 1 of 60" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert month_readout(page) == "Month 2 of 60"
    click(page, "❚❚ Pause")


def test_frames_count_only_the_charts_on_the_page():
    frames = Frames()
    assert frames.shown(5)  # no chart on the page (the Info tab is open)
    frames.report(1, 3)
    frames.report(2, 5)
    assert frames.shown(3)
    assert not frames.shown(5)
    frames.forget(1)
    assert frames.shown(5)


def test_the_info_tab_replaces_the_views(page):
    page.find(v.Tabs).widget.v_model = 1
    assert not view_cards(page)
    info = page.find(HTML, tag="div").widget.unsafe_innerHTML
    assert "<h2>How to use this page</h2>" in info
    page.find(v.Tabs).widget.v_model = 0
    assert "Trust over time" in view_cards(page)


# ---------------------------------------------------------------------------------------------
# relsim demo: bad input is one line and status 2
# ---------------------------------------------------------------------------------------------


def demo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "relsim.cli", "demo", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_scenario"], "relsim: no_such_scenario: no such file or bundled scenario"),
        (["--port", "70000"], "relsim demo: argument --port: expected a port number"),
        (["--port", "http"], "relsim demo: argument --port: expected a port number"),
        (["--host", "no.such.host.invalid"], "relsim: --host: cannot resolve"),
        # TEST-NET-1 (RFC 5737): an address no machine has as its own.
        (["--host", "192.0.2.1"], "relsim: --host: cannot listen on 192.0.2.1"),
        (["england_system"], "relsim: demo: england_system: the dashboard draws every trust"),
    ],
)
def test_demo_refuses_bad_input_in_one_line_with_status_2(args, message):
    done = demo(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(message)
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_demo_refuses_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = demo("--port", str(port))
    assert done.returncode == 2
    assert done.stderr.startswith(f"relsim: --port: cannot listen on 127.0.0.1:{port}")
    assert done.stderr.count("\n") == 1
