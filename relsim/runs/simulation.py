"""Run one scenario and get its tables: ``simulate(scenario, seed=...)``."""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from relsim.atomic import MANIFEST, atomic_directory, write_json
from relsim.errors import RelsimError
from relsim.model.mesa_model import RegulationModel
from relsim.runs.provenance import code_digest, scenario_provenance, versions
from relsim.scenario import Scenario, load_scenario, scenario_from_dict, with_overrides

#: The tables of a run, by file name.
TABLES = ("months", "trusts", "coverage", "relationships")

#: How floats are written to CSV: enough digits to re-run an analysis, identical bytes every time.
CSV_FLOAT_FORMAT = "%.8g"


@dataclass(frozen=True)
class RunResult:
    """The tables of one run, with the scenario and seed that produced them.

    Attributes:
        scenario: The resolved scenario.
        seed: The seed of the run.
        months: One row a month from month 0: model-level series (``months.csv``).
        trusts: Month × trust state (``trusts.csv``).
        coverage: Month × trust × department training coverage, the heat map
            (``coverage.csv``).
        relationships: Month × ordered pair of actors, their trust (``relationships.csv``).
    """

    scenario: Scenario
    seed: int
    months: pd.DataFrame
    trusts: pd.DataFrame
    coverage: pd.DataFrame
    relationships: pd.DataFrame

    def manifest(self, source: str | None = None) -> dict[str, object]:
        """Provenance of the run: resolved scenario and its hash, seed, versions, files."""
        return {
            "relsim": "run",
            "seed": self.seed,
            "months": int(self.months["month"].iloc[-1]),
            "versions": versions(),
            "code_hash": code_digest(),  # the version number does not change with every edit
            "tables": {f"{name}.csv": len(getattr(self, name)) for name in TABLES},
            **scenario_provenance(self.scenario, source),
        }

    def write_tables(self, directory: Path, source: str | None = None) -> list[Path]:
        """Write the CSV tables and ``manifest.json`` into an existing directory."""
        written = []
        for name in TABLES:
            path = Path(directory) / f"{name}.csv"
            getattr(self, name).to_csv(path, index=False, float_format=CSV_FLOAT_FORMAT)
            written.append(path)
        write_json(Path(directory) / MANIFEST, self.manifest(source))
        return [*written, Path(directory) / MANIFEST]

    def save(self, directory: Path | str, *, source: str | None = None) -> list[Path]:
        """Write the run's tables and ``manifest.json`` to ``directory``: no figures.

        The directory is written whole or not at all; an existing relsim output directory
        there is replaced, anything else is left alone (:func:`relsim.atomic.atomic_directory`).
        Figures belong to the presentation layer: :func:`relsim.presentation.figures.save_run`
        writes the tables, the manifest and the figures, as ``relsim run`` does.

        Returns:
            Names of the files written, relative to ``directory``.
        """
        with atomic_directory(Path(directory)) as tmp:
            written = self.write_tables(tmp, source)
        return [Path(p.name) for p in written]

    @classmethod
    def load(cls, directory: Path | str) -> RunResult:
        """Read back a run directory written by :meth:`save` (its CSV tables and manifest).

        Floats come back as written (8 significant digits), and a float column whose values are
        all whole numbers (a gaming gap of 0 throughout) comes back as integers: plenty to redraw
        figures or re-run an analysis; re-simulate from the manifest's scenario and seed for the
        exact tables.

        Raises:
            RelsimError: if the directory holds no relsim run, or a table is missing or
                unreadable.
        """
        directory = Path(directory)
        try:
            manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("relsim") != "run":
            raise RelsimError(f"{directory}: not a relsim run directory (no run manifest.json)")
        scenario = scenario_from_dict(manifest["scenario"], source=str(directory / MANIFEST))
        tables = {}
        for name in TABLES:
            path = directory / f"{name}.csv"
            try:
                frame = pd.read_csv(path)
            except (OSError, ValueError) as exc:
                raise RelsimError(f"{path}: cannot read the run's {name} table ({exc})") from None
            if "region" in frame:  # a trust listed without a region has an empty one
                frame["region"] = frame["region"].astype(object).fillna("").astype(str)
            tables[name] = frame
        seed = manifest.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise RelsimError(
                f"{directory / MANIFEST}: seed: expected a whole number (got {seed!r})"
            )
        return cls(scenario=scenario, seed=seed, **tables)


def months_frame(model: RegulationModel) -> pd.DataFrame:
    """The model-level series a model's DataCollector gathered, one row a month."""
    return model.datacollector.get_model_vars_dataframe().reset_index(drop=True)


def _check_seed(seed: object) -> None:
    """A run's seed must be recorded to be reproduced: a whole number, 0 to 2**64 - 1."""
    if (
        isinstance(seed, bool)
        or not isinstance(seed, numbers.Integral)
        or not 0 <= int(seed) < 2**64
    ):
        raise ValueError(f"seed: expected a whole number from 0 to 2**64 - 1 (got {seed!r})")


def simulate(
    scenario: Scenario | str | Path | None = None,
    seed: int = 1,
    months: int | None = None,
) -> RunResult:
    """Run a scenario once and return its tables.

    Args:
        scenario: A :class:`Scenario`, a scenario file, or a bundled scenario's name.
        seed: Seed of the run; the same scenario and seed give identical tables.
        months: Horizon, if different from the scenario's.
    """
    _check_seed(seed)
    resolved = load_scenario(scenario)
    if months is not None:
        resolved = with_overrides(resolved, {"scenario.months": months}, "months")
    model = RegulationModel(resolved, rng=seed)
    model.run_model()
    history = model.history
    return RunResult(
        scenario=resolved,
        seed=seed,
        months=months_frame(model),
        trusts=history.trusts_frame(),
        coverage=history.coverage_frame(),
        relationships=history.relationships_frame(),
    )
