"""The ``relsim`` command line.

Every error a user can fix (a bad file, key, value or flag) is printed as one line on stderr,
naming the file or flag, the field and what was expected, and the command exits with status 2
without writing anything.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from relsim.errors import RelsimError, ScenarioError
from relsim.scenario import (
    MAX_MONTHS,
    Scenario,
    bundled_scenarios,
    load_scenario,
    parse_value,
    resolve_scenario_path,
)

EXIT_USAGE = 2
MAX_SEED = 2**64 - 1


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _seed(text: str) -> int:
    """Parse ``--seed``: a whole number from 0 to 2^64 - 1."""
    if not re.fullmatch(r"\s*\d+\s*", text) or int(text) > MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2^64-1 (got {text!r})")
    return int(text)


def _months(text: str) -> int:
    """Parse ``--months``: a whole number from 1 to MAX_MONTHS."""
    if not re.fullmatch(r"\s*\d+\s*", text) or not 1 <= int(text) <= MAX_MONTHS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of months from 1 to {MAX_MONTHS} (got {text!r})"
        )
    return int(text)


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Turn ``["governance.mode=hierarchical", ...]`` into a dict of typed values."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError("--set", item, "expected KEY=VALUE, e.g. pressure.baseline=0.4")
        overrides[key.strip()] = parse_value(value.strip())
    return overrides


def _load(args: argparse.Namespace) -> tuple[Scenario, str]:
    overrides = parse_overrides(args.set or [])
    if getattr(args, "months", None) is not None:
        overrides["scenario.months"] = args.months
    scenario = load_scenario(args.scenario, overrides, override_source="--set")
    return scenario, str(args.scenario)


def _scenario_slug(source: str) -> str:
    path = Path(source)
    return path.stem if path.suffix == ".toml" or path.exists() else source


def cmd_run(args: argparse.Namespace) -> int:
    """``relsim run``: simulate one scenario and write its tables and figures."""
    from relsim.console import run_summary
    from relsim.simulation import simulate

    scenario, source = _load(args)
    out = (
        Path(args.out)
        if args.out
        else Path("results") / _scenario_slug(source) / f"seed-{args.seed}"
    )
    result = simulate(scenario, seed=args.seed)
    written = result.save(out, source=source, figures=not args.no_figures)
    if not args.quiet:
        print(run_summary(result))
        figures = [p for p in written if p.suffix != ".csv" and p.name != "manifest.json"]
        print(
            f"wrote {out}/: months.csv, trusts.csv, coverage.csv, relationships.csv, "
            f"manifest.json" + (f" and {len(figures)} figures" if figures else "")
        )
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    """``relsim scenarios``: list the bundled scenarios."""
    scenarios = {name: load_scenario(path) for name, path in bundled_scenarios().items()}
    width = max(13, *(len(s.governance.mode) for s in scenarios.values()))
    for name, scenario in scenarios.items():
        print(
            f"{name:24s} {scenario.governance.mode:{width}s} {scenario.months:4d} months  "
            f"{scenario.name}"
        )
        if args.verbose and scenario.scenario.description:
            print(f"{'':24s} {scenario.scenario.description}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """``relsim show``: print the resolved scenario (defaults, file and overrides merged)."""
    scenario, source = _load(args)
    data = scenario.to_dict()
    if args.format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        import tomli_w

        path = resolve_scenario_path(source)
        print(f"# resolved from {path}; hash {scenario.digest()[:16]}")
        print(tomli_w.dumps(data), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``relsim`` argument parser and its subcommands."""
    parser = _Parser(
        prog="relsim",
        description="Agent-based simulation of regulatory relationships in healthcare.",
    )
    from relsim import __version__

    parser.add_argument("--version", action="version", version=f"relsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def scenario_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("scenario", help="a scenario file, or the name of a bundled scenario")
        p.add_argument(
            "--set",
            action="append",
            metavar="KEY=VALUE",
            help="override a scenario key, e.g. --set governance.mode=hierarchical "
            "(repeatable; values are read as TOML, else as text)",
        )

    run = sub.add_parser("run", help="run one scenario and write its tables and figures")
    scenario_args(run)
    run.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    run.add_argument("--months", type=_months, help="horizon in months (default: the scenario's)")
    run.add_argument("--out", help="output directory (default results/<scenario>/seed-<N>/)")
    run.add_argument("--no-figures", action="store_true", help="write tables only")
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.set_defaults(func=cmd_run)

    scenarios = sub.add_parser("scenarios", help="list the bundled scenarios")
    scenarios.add_argument("-v", "--verbose", action="store_true", help="show descriptions")
    scenarios.set_defaults(func=cmd_scenarios)

    show = sub.add_parser("show", help="print a resolved scenario")
    scenario_args(show)
    show.add_argument("--format", choices=("toml", "json"), default="toml")
    show.set_defaults(func=cmd_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``relsim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except RelsimError as exc:
        print(f"relsim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("relsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
