"""Problems meeting a regulator: disclosure, surprises and the regulator's response (M3, M4).

Every rule that brings trusts into contact with the regulator (a review, a board meeting) uses
these three steps; each is written once and broadcasts over the state's leading axes.
Probabilities are given per trust (``(*lead, N)``, or anything that broadcasts to it).
"""

from __future__ import annotations

import numpy as np

from relsim.model.interactions import Interactions
from relsim.model.mechanisms import (
    Bool,
    Float,
    Int,
    disclosure_probability,
    lenient_probability,
    supportive_probability,
)
from relsim.model.state import State, per_run
from relsim.model.streams import Draws
from relsim.scenario import Scenario


def regulator_support(state: State, scenario: Scenario, buffer: Float | float) -> Float:
    """Probability that the regulator responds supportively to each trust this month (M4).

    ``ρ_eff = ρ·(1 − P·(1 − b))`` (pressure pushes toward sanctions, a compact in force buffers
    it by ``b``, per trust), tempered by the regulator's trust in the trust
    (:func:`~relsim.model.mechanisms.lenient_probability`).
    """
    reg = scenario.regulator
    p = supportive_probability(per_run(state.orientation), per_run(state.pressure), buffer)
    if not reg.trust_leniency:
        return p
    initial = scenario.trust_dynamics.initial_regulator_trust
    trust = state.relations.regulator_trust()
    return lenient_probability(p, trust, initial, reg.trust_leniency)


def respond(
    counts: Int, p_supportive: Float | float, draws: Draws, ix: Interactions, scenario: Scenario
) -> None:
    """The regulator responds to each event (disclosure or surprise) supportively or not (M4).

    Supportive responses are positive interactions for the trust, punitive ones negative; both
    are counted, for psychological safety and enforcement.
    """
    if not np.count_nonzero(counts):
        return
    supportive = draws.response.binomial(counts, p_supportive)
    punitive = counts - supportive
    reg = scenario.regulator
    ix.trust_sees_regulator(reg.supportive_weight * supportive, reg.punitive_weight * punitive)
    ix.supportive += supportive
    ix.punitive += punitive


def disclose(
    state: State,
    scenario: Scenario,
    draws: Draws,
    ix: Interactions,
    contacted: Bool | bool,
    p_supportive: Float | float,
    severity: Float | float,
    boost: Float | float = 0.0,
    p_response: Float | float | None = None,
) -> Int:
    """Trusts at a governance contact disclose or hide pending problems (M3); responses follow.

    The regulator responds to each disclosure (M4). A trust anticipates the sanction it risks:
    the probability of a punitive response times ``severity`` (1 at a board; higher up the
    enforcement pyramid). Better-run, safer organisations report more (Edmondson 1996).

    Args:
        state: The state.
        scenario: The scenario.
        draws: The draws.
        ix: The month's interactions.
        contacted: Which trusts are at the contact.
        p_supportive: Probability that a disclosure meets a supportive response, as the trust
            expects it.
        severity: How much a punitive response costs the trust, relative to one at a board.
        boost: Added to the logit of disclosure (a compact's early warning, M6).
        p_response: Probability that a disclosure actually meets a supportive response, if
            not the one expected (responsive regulation never punishes a disclosure).

    Returns:
        The number of problems each trust disclosed.
    """
    at_contact = np.where(contacted, state.pending, 0)
    if not np.count_nonzero(at_contact):
        return at_contact
    pr = scenario.problems
    expected_sanction = (1.0 - p_supportive) * severity
    p_disclose = disclosure_probability(
        state.safety,
        state.relations.trust_in_regulator(),
        expected_sanction,
        pr.disclosure_intercept + boost,
        pr.disclosure_safety,
        pr.disclosure_trust,
        pr.disclosure_sanction,
    )
    disclosed = draws.disclosure.binomial(at_contact, p_disclose)
    state.hidden += at_contact - disclosed
    state.known += disclosed
    state.pending -= at_contact
    ix.disclosures += disclosed
    ix.regulator_sees_trust(scenario.regulator.disclosure_credit * disclosed, 0.0)
    respond(disclosed, p_supportive if p_response is None else p_response, draws, ix, scenario)
    return disclosed


def surface(
    state: State, scenario: Scenario, draws: Draws, ix: Interactions, p_supportive: Float | float
) -> Int:
    """Hidden problems surface by themselves as surprises (M3), and the regulator responds (M4).

    A surprise is a strong negative interaction in both directions ("early warning and no
    surprises" broken, Burgess et al. 2019, box 3).

    Returns:
        The number of surprises per trust.
    """
    surfaced = draws.surprises.binomial(state.hidden, scenario.problems.surface_probability)
    if not np.count_nonzero(surfaced):
        return surfaced
    state.hidden -= surfaced
    state.known += surfaced
    ix.surprises += surfaced
    weight = scenario.problems.surprise_weight * surfaced
    ix.trust_sees_regulator(0.0, weight)
    ix.regulator_sees_trust(0.0, weight)
    respond(surfaced, p_supportive, draws, ix, scenario)
    return surfaced
