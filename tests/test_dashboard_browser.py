"""The dashboard as a teacher meets it: ``relsim demo`` served, driven in headless Chromium.

Playwright's Python package drives Debian's Chromium (``/usr/bin/chromium``; Playwright's own
browser download is not used). The test starts the real command, steps the model from the
page, checks that the views change and no error shows, switches on twin mode, and saves a
screenshot (``RELSIM_SCREENSHOT=path`` saves it there too; that is how docs/dashboard.png is
made). Without Chromium the test is skipped on a developer's machine and fails in CI, where
``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


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


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1500, "height": 1750})
        finally:
            browser.close()


def _card(page: Page, title: str):
    return page.locator(".relsim-view", has_text=title)


def _drawing(page: Page, title: str) -> str:
    """What Vega drew in a view's card (Vega-Embed draws on a canvas): its pixels, as a URL."""
    canvas = _card(page, title).locator(".vega-embed canvas").first
    expect(canvas).to_be_visible(timeout=TIMEOUT_MS)
    return str(canvas.evaluate("c => c.toDataURL()"))


def _changed(page: Page, title: str, before: str) -> str:
    """Wait until a view's drawing differs from ``before`` (Vega redraws after a debounce)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while (now := _drawing(page, title)) == before:
        assert time.monotonic() < deadline, f"{title!r} did not change"
        page.wait_for_timeout(100)
    return now


def test_teacher_steps_the_dashboard_and_every_view_moves(demo_url, page, tmp_path):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(demo_url, wait_until="networkidle", timeout=60_000)
    expect(page.get_by_text("Time: 0.0")).to_be_visible(timeout=TIMEOUT_MS)
    views = ["Trust network", "Trust over time", "Spread of improvement practices"]
    views += ["Training heat map", "Meetings, problems told early, surprises"]
    before = {title: _drawing(page, title) for title in views}
    state = _card(page, "The compact and the state of play")
    expect(state).to_contain_text("0 of 60")

    for month in range(1, 6):
        page.get_by_role("button", name="Step").click()
        expect(page.get_by_text(f"Time: {month}.0")).to_be_visible(timeout=TIMEOUT_MS)
    expect(state).to_contain_text("5 of 60")
    for title in views:
        _changed(page, title, before[title])

    page.get_by_role("button", name="Pressure shock now").click()
    page.get_by_role("button", name="Step").click()
    expect(state).to_contain_text(re.compile(r"shock \+0\.6"), timeout=TIMEOUT_MS)

    page.get_by_label("Twin: the other governance alongside").check()
    page.get_by_role("button", name="Reset").click()
    expect(page.get_by_text("Time: 0.0")).to_be_visible(timeout=TIMEOUT_MS)
    expect(state).to_contain_text("hierarchical governance", timeout=TIMEOUT_MS)
    expect(state).to_contain_text("networked governance")
    twin_start = _drawing(page, "Trust over time")
    for _ in range(3):
        page.get_by_role("button", name="Step").click()
    expect(page.get_by_text("Time: 3.0")).to_be_visible(timeout=TIMEOUT_MS)
    _changed(page, "Trust over time", twin_start)
    # Two facets side by side: the twin's chart is wider than the single run's was.
    width = _card(page, "Trust over time").locator(".vega-embed canvas").first.bounding_box()
    assert width is not None
    assert width["width"] > 550

    # Play runs the twins on their own until paused: a lecture's usual way to watch a run.
    before_play = _drawing(page, "Training heat map")
    page.get_by_role("button", name="▶").click()
    expect(page.get_by_text(re.compile(r"Time: (2[4-9]|[3-6]\d)\.0"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    page.get_by_role("button", name="❚❚").click()
    _changed(page, "Training heat map", before_play)
    page.wait_for_timeout(1500)  # let Vega finish drawing for the screenshot

    body = page.inner_text("body")
    assert "Traceback" not in body
    assert "Error" not in body
    assert problems == []
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000
    if target := os.environ.get("RELSIM_SCREENSHOT"):
        shutil.copyfile(shot, target)
