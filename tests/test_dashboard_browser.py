"""The dashboard as a lecturer meets it: ``relsim demo`` served, driven in headless Chromium.

Playwright's Python package drives Debian's Chromium (``/usr/bin/chromium``, or
``RELSIM_CHROMIUM``; Playwright's own browser download is not used). The tests start the real
command once and follow the README's ten-minute lesson plan (:mod:`relsim.dashboard.lesson`)
step by step, asserting what a student would see: the month readout, the state table, the
charts' data as Vega holds it, the end-of-run notice. A screenshot of each lesson step is saved
in the test's temporary directory, or in ``RELSIM_SCREENSHOTS`` if set (that is how
``docs/dashboard.png`` is made: step 2). Without Chromium the tests are skipped on a
developer's machine and fail in CI, where ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("RELSIM_CHROMIUM", "/usr/bin/chromium"))
# Chromium's own background traffic is refused on a closed network; these flags keep it quiet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
HORIZON = 60

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    """``relsim demo`` on a free port, as a user starts it; stopped after the tests."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "relsim.cli", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    first = server.stdout.readline()
    url = f"http://127.0.0.1:{port}/"
    try:
        assert first.startswith("relsim demo: NHS–VMI partnership 2015–2020 at " + url), first
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the server did not start listening"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the lesson's screenshots go."""
    target = Path(os.environ.get("RELSIM_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def open_page(browser: Browser, url: str, width: int, height: int) -> tuple[Page, list[str]]:
    """A fresh page of the dashboard at a window size, and the errors its console reports."""
    page = browser.new_page(viewport={"width": width, "height": height})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url, wait_until="networkidle", timeout=60_000)
    expect(page.locator(".relsim-month")).to_have_text(f"Month 0 of {HORIZON}", timeout=TIMEOUT_MS)
    all_drawn(page)
    return page, problems


# ---------------------------------------------------------------------------------------------
# What a student sees
# ---------------------------------------------------------------------------------------------


def month(page: Page, m: int) -> None:
    """Wait until the month readout says month ``m``."""
    expect(page.locator(".relsim-month")).to_have_text(
        f"Month {m} of {HORIZON}", timeout=TIMEOUT_MS
    )


def frames(page: Page) -> list[int]:
    """The frame each chart on the page has drawn last."""
    return page.eval_on_selector_all(
        ".relsim-chart", "els => els.map(e => Number(e.dataset.drawn))"
    )


def all_drawn(page: Page, after: int = -1) -> None:
    """Wait until every chart has drawn one and the same frame, later than ``after``."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        drawn = frames(page)
        if drawn and len(set(drawn)) == 1 and drawn[0] > after:
            return
        assert time.monotonic() < deadline, f"charts did not all draw one frame: {drawn}"
        page.wait_for_timeout(20)


def act(page: Page, action: Callable[[], None]) -> None:
    """Do something that changes the views, and wait until every chart shows the change."""
    before = max(frames(page), default=-1)
    action()
    all_drawn(page, before)


def state(page: Page):
    return page.locator(".relsim-view", has_text="The compact and the state of play")


def state_row(page: Page, label: str) -> list[str]:
    """One row of the state table: its values, one per run."""
    row = state(page).locator("tr", has=page.locator(f"td:text-is('{label}')"))
    return row.locator("td").all_inner_texts()[1:]


def chart_data(page: Page, card: str, dataset: str) -> list[list[dict[str, Any]]]:
    """A dataset of each chart in a view's card, as Vega holds it (what is drawn)."""
    charts = page.locator(".relsim-view", has_text=card).locator(".relsim-chart > div")
    return charts.evaluate_all(f"els => els.map(e => e.vegaView.data({dataset!r}))")


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the drop-down menu labelled ``label``."""
    page.locator(".v-select", has=page.locator(f"label:text-is('{label}')")).click()
    page.get_by_role("option", name=option, exact=True).click()


def pause_at(page: Page, m: int) -> None:
    page.get_by_role("textbox", name="Pause at month").fill(str(m))


def play_to(page: Page, m: int) -> None:
    """Type ``m`` in *Pause at month*, press Play, and see play stop there."""
    pause_at(page, m)
    act(page, lambda: page.get_by_role("button", name="▶ Play").click())
    month(page, m)
    expect(page.get_by_role("button", name="▶ Play")).to_be_visible(timeout=TIMEOUT_MS)
    all_drawn(page)


def step_to(page: Page, m: int) -> None:
    """Step to month ``m`` with *+6 months* and *+1 month* (fewer redraws than play)."""
    now = int(page.locator(".relsim-month").inner_text().split()[1])
    while now < m:
        months = 6 if m - now >= 6 else 1
        label = "+6 months" if months == 6 else "+1 month"
        act(page, lambda label=label: page.get_by_role("button", name=label).click())
        now += months
        month(page, now)


def snap(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"))


def press_reset(page: Page) -> None:
    act(page, lambda: page.locator(".relsim-header").get_by_role("button", name="Reset").click())
    month(page, 0)


# ---------------------------------------------------------------------------------------------
# The lesson plan, end to end
# ---------------------------------------------------------------------------------------------


def test_the_lesson_plan_end_to_end(demo_url, browser, shots):
    page, problems = open_page(browser, demo_url, 1600, 1000)
    choose(page, "Speed", "As fast as it draws")

    # 0–2: NHS–VMI partnership, Twin, Reset; pause at month 12 and play.
    page.get_by_label("Twin: the other governance alongside").check()
    press_reset(page)
    expect(page.locator(".relsim-panel-title").first).to_have_text("Hybrid")
    assert state_row(page, "Governance") == ["Hybrid", "Hierarchical"]
    play_to(page, 12)
    page.wait_for_timeout(600)  # play has stopped on the month, not after it
    month(page, 12)
    assert state_row(page, "Month") == ["12 of 60", "12 of 60"]
    snap(page, shots, "lesson-1-month-12")

    # 2–4: on to month 30; the compact has come into force, and is marked on the charts.
    step_to(page, 30)
    compact = state_row(page, "Compact")
    assert compact[0].startswith("in force since month"), compact
    since = int(compact[0].rsplit(" ", 1)[1])
    (events, _) = chart_data(page, "Trust over time", "events")
    assert {"kind": "rule", "month": since, "short": "compact"}.items() <= next(
        e for e in events if e["short"] == "compact"
    ).items()
    snap(page, shots, "lesson-2-month-30")
    if target := os.environ.get("RELSIM_SCREENSHOT"):
        page.screenshot(path=target)

    # 4–6: the heat map of another trust; month 45; look back.
    choose(page, "Trust", "Trust C")
    expect(page.locator(".relsim-view", has_text="Training heat map: Trust C")).to_be_visible()
    step_to(page, 45)
    slider = page.locator(".relsim-lookback").get_by_role("slider")
    slider.focus()
    for _ in range(5):
        slider.press("ArrowLeft")
    expect(page.locator(".relsim-month-note")).to_have_text("showing month 40")
    expect(page.locator(".relsim-view", has_text="Trust network in month 40")).to_be_visible()
    month(page, 45)  # the run itself stays where it was
    page.get_by_role("button", name="Back to the latest").click()
    snap(page, shots, "lesson-3-month-45")

    # 6–8: the pressure-shock preset (twin stays on), then Reset: the preset's shock hits.
    act(page, lambda: choose(page, "Preset", "Pressure shock in year 3"))
    month(page, 0)
    expect(page.get_by_label("Twin: the other governance alongside")).to_be_checked()
    press_reset(page)
    step_to(page, 28)
    assert state_row(page, "External pressure")[0].endswith("(shock +0.8)")
    assert len(state_row(page, "External pressure")) == 2  # still twins
    (shocks, _) = chart_data(page, "Pressure and the regulator's stance", "events")
    assert [e["label"] for e in shocks if e["kind"] == "shock"] == [
        "pressure shock +0.8 from month 27 for 6 months"
    ]
    step_to(page, 40)
    snap(page, shots, "lesson-4-shock")

    # 8–10: untick the compact, Reset: twins of the same preset without a compact; to the end.
    page.get_by_label("Board negotiates a compact").uncheck()
    expect(page.locator(".relsim-pending")).to_be_visible()
    press_reset(page)
    assert state_row(page, "Governance") == ["Hybrid", "Hierarchical"]
    assert state_row(page, "Compact") == ["none (switched off)", "none (switched off)"]
    expect(state(page)).to_contain_text("This run: Pressure shock in year 3; Hybrid")
    expect(state(page)).to_contain_text("compact off")
    step_to(page, HORIZON)
    expect(page.locator(".relsim-end")).to_contain_text("The run has reached month 60, its end")
    expect(page.get_by_role("button", name="▶ Play")).to_be_disabled()
    expect(page.get_by_role("button", name="Pressure shock now")).to_be_disabled()
    all_drawn(page)
    snap(page, shots, "lesson-5-end")

    # ... then a different seed: the previous run stays on the charts, dashed.
    page.get_by_role("textbox", name="Seed").fill("2")
    press_reset(page)
    ghosts = chart_data(page, "Trust over time", "ghost")
    assert all(len(g) == 3 * (HORIZON + 1) for g in ghosts)  # three series, months 0-60
    expect(state(page)).to_contain_text("Dashed: the previous run")

    # After the end, another preset is playable.
    act(page, lambda: choose(page, "Preset", "Hierarchical baseline"))
    month(page, 0)
    step_to(page, 6)
    assert state_row(page, "Governance")[0] == "Hierarchical"
    assert "Traceback" not in page.inner_text("body")
    assert problems == []
    page.close()


def test_a_preset_then_reset_builds_the_preset(demo_url, browser):
    """The defect the lesson met: choose ``pressure_shock``, press Reset, play past month 27."""
    page, problems = open_page(browser, demo_url, 1600, 1000)
    choose(page, "Preset", "Pressure shock in year 3")
    press_reset(page)
    step_to(page, 28)
    assert state_row(page, "External pressure")[0].endswith("(shock +0.8)")
    press_reset(page)  # and every later Reset too
    step_to(page, 28)
    assert state_row(page, "External pressure")[0].endswith("(shock +0.8)")
    assert problems == []
    page.close()


def horizon_in_view(page: Page) -> list[dict[str, Any]]:
    """Each chart over time: where its horizon month is drawn, and the edges around it."""
    return page.locator(".relsim-chart > div").evaluate_all(
        """els => els.flatMap(e => {
            const view = e.vegaView;
            try { view.data("events"); } catch (err) { return []; }  // the network
            const x = view.scale("x");
            const canvas = e.querySelector("canvas").getBoundingClientRect();
            const card = e.closest(".relsim-view").getBoundingClientRect();
            return [{
                horizon: x.domain()[1],
                at: canvas.left + view.origin()[0] + x(x.domain()[1]),
                canvas: [canvas.left, canvas.right],
                card: [card.left, card.right],
            }];
        })"""
    )


def check_charts_fill_their_cards(page: Page, width: int) -> None:
    """Every chart over time shows the whole horizon, inside its card and the window."""
    charts = horizon_in_view(page)
    assert len(charts) == 12  # five views over time and the strip, for each twin
    for chart in charts:
        assert chart["horizon"] >= HORIZON
        assert chart["canvas"][0] <= chart["at"] <= chart["canvas"][1] <= chart["card"][1] + 0.5
        # each twin's chart takes its half of the card
        assert chart["canvas"][1] - chart["canvas"][0] > 0.4 * (chart["card"][1] - chart["card"][0])
        assert chart["card"][1] <= width


def test_charts_fill_their_cards_at_projector_and_full_hd_sizes(demo_url, browser):
    page, problems = open_page(browser, demo_url, 1280, 720)
    page.get_by_label("Twin: the other governance alongside").check()
    press_reset(page)
    step_to(page, 6)
    check_charts_fill_their_cards(page, 1280)
    month_size = page.locator(".relsim-month").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert month_size >= 28

    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(500)  # the charts follow their cards' new width
    check_charts_fill_their_cards(page, 1920)
    assert problems == []

    # Presentation: larger text, the twins overlaid on one chart per view.
    act(page, lambda: page.get_by_label("Presentation").check())
    (table,) = chart_data(page, "Trust over time", "table")
    assert {row["run"] for row in table} == {"Hybrid", "Hierarchical"}
    caption = page.locator(".relsim-caption").first
    assert caption.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 18
    # KNOWN DEFECT, open: switching presentation on closes widgets that the browser then
    # still syncs once ("Syncing error: no comm channel defined"); nothing else may appear.
    assert set(problems) <= {"Syncing error: no comm channel defined"}
    page.close()
