"""Governance rules: one strategy object per style, in one registry.

Adding a style means writing one :class:`GovernanceRule` subclass in its own module, adding it
to :data:`GOVERNANCE`, and naming it in the scenario schema's ``GOVERNANCE_MODES`` (the schema
does not import the model; ``tests/test_scenario.py`` keeps the two lists equal). The modes of
network governance follow Provan & Kenis (2008): shared participant governance (``networked``:
one board of all; ``regional_boards``: one per region), a lead organisation, a network
administrative organisation, and a national learning network linking regional boards.
"""

from relsim.model.governance.administrative import NetworkAdministrativeOrganisation
from relsim.model.governance.base import GovernanceRule
from relsim.model.governance.hierarchical import Hierarchical
from relsim.model.governance.lead import LeadOrganisation
from relsim.model.governance.national import NationalLearningNetwork
from relsim.model.governance.networked import Networked
from relsim.model.governance.regional import RegionalBoards

#: Governance rules by the name used in scenario files (``governance.mode``).
GOVERNANCE: dict[str, type[GovernanceRule]] = {
    Hierarchical.name: Hierarchical,
    Networked.name: Networked,
    RegionalBoards.name: RegionalBoards,
    LeadOrganisation.name: LeadOrganisation,
    NetworkAdministrativeOrganisation.name: NetworkAdministrativeOrganisation,
    NationalLearningNetwork.name: NationalLearningNetwork,
}


def needs_conveners(modes: set[str] | frozenset[str] | tuple[str, ...]) -> bool:
    """Whether any of these rules needs a convener agent in each region."""
    return any(GOVERNANCE[mode].uses_conveners for mode in modes)


__all__ = [
    "GOVERNANCE",
    "GovernanceRule",
    "Hierarchical",
    "LeadOrganisation",
    "NationalLearningNetwork",
    "NetworkAdministrativeOrganisation",
    "Networked",
    "RegionalBoards",
    "needs_conveners",
]
