"""The teaching dashboard without a page: its model, settings, session, charts and lesson.

The session's methods are the lecturer's actions (choose a preset, Reset, step, play to a month,
look back); here they are called directly. tests/test_dashboard_page.py renders the page in
memory and tests/test_dashboard_browser.py follows the lesson plan in Chromium.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from relsim import load_scenario
from relsim.dashboard import charts, heatmap, network
from relsim.dashboard.assumptions import (
    Assumptions,
    board_overrides,
    other_governance,
    parse_seed,
)
from relsim.dashboard.demo import SHOCK_MAGNITUDE, DemoModel
from relsim.dashboard.events import compact_month, event_columns
from relsim.dashboard.info import info_html
from relsim.dashboard.lesson import LESSON, lesson_table
from relsim.dashboard.names import governance_choices
from relsim.dashboard.session import Session
from relsim.dashboard.settings import Settings, preset_options
from relsim.errors import RelsimError
from relsim.model.columns import FIELD
from relsim.runs.simulation import months_frame
from relsim.scenario import GOVERNANCE_MODES, with_overrides

ROOT = Path(__file__).resolve().parents[1]
PRESETS = [
    "nhs_vmi_partnership",
    "hierarchical_baseline",
    "pressure_shock",
    "no_compact",
    "board_size",
]

# ---------------------------------------------------------------------------------------------
# Assumptions, settings and the dashboard's model
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_a_preset_with_its_own_values_runs_the_preset_exactly(preset):
    demo = Settings.of_preset(preset, seed="3").build()
    assert demo.scenario_used == load_scenario(preset)
    assert demo.seed == 3


def test_each_assumption_reaches_the_scenario():
    settings = Settings.of_preset("nhs_vmi_partnership").assume(
        governance="hierarchical",
        meeting_interval=3,
        compact=False,
        pressure_baseline=0.55,
        loss_ratio=5.0,
        orientation=0.7,
    )
    s = settings.build().scenario_used
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
    assumptions = Assumptions.of(base)
    smaller = Assumptions(**{**vars_of(assumptions), "trusts": 3})
    scenario = DemoModel(preset=base, assumptions=smaller).scenario_used
    assert scenario.trust_names == ("Trust A", "Trust B", "Trust C")
    assert scenario.practices[0].origin == "Trust C"


def vars_of(a: Assumptions) -> dict:
    return {f: getattr(a, f) for f in a.__dataclass_fields__}


def test_twins_share_seed_and_scenario_and_differ_only_in_governance():
    demo = DemoModel(preset="nhs_vmi_partnership", twin=True, seed=11)
    first, second = demo.panels
    assert demo.labels == ["Hybrid", "Hierarchical"]  # the case as it was, and targets and terror
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


def test_twin_panels_stop_together_at_the_horizon_and_stay_there():
    demo = DemoModel(preset="nhs_vmi_partnership", twin=True)
    steps = 0
    while demo.running:
        demo.step()
        steps += 1
    assert steps == demo.horizon == 60
    assert demo.finished
    demo.step()  # nothing is left to do
    assert [p.steps for p in demo.panels] == [60, 60]
    assert not demo.can_shock


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


def test_no_shock_can_be_applied_once_no_month_is_left():
    demo = DemoModel()
    while not demo.finished:
        demo.step()
    with pytest.raises(RelsimError, match=r"^shock: the run ended at month 60"):
        demo.apply_shock()
    assert demo.shocks == []


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "", str(2**64)])
def test_a_seed_that_is_not_a_whole_number_is_refused_with_the_field_named(text):
    with pytest.raises(RelsimError, match=r"^seed: expected a whole number"):
        parse_seed(text)
    assert Settings.of_preset("nhs_vmi_partnership", seed=text).problem().startswith("seed:")


def test_presets_are_the_bundled_scenarios_small_enough_to_draw_by_their_own_names():
    options = preset_options("nhs_vmi_partnership")
    assert set(options.values()) == set(PRESETS)
    assert options["Pressure shock in year 3"] == "pressure_shock"
    assert "england_system" not in options.values()
    assert not any("_" in label for label in options)


def test_every_governance_rule_the_schema_allows_is_offered_in_words():
    choices = governance_choices()
    assert list(choices.values()) == list(GOVERNANCE_MODES)
    assert not any("_" in label for label in choices)
    for mode in GOVERNANCE_MODES:
        assert other_governance(mode) in GOVERNANCE_MODES
        assert other_governance(mode) != mode


# ---------------------------------------------------------------------------------------------
# The session: a lecturer's actions
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def session() -> Session:
    return Session.start("nhs_vmi_partnership")


def label_of(session: Session, source: str) -> str:
    return next(label for label, value in session.presets.items() if value == source)


@pytest.mark.parametrize("preset", PRESETS)
def test_choosing_a_preset_loads_all_its_values_and_every_reset_builds_them(session, preset):
    session.change(session.settings.value.set(twin=True, seed="7"))
    session.change(session.settings.value.assume(loss_ratio=6.0, trusts=3))
    session.choose(label_of(session, preset))
    settings = session.settings.value
    assert settings == Settings.of_preset(preset, twin=True, seed="7")
    for _ in range(2):  # the first Reset after the preset and every later one
        assert session.reset()
        run = session.run.value
        assert run.scenario_used == load_scenario(preset)
        assert (run.twin, run.seed, run.month) == (True, 7, 0)
        assert not session.pending


def test_after_choosing_pressure_shock_and_reset_the_shock_happens_in_month_27(session):
    session.choose("Pressure shock in year 3")
    session.reset()
    session.advance(28)
    run = session.run.value
    pressure = months_frame(run.panels[0])["pressure"]
    baseline = Settings.of_preset("nhs_vmi_partnership").build()
    for _ in range(28):
        baseline.step()
    calm = months_frame(baseline.panels[0])["pressure"]
    assert np.allclose(pressure[:27], calm[:27])
    assert np.allclose(pressure[27:29] - calm[27:29], 0.8)
    assert run.shock_in(28) == 0.8


def test_twin_survives_a_preset_change_and_an_untick_then_reset(session):
    session.change(session.settings.value.set(twin=True))
    session.reset()
    session.choose("Pressure shock in year 3")
    session.change(session.settings.value.assume(compact=False))
    assert session.pending
    session.reset()
    run = session.run.value
    assert run.twin
    assert len(run.panels) == 2
    assert run.base == load_scenario("pressure_shock")
    assert run.scenario_used.governance.compact.enabled is False
    assert run.scenario_used.pressure.shocks == load_scenario("pressure_shock").pressure.shocks


def test_a_bad_seed_stops_reset_and_says_why_instead_of_running_something_else(session):
    before = session.run.value
    session.change(session.settings.value.set(seed="forty-two"))
    assert not session.reset()
    assert session.problem.value.startswith("seed: expected a whole number")
    assert session.run.value is before
    session.change(session.settings.value.set(seed=" 42 "))
    assert session.reset()
    assert session.problem.value == ""
    assert session.run.value.seed == 42


def test_the_same_settings_give_the_same_run(session):
    session.change(session.settings.value.set(twin=True, seed="9"))
    session.reset()
    session.advance(20)
    first = [months_frame(p) for p in session.run.value.panels]
    session.reset()
    session.advance(20)
    for a, panel in zip(first, session.run.value.panels, strict=True):
        assert a.equals(months_frame(panel))


def play_until_paused(session: Session) -> int:
    """Tick play until it pauses (as the page's play loop does); return the months stepped."""
    steps = 0
    while session.tick():
        steps += 1
        assert steps <= 60
    return steps + 1


@pytest.mark.parametrize("stop", [1, 12, 30, 59, 60])
def test_play_pauses_exactly_at_the_month_asked_for(session, stop):
    session.pause_at(stop)
    session.play()
    assert play_until_paused(session) == stop
    assert session.month == stop
    assert not session.playing.value


def test_play_after_reaching_the_pause_month_goes_on_to_the_end(session):
    session.pause_at(12)
    session.play()
    play_until_paused(session)
    session.play()
    play_until_paused(session)
    assert session.month == 60


def test_a_pause_month_set_while_playing_stops_play_there(session):
    session.play()
    for _ in range(5):
        session.tick()
    session.pause_at(9)
    play_until_paused(session)
    assert session.month == 9


def test_steps_of_six_stop_at_the_horizon_and_the_end_is_final_until_reset(session):
    assert session.advance(6) == 6
    session.advance(53)
    assert session.advance(6) == 1
    assert session.month == 60
    session.play()
    assert not session.playing.value
    session.shock()
    assert session.problem.value.startswith("shock: the run ended at month 60")
    session.choose("Hierarchical baseline")
    assert session.month == 0
    assert session.advance(1) == 1


def test_looking_back_shows_an_earlier_month_until_the_run_moves_on(session):
    session.advance(20)
    session.look_at(8)
    assert session.shown_month == 8
    session.look_at(20)
    assert session.look.value is None
    session.look_at(8)
    session.advance(1)
    assert session.shown_month == 21


def test_reset_keeps_the_previous_run_as_the_ghost(session):
    first = session.run.value
    session.advance(10)
    session.reset()
    assert session.ghost.value is first
    assert session.ghost.value.month == 10


def test_every_change_the_views_show_moves_the_frame_on(session):
    frames = [session.frame.value]
    for act in (
        lambda: session.advance(1),
        lambda: session.look_at(0),
        session.reset,
        lambda: session.present(True),
        lambda: session.compare(False),
        session.shock,
    ):
        act()
        frames.append(session.frame.value)
    assert frames == sorted(set(frames))


# ---------------------------------------------------------------------------------------------
# Charts read what the model recorded
# ---------------------------------------------------------------------------------------------


def test_charts_over_time_plot_what_the_model_recorded():
    demo = DemoModel(seed=2)
    for _ in range(30):
        demo.step()
    panel = demo.panels[0]
    _, payload = charts.time_chart(charts.TRUST, demo, [0], frame=4)
    table = payload.data[charts.DATA]
    rows = [i for i, s in enumerate(table["series"]) if s == "trusts → regulator"]
    assert [table["value"][i] for i in rows] == pytest.approx(
        panel.datacollector.model_vars["mean_trust_in_regulator"], abs=1e-4
    )
    each = [i for i, s in enumerate(table["series"]) if s == charts.EACH_TRUST]
    assert len(each) == 5 * 31
    b = [i for i in each if table["trust"][i] == "Trust B" and table["month"][i] == 30]
    assert table["value"][b[0]] == pytest.approx(
        panel.history.trusts[30, FIELD["trust_in_regulator"], 1], abs=1e-4
    )
    assert payload.frame == 4
    _, told = charts.time_chart(charts.TOLD_EARLY, demo, [0], frame=4)
    surprises = [
        v
        for s, v in zip(
            told.data[charts.DATA]["series"], told.data[charts.DATA]["value"], strict=True
        )
        if s == "surprises"
    ]
    assert surprises == np.cumsum(panel.datacollector.model_vars["surprises"]).tolist()
    assert told.signals["ymax"] >= max(surprises)


def test_twins_side_by_side_share_the_axis_that_grows_with_the_data():
    demo = DemoModel(twin=True, seed=3)
    for _ in range(40):
        demo.step()
    tops = {
        charts.time_chart(charts.TOLD_EARLY, demo, [k], frame=0)[1].signals["ymax"] for k in (0, 1)
    }
    assert len(tops) == 1


def test_presentation_overlays_both_twins_in_one_chart_coloured_by_run():
    demo = DemoModel(twin=True)
    demo.step()
    template, payload = charts.time_chart(charts.TRUST, demo, [0, 1], frame=1)
    assert set(payload.data[charts.DATA]["run"]) == {"Hybrid", "Hierarchical"}
    assert charts.EACH_TRUST not in payload.data[charts.DATA]["series"]
    encodings = [layer.get("encoding", {}) for layer in template.spec["layer"]]
    assert any(e.get("color", {}).get("field") == "run" for e in encodings)


def test_the_previous_run_is_drawn_from_its_own_record():
    old, new = DemoModel(seed=1), DemoModel(seed=2)
    for _ in range(12):
        old.step()
    _, payload = charts.time_chart(charts.TRUST, new, [0], frame=0, ghost=old)
    ghost = payload.data[charts.GHOST]
    rows = [i for i, s in enumerate(ghost["series"]) if s == "trusts → regulator"]
    assert [ghost["value"][i] for i in rows] == pytest.approx(
        old.panels[0].datacollector.model_vars["mean_trust_in_regulator"], abs=1e-4
    )


def test_events_appear_when_the_run_reaches_them():
    demo = Settings.of_preset("pressure_shock", twin=True).build()
    while compact_month(demo.panels[0]) is None and not demo.finished:
        assert "compact" not in event_columns(demo, [0], None)["short"]
        demo.step()
    month = compact_month(demo.panels[0])
    assert month == demo.month  # found in the month it came into force
    events = event_columns(demo, [0, 1], None)
    assert (
        events["label"][events["short"].index("compact")] == f"compact in force from month {month}"
    )
    assert events["run"][events["short"].index("compact")] == "Hybrid"
    assert month < 26, "this seed's compact should come before the shock of month 27"
    while demo.month < 26:
        demo.step()
    assert "shock" not in event_columns(demo, [0], None)["kind"]
    demo.step()
    events = event_columns(demo, [0], look=5)
    shock = events["kind"].index("shock")
    assert (events["month"][shock], events["end"][shock]) == (26.5, 32.5)
    assert events["kind"][-1] == "cursor"
    assert events["month"][-1] == 5
    assert compact_month(demo.panels[1]) is None  # the hierarchical twin has no compact


def test_a_mandate_is_marked_in_its_month():
    demo = Settings.of_preset("hierarchical_baseline").build()
    for _ in range(24):
        demo.step()
    events = event_columns(demo, [0], None)
    assert events["short"] == ["mandate"]
    assert events["month"] == [24]
    assert events["label"] == ["daily huddles mandated in month 24"]


def test_the_network_draws_every_tie_on_a_small_board_and_the_strongest_on_a_large_one():
    demo = DemoModel(seed=2)
    for _ in range(20):
        demo.step()
    small = network.network_columns(demo.panels[0], 20)
    kinds = small["kind"]
    assert (kinds.count("tie"), kinds.count("spoke"), kinds.count("trust")) == (10, 5, 5)
    trust = demo.panels[0].history.relationships[20]
    b = kinds.index("trust") + 1
    assert small["name"][b] == "Trust B"
    assert small["trust"][b] == pytest.approx(trust[2, 0], abs=1e-3)
    assert small["label"][b] == "Trust B"

    large = Settings.of_preset("board_size").build()
    for _ in range(20):
        large.step()
    lines = network.default_lines(40)
    big = network.network_columns(large.panels[0], 20, lines)
    assert big["kind"].count("spoke") == 0
    assert 40 // 2 * network.STRONGEST <= big["kind"].count("tie") <= 40 * network.STRONGEST
    assert set(big["label"]) == {""}  # names on hover only
    assert big["name"][big["kind"].index("trust")] == "T001"


def test_the_heat_map_is_the_recorded_coverage_and_marks_the_adoption_month():
    demo = DemoModel(twin=True, seed=4)
    for _ in range(40):
        demo.step()
    cells = heatmap.coverage_columns([demo.panels[0]], 2)
    i = cells["month"].index(30) + 3
    assert cells["department"][i] == 4
    assert cells["coverage"][i] == pytest.approx(
        demo.panels[0].history.coverage[30, 2, 3], abs=1e-4
    )
    difference = heatmap.coverage_columns(demo.panels, 2)
    expected = demo.panels[0].history.coverage[30, 2, 3] - demo.panels[1].history.coverage[30, 2, 3]
    assert difference["coverage"][i] == pytest.approx(expected, abs=1e-4)
    adoption = demo.panels[0].history.adoption[:41, 2, 0]
    assert heatmap.adoption_month(demo.panels[0], 2) == int(np.flatnonzero(adoption)[0])


def test_chart_templates_are_validated_once_and_shared_between_redraws():
    demo = DemoModel()
    first, _ = charts.time_chart(charts.TRUST, demo, [0], frame=0)
    demo.step()
    second, _ = charts.time_chart(charts.TRUST, demo, [0], frame=1)
    assert first is second
    assert "$schema" not in first.spec


def font_sizes(spec) -> list[float]:
    """Every font size a specification sets, wherever it sets it."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if "fontsize" in key.lower() and isinstance(value, int | float):
                found.append(value)
            found += font_sizes(value)
    elif isinstance(spec, list):
        for item in spec:
            found += font_sizes(item)
    return found


@pytest.mark.parametrize("large", [False, True])
def test_chart_text_is_at_least_14_pixels_and_larger_in_presentation(large):
    demo = DemoModel(twin=True)
    templates = [
        charts.time_chart(v, demo, [0], frame=0)[0] for v in (charts.TRUST, charts.ADOPTION)
    ]
    templates += [network.network_template(5), heatmap.heat_template(60, 12, False)]
    for template in templates:
        sizes = font_sizes(charts.style(template.spec, dark=False, large=large))
        assert sizes
        assert min(sizes) >= (18 if large else 14)


def test_charts_follow_the_dark_theme():
    template = charts.time_chart(charts.TRUST, DemoModel(), [0], frame=0)[0]
    light = charts.style(template.spec, dark=False, large=False)["config"]
    dark = charts.style(template.spec, dark=True, large=False)["config"]
    assert light["axis"]["labelColor"] != dark["axis"]["labelColor"]
    assert dark["axis"]["labelColor"] == dark["legend"]["labelColor"] == dark["text"]["color"]


# ---------------------------------------------------------------------------------------------
# The lesson and the Info tab
# ---------------------------------------------------------------------------------------------


def test_the_readme_carries_the_lesson_plan_of_the_info_tab():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert lesson_table() in readme


def test_the_info_tab_explains_the_model_and_holds_the_lesson_and_sources():
    html = info_html()
    for heading in (
        "What is this model?",
        "How it works",
        "How to use this page",
        "The lesson",
        "Things to notice",
        "Things to try",
        "Sources",
    ):
        assert f"<h2>{heading}</h2>" in html
    assert html.count("<tr>") == len(LESSON) + 1
    assert "{lesson}" not in html
    assert "BMJ" in html


@pytest.mark.parametrize("panels", [[0], [0, 1]])
def test_every_dataset_a_chart_is_sent_is_one_its_template_draws(panels):
    """Vega refuses data for a dataset its chart lacks (an overlay has no ghost layer)."""
    demo, ghost = DemoModel(twin=True), DemoModel(twin=True, seed=2)
    demo.step()
    views = (charts.TRUST, charts.ADOPTION, charts.TOLD_EARLY, charts.PRESSURE_VIEW)
    for view in (*views, charts.ATTENDANCE_VIEW):
        template, payload = charts.time_chart(view, demo, panels, frame=1, ghost=ghost)
        spec = json.dumps(template.spec)
        for name in payload.data:
            assert f'"name": "{name}"' in spec, (view, name)
