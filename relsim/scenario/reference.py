"""The reference table of every scenario parameter, written into ``docs/ODD.md``.

The table is derived from the schema's declarations, so the documented defaults, ranges, units
and sources are always those the validation engine checks against; ``tools/odd_table.py``
writes it into ``docs/ODD.md`` and ``tests/test_docs.py`` checks that it is current.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_args, get_origin

from relsim.scenario.schema import Limits, Scenario, field_types


def schema_rows() -> list[dict[str, Any]]:
    """Every parameter as a row: dotted key, default, range, unit, meaning and source.

    Keys of the entries of a list end in ``[]`` (``trusts[].readiness``); a field every entry
    must give has the default ``"(required)"``.
    """
    rows: list[dict[str, Any]] = []

    def walk(cls: type, prefix: str, defaults: Any = None) -> None:
        # ``defaults``: the default instance of a nested table, whose values can differ from
        # its class's (population.readiness and population.quality are both Distributions).
        types = field_types(cls)
        for f in dataclasses.fields(cls):
            key = f"{prefix}.{f.name}" if prefix else f.name
            tp = types[f.name]
            if dataclasses.is_dataclass(tp):
                nested = getattr(defaults, f.name) if defaults is not None else f.default
                walk(tp, key, nested)  # type: ignore[arg-type]
                continue
            if get_origin(tp) is tuple and dataclasses.is_dataclass(get_args(tp)[0]):
                walk(get_args(tp)[0], key + "[]")
                continue
            meta = f.metadata
            rng = Limits.of(meta).interval()
            if not rng and meta.get("choices"):
                rng = " / ".join(meta["choices"])
            if defaults is not None:
                default = getattr(defaults, f.name)
            elif f.default is not dataclasses.MISSING:
                default = f.default
            else:
                default = "(required)"
            rows.append(
                {
                    "key": key,
                    "default": default,
                    "range": rng,
                    "unit": meta.get("unit", ""),
                    "doc": meta.get("doc", ""),
                    "source": meta.get("source", ""),
                }
            )

    walk(Scenario, "")
    return rows
