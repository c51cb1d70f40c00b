"""The model's agents: thin Mesa views on the state arrays the model owns.

The model advances all trusts at once with array operations (:mod:`relsim.model.mechanisms`); an
agent reads and writes its own row of those arrays. They are Mesa agents, so the usual AgentSet
tools work: ``model.agents_by_type[Trust].select(lambda t: t.capability > 0.5)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from relsim.model.mechanisms import POSTURE_NAMES
from relsim.model.state import ADOPTION_NAMES, REGULATOR

if TYPE_CHECKING:
    from relsim.model.mesa_model import RegulationModel


class Regulator(mesa.Agent):
    """The regulator (actor 0 of the trust matrix)."""

    model: RegulationModel
    actor = REGULATOR

    @property
    def relational_orientation(self) -> float:
        """Propensity to respond supportively rather than punitively (ρ)."""
        return float(self.model.state.orientation)

    @property
    def trust_in_trusts(self) -> list[float]:
        """The regulator's trust in each trust."""
        return [float(x) for x in self.model.state.relations.regulator_trust()]


class Trust(mesa.Agent):
    """A provider organisation (an NHS trust): a view on row ``index`` of the state arrays."""

    model: RegulationModel

    def __init__(self, model: RegulationModel, index: int, name: str) -> None:
        super().__init__(model)
        self.index = index
        self.actor = index + 1
        self.name = name

    def __repr__(self) -> str:
        return f"<Trust {self.name!r}>"

    @property
    def readiness(self) -> float:
        """Cultural readiness / absorptive capacity."""
        return float(self.model.state.readiness[self.index])

    @property
    def region(self) -> str:
        """The regional network the trust belongs to (empty when there is one network)."""
        return self.model.config.trusts[self.index].region

    @property
    def trust_in_regulator(self) -> float:
        """How much this trust trusts the regulator."""
        relations = self.model.state.relations
        r, p = relations.layout.block_of(self.actor)
        return float(relations.blocks[r, p, REGULATOR])

    @property
    def safety(self) -> float:
        """Psychological safety."""
        return float(self.model.state.safety[self.index])

    @property
    def capability(self) -> float:
        """Improvement capability derived from training coverage."""
        return float(self.model.state.capability[self.index])

    @property
    def energy(self) -> float:
        """Improvement energy."""
        return float(self.model.state.energy[self.index])

    @property
    def quality(self) -> float:
        """True quality of care."""
        return float(self.model.state.true_quality[self.index])

    @property
    def reported_quality(self) -> float:
        """Quality as reported to the regulator."""
        return float(self.model.state.reported_quality[self.index])

    @property
    def enforcement_level(self) -> int:
        """Level on the enforcement pyramid (0-5)."""
        return int(self.model.state.level[self.index])

    @property
    def posture(self) -> str:
        """Motivational posture toward the regulator."""
        return POSTURE_NAMES[int(self.model.state.posture[self.index])]

    @property
    def coverage(self) -> list[float]:
        """Training coverage per department (this trust's row of the heat map)."""
        return [float(x) for x in self.model.state.coverage[self.index]]

    @property
    def practices(self) -> dict[str, str]:
        """Adoption state of each practice: none, implementing or embedded."""
        states = self.model.state.adoption[self.index]
        names = self.model.config.practice_names
        return {name: ADOPTION_NAMES[int(s)] for name, s in zip(names, states, strict=True)}


class Convener(mesa.Agent):
    """The convener of a regional network: a network administrative organisation.

    Provan & Kenis (2008): a separate body set up to govern the network, which is not one of its
    members. It chairs its region's board, relays the board's disclosures to the regulator and
    meets the regulator itself. Its relationships live in its region's block of the per-pair
    state (:mod:`relsim.model.relations`); it is created only when a governance rule of the scenario
    uses conveners.
    """

    model: RegulationModel

    def __init__(self, model: RegulationModel, index: int, region: str) -> None:
        super().__init__(model)
        self.index = index
        self.region = region
        self.actor = 1 + model.state.n_trusts + index

    def __repr__(self) -> str:
        return f"<Convener {self.region!r}>"

    @property
    def trust_in_regulator(self) -> float:
        """How much the convener trusts the regulator."""
        relations = self.model.state.relations
        return float(relations.blocks[self.index, relations.layout.convener_position, REGULATOR])

    @property
    def trusted_by_members(self) -> float:
        """Mean trust of the region's trusts in their convener."""
        relations = self.model.state.relations
        layout = relations.layout
        members = layout.is_trust[self.index]
        column = relations.blocks[self.index, :, layout.convener_position]
        return float(column[members].mean()) if members.any() else float("nan")


class ImprovementPartner(mesa.Agent):
    """An improvement partner such as the Virginia Mason Institute: trains staff while active."""

    model: RegulationModel

    def __init__(self, model: RegulationModel, name: str) -> None:
        super().__init__(model)
        self.name = name

    @property
    def active(self) -> bool:
        """Whether the partner is working with the trusts this month."""
        return self.model.state.partner_active
