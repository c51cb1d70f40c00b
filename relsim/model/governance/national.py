"""A national learning network: regional boards linked by representatives who meet quarterly.

Regional boards keep the relational space small enough to work (MODEL.md fact 8), but a practice
shown at one region's board stays in that region. The national learning network links them: each
regional board sends a representative (its readiest trust, the same one every time, so that
relationships can form), and the representatives meet every
``governance.national.meeting_interval_months`` (quarterly). They meet in learning sets of about
``governance.national.set_size``, not all together, for the same reason regional boards exist:
a plenary of forty representatives would give each pair almost no contact. Neighbouring sets
share one region's representative, so the sets form a ring through which a practice can travel
from set to set: a representative who adopts a practice in one set shows it at home, where the
region's other representative to the next set can pick it up... and so on. In a set, the
representatives exchange in pairs as at a board and showcase what they have adopted; nobody there
answers to the regulator, so nothing is disclosed.
"""

from __future__ import annotations

import math

import numpy as np

from relsim.model.governance.regional import RegionalBoards
from relsim.model.interactions import Interactions
from relsim.model.mechanisms import Int, board_pair_weights
from relsim.model.state import State
from relsim.model.streams import Draws


def learning_sets(regions: int, size: int) -> list[list[int]]:
    """Regions grouped into learning sets of ``size``, neighbouring sets sharing one region.

    Regions are taken in a ring: set k holds regions k(size - 1) ... k(size - 1) + size - 1,
    modulo the number of regions, so that set k and set k + 1 share a region and the last set
    closes the ring. With no more regions than ``size`` there is one set of all of them.
    """
    if regions <= 1:
        return []
    if regions <= size:
        return [list(range(regions))]
    step = size - 1
    sets = []
    for k in range(math.ceil(regions / step)):
        members = list(dict.fromkeys((k * step + j) % regions for j in range(size)))
        sets.append(members)
    return sets


class NationalLearningNetwork(RegionalBoards):
    """Regional boards with the regulator, linked by representatives in learning sets."""

    name = "national_learning_network"

    def start(self, state: State) -> None:
        """Choose the representatives and their learning sets; pair them up once."""
        super().start(state)
        national = self.scenario.governance.national
        sets = learning_sets(state.relations.layout.n_regions, national.set_size)
        pairs: dict[tuple[int, int], int] = {}
        for members in sets:
            reps = sorted(int(self.leads[r]) for r in members)
            for a_index, a in enumerate(reps):
                for b in reps[a_index + 1 :]:
                    pairs.setdefault((a, b), len(members))
        self.sets = sets
        """The learning sets, as lists of region indices."""
        self._a: Int = np.array([a for a, _ in pairs], dtype=np.int64)
        self._b: Int = np.array([b for _, b in pairs], dtype=np.int64)
        sizes = np.array(list(pairs.values()), dtype=np.int64)
        self._weight = board_pair_weights(
            national.hours, sizes, self.scenario.governance.board.pair_hours_scale
        )

    def beyond_boards(
        self, state: State, draws: Draws, ix: Interactions, month: int, meets: bool
    ) -> None:
        """Every ``meeting_interval_months``, the representatives meet in their learning sets."""
        national = self.scenario.governance.national
        reps = self.leads
        # Drawn every month, to stay aligned whether or not the network meets.
        u_pairs = draws.national.random((self._a.size,))
        u_show = draws.national.random((reps.size, state.adoption.shape[-1]))
        if month % national.meeting_interval_months or not self._a.size:
            return
        positive = u_pairs < national.positive_probability
        board = self.scenario.governance.board
        ix.exchange_pairs(1 + self._a, 1 + self._b, self._weight, positive, board.negative_weight)
        presented = np.zeros(state.adoption.shape, dtype=bool)
        presented[reps] = (state.adoption[reps] > 0) & (u_show < board.showcase_probability)
        ix.meet_in_pairs(
            np.concatenate((self._a, self._b)), np.concatenate((self._b, self._a)), presented
        )
