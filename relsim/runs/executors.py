"""Where a sweep's runs execute: in this process, a local process pool, or a Dask cluster.

Each executor is a strategy with one entry point, :meth:`Executor.map_unordered`: it applies
a function to a base scenario and each chunk of run specifications and yields the results as
they finish. At most a window of chunks is in flight at a time, so that memory stays bounded
however many runs a sweep has. Results do not depend on the executor: every run carries its
own seed.

A worker process that dies (killed by the OOM killer, or by hand) does not end the sweep: the
local pool is rebuilt and the chunks that were in flight are run again one at a time, so that
a chunk that kills its worker again is known for certain and handed to the caller's ``lost``
function (the runner records its runs as failed); a Dask cluster does the same through its
own retries, ending with ``KilledWorker``.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from relsim.errors import RelsimError

Task = Callable[[Any, Any], Any]
Lost = Callable[[Any, str], Any]
"""What to yield for a chunk whose worker died every time it ran: ``lost(chunk, reason)``."""

#: Why a chunk is reported lost, for its runs' error column.
WORKER_DIED = (
    "WorkerDied: the worker process running these runs died (killed by the system, perhaps "
    "for lack of memory)"
)


def _no_loss(chunk: Any, reason: str) -> Any:
    raise RelsimError(f"a worker process died and could not be replaced: {reason}")


def available_cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class Executor(ABC):
    """Runs chunks of a sweep and yields their results as they finish."""

    #: Short description for progress lines, e.g. "2 local processes".
    description: str = ""
    workers: int = 1

    @abstractmethod
    def map_unordered(
        self, fn: Task, base: Any, chunks: Iterable[Any], lost: Lost = _no_loss
    ) -> Iterator[Any]:
        """Yield ``fn(base, chunk)`` for every chunk, in the order they finish.

        A chunk whose worker process dies each time it runs yields ``lost(chunk, reason)``
        instead (by default, an error ends the map).
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release workers; called once, also after an interruption."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Serial(Executor):
    """Every run in this process, one after another (``--workers 1``)."""

    description = "1 process"

    def map_unordered(
        self, fn: Task, base: Any, chunks: Iterable[Any], lost: Lost = _no_loss
    ) -> Iterator[Any]:
        """Yield ``fn(base, chunk)`` for each chunk in turn (no worker here can die alone)."""
        for chunk in chunks:
            yield fn(base, chunk)


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting to be reaped counts as ended)."""
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _watch_parent(pid: int, interval: float = 1.0) -> None:
    while not _gone(pid):
        time.sleep(interval)
    os._exit(1)


def _init_worker(parent: int) -> None:
    """Worker initializer: leave Ctrl-C to the parent, and end if the parent is killed.

    The parent saves what has finished when interrupted. If it is killed outright (SIGKILL),
    nothing tells the pool's workers, which would wait for work forever; a watchdog thread
    ends each worker once its parent has gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _freeze() -> None:
    """Keep the garbage collector off the objects that forked workers share with this process.

    Objects that exist at the fork are shared with the workers until written to, and the cyclic
    collector writes to every object it scans: a collection in a worker (or here) would copy
    most of those pages. Frozen objects are never scanned, as the documentation of gc.freeze
    recommends before fork; each worker's private memory falls from about 39 to 13 MiB.
    Freezes do not nest: while a pool runs, its manager thread runs too, so another pool made
    meanwhile starts from a fork server and freezes nothing.
    """
    gc.freeze()


def _unfreeze() -> None:
    """Let the collector scan those objects again (the pool has closed)."""
    gc.unfreeze()


