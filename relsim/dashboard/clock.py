"""Time as a lecturer controls it: the month readout, play, steps, pausing at a month.

Mesa's SolaraViz controller steps the model on a timer in a thread and never learns whether the
page has drawn the month, so at a lecture's pace play ran ahead of the page and a pause landed
months late. Here play is one step at a time: step, wait until every chart on the page reports
it has drawn the new month (:class:`~relsim.dashboard.widget.Frames`), then wait out the rest of
the month's time at the chosen speed, and only then step again. Pausing therefore stops on the
month the page shows, and "pause at month N" stops exactly there.

Play runs as an asyncio task in a daemon thread of its own (Solara's ``use_task``), so a page
that is playing never keeps the server from stopping.
"""

from __future__ import annotations

import asyncio
import time

import solara
import solara.lab

from relsim.dashboard.session import SPEEDS, Session
from relsim.dashboard.widget import FramesContext

#: Longest wait for the page to draw a month before play goes on regardless (a page in a
#: hidden browser tab may not draw at all).
DRAW_TIMEOUT = 5.0
#: How often play looks whether the page has drawn.
POLL = 0.01


def seconds_per_month(speed: str) -> float:
    """The time a month takes at a speed (0 as fast as the page draws)."""
    rate = SPEEDS[speed]
    return 1.0 / rate if rate else 0.0


@solara.component
def MonthReadout(session: Session) -> None:
    """The month, large: "Month 12 of 60", and whether the views look back or the run ended."""
    session.frame.value  # noqa: B018
    demo = session.run.value
    solara.Text(f"Month {demo.month} of {demo.horizon}", classes=["relsim-month"])
    if session.look.value is not None:
        solara.Text(f"showing month {session.look.value}", classes=["relsim-month-note"])
    elif session.playing.value:
        solara.Text(f"playing to month {session.until.value}", classes=["relsim-month-note"])


@solara.component
def TimeBar(session: Session) -> None:
    """Reset, play and pause, steps of one and six months, speed, and the month to pause at."""
    frames = solara.use_context(FramesContext)
    demo = session.run.value
    session.frame.value  # noqa: B018
    playing = session.playing.value

    async def play() -> None:
        while session.playing.value:
            started = time.monotonic()
            going = session.tick()
            frame = session.frame.value
            while not frames.shown(frame) and time.monotonic() - started < DRAW_TIMEOUT:
                await asyncio.sleep(POLL)
            if not going:
                return
            rest = seconds_per_month(session.speed.value) - (time.monotonic() - started)
            if rest > 0:
                await asyncio.sleep(rest)

    solara.lab.use_task(play, dependencies=[playing], prefer_threaded=True)

    with solara.Row(classes=["relsim-timebar"], gap="8px", style={"flex-wrap": "wrap"}):
        solara.Button("Reset", color="primary", on_click=session.reset)
        if playing:
            solara.Button("❚❚ Pause", color="primary", on_click=session.pause)
        else:
            solara.Button("▶ Play", color="primary", on_click=session.play, disabled=demo.finished)
        for months in (1, 6):
            solara.Button(
                f"+{months} month" + ("s" if months > 1 else ""),
                color="primary",
                outlined=True,
                on_click=lambda months=months: session.advance(months),
                disabled=playing or demo.finished,
            )
        solara.Select(
            "Speed",
            value=session.speed.value,
            values=list(SPEEDS),
            on_value=session.speed.set,
            dense=True,
        )
        solara.InputInt(
            "Pause at month",
            value=session.stop_at.value,
            on_value=session.pause_at,
            optional=True,
            clearable=True,
            continuous_update=True,
            dense=True,
            hide_details=True,
        )


@solara.component
def LookBack(session: Session) -> None:
    """A slider to look back at any earlier month of the run (the history is recorded)."""
    session.frame.value  # noqa: B018
    month = session.month
    if month == 0:
        return
    shown = session.shown_month
    with solara.Row(classes=["relsim-lookback"], gap="12px", style={"align-items": "center"}):
        solara.SliderInt(
            f"Look back: month {shown}" + (" (the latest)" if shown == month else ""),
            value=shown,
            min=0,
            max=month,
            on_value=session.look_at,
            disabled=session.playing.value,
        )
        if shown != month:
            solara.Button("Back to the latest", text=True, on_click=lambda: session.look_at(None))


@solara.component
def EndNotice(session: Session) -> None:
    """At the horizon: say so, and offer Reset or another preset."""
    demo = session.run.value
    session.frame.value  # noqa: B018
    if not demo.finished:
        return
    with solara.Row(classes=["relsim-end"], style={"align-items": "center"}):
        solara.Text(
            f"The run has reached month {demo.horizon}, its end. Press Reset to run it again "
            "(with any changed settings), or choose a preset."
        )
        solara.Button("Start again (Reset)", color="primary", on_click=session.reset)
