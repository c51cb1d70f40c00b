"""Cost of one dashboard step, redraw included (issue 5's target: within 100 ms).

The page is rendered in memory with ``solara.render`` and stepped by clicking SolaraViz's own
Step button, so each timing covers what a click costs the server: Mesa's controller steps the
model, every view rebuilds its chart data from the recorded history, and the widgets take the
new specifications (which the server would then send to the browser). Drawing in the browser
happens on the client, after this, and is not timed here.

The five-trust NHS–VMI preset is timed over months 1-50, after a warm-up step that builds and
validates the chart templates (once per shape); twin mode is timed the same way, for
information.

Run: ``.venv/bin/python benchmarks/bench_dashboard.py`` (or ``make bench``).
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")

import ipyvuetify as v
import solara

from relsim.dashboard.app import Page

STEPS = 50
TARGET_MS = 100.0


def _click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def time_steps(rc) -> list[float]:
    """Milliseconds per Step click, after one warm-up step."""
    _click(rc, "Step")
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        _click(rc, "Step")
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main() -> None:
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    single = time_steps(rc)
    rc.find(v.Checkbox, label="Twin: the other governance alongside").widget.v_model = True
    _click(rc, "Reset")
    twin = time_steps(rc)
    for name, times in (("five trusts", single), ("five trusts, twin mode", twin)):
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"one step + redraw, {name:24s} median {statistics.median(times):6.1f} ms  "
            f"p95 {p95:6.1f} ms  max {max(times):6.1f} ms  ({STEPS} steps)"
        )
    verdict = "met" if statistics.quantiles(single, n=20)[-1] <= TARGET_MS else "NOT met"
    print(
        f"target: one step of the five-trust model with its redraw within {TARGET_MS:.0f} ms "
        f"(p95): {verdict}"
    )


if __name__ == "__main__":
    main()
