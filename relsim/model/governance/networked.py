"""Networked governance: relational authority through a board, a compact and peer learning.

After the NHS England/Improvement - Virginia Mason Institute partnership (2015-2020): a board of
the regulator and the trusts meets monthly for about six hours as a protected relational space,
negotiates a compact of reciprocal commitments (nearly a year in the case), and trusts showcase
what works to each other (MODEL.md M6; Burgess et al. 2019).
"""

from __future__ import annotations

import numpy as np

from relsim.model.governance.base import (
    GovernanceRule,
    Interactions,
    all_pairs,
    disclose,
    surface,
    symmetric,
)
from relsim.model.mechanisms import (
    CompactState,
    attendance_probability,
    board_pair_weight,
    next_compact_state,
    shielded_probability,
    supportive_probability,
)
from relsim.model.state import State
from relsim.model.streams import Streams


class Networked(GovernanceRule):
    """One shared board of the regulator and every trust (shared participant governance).

    Provan & Kenis (2008): the network's members govern it together, with no lead and no
    separate administrative body; it suits small networks. In a system of several regions the
    one board spans them all, so every pair of attendees meets across regions too.
    """

    name = "networked"
    has_board = True

    def start(self, state: State) -> None:
        """Negotiation of the compact starts when the rule takes over (month 0 in the case)."""
        enabled = self.scenario.governance.compact.enabled
        state.compact = CompactState.NEGOTIATING if enabled else CompactState.NONE
        state.months_negotiating = 0
        state.compact_of[:] = state.compact

    def govern(self, state: State, streams: Streams, month: int) -> Interactions:
        """Hold the board meeting if one is due, then let hidden problems surface."""
        gov = self.scenario.governance
        n = state.n_trusts
        ix = Interactions(state.relations.layout)
        self._advance_compact(state, month)
        in_force = state.compact is CompactState.IN_FORCE
        p_supportive = supportive_probability(
            state.orientation, state.pressure, gov.compact.buffer if in_force else 0.0
        )
        # Draw every month, meeting or not, so that each stream stays aligned across scenarios.
        u_attend = streams.attendance.random(n)
        u_pairs = streams.board.random((n + 1, n + 1))
        u_show = streams.showcase.random(state.adoption.shape)
        u_repair = streams.repair.random()
        if (month - 1) % gov.board.meeting_interval_months == 0:
            self._meet(state, streams, ix, p_supportive, in_force, u_attend, u_pairs, u_show)
        surface(state, self.scenario, streams, ix, p_supportive)
        if in_force:
            # A breach of the compact (a punitive response, a surprise) leads, with some
            # probability, to a repair conversation at the next meeting (Burgess, Richmond &
            # Kiefer 2020).
            ix.breaches = int(np.add.reduce(ix.punitive) + np.add.reduce(ix.surprises))
            p_repair = 1.0 - (1.0 - gov.compact.repair_probability) ** ix.breaches
            state.pending_repair = state.pending_repair or u_repair < p_repair
        return ix.finish()

    def _advance_compact(self, state: State, month: int) -> None:
        compact = self.scenario.governance.compact
        if state.compact is CompactState.NONE:
            return
        if state.compact is CompactState.NEGOTIATING:
            state.months_negotiating += 1
            if state.months_negotiating < compact.negotiation_months:
                return  # too early for the compact, whatever the board's trust
        new = next_compact_state(
            state.compact,
            state.months_negotiating,
            state.relations.mean_trust(),
            compact.negotiation_months,
            compact.threshold,
            compact.lapse_threshold,
        )
        if new is CompactState.IN_FORCE and state.compact is not CompactState.IN_FORCE:
            if state.compact_month < 0:
                state.compact_month = month
        elif new is CompactState.NEGOTIATING and state.compact is CompactState.IN_FORCE:
            state.months_negotiating = 0
        if new is not state.compact:
            state.compact_of[:] = new
        state.compact = new

    def _meet(
        self,
        state: State,
        streams: Streams,
        ix: Interactions,
        p_supportive: float,
        in_force: bool,
        u_attend: np.ndarray,
        u_pairs: np.ndarray,
        u_show: np.ndarray,
    ) -> None:
        board = self.scenario.governance.board
        compact = self.scenario.governance.compact
        attend = u_attend < attendance_probability(
            state.meeting_value,
            state.attendance_norm,
            board.attendance_intercept,
            board.attendance_value_weight,
            board.attendance_norm_weight,
        )
        present = np.concatenate(([True], attend))  # the regulator always attends
        attendees = int(np.count_nonzero(present))
        weight = board_pair_weight(board.hours, attendees, board.pair_hours_scale)
        pi = compact.positive_probability if in_force else board.positive_probability
        pair = all_pairs(present)
        good = ix.exchange(pair, weight, symmetric(u_pairs, pi), board.negative_weight)

        # The value each attendee found in the meeting: its share of positive exchanges.
        partners = attendees - 1
        good_counts = np.add.reduce(good, axis=1)
        v = board.value_memory
        if partners > 0:
            share = good_counts[1:] / partners
            state.meeting_value = np.where(
                attend, (1 - v) * state.meeting_value + v * share, state.meeting_value
            )
        ix.board_met = True
        ix.attended = attend
        ix.attendance_rate = state.attendance_norm = (attendees - 1) / len(attend)
        ix.board_positive_share = (
            np.count_nonzero(good) / (attendees * partners) if partners > 0 else None
        )

        # Frank talk in a protected space: each attendee presents progress and problems.
        p_board = shielded_probability(p_supportive, board.protection)
        disclose(state, self.scenario, streams, ix, attend, p_board, 1.0)

        # Showcases: an attending adopter may present a practice to every attendee at once.
        presented = (state.adoption > 0) & attend[:, None] & (u_show < board.showcase_probability)
        ix.encounters.append((pair[1:, 1:], presented))

        if state.pending_repair:
            ix.exchange(pair, weight, pair, 0.0)
            ix.repaired = True
            ix.repairs = 1
            state.pending_repair = False
