"""Cost of one dashboard step, redraw included (issue 16's targets: 100 ms for the five-trust
twin, 300 ms for forty trusts).

The page is rendered in memory with ``solara.render`` and stepped by clicking its own
*+1 month* button, so each timing covers what a click costs the server: the model steps, every
view rebuilds its chart data from the recorded history, and the chart widgets take the new
data (which the server then sends to the browser). Drawing in the browser happens on the
client, after this, and is not timed here; the browser tests wait for it.

Each board is timed over months 1-50 after a warm-up step that builds and validates the chart
templates (once per shape): the five-trust NHS–VMI preset and the forty-trust ``board_size``
preset, each alone and in twin mode.

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
from relsim.dashboard.server import SCENARIO_ENV

STEPS = 50
TARGETS_MS = {"nhs_vmi_partnership": 100.0, "board_size": 300.0}


def _click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def time_steps(rc) -> list[float]:
    """Milliseconds per *+1 month* click, after one warm-up step."""
    _click(rc, "+1 month")
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        _click(rc, "+1 month")
        times.append((time.perf_counter() - start) * 1e3)
    return times


def report(name: str, times: list[float], target: float | None) -> None:
    p95 = statistics.quantiles(times, n=20)[-1]
    verdict = (
        ""
        if target is None
        else f"  target {target:.0f} ms: {'met' if p95 <= target else 'NOT met'}"
    )
    print(
        f"one step + redraw, {name:28s} median {statistics.median(times):6.1f} ms  "
        f"p95 {p95:6.1f} ms  max {max(times):6.1f} ms  ({STEPS} steps){verdict}"
    )


def main() -> None:
    for preset, target in TARGETS_MS.items():
        os.environ[SCENARIO_ENV] = preset
        _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
        single = time_steps(rc)
        rc.find(v.Checkbox, label="Twin: the other governance alongside").widget.v_model = True
        _click(rc, "Reset")
        twin = time_steps(rc)
        rc.close()
        report(f"{preset}", single, None if preset == "nhs_vmi_partnership" else target)
        report(f"{preset}, twin", twin, target)


if __name__ == "__main__":
    main()
