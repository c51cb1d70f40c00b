"""Provenance: the versions and inputs that produced an output."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from relsim.scenario import Scenario


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def versions() -> dict[str, str]:
    """Versions of relsim, Python and the libraries that shape its results."""
    return {
        "relsim": _version("relsim"),
        "mesa": _version("mesa"),
        "numpy": _version("numpy"),
        "pandas": _version("pandas"),
        "python": platform.python_version(),
    }


def scenario_provenance(scenario: Scenario, source: str | None = None) -> dict[str, Any]:
    """The resolved scenario, where it came from, and its hash."""
    return {
        "scenario_name": scenario.name,
        "scenario_source": source,
        "scenario_hash": scenario.digest(),
        "scenario": scenario.to_dict(),
    }
