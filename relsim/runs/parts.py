"""The part files of a sweep store: how they are named, which are committed, which are damaged.

A sweep writes finished runs as pairs of Parquet files of one name, ``runs/NAME`` and
``months/NAME``, the months part first; the runs part is the commit record (see
:mod:`relsim.runs.store`). Names are ``part-NNNNNN-TTTTTTTT.parquet``: a sequence number, then
a token drawn by each writer, so that two writers can never produce the same name (sweeps
written before the token existed have ``part-NNNNNN.parquet``, read alike).

:func:`inventory` lists the committed pairs in order; :func:`damage` says which of them cannot
be read, whether from their footers only (cheap, for readers) or every page (for ``--resume``,
which sets damaged parts aside with :func:`set_aside` and runs their runs again).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

RUNS, MONTHS = "runs", "months"
_PART = re.compile(r"^part-(\d{6})(?:-([0-9a-f]{8}))?\.parquet$")
#: Suffix given to a part that ``--resume`` set aside as unreadable (kept, never deleted).
SET_ASIDE = ".damaged"


def new_token() -> str:
    """A writer's token for its part names: 8 random hex digits."""
    return secrets.token_hex(4)


def part_name(seq: int, token: str) -> str:
    """The name of a writer's ``seq``-th part."""
    return f"part-{seq:06d}-{token}.parquet"


def is_part_name(name: str) -> bool:
    """Whether ``name`` is a part's name."""
    return _PART.match(name) is not None


def part_files(directory: Path) -> dict[str, Path]:
    """The part files in a ``runs`` or ``months`` directory, by name, in order."""
    found: list[tuple[int, str, Path]] = []
    if directory.is_dir():
        for path in directory.iterdir():
            match = _PART.match(path.name)
            if match:
                found.append((int(match.group(1)), match.group(2) or "", path))
    return {path.name: path for _, _, path in sorted(found)}


def next_sequence(directory: Path) -> int:
    """The sequence number after every part in a sweep directory."""
    names = [*part_files(directory / RUNS), *part_files(directory / MONTHS)]
    return max((int(_PART.match(n).group(1)) for n in names), default=-1) + 1  # type: ignore[union-attr]


@dataclass(frozen=True)
class Part:
    """A committed pair: a runs part, and the months part of the same name (None if missing)."""

    name: str
    runs: Path
    months: Path | None


@dataclass(frozen=True)
class Inventory:
    """The parts of a sweep directory."""

    parts: tuple[Part, ...]
    """Committed pairs, in order."""
    uncommitted: tuple[Path, ...]
    """Months parts without their runs part: runs a kill stopped before they were committed."""


def inventory(directory: Path) -> Inventory:
    """List a sweep directory's parts (the runs parts first: months parts are written first)."""
    runs = part_files(directory / RUNS)
    months = part_files(directory / MONTHS)
    parts = tuple(Part(name, path, months.get(name)) for name, path in runs.items())
    uncommitted = tuple(path for name, path in months.items() if name not in runs)
    return Inventory(parts, uncommitted)


def unreadable(path: Path, *, deep: bool = False) -> str | None:
    """Why a Parquet part cannot be read, or None if it can.

    Args:
        path: The part.
        deep: Read every page (``--resume``), not only the footer (readers, which read the
            pages they need next and report a damaged page then).
    """
    try:
        if path.stat().st_size == 0:
            return "an empty file"
        parquet = pq.ParquetFile(path)
        if deep:
            parquet.read()
        else:
            _ = parquet.metadata
    except (OSError, pa.ArrowException) as exc:
        return f"unreadable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return None


@dataclass(frozen=True)
class Damage:
    """A committed pair that cannot be used, and why."""

    part: Part
    path: Path
    """The file at fault (the months part's path when it is missing)."""
    reason: str


def damage(parts: tuple[Part, ...], *, deep: bool = False) -> list[Damage]:
    """The committed pairs whose runs or months part is missing or unreadable."""
    found = []
    for part in parts:
        if part.months is None:
            missing = part.runs.parent.parent / MONTHS / part.name
            found.append(Damage(part, missing, "missing: the months part of committed runs"))
            continue
        for path in (part.runs, part.months):
            reason = unreadable(path, deep=deep)
            if reason:
                found.append(Damage(part, path, reason))
                break
    return found


def set_aside(part: Part) -> list[Path]:
    """Rename a damaged pair's files out of the store (``NAME.damaged``), runs part first.

    The runs part goes first: once it is gone, its runs are no longer committed, and a
    ``--resume`` runs them again. Nothing is deleted.

    Returns:
        The new names.
    """
    moved = []
    for path in (part.runs, part.months):
        if path is not None and path.exists():
            target = path.with_name(path.name + SET_ASIDE)
            path.rename(target)
            moved.append(target)
    return moved
