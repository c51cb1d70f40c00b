"""What the controls show, as one value: the only thing Reset builds a run from.

The page keeps one :class:`Settings` in a reactive variable. Every control shows a field of
it and changes only that field; choosing a preset replaces all of its assumptions with the
preset's own; Reset builds :meth:`Settings.build`, so the run is always exactly what the
controls show. (Mesa's SolaraViz kept the values of its inputs in a second, private store that
was filled once, when its parameter card was first drawn; after a preset change that store and
the inputs disagreed, and Reset built the model from the store.)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from relsim.dashboard.assumptions import Assumptions, parse_seed
from relsim.dashboard.demo import DEFAULT_SEED, MAX_DASHBOARD_TRUSTS, DemoModel
from relsim.errors import RelsimError
from relsim.scenario import Scenario, bundled_scenarios, load_scenario


@cache
def preset_scenario(source: str) -> Scenario:
    """A preset's scenario, loaded once per process (presets do not change while it runs)."""
    return load_scenario(source)


def preset_options(start: str) -> dict[str, str]:
    """Preset label → scenario source: the bundled scenarios, and ``start`` if it is a file.

    The label is the scenario's own name ("Pressure shock in year 3"). Systems of more than
    :data:`~relsim.dashboard.demo.MAX_DASHBOARD_TRUSTS` trusts (the England system) are left
    out: the dashboard is for watching a board or a few regions, not hundreds of trusts.
    """
    sources = [
        name
        for name in bundled_scenarios()
        if len(preset_scenario(name).trusts) <= MAX_DASHBOARD_TRUSTS
    ]
    if start not in sources:
        sources.append(start)
    options: dict[str, str] = {}
    for source in sources:
        label = preset_scenario(source).name
        if label in options or label == "unnamed scenario":
            label = f"{label} ({Path(source).name})" if label != "unnamed scenario" else source
        options[label] = source
    return options


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the controls show.

    Attributes:
        preset: The preset's source (a bundled scenario's name or a file).
        assumptions: The assumptions, starting at the preset's own values.
        twin: Whether a twin under the other governance rule runs alongside.
        seed: The text of the seed field (checked by :meth:`problem`).
    """

    preset: str
    assumptions: Assumptions
    twin: bool = False
    seed: str = str(DEFAULT_SEED)

    @classmethod
    def of_preset(
        cls, preset: str, *, twin: bool = False, seed: str = str(DEFAULT_SEED)
    ) -> Settings:
        """A preset with all of its own values; twin mode and the seed as given."""
        return cls(preset, Assumptions.of(preset_scenario(preset)), twin, seed)

    def choose(self, preset: str) -> Settings:
        """Another preset, with all of its values; twin mode and the seed stay as they are."""
        return Settings.of_preset(preset, twin=self.twin, seed=self.seed)

    def set(self, **changes: Any) -> Settings:
        """These settings with twin mode or the seed changed (``twin=True``, ``seed="7"``)."""
        return dataclasses.replace(self, **changes)

    def assume(self, **changes: Any) -> Settings:
        """These settings with some assumptions changed (``trusts=20``)."""
        return dataclasses.replace(
            self, assumptions=dataclasses.replace(self.assumptions, **changes)
        )

    def problem(self) -> str:
        """What stops these settings from being run, in one line ("" if nothing)."""
        try:
            parse_seed(self.seed)
        except RelsimError as exc:
            return str(exc)
        return ""

    def build(self) -> DemoModel:
        """The run these settings describe.

        Raises:
            RelsimError: if :meth:`problem` names one, or the scenario rejects an assumption.
        """
        return DemoModel(
            preset=preset_scenario(self.preset),
            assumptions=self.assumptions,
            twin=self.twin,
            seed=parse_seed(self.seed),
        )
