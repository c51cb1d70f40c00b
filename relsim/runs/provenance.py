"""Provenance: the versions and inputs that produced an output."""

from __future__ import annotations

import hashlib
import platform
import subprocess
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


@cache
def code_commit() -> str | None:
    """The git commit of relsim's source when it runs from a checkout, else None.

    ``abc1234…`` (the full hash), with ``+modified`` when relsim's files differ from that
    commit (so a result is never credited to a commit that did not produce it). None when relsim
    is installed from a package (no checkout around it) or git is not available; the code hash
    (:func:`code_digest`) then identifies the code.
    """
    package = Path(__file__).resolve().parents[1]  # relsim/
    try:
        top = _git(package, "rev-parse", "--show-toplevel")
        if top is None or Path(top).resolve() != package.parent:
            return None  # relsim is not the checkout's own package (e.g. site-packages)
        commit = _git(package, "rev-parse", "HEAD")
        changed = _git(package, "status", "--porcelain", "--untracked-files=no", "--", ".")
    except OSError:
        return None
    if not commit:
        return None
    return f"{commit}+modified" if changed else commit


def _git(where: Path, *args: str) -> str | None:
    """A git command's output in ``where`` (None if it fails)."""
    done = subprocess.run(
        ["git", *args], cwd=where, capture_output=True, text=True, timeout=10, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def version_text() -> str:
    """What ``relsim --version`` prints: the version and the code that runs.

    ``relsim 0.1.0 (commit 1a2b3c4d5e6f)``; ``(commit 1a2b3c4d5e6f, modified)`` when the
    checkout has uncommitted changes; ``(not a git checkout; code hash 9f8e7d6c5b4a)`` when
    installed from a package, since a version number alone does not identify the code.
    """
    commit = code_commit()
    if commit is None:
        where = f"not a git checkout; code hash {code_digest()[:12]}"
    else:
        where = f"commit {commit[:12]}" + (", modified" if commit.endswith("+modified") else "")
    return f"relsim {_version('relsim')} ({where})"


#: The title relsim is cited by (as in CITATION.cff, which the tests hold to it).
CITATION_TITLE = "relsim: an agent-based simulation of regulatory relationships in healthcare"
CITATION_AUTHORS = "relsim developers"
CITATION_YEAR = 2026


def citation(version: str, commit: str | None, code_hash: str) -> str:
    """How to cite the code that produced a result, as one sentence of plain text.

    Names the version and the commit (or, without one, the code hash), since a version number
    alone does not say which code ran.
    """
    which = f"commit {commit}" if commit else f"code hash {code_hash}"
    return (
        f"{CITATION_AUTHORS} ({CITATION_YEAR}). {CITATION_TITLE}. Version {version}, {which}. "
        "MIT licence."
    )
