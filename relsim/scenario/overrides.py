"""Overrides: setting scenario fields by dotted key, as ``--set`` and experiment files do.

A dotted key names one field of the schema, with list indices where the schema has lists::

    governance.mode                 trusts[2].readiness                 pressure.shocks[0].month

:func:`schema_type_at` says what type a key holds (or that it names no field), and
:func:`apply_overrides` writes values into a raw scenario before it is validated, so that a bad
value is reported by the validation engine like any other, but blamed on the override.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from typing import Any, get_args, get_origin

from relsim.errors import ScenarioError
from relsim.scenario.schema import Scenario, field_types

_SEGMENT_RE = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


def split_key(key: str) -> list[str | int]:
    """Split ``"trusts[2].readiness"`` into ``["trusts", 2, "readiness"]``.

    Raises:
        ValueError: if the key is not of that form.
    """
    parts: list[str | int] = []
    for segment in key.split("."):
        match = _SEGMENT_RE.fullmatch(segment)
        if not match:
            raise ValueError(key)
        parts.append(match.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return parts


def _split(key: str, source: str, field: str) -> list[str | int]:
    """:func:`split_key`, with a malformed key reported as one line at ``field``."""
    try:
        return split_key(key)
    except ValueError:
        raise ScenarioError(
            source, field, "not a valid key (expected e.g. pressure.baseline)"
        ) from None


def schema_type_at(key: str, source: str, field: str | None = None) -> Any:
    """The schema type of the scenario field a dotted key names.

    Args:
        key: A dotted key such as ``trusts[0].readiness``.
        source: The file or flag the key came from, for error messages.
        field: Where the error is reported; by default the key itself (an experiment file
            reports it where the key was written, e.g. ``factors."pressure.basline"``).

    Raises:
        ScenarioError: if the key is malformed or names no field (listing those that exist).
    """
    where = key if field is None else field
    tp: Any = Scenario
    walked = ""
    for part in _split(key, source, where):
        if isinstance(part, int):
            if get_origin(tp) is not tuple:
                raise ScenarioError(source, where, f"{walked} is not a list")
            tp = get_args(tp)[0]
            walked += f"[{part}]"
            continue
        if not dataclasses.is_dataclass(tp):
            raise ScenarioError(source, where, f"unknown key ({walked} has no sub-keys)")
        names = [f.name for f in dataclasses.fields(tp)]
        if part not in names:
            known = f"{walked} has" if walked else "known top-level keys are"
            raise ScenarioError(source, where, f"unknown key ({known}: {', '.join(names)})")
        tp = field_types(tp)[part]  # type: ignore[arg-type]
        walked = f"{walked}.{part}" if walked else part
    return tp


def parse_value(text: str) -> Any:
    """Parse a command-line value the way TOML would, falling back to plain text.

    ``0.4`` is a number, ``true`` a boolean, ``[1, 2]`` a list, ``{month = 3, ...}`` a table,
    and anything TOML cannot read (``hierarchical``, ``My run``) is kept as text.
    """
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):  # nested too deep for TOML: text
        return text


def apply_overrides(raw: dict[str, Any], overrides: Mapping[str, Any], source: str) -> set[str]:
    """Write dotted-key overrides into a complete raw scenario, in place.

    Values are not checked here: validating the result checks them, and blames an error at or
    below a returned key on ``source``.

    Args:
        raw: A complete raw scenario (as :meth:`Scenario.to_dict` gives), changed in place.
        overrides: Values by dotted key.
        source: How to name the overrides in error messages (``--set``).

    Returns:
        The keys the overrides set.

    Raises:
        ScenarioError: if a key names no field or an index is out of range.
    """
    for key, value in overrides.items():
        schema_type_at(key, source)
        parts = split_key(key)
        node: Any = raw
        for depth, part in enumerate(parts):
            if isinstance(part, int):
                if not isinstance(node, list) or part >= len(node):
                    size = len(node) if isinstance(node, list) else 0
                    raise ScenarioError(source, key, f"index {part} is out of range ({size} items)")
            elif not isinstance(node, dict):
                raise ScenarioError(source, key, "the enclosing value is not a table")
            if depth == len(parts) - 1:
                node[part] = value
            else:
                node = node[part]
    return set(overrides)
