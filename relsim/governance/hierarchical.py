"""Hierarchical governance: positional authority through targets, reviews and enforcement.

The regulator reviews each trust monthly against a target on *reported* quality and climbs or
descends an enforcement pyramid, contingently tough and forgiving (Ayres & Braithwaite 1992).
Trusts meet each other rarely, as competitors (MODEL.md M5).
"""

from __future__ import annotations

import numpy as np

from relsim.governance.base import GovernanceRule, Interactions, disclose, surface, symmetric
from relsim.mechanisms import supportive_probability
from relsim.state import MAX_LEVEL, State
from relsim.streams import Streams


class Hierarchical(GovernanceRule):
    """Monthly performance reviews, an enforcement pyramid and rare, competitive peer contact."""

    name = "hierarchical"

    def govern(self, state: State, streams: Streams, month: int) -> Interactions:
        """Review every trust, escalate or step down enforcement, and let peers meet by chance."""
        h = self.scenario.governance.hierarchical
        n = state.n_trusts
        ix = Interactions(n)
        u_meet = streams.peer_contact.random((n, n))
        u_valence = streams.peer_contact.random((n, n))
        p_supportive = supportive_probability(state.orientation, state.pressure, 0.0)

        # The review is a governance contact: pending problems are disclosed or hidden. The
        # higher a trust stands on the pyramid, the more a punitive response costs it.
        severity = 1.0 + state.level / MAX_LEVEL
        disclose(state, self.scenario, streams, ix, np.ones(n, dtype=bool), p_supportive, severity)
        met_target = state.reported_quality >= h.quality_target
        good = h.review_weight * met_target
        bad = h.review_weight * ~met_target
        ix.trust_sees_regulator(good, bad)
        ix.regulator_sees_trust(good, bad)
        surface(state, self.scenario, streams, ix, p_supportive)

        # Enforcement pyramid: escalate on a missed target or a sanction, step down otherwise.
        escalate = ~met_target | (ix.punitive > 0)
        state.level = np.clip(state.level + np.where(escalate, 1, -1), 0, MAX_LEVEL)

        # Rare meetings between competitors; they talk about whatever practices they use.
        meet = symmetric(u_meet, h.peer_contact_rate)
        positive = symmetric(u_valence, h.peer_positive_probability)
        pair = np.zeros((n + 1, n + 1), dtype=bool)
        pair[1:, 1:] = meet
        full_positive = np.zeros_like(pair)
        full_positive[1:, 1:] = positive
        ix.exchange(pair, h.peer_weight, full_positive, 1.0)
        ix.encounters.append((meet, state.adoption > 0))
        return ix.finish()
