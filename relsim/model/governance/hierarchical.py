"""Hierarchical governance: positional authority through targets, reviews and enforcement.

The regulator reviews each trust monthly against a target on *reported* quality and climbs or
descends an enforcement pyramid, contingently tough and forgiving (Ayres & Braithwaite 1992).
Trusts meet each other rarely, as competitors (MODEL.md M5). At scale, the competitors a trust
meets are those of its own region (its local health economy); trusts of different regions do
not meet, so the cost of a month grows with the trusts, not with their pairs.
"""

from __future__ import annotations

import numpy as np

from relsim.model.governance.base import GovernanceRule, symmetric
from relsim.model.governance.contact import disclose, surface
from relsim.model.interactions import Interactions
from relsim.model.mechanisms import supportive_probability
from relsim.model.state import MAX_LEVEL, State, per_run
from relsim.model.streams import Draws


class Hierarchical(GovernanceRule):
    """Monthly performance reviews, an enforcement pyramid and rare, competitive peer contact."""

    name = "hierarchical"

    def govern(self, state: State, draws: Draws, month: int) -> Interactions:
        """Review every trust, escalate or step down enforcement, and let peers meet by chance."""
        h = self.scenario.governance.hierarchical
        layout = state.relations.layout
        ix = Interactions(layout, state.lead)
        # One draw per ordered pair of positions in each region's block of trusts: with one
        # region, one n × n draw.
        shape = (layout.n_regions, layout.max_size, layout.max_size)
        u_meet = draws.peer_contact.random(shape)
        u_valence = draws.peer_contact.random(shape)
        p_supportive = per_run(supportive_probability(state.orientation, state.pressure, 0.0))

        # The review is a governance contact: pending problems are disclosed or hidden. The
        # higher a trust stands on the pyramid, the more a punitive response costs it.
        severity = 1.0 + state.level / MAX_LEVEL
        disclose(state, self.scenario, draws, ix, True, p_supportive, severity)
        met_target = state.reported_quality >= h.quality_target
        good = h.review_weight * met_target
        bad = h.review_weight * ~met_target
        ix.trust_sees_regulator(good, bad)
        ix.regulator_sees_trust(good, bad)
        surface(state, self.scenario, draws, ix, p_supportive)

        # Enforcement pyramid: escalate on a missed target or a sanction, step down otherwise.
        escalate = ~met_target | (ix.punitive > 0)
        state.level = np.clip(state.level + np.where(escalate, 1, -1), 0, MAX_LEVEL)

        # Rare meetings between competitors of a region; they talk about whatever practices
        # they use.
        meet = symmetric(u_meet, h.peer_contact_rate)
        positive = symmetric(u_valence, h.peer_positive_probability)
        trusts = slice(1, layout.max_size + 1)
        pair = np.zeros((*state.lead, *layout.shape), dtype=bool)
        pair[..., trusts, trusts] = meet
        if not layout.identity:
            pair &= layout.valid  # padding never meets
        full_positive = np.zeros_like(pair)
        full_positive[..., trusts, trusts] = positive
        ix.exchange_blocks(pair, h.peer_weight, full_positive, 1.0)
        ix.meet_in_blocks(pair, state.adoption > 0)
        return ix.finish()
