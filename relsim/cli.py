"""The ``relsim`` command line.

Every error a user can fix (a bad file, key, value or flag) is printed as one line on stderr,
naming the file or flag, the field and what was expected, and the command exits with status 2
without writing anything.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import json
import os
import re
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from relsim.errors import RelsimError, ScenarioError

if TYPE_CHECKING:
    from relsim.scenario import Scenario

EXIT_USAGE = 2
MAX_SEED = 2**64 - 1


class _VersionAction(argparse.Action):
    """``--version``: the version is looked up only when asked (its lookup is slow to import)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> NoReturn:
        from relsim.runs.provenance import version_text

        print(version_text())
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


#: Characters that would move a terminal's cursor, recolour it or retitle its window if printed:
#: C0 controls except newline and tab, DEL, and the C1 controls (the bytes of ESC sequences).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    r"""``text`` with terminal control characters escaped (``\x1b``), as it is to be printed.

    Names come from files anyone may have written; printed raw, an escape sequence in one
    could rewrite what the terminal shows.
    """
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def _say(text: str, *, end: str = "\n") -> None:
    """Print to stdout, control characters escaped (:func:`printable`)."""
    print(printable(text), end=end)


def _error(message: str) -> None:
    """Print one line on stderr, as every error is, control characters escaped."""
    print(f"relsim: {printable(message)}", file=sys.stderr)


def _seed(text: str) -> int:
    """Parse ``--seed``: a whole number from 0 to 2^64 - 1."""
    if not re.fullmatch(r"\s*\d+\s*", text) or int(text) > MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2^64-1 (got {text!r})")
    return int(text)


def _months(text: str) -> int:
    """Parse ``--months``: a whole number from 1 to MAX_MONTHS."""
    from relsim.scenario import MAX_MONTHS

    if not re.fullmatch(r"\s*\d+\s*", text) or not 1 <= int(text) <= MAX_MONTHS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of months from 1 to {MAX_MONTHS} (got {text!r})"
        )
    return int(text)


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Turn ``["governance.mode=hierarchical", ...]`` into a dict of typed values."""
    from relsim.scenario import parse_value

    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError("--set", item, "expected KEY=VALUE, e.g. pressure.baseline=0.4")
        overrides[key.strip()] = parse_value(value.strip())
    return overrides


