"""One month's interactions: what a governance rule produces and the monthly steps apply.

A governance rule (:mod:`relsim.model.governance`) says who met whom, with what valence and
weight, what was disclosed, what surfaced, how the regulator responded and who was exposed to
which practice; the kernel (:mod:`relsim.model.kernel`) then applies the month the same way
whatever the rule: trust (M1), safety and posture (M4, M5), learning (M7), regulator learning
(M10).

Every array carries the driver's leading axes ``lead``: none for one run, ``(R,)`` for R
replications stepped together (:mod:`relsim.model.batch`).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from relsim.model.mechanisms import Bool, Float, Int
from relsim.model.relations import REGULATOR, Layout


@cache
def _single(n_trusts: int) -> Layout:
    """The layout of one network of ``n_trusts`` trusts (cached: rules ask for it monthly)."""
    return Layout.single(n_trusts)


class Interactions:
    """One month's interactions, accumulated by the governance rule and applied by the kernel.

    Pair weights are kept in the block layout of the per-pair state
    (:mod:`relsim.model.relations`): ``positive[..., r, p, q]`` is the total weight of positive
    interactions, from the point of view of the actor at position p of region r's block, with
    the actor at position q. With one region and no conveners, block 0 is the matrix over actors
    (0 = regulator, 1 + i = trust i). Pairs across regions are collected apart
    (:meth:`exchange_pairs`) and stored sparsely (one run only).

    Args:
        layout: The model's layout (``state.relations.layout``), or a number of trusts for one
            network of that many trusts.
        lead: The leading axes of every array: ``()`` for one run, ``(R,)`` for replications.
    """

    __slots__ = (
        "_cross",
        "_regulator",
        "attendance_rate",
        "attended",
        "block_encounters",
        "board_met",
        "board_positive_share",
        "contact",
        "disclosures",
        "encounters",
        "layout",
        "lead",
        "negative",
        "pair_encounters",
        "positive",
        "punitive",
        "repairs",
        "supportive",
        "surprises",
    )

    def __init__(self, layout: Layout | int, lead: tuple[int, ...] = ()) -> None:
        if isinstance(layout, int):
            layout = _single(layout)
        self.layout = layout
        self.lead = lead
        n_trusts = layout.n_trusts
        shape = (*lead, *layout.shape)
        # One allocation per kind, viewed as the arrays below: a month is built often.
        weights = np.zeros((2, *shape))
        self.positive: Float = weights[0]
        self.negative: Float = weights[1]
        self.contact: Bool = np.zeros(shape, dtype=bool)
        counts = np.zeros((4, *lead, n_trusts), dtype=np.int64)
        self.disclosures: Int = counts[0]
        self.surprises: Int = counts[1]
        self.supportive: Int = counts[2]
        self.punitive: Int = counts[3]
        self.attended: Bool = np.zeros((*lead, n_trusts), dtype=bool)
        self.encounters: list[tuple[Bool, Bool]] = []
        """Encounters over all trusts as (met, presented): ``met[..., j, i]`` if trust j met
        trust i, and ``presented[..., i, k]`` if i told those it met about practice k (a board
        that spans regions)."""
        # Most months of a small system have neither kind: empty tuples cost no allocation.
        self.block_encounters: tuple[tuple[Bool, Bool], ...] = ()
        """Encounters within regions as (met, presented): ``met`` in block layout (who met
        whom, by position), ``presented`` per trust and practice (see :meth:`meet_in_blocks`)."""
        self.pair_encounters: tuple[tuple[Int, Int, Bool], ...] = ()
        """Encounters across regions as (j, i, presented): trust ``j[x]`` met trust ``i[x]``
        (trust indices, both directions listed), and ``presented`` per trust and practice
        (see :meth:`meet_in_pairs`). One run only."""
        self.board_met = False
        """Whether a board met this month (the same in every replication: meetings are
        scheduled)."""
        # Per-run values (shape ``lead``); a scalar stands for the same value in every run.
        self.attendance_rate: Float | float = np.nan
        """Share of trusts attending a board this month (NaN: no board met)."""
        self.board_positive_share: Float | float = np.nan
        """Share of positive exchanges at this month's boards with the regulator (NaN: none)."""
        self.repairs: Int | int = 0
        """Boards that held a repair conversation this month."""
        # Regulator-trust exchanges, accumulated as vectors and folded into the pair arrays
        # once, by finish(): rows are trust+, trust-, regulator+, regulator- (per trust).
        self._regulator: Float = np.zeros((4, *lead, n_trusts))
        self._cross: tuple[tuple[Int, Int, Float, Float], ...] = ()

    # -- who met whom, for learning (M7) -----------------------------------------------------

    def meet(self, met: Bool, presented: Bool) -> None:
        """Record an encounter over all trusts: ``met[..., j, i]`` if trust j met trust i."""
        self.encounters.append((met, presented))

    def meet_in_blocks(self, met: Bool, presented: Bool) -> None:
        """Record an encounter within regions (M7).

        ``met`` is in block layout; ``presented[..., i, k]`` if trust i talked about practice k.
        """
        self.block_encounters += ((met, presented),)

    def meet_in_pairs(self, met_by: Int, met: Int, presented: Bool) -> None:
        """Record an encounter across regions (M7). One run only.

        Trust ``met_by[x]`` met trust ``met[x]`` (list both directions); ``presented[i, k]`` if
        trust i talked about practice k.
        """
        self._one_run("encounters across regions")
        self.pair_encounters += ((met_by, met, presented),)

    # -- exchanges between actors (M1) -------------------------------------------------------

    def exchange_blocks(
        self, pair: Bool, weight: Float | float, positive: Bool, negative_weight: float
    ) -> Bool:
        """Each ``pair`` of actors (block layout) exchanges once, both ways.

        The exchange is positive where ``positive`` holds, and otherwise negative with
        ``negative_weight`` times the weight. ``weight`` may differ by block (an array
        broadcastable to the blocks).

        Returns:
            The pairs whose exchange was positive.
        """
        good = pair & positive
        self.positive += good * weight
        if negative_weight:
            self.negative += (pair ^ good) * (weight * negative_weight)
        self.contact |= pair
        return good

    def exchange(self, pair: Bool, weight: float, positive: Bool, negative_weight: float) -> Bool:
        """As :meth:`exchange_blocks`, for pairs given over the regulator and trusts, (N+1)².

        For a board that spans regions: pairs within a region go to their blocks, pairs across
        regions to the sparse store (one run only).
        """
        layout = self.layout
        if layout.identity:
            return self.exchange_blocks(
                pair[..., None, :, :], weight, positive[..., None, :, :], negative_weight
            )[..., 0, :, :]
        self._one_run("exchanges across regions")
        good = pair & positive
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

    def exchange_pairs(
        self, a: Int, b: Int, weight: Float | float, positive: Bool, negative_weight: float
    ) -> None:
        """Actors ``a[x]`` and ``b[x]`` (in different regions) exchange once, both ways."""
        self._one_run("exchanges across regions")
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

    def _one_run(self, what: str) -> None:
        if self.lead:
            raise ValueError(f"{what} are kept for one run only (lead {self.lead})")

    def finish(self) -> Interactions:
        """Fold the regulator-trust exchanges into the pair arrays; call once, at month end."""
        reg = self._regulator
        touched = np.add.reduce(reg, axis=0) > 0
        layout = self.layout
        if layout.identity:
            trusts = slice(1, None)
            self.positive[..., 0, trusts, REGULATOR] += reg[0]
            self.negative[..., 0, trusts, REGULATOR] += reg[1]
            self.positive[..., 0, REGULATOR, trusts] += reg[2]
            self.negative[..., 0, REGULATOR, trusts] += reg[3]
            self.contact[..., 0, trusts, REGULATOR] |= touched
            self.contact[..., 0, REGULATOR, trusts] |= touched
            return self
        r, p = layout.region, layout.position
        self.positive[..., r, p, REGULATOR] += reg[0]
        self.negative[..., r, p, REGULATOR] += reg[1]
        self.positive[..., r, REGULATOR, p] += reg[2]
        self.negative[..., r, REGULATOR, p] += reg[3]
        self.contact[..., r, p, REGULATOR] |= touched
        self.contact[..., r, REGULATOR, p] |= touched
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

    def regulator_exchanges(self) -> Float:
        """The regulator-trust weights not yet folded: rows trust+, trust−, regulator+, regulator−.

        ``(4, *lead, N)``; for tests and inspection.
        """
        return self._regulator
