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
from relsim.model.governance.contact import disclose, regulator_support, surface
from relsim.model.interactions import Interactions
from relsim.model.mechanisms import (
    Bool,
    CompactState,
    Float,
    Int,
    attendance_probability,
    board_pair_weights,
    board_positivity,
    clause_agreement,
    network_compact,
    next_compact_states,
    next_space,
    shielded_probability,
    space_target,
)
from relsim.model.relations import REGULATOR, Layout
from relsim.model.state import State
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
    meets by overriding :meth:`chairs`, :meth:`members`, :meth:`relay`, :meth:`beyond_boards`
    and :meth:`regulate`.
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
        """Probability that a disclosure at a board meets a supportive response, per trust (M4)."""
        return p_board

    def beyond_boards(
        self, state: State, draws: Draws, ix: Interactions, month: int, meets: bool
    ) -> None:
        """Meetings other than the boards (none here)."""

    def regulate(self, state: State, draws: Draws, ix: Interactions, p_supportive: Float) -> None:
        """What the regulator does outside the boards: here only answering surprises (M3)."""
        surface(state, self.scenario, draws, ix, p_supportive)

    # -- taking over -------------------------------------------------------------------------

    def start(self, state: State) -> None:
        """Seat the boards; every board starts negotiating its compact (month 0 in the case)."""
        layout = state.relations.layout
        if self.uses_conveners and not layout.conveners:
            raise ValueError(f"{self.name} needs conveners: build the model with this rule")
        gov = self.scenario.governance
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
        board = gov.board
        seats = np.arange(seating.shape[-1] + 1)
        # By number of attendees (at most every seat): the weight of each pair's contact, and
        # the exchanges a meeting holds (two per pair, one each way).
        self._pair_weight = board_pair_weights(board.hours, seats, board.pair_hours_scale)
        self._exchanges = seats * (seats - 1)
        # The cost of relating: the regulator's hours at boards are limited, so with many
        # boards it attends each meeting with the probability its hours allow.
        due = seating.n_boards * board.hours / board.meeting_interval_months
        have = self.scenario.regulator.board_hours
        self._presence = min(1.0, have / due) if self.regulator_on_boards and due else 1.0
        """Probability that the regulator attends a board's meeting."""
        state.size_boards(seating.n_boards, board.initial_norm, board.initial_space)
        first = CompactState.NEGOTIATING if gov.compact.enabled else CompactState.NONE
        state.board_compact[...] = first
        state.compact = network_compact(state.board_compact)
        state.compact_of = state.board_compact[..., seating.board]

    # -- the month ---------------------------------------------------------------------------

    def govern(self, state: State, draws: Draws, month: int) -> Interactions:
        """Advance each compact, hold the boards if due, regulate, answer breaches, move spaces."""
        gov = self.scenario.governance
        seating = self.boards
        ix = Interactions(state.relations.layout, state.lead)
        self._advance_compacts(state, month)
        in_force = state.board_compact == CompactState.IN_FORCE
        # A compact in force shields the regulator from pressure (its "integrity ... even when
        # under external pressure", Burgess et al. 2019, box 3).
        compact_of_trust = seating.of_trusts(in_force)
        p_supportive = regulator_support(
            state, self.scenario, gov.compact.buffer * compact_of_trust
        )
        # Draw every month, meeting or not, so that each stream stays aligned across scenarios.
        u_attend = draws.attendance.random((state.n_trusts,))
        u_pairs = draws.board.random(seating.shape)
        u_show = draws.showcase.random(state.adoption.shape[-2:])
        u_repair = draws.repair.random((seating.n_boards,))
        u_clauses = draws.compact.random((seating.n_boards, gov.compact.clauses))
        u_present = draws.regulator_time.random((seating.n_boards,))
        meets = (month - 1) % gov.board.meeting_interval_months == 0
        if meets:
            here = u_present < self._presence
            self._meet(
                state, draws, ix, p_supportive, compact_of_trust, here, u_attend, u_pairs, u_show
            )
            self._agree(state, ix, u_clauses)
        self.beyond_boards(state, draws, ix, month, meets)
        self.regulate(state, draws, ix, p_supportive)
        if np.count_nonzero(in_force):
            self._breaches(state, ix, in_force, compact_of_trust, u_repair)
        if meets:
            self._move_space(state, ix, p_supportive)
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
        """One month of each board's compact (M6): coming into force once agreed, lapses."""
        compact = self.scenario.governance.compact
        if not compact.enabled:
            return  # no board negotiates a compact
        codes = state.board_compact
        agreed = state.board_clauses
        in_force = codes == CompactState.IN_FORCE
        ready = (codes == CompactState.NEGOTIATING) & (agreed >= compact.clauses)
        if np.count_nonzero(in_force):
            trust = self._board_trust(state)
            lapsing = in_force & (trust < compact.lapse_threshold)
            if not (np.count_nonzero(ready) or np.count_nonzero(lapsing)):
                return  # every compact holds, none is ready
        elif np.count_nonzero(ready):
            trust = np.ones(codes.shape)  # nothing in force can lapse
        else:
            return  # nothing to come into force or lapse
        new = next_compact_states(codes, agreed, compact.clauses, trust, compact.lapse_threshold)
        now_in_force = new == CompactState.IN_FORCE
        first = now_in_force & ~in_force & (state.board_compact_month < 0)
        state.board_compact_month = np.where(first, month, state.board_compact_month)
        # A lapse reopens every category of commitments.
        state.board_clauses = np.where(in_force & ~now_in_force, 0, agreed)
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
        compact_of_trust: Bool,
        here: Bool,
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
        present[..., REGULATOR] &= here  # the regulator's time is limited
        present[seating.trust_index] = attend
        attendees = np.add.reduce(present, axis=-1)
        weight = self._pair_weight[attendees][..., None, None]
        space = state.board_space
        pi = board_positivity(space, board.positivity_floor, board.positivity_ceiling)
        pair = present[..., :, None] & present[..., None, :] & seating.valid
        positive = symmetric(u_pairs, pi[..., None, None])
        good = self._exchange(ix, pair, weight, positive, board.negative_weight)
        self._good, self._attendees = good, attendees

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
        # Peer learning: what a trust takes home from its exchanges with the other trusts.
        trust_seats = seating.trust_seats
        peers = seating.of_trusts(np.add.reduce(present & trust_seats, axis=-1)) - 1
        with_peers = seating.at_trusts(np.add.reduce(good & trust_seats[:, None, :], axis=-1))
        peer_share = with_peers / np.maximum(peers, 1)
        state.peer_support = np.where(attend, board.peer_training * peer_share, 0.0)

        ix.board_met = True
        ix.attended = attend
        attending = attend @ seating.onehot
        ix.attendance_rate = np.add.reduce(attending, axis=-1) / state.n_trusts
        state.board_norm = attending / self._board_sizes
        if self.regulator_on_boards:
            exchanges = np.add.reduce(self._exchanges[attendees] * here, axis=-1)
            positive_count = np.add.reduce(
                (good * here[..., None, None]).reshape(*state.lead, -1), axis=-1
            )
            ix.board_positive_share = np.where(
                exchanges > 0, positive_count / np.maximum(exchanges, 1), np.nan
            )[()]  # one run's share as a scalar

        # Frank talk in a protected space: each attendee presents progress and problems, to the
        # regulator if it is there; a compact in force commits them to early warning.
        p_board = self.relay(shielded_probability(p_supportive, seating.of_trusts(space)))
        heard = attend & seating.of_trusts(here) if self._presence < 1 else attend
        boost = compact.early_warning * compact_of_trust
        disclose(state, self.scenario, draws, ix, heard, p_board, 1.0, boost=boost)

        # Showcases: an attending adopter may present a practice to every attendee at once.
        presented = (state.adoption > 0) & attend[..., None] & (u_show < board.showcase_probability)
        if seating.spans_regions:
            ix.meet(pair[0, 1:, 1:], presented)
        else:
            ix.meet_in_blocks(pair, presented)

        # A repair conversation restores part of what the breaches cost (Burgess, Richmond &
        # Kiefer 2020), never more: positive weight λ·share of the breach's negative weight.
        due = state.board_pending_repair & here
        if np.count_nonzero(due):
            restore = compact.repair_share * self.scenario.trust_dynamics.loss_ratio
            repaired = seating.of_trusts(due)
            ix.trust_sees_regulator(restore * state.breach[0] * repaired, 0.0)
            ix.regulator_sees_trust(restore * state.breach[1] * repaired, 0.0)
            state.breach = np.where(repaired, 0.0, state.breach)
            ix.repairs = np.count_nonzero(due, axis=-1)
            state.board_pending_repair = state.board_pending_repair & ~due

    def _agree(self, state: State, ix: Interactions, u_clauses: Float) -> None:
        """Boards negotiating a compact agree categories of commitments at their meeting (M6)."""
        compact = self.scenario.governance.compact
        negotiating = state.board_compact == CompactState.NEGOTIATING
        if not np.count_nonzero(negotiating):
            return
        good, attendees = self._good, self._attendees
        exchanges = self._exchanges[attendees]
        agreeing = np.add.reduce(good.reshape(*good.shape[:-2], -1), axis=-1)
        share = agreeing / np.maximum(exchanges, 1)
        p = clause_agreement(self.scenario.governance.board.hours, share, compact.clause_hours)
        agreed = state.board_clauses
        open_ = np.arange(compact.clauses) >= agreed[..., None]
        newly = open_ & (u_clauses < p[..., None]) & negotiating[..., None]
        state.board_clauses = agreed + np.add.reduce(newly, axis=-1)

    def _breaches(
        self, state: State, ix: Interactions, in_force: Bool, compact_of_trust: Bool, u: Float
    ) -> None:
        """Breaches of a compact in force: remember what they cost; perhaps a repair is due.

        A punitive response or a surprise breaches the compact ("early warning and no
        surprises", Burgess et al. 2019, box 3); with some probability it leads to a repair
        conversation at the board's next meeting.
        """
        sc = self.scenario
        surprise = sc.problems.surprise_weight * ix.surprises
        trust_view = sc.regulator.punitive_weight * ix.punitive + surprise
        state.breach = state.breach + np.stack((trust_view, surprise)) * compact_of_trust
        breaches = (ix.punitive + ix.surprises) @ self.boards.onehot
        p_repair = 1.0 - (1.0 - sc.governance.compact.repair_probability) ** breaches
        state.board_pending_repair = state.board_pending_repair | (in_force & (u < p_repair))

    def _move_space(self, state: State, ix: Interactions, p_supportive: Float) -> None:
        """The protected space moves toward what the regulator showed this month (M6)."""
        board = self.scenario.governance.board
        onehot, sizes = self.boards.onehot, self._board_sizes
        supportive = ix.supportive @ onehot
        punitive = ix.punitive @ onehot
        expected = np.broadcast_to(p_supportive, ix.supportive.shape) @ onehot / sizes
        target = space_target(supportive, punitive, expected, board.broker, state.partner_active)
        state.board_space = next_space(state.board_space, target, board.space_rate, True)


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
        # The meeting with the regulator is as positive as the board's space is protected.
        positive = u < board_positivity(
            state.board_space, board.positivity_floor, board.positivity_ceiling
        )
        pair = np.zeros(layout.shape, dtype=bool)
        pair[regions, REGULATOR, chair] = True
        pair[regions, chair, REGULATOR] = True
        weight = board_pair_weights(board.hours, np.array([2]), board.pair_hours_scale)[0]
        ix.exchange_blocks(pair, weight, pair & positive[..., None, None], board.negative_weight)
        ix.board_positive_share = np.count_nonzero(positive, axis=-1) / layout.n_regions
