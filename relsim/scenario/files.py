"""Input files: finding them (by path or bundled name), reading their TOML, loading scenarios.

Scenarios and experiments are bundled with relsim (``scenarios/`` and ``experiments/`` in a
checkout, ``relsim/_bundled/`` in an installed wheel) and can be named by their stem. Every way a
file can be missing or unreadable becomes one clear line naming it, as bad values do.

Only a regular file of at most :data:`MAX_INPUT_BYTES` is read: a FIFO would block forever, a
device such as ``/dev/zero`` never ends, and a huge file is a mistake, not a scenario. The file
is opened without blocking and checked on the open handle, so nothing can swap it in between.
"""

from __future__ import annotations

import difflib
import os
import stat
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
    close = difflib.get_close_matches(name, list(bundled), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ScenarioError(
        str(source), "", f"no such file or bundled {what} (bundled: {listed}){hint}"
    )


def resolve_scenario_path(source: str | Path) -> Path:
    """Find a scenario file by path, or by the name of a bundled scenario."""
    return _resolve_bundled(source, "scenarios")


#: The largest input file read (a scenario listing 10,000 trusts is about 2 MB).
MAX_INPUT_BYTES = 16 << 20
#: The deepest nesting of tables and lists in an input (relsim's own files nest 4 deep).
MAX_NESTING = 16

#: Byte-order marks of encodings other than UTF-8, which TOML files must be written in.
_OTHER_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
_UTF8_BOM = b"\xef\xbb\xbf"


def read_input(path: Path, shown: str) -> bytes:
    """The bytes of an input file: a regular file of at most :data:`MAX_INPUT_BYTES`.

    Raises:
        ScenarioError: naming the file, if it is missing, not a regular file (a directory, a
            FIFO, a device), too large, or unreadable.
    """
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ScenarioError(shown, "", "no such file") from None
    except OSError as exc:
        raise ScenarioError(shown, "", f"cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(shown, "", "is a directory, not a TOML file")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(
                shown, "", "is not a regular file (a pipe or a device?); expected a TOML file"
            )
        if info.st_size > MAX_INPUT_BYTES:
            raise ScenarioError(
                shown,
                "",
                f"is {info.st_size / 1e6:.0f} MB; input files may be at most "
                f"{MAX_INPUT_BYTES / 1e6:.0f} MB",
            )
        with os.fdopen(handle, "rb", closefd=False) as stream:
            return stream.read(MAX_INPUT_BYTES + 1)  # a file that grew is caught by its caller
    except OSError as exc:
        raise ScenarioError(shown, "", f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(handle)


def _decode(data: bytes, shown: str) -> str:
    """TOML text from a file's bytes: UTF-8 (a leading UTF-8 byte-order mark is dropped)."""
    for bom, encoding in _OTHER_BOMS.items():
        if data.startswith(bom):
            raise ScenarioError(
                shown,
                "",
                f"is {encoding} text (it starts with a byte-order mark); save it as UTF-8",
            )
    if b"\x00" in data:
        raise ScenarioError(shown, "", "is a binary file, not TOML text")
    try:
        return data.removeprefix(_UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            shown,
            "",
            f"is not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line}; perhaps Latin-1 "
            "or Windows-1252): save it as UTF-8",
        ) from None


def nesting_problem(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The dotted path of a value nested deeper than :data:`MAX_NESTING`, or None."""
    if depth > MAX_NESTING:
        return path
    if isinstance(value, dict):
        children = [(f"{path}.{key}" if path else str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        children = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    else:
        return None
    for where, item in children:
        found = nesting_problem(item, where, depth + 1)
        if found:
            return found
    return None


def parse_toml(text: str, shown: str) -> dict[str, Any]:
    """Parse TOML text, refusing it if it nests deeper than :data:`MAX_NESTING`.

    Raises:
        ScenarioError: naming ``shown``, for invalid TOML or too deep a nesting.
    """
    too_deep = f"nests tables or lists more than {MAX_NESTING} deep"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(shown, "", f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(shown, "", too_deep) from None
    found = nesting_problem(raw)
    if found:
        raise ScenarioError(shown, found, too_deep)
    return raw


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    """Read a TOML file, turning every way it can be unreadable into one clear error."""
    data = read_input(path, shown)
    if len(data) > MAX_INPUT_BYTES:
        raise ScenarioError(
            shown, "", f"is larger than {MAX_INPUT_BYTES / 1e6:.0f} MB, the most an input may be"
        )
    if not data.strip():
        raise ScenarioError(shown, "", "file is empty (expected TOML settings)")
    raw = parse_toml(_decode(data, shown), shown)
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
