"""The hybrid regime of the case: a protected board inside continuing positional regulation.

In the NHS–Virginia Mason partnership, NHS Improvement convened the board and sat on it *and*
kept its positional authority over the same five trusts, which stayed under the national target
regime ("pervasive top-down regulation may stymie action"; a visit from the regulator "is usually
a sign a trust is in trouble", Burgess et al. 2019). Here the board of
:mod:`~relsim.model.governance.networked` meets as a protected relational space while every
trust is still reviewed monthly against its target, on the enforcement pyramid of targets and
terror, with gaming possible (:mod:`~relsim.model.governance.review`). The regulator is the same
actor in both roles, so the two affect each other: a punitive review is a response the board's
protected space moves with (M6), and trust built at the board tempers reviews (M4).
"""

from __future__ import annotations

from relsim.model.governance.board import Boards, Seating
from relsim.model.governance.contact import surface
from relsim.model.governance.review import judge, review, targets_and_terror
from relsim.model.interactions import Interactions
from relsim.model.mechanisms import Float
from relsim.model.relations import Layout
from relsim.model.state import State
from relsim.model.streams import Draws


class Hybrid(Boards):
    """One shared board of the regulator and every trust, and monthly reviews on the pyramid."""

    name = "hybrid"

    def seating(self, layout: Layout) -> Seating:
        """One board of everyone, as under networked governance."""
        return Seating.shared(layout)

    def regulate(self, state: State, draws: Draws, ix: Interactions, p_supportive: Float) -> None:
        """Review every trust against its target, answer surprises, move up or down the pyramid."""
        sc = self.scenario
        met, _ = review(state, sc, draws, ix, p_supportive)
        judge(ix, sc, met, ~met)
        surface(state, sc, draws, ix, p_supportive)
        targets_and_terror(state, ix, met)
