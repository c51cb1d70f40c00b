"""Wall time of ``relsim calibrate`` (issue 15's targets: the bundled calibration within 15 minutes
on 2 cores at its default budget; a test-sized one within a minute).

Each calibration runs through the command line into a temporary directory, figures and
manifest included, on 2 local processes (``--workers 2``). The test-sized calibration is the
one ``tests/test_calibration.py`` recovers a known parameter with.

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
SMALL = Path(__file__).resolve().parents[1] / "tests" / "data" / "calibration_small.toml"


def time_calibration(source: str, out: Path) -> float:
    """Seconds ``relsim calibrate`` takes, start to manifest."""
    start = time.perf_counter()
    code = relsim(["calibrate", source, "--out", str(out), "--workers", WORKERS])
    if code != 0:
        raise SystemExit(f"relsim calibrate {source} failed with status {code}")
    return time.perf_counter() - start


def main() -> None:
    cases = [("test-sized", str(SMALL))]
    if "--only-small" not in sys.argv:
        cases.append(("bundled", "case_calibration"))
    with tempfile.TemporaryDirectory() as tmp:
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
