"""Writing outputs so that nothing is ever half-written, nor lost once written.

Every file relsim writes whole or not at all follows one rule (:func:`atomic_file`):

1. write it under a unique temporary name in its destination's directory (the same file system,
   so the rename below is atomic; a unique name, so two writers never share one);
2. flush and ``fsync`` it, so that its bytes are on disk before its name is;
3. rename it over the destination: a reader sees the old file or the new one, never a mixture;
4. ``fsync`` the directory, so that the rename itself survives a crash.

A directory of outputs (a run, an export, figures) follows the same rule as a whole
(:func:`atomic_directory`): it is built in a hidden temporary directory beside its destination,
its files and directories are synced, and it is moved into place in one rename. On any failure,
or a kill, the destination is left as it was; what is left behind is a hidden temporary name.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from relsim.errors import RelsimError

#: The file that marks a directory as relsim's own output: its ``"relsim"`` key says what the
#: directory holds (``run``, ``sweep``, ``export``, ``figures``), and so what may replace it.
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


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _sync_directory(path: Path) -> None:
    """``fsync`` a directory, so that the names created or renamed in it are on disk."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    except OSError as exc:  # pragma: no cover - a file system that cannot sync directories
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(handle)


def _sync_file(path: Path) -> None:
    """``fsync`` a file its writer has closed (and so flushed), so that its bytes are on disk."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@contextmanager
def atomic_file(path: Path, what: str = "the file") -> Iterator[Path]:
    """Yield a temporary path to write; when the block succeeds, it becomes ``path``, durably.

    The block writes the temporary file (and closes it); then the file is synced, renamed over
    ``path`` and the directory synced: the rule of this module's docstring. If the block raises
    (or the process dies), ``path`` is left as it was and the temporary file is removed (a kill
    leaves it behind under a hidden name, ``.<name>.<random>.tmp``).

    Args:
        path: The file to write; its directory must exist.
        what: What the file is, for the error message (``the report``, ``a sweep part``).

    Raises:
        RelsimError: if it cannot be written, naming ``path`` and ``what`` was being written.
    """
    path = Path(path)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(handle)
    except OSError as exc:
        raise RelsimError(f"{path}: cannot write {what} ({exc.strerror})") from None
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it a file's usual mode
        _sync_file(tmp)
        os.replace(tmp, path)
        _sync_directory(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RelsimError(f"{path}: cannot write {what} ({exc.strerror})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes, what: str = "the file") -> None:
    """Write ``data`` to ``path`` whole or not at all, durably (:func:`atomic_file`).

    Raises:
        RelsimError: if it cannot be written, naming the path and ``what`` was being written.
    """
    with atomic_file(path, what) as tmp:
        tmp.write_bytes(data)


def write_json(path: Path, data: Any, what: str = "the manifest") -> None:
    """Write JSON whole or not at all (:func:`atomic_file`), with sorted keys and a final newline.

    Equal data give the same bytes.

    Raises:
        RelsimError: if it cannot be written.
    """
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"), what)


@contextmanager
def atomic_directory(target: Path, kind: str = "run") -> Iterator[Path]:
    """Yield a temporary directory that replaces ``target`` whole when the block succeeds.

    The directory is built beside ``target``; when the block succeeds, every file and directory
    in it is synced, it is renamed into place, and the parent is synced (the rule of this
    module's docstring, for a directory). If the block raises (or the process dies), ``target``
    is left exactly as it was.

    Raises:
        RelsimError: if ``target`` exists and is not a relsim output directory (relsim never
            deletes what it did not write), or if the directory cannot be created.
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
        tmp.chmod(0o777 & ~_umask())
    except OSError as exc:
        raise RelsimError(f"{target}: cannot create output directory ({exc.strerror})") from None
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        for root, _, files in os.walk(tmp):
            for name in files:
                _sync_file(Path(root) / name)
            _sync_directory(Path(root))
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RelsimError(f"{target}: cannot write output directory ({exc.strerror})") from None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
        os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, target)
    _sync_directory(target.parent)
