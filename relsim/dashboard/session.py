"""One browser session of the dashboard: its settings, its run, and what a lecturer does to them.

A :class:`Session` holds the page's state in Solara reactive variables, and its methods are
the lecturer's actions: choose a preset, Reset, step one or six months, play on to a month, look
back at an earlier month, apply a shock. They are plain Python, so the tests drive them without
a browser, and the page's buttons only call them.

The run is stepped in place; :attr:`Session.frame` counts every change the views must show, and
each chart tells the page when it has drawn a frame (:class:`~relsim.dashboard.widget.Frames`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate

import solara
from reacton.core import get_render_context

from relsim.dashboard.demo import DemoModel
from relsim.dashboard.settings import Settings, preset_options
from relsim.errors import RelsimError

#: Play speeds a lecturer can choose, in months a second (``0``: as fast as the page draws).
SPEEDS: dict[str, float] = {
    "1 month a second": 1.0,
    "2 months a second": 2.0,
    "4 months a second": 4.0,
    "8 months a second": 8.0,
    "As fast as it draws": 0.0,
}
DEFAULT_SPEED = "2 months a second"


def action[**P, R](
    method: Callable[Concatenate[Session, P], R],
) -> Callable[Concatenate[Session, P], R]:
    """A lecturer's action: all the changes it makes reach the page in one render.

    Without this, every reactive variable set would re-render each component that reads it,
    one after the other (a step would draw every chart many times over).
    """

    @functools.wraps(method)
    def run(self: Session, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.render_context or contextlib.nullcontext():
            return method(self, *args, **kwargs)

    return run


@dataclass
class Session:
    """The state of one page and the lecturer's actions on it.

    Attributes:
        presets: Preset label → scenario source, as the menu offers them.
        settings: What the controls show; Reset builds exactly this.
        built: The settings the current run was built from.
        run: The current run.
        ghost: The previous run, drawn dashed under the current one.
        frame: Counts the changes the views must show (steps, resets, looking back, ...).
        playing: Whether play is on.
        speed: Play speed, a key of :data:`SPEEDS`.
        stop_at: The month the "pause at" field shows (None: empty).
        until: The month the current play pauses at.
        look: The month the views show when looking back (None: the latest).
        presentation: Presentation mode (larger text, twins overlaid).
        show_ghost: Whether the previous run is drawn.
        problem: What went wrong with the last action, in one line ("" if nothing).
        render_context: The page's render context, to render each action's changes at once
            (None outside a page, e.g. in tests of the session alone).
    """

    presets: dict[str, str]
    settings: solara.Reactive[Settings]
    built: solara.Reactive[Settings]
    run: solara.Reactive[DemoModel]
    ghost: solara.Reactive[DemoModel | None]
    frame: solara.Reactive[int]
    playing: solara.Reactive[bool]
    speed: solara.Reactive[str]
    stop_at: solara.Reactive[int | None]
    until: solara.Reactive[int]
    look: solara.Reactive[int | None]
    presentation: solara.Reactive[bool]
    show_ghost: solara.Reactive[bool]
    problem: solara.Reactive[str]
    render_context: Any = None

    @classmethod
    def start(cls, preset: str) -> Session:
        """A session running ``preset`` with its own values, as a page first shows it."""
        settings = Settings.of_preset(preset)
        return cls(
            presets=preset_options(preset),
            settings=solara.reactive(settings),
            built=solara.reactive(settings),
            run=solara.reactive(settings.build()),
            ghost=solara.reactive(None),
            frame=solara.reactive(0),
            playing=solara.reactive(False),
            speed=solara.reactive(DEFAULT_SPEED),
            stop_at=solara.reactive(None),
            until=solara.reactive(0),
            look=solara.reactive(None),
            presentation=solara.reactive(False),
            show_ghost=solara.reactive(True),
            problem=solara.reactive(""),
            render_context=get_render_context(required=False),
        )

    # -----------------------------------------------------------------------------------------
    # What the page shows
    # -----------------------------------------------------------------------------------------

    @property
    def month(self) -> int:
        """The month the run has reached."""
        return self.run.value.month

    @property
    def shown_month(self) -> int:
        """The month the views show: the one looked back at, else the latest."""
        look = self.look.value
        return self.month if look is None else look

    @property
    def preset_label(self) -> str:
        """The menu's label of the preset the controls show."""
        source = self.settings.value.preset
        return next(label for label, value in self.presets.items() if value == source)

    @property
    def pending(self) -> bool:
        """Whether the controls show something other than the run (Reset would apply it)."""
        return self.settings.value != self.built.value

    @action
    def redraw(self) -> None:
        """Tell the views that something they show has changed."""
        self.frame.value += 1

    # -----------------------------------------------------------------------------------------
    # Settings and runs
    # -----------------------------------------------------------------------------------------

    @action
    def reset(self) -> bool:
        """Build exactly what the controls show, from month 0; keep the old run as the ghost.

        Returns:
            Whether a new run was built (if not, :attr:`problem` says why).
        """
        self.playing.value = False
        settings = self.settings.value
        problem = settings.problem()
        try:
            run = settings.build() if not problem else None
        except RelsimError as exc:
            problem, run = str(exc), None
        self.problem.value = problem
        if run is None:
            return False
        self.ghost.value = self.run.value
        self.run.value = run
        self.built.value = settings
        self.look.value = None
        self.redraw()
        return True

    @action
    def choose(self, label: str) -> None:
        """Load a preset's values into the controls and start it afresh (twin and seed stay)."""
        self.settings.value = self.settings.value.choose(self.presets[label])
        self.reset()

    @action
    def change(self, settings: Settings) -> None:
        """A control changed (it applies at the next Reset)."""
        self.settings.value = settings

    # -----------------------------------------------------------------------------------------
    # Time
    # -----------------------------------------------------------------------------------------

    @action
    def advance(self, months: int) -> int:
        """Step up to ``months`` months (fewer at the end of the run); return how many."""
        run = self.run.value
        done = 0
        while done < months and not run.finished:
            run.step()
            done += 1
        self.look.value = None
        if done:
            self.redraw()
        return done

    def target(self) -> int:
        """The month play would pause at: the "pause at" month if it is ahead, else the end."""
        stop, horizon = self.stop_at.value, self.run.value.horizon
        return stop if stop is not None and self.month < stop <= horizon else horizon

    @action
    def play(self) -> None:
        """Start play, to :meth:`target`."""
        if not self.run.value.finished:
            self.until.value = self.target()
            self.playing.value = True

    @action
    def pause(self) -> None:
        """Pause play (the month shown is the month the run is at)."""
        self.playing.value = False

    @action
    def pause_at(self, month: int | None) -> None:
        """Set the "pause at" month; while playing, play pauses there if it is still ahead."""
        self.stop_at.value = month
        if self.playing.value:
            self.until.value = self.target()

    @action
    def tick(self) -> bool:
        """One month of play; return whether play goes on afterwards."""
        if not self.playing.value:
            return False
        if self.month < self.until.value:
            self.advance(1)
        if self.month >= self.until.value or self.run.value.finished:
            self.playing.value = False
        return self.playing.value

    @action
    def look_at(self, month: int | None) -> None:
        """Show an earlier month (None, or the latest month: follow the run)."""
        self.look.value = None if month is None or month >= self.month else max(0, month)
        self.redraw()

    @action
    def present(self, on: bool) -> None:
        """Switch presentation mode on or off."""
        self.presentation.value = bool(on)
        self.redraw()

    @action
    def compare(self, on: bool) -> None:
        """Show the previous run, dashed, or not."""
        self.show_ghost.value = bool(on)
        self.redraw()

    @action
    def shock(self) -> None:
        """Apply the "pressure shock now" shock to the run, from next month."""
        try:
            self.run.value.apply_shock()
        except RelsimError as exc:
            self.problem.value = str(exc)
            return
        self.redraw()
