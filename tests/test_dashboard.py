"""The teaching dashboard without a browser: its model, its assumptions and its Solara page.

The page is rendered with ``solara.render`` (Solara's own test helper, as Mesa's tests do):
it builds the real widgets in memory, and clicking a button runs the same handlers a browser
click would. The browser test (tests/test_dashboard_browser.py) covers the page as served.
"""

from __future__ import annotations

import subprocess
import sys

import ipyvuetify as v
import numpy as np
import pytest
import solara
from solara.widgets import HTML, VegaLite

from relsim import load_scenario
from relsim.dashboard import charts
from relsim.dashboard.app import Page
from relsim.dashboard.assumptions import Assumptions, board_overrides, parse_seed
from relsim.dashboard.demo import SHOCK_MAGNITUDE, DemoModel
from relsim.dashboard.server import SCENARIO_ENV
from relsim.errors import RelsimError
from relsim.runs.simulation import months_frame
from relsim.scenario import with_overrides

PRESETS = [
    "nhs_vmi_partnership",
    "hierarchical_baseline",
    "pressure_shock",
    "no_compact",
    "board_size",
]

# ---------------------------------------------------------------------------------------------
# Assumptions and the dashboard's model
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_untouched_controls_run_the_preset_exactly(preset):
    demo = DemoModel(preset=preset, seed=3, **vars_of(Assumptions.of(load_scenario(preset))))
    assert demo.scenario_used == load_scenario(preset)


def vars_of(a: Assumptions) -> dict:
    return {f: getattr(a, f) for f in a.__dataclass_fields__}


def test_each_control_reaches_the_scenario():
    demo = DemoModel(
        governance="hierarchical",
        meeting_interval=3,
        compact=False,
        pressure_baseline=0.55,
        loss_ratio=5.0,
        orientation=0.7,
    )
    s = demo.scenario_used
    assert s.governance.mode == "hierarchical"
    assert s.governance.board.meeting_interval_months == 3
    assert s.governance.compact.enabled is False
    assert s.pressure.baseline == 0.55
    assert s.trust_dynamics.loss_ratio == 5.0
    assert s.regulator.relational_orientation == 0.7


def test_a_larger_board_repeats_the_presets_readiness_pattern_and_keeps_its_order():
    base = load_scenario("nhs_vmi_partnership")
    board = board_overrides(base, 12, 0.1)["trusts"]
    names = [t["name"] for t in board]
    readiness = np.array([t["readiness"] for t in board])
    assert len(set(names)) == 12
    assert names[:5] == list(base.trust_names)
    assert (readiness.max() - readiness.min()) / 2 == pytest.approx(0.1)
    assert np.array_equal(np.argsort(-readiness[:5]), np.argsort(-readiness[5:10]))


def test_a_smaller_board_moves_practices_whose_origin_left():
    base = load_scenario("nhs_vmi_partnership", {"practices[0].origin": "Trust E"})
    scenario = DemoModel(preset=base, trusts=3).scenario_used
    assert scenario.trust_names == ("Trust A", "Trust B", "Trust C")
    assert scenario.practices[0].origin == "Trust C"


def test_twins_share_seed_and_scenario_and_differ_only_in_governance():
    demo = DemoModel(preset="nhs_vmi_partnership", twin=True, seed=11)
    first, second = demo.panels
    assert (first.config.governance.mode, second.config.governance.mode) == (
        "networked",
        "hierarchical",
    )
    assert with_overrides(first.config, {"governance.mode": "hierarchical"}) == second.config
    for _ in range(24):
        demo.step()
    a, b = months_frame(first), months_frame(second)
    # Same seed, independent streams: the twins face the very same pressure ...
    assert np.array_equal(a["pressure"], b["pressure"])
    # ... and what differs is what governance does.
    assert a["mean_peer_trust"].iloc[-1] > b["mean_peer_trust"].iloc[-1]
    assert a["board_met"].iloc[1:].all()
    assert not b["board_met"].any()


def test_twin_panels_step_in_lockstep_and_stop_together_at_the_horizon():
    demo = DemoModel(preset="nhs_vmi_partnership", twin=True)
    steps = 0
    while demo.running:
        demo.step()
        steps += 1
    assert steps == demo.horizon == 60
    assert [p.steps for p in demo.panels] == [60, 60]


