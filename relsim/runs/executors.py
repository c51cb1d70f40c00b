"""Where a sweep's runs execute: in this process, a local process pool, or a Dask cluster.

Each executor is a strategy with one entry point, :meth:`Executor.map_unordered`: it applies
a function to a base scenario and each chunk of run specifications and yields the results as
they finish. At most a window of chunks is in flight at a time, so that memory stays bounded
however many runs a sweep has. Results do not depend on the executor: every run carries its
own seed.
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
from typing import Any

from relsim.errors import RelsimError

Task = Callable[[Any, Any], Any]


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
    def map_unordered(self, fn: Task, base: Any, chunks: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(base, chunk)`` for every chunk, in the order they finish."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release workers; called once, also after an interruption."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Serial(Executor):
    """Every run in this process, one after another (``--workers 1``)."""

    description = "1 process"

    def map_unordered(self, fn: Task, base: Any, chunks: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(base, chunk)`` for each chunk in turn."""
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
        context: multiprocessing.context.BaseContext
        if threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["relsim.runs.runner"])
        self.start_method: str = context.get_start_method()
        """How workers start: ``"fork"`` from this process, or ``"forkserver"``."""
        self._closed = False
        if self.start_method == "fork":
            _freeze()
        try:
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
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
                self._pool.submit(os.getpid).result()
        except BaseException:
            if hasattr(self, "_pool"):
                self._pool.shutdown(wait=False, cancel_futures=True)
            if self.start_method == "fork":
                _unfreeze()
            raise

    def map_unordered(self, fn: Task, base: Any, chunks: Iterable[Any]) -> Iterator[Any]:
        """Submit chunks within the window and yield results as they finish."""
        pending: set[Future[Any]] = set()
        source = iter(chunks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.window:
                chunk = next(source, None)
                if chunk is None:
                    exhausted = True
                    break
                pending.add(self._pool.submit(fn, base, chunk))
            if not pending:
                return
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()

    def close(self) -> None:
        """Stop the pool; chunks not started are cancelled. Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            self._pool.shutdown(wait=True, cancel_futures=True)
        finally:
            if self.start_method == "fork":
                _unfreeze()


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

    def map_unordered(self, fn: Task, base: Any, chunks: Iterable[Any]) -> Iterator[Any]:
        """Submit chunks within the window and yield results as they finish."""
        from distributed import as_completed

        base_future = self._client.scatter(base, broadcast=True)
        source = iter(chunks)
        first = [
            self._client.submit(fn, base_future, chunk, pure=False)
            for chunk in (next(source, None) for _ in range(self.window))
            if chunk is not None
        ]
        if not first:
            return
        queue = as_completed(first)
        for future in queue:
            result = future.result()
            future.release()
            chunk = next(source, None)
            if chunk is not None:
                queue.add(self._client.submit(fn, base_future, chunk, pure=False))
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
