"""Scenario files in, a validated, frozen :class:`Scenario` out: the first layer of relsim.

Nothing here imports the model: a scenario can be read, checked and shown without it.
"""

from relsim.scenario.schema import (
    MAX_MONTHS,
    Scenario,
    bundled_scenarios,
    load_scenario,
    scenario_from_dict,
)

__all__ = ["MAX_MONTHS", "Scenario", "bundled_scenarios", "load_scenario", "scenario_from_dict"]
