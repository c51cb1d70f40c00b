"""relsim: agent-based simulation of regulatory relationships in healthcare.

A regulator and NHS trusts exchange interactions every month; trust between them evolves under
hierarchical or networked governance, and improvement practices spread between trusts or stall.
"""

from importlib.metadata import PackageNotFoundError, version

from relsim.errors import RelsimError, ScenarioError
from relsim.model.governance import GOVERNANCE, GovernanceRule
from relsim.model.mesa_model import RegulationModel
from relsim.runs.simulation import RunResult, simulate
from relsim.scenario import Scenario, bundled_scenarios, load_scenario

try:
    __version__ = version("relsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

_LAZY = {
    "load_experiment": "relsim.runs.experiment",
    "run_sweep": "relsim.runs.runner",
    "summarize": "relsim.analysis.summary",
    "read_runs": "relsim.runs.store",
    "read_months": "relsim.runs.store",
    "plot_directory": "relsim.presentation.plot",
    "write_report": "relsim.presentation.report",
}


def __getattr__(name: str) -> object:
    """Sweep tools, imported on first use (they bring in pyarrow, scipy and SALib)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'relsim' has no attribute {name!r}")


__all__ = [
    "GOVERNANCE",
    "GovernanceRule",
    "RegulationModel",
    "RelsimError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "bundled_scenarios",
    "load_experiment",
    "load_scenario",
    "plot_directory",
    "read_months",
    "read_runs",
    "run_sweep",
    "simulate",
    "summarize",
    "write_report",
]
