"""Calibration files: the base scenario, the priors of the parameters, and the case's patterns.

A calibration file (TOML) declares what ``relsim calibrate`` fits and to what::

    [calibration]
    name = "case"
    scenario = "nhs_vmi_partnership"   # a bundled name, or a file relative to this one
    seed = 20151001
    populations = 8                    # generations of ABC-SMC
    population_size = 200              # accepted particles per generation
    replications = 10                  # runs (seeds) per evaluation of a parameter set

    [parameters."governance.compact.clause_hours"]
    prior = "uniform"
    low = 6
    high = 40

    [targets.compact]
    statistic = "compact_month"        # from relsim.runs.patterns.STATISTICS
    window = [10, 14]
    source = '"nearly 12 months to negotiate" (Core Insights article)'

It is checked as scenarios and experiments are: every error is one line naming the file, the
dotted field and what was expected (:class:`relsim.errors.ScenarioError`), before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relsim.errors import ScenarioError
from relsim.runs.patterns import STATISTICS, statistic_problem
from relsim.scenario import (
    MAX_MONTHS,
    Reporter,
    Scenario,
    build_table,
    bundled_files,
    check_keys,
    load_scenario,
    param,
    read_source,
    required,
    resolve_scenario_path,
    schema_type_at,
    with_overrides,
)

#: Where bundled calibrations live, beside the bundled experiments (not among them: a
#: calibration is not a sweep, and ``relsim experiments`` lists only sweeps).
KIND = "experiments/calibrations"

#: Priors a parameter may take.
PRIORS = ("uniform",)

#: Most particles, evaluations' replications and generations a file may ask for: a typo such
#: as ``population_size = 200000`` should be caught, not started.
MAX_POPULATIONS = 100
MAX_POPULATION_SIZE = 100_000
MAX_REPLICATIONS = 1_000

#: Most corners of the prior box built as whole scenarios to check the rules between keys (a few
#: milliseconds each): up to eight parameters. Beyond that, a proposal that breaks a rule is
#: rejected as it is drawn.
MAX_CORNER_CHECKS = 256

_TOP = ("calibration", "parameters", "targets")


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationTable:
    """The ``[calibration]`` table of a calibration file, as written."""

    name: str = param("", "Name shown in outputs; empty: the file's stem.")
    description: str = param("", "One or two sentences on what is calibrated to what.")
    scenario: str = required(
        "The base scenario: a file (relative to the calibration file) or a bundled name.",
        expected="a scenario file or a bundled name",
    )
    seed: int = param(0, "Seed from which every proposal and run derives.", lo=0, hi=2**63 - 1)
    populations: int = param(
        8,
        "Generations of ABC-SMC (at most; fewer once every target is met).",
        lo=1,
        hi=MAX_POPULATIONS,
    )
    population_size: int = param(
        200, "Accepted parameter sets (particles) per generation.", lo=2, hi=MAX_POPULATION_SIZE
    )
    replications: int = param(
        10,
        "Runs (seeds) of the scenario per evaluation of a parameter set.",
        lo=1,
        hi=MAX_REPLICATIONS,
        unit="runs",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorTable:
    """One ``[parameters."dotted.key"]`` table, as written."""

    prior: str = param("uniform", "The prior distribution.", choices=PRIORS)
    low: float = required("Lower end of the prior.", expected="a number")
    high: float = required("Upper end of the prior.", expected="a number")


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetTable:
    """One ``[targets.NAME]`` table, as written."""

    statistic: str = required(
        "The summary statistic.",
        expected="one of " + ", ".join(STATISTICS),
        choices=tuple(STATISTICS),
    )
    window: tuple[float, float] = required(
        "The values the case allows: [low, high].", expected="[low, high]"
    )
    source: str = required(
        "Where the pattern comes from: a quotation and its citation.",
        expected='"quotation" (citation)',
    )
    month: int = param(0, "The month M of a statistic 'by month M'.", lo=0, hi=MAX_MONTHS)


@dataclass(frozen=True, slots=True)
class Prior:
    """A calibrated parameter: its dotted scenario key and uniform prior."""

    key: str
    low: float
    high: float
    integer: bool
    """Whether the key takes whole numbers (proposals are rounded)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A pattern of the case: a statistic of the runs and the window the sources allow."""

    name: str
    statistic: str
    low: float
    high: float
    source: str
    month: int | None


@dataclass(frozen=True)
class CalibrationRecord:
    """A finished calibration as its ``calibration.json`` records it.

    What the figures and the report of a calibration directory need, without the calibration
    file and base scenario it was run from (which may have moved or changed since).
    """

    name: str
    description: str
    scenario_source: str
    seed: int
    populations: int
    population_size: int
    replications: int
    priors: tuple[Prior, ...]
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Calibration(CalibrationRecord):
    """A validated calibration: its record, with the file and the base scenario it runs on."""

    source: str
    """The calibration file, as shown in messages."""
    base: Scenario

    def to_dict(self) -> dict[str, Any]:
        """The calibration as plain data (JSON-ready)."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "scenario": self.scenario_source,
            "base_scenario_hash": self.base.digest(),
            "seed": self.seed,
            "populations": self.populations,
            "population_size": self.population_size,
            "replications": self.replications,
            "parameters": {
                p.key: {"prior": "uniform", "low": p.low, "high": p.high, "integer": p.integer}
                for p in self.priors
            },
            "targets": {
                t.name: {
                    "statistic": t.statistic,
                    "window": [t.low, t.high],
                    "month": t.month,
                    "source": t.source,
                }
                for t in self.targets
            },
        }

    def digest(self) -> str:
        """A SHA-256 hash of everything that decides the posterior (not names or paths).

        The budget of populations is left out: a calibration resumed with more generations
        continues the same one.
        """
        data = self.to_dict()
        for key in ("name", "description", "source", "scenario", "populations"):
            data.pop(key)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def record_from_dict(data: Mapping[str, Any]) -> CalibrationRecord:
    """A calibration's record from :meth:`Calibration.to_dict`'s data (``calibration.json``)."""
    return CalibrationRecord(
        name=data["name"],
        description=data["description"],
        scenario_source=data["scenario"],
        seed=int(data["seed"]),
        populations=int(data["populations"]),
        population_size=int(data["population_size"]),
        replications=int(data["replications"]),
        priors=tuple(
            Prior(key, float(p["low"]), float(p["high"]), bool(p["integer"]))
            for key, p in data["parameters"].items()
        ),
        targets=tuple(
            Target(
                name,
                t["statistic"],
                float(t["window"][0]),
                float(t["window"][1]),
                t["source"],
                t["month"],
            )
            for name, t in data["targets"].items()
        ),
    )


