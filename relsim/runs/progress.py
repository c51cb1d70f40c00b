"""Progress of a long sweep: a bar on a terminal, plain periodic lines otherwise.

On a terminal, a tqdm bar shows runs done, failures, the rate and the time left. When output
goes to a file or a CI log, a line is printed every ``interval`` seconds and at the end, so
logs stay readable.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any, Protocol, TextIO


class Progress(Protocol):
    """Receives a sweep's progress."""

    def start(self, total: int, done: int, failed: int, where: str) -> None:
        """The sweep starts with ``done`` of ``total`` runs already saved."""

    def update(self, done: int, failed: int) -> None:
        """``done`` runs have finished (``failed`` of them with an error)."""

    def close(self) -> None:
        """The sweep has ended."""


class Silent:
    """No progress output (``--quiet``, and tests)."""

    def start(self, total: int, done: int, failed: int, where: str) -> None:
        """Do nothing."""

    def update(self, done: int, failed: int) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


def _duration(seconds: float) -> str:
    """A duration in words: 42 s, 3 min 05 s, 2 h 10 min."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Lines:
    """Plain progress lines every ``interval`` seconds, for logs."""

    def __init__(self, stream: TextIO, interval: float = 10.0) -> None:
        self.stream = stream
        self.interval = interval
        self._total = self._start_done = self._done = self._failed = 0
        self._t0 = self._last = 0.0

    def start(self, total: int, done: int, failed: int, where: str) -> None:
        """Announce the sweep."""
        self._total, self._start_done, self._done, self._failed = total, done, done, failed
        self._t0 = self._last = time.monotonic()
        resumed = f", {done} already saved" if done else ""
        print(f"sweep: {total} runs on {where}{resumed}", file=self.stream, flush=True)

    def update(self, done: int, failed: int) -> None:
        """Print a line if ``interval`` has passed."""
        self._done, self._failed = done, failed
        if time.monotonic() - self._last >= self.interval:
            self._print()

    def _print(self) -> None:
        self._last = now = time.monotonic()
        ran = self._done - self._start_done
        rate = ran / max(now - self._t0, 1e-9)
        left = (self._total - self._done) / rate if rate > 0 else float("inf")
        eta = _duration(left) if left != float("inf") else "?"
        print(
            f"sweep: {self._done}/{self._total} runs ({self._failed} failed), "
            f"{rate:.1f} runs/s, {eta} left",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        """Print the last line."""
        if self._total:
            self._print()


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (where stderr is no terminal, yet bars work)."""
    return "ipykernel" in sys.modules


def notebook_widgets() -> bool:
    """Whether ipywidgets can be imported (tqdm draws a widget bar with it, else it warns)."""
    return importlib.util.find_spec("ipywidgets") is not None


class Bar:
    """A tqdm progress bar: on a terminal, or in a notebook (``notebook=True``).

    In a notebook the bar is ``tqdm.auto``'s widget when ipywidgets is installed, and tqdm's
    text bar (which a notebook shows as well) when it is not: ``tqdm.auto`` would warn that
    IProgress is missing.
    """

    def __init__(self, stream: TextIO, *, notebook: bool = False) -> None:
        self.stream = stream
        self.notebook = notebook
        self._bar: Any = None

    def start(self, total: int, done: int, failed: int, where: str) -> None:
        """Draw the bar."""
        if self.notebook and notebook_widgets():
            from tqdm.auto import tqdm
        else:
            from tqdm.std import tqdm

        self._bar = tqdm(
            total=total,
            initial=done,
            unit="run",
            desc=f"sweep ({where})",
            file=self.stream,
            dynamic_ncols=True,
            smoothing=0.1,
        )
        self._bar.set_postfix(failed=failed, refresh=False)

    def update(self, done: int, failed: int) -> None:
        """Advance the bar."""
        if self._bar is not None:
            self._bar.set_postfix(failed=failed, refresh=False)
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()


def make_progress(stream: TextIO | None = None, quiet: bool = False) -> Progress:
    """A bar on a terminal or in a notebook, lines otherwise, nothing when quiet."""
    stream = stream or sys.stderr
    if quiet:
        return Silent()
    if stream.isatty():
        return Bar(stream)
    if in_notebook():
        return Bar(stream, notebook=True)
    return Lines(stream)
