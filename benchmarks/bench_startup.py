"""Start-up cost of the quick commands (issue 13's target: well under half a second each).

``relsim --help``, ``scenarios``, ``experiments`` and ``show`` read a few TOML files and print;
they should cost little more than starting Python. Each is run as a fresh process, again and
again, with two references: a bare ``python -c pass`` (the floor) and ``python -c "import
mesa"`` (what a command pays if it imports the model by accident).

The commands are run in turns (every command once, then every command again), so the load of
a shared machine affects all of them alike. Wall time is measured around the child process;
peak memory is the child's own maximum resident set size, from ``os.wait4``.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--repeat N]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

TARGET_MS = 500.0

PYTHON = sys.executable
_script = Path(PYTHON).with_name("relsim")
RELSIM = [str(_script)] if _script.exists() else [PYTHON, "-m", "relsim.cli"]

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [PYTHON, "-c", "pass"],
    'python -c "import mesa"': [PYTHON, "-c", "import mesa"],
    "relsim --help": [*RELSIM, "--help"],
    "relsim scenarios": [*RELSIM, "scenarios"],
    "relsim experiments": [*RELSIM, "experiments"],
    "relsim show nhs_vmi_partnership": [*RELSIM, "show", "nhs_vmi_partnership"],
}
REFERENCES = {"python -c pass", 'python -c "import mesa"'}


def measure(argv: list[str]) -> tuple[float, float]:
    """Run ``argv`` once, output discarded: its wall time (ms) and peak RSS (MiB).

    Raises:
        SystemExit: if the command fails (a benchmark of a failing command means nothing).
    """
    actions = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench_startup: {' '.join(argv)} failed")
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    rss = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
    return wall * 1e3, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (15)")
    args = parser.parse_args()

    for argv in COMMANDS.values():  # warm the file cache and the bytecode
        measure(argv)
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    peaks: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, argv in COMMANDS.items():
            wall, rss = measure(argv)
            walls[name].append(wall)
            peaks[name].append(rss)

    print(f"{args.repeat} runs each; wall time in ms, peak RSS in MiB")
    print(f"{'command':34s} {'median':>8s} {'min':>8s} {'RSS med':>8s} {'RSS min':>8s}")
    slow = []
    for name in COMMANDS:
        median = statistics.median(walls[name])
        print(
            f"{name:34s} {median:8.0f} {min(walls[name]):8.0f} "
            f"{statistics.median(peaks[name]):8.0f} {min(peaks[name]):8.0f}"
        )
        if name not in REFERENCES and median > TARGET_MS:
            slow.append(name)
    verdict = "met" if not slow else "NOT met by " + ", ".join(slow)
    print(f"target: every command within {TARGET_MS:.0f} ms (median): {verdict}")


if __name__ == "__main__":
    main()