def test_the_shock_button_hits_every_panel_from_next_month():
    demo = DemoModel(twin=True, seed=5)
    quiet = DemoModel(twin=True, seed=5)
    for _ in range(4):
        demo.step()
        quiet.step()
    assert demo.apply_shock() == 5
    for _ in range(2):
        demo.step()
        quiet.step()
    for hit, calm in zip(demo.panels, quiet.panels, strict=True):
        gap = months_frame(hit)["pressure"] - months_frame(calm)["pressure"]
        assert np.allclose(gap[:5], 0)
        assert np.allclose(gap[5:], SHOCK_MAGNITUDE)
    assert demo.shock_in(5) == SHOCK_MAGNITUDE
    assert demo.shock_in(4) == 0


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "", str(2**64)])
def test_a_seed_that_is_not_a_whole_number_is_refused_with_the_field_named(text):
    with pytest.raises(RelsimError, match=r"^seed: expected a whole number"):
        parse_seed(text)


def test_a_bad_seed_does_not_stop_the_page_but_is_reported():
    demo = DemoModel(seed="abc")
    assert demo.seed == 1
    assert "seed: expected a whole number" in demo.problem
    assert DemoModel(seed=" 42 ").seed == 42
    assert DemoModel(seed="42").problem == ""


# ---------------------------------------------------------------------------------------------
# Charts read the recorded history
# ---------------------------------------------------------------------------------------------


def table(spec: dict) -> list[dict]:
    return spec["datasets"][charts.DATA]


def test_charts_plot_what_the_model_recorded():
    demo = DemoModel(seed=2)
    for _ in range(30):
        demo.step()
    panel = demo.panels[0]
    trust = [r for r in table(charts.trust_spec(demo)) if r["series"] == "trusts → regulator"]
    assert [r["value"] for r in trust] == pytest.approx(
        panel.datacollector.model_vars["mean_trust_in_regulator"], abs=1e-4
    )
    heat = table(charts.heat_spec(demo, 1))
    cell = next(r for r in heat if r["month"] == 30 and r["department"] == 4)
    assert cell["coverage"] == pytest.approx(panel.history.coverage[30, 1, 3], abs=1e-4)
    edges = [r for r in table(charts.network_spec(demo)) if r["kind"] == "edge"]
    assert len(edges) == 6 * 5
    b_to_regulator = next(r for r in edges if r["from"] == "Trust B" and r["to"] == "regulator")
    assert b_to_regulator["trust"] == pytest.approx(panel.state.trust[2, 0], abs=1e-4)


def test_chart_templates_are_valid_once_and_shared_between_redraws():
    demo = DemoModel()
    first = charts.trust_spec(demo)
    demo.step()
    second = charts.trust_spec(demo)
    assert first["layer"] is second["layer"]  # the validated template, not a rebuilt one
    assert len(table(second)) > len(table(first))
    assert "$schema" not in first  # Vega-Embed uses the page's Vega-Lite


# ---------------------------------------------------------------------------------------------
# The Solara page, rendered in memory
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def page(monkeypatch):
    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    rc.box = box
    return rc


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def view_cards(rc) -> list:
    return [c for c in rc.find(v.Card).widgets if "relsim-view" in (c.class_ or "").split()]


def specs(rc) -> dict[str, dict]:
    """Chart specs by the title of their card."""
    found = {}
    for card in view_cards(rc):
        title = card.children[0].children[0]
        inner = [w for w in _walk(card) if isinstance(w, VegaLite)]
        if inner:
            found[title] = inner[0].spec
    return found


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


def state_html(rc) -> str:
    return rc.find(HTML, tag="table").widget.unsafe_innerHTML


def test_page_shows_every_view_with_its_explanation(page):
    titles = [card.children[0].children[0] for card in view_cards(page)]
    assert titles == [
        "Trust network",
        "Trust over time",
        "Spread of improvement practices",
        "Training heat map: Trust B",
        "Meetings, problems told early, surprises",
        "The compact and the state of play",
    ]
    shown = " ".join(texts(page))
    assert "how much that organisation trusts the other" in shown
    assert "Time: 0.0" in shown


