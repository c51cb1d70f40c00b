"""Telling the page's reader when the server has gone.

When ``relsim demo`` stops (Ctrl+C) or the network drops, the page would stay as it was, its
buttons doing nothing, with no word of why. :class:`ConnectionNotice` (``connection.vue``) is a
heartbeat: every second the page sends a number and the server sends it back; when no answer
has come for :data:`PATIENCE` seconds the page shows a notice across its bottom (and removes it
if answers resume).
"""

from __future__ import annotations

from typing import Any

import ipyvuetify as v
import traitlets

#: Seconds without an answer before the page says it is cut off (a long step or the first
#: drawing of the charts can keep the server busy for a second or two).
PATIENCE = 6


class ConnectionNotice(v.VuetifyTemplate):
    """A notice the page shows when its server stops answering."""

    template_file = (__file__, "connection.vue")
    ping = traitlets.Int(0).tag(sync=True)
    pong = traitlets.Int(0).tag(sync=True)
    patience = traitlets.Int(PATIENCE).tag(sync=True)

    @traitlets.observe("ping")
    def _answer(self, change: dict[str, Any]) -> None:
        self.pong = change["new"]
