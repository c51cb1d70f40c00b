"""One writer per sweep directory: an exclusive lock that names the process holding it.

``relsim sweep`` (and ``--resume``, and ``--overwrite``) holds an exclusive ``flock`` on the
file ``DIR/.sweep.lock`` for as long as it writes the directory; a second writer is refused at
once with one line naming the holder's process id, which the holder writes into the lock file.

Why ``fcntl.flock`` and not a lock library: the kernel releases the lock when its holder ends
in any way (SIGKILL, the OOM killer, a power cut), so a stale lock never needs breaking; the
lock file can hold the holder's PID because a contender opens it without truncating it (the
``filelock`` library truncates the file on every attempt, so it cannot name the holder); and
relsim already needs a POSIX system (forked worker pools, SIGTERM handling). The lock is
taken after the worker pool has been forked, so workers never inherit it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from relsim.errors import RelsimError

#: The lock file in a sweep directory.
LOCK = ".sweep.lock"
#: Characters of the holder's PID in the lock file (right-aligned): wider than any PID.
_PID_WIDTH = 20
#: Seconds a contender waits for a new holder to write its PID.
_HOLDER_WAIT = 1.0


class SweepLock:
    """An exclusive lock on a sweep directory, held until :meth:`release` or the process ends.

    Use :meth:`acquire`; it never waits.
    """

    def __init__(self, directory: Path, handle: int) -> None:
        self.directory = directory
        self._handle: int | None = handle

    @classmethod
    def acquire(cls, directory: Path) -> SweepLock:
        """Lock ``directory`` (which must exist) for writing, or refuse.

        Raises:
            RelsimError: if another process holds it (naming its PID), or the lock file
                cannot be created.
        """
        path = directory / LOCK
        try:
            handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise RelsimError(f"{path}: cannot create the sweep's lock ({exc.strerror})") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle)
            os.close(handle)
            who = f"process {holder}" if holder else "another process"
            raise RelsimError(
                f"{directory}: another relsim ({who}) is writing this sweep; wait for it to "
                "finish or stop it, then try again"
            ) from None
        # One write of a fixed width, over whatever an earlier holder wrote, never a truncation
        # first: a contender reading meanwhile sees a whole PID or none. On a full disk the
        # lock holds all the same; only its holder goes unnamed.
        with contextlib.suppress(OSError):
            os.pwrite(handle, f"{os.getpid():>{_PID_WIDTH}}\n".encode(), 0)
        return cls(directory, handle)

    def release(self) -> None:
        """Release the lock (closing its file releases it). Releasing twice does nothing."""
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None


def _holder(handle: int) -> int | None:
    """The PID the lock's holder wrote into the lock file, if any.

    A holder writes its PID just after taking the lock; a contender arriving in between finds
    the file still empty, so it looks again for up to :data:`_HOLDER_WAIT` seconds.
    """
    deadline = time.monotonic() + _HOLDER_WAIT
    while True:
        try:
            text = os.pread(handle, _PID_WIDTH + 1, 0).decode("ascii", "replace").strip()
        except OSError:
            return None
        if text.isdigit():
            return int(text)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)
