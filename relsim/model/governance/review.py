"""Positional regulation's instruments: the performance review, the pyramid, competing peers.

The regulator reviews every trust monthly against a target on *reported* quality (MODEL.md M5).
The review is a governance contact: pending problems are disclosed or hidden (M3) and the
regulator responds (M4). What follows a missed target is the regime's choice:

- **targets and terror** (:func:`targets_and_terror`): every missed target and every punitive
  response, a response to a disclosure included, climbs the pyramid (Bevan & Hood 2006);
- **responsive regulation** (:func:`responsive_pyramid`): persuasion first, escalation only on
  non-compliance (targets missed again and again, a concealed problem surfacing), a step down
  on cooperation, and a disclosed problem is never punished (Ayres & Braithwaite 1992).

Trusts meet each other rarely, as competitors (:func:`compete`). At scale, the competitors a
trust meets are those of its own region (its local health economy), so the cost of a month
grows with the trusts, not with their pairs. The rules that use these pieces are
:mod:`~relsim.model.governance.hierarchical`, :mod:`~relsim.model.governance.responsive` and
:mod:`~relsim.model.governance.hybrid`.
"""

from __future__ import annotations

import numpy as np

from relsim.model.governance.base import symmetric
from relsim.model.governance.contact import disclose
from relsim.model.interactions import Interactions
from relsim.model.mechanisms import Bool, Float, Int
from relsim.model.state import MAX_LEVEL, State
from relsim.model.streams import Draws
from relsim.scenario import Scenario


def peer_draws(state: State, draws: Draws) -> tuple[Float, Float]:
    """The month's draws for meetings between competitors: who meets, and how it goes.

    One draw per ordered pair of positions in each region's block of trusts, drawn every month
    (met or not) so that the stream stays aligned.
    """
    layout = state.relations.layout
    shape = (layout.n_regions, layout.max_size, layout.max_size)
    return draws.peer_contact.random(shape), draws.peer_contact.random(shape)


def review(
    state: State,
    scenario: Scenario,
    draws: Draws,
    ix: Interactions,
    p_supportive: Float | float,
    p_response: Float | float | None = None,
) -> tuple[Bool, Int]:
    """Review every trust: pending problems disclosed or hidden, then the target (M3, M5).

    The higher a trust stands on the pyramid, the more a punitive response costs it, which it
    weighs when deciding to disclose.

    Args:
        state: The state.
        scenario: The scenario.
        draws: The draws.
        ix: The month's interactions.
        p_supportive: Probability of a supportive response, per trust.
        p_response: Probability that a disclosure meets one, if not ``p_supportive``.

    Returns:
        (whether each trust met its target, problems it disclosed).
    """
    severity = 1.0 + state.level / MAX_LEVEL
    disclosed = disclose(
        state, scenario, draws, ix, True, p_supportive, severity, p_response=p_response
    )
    met = state.reported_quality >= scenario.governance.hierarchical.quality_target
    return met, disclosed


def judge(ix: Interactions, scenario: Scenario, met: Bool, sanctioned: Bool) -> None:
    """The review's verdict as an interaction, both ways (M5).

    Positive if the target was met, negative if a missed target is sanctioned (a missed target
    met by persuasion is neither).
    """
    weight = scenario.governance.hierarchical.review_weight
    good = weight * met
    bad = weight * sanctioned
    ix.trust_sees_regulator(good, bad)
    ix.regulator_sees_trust(good, bad)


def targets_and_terror(state: State, ix: Interactions, met: Bool) -> None:
    """Climb the pyramid on a missed target or any sanction; step down otherwise (M5)."""
    escalate = ~met | (ix.punitive > 0)
    state.level = np.clip(state.level + np.where(escalate, 1, -1), 0, MAX_LEVEL)


def responsive_pyramid(
    state: State, scenario: Scenario, met: Bool, disclosed: Int, surprised: Int
) -> Bool:
    """Responsive regulation's pyramid (Ayres & Braithwaite 1992).

    A concealed problem that surfaces escalates at once; a missed target is met by persuasion
    until it has been missed ``governance.responsive.persuasion_reviews`` times in a row, then
    escalates; cooperation (the target met, or problems disclosed) steps the pyramid down.

    Returns:
        Which missed targets were sanctioned (escalated rather than met by persuasion).
    """
    missed = np.where(met, 0, state.missed_targets + 1)
    state.missed_targets = missed
    persisting = missed >= scenario.governance.responsive.persuasion_reviews
    escalate = (surprised > 0) | persisting
    cooperate = ~escalate & (met | (disclosed > 0))
    step = np.where(escalate, 1, np.where(cooperate, -1, 0))
    state.level = np.clip(state.level + step, 0, MAX_LEVEL)
    return ~met & persisting


def compete(
    state: State, scenario: Scenario, ix: Interactions, u_meet: Float, u_valence: Float
) -> None:
    """Rare meetings between competitors of a region; they talk about the practices they use."""
    h = scenario.governance.hierarchical
    layout = state.relations.layout
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
