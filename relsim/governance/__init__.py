"""Governance rules: one strategy object per style, in one registry.

Adding a style means writing one :class:`GovernanceRule` subclass in its own module and adding
it to :data:`GOVERNANCE`; the scenario schema, the command line and the model pick it up from
here.
"""

from relsim.governance.base import GovernanceRule, Interactions
from relsim.governance.hierarchical import Hierarchical
from relsim.governance.networked import Networked

#: Governance rules by the name used in scenario files (``governance.mode``).
GOVERNANCE: dict[str, type[GovernanceRule]] = {
    Hierarchical.name: Hierarchical,
    Networked.name: Networked,
}

__all__ = ["GOVERNANCE", "GovernanceRule", "Hierarchical", "Interactions", "Networked"]
