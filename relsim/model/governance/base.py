"""What every governance rule shares: the month's interactions, and problems meeting a regulator.

A governance rule is a strategy object with one entry point, :meth:`GovernanceRule.govern`: it
takes the month's state and returns the month's :class:`Interactions` (who met whom, with what
valence and weight, what was disclosed, what surfaced, who was exposed to which practice).
The model then applies them (trust update, safety, learning) the same way whatever the rule.
Agents never ask which rule is in force.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cache
from typing import ClassVar

import numpy as np

from relsim.model.mechanisms import Bool, CompactState, Float, Int, disclosure_probability
from relsim.model.relations import Layout
from relsim.model.state import REGULATOR, State
from relsim.model.streams import Streams, binomial
from relsim.scenario.schema import Scenario


@cache
def _single(n_trusts: int) -> Layout:
    """The layout of one network of ``n_trusts`` trusts (cached: rules ask for it monthly)."""
    return Layout.single(n_trusts)


class Interactions:
    """One month's interactions, accumulated by the governance rule and applied by the model.

    Pair weights are kept in the layout of the model's per-pair state
    (:mod:`relsim.model.relations`): ``positive[r, p, q]`` is the total weight of positive
    interactions, from the point of view of the actor at position p of region r's block, with
    the actor at position q. Pairs across regions are collected apart (:meth:`exchange_pairs`)
    and stored sparsely. With one region
    and no conveners the arrays are the matrices over actors themselves (0 = regulator,
    1 + i = trust i): ``positive[i, j]`` is the weight from i's point of view with j.

    Args:
        layout: The model's layout (``state.relations.layout``), or a number of trusts for one
            network of that many trusts.
    """

    __slots__ = (
        "_cross",
        "_regulator",
        "attendance_rate",
        "attended",
        "block_encounters",
        "board_met",
        "board_positive_share",
        "breaches",
        "contact",
        "disclosures",
        "encounters",
        "layout",
        "negative",
        "pair_encounters",
        "positive",
        "punitive",
        "repaired",
        "repairs",
        "supportive",
        "surprises",
    )

    def __init__(self, layout: Layout | int) -> None:
        if isinstance(layout, int):
            layout = _single(layout)
        self.layout = layout
        n_trusts = layout.n_trusts
        shape = layout.month_shape
        self.positive: Float = np.zeros(shape)
        self.negative: Float = np.zeros(shape)
        self.contact: Bool = np.zeros(shape, dtype=bool)
        self.disclosures: Int = np.zeros(n_trusts, dtype=np.int64)
        self.surprises: Int = np.zeros(n_trusts, dtype=np.int64)
        self.supportive: Int = np.zeros(n_trusts, dtype=np.int64)
        self.punitive: Int = np.zeros(n_trusts, dtype=np.int64)
        self.attended: Bool = np.zeros(n_trusts, dtype=bool)
        self.encounters: list[tuple[Bool, Bool]] = []
        """Peer encounters over all trusts as (met, presented): ``met[j, i]`` if trust j met
        trust i, and ``presented[i, k]`` if i told those it met about practice k."""
        # Most months of a small system have neither kind: empty tuples cost no allocation.
        self.block_encounters: tuple[tuple[Bool, Bool], ...] = ()
        """Encounters within regions as (met, presented): ``met`` in block layout (who met
        whom, by position), ``presented`` per trust and practice (see :meth:`meet_in_blocks`)."""
        self.pair_encounters: tuple[tuple[Int, Int, Bool], ...] = ()
        """Encounters across regions as (j, i, presented): trust ``j[x]`` met trust ``i[x]``
        (trust indices, both directions listed), and ``presented`` per trust and practice
        (see :meth:`meet_in_pairs`)."""
        self.board_met = False
        self.attendance_rate = float("nan")
        self.board_positive_share: float | None = None
        self.breaches = 0
        self.repaired = False
        self.repairs = 0
        """Boards that held a repair conversation this month."""
        # Regulator-trust exchanges, accumulated as vectors and folded into the pair arrays
        # once, by finish(): rows are trust+, trust-, regulator+, regulator- (per trust).
        self._regulator: Float = np.zeros((4, n_trusts))
        self._cross: tuple[tuple[Int, Int, Float, Float], ...] = ()

    def meet_in_blocks(self, met: Bool, presented: Bool) -> None:
        """Record an encounter within regions (M7).

        ``met`` is in block layout; ``presented[i, k]`` if trust i talked about practice k.
        """
        self.block_encounters += ((met, presented),)

    def meet_in_pairs(self, met_by: Int, met: Int, presented: Bool) -> None:
        """Record an encounter across regions (M7).

        Trust ``met_by[x]`` met trust ``met[x]`` (list both directions); ``presented[i, k]`` if
        trust i talked about practice k.
        """
        self.pair_encounters += ((met_by, met, presented),)

    def exchange(self, pair: Bool, weight: float, positive: Bool, negative_weight: float) -> Bool:
        """Each ``pair`` of actors exchanges once, both ways.

        ``pair`` and ``positive`` are matrices over the regulator and trusts, (N+1)², as a board
        that spans regions needs. The exchange is positive where ``positive`` holds, and
        otherwise negative with ``negative_weight`` times the weight.

        Returns:
            The pairs whose exchange was positive.
        """
        good = pair & positive
        layout = self.layout
        if layout.identity:
            self.positive += good * weight
            if negative_weight:
                self.negative += (pair ^ good) * (weight * negative_weight)
            self.contact |= pair
            return good
        self.positive += layout.gather(good * weight)
        if negative_weight:
            self.negative += layout.gather((pair ^ good) * (weight * negative_weight))
        self.contact |= layout.gather(pair)
        across = pair & layout.cross_region
        if np.count_nonzero(across):
            src, dst = np.nonzero(across)
            won = good[src, dst]
            # Both directions are listed: the matrices are symmetric.
            self._cross += ((src, dst, won * weight, ~won * (weight * negative_weight)),)
        return good

    def exchange_blocks(
        self, pair: Bool, weight: Float | float, positive: Bool, negative_weight: float
    ) -> Bool:
        """As :meth:`exchange`, for pairs within regions given in block layout.

        ``weight`` may differ by region (an array broadcastable to the blocks).
        """
        if self.layout.identity:
            pair, positive = pair[0], positive[0]
            if isinstance(weight, np.ndarray):
                weight = weight[0]
        good = pair & positive
        self.positive += good * weight
        if negative_weight:
            self.negative += (pair ^ good) * (weight * negative_weight)
        self.contact |= pair
        return good

    def exchange_pairs(
        self, a: Int, b: Int, weight: Float | float, positive: Bool, negative_weight: float
    ) -> None:
        """Actors ``a[x]`` and ``b[x]`` (in different regions) exchange once, both ways."""
        pos = positive * weight
        neg = ~positive * (weight * negative_weight)
        both = (np.concatenate((a, b)), np.concatenate((b, a)), np.tile(pos, 2), np.tile(neg, 2))
        self._cross += (both,)

    def trust_sees_regulator(self, positive: Float | float, negative: Float | float) -> None:
        """Interactions with the regulator from each trust's point of view (weights per trust)."""
        self._fold(0, positive, negative)

    def regulator_sees_trust(self, positive: Float | float, negative: Float | float) -> None:
        """Interactions with each trust from the regulator's point of view (weights per trust)."""
        self._fold(2, positive, negative)

    def _fold(self, row: int, positive: Float | float, negative: Float | float) -> None:
        # Adding a literal zero changes nothing; skipping it saves a pass over the array.
        if not (isinstance(positive, float) and positive == 0.0):
            self._regulator[row] += positive
        if not (isinstance(negative, float) and negative == 0.0):
            self._regulator[row + 1] += negative

    def finish(self) -> Interactions:
        """Fold the regulator-trust exchanges into the pair arrays; call once, at month end."""
        reg = self._regulator
        touched = np.add.reduce(reg, axis=0) > 0
        layout = self.layout
        if layout.identity:
            self.positive[1:, REGULATOR] += reg[0]
            self.negative[1:, REGULATOR] += reg[1]
            self.positive[REGULATOR, 1:] += reg[2]
            self.negative[REGULATOR, 1:] += reg[3]
            self.contact[1:, REGULATOR] |= touched
            self.contact[REGULATOR, 1:] |= touched
            return self
        r, p = layout.region, layout.position
        self.positive[r, p, REGULATOR] += reg[0]
        self.negative[r, p, REGULATOR] += reg[1]
        self.positive[r, REGULATOR, p] += reg[2]
        self.negative[r, REGULATOR, p] += reg[3]
        self.contact[r, p, REGULATOR] |= touched
        self.contact[r, REGULATOR, p] |= touched
        return self

    def cross_totals(self) -> tuple[Int, Float, Float] | None:
        """This month's exchanges across regions, or None when there were none.

        Returns:
            (distinct pair keys, positive weights, negative weights) per key.
        """
        if not self._cross:
            return None
        src = np.concatenate([c[0] for c in self._cross])
        dst = np.concatenate([c[1] for c in self._cross])
        pos = np.concatenate([c[2] for c in self._cross])
        neg = np.concatenate([c[3] for c in self._cross])
        keys = src * self.layout.n_actors + dst
        if len(self._cross) == 1 and np.all(keys[1:] > keys[:-1]):
            return keys, pos, neg  # one exchange, already distinct (a shared board's pairs)
        keys, inverse = np.unique(keys, return_inverse=True)
        return (
            keys,
            np.bincount(inverse, weights=pos, minlength=keys.size),
            np.bincount(inverse, weights=neg, minlength=keys.size),
        )


