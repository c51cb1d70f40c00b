"""Write the parameter table of docs/ODD.md from the scenario schema.

The table between the lines ``<!-- parameters:start -->`` and ``<!-- parameters:end -->`` in
docs/ODD.md is generated from :func:`relsim.scenario.reference.schema_rows` and never edited by
hand, so the documented defaults, ranges, units and sources are always those the code validates
against.

Usage::

    .venv/bin/python tools/odd_table.py           # rewrite the table in docs/ODD.md
    .venv/bin/python tools/odd_table.py --check   # exit 1 if docs/ODD.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from relsim.scenario import schema_rows

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"
REQUIRED = "(required)"
HEADER = ("parameter", "default", "range", "unit", "meaning", "source")
NO_SOURCE = "—"


def format_default(value: Any) -> str:
    """Render a default as a reader expects it in a TOML file: true, "text", [a, b]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value == REQUIRED else f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(format_default(v) for v in value) + "]"
    return repr(value)


def _cell(text: str) -> str:
    """Make text safe inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def render_table(rows: Iterable[Mapping[str, Any]]) -> str:
    """Render schema rows as a Markdown table, one parameter per line."""
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
    ]
    for row in rows:
        cells = (
            f"`{row['key']}`",
            format_default(row["default"]),
            row["range"],
            row["unit"],
            row["doc"],
            row["source"] or NO_SOURCE,
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def splice(text: str, table: str) -> str:
    """Return ``text`` with everything between the two marker lines replaced by ``table``.

    Raises:
        ValueError: if the markers are missing, repeated or out of order.
    """
    if text.count(START) != 1 or text.count(END) != 1:
        raise ValueError(f"expected one {START!r} line and one {END!r} line")
    head, rest = text.split(START, 1)
    if END not in rest:
        raise ValueError(f"{END!r} must come after {START!r}")
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def expected_text(text: str, rows: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The document as it should read, with the table generated from the schema."""
    return splice(text, render_table(schema_rows() if rows is None else rows))


def is_current(path: Path = ODD, rows: Sequence[Mapping[str, Any]] | None = None) -> bool:
    """Whether the table in ``path`` matches the schema (``rows`` defaults to the schema's)."""
    text = path.read_text(encoding="utf-8")
    return expected_text(text, rows) == text


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the table, or with ``--check`` report whether it is out of date (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    parser.add_argument("--path", type=Path, default=ODD, help="the ODD document")
    args = parser.parse_args(argv)
    shown = _shown(args.path)
    try:
        text = args.path.read_text(encoding="utf-8")
        wanted = expected_text(text)
    except (OSError, ValueError) as exc:
        print(f"{shown}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if wanted != text:
            print(
                f"{shown}: the parameter table is out of date; "
                "run .venv/bin/python tools/odd_table.py"
            )
            return 1
        return 0
    if wanted != text:
        args.path.write_text(wanted, encoding="utf-8")
        print(f"{shown}: parameter table rewritten ({len(schema_rows())} parameters)")
    else:
        print(f"{shown}: parameter table already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
