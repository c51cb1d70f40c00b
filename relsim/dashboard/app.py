"""The dashboard page, as Solara serves it (``relsim demo`` points Solara at this module).

Each browser session gets its own page and so its own model. The page holds the model in a
reactive variable that it hands to Mesa's SolaraViz: SolaraViz's controller steps it and on
Reset replaces it; the lesson card replaces it when a preset is chosen; the views read it.
Choosing a preset also remounts SolaraViz (a new ``key``), because Mesa's parameter inputs
keep the values they started with, and the new preset's values must show in them.
"""

from __future__ import annotations

import os
from pathlib import Path

import solara
from mesa.visualization import SolaraViz

from relsim.dashboard.controls import LessonCard, model_params
from relsim.dashboard.demo import DEFAULT_PRESET, MAX_DASHBOARD_TRUSTS, DemoModel
from relsim.dashboard.server import SCENARIO_ENV
from relsim.dashboard.views import Dashboard
from relsim.scenario import bundled_scenarios, load_scenario

TITLE = "relsim · regulation, trust and improvement"


def preset_options(start: str) -> dict[str, str]:
    """Preset label → scenario source: the bundled scenarios, and ``start`` if it is a file.

    Systems of more than :data:`~relsim.dashboard.demo.MAX_DASHBOARD_TRUSTS` trusts (the England
    system) are left out: the dashboard is for watching a board or a few regions, not hundreds of
    trusts.
    """
    options = {
        name: name
        for name, path in bundled_scenarios().items()
        if len(load_scenario(path).trusts) <= MAX_DASHBOARD_TRUSTS
    }
    if start not in options:
        options[Path(start).name] = start
    return options


def start_preset() -> str:
    """The scenario ``relsim demo`` was given, or the NHS–VMI partnership."""
    return os.environ.get(SCENARIO_ENV) or DEFAULT_PRESET


def _label_of(options: dict[str, str], source: str) -> str:
    return next(label for label, value in options.items() if value == source)


@solara.component
def Page() -> None:
    """The whole dashboard: SolaraViz's controls, the lesson card and the views."""
    start = solara.use_memo(start_preset, [])
    options = solara.use_memo(lambda: preset_options(start), [start])
    first = solara.use_memo(lambda: DemoModel(preset=start), [start])
    model: solara.Reactive[DemoModel] = solara.use_reactive(first)
    preset = solara.use_reactive(_label_of(options, start))
    generation = solara.use_reactive(0)

    def choose(label: str) -> None:
        current = model.value
        model.value = DemoModel(preset=options[label], twin=current.twin, seed=current.seed)
        preset.value = label
        generation.value += 1

    solara.Title(TITLE)
    with solara.Sidebar():
        LessonCard(model, options, preset.value, choose)
    SolaraViz(
        model,
        components=[],
        model_params=model_params(model.value),
        name=TITLE,
    ).key(f"viz-{generation.value}")
    Dashboard(model)


page = Page