class LocalPool(Executor):
    """A pool of local worker processes (the default, one per core).

    Workers are forked from this process, which has already imported relsim, so they start at
    once and share its memory pages until they write to them. Forking is safe only while this
    process runs a single thread, so the workers are started when the pool is made, before a
    progress bar or anything else starts a thread; if other threads are already running, the
    workers start from a fork server instead (slower to start, the same results).
    """

    def __init__(self, workers: int, window: int | None = None) -> None:
        self.workers = workers
        self.window = window or 4 * workers
        self.description = f"{workers} local processes"
        self._closed = False
        self._frozen = False
        self._pool = self._start()
        self.start_method: str = self._method
        """How the first workers started: ``"fork"`` from this process, or ``"forkserver"``."""

    def _start(self) -> ProcessPoolExecutor:
        """Start a pool with every worker running (forked while this process has one thread)."""
        context: multiprocessing.context.BaseContext
        if threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["relsim.runs.runner"])
        self._method = context.get_start_method()
        if self._method == "fork" and not self._frozen:
            _freeze()
            self._frozen = True
        pool = None
        try:
            pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
            # Start every worker now (a fork pool starts them all at its first task). CPython
            # warns about any fork in a process with more than one OS thread; with no other
            # Python thread running, the only ones here are the native pools of NumPy's BLAS
            # and of Arrow, which both install fork handlers, so the warning does not apply.
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", "This process .* is multi-threaded", DeprecationWarning
                )
                pool.submit(os.getpid).result()
        except BaseException:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            self._thaw()
            raise
        return pool

    def _restart(self) -> None:
        """Replace a pool broken by a worker's death."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._start()

    def map_unordered(
        self, fn: Task, base: Any, chunks: Iterable[Any], lost: Lost = _no_loss
    ) -> Iterator[Any]:
        """Submit chunks within the window and yield results as they finish.

        When a worker dies, the pool is rebuilt and the chunks that were in flight run again
        one at a time: one that kills its worker alone yields ``lost(chunk, reason)``.
        """
        pending: dict[Future[Any], Any] = {}
        suspects: list[Any] = []
        """Chunks in flight when a worker died: each runs again alone."""
        alone = False
        """Whether the chunk in flight is a suspect running alone (its death is its own)."""
        source = iter(chunks)
        exhausted = False
        while True:
            while len(pending) < (1 if suspects or alone else self.window):
                if suspects:
                    chunk, alone = suspects.pop(0), True
                else:
                    chunk = None if exhausted else next(source, None)
                    if chunk is None:
                        exhausted = True
                        break
                try:
                    pending[self._pool.submit(fn, base, chunk)] = chunk
                except BrokenProcessPool:  # a worker died before the pool could say so
                    suspects = [*pending.values(), chunk, *suspects]
                    pending.clear()
                    alone = False
                    self._restart()
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                chunk = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    if alone:
                        yield lost(chunk, WORKER_DIED)
                    else:
                        suspects.append(chunk)
                    continue
                yield result
            alone = False
            if broken:
                suspects += pending.values()
                pending.clear()
                self._restart()

    def _thaw(self) -> None:
        if self._frozen:
            _unfreeze()
            self._frozen = False

    def close(self) -> None:
        """Stop the pool; chunks not started are cancelled. Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            self._pool.shutdown(wait=True, cancel_futures=True)
        finally:
            self._thaw()


class DaskCluster(Executor):
    """A Dask distributed cluster: ``tcp://host:port``, or ``local`` for a LocalCluster.

    The cluster's workers must be able to import relsim (the same version, for identical
    results). The base scenario is sent to every worker once.
    """

    def __init__(self, address: str, workers: int, window: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a dependency, but say so plainly
            raise RelsimError(
                "--scheduler needs Dask distributed: pip install distributed"
            ) from None
        self._cluster = None
        try:
            if address == "local":
                self._cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                )
                self._client = Client(self._cluster)
            else:
                self._client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise RelsimError(f"--scheduler {address}: cannot connect ({exc})") from None
        except ValueError as exc:  # an address Dask cannot parse
            raise RelsimError(
                f"--scheduler {address}: expected 'local' or a scheduler address such as "
                f"tcp://host:8786 ({exc})"
            ) from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})) or workers)
        self.window = window or 4 * self.workers
        self.description = f"Dask at {address} ({self.workers} workers)"

    def map_unordered(
        self, fn: Task, base: Any, chunks: Iterable[Any], lost: Lost = _no_loss
    ) -> Iterator[Any]:
        """Submit chunks within the window and yield results as they finish.

        Dask runs a chunk whose worker died again elsewhere; one that kills its workers each
        time (``KilledWorker``) yields ``lost(chunk, reason)``.
        """
        from distributed import KilledWorker, as_completed

        base_future = self._client.scatter(base, broadcast=True)
        source = iter(chunks)
        chunk_of: dict[Any, Any] = {}

        def submit(chunk: Any) -> Any:
            future = self._client.submit(fn, base_future, chunk, pure=False)
            chunk_of[future.key] = chunk
            return future

        first = []
        for _ in range(self.window):
            chunk = next(source, None)
            if chunk is None:
                break
            first.append(submit(chunk))
        if not first:
            return
        queue = as_completed(first)
        for future in queue:
            chunk = chunk_of.pop(future.key)
            try:
                result = future.result()
            except KilledWorker:
                result = lost(chunk, WORKER_DIED)
            future.release()
            following = next(source, None)
            if following is not None:
                queue.add(submit(following))
            yield result

    def close(self) -> None:
        """Disconnect, and stop the cluster if this executor started it."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int | None, scheduler: str | None) -> Executor:
    """The executor for ``--workers`` and ``--scheduler``.

    Args:
        workers: Processes (default: every available core); 1 means run serially here.
        scheduler: ``None`` for local processes, ``"local"`` for a Dask LocalCluster, or the
            address of a Dask scheduler.
    """
    n = workers or available_cores()
    if scheduler:
        return DaskCluster(scheduler, n)
    if n == 1:
        return Serial()
    return LocalPool(n)
