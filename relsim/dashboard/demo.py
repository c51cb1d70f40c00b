"""The dashboard's Mesa model: one run, or two twins that differ only in governance.

Mesa's SolaraViz drives one ``mesa.Model``: it steps it, and on Reset builds a new one from the
values of its parameter controls (``DemoModel(**values)``). :class:`DemoModel` is that model. It
holds one :class:`~relsim.model.mesa_model.RegulationModel` (a *panel*), or in twin mode two panels
built from the same scenario and seed except for the governance rule, and steps them in lockstep.
Because each mechanism draws from its own random stream (:mod:`relsim.model.streams`), the twins
face the same pressure, the same initial coverage and the same luck wherever governance does
not change what happens, so what differs between them is the effect of governance.
"""

from __future__ import annotations

from pathlib import Path

import mesa

from relsim.dashboard.assumptions import Assumptions, other_governance, parse_seed
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


class DemoModel(mesa.Model):
    """One or two regulation models stepped together, for the dashboard.

    Args:
        preset: The scenario the run starts from: a bundled name, a file or a ``Scenario``.
        twin: Also run a twin whose only difference is the other governance rule.
        governance: Governance rule of the first panel (``None``: the preset's).
        trusts: Number of trusts, the board's size (``None``: the preset's).
        meeting_interval: Months between board meetings (``None``: the preset's).
        compact: Whether the board negotiates a compact (``None``: the preset's).
        pressure_baseline: Long-run external pressure (``None``: the preset's).
        loss_ratio: How many times faster trust is lost than gained (``None``: the preset's).
        orientation: The regulator's initial relational orientation (``None``: the preset's).
        readiness_spread: Half the range of readiness across trusts (``None``: the preset's).
        seed: Seed of both panels, a number or the text of the seed field. Text that is not a
            whole number does not stop the dashboard (Mesa's Reset would show a traceback in
            place of the page): the run uses seed 1 and :attr:`problem` says so, for the page to
            show.

    Raises:
        RelsimError: for assumptions the scenario schema rejects.
    """

    def __init__(
        self,
        *,
        preset: str | Path | Scenario = DEFAULT_PRESET,
        twin: bool = False,
        governance: str | None = None,
        trusts: int | None = None,
        meeting_interval: int | None = None,
        compact: bool | None = None,
        pressure_baseline: float | None = None,
        loss_ratio: float | None = None,
        orientation: float | None = None,
        readiness_spread: float | None = None,
        seed: int | str = DEFAULT_SEED,
    ) -> None:
        self.problem = ""
        """What was wrong with the input, if anything (shown on the page)."""
        try:
            self.seed = parse_seed(seed)
        except RelsimError as exc:
            self.seed = DEFAULT_SEED
            self.problem = f"{exc}; this run uses seed {DEFAULT_SEED}"
        super().__init__(rng=self.seed)
        self.preset = preset
        self.base: Scenario = load_scenario(preset)
        """The preset as loaded, before the dashboard's assumptions."""
        self.assumptions = Assumptions.of(self.base).replace(
            governance=governance,
            trusts=trusts,
            meeting_interval=meeting_interval,
            compact=compact,
            pressure_baseline=pressure_baseline,
            loss_ratio=loss_ratio,
            orientation=orientation,
            readiness_spread=readiness_spread,
        )
        self.twin = bool(twin)
        self.scenario_used: Scenario = self.assumptions.apply(self.base)
        """The scenario of the first panel: the preset with the dashboard's assumptions."""
        modes = [self.assumptions.governance]
        if self.twin:
            modes.append(other_governance(self.assumptions.governance))
        self.panels: list[RegulationModel] = [
            RegulationModel(self.scenario_used, rng=self.seed, governance__mode=mode)
            for mode in modes
        ]
        """The regulation models shown side by side; they differ only in governance."""
        self.labels: list[str] = [f"{mode} governance" for mode in modes]
        self.shocks: list[tuple[int, float, int]] = []
        """Shocks applied with :meth:`apply_shock`: (first month, magnitude, duration)."""
        self.running = True

    @property
    def month(self) -> int:
        """The month the panels have reached (0 before the first step)."""
        return int(self.panels[0].steps)

    @property
    def horizon(self) -> int:
        """The last month of the run."""
        return self.panels[0].months

    def step(self) -> None:
        """Advance every panel one month, in lockstep."""
        for panel in self.panels:
            panel.step()
        self.running = all(panel.running for panel in self.panels)

    def apply_shock(self, magnitude: float = SHOCK_MAGNITUDE, duration: int = SHOCK_MONTHS) -> int:
        """Hit every panel with the same pressure shock from next month; return its first month."""
        starts = {panel.apply_shock(magnitude, duration) for panel in self.panels}
        (start,) = starts  # panels in lockstep agree on "next month"
        self.shocks.append((start, float(magnitude), int(duration)))
        return start

    def shock_in(self, month: int) -> float:
        """Pressure added by shocks in ``month``: the scenario's scripted ones and those applied."""
        scripted = [(s.month, s.magnitude, s.duration) for s in self.scenario_used.pressure.shocks]
        return active_shock(month, (*scripted, *self.shocks))