def test_stepping_advances_the_model_and_redraws_every_view(page):
    before = {title: table(spec) for title, spec in specs(page).items()}
    for _ in range(3):
        click(page, "Step")
    after = {title: table(spec) for title, spec in specs(page).items()}
    assert "Time: 3.0" in texts(page)
    assert "3 of 60" in state_html(page)
    assert set(after) == set(before)
    assert len(after) == 5
    for title in after:
        assert after[title] != before[title], f"{title} did not change"
    months = {r["month"] for r in after["Trust over time"]}
    assert months == {0, 1, 2, 3}


def test_reset_applies_the_controls_twin_mode_and_the_seed(page):
    page.find(v.Checkbox, label="Twin: the other governance alongside").widget.v_model = True
    seed = page.find(v.TextField, label="Seed").widget
    seed.v_model = "42"
    seed.fire_event("focusout", None)
    click(page, "Reset")
    shown = specs(page)
    assert all("facet" in spec for spec in shown.values())
    runs = {r["run"] for r in table(shown["Trust over time"])}
    assert runs == {"networked governance", "hierarchical governance"}
    assert "seed 42 (twin: same seed, other governance)" in " ".join(texts(page))


def test_a_bad_seed_is_shown_on_the_page_instead_of_a_traceback(page):
    seed = page.find(v.TextField, label="Seed").widget
    seed.v_model = "forty-two"
    seed.fire_event("focusout", None)
    click(page, "Reset")
    assert any("seed: expected a whole number" in t for t in texts(page))
    assert "Trust network" in specs(page)


def test_choosing_a_preset_restarts_it_and_loads_its_values_into_the_controls(page):
    click(page, "Step")
    page.find(v.Select, label="Preset").widget.v_model = "hierarchical_baseline"
    assert page.find(v.Select, label="Governance").widget.v_model == "hierarchical"
    assert "Time: 0.0" in texts(page)
    assert "hierarchical" in state_html(page)


def test_the_shock_button_raises_pressure_from_the_next_month(page):
    click(page, "Step")
    click(page, "Pressure shock now")
    click(page, "Step")
    html = state_html(page)
    assert f"(shock +{SHOCK_MAGNITUDE:.1f})" in html
    assert "Pressure shocks applied from month 2." in texts(page)


def test_the_heat_map_shows_the_trust_chosen_in_its_card(page):
    for _ in range(2):
        click(page, "Step")
    page.find(v.Select, label="Trust").widget.v_model = "Trust E"
    assert "Training heat map: Trust E" in specs(page)


# ---------------------------------------------------------------------------------------------
# relsim demo: bad input is one line and status 2
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_scenario"], "relsim: no_such_scenario: no such file or bundled scenario"),
        (["--port", "70000"], "relsim demo: argument --port: expected a port number"),
        (["--port", "http"], "relsim demo: argument --port: expected a port number"),
        (["--host", "no.such.host.invalid"], "relsim: --host: cannot resolve"),
        (["england_system"], "relsim: demo: england_system: the dashboard draws every trust"),
    ],
)
def test_demo_refuses_bad_input_in_one_line_with_status_2(args, message):
    done = subprocess.run(
        [sys.executable, "-m", "relsim.cli", "demo", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(message)
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_demo_refuses_a_port_in_use(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "relsim.cli", "demo", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.startswith(f"relsim: --port: cannot listen on 127.0.0.1:{port}")
    assert done.stderr.count("\n") == 1


def test_presets_are_the_bundled_scenarios_small_enough_to_draw():
    from relsim.dashboard.app import preset_options
    from relsim.dashboard.demo import MAX_DASHBOARD_TRUSTS
    from relsim.scenario import bundled_scenarios

    options = preset_options("nhs_vmi_partnership")
    assert set(PRESETS) <= set(options)
    for name in bundled_scenarios():
        drawable = len(load_scenario(name).trusts) <= MAX_DASHBOARD_TRUSTS
        assert (name in options) == drawable, name
    assert "england_system" not in options
