"""Responsive regulation: persuasion first, the pyramid for non-compliance (the fair comparator).

Ayres & Braithwaite (1992): a regulator that starts every encounter with persuasion, escalates
up an enforcement pyramid only when a provider does not comply, and steps back down as soon as
it cooperates ("tit for tat"). Here the regulator reviews every trust monthly against the same
target on reported quality as under :mod:`~relsim.model.governance.hierarchical`, but a
disclosed problem is never punished, a missed target is met by persuasion until it persists, a
concealed problem that surfaces escalates, and cooperation steps the pyramid down
(:func:`~relsim.model.governance.review.responsive_pyramid`). Trusts still meet as competitors.
"""

from __future__ import annotations

from relsim.model.governance.base import GovernanceRule
from relsim.model.governance.contact import regulator_support, surface
from relsim.model.governance.review import (
    compete,
    judge,
    peer_draws,
    responsive_pyramid,
    review,
)
from relsim.model.interactions import Interactions
from relsim.model.state import State
from relsim.model.streams import Draws


class Responsive(GovernanceRule):
    """Monthly reviews with persuasion first, a pyramid for non-compliance, and competing peers."""

    name = "responsive"

    def start(self, state: State) -> None:
        """No missed targets counted when the rule takes over."""
        super().start(state)
        state.missed_targets = state.missed_targets * 0

    def govern(self, state: State, draws: Draws, month: int) -> Interactions:
        """Review every trust, persuade or escalate, and let peers meet by chance."""
        sc = self.scenario
        ix = Interactions(state.relations.layout, state.lead)
        u_meet, u_valence = peer_draws(state, draws)
        p_supportive = regulator_support(state, sc, 0.0)
        # Its policy is known: a disclosed problem is never punished, so none is feared.
        met, disclosed = review(state, sc, draws, ix, 1.0)
        surprised = surface(state, sc, draws, ix, p_supportive)
        sanctioned = responsive_pyramid(state, sc, met, disclosed, surprised)
        judge(ix, sc, met, sanctioned)
        compete(state, sc, ix, u_meet, u_valence)
        return ix.finish()
