"""Network administrative organisation: a regional convener governs each network.

Provan & Kenis (2008): a separate body, not one of the members, is set up to govern the
network; it is legitimate because it is neutral, and it suits networks too large for shared
governance. Here each region has a convener, an agent of its own
(:class:`relsim.model.agents.Convener`) with relationships to the region's trusts and to the
regulator. The convener chairs the board and exchanges with every attendee; it relays the
disclosures made at the board to the regulator and, as a neutral broker, shields them further
(``governance.regional.convener_protection``); and it, not the board, meets the regulator.
"""

from __future__ import annotations

import numpy as np

from relsim.model.governance.board import ChairedBoards
from relsim.model.mechanisms import Float, Int
from relsim.model.relations import Layout


class NetworkAdministrativeOrganisation(ChairedBoards):
    """Regional boards chaired by a convener agent; the regulator meets the conveners."""

    name = "network_administrative_organisation"
    uses_conveners = True

    def chair_seats(self, layout: Layout) -> Int:
        """The convener's position in each region's block (the last)."""
        return np.full(layout.n_regions, layout.convener_position)

    def relay(self, p_board: Float) -> Float:
        """A neutral convener shields the disclosures it relays on top of the board's space."""
        protection = self.scenario.governance.regional.convener_protection
        return 1.0 - (1.0 - p_board) * (1.0 - protection)