def _quoted(key: str) -> str:
    return f'"{key}"'


def _base(meta: CalibrationTable, file: Path, src: str) -> Scenario:
    """The base scenario: a file relative to the calibration file, or a bundled scenario."""
    relative = (file.parent / meta.scenario).resolve()
    try:
        path = relative if relative.is_file() else resolve_scenario_path(meta.scenario)
    except ScenarioError:
        raise ScenarioError(
            src,
            "calibration.scenario",
            f"no such scenario file or bundled scenario ({meta.scenario!r}); looked for {relative}",
        ) from None
    return load_scenario(path)


def _priors(raw: Any, base: Scenario, src: str) -> tuple[Prior, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(
            src, "parameters", 'expected at least one [parameters."dotted.key"] table'
        )
    priors = []
    for key, table in raw.items():
        path = f"parameters.{_quoted(key)}"
        tp = schema_type_at(key, src, path)
        if tp not in (float, int):
            raise ScenarioError(src, path, "only numeric keys can be calibrated")
        prior = build_table(PriorTable, table, path, Reporter(src))
        if not prior.low < prior.high:
            raise ScenarioError(
                src, path, f"expected low < high (got low = {prior.low}, high = {prior.high})"
            )
        whole = tp is int
        for end in ("low", "high"):
            value = getattr(prior, end)
            try:
                with_overrides(base, {key: round(value) if whole else value}, src)
            except ScenarioError as exc:
                raise ScenarioError(src, f"{path}.{end}", exc.message) from None
        priors.append(Prior(key, prior.low, prior.high, whole))
    return tuple(priors)


def _targets(raw: Any, base: Scenario, src: str) -> tuple[Target, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(src, "targets", "expected at least one [targets.NAME] table")
    targets = []
    for name, table in raw.items():
        path = f"targets.{name}"
        target = build_table(TargetTable, table, path, Reporter(src))
        low, high = target.window
        if not low < high:
            raise ScenarioError(src, f"{path}.window", f"expected low < high (got {[low, high]})")
        if not target.source.strip():
            raise ScenarioError(src, f"{path}.source", "expected a quotation and its citation")
        statistic = STATISTICS[target.statistic]
        problem = statistic_problem(target.statistic, base)
        if problem:
            raise ScenarioError(src, f"{path}.statistic", f"{target.statistic} {problem}")
        month: int | None = None
        if statistic.needs_month:
            last = statistic.last_month(base)
            if not 1 <= target.month <= last:
                raise ScenarioError(
                    src,
                    f"{path}.month",
                    f"{target.statistic} needs a month from 1 to {last} (got {target.month})",
                )
            month = target.month
        elif "month" in table:
            raise ScenarioError(src, f"{path}.month", f"{target.statistic} takes no month")
        targets.append(Target(name, target.statistic, low, high, target.source, month))
    return tuple(targets)


def _check_corners(base: Scenario, priors: tuple[Prior, ...], src: str) -> None:
    """Check the corners of the prior box as whole scenarios (the rules between keys).

    A floor above a ceiling is valid key by key and not together; a proposal inside the box
    that still breaks such a rule is rejected as it is drawn (it counts as missing every
    target).
    """
    if 2 ** len(priors) > MAX_CORNER_CHECKS:
        return
    ends = [(round(p.low), round(p.high)) if p.integer else (p.low, p.high) for p in priors]
    for corner in itertools.product(*ends):
        point = {p.key: v for p, v in zip(priors, corner, strict=True)}
        try:
            with_overrides(base, point, src)
        except ScenarioError as exc:
            shown = ", ".join(f"{k} = {json.dumps(v)}" for k, v in point.items())
            raise ScenarioError(
                src,
                "parameters",
                f"the prior box includes points that are not valid scenarios, e.g. {shown}: "
                f"{exc.field}: {exc.message}",
            ) from None


def calibration_from_dict(raw: Mapping[str, Any], *, file: Path, source: str) -> Calibration:
    """Build a validated calibration from the parsed contents of a file.

    Raises:
        ScenarioError: naming the file, the field and what was expected.
    """
    src = source
    check_keys(raw, _TOP, "", Reporter(src))
    if "calibration" not in raw:
        raise ScenarioError(src, "calibration", "the [calibration] table is required")
    meta = build_table(CalibrationTable, raw["calibration"], "calibration", Reporter(src))
    base = _base(meta, file, src)
    priors = _priors(raw.get("parameters"), base, src)
    targets = _targets(raw.get("targets"), base, src)
    _check_corners(base, priors, src)
    return Calibration(
        name=meta.name or file.stem,
        description=meta.description,
        source=src,
        scenario_source=meta.scenario,
        base=base,
        seed=meta.seed,
        populations=meta.populations,
        population_size=meta.population_size,
        replications=meta.replications,
        priors=priors,
        targets=targets,
    )


def bundled_calibrations() -> dict[str, Path]:
    """Map the name of each bundled calibration to its file."""
    return bundled_files(KIND)


def load_calibration(source: str | Path) -> Calibration:
    """Load and validate a calibration file (or a bundled calibration by name).

    Raises:
        ScenarioError: naming the file, the field and what was expected.
    """
    path, shown, raw = read_source(source, KIND)
    return calibration_from_dict(raw, file=path.resolve(), source=shown)


__all__ = [
    "Calibration",
    "CalibrationRecord",
    "Prior",
    "Target",
    "bundled_calibrations",
    "calibration_from_dict",
    "load_calibration",
    "record_from_dict",
]