def _load(args: argparse.Namespace) -> tuple[Scenario, str]:
    """The scenario a command names, with its ``--set`` and ``--months`` overrides applied."""
    from relsim.scenario import load_scenario

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
    from relsim.presentation.console import run_summary
    from relsim.runs.simulation import simulate

    scenario, source = _load(args)
    out = (
        Path(args.out)
        if args.out
        else Path("results") / _scenario_slug(source) / f"seed-{args.seed}"
    )
    result = simulate(scenario, seed=args.seed)
    if args.no_figures:
        written = result.save(out, source=source)
    else:
        from relsim.presentation.figures import save_run  # matplotlib: only when drawing

        written = save_run(result, out, source=source)
    if not args.quiet:
        _say(run_summary(result))
        figures = [p for p in written if p.suffix != ".csv" and p.name != "manifest.json"]
        _say(
            f"wrote {out}/: months.csv, trusts.csv, coverage.csv, relationships.csv, "
            f"manifest.json" + (f" and {len(figures)} figures" if figures else "")
        )
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    """``relsim scenarios``: list the bundled scenarios."""
    from relsim.scenario import bundled_scenarios, load_scenario

    scenarios = {name: load_scenario(path) for name, path in bundled_scenarios().items()}
    width = max(13, *(len(s.governance.mode) for s in scenarios.values()))
    for name, scenario in scenarios.items():
        _say(
            f"{name:24s} {scenario.governance.mode:{width}s} {scenario.months:4d} months  "
            f"{scenario.name}"
        )
        if args.verbose and scenario.scenario.description:
            _say(f"{'':24s} {scenario.scenario.description}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """``relsim show``: print the resolved scenario (defaults, file and overrides merged)."""
    scenario, source = _load(args)
    data = scenario.to_dict()
    if args.format == "json":
        _say(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        import tomli_w

        from relsim.scenario import resolve_scenario_path

        path = resolve_scenario_path(source)
        _say(f"# resolved from {path}; hash {scenario.digest()[:16]}")
        _say(tomli_w.dumps(data), end="")
    return 0


def _bounded(lo: int, hi: int) -> Callable[[str], int]:
    """A parser for a whole-number flag from ``lo`` to ``hi``."""

    def parse(text: str) -> int:
        if not re.fullmatch(r"\s*\d+\s*", text) or not lo <= int(text) <= hi:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {lo} to {hi} (got {text!r})"
            )
        return int(text)

    return parse


def cmd_sweep(args: argparse.Namespace) -> int:
    """``relsim sweep``: run an experiment into a resumable Parquet store, then summarise it."""
    from relsim.runs.executors import available_cores
    from relsim.runs.experiment import load_experiment, with_base_overrides, with_replications
    from relsim.runs.progress import make_progress
    from relsim.runs.runner import SweepError, run_sweep

    experiment = load_experiment(args.experiment)
    if args.set:
        experiment = with_base_overrides(experiment, parse_overrides(args.set), "--set")
    if args.replications is not None:
        experiment = with_replications(experiment, args.replications, "--replications")
    slug = Path(experiment.source).stem
    out = Path(args.out) if args.out else Path("results") / "sweeps" / slug
    # The command that continues this sweep: the same --set and --replications, or a resume
    # would be refused (another experiment) or would extend it (the file's replications).
    again = shlex.join(
        [
            "relsim",
            "sweep",
            args.experiment,
            "--out",
            str(out),
            *(x for kv in args.set or () for x in ("--set", kv)),
            *(("--replications", str(args.replications)) if args.replications is not None else ()),
            "--resume",
        ]
    )
    if args.dry_run:
        from relsim.runs.plan import describe, plan

        workers = 1 if args.scheduler is None and args.workers == 1 else args.workers
        p = plan(experiment, out, workers or available_cores(), resume=args.resume)
        _say(describe(p, out))
        return 0
    try:
        outcome = run_sweep(
            experiment,
            out,
            workers=args.workers,
            scheduler=args.scheduler,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=make_progress(quiet=args.quiet),
            flush_runs=args.flush_every,
        )
    except SweepError as exc:
        if not exc.saved:
            raise
        _error(f"{exc}; {exc.saved} runs are saved in {out}; when fixed, continue with: {again}")
        return 1
    for repair in outcome.repairs:
        _error(repair)
    if outcome.interrupted:
        _error(
            f"interrupted: {outcome.done} of {outcome.total} runs are saved in {out}; "
            f"continue with: {again}"
        )
        return 130
    rate = outcome.ran / outcome.seconds if outcome.seconds > 0 else 0.0
    if not args.quiet:
        _say(
            f"sweep {experiment.name!r}: {outcome.done} of {outcome.total} runs saved in {out} "
            f"({outcome.ran} ran now, in {outcome.seconds:.1f} s with start-up, "
            f"{rate:.0f} runs/s overall; "
            f"{outcome.failed} failed)"
        )
    if not args.no_summary:
        _summarize(out, quiet=args.quiet)
    return 0


def _summarize(directory: Path, *, quiet: bool) -> None:
    from relsim.analysis.summary import summarize, write_summary
    from relsim.presentation.tables import format_summary

    summary = summarize(directory)
    written = write_summary(summary, directory)
    if not quiet:
        _say(format_summary(summary))
        if written:
            _say("wrote " + ", ".join(str(p) for p in written))


def cmd_summarize(args: argparse.Namespace) -> int:
    """``relsim summarize``: summary tables of a sweep directory."""
    _summarize(Path(args.directory), quiet=args.quiet)
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``relsim sensitivity``: Morris, Sobol or delta indices of a sampled sweep."""
    from relsim.analysis.sensitivity import sensitivity, write_sensitivity
    from relsim.presentation.tables import format_sensitivity

    directory = Path(args.directory)
    result = sensitivity(directory, args.outcome or None)
    for note in result.notes:
        _error(f"warning: {note}")
    written = [write_sensitivity(result, directory)]
    if not args.no_figure:
        from relsim.presentation.figures import save_figure
        from relsim.presentation.sensitivity_figures import sensitivity_figure

        figure = sensitivity_figure(result, args.outcome or None)
        for suffix in (".png", ".svg"):
            save_figure(figure, directory / f"sensitivity{suffix}")
            written.append(directory / f"sensitivity{suffix}")
    if not args.quiet:
        _say(format_sensitivity(result))
        _say("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``relsim export``: a sweep in EMA Workbench's layout, or as CSV files."""
    from relsim.analysis.export import export

    # --out as typed: a trailing slash ("gcdir/") means a folder, not an archive name.
    written = export(Path(args.directory), args.format, args.out)
    if not args.quiet:
        _say("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``relsim validate``: the stylised facts at the defaults; exit 1 if any fails."""
    from relsim.analysis.facts import validate
    from relsim.presentation.tables import format_validation
    from relsim.runs.executors import make_executor

    with make_executor(args.workers, None) as executor:
        validation = validate(args.replications, executor)
    _say(format_validation(validation, args.replications))
    return 1 if validation.failed else 0


def cmd_conclusions(args: argparse.Namespace) -> int:
    """``relsim conclusions``: the share of the prior box (or a posterior) where each holds."""
    from relsim.analysis import conclusions as c
    from relsim.presentation.tables import format_conclusions
    from relsim.runs.executors import make_executor

    out = Path(args.out) if args.out else None
    if out is not None:
        c.check_out(out)
    if args.posterior:
        draws, population = c.posterior_sample(args.posterior, args.draws, args.seed), "posterior"
    else:
        draws, population = c.prior_sample(args.draws, args.seed), "prior box"
    with make_executor(args.workers, None) as executor:
        values = c.collect(draws, args.replications, args.seed, executor)
    table, decided = c.conclusions(values, population), c.deciders(draws, values)
    _say(format_conclusions(table, args.replications, decided))
    if out is not None:
        c.write_conclusions(out, table, c.per_draw_table(draws, values), decided)
    return 0


def cmd_experiments(args: argparse.Namespace) -> int:
    """``relsim experiments``: list the bundled experiments."""
    from relsim.runs.experiment import bundled_experiments, load_experiment

    for name, path in bundled_experiments().items():
        # Bundled designs are checked whole by the tests; a sweep checks its own before running.
        experiment = load_experiment(path, check_design=False)
        _say(f"{name:24s} {experiment.n_runs:6d} runs  {experiment.name}")
        if args.verbose and experiment.description:
            _say(f"{'':24s} {experiment.description}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``relsim calibrate``: fit assumption parameters to the case's patterns by ABC-SMC."""
    import dataclasses

    from relsim.presentation.calibration_figures import save_calibration_figures
    from relsim.runs.calibration import calibrate, write_manifest
    from relsim.runs.calibration_file import load_calibration
    from relsim.runs.executors import make_executor

    calibration = load_calibration(args.calibration)
    if args.seed is not None:
        calibration = dataclasses.replace(calibration, seed=args.seed)
    out = Path(args.out) if args.out else Path("results") / "calibrations" / calibration.name
    with make_executor(args.workers, args.scheduler) as executor:
        calibrate(
            calibration,
            out,
            executor,
            populations=args.budget,
            resume=args.resume,
            progress=None if args.quiet else sys.stderr,
        )
    save_calibration_figures(out, calibration)
    write_manifest(out, calibration)
    if not args.quiet:
        print(f"calibration {calibration.name!r}: posterior, diagnostics and figures in {out}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """``relsim plot``: the figures of a sweep or run directory, as PNG and SVG."""
    from relsim.presentation.plot import plot_directory

    out, written = plot_directory(Path(args.directory), args.out, colour_by=args.colour_by)
    if not args.quiet:
        stems = sorted({p.stem for p in written})
        _say(f"wrote {len(written)} files to {out}/: {', '.join(stems)} (PNG and SVG)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``relsim report``: one self-contained HTML report of a sweep directory."""
    from relsim.presentation.report import write_report

    path = write_report(Path(args.directory), args.out)
    if not args.quiet:
        _say(f"wrote the report {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _port(text: str) -> int:
    """Parse ``--port``: a whole number from 1 to 65535."""
    if not re.fullmatch(r"\s*\d+\s*", text) or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535 (got {text!r})")
    return int(text)


def _loopback(host: str) -> bool:
    """Whether ``--host`` listens on this machine only (a host name may resolve anywhere)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cmd_demo(args: argparse.Namespace) -> int:
    """``relsim demo``: serve the teaching dashboard in the browser."""
    from relsim.scenario import load_scenario

    scenario = load_scenario(args.scenario)  # a bad scenario is one line, before any server
    from relsim.dashboard import demo  # no Solara: the model the page drives

    if len(scenario.trusts) > demo.MAX_DASHBOARD_TRUSTS:
        raise RelsimError(
            f"demo: {args.scenario}: the dashboard draws every trust of a board, at most "
            f"{demo.MAX_DASHBOARD_TRUSTS}; this scenario has {len(scenario.trusts)} "
            "(use relsim run or sweep)"
        )
    source = args.scenario
    if Path(source).exists():
        source = str(Path(source).resolve())
    # Solara reads its settings when imported, so it is looked for here, not imported.
    if importlib.util.find_spec("solara") is None:
        raise RelsimError("demo: the dashboard needs the viz extra (pip install 'relsim[viz]')")
    from relsim.dashboard.server import check_address, serve

    check_address(args.host, args.port)
    if not _loopback(args.host):
        _error(
            f"warning: --host {args.host} lets other machines reach the dashboard, which has no "
            "login: anyone who can reach this port can use it (the default 127.0.0.1 keeps it "
            "to this machine)"
        )
    host = f"[{args.host}]" if ":" in args.host else args.host
    _say(f"relsim demo: {scenario.name} at http://{host}:{args.port}/ (Ctrl+C stops it)")
    sys.stdout.flush()
    serve(source, args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``relsim`` argument parser and its subcommands."""
    parser = _Parser(
        prog="relsim",
        description="Agent-based simulation of regulatory relationships in healthcare.",
    )
    parser.add_argument("--version", action=_VersionAction, help="show relsim's version and exit")
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

    sweep = sub.add_parser(
        "sweep", help="run an experiment's runs into a resumable Parquet store, and summarise"
    )
    sweep.add_argument("experiment", help="an experiment file, or the name of a bundled one")
    sweep.add_argument("--out", help="sweep directory (default results/sweeps/<experiment>/)")
    sweep.add_argument(
        "--workers",
        type=_bounded(1, 1024),
        help="processes (default: all cores; 1 runs serially)",
    )
    sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS|local",
        help="run on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' to "
        "start a LocalCluster with --workers processes",
    )
    again = sweep.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        action="store_true",
        help="continue the sweep in --out, running only what is missing",
    )
    again.add_argument("--overwrite", action="store_true", help="replace a sweep already in --out")
    sweep.add_argument(
        "--flush-every",
        type=_bounded(1, 1_000_000),
        default=200,
        metavar="N",
        help="write finished runs to disk every N runs (and at least every 10 s; default 200)",
    )
    sweep.add_argument(
        "--replications",
        type=_bounded(1, 100_000),
        metavar="N",
        help="runs of each design point instead of the file's (with --resume, more than a "
        "finished sweep has extends it: only the new replications run)",
    )
    sweep.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a key of the base scenario, as the file's [base] does (repeatable), "
        "e.g. --set scenario.months=24",
    )
    sweep.add_argument(
        "--dry-run",
        action="store_true",
        help="check the experiment and print its cells, design points, runs and an estimated "
        "time; run and write nothing",
    )
    sweep.add_argument("--no-summary", action="store_true", help="do not summarise at the end")
    sweep.add_argument("--quiet", action="store_true", help="no progress and no summary table")
    sweep.set_defaults(func=cmd_sweep)

    summarize = sub.add_parser("summarize", help="summary tables of a sweep directory")
    summarize.add_argument("directory", help="a directory written by relsim sweep")
    summarize.add_argument("--quiet", action="store_true", help="write the CSV files only")
    summarize.set_defaults(func=cmd_summarize)

    sens = sub.add_parser(
        "sensitivity", help="global sensitivity indices (SALib) of a sweep with a sampled design"
    )
    sens.add_argument("directory", help="a directory written by relsim sweep")
    sens.add_argument(
        "--outcomes",
        "--outcome",
        dest="outcome",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="analyse and draw these outcomes, in this order (default: all, headline outcomes "
        "first; the figure shows the first six)",
    )
    sens.add_argument("--no-figure", action="store_true", help="write the CSV only")
    sens.add_argument("--quiet", action="store_true", help="print nothing on success")
    sens.set_defaults(func=cmd_sensitivity)

    exp = sub.add_parser("export", help="export a sweep for EMA Workbench or spreadsheets")
    exp.add_argument("directory", help="a directory written by relsim sweep")
    exp.add_argument(
        "--format",
        choices=("ema", "csv"),
        required=True,
        help="ema: EMA Workbench's results archive (.tar.gz); csv: runs.csv and months.csv",
    )
    exp.add_argument(
        "--out",
        required=True,
        help="the .tar.gz file (ema) or folder (csv); replaces only a previous relsim export",
    )
    exp.add_argument("--quiet", action="store_true", help="print nothing on success")
    exp.set_defaults(func=cmd_export)

    val = sub.add_parser(
        "validate",
        help="check the stylised facts of the case at the defaults (exit 1 if any fails)",
    )
    val.add_argument(
        "--replications",
        type=_bounded(3, 100_000),
        default=100,
        help="paired replications of each arm (default 100)",
    )
    val.add_argument("--workers", type=_bounded(1, 1024), help="processes (default: all cores)")
    val.set_defaults(func=cmd_validate)
    con = sub.add_parser(
        "conclusions",
        help="how much of the prior box each policy conclusion (rule against rule) holds in",
    )
    con.add_argument(
        "--draws", type=_bounded(2, 100_000), default=200, help="parameter sets (default 200)"
    )
    con.add_argument(
        "--replications",
        type=_bounded(2, 10_000),
        default=10,
        help="paired seeds of every rule at each parameter set (default 10)",
    )
    con.add_argument("--workers", type=_bounded(1, 1024), help="processes (default: all cores)")
    con.add_argument(
        "--seed", type=_bounded(0, 2**63 - 1), default=20150401, help="seed of design and runs"
    )
    con.add_argument(
        "--posterior",
        metavar="PATH",
        help="draw the parameter sets from a posterior (relsim calibrate's output directory or "
        "its posterior.parquet) instead of the prior box",
    )
    con.add_argument(
        "--out",
        metavar="FILE",
        help="also write the table (CSV) and, beside it, "
        "each parameter set's outcomes (FILE with .draws.csv)",
    )
    con.set_defaults(func=cmd_conclusions)
    plot = sub.add_parser("plot", help="figures of a sweep or run directory (PNG and SVG)")
    plot.add_argument("directory", help="a directory written by relsim sweep or relsim run")
    plot.add_argument("--out", metavar="FIGDIR", help="figures directory (default DIR/figures/)")
    plot.add_argument(
        "--colour-by",
        metavar="FACTOR",
        help="a grid factor whose levels the sweep's figures compare in colour (default: "
        "governance.mode when varied, else the first grid factor)",
    )
    plot.add_argument("--quiet", action="store_true", help="print nothing on success")
    plot.set_defaults(func=cmd_plot)

    report = sub.add_parser("report", help="one self-contained HTML report of a sweep")
    report.add_argument("directory", help="a directory written by relsim sweep")
    report.add_argument("--out", metavar="FILE", help="the report (default DIR/report.html)")
    report.add_argument("--quiet", action="store_true", help="print nothing on success")
    report.set_defaults(func=cmd_report)

    experiments = sub.add_parser("experiments", help="list the bundled experiments")
    experiments.add_argument("-v", "--verbose", action="store_true", help="show descriptions")
    experiments.set_defaults(func=cmd_experiments)

    calib = sub.add_parser(
        "calibrate", help="fit assumption parameters to the case's patterns (ABC-SMC, pyABC)"
    )
    calib.add_argument("calibration", help="a calibration file, or the name of a bundled one")
    calib.add_argument("--out", help="output directory (default results/calibrations/<name>/)")
    calib.add_argument(
        "--budget",
        type=_bounded(1, 100),
        metavar="N",
        help="most generations (default: the file's)",
    )
    calib.add_argument(
        "--workers", type=_bounded(1, 1024), help="processes (default: all cores; 1: serially)"
    )
    calib.add_argument(
        "--scheduler", metavar="ADDRESS|local", help="evaluate on a Dask cluster (as sweep's)"
    )
    calib.add_argument("--resume", action="store_true", help="continue the calibration in --out")
    calib.add_argument("--seed", type=_bounded(0, 2**63 - 1), help="seed (default: the file's)")
    calib.add_argument("--quiet", action="store_true", help="no progress lines")
    calib.set_defaults(func=cmd_calibrate)

    demo = sub.add_parser("demo", help="serve the teaching dashboard in a browser")
    demo.add_argument(
        "scenario",
        nargs="?",
        default="nhs_vmi_partnership",
        help="the first preset: a scenario file or a bundled name (default nhs_vmi_partnership)",
    )
    demo.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    demo.add_argument("--port", type=_port, default=8765, help="port to listen on (default 8765)")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``relsim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is handled below
        return code
    except RelsimError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (``relsim show ... | head``): stop quietly, as a Unix tool ended
        # by SIGPIPE does. Point stdout at devnull so the flush at exit cannot raise again
        # (the recipe of Python's signal module documentation).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except OSError as exc:
        # An output that could not be written (a full disk, a lost mount) where no writer
        # turned it into a RelsimError already: still one line naming the file, no traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror or exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
