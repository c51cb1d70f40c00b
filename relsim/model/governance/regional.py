"""Regional boards: networked governance scaled up as one board per regional network.

Provan & Kenis (2008) distinguish three modes of network governance: *shared participant
governance* (the members govern together; it suits small networks with dense trust), a *lead
organisation* (one member convenes and coordinates the others) and a *network administrative
organisation* (a separate body set up to govern the network). One shared board of every trust
in England is the first mode at a size where, by the network-size effect (MODEL.md fact 8), each
pair of members gets almost no contact. This module holds what every regional mode shares: each
region's board meets every ``governance.board.meeting_interval_months`` as the partnership's
board did, with attendance, exchanges between every pair of attendees, disclosure in a protected
space, showcases and a compact of its own (MODEL.md M6, applied per region).

:class:`RegionalBoards` is the first mode applied region by region: each region's trusts and
the regulator (through its regional team) form a shared board. The other regional modes are
subclasses that change who chairs the board and who meets the regulator
(:mod:`relsim.model.governance.lead`, :mod:`relsim.model.governance.administrative`), or add
meetings between regions (:mod:`relsim.model.governance.national`).

Everything is computed for all regions at once, in the block layout of the per-pair state
(:mod:`relsim.model.relations`), so a month costs about as much per trust at 800 trusts as at 200.
"""

from __future__ import annotations

import numpy as np

from relsim.model.governance.base import GovernanceRule, Interactions, disclose, surface, symmetric
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
)
from relsim.model.relations import REGULATOR, Layout
from relsim.model.state import State
from relsim.model.streams import Streams


def region_leads(layout: Layout, readiness: Float) -> Int:
    """The readiest trust of each region (the first in order on a tie), by trust index."""
    order = np.lexsort((np.arange(layout.n_trusts), -readiness, layout.region))
    first = np.concatenate(([True], layout.region[order][1:] != layout.region[order][:-1]))
    return order[first]


