"""Writing outputs so that nothing is ever half-written.

A run's directory is built in a hidden temporary directory beside its destination and moved
into place in one rename, so a reader (or a killed process) sees the old directory or the new
one, never a mixture.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from relsim.errors import RelsimError

#: The file that marks a directory as relsim's own output, safe to replace.
MANIFEST = "manifest.json"


def _replaceable(path: Path, kind: str) -> bool:
    """A directory relsim may replace: an empty one, or the output of the same ``kind``.

    A run's output never replaces a sweep (or anything else relsim or a user wrote).
    """
    if not path.is_dir():
        return False
    if not any(path.iterdir()):
        return True
    manifest = path / MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False
    return isinstance(data, dict) and data.get("relsim") == kind


@contextmanager
def atomic_directory(target: Path, kind: str = "run") -> Iterator[Path]:
    """Yield a temporary directory that replaces ``target`` whole when the block succeeds.

    If the block raises (or the process dies), ``target`` is left exactly as it was.

    Raises:
        RelsimError: if ``target`` exists and is not a relsim output directory (relsim never
            deletes what it did not write).
    """
    target = Path(target)
    if target.exists() and not _replaceable(target, kind):
        raise RelsimError(
            f"{target}: refusing to overwrite: it exists and is not a relsim {kind} directory"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        # mkdtemp makes the directory private; give it the permissions mkdir would have.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
    except OSError as exc:
        raise RelsimError(f"{target}: cannot create output directory ({exc.strerror})") from None
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
        os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, target)


def write_json(path: Path, data: Any) -> None:
    """Write JSON with sorted keys and a trailing newline (stable bytes for equal data)."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def atomic_write_bytes(path: Path, data: bytes, what: str = "the file") -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file beside it, then a rename.

    A reader sees the old file or the new one, never half of one; on failure the old one stays.

    Raises:
        RelsimError: if it cannot be written, naming the path and ``what`` was being written.
    """
    try:
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise RelsimError(f"{path}: cannot write {what} ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it a file's usual mode
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise RelsimError(f"{path}: cannot write {what} ({exc.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
