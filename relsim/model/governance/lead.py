"""Lead organisation: in each region one trust convenes the board (Provan & Kenis 2008).

All network-level activity is coordinated through one member, the lead, which chairs its
region's board, never misses it, and is the regulator's point of contact for the region: the
regulator meets the leads, not the boards. Here the lead is the region's readiest trust (the one
best placed to take on the role; ties go to the first listed).
"""

from __future__ import annotations

from relsim.model.governance.board import ChairedBoards
from relsim.model.mechanisms import Int
from relsim.model.relations import Layout


class LeadOrganisation(ChairedBoards):
    """Regional boards chaired by a lead trust; the regulator meets the leads."""

    name = "lead_organisation"

    def chair_seats(self, layout: Layout) -> Int:
        """The lead trust's position in each region's block."""
        return layout.position[self.leads]
