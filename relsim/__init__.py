"""relsim: agent-based simulation of regulatory relationships in healthcare.

A regulator and NHS trusts exchange interactions every month; trust between them evolves under
hierarchical or networked governance, and improvement practices spread between trusts or stall.
"""

from importlib.metadata import PackageNotFoundError, version

from relsim.errors import RelsimError, ScenarioError
from relsim.governance import GOVERNANCE, GovernanceRule
from relsim.model import RegulationModel
from relsim.scenario import Scenario, bundled_scenarios, load_scenario
from relsim.simulation import RunResult, simulate

try:
    __version__ = version("relsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

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
    "load_scenario",
    "simulate",
]
