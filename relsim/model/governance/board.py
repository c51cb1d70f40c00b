"""Boards: the protected relational space of networked governance, written once (M6).

After the NHS England/Improvement - Virginia Mason Institute partnership (2015-2020): a board of
the regulator and trusts meets every ``governance.board.meeting_interval_months`` for
``governance.board.hours`` as a protected relational space, negotiates a compact of reciprocal
commitments (nearly a year in the case), and its members showcase what works to each other
(Burgess et al. 2019). Every board rule holds one or more such boards:

- one board of the regulator and every trust (``networked``: shared participant governance,
  Provan & Kenis 2008), which in a system of several regions spans them all;
- one board per region (``regional_boards``), and the variants that change who chairs the
  boards and who meets the regulator (:mod:`relsim.model.governance.lead`,
  :mod:`relsim.model.governance.administrative`) or add meetings between regions
  (:mod:`relsim.model.governance.national`).

Each board has seats (:class:`Seating`): position 0 the regulator, then its trusts (then a
convener, if any). Every step below works on all boards at once, in that seat space
(``(*lead, boards, width, width)`` for pairs), whatever the number of boards and replications.
A board's seats are the block of its region in the per-pair state (:mod:`relsim.model.relations`),
except for one board spanning several regions, whose seats are the whole matrix over the
regulator and trusts and whose exchanges are stored block by block and, across regions, sparsely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from relsim.model.governance.base import GovernanceRule, symmetric
from relsim.model.governance.contact import disclose, surface
from relsim.model.interactions import Interactions
from relsim.model.mechanisms import (
    Bool,
    CompactState,
    Float,
    Int,
    attendance_probability,
    board_pair_weights,
    network_compact,
    next_compact_states,
    shielded_probability,
    supportive_probability,
)
from relsim.model.relations import REGULATOR, Layout
from relsim.model.state import State, per_run
from relsim.model.streams import Draws


@dataclass(frozen=True)
class Seating:
    """Who sits where on a rule's boards.

    Attributes:
        board: The board of each trust.
        seat: Each trust's seat on its board.
        valid: ``(boards, width, width)``: pairs of distinct occupied seats.
        trust_seats: ``(boards, width)``: seats a trust sits in.
        spans_regions: The one board's seats are the matrix over the regulator and trusts of a
            system of several regions (else each board's seats are its region's block).
        onehot: ``(N, boards)``: 1 where trust i sits on board b, to sum per board.
        one_board: Whether there is one board (per-board values then broadcast over trusts).
        trust_index: Index of the trusts' seats in a seat-space array ``(..., boards, width)``
            (a slice when one board seats the trusts in order, so that it is basic indexing).
    """

    board: Int
    seat: Int
    valid: Bool
    trust_seats: Bool
    spans_regions: bool
    onehot: Int
    trust_index: tuple[Any, ...]
    one_board: bool

    @property
    def n_boards(self) -> int:
        """Number of boards."""
        return int(self.valid.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the seat space of pairs: boards × width × width."""
        return self.valid.shape

    @classmethod
    def regional(cls, layout: Layout) -> Seating:
        """One board per region, its seats the region's block."""
        return cls._make(layout.region, layout.position, layout.valid, layout.is_trust, False)

    @classmethod
    def shared(cls, layout: Layout) -> Seating:
        """One board of the regulator and every trust."""
        if layout.identity:  # one region: the board's seats are the block itself
            return cls.regional(layout)
        n = layout.n_trusts
        valid = ~np.eye(n + 1, dtype=bool)[None]
        trust_seats = (np.arange(n + 1) > REGULATOR)[None]
        return cls._make(np.zeros(n, dtype=np.int64), 1 + np.arange(n), valid, trust_seats, True)

    @classmethod
    def _make(
        cls, board: Int, seat: Int, valid: Bool, trust_seats: Bool, spans_regions: bool
    ) -> Seating:
        n = board.size
        onehot = np.zeros((n, valid.shape[0]), dtype=np.int64)
        onehot[np.arange(n), board] = 1
        in_order = valid.shape[0] == 1 and np.array_equal(seat, np.arange(1, n + 1))
        index = (..., 0, slice(1, n + 1)) if in_order else (..., board, seat)
        one = valid.shape[0] == 1
        return cls(board, seat, valid, trust_seats, spans_regions, onehot, index, one)

    def of_trusts(self, per_board: np.ndarray) -> np.ndarray:
        """Per-board values ``(..., boards)`` for each trust's board (broadcasting over trusts)."""
        return per_board if self.one_board else per_board[..., self.board]

    def at_trusts(self, per_seat: np.ndarray) -> np.ndarray:
        """Seat-space values ``(..., boards, width)`` at each trust's seat: ``(..., N)``."""
        return per_seat[self.trust_index]


