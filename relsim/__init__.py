"""relsim: agent-based simulation of regulatory relationships in healthcare.

A regulator and NHS trusts exchange interactions every month; trust between them evolves under
hierarchical or networked governance, and improvement practices spread between trusts or stall.

Every public name is imported on first use (PEP 562), so that ``import relsim`` costs next to
nothing: the command line imports the package before it knows which command it runs, and only
``relsim run``, ``sweep`` and their kind need the model (Mesa alone takes about a second to
import), pandas or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relsim.analysis.summary import summarize
    from relsim.analysis.sweep_data import load_sweep
    from relsim.errors import RelsimError, ScenarioError
    from relsim.model.governance import GOVERNANCE, GovernanceRule
    from relsim.model.mesa_model import RegulationModel
    from relsim.presentation.figures import save_run
    from relsim.presentation.plot import plot_directory
    from relsim.presentation.report import write_report
    from relsim.runs.experiment import load_experiment
    from relsim.runs.many import ManyRuns, simulate_many
    from relsim.runs.runner import run_sweep
    from relsim.runs.simulation import RunResult, simulate
    from relsim.runs.store import read_months, read_runs
    from relsim.scenario import Scenario, bundled_scenarios, load_scenario

    __version__: str

#: The module each public name lives in.
_SOURCES = {
    "GOVERNANCE": "relsim.model.governance",
    "GovernanceRule": "relsim.model.governance",
    "ManyRuns": "relsim.runs.many",
    "RegulationModel": "relsim.model.mesa_model",
    "RelsimError": "relsim.errors",
    "RunResult": "relsim.runs.simulation",
    "Scenario": "relsim.scenario",
    "ScenarioError": "relsim.errors",
    "bundled_scenarios": "relsim.scenario",
    "load_experiment": "relsim.runs.experiment",
    "load_sweep": "relsim.analysis.sweep_data",
    "load_scenario": "relsim.scenario",
    "plot_directory": "relsim.presentation.plot",
    "read_months": "relsim.runs.store",
    "read_runs": "relsim.runs.store",
    "run_sweep": "relsim.runs.runner",
    "save_run": "relsim.presentation.figures",
    "simulate": "relsim.runs.simulation",
    "simulate_many": "relsim.runs.many",
    "summarize": "relsim.analysis.summary",
    "write_report": "relsim.presentation.report",
}


def _version() -> str:
    """The installed distribution's version (importlib.metadata is slow to import: ~0.1 s)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("relsim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"


def __getattr__(name: str) -> object:
    """Import a public name on first use, and keep it so that the next use is a plain lookup."""
    if name == "__version__":
        value: object = _version()
    elif name in _SOURCES:
        value = getattr(importlib.import_module(_SOURCES[name]), name)
    else:
        raise AttributeError(f"module 'relsim' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's own names and the public ones, imported or not (for ``dir`` and completion)."""
    return sorted({*globals(), *__all__})


__all__ = [
    "GOVERNANCE",
    "GovernanceRule",
    "ManyRuns",
    "RegulationModel",
    "RelsimError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "bundled_scenarios",
    "load_experiment",
    "load_scenario",
    "load_sweep",
    "plot_directory",
    "read_months",
    "read_runs",
    "run_sweep",
    "save_run",
    "simulate",
    "simulate_many",
    "summarize",
    "write_report",
]