class RegionalBoards(GovernanceRule):
    """One board per region of its trusts and the regulator: shared governance, region by region.

    Subclasses change the board's chair and who else meets by overriding :meth:`chairs`,
    :meth:`members`, :meth:`relay` and :meth:`beyond_boards`.
    """

    name = "regional_boards"
    has_board = True
    #: Whether the regulator sits on every regional board.
    regulator_on_boards = True

    def start(self, state: State) -> None:
        """Every region starts negotiating its own compact when the rule takes over."""
        super().start(state)
        layout = state.relations.layout
        if self.uses_conveners and not layout.conveners:
            raise ValueError(f"{self.name} needs conveners: build the model with this rule")
        enabled = self.scenario.governance.compact.enabled
        first = CompactState.NEGOTIATING if enabled else CompactState.NONE
        state.board_compact[:] = first
        state.compact = CompactState(first)
        state.months_negotiating = 0
        state.compact_of[:] = first
        self.leads = region_leads(layout, state.readiness)
        """The readiest trust of each region (chairs under a lead organisation)."""
        self._always = self.chairs(layout)
        self._member_pairs = (
            self.members(layout)[:, :, None] & self.members(layout)[:, None, :] & layout.valid
        )
        self._member_pair_counts = np.add.reduce(self._member_pairs, axis=(1, 2))

    # -- what the subclasses change ---------------------------------------------------------

    def chairs(self, layout: Layout) -> Bool:
        """Positions (regions × block width) of those who attend every meeting of their board."""
        always = np.zeros((layout.n_regions, layout.width), dtype=bool)
        always[:, REGULATOR] = True
        return always

    def members(self, layout: Layout) -> Bool:
        """Positions of each board's members, among whom the compact's mean trust is taken."""
        members = layout.is_trust.copy()
        members[:, REGULATOR] = True
        return members

    def relay(self, p_board: Float) -> Float:
        """Probability that a disclosure at each board meets a supportive response (M4)."""
        return p_board

    def beyond_boards(
        self, state: State, streams: Streams, ix: Interactions, month: int, meets: bool
    ) -> None:
        """Meetings other than the regional boards (none here)."""

    # -- the month ---------------------------------------------------------------------------

    def govern(self, state: State, streams: Streams, month: int) -> Interactions:
        """Advance each region's compact, hold the boards if due, then let problems surface."""
        gov = self.scenario.governance
        layout = state.relations.layout
        ix = Interactions(layout)
        self._advance_compacts(state, month)
        in_force = state.board_compact == CompactState.IN_FORCE
        buffer = np.where(in_force, gov.compact.buffer, 0.0)
        p_supportive = np.clip(state.orientation * (1.0 - state.pressure * (1.0 - buffer)), 0, 1)
        # Draw every month, meeting or not, so that each stream stays aligned across scenarios
        # (with one region these are the shared board's draws).
        u_attend = streams.attendance.random(state.n_trusts)
        u_pairs = streams.board.random(layout.shape)
        u_show = streams.showcase.random(state.adoption.shape)
        u_repair = streams.repair.random(layout.n_regions)
        meets = (month - 1) % gov.board.meeting_interval_months == 0
        if meets:
            self._meet(state, streams, ix, p_supportive, in_force, u_attend, u_pairs, u_show)
        self.beyond_boards(state, streams, ix, month, meets)
        surface(state, self.scenario, streams, ix, p_supportive[state.region])
        if np.count_nonzero(in_force):
            # A breach of a region's compact (a punitive response, a surprise) may lead to a
            # repair conversation at that region's next meeting (Burgess, Richmond & Kiefer
            # 2020).
            breaches = np.bincount(
                state.region, weights=ix.punitive + ix.surprises, minlength=layout.n_regions
            )
            ix.breaches = int(np.add.reduce(breaches[in_force]))
            p_repair = 1.0 - (1.0 - gov.compact.repair_probability) ** breaches
            state.board_pending_repair |= in_force & (u_repair < p_repair)
        state.compact_of[:] = state.board_compact[state.region]
        return ix.finish()

    def _board_trust(self, blocks: Float) -> Float:
        """Mean trust among each board's members over ordered pairs (1 for a board of one)."""
        total = np.add.reduce(np.where(self._member_pairs, blocks, 0.0), axis=(1, 2))
        counts = self._member_pair_counts
        return np.divide(total, counts, out=np.ones(total.shape), where=counts > 0)

    def _advance_compacts(self, state: State, month: int) -> None:
        compact = self.scenario.governance.compact
        codes = state.board_compact
        if not np.count_nonzero(codes):
            return
        state.board_months_negotiating[codes == CompactState.NEGOTIATING] += 1
        new = next_compact_states(
            codes,
            state.board_months_negotiating,
            self._board_trust(state.relations.blocks),
            compact.negotiation_months,
            compact.threshold,
            compact.lapse_threshold,
        )
        was_in_force = codes == CompactState.IN_FORCE
        now_in_force = new == CompactState.IN_FORCE
        first = now_in_force & ~was_in_force & (state.board_compact_month < 0)
        state.board_compact_month[first] = month
        state.board_months_negotiating[was_in_force & ~now_in_force] = 0
        state.board_compact = new
        state.compact = network_compact(new)
        if state.compact is CompactState.IN_FORCE and state.compact_month < 0:
            state.compact_month = month

    def _meet(
        self,
        state: State,
        streams: Streams,
        ix: Interactions,
        p_supportive: Float,
        in_force: Bool,
        u_attend: Float,
        u_pairs: Float,
        u_show: Float,
    ) -> None:
        gov = self.scenario.governance
        board, compact = gov.board, gov.compact
        layout = state.relations.layout
        region, position = layout.region, layout.position
        attend = u_attend < attendance_probability(
            state.meeting_value,
            state.board_norm[region],
            board.attendance_intercept,
            board.attendance_value_weight,
            board.attendance_norm_weight,
        )
        attend |= self._always[region, position]  # a lead trust chairs its board
        present = self._always.copy()
        present[region, position] = attend
        attendees = np.add.reduce(present, axis=1)
        weight = board_pair_weights(board.hours, attendees, board.pair_hours_scale)[:, None, None]
        pi = np.where(in_force, compact.positive_probability, board.positive_probability)
        pair = present[:, :, None] & present[:, None, :] & layout.valid
        positive = symmetric(u_pairs, pi[:, None, None])
        good = pair & positive
        ix.exchange_blocks(pair, weight, positive, board.negative_weight)

        # The value each attendee found in the meeting: its share of positive exchanges.
        partners = (attendees - 1)[region]
        share = np.divide(
            np.add.reduce(good, axis=2)[region, position],
            partners,
            out=np.zeros(state.n_trusts),
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
        ix.attendance_rate = state.attendance_norm = float(np.count_nonzero(attend) / attend.size)
        state.board_norm = np.bincount(region, weights=attend, minlength=layout.n_regions) / (
            np.maximum(layout.sizes, 1)
        )
        if self.regulator_on_boards:
            exchanges = np.add.reduce(attendees * (attendees - 1))
            ix.board_positive_share = np.count_nonzero(good) / exchanges if exchanges else None

        # Frank talk in a protected space: each attendee presents progress and problems.
        p_board = self.relay(shielded_probability(p_supportive, board.protection))
        disclose(state, self.scenario, streams, ix, attend, p_board[region], 1.0)

        # Showcases: an attending adopter may present a practice to every attendee at once.
        presented = (state.adoption > 0) & attend[:, None] & (u_show < board.showcase_probability)
        ix.meet_in_blocks(pair, presented)

        due = state.board_pending_repair
        if np.count_nonzero(due):
            repair = pair & due[:, None, None]
            ix.exchange_blocks(repair, weight, repair, 0.0)
            ix.repairs = int(np.count_nonzero(due))
            ix.repaired = True
            state.board_pending_repair = np.zeros(layout.n_regions, dtype=bool)


class ChairedBoards(RegionalBoards):
    """Regional boards chaired by someone other than the regulator, who meets the chairs.

    The regulator does not sit on the regional boards: after each round of meetings it meets
    each board's chair, one to one (the chair reports the board's progress; Provan & Kenis 2008
    call this brokered governance). Disclosures made at a board still reach the regulator,
    relayed by the chair, and are answered as at any board (M4).
    """

    regulator_on_boards = False

    def chair_positions(self, layout: Layout) -> Int:
        """Block position of each region's chair."""
        raise NotImplementedError

    def chairs(self, layout: Layout) -> Bool:
        """The chair of each board attends every meeting; the regulator attends none."""
        always = np.zeros((layout.n_regions, layout.width), dtype=bool)
        always[np.arange(layout.n_regions), self.chair_positions(layout)] = True
        return always

    def members(self, layout: Layout) -> Bool:
        """The region's trusts and its chair."""
        return layout.is_trust | self.chairs(layout)

    def beyond_boards(
        self, state: State, streams: Streams, ix: Interactions, month: int, meets: bool
    ) -> None:
        """The regulator meets each chair after a round of board meetings."""
        gov = self.scenario.governance
        board = gov.board
        layout = state.relations.layout
        u = streams.convener.random(layout.n_regions)  # drawn every month, to stay aligned
        if not meets:
            return
        regions = np.arange(layout.n_regions)
        chair = self.chair_positions(layout)
        in_force = state.board_compact == CompactState.IN_FORCE
        positive = u < np.where(
            in_force, gov.compact.positive_probability, board.positive_probability
        )
        pair = np.zeros(layout.shape, dtype=bool)
        pair[regions, REGULATOR, chair] = True
        pair[regions, chair, REGULATOR] = True
        weight = board_pair_weights(board.hours, np.array([2]), board.pair_hours_scale)[0]
        ix.exchange_blocks(pair, weight, pair & positive[:, None, None], board.negative_weight)
        ix.board_positive_share = float(np.count_nonzero(positive) / positive.size)
