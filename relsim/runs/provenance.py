"""Provenance: the versions and inputs that produced an output."""

from __future__ import annotations

import hashlib
import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
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


@cache
def code_digest() -> str:
    """A SHA-256 hash of relsim's own source files.

    The version number does not change with every edit; this does. A sweep records it, so that
    one started with other code is never resumed with this code (its results would mix).
    """
    package = Path(__file__).resolve().parents[1]  # relsim/
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
