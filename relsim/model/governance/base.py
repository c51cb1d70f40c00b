"""What every governance rule shares: the strategy interface and the geometry of meetings.

A governance rule is a strategy object with one entry point, :meth:`GovernanceRule.govern`: it
takes the month's state and draws and returns the month's
:class:`~relsim.model.interactions.Interactions` (who met whom, with what valence and weight,
what was disclosed, what surfaced, who was exposed to which practice). The kernel
(:mod:`relsim.model.kernel`) then applies them the same way whatever the rule. Agents never ask
which rule is in force.

A rule is written once for one run and for replications stepped together: every array in the
state and the draws carries the same leading axes (``state.lead``), and a rule's arithmetic
broadcasts over them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cache
from typing import ClassVar

import numpy as np

from relsim.model.interactions import Interactions
from relsim.model.mechanisms import Bool, CompactState, Float
from relsim.model.state import State
from relsim.model.streams import Draws
from relsim.scenario import Scenario


@cache
def _upper(n: int) -> Bool:
    """Mask of the strict upper triangle of an n × n matrix (cached: it is used every month)."""
    mask = np.triu(np.ones((n, n), dtype=bool), 1)
    mask.flags.writeable = False
    return mask


def symmetric(draws: Float, probability: Float | float) -> Bool:
    """One shared outcome per unordered pair: ``draws < probability``, mirrored.

    The upper triangle decides, so that an exchange is positive (or not) for both sides alike.
    ``draws`` is a square matrix, or a stack of them (boards, replications); ``probability``
    broadcasts to the draws.
    """
    upper = (draws < probability) & _upper(draws.shape[-1])
    return upper | upper.swapaxes(-1, -2)


class GovernanceRule(ABC):
    """A style of governance: how the regulator and trusts meet each month.

    Subclasses set :attr:`name` (the key used in scenario files and on the command line) and
    implement :meth:`govern`. To add a style, write one subclass in its own module, add it to
    :data:`relsim.model.governance.GOVERNANCE` and name it in the scenario schema's
    ``GOVERNANCE_MODES``.
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
        state.size_boards(1, self.scenario.governance.board.initial_norm)
        state.compact = np.zeros(state.lead, dtype=np.int8)
        state.compact_of = np.zeros((*state.lead, state.n_trusts), dtype=np.int8)

    @abstractmethod
    def govern(self, state: State, draws: Draws, month: int) -> Interactions:
        """Produce this month's interactions.

        A rule also updates the governance state its interactions imply: disclosures,
        enforcement levels, attendance, the compact.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


__all__ = ["CompactState", "GovernanceRule", "Interactions", "symmetric"]
