"""Input files: finding them (by path or bundled name), reading their TOML, loading scenarios.

Scenarios and experiments are bundled with relsim (``scenarios/`` and ``experiments/`` in a
checkout, ``relsim/_bundled/`` in an installed wheel) and can be named by their stem. Every way a
file can be missing or unreadable becomes one clear line naming it, as bad values do.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from relsim.errors import ScenarioError
from relsim.scenario.schema import Scenario
from relsim.scenario.validation import scenario_from_dict, with_overrides


def _bundled_dir(kind: str) -> Path:
    """Folder of bundled scenarios or experiments, in a checkout or an installed wheel."""
    package = Path(__file__).resolve().parents[1]  # relsim/
    for candidate in (package / "_bundled" / kind, package.parent / kind):
        if candidate.is_dir():
            return candidate
    return package.parent / kind


def bundled_files(kind: str) -> dict[str, Path]:
    """Map the name of each bundled file of a kind (``scenarios``, ``experiments``) to it."""
    return {p.stem: p for p in sorted(_bundled_dir(kind).glob("*.toml"))}


def bundled_scenarios() -> dict[str, Path]:
    """Map the name of each bundled scenario to its file."""
    return bundled_files("scenarios")


def _resolve_bundled(source: str | Path, kind: str) -> Path:
    """Find a file by path, or by the name of a bundled one of ``kind`` (``scenarios``, ...).

    Raises:
        ScenarioError: naming the source and listing what is bundled.
    """
    path = Path(source)
    if path.exists():
        return path
    bundled = bundled_files(kind)
    name = path.stem if path.suffix == ".toml" and len(path.parts) == 1 else str(source)
    if name in bundled:
        return bundled[name]
    listed = ", ".join(bundled)
    what = kind.removesuffix("s")
    raise ScenarioError(str(source), "", f"no such file or bundled {what} (bundled: {listed})")


def resolve_scenario_path(source: str | Path) -> Path:
    """Find a scenario file by path, or by the name of a bundled scenario."""
    return _resolve_bundled(source, "scenarios")


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    """Read a TOML file, turning every way it can be unreadable into one clear error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(shown, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(shown, "", "is a directory, not a TOML file") from None
    except OSError as exc:
        raise ScenarioError(shown, "", f"cannot be read ({exc.strerror})") from None
    if not data.strip():
        raise ScenarioError(shown, "", "file is empty (expected TOML settings)")
    if b"\x00" in data:
        raise ScenarioError(shown, "", "is a binary file, not TOML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(shown, "", "is not UTF-8 text (expected a TOML file)") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(shown, "", f"invalid TOML: {exc}") from None
    if not raw:
        raise ScenarioError(shown, "", "file holds no settings (expected TOML tables)")
    return raw


def _display_path(path: Path) -> str:
    """Show a bundled file relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_source(source: str | Path, kind: str) -> tuple[Path, str, dict[str, Any]]:
    """Find and read an input file given by path or by the name of a bundled one.

    Args:
        source: A path, or the name of a bundled file of ``kind``.
        kind: ``"scenarios"`` or ``"experiments"``.

    Returns:
        The file, how messages name it (as given when it is a path, else the bundled file
        relative to the working directory when below it), and its parsed TOML.

    Raises:
        ScenarioError: naming the file, if it cannot be found, read or parsed.
    """
    path = _resolve_bundled(source, kind)
    shown = str(source) if Path(source).exists() else _display_path(path)
    return path, shown, _read_toml(path, shown)


def load_scenario(
    source: str | Path | Scenario | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    override_source: str = "overrides",
) -> Scenario:
    """Load and validate a scenario.

    Args:
        source: A :class:`Scenario`, a path to a TOML file, or the name of a bundled scenario
            (``"nhs_vmi_partnership"``); ``None`` gives the defaults.
        overrides: Dotted-key overrides, e.g. ``{"governance.mode": "hierarchical"}``.
        override_source: How to name the overrides in error messages (``--set`` on the
            command line).

    Raises:
        ScenarioError: naming the file, the field and what was expected.
    """
    if isinstance(source, Scenario):
        return with_overrides(source, overrides or {}, override_source)
    if source is None:
        return scenario_from_dict(
            {}, source="<defaults>", overrides=overrides, override_source=override_source
        )
    _, shown, raw = read_source(source, "scenarios")
    return scenario_from_dict(
        raw, source=shown, overrides=overrides, override_source=override_source
    )
