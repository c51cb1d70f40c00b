"""``relsim plot``: the figures of a sweep or run directory, written as files.

:func:`plot_directory` draws every figure of a sweep (:mod:`relsim.presentation.sweep_figures`)
or of a single run (:mod:`relsim.presentation.figures`) and writes them, with a manifest of
captions, into a figures directory that is replaced whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from relsim.analysis.sweep_data import load_sweep
from relsim.atomic import MANIFEST, atomic_directory, write_json
from relsim.errors import RelsimError
from relsim.presentation.figures import run_figures, save_figure
from relsim.presentation.sweep_figures import sweep_figures
from relsim.runs.simulation import RunResult


def directory_kind(directory: Path, expected: str = "relsim sweep or relsim run") -> str:
    """``"sweep"`` or ``"run"``: what wrote a directory.

    Args:
        directory: The directory.
        expected: What the caller wants, for the message: the commands that write it.

    Raises:
        RelsimError: if it is missing, or holds neither.
    """
    expected = f"expected a directory written by {expected}"
    if not directory.exists():
        raise RelsimError(f"{directory}: no such directory ({expected})")
    if not directory.is_dir():
        raise RelsimError(f"{directory}: not a directory ({expected})")
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    kind = manifest.get("relsim") if isinstance(manifest, dict) else None
    if kind not in ("sweep", "run"):
        raise RelsimError(f"{directory}: not a relsim sweep or run directory ({expected})")
    return str(kind)


def _check_target(out: Path) -> None:
    """Figures may replace only an empty directory or one this module wrote."""
    if not out.exists():
        return
    if out.is_dir() and not any(out.iterdir()):
        return
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not (isinstance(manifest, dict) and manifest.get("relsim") == "figures"):
        raise RelsimError(
            f"{out}: refusing to write figures here: it exists and is not a relsim figures "
            "directory (choose another --out)"
        )


def plot_directory(
    directory: Path | str,
    out: Path | str | None = None,
    formats: Sequence[str] = ("png", "svg"),
    *,
    colour_by: str | None = None,
) -> tuple[Path, list[Path]]:
    """Write the figures of a sweep or run directory into ``out`` (default ``DIR/figures``).

    The figures directory is written whole or not at all, with a ``manifest.json`` saying
    what each figure shows (and which runs were re-simulated as typical).

    Args:
        directory: A sweep or run directory.
        out: The figures directory.
        formats: File formats to write.
        colour_by: A sweep's grid factor whose levels the figures compare in colour (default:
            the governance mode when varied, else the first grid factor).

    Returns:
        The figures directory and the paths written.

    Raises:
        RelsimError: if ``directory`` holds no sweep or run, ``colour_by`` is not one of its
            grid factors, or ``out`` cannot be written.
    """
    directory = Path(directory)
    kind = directory_kind(directory)
    if colour_by is not None and kind == "run":
        raise RelsimError(
            f"--colour-by: {directory} holds a single run, which has no factors to colour by"
        )
    target = Path(out) if out is not None else directory / "figures"
    _check_target(target)
    data = load_sweep(directory, colour_by) if kind == "sweep" else None  # bad input first
    names = []
    with atomic_directory(target, kind="figures") as tmp:  # fails at once if unwritable
        figures = run_figures(RunResult.load(directory)) if data is None else sweep_figures(data)
        for named in figures:
            for fmt in formats:
                save_figure(named.figure, tmp / f"{named.stem}.{fmt}")
                names.append(f"{named.stem}.{fmt}")
        write_json(
            tmp / MANIFEST,
            {
                "relsim": "figures",
                "source": str(directory),
                "source_kind": kind,
                "figures": {named.stem: named.caption for named in figures},
            },
        )
    return target, [target / name for name in names]
