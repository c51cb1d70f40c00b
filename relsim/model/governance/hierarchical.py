"""Hierarchical governance: positional authority as targets and terror.

The regulator reviews each trust monthly against a target on *reported* quality and climbs the
enforcement pyramid on every missed target and every sanction, a sanction for a disclosed
problem included: the "targets and terror" regime of English health care in the 2000s (Bevan &
Hood 2006). Trusts meet each other rarely, as competitors (MODEL.md M5). The fairer comparator,
responsive regulation, is :mod:`relsim.model.governance.responsive`.
"""

from __future__ import annotations

from relsim.model.governance.base import GovernanceRule
from relsim.model.governance.contact import regulator_support, surface
from relsim.model.governance.review import compete, judge, peer_draws, review, targets_and_terror
from relsim.model.interactions import Interactions
from relsim.model.state import State
from relsim.model.streams import Draws


class Hierarchical(GovernanceRule):
    """Monthly performance reviews, an enforcement pyramid and rare, competitive peer contact."""

    name = "hierarchical"

    def govern(self, state: State, draws: Draws, month: int) -> Interactions:
        """Review every trust, escalate or step down enforcement, and let peers meet by chance."""
        sc = self.scenario
        ix = Interactions(state.relations.layout, state.lead)
        u_meet, u_valence = peer_draws(state, draws)
        p_supportive = regulator_support(state, sc, 0.0)
        met, _ = review(state, sc, draws, ix, p_supportive)
        judge(ix, sc, met, ~met)
        surface(state, sc, draws, ix, p_supportive)
        targets_and_terror(state, ix, met)
        compete(state, sc, ix, u_meet, u_valence)
        return ix.finish()