class Boards(GovernanceRule):
    """Board meetings, a compact per board, disclosure in a protected space and showcases.

    Subclasses choose the boards (:meth:`seating`) and change who chairs them and who else
    meets by overriding :meth:`chairs`, :meth:`members`, :meth:`relay` and
    :meth:`beyond_boards`.
    """

    has_board = True
    #: Whether the regulator sits on the boards.
    regulator_on_boards = True

    # -- what the subclasses change ---------------------------------------------------------

    def seating(self, layout: Layout) -> Seating:
        """The boards and their seats: one per region."""
        return Seating.regional(layout)

    def chairs(self, seating: Seating, layout: Layout) -> Bool:
        """Seats (boards × width) of those who attend every meeting: the regulator."""
        always = np.zeros(seating.shape[:2], dtype=bool)
        always[:, REGULATOR] = True
        return always

    def members(self, seating: Seating, layout: Layout) -> Bool:
        """Seats of each board's members, among whom the compact's mean trust is taken."""
        members = seating.trust_seats.copy()
        members[:, REGULATOR] = True
        return members

    def relay(self, p_board: Float) -> Float:
        """Probability that a disclosure at each board meets a supportive response (M4)."""
        return p_board

    def beyond_boards(
        self, state: State, draws: Draws, ix: Interactions, month: int, meets: bool
    ) -> None:
        """Meetings other than the boards (none here)."""

    # -- taking over -------------------------------------------------------------------------

    def start(self, state: State) -> None:
        """Seat the boards; every board starts negotiating its compact (month 0 in the case)."""
        layout = state.relations.layout
        if self.uses_conveners and not layout.conveners:
            raise ValueError(f"{self.name} needs conveners: build the model with this rule")
        seating = self.seating(layout)
        self.boards = seating
        self.leads = region_leads(layout, state.readiness)
        """The readiest trust of each region (chairs under a lead organisation)."""
        self._always = self.chairs(seating, layout)
        chairing = self._always[seating.board, seating.seat]
        self._chairing = chairing if np.count_nonzero(chairing) else None
        """Trusts that chair their board and attend every meeting (None: no trust chairs)."""
        members = self.members(seating, layout)
        member_pairs = members[:, :, None] & members[:, None, :] & seating.valid
        counts = np.add.reduce(member_pairs, axis=(1, 2))
        # A board of one member has no pair: its trust counts as 1 (see _board_trust).
        self._member_pairs = member_pairs.astype(float)
        self._member_pair_counts = np.maximum(counts, 1)
        self._lone = np.flatnonzero(counts == 0)
        self._board_sizes = np.maximum(np.add.reduce(seating.onehot, axis=0), 1)
        board = self.scenario.governance.board
        seats = np.arange(seating.shape[-1] + 1)
        # By number of attendees (at most every seat): the weight of each pair's contact, and
        # the exchanges a meeting holds (two per pair, one each way).
        self._pair_weight = board_pair_weights(board.hours, seats, board.pair_hours_scale)
        self._exchanges = seats * (seats - 1)
        state.size_boards(seating.n_boards, self.scenario.governance.board.initial_norm)
        enabled = self.scenario.governance.compact.enabled
        first = CompactState.NEGOTIATING if enabled else CompactState.NONE
        state.board_compact[...] = first
        state.compact = network_compact(state.board_compact)
        state.compact_of = state.board_compact[..., seating.board]

    # -- the month ---------------------------------------------------------------------------

    def govern(self, state: State, draws: Draws, month: int) -> Interactions:
        """Advance each board's compact, hold the boards if due, then let problems surface."""
        gov = self.scenario.governance
        seating = self.boards
        ix = Interactions(state.relations.layout, state.lead)
        self._advance_compacts(state, month)
        in_force = state.board_compact == CompactState.IN_FORCE
        buffer = np.where(in_force, gov.compact.buffer, 0.0)
        p_supportive = supportive_probability(
            per_run(state.orientation), per_run(state.pressure), buffer
        )
        # Draw every month, meeting or not, so that each stream stays aligned across scenarios.
        u_attend = draws.attendance.random((state.n_trusts,))
        u_pairs = draws.board.random(seating.shape)
        u_show = draws.showcase.random(state.adoption.shape[-2:])
        u_repair = draws.repair.random((seating.n_boards,))
        meets = (month - 1) % gov.board.meeting_interval_months == 0
        if meets:
            self._meet(state, draws, ix, p_supportive, in_force, u_attend, u_pairs, u_show)
        self.beyond_boards(state, draws, ix, month, meets)
        surface(state, self.scenario, draws, ix, seating.of_trusts(p_supportive))
        if np.count_nonzero(in_force):
            # A breach of a board's compact (a punitive response, a surprise) leads, with some
            # probability, to a repair conversation at its next meeting (Burgess, Richmond &
            # Kiefer 2020; Burgess et al. 2019: "a frank and honest discussion takes place").
            breaches = (ix.punitive + ix.surprises) @ seating.onehot
            p_repair = 1.0 - (1.0 - gov.compact.repair_probability) ** breaches
            state.board_pending_repair = state.board_pending_repair | (
                in_force & (u_repair < p_repair)
            )
        return ix.finish()

    def _board_trust(self, state: State) -> Float:
        """Mean trust among each board's members over ordered pairs (1 for a board of one)."""
        relations = state.relations
        if self.boards.spans_regions:
            return np.array([relations.mean_trust()])
        blocks = relations.blocks
        total = np.add.reduce(blocks * self._member_pairs, axis=(-2, -1))
        trust = total / self._member_pair_counts
        if self._lone.size:
            trust[..., self._lone] = 1.0
        return trust

    def _advance_compacts(self, state: State, month: int) -> None:
        """One month of each board's compact (M6): negotiation, coming into force, lapses."""
        compact = self.scenario.governance.compact
        codes = state.board_compact
        if not self.scenario.governance.compact.enabled:
            return  # no board negotiates a compact
        negotiating = codes == CompactState.NEGOTIATING
        months = state.board_months_negotiating
        due = False
        if np.count_nonzero(negotiating):
            months = state.board_months_negotiating = months + negotiating
            due = bool(np.count_nonzero(negotiating & (months >= compact.negotiation_months)))
        in_force = codes == CompactState.IN_FORCE
        if not (due or np.count_nonzero(in_force)):
            return  # too early for any compact, whatever the boards' trust
        trust = self._board_trust(state)
        if not due and not np.count_nonzero(trust < compact.lapse_threshold):
            return  # every compact holds (the state machine below would change nothing)
        new = next_compact_states(
            codes,
            months,
            trust,
            compact.negotiation_months,
            compact.threshold,
            compact.lapse_threshold,
        )
        if not np.count_nonzero(new != codes):
            return  # no compact came into force or lapsed
        now_in_force = new == CompactState.IN_FORCE
        first = now_in_force & ~in_force & (state.board_compact_month < 0)
        state.board_compact_month = np.where(first, month, state.board_compact_month)
        state.board_months_negotiating = np.where(in_force & ~now_in_force, 0, months)
        state.board_compact = new
        state.compact = network_compact(new)
        entered = (state.compact == CompactState.IN_FORCE) & (state.compact_month < 0)
        state.compact_month = np.where(entered, month, state.compact_month)
        state.compact_of = new[..., self.boards.board]

    def _exchange(
        self, ix: Interactions, pair: Bool, weight: Float, positive: Bool, negative: float
    ) -> Bool:
        """Exchanges between seats, stored where the per-pair state keeps them."""
        if self.boards.spans_regions:
            return ix.exchange(pair[0], float(weight.flat[0]), positive[0], negative)[None]
        return ix.exchange_blocks(pair, weight, positive, negative)

    def _meet(
        self,
        state: State,
        draws: Draws,
        ix: Interactions,
        p_supportive: Float,
        in_force: Bool,
        u_attend: Float,
        u_pairs: Float,
        u_show: Float,
    ) -> None:
        """A round of board meetings: attendance, exchanges, frank talk, showcases, repairs."""
        gov = self.scenario.governance
        board, compact = gov.board, gov.compact
        seating = self.boards
        attend = u_attend < attendance_probability(
            state.meeting_value,
            seating.of_trusts(state.board_norm),
            board.attendance_intercept,
            board.attendance_value_weight,
            board.attendance_norm_weight,
        )
        if self._chairing is not None:
            attend |= self._chairing  # a lead trust chairs its board
        present = np.empty((*state.lead, *self._always.shape), dtype=bool)
        present[...] = self._always
        present[seating.trust_index] = attend
        attendees = np.add.reduce(present, axis=-1)
        weight = self._pair_weight[attendees][..., None, None]
        pi = np.where(in_force, compact.positive_probability, board.positive_probability)
        pair = present[..., :, None] & present[..., None, :] & seating.valid
        positive = symmetric(u_pairs, pi[..., None, None])
        good = self._exchange(ix, pair, weight, positive, board.negative_weight)

        # The value each attendee found in the meeting: its share of positive exchanges.
        partners = seating.of_trusts(attendees - 1)
        share = np.divide(
            seating.at_trusts(np.add.reduce(good, axis=-1)),
            partners,
            out=np.zeros(attend.shape),
            where=partners > 0,
        )
        v = board.value_memory
        state.meeting_value = np.where(
            attend & (partners > 0),
            (1 - v) * state.meeting_value + v * share,
            state.meeting_value,
        )
        ix.board_met = True
        ix.attended = attend
        attending = attend @ seating.onehot
        ix.attendance_rate = np.add.reduce(attending, axis=-1) / state.n_trusts
        state.board_norm = attending / self._board_sizes
        if self.regulator_on_boards:
            exchanges = np.add.reduce(self._exchanges[attendees], axis=-1)
            positive = np.add.reduce(good.reshape(*state.lead, -1), axis=-1)
            ix.board_positive_share = np.where(
                exchanges > 0, positive / np.maximum(exchanges, 1), np.nan
            )[()]  # one run's share as a scalar

        # Frank talk in a protected space: each attendee presents progress and problems.
        p_board = self.relay(shielded_probability(p_supportive, board.protection))
        disclose(state, self.scenario, draws, ix, attend, seating.of_trusts(p_board), 1.0)

        # Showcases: an attending adopter may present a practice to every attendee at once.
        presented = (state.adoption > 0) & attend[..., None] & (u_show < board.showcase_probability)
        if seating.spans_regions:
            ix.meet(pair[0, 1:, 1:], presented)
        else:
            ix.meet_in_blocks(pair, presented)

        due = state.board_pending_repair
        if np.count_nonzero(due):
            repair = pair & due[..., None, None]
            self._exchange(ix, repair, weight, repair, 0.0)
            ix.repairs = np.count_nonzero(due, axis=-1)
            state.board_pending_repair = np.zeros(due.shape, dtype=bool)


