"""Wall time of ``relsim calibrate`` (issue 15's targets: the bundled calibration within 15 minutes
on 2 cores at its default budget; a test-sized one within a minute).

Each calibration runs through the command line into a temporary directory, figures and
manifest included, on 2 local processes (``--workers 2``). The test-sized calibration has the
budget of the one ``tests/test_calibration.py`` recovers a known parameter with (one parameter,
one target, 3 generations of 30 particles, 12 runs an evaluation, a 30-month case).

Run: ``.venv/bin/python benchmarks/bench_calibrate.py [--only-small]`` (or ``make bench``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from relsim.cli import main as relsim

WORKERS = "2"
TARGETS = {"bundled": 15 * 60.0, "test-sized": 60.0}
SHORT_CASE = """
[scenario]
name = "short case"
months = 30
[partner]
end_month = 30
"""
SMALL = """
[calibration]
scenario = "short.toml"
seed = 7
populations = 3
population_size = 30
replications = 12
[parameters."governance.compact.clause_hours"]
low = 4
high = 48
[targets.compact]
statistic = "compact_month"
window = [15.5, 18.5]
source = "the statistic at clause_hours = 24 (17), +- 1.5 months"
"""


def time_calibration(source: str, out: Path) -> float:
    """Seconds ``relsim calibrate`` takes, start to manifest."""
    start = time.perf_counter()
    code = relsim(["calibrate", source, "--out", str(out), "--workers", WORKERS])
    if code != 0:
        raise SystemExit(f"relsim calibrate {source} failed with status {code}")
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "short.toml").write_text(SHORT_CASE, encoding="utf-8")
        (Path(tmp) / "small.toml").write_text(SMALL, encoding="utf-8")
        cases = [("test-sized", str(Path(tmp) / "small.toml"))]
        if "--only-small" not in sys.argv:
            cases.append(("bundled", "case_calibration"))
        for name, source in cases:
            out = Path(tmp) / name
            seconds = time_calibration(source, out)
            generations = pd.read_csv(out / "generations.csv")
            verdict = "met" if seconds <= TARGETS[name] else "NOT met"
            print(
                f"{name:10s} calibration: {seconds:7.1f} s on {WORKERS} workers, "
                f"{len(generations)} generations, {generations['evaluations'].sum()} evaluations, "
                f"final epsilon {generations['epsilon'].iloc[-1]:.3g} "
                f"(target {TARGETS[name]:.0f} s: {verdict})"
            )


if __name__ == "__main__":
    main()
