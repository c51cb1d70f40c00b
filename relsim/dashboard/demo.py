"""The dashboard's Mesa model: one run, or two twins that differ only in governance.

:class:`DemoModel` holds one :class:`~relsim.model.mesa_model.RegulationModel` (a *panel*), or
in twin mode two panels built from the same scenario and seed except for the governance rule,
and steps them in lockstep. Because each mechanism draws from its own random stream
(:mod:`relsim.model.streams`), the twins face the same pressure, the same initial coverage and
the same luck wherever governance does not change what happens, so what differs between them is
the effect of governance.

This module needs neither Solara nor a browser (``relsim demo`` imports it to check the scenario
before it starts the server).
"""

from __future__ import annotations

from pathlib import Path

import mesa

from relsim.dashboard.assumptions import Assumptions, other_governance
from relsim.dashboard.names import governance_name
from relsim.errors import RelsimError
from relsim.model.mechanisms import active_shock
from relsim.model.mesa_model import RegulationModel
from relsim.scenario import Scenario, load_scenario

#: The "pressure shock now" button: how much pressure it adds, and for how long. About a
#: winter crisis: the bundled ``pressure_shock`` scenario uses +0.8 for six months.
SHOCK_MAGNITUDE = 0.6
SHOCK_MONTHS = 6

DEFAULT_PRESET = "nhs_vmi_partnership"
#: Most trusts a dashboard model may have: its views draw every trust of a board.
MAX_DASHBOARD_TRUSTS = 40
DEFAULT_SEED = 1

Shock = tuple[int, float, int]
"""A pressure shock: (first month, magnitude, duration in months)."""


class DemoModel(mesa.Model):
    """One or two regulation models stepped together, for the dashboard.

    Args:
        preset: The scenario the run starts from: a bundled name, a file or a ``Scenario``.
        assumptions: The assumptions the controls show (``None``: the preset's own).
        twin: Also run a twin whose only difference is the other governance rule.
        seed: Seed of both panels.

    Raises:
        RelsimError: for assumptions the scenario schema rejects.
    """

    def __init__(
        self,
        *,
        preset: str | Path | Scenario = DEFAULT_PRESET,
        assumptions: Assumptions | None = None,
        twin: bool = False,
        seed: int = DEFAULT_SEED,
    ) -> None:
        super().__init__(rng=seed)
        self.seed = seed
        self.preset = preset
        self.base: Scenario = load_scenario(preset)
        """The preset as loaded, before the dashboard's assumptions."""
        self.assumptions = assumptions or Assumptions.of(self.base)
        self.twin = bool(twin)
        self.scenario_used: Scenario = self.assumptions.apply(self.base)
        """The scenario of the first panel: the preset with the dashboard's assumptions."""
        modes = [self.assumptions.governance]
        if self.twin:
            modes.append(other_governance(self.assumptions.governance))
        self.panels: list[RegulationModel] = [
            RegulationModel(self.scenario_used, rng=seed, governance__mode=mode) for mode in modes
        ]
        """The regulation models shown side by side; they differ only in governance."""
        self.labels: list[str] = [governance_name(mode) for mode in modes]
        """Each panel's name as the page shows it ("Networked", "Hierarchical")."""
        self.shocks: list[Shock] = []
        """Shocks applied with :meth:`apply_shock`."""
        self.running = True

    @property
    def month(self) -> int:
        """The month the panels have reached (0 before the first step)."""
        return int(self.panels[0].steps)

    @property
    def horizon(self) -> int:
        """The last month of the run."""
        return self.panels[0].months

    @property
    def finished(self) -> bool:
        """Whether the run has reached its horizon."""
        return self.month >= self.horizon

    @property
    def can_shock(self) -> bool:
        """Whether a shock from next month would still happen within the run."""
        return self.month + 1 <= self.horizon

    def step(self) -> None:
        """Advance every panel one month, in lockstep; at the horizon there is nothing to do."""
        if self.finished:
            return
        for panel in self.panels:
            panel.step()
        self.running = not self.finished

    def apply_shock(self, magnitude: float = SHOCK_MAGNITUDE, duration: int = SHOCK_MONTHS) -> int:
        """Hit every panel with the same pressure shock from next month; return its first month.

        Raises:
            RelsimError: when the run has no month left for the shock to happen in.
        """
        if not self.can_shock:
            raise RelsimError(f"shock: the run ended at month {self.horizon}; press Reset first")
        starts = {panel.apply_shock(magnitude, duration) for panel in self.panels}
        (start,) = starts  # panels in lockstep agree on "next month"
        self.shocks.append((start, float(magnitude), int(duration)))
        return start

    def all_shocks(self) -> tuple[Shock, ...]:
        """The scenario's scripted shocks and those applied with the button, in that order."""
        scripted = [(s.month, s.magnitude, s.duration) for s in self.scenario_used.pressure.shocks]
        return (*scripted, *self.shocks)

    def shock_in(self, month: int) -> float:
        """Pressure added by shocks in ``month``."""
        return active_shock(month, self.all_shocks())