def region_leads(layout: Layout, readiness: Float) -> Int:
    """The readiest trust of each region (the first in order on a tie), by trust index."""
    order = np.lexsort((np.arange(layout.n_trusts), -readiness, layout.region))
    first = np.concatenate(([True], layout.region[order][1:] != layout.region[order][:-1]))
    return order[first]


class ChairedBoards(Boards):
    """Regional boards chaired by someone other than the regulator, who meets the chairs.

    The regulator does not sit on the regional boards: after each round of meetings it meets
    each board's chair, one to one (the chair reports the board's progress; Provan & Kenis 2008
    call this brokered governance). Disclosures made at a board still reach the regulator,
    relayed by the chair, and are answered as at any board (M4).
    """

    regulator_on_boards = False

    def chair_seats(self, layout: Layout) -> Int:
        """Seat of each board's chair."""
        raise NotImplementedError

    def chairs(self, seating: Seating, layout: Layout) -> Bool:
        """The chair of each board attends every meeting; the regulator attends none."""
        always = np.zeros(seating.shape[:2], dtype=bool)
        always[np.arange(seating.n_boards), self.chair_seats(layout)] = True
        return always

    def members(self, seating: Seating, layout: Layout) -> Bool:
        """The region's trusts and its chair."""
        return seating.trust_seats | self.chairs(seating, layout)

    def beyond_boards(
        self, state: State, draws: Draws, ix: Interactions, month: int, meets: bool
    ) -> None:
        """The regulator meets each chair after a round of board meetings."""
        gov = self.scenario.governance
        board = gov.board
        layout = state.relations.layout
        u = draws.convener.random((layout.n_regions,))  # drawn every month, to stay aligned
        if not meets:
            return
        regions = np.arange(layout.n_regions)
        chair = self.chair_seats(layout)
        in_force = state.board_compact == CompactState.IN_FORCE
        positive = u < np.where(
            in_force, gov.compact.positive_probability, board.positive_probability
        )
        pair = np.zeros(layout.shape, dtype=bool)
        pair[regions, REGULATOR, chair] = True
        pair[regions, chair, REGULATOR] = True
        weight = board_pair_weights(board.hours, np.array([2]), board.pair_hours_scale)[0]
        ix.exchange_blocks(pair, weight, pair & positive[..., None, None], board.negative_weight)
        ix.board_positive_share = np.count_nonzero(positive, axis=-1) / layout.n_regions
