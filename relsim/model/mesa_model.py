"""The regulation model: one run as an ordinary Mesa model.

A regulator, NHS trusts and an improvement partner, month by month. The month itself, in its
fixed order, is :mod:`relsim.model.kernel`, shared with the batched driver
(:mod:`relsim.model.batch`); each mechanism lives in :mod:`relsim.model.mechanisms` and each
governance style in :mod:`relsim.model.governance`. See docs/MODEL.md and docs/ODD.md.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from relsim.model.agents import Convener, ImprovementPartner, Regulator, Trust
from relsim.model.governance import GovernanceRule, needs_conveners
from relsim.model.interactions import Interactions
from relsim.model.kernel import Kernel
from relsim.model.recording import History, Recorder
from relsim.model.state import State, initial_state
from relsim.model.streams import RunDraws, Streams
from relsim.scenario import MAX_MONTHS, Scenario, load_scenario

#: What a run keeps: every table (``"full"``), or the model-level monthly series only.
RECORD_MODES = ("full", "months")


class RegulationModel(mesa.Model):
    """A regulator, NHS trusts and an improvement partner, month by month.

    Each month (``step``) runs the monthly order written in :mod:`relsim.model.kernel`
    (MODEL.md §3), the same code the batched driver runs: environment and scripted events,
    improvement work, governance, trust update, psychological safety and posture, learning,
    regulator learning; then data collection: model-level reporters (``datacollector``) and
    per-trust, per-department and per-pair history (``history``).

    Month 0 is the initial state; ``step`` number t produces month t, and the model sets
    ``running = False`` at the scenario's horizon, so ``mesa.batch_run`` can drive it.

    Args:
        scenario: A :class:`~relsim.scenario.schema.Scenario`, a path to a scenario file, or the
            name of a bundled scenario; ``None`` gives the defaults.
        rng: Seed or generator; all randomness comes from it, through one independent stream
            per mechanism (:mod:`relsim.model.streams`).
        record: ``"full"`` keeps per-trust, per-department and per-pair history for the run's
            tables; ``"months"`` keeps only the model-level series (faster, for sweeps).
        **overrides: Scenario overrides, with ``__`` for a dot:
            ``governance__mode="hierarchical"``.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        rng: Any = None,
        record: str = "full",
        **overrides: Any,
    ) -> None:
        if record not in RECORD_MODES:
            raise ValueError(f"record: expected one of {', '.join(RECORD_MODES)} (got {record!r})")
        super().__init__(rng=rng)
        dotted = {key.replace("__", "."): value for key, value in overrides.items()}
        self.config: Scenario = load_scenario(scenario, dotted, override_source="overrides")
        """The resolved relsim scenario (Mesa's own ``model.scenario`` holds only the seed)."""
        self.streams = Streams(self.rng)
        modes = {self.config.governance.mode, *(c.mode for c in self.config.governance.changes)}
        conveners = needs_conveners(modes)
        self.state: State = initial_state(self.config, self.streams.setup, conveners=conveners)
        self.months = self.config.months

        self.regulator = Regulator(self)
        self.trusts = [Trust(self, i, name) for i, name in enumerate(self.config.trust_names)]
        regions = self.config.region_names
        self.conveners = (
            [Convener(self, r, name) for r, name in enumerate(regions)] if conveners else []
        )
        partner = self.config.partner
        self.partner = ImprovementPartner(self, partner.name) if partner.enabled else None

        self.kernel = Kernel(self.config, self.state, RunDraws(self.streams))
        """The monthly steps, the rule in force and the draws."""
        self.datacollector = Recorder(
            self.config, self.state.relations.layout, full=(record == "full")
        )
        self.datacollector.collect(self)

    @property
    def rule(self) -> GovernanceRule:
        """The governance rule in force."""
        return self.kernel.rule

    @property
    def interactions(self) -> Interactions:
        """The last month's interactions (empty at month 0)."""
        return self.kernel.interactions

    @property
    def exposures(self) -> np.ndarray:
        """Trusted exposures per trust and practice in the last month (M7)."""
        return self.kernel.exposures

    @property
    def history(self) -> History:
        """Per-trust, per-department and per-pair state, month by month (for the tables)."""
        return self.datacollector.history

    def step(self) -> None:
        """Advance one month (the kernel's order), then record it."""
        month = self.steps
        self.kernel.step(month)
        self.datacollector.collect(self)
        if month >= self.months:
            self.running = False

    def apply_shock(self, magnitude: float, duration: int) -> int:
        """Add a pressure shock that starts next month, as a scenario's scripted shock would (M2).

        For interactive use, such as the dashboard's "pressure shock now" button: the shock is
        added to this model only, not to ``config``, so a run's recorded scenario does not
        show it.

        Args:
            magnitude: Pressure added while the shock lasts.
            duration: Months the shock lasts (at least 1).

        Returns:
            The first month of the shock.
        """
        whole = isinstance(duration, numbers.Integral) and not isinstance(duration, bool)
        if not (whole and 1 <= duration <= MAX_MONTHS):
            raise ValueError(
                f"duration: expected a whole number of months from 1 to {MAX_MONTHS} "
                f"(got {duration!r})"
            )
        if not (isinstance(magnitude, numbers.Real) and -10 <= magnitude <= 10):
            # NaN fails the comparison too; the bounds are those of pressure.shocks[].magnitude.
            raise ValueError(f"magnitude: expected a number from -10 to 10 (got {magnitude!r})")
        start = self.steps + 1
        self.kernel.shocks = (*self.kernel.shocks, (start, float(magnitude), int(duration)))
        return start
