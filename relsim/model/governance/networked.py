"""Networked governance: one board of the regulator and every trust (shared participant mode).

After the NHS England/Improvement - Virginia Mason Institute partnership (2015-2020): a board of
the regulator and the five trusts met monthly for about six hours as a protected relational
space, negotiated a compact of reciprocal commitments (nearly a year in the case), and trusts
showcased what works to each other (MODEL.md M6; Burgess et al. 2019). Provan & Kenis (2008):
the network's members govern it together, with no lead and no separate administrative body; it
suits small networks. The board machinery is :class:`~relsim.model.governance.board.Boards`;
this rule is its one-board case.
"""

from __future__ import annotations

from relsim.model.governance.board import Boards, Seating
from relsim.model.relations import Layout


class Networked(Boards):
    """One shared board of the regulator and every trust.

    In a system of several regions the one board spans them all, so every pair of attendees
    meets across regions too.
    """

    name = "networked"

    def seating(self, layout: Layout) -> Seating:
        """One board of everyone."""
        return Seating.shared(layout)
