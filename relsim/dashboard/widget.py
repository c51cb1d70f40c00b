"""The dashboard's chart widget, and how the page learns what the browser has drawn.

Solara's own Vega-Lite widget embeds its chart afresh whenever the specification changes, so a
chart redrawn every month is compiled every month, and Python never learns when the browser
has finished drawing. :class:`LiveChart` (``chart.vue``) compiles a chart once per template and
then only replaces its data; it takes the width of its card; and after drawing a frame it
sends the frame's number back (``drawn``). :class:`Frames` collects those numbers for a page,
so that play can wait until every chart on the page shows the month before it steps again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import ipyvuetify as v
import solara
import traitlets

Columns = dict[str, list[Any]]


class Payload:
    """One frame of a chart: its datasets (as columns) and signals.

    Wrapped so that Reacton, which looks through every dict and list among an element's
    arguments for child elements, does not walk thousands of values on every redraw.

    Attributes:
        frame: The page's frame number this data belongs to.
        data: Dataset name → column name → values.
        signals: Vega signal name → value (e.g. a shared axis maximum).
    """

    __slots__ = ("data", "frame", "signals")

    def __init__(
        self, frame: int, data: dict[str, Columns], signals: dict[str, Any] | None = None
    ) -> None:
        self.frame = frame
        self.data = data
        self.signals = signals or {}

    def as_json(self) -> dict[str, Any]:
        """What the browser receives."""
        return {"frame": self.frame, "data": self.data, "signals": self.signals}


class Template:
    """A chart's Vega-Lite specification without its data, wrapped for the same reason."""

    __slots__ = ("spec",)

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    @classmethod
    def of(cls, chart: Any) -> Template:
        """An Altair chart's specification, validated once (its style is added per page)."""
        spec = chart.to_dict()
        # Solara's page loads Vega-Lite 5; the features used here are the same in 5 and 6, and
        # without a $schema Vega-Embed compiles the spec with the Vega-Lite it has.
        spec.pop("$schema", None)
        spec.pop("config", None)
        return cls(spec)


class LiveChart(v.VuetifyTemplate):
    """A Vega-Lite chart compiled once per template and fed new data frame by frame."""

    template_file = (__file__, "chart.vue")
    spec = traitlets.Dict().tag(sync=True)
    payload = traitlets.Dict().tag(sync=True)
    drawn = traitlets.Int(-1).tag(sync=True)
    template_in = traitlets.Any(None)
    payload_in = traitlets.Any(None)

    @traitlets.observe("template_in")
    def _set_spec(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.spec = change["new"].spec

    @traitlets.observe("payload_in")
    def _set_payload(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.payload = change["new"].as_json()


class Frames:
    """The frames the charts of one page have drawn, for play to wait on.

    Each chart on the page reports the last frame it drew; a chart that is not on the page
    (another tab is open) is not waited for. Reports arrive from the browser on the server's
    threads, hence the lock.
    """

    def __init__(self) -> None:
        self._drawn: dict[int, int] = {}
        self._changed = threading.Condition()

    def report(self, chart: int, frame: int) -> None:
        """Chart ``chart`` has drawn ``frame``."""
        with self._changed:
            self._drawn[chart] = frame
            self._changed.notify_all()

    def forget(self, chart: int) -> None:
        """Chart ``chart`` has left the page."""
        with self._changed:
            self._drawn.pop(chart, None)
            self._changed.notify_all()

    def shown(self, frame: int) -> bool:
        """Whether every chart on the page has drawn ``frame`` (or a later one)."""
        with self._changed:
            return all(drawn >= frame for drawn in self._drawn.values())

    def wait(self, frame: int, timeout: float) -> bool:
        """Block until every chart has drawn ``frame``, or ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            return self._changed.wait_for(
                lambda: all(drawn >= frame for drawn in self._drawn.values()),
                max(0.0, deadline - time.monotonic()),
            )


FramesContext = solara.create_context(Frames())


@solara.component
def Chart(template: Template, payload: Payload) -> None:
    """A chart on the page; it reports the frames it draws to the page's :class:`Frames`."""
    frames = solara.use_context(FramesContext)
    element = LiveChart.element(template_in=template, payload_in=payload)

    def track() -> Callable[[], None]:
        widget = solara.get_widget(element)
        key = id(widget)

        def drawn(change: dict[str, Any]) -> None:
            frames.report(key, int(change["new"]))

        frames.report(key, widget.drawn)
        widget.observe(drawn, "drawn")

        def stop() -> None:
            widget.unobserve(drawn, "drawn")
            frames.forget(key)

        return stop

    solara.use_effect(track, [])