def respond(
    counts: Int,
    p_supportive: Float | float,
    streams: Streams,
    ix: Interactions,
    scenario: Scenario,
) -> None:
    """The regulator responds to each event (disclosure or surprise) supportively or not (M4).

    Supportive responses are positive interactions for the trust, punitive ones negative; both
    are counted, for psychological safety and enforcement.
    """
    if not np.count_nonzero(counts):
        return
    supportive = binomial(streams.response, counts, p_supportive)
    punitive = counts - supportive
    reg = scenario.regulator
    ix.trust_sees_regulator(reg.supportive_weight * supportive, reg.punitive_weight * punitive)
    ix.supportive += supportive
    ix.punitive += punitive


def disclose(
    state: State,
    scenario: Scenario,
    streams: Streams,
    ix: Interactions,
    contacted: Bool,
    p_supportive: Float | float,
    severity: Float | float,
) -> Int:
    """Trusts at a governance contact disclose or hide pending problems (M3); responses follow.

    The regulator responds to each disclosure (M4). A trust anticipates the sanction it risks:
    the probability of a punitive response times ``severity`` (1 at a board; higher up the
    enforcement pyramid).

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
        pr.disclosure_intercept,
        pr.disclosure_safety,
        pr.disclosure_trust,
        pr.disclosure_sanction,
    )
    disclosed = binomial(streams.disclosure, at_contact, p_disclose)
    state.hidden += at_contact - disclosed
    state.known += disclosed
    state.pending -= at_contact
    ix.disclosures += disclosed
    ix.regulator_sees_trust(scenario.regulator.disclosure_credit * disclosed, 0.0)
    respond(disclosed, p_supportive, streams, ix, scenario)
    return disclosed


def surface(
    state: State,
    scenario: Scenario,
    streams: Streams,
    ix: Interactions,
    p_supportive: Float | float,
) -> Int:
    """Hidden problems surface by themselves as surprises (M3), and the regulator responds (M4).

    A surprise is a strong negative interaction in both directions ("early warning and no
    surprises" broken).

    Returns:
        The number of surprises per trust.
    """
    surfaced = binomial(streams.surprises, state.hidden, scenario.problems.surface_probability)
    if not np.count_nonzero(surfaced):
        return surfaced
    state.hidden -= surfaced
    state.known += surfaced
    ix.surprises += surfaced
    weight = scenario.problems.surprise_weight * surfaced
    ix.trust_sees_regulator(0.0, weight)
    ix.regulator_sees_trust(0.0, weight)
    respond(surfaced, p_supportive, streams, ix, scenario)
    return surfaced


@cache
def _upper(n: int) -> Bool:
    """Mask of the strict upper triangle of an n × n matrix (cached: it is used every month)."""
    mask = np.triu(np.ones((n, n), dtype=bool), 1)
    mask.flags.writeable = False
    return mask


@cache
def _off_diagonal(n: int) -> Bool:
    """Mask of the off-diagonal entries of an n × n matrix (cached)."""
    mask = ~np.eye(n, dtype=bool)
    mask.flags.writeable = False
    return mask


def all_pairs(members: Bool) -> Bool:
    """Pair mask in which every two distinct ``members`` meet (a meeting of a group)."""
    return members[:, None] & members[None, :] & _off_diagonal(len(members))


def symmetric(draws: Float, probability: Float | float) -> Bool:
    """One shared outcome per unordered pair: ``draws < probability``, mirrored.

    The upper triangle decides, so that an exchange is positive (or not) for both sides alike.
    ``draws`` is a square matrix, or a stack of them (one per region); ``probability`` may
    differ by region (an array broadcastable to the draws).
    """
    upper = (draws < probability) & _upper(draws.shape[-1])
    return upper | (upper.T if upper.ndim == 2 else np.swapaxes(upper, -1, -2))


class GovernanceRule(ABC):
    """A style of governance: how the regulator and trusts meet each month.

    Subclasses set :attr:`name` (the key used in scenario files and on the command line) and
    implement :meth:`govern`. To add a style, write one subclass in its own module and add it to
    :data:`relsim.model.governance.GOVERNANCE`.
    """

    name: ClassVar[str]
    #: Whether this rule has a board that can hold a compact (for reporting only).
    has_board: ClassVar[bool] = False
    #: Whether this rule needs a convener agent in each region; the model creates them (and
    #: their relationships) when any rule of the scenario does.
    uses_conveners: ClassVar[bool] = False

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    def start(self, state: State) -> None:
        """Set up governance state when the rule takes over (at month 0 or a scripted change).

        By default there is no board, so no compact: one negotiated under a previous rule
        does not survive the change.
        """
        state.compact = CompactState.NONE
        state.months_negotiating = 0
        state.pending_repair = False
        state.compact_of[:] = CompactState.NONE
        state.board_compact[:] = CompactState.NONE
        state.board_months_negotiating[:] = 0
        state.board_pending_repair[:] = False

    @abstractmethod
    def govern(self, state: State, streams: Streams, month: int) -> Interactions:
        """Produce this month's interactions.

        A rule also updates the governance state its interactions imply: disclosures,
        enforcement levels, attendance, the compact.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
