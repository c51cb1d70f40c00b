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
or a kill, the destination is left as it was.

relsim never deletes what it did not write. A directory is replaced only if it is relsim's
output of the same kind, is still exactly what was checked when the work began (nothing added
or changed meanwhile), and holds no file that the new output does not replace; otherwise it is
left alone and the new output is kept beside it under a visible name.

Temporary names carry their writer's process id (``.<name>.<pid>.<random>.tmp``,
``.<name>.tmp-<pid>-<random>``): what a killed writer left is removed by the next write to the
same place, once that process is gone, and a live writer's is never touched.
"""

from __future__ import annotations

import errno
import json
import os
import re
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


#: Temporary names, with the name of their destination and their writer's process id.
_FILE_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")
_DIRECTORY_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old|scratch)-(?P<pid>\d+)(?:-[^.]+)?$")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a relsim writer that may still be using its files)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: exists
    return True


def _remove_leftovers(folder: Path, pattern: re.Pattern[str], name: str) -> None:
    """Remove what killed writers of ``folder/name`` left (temporary files or directories).

    Only names of ``pattern`` for this ``name`` whose writer is gone are removed: relsim's own
    temporary output, never anything else.
    """
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        found = pattern.match(entry.name)
        if not found or found.group("name") != name or _alive(int(found.group("pid"))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


@contextmanager
def atomic_file(path: Path, what: str = "the file") -> Iterator[Path]:
    """Yield a temporary path to write; when the block succeeds, it becomes ``path``, durably.

    The block writes the temporary file (and closes it); then the file is synced, renamed over
    ``path`` and the directory synced: the rule of this module's docstring. If the block raises
    (or the process dies), ``path`` is left as it was and the temporary file is removed (a kill
    leaves it behind under a hidden name, ``.<name>.<pid>.<random>.tmp``, which the next write
    of ``path`` removes).

    Args:
        path: The file to write; its directory must exist.
        what: What the file is, for the error message (``the report``, ``a sweep part``).

    Raises:
        RelsimError: if it cannot be written, naming ``path`` and ``what`` was being written.
    """
    path = Path(path)
    _remove_leftovers(path.parent, _FILE_LEFTOVER, path.name)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
        )
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


#: The manifest key listing the files relsim wrote into an output directory (relative paths).
WRITTEN = "written"

Snapshot = dict[str, tuple[int, int, int, bool]]


@contextmanager
def scratch_directory(path: Path) -> Iterator[Path]:
    """A private working folder beside ``path`` (``.<name>.scratch-<pid>-<random>``), removed after.

    For intermediate files too large for memory on their way into ``path``. A kill leaves it
    behind; the next scratch folder, or output directory, made for ``path`` removes it.

    Raises:
        RelsimError: if it cannot be created.
    """
    path = Path(path)
    name = path.resolve().name
    try:
        _remove_leftovers(path.parent, _DIRECTORY_LEFTOVER, name)
        folder = Path(tempfile.mkdtemp(prefix=f".{name}.scratch-{os.getpid()}-", dir=path.parent))
    except OSError as exc:
        raise RelsimError(f"{path}: cannot create a working folder ({exc.strerror})") from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _snapshot(path: Path) -> Snapshot | None:
    """Every entry under ``path`` by relative name: (inode, size, modification time, is a file).

    None if ``path`` does not exist. Two snapshots differ if anything was added, removed or
    rewritten in between.
    """
    if not path.exists():
        return None
    out = {}
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            entry = Path(root) / name
            info = entry.lstat()
            out[str(entry.relative_to(path))] = (
                info.st_ino,
                info.st_size,
                info.st_mtime_ns,
                name in files,
            )
    return out


def _record_written(directory: Path) -> None:
    """List the files of a finished output in its manifest (:data:`WRITTEN`), if it has one.

    A later output may then replace exactly these, and never a file someone added since.
    """
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return
    data = json.loads(manifest.read_text(encoding="utf-8"))
    found = _snapshot(directory) or {}
    data[WRITTEN] = sorted(name for name, entry in found.items() if entry[3])
    write_json(manifest, data)


def _written(directory: Path) -> set[str]:
    """The files relsim wrote into an output directory (its manifest's list, and itself)."""
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        listed = data.get(WRITTEN, []) if isinstance(data, dict) else []
    except (OSError, ValueError):
        listed = []
    return {MANIFEST, *(name for name in listed if isinstance(name, str))}


def _beside(target: Path) -> Path:
    """A free visible name beside ``target`` for a new output that could not replace it."""
    n = 1
    while (candidate := target.with_name(f"{target.name}.new-{n}")).exists():
        n += 1
    return candidate


def _restore_replaced(target: Path, name: str) -> None:
    """Put back an output that a killed writer had moved aside but not yet replaced.

    A kill between the two renames of a replacement leaves ``target`` missing and the old
    output under ``.<name>.old-<pid>``: it is moved back before anything else happens.
    """
    if target.exists():
        return
    for entry in target.parent.iterdir():
        found = _DIRECTORY_LEFTOVER.match(entry.name)
        if (
            found
            and found.group("name") == name
            and entry.name.startswith(f".{name}.old-")
            and not _alive(int(found.group("pid")))
        ):
            os.rename(entry, target)
            return


def _check_place(target: Path) -> None:
    """Refuse an output directory that is the working directory or one of its parents."""
    here = Path.cwd().resolve()
    resolved = target.resolve()
    if resolved == here or resolved in here.parents:
        raise RelsimError(
            f"{target}: refusing to write output over the current directory or one of its "
            "parents (name a new folder, e.g. --out results/mine)"
        )


@contextmanager
def atomic_directory(target: Path, kind: str = "run") -> Iterator[Path]:
    """Yield a temporary directory that replaces ``target`` whole when the block succeeds.

    The directory is built beside ``target``; when the block succeeds, every file and directory
    in it is synced, it is renamed into place, and the parent is synced (the rule of this
    module's docstring, for a directory). If the block raises (or the process dies), ``target``
    is left exactly as it was.

    The files of the new output are listed in its ``manifest.json`` (key :data:`WRITTEN`). An
    existing ``target`` is replaced only if, when the new output is ready, it is still what
    was checked at the start and every file in it is one relsim wrote there (listed) or one
    the new output replaces; otherwise it is left as it was, the new output is moved beside it
    (``<target>.new-<n>``), and an error says where.

    Raises:
        RelsimError: if ``target`` exists and is not a relsim output directory (relsim never
            deletes what it did not write), if it is the working directory, if it changed
            while the output was made, or if the output cannot be written.
    """
    target = Path(target)
    _check_place(target)
    if target.exists() and not _replaceable(target, kind):
        raise RelsimError(
            f"{target}: refusing to overwrite: it exists and is not a relsim {kind} directory"
        )
    name = target.resolve().name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _restore_replaced(target, name)
        _remove_leftovers(target.parent, _DIRECTORY_LEFTOVER, name)
        checked = _snapshot(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-{os.getpid()}-", dir=target.parent))
        # mkdtemp makes the directory private; give it the permissions mkdir would have.
        tmp.chmod(0o777 & ~_umask())
    except OSError as exc:
        raise RelsimError(f"{target}: cannot create output directory ({exc.strerror})") from None
    try:
        yield tmp
        _record_written(tmp)
        for root, _, files in os.walk(tmp):
            for file in files:
                _sync_file(Path(root) / file)
            _sync_directory(Path(root))
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RelsimError(f"{target}: cannot write the output ({exc.strerror})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap(tmp, target, checked, kind)


def _swap(tmp: Path, target: Path, checked: Snapshot | None, kind: str) -> None:
    """Move the finished output ``tmp`` into place, or beside ``target`` if that changed."""
    problem = None
    try:
        if checked is None:
            if target.exists() or target.is_symlink():
                problem = "it appeared while the output was being made"
            else:
                os.rename(tmp, target)
        else:
            old = target.with_name(f".{target.resolve().name}.old-{os.getpid()}")
            os.rename(target, old)
            now = _snapshot(old) or {}
            files = {name for name, entry in now.items() if entry[3]}
            kept = sorted(files - set(_snapshot(tmp) or {}) - _written(old))
            if now != checked:
                problem = "it changed while the output was being made"
            elif kept:
                shown = ", ".join(kept[:3]) + (", ..." if len(kept) > 3 else "")
                problem = f"it holds files the new {kind} would not replace ({shown})"
            if problem:
                os.rename(old, target)
            else:
                os.rename(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
        _sync_directory(target.parent)
    except OSError as exc:
        problem = f"it could not be replaced ({exc.strerror})"
    if problem:
        beside = _beside(target)
        try:
            os.rename(tmp, beside)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RelsimError(
                f"{target}: left as it was: {problem}; the new {kind} could not be kept "
                f"either ({exc.strerror})"
            ) from None
        raise RelsimError(f"{target}: left as it was: {problem}; the new {kind} is in {beside}")
