"""The dashboard's controls: Mesa's parameter inputs for the assumptions, and the lesson card.

SolaraViz shows ``model_params`` as inputs and, on Reset, builds ``DemoModel(**values)``; the
inputs start at the current run's values, which for a fresh preset are the preset's own, so
Reset without touching anything replays the preset. The lesson card holds what Mesa's inputs
cannot do: choosing a preset (which loads its values into the inputs) and a pressure shock
applied to the running model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara
from mesa.visualization import Slider
from mesa.visualization.utils import force_update

from relsim.dashboard.assumptions import MAX_SLIDER_TRUSTS, MIN_SLIDER_TRUSTS
from relsim.dashboard.demo import SHOCK_MAGNITUDE, SHOCK_MONTHS, DemoModel
from relsim.model.governance import GOVERNANCE


def _slider(label: str, value: float, lo: float, hi: float, step: float) -> Slider:
    """A float slider whose range always holds the preset's value."""
    return Slider(label, value=float(value), min=min(lo, value), max=max(hi, value), step=step)


def model_params(demo: DemoModel) -> dict[str, Any]:
    """SolaraViz's ``model_params`` for ``DemoModel``, starting at the run's current values."""
    a = demo.assumptions
    return {
        "preset": demo.preset,
        "twin": {
            "type": "Checkbox",
            "value": demo.twin,
            "label": "Twin: the other governance alongside",
        },
        "governance": {
            "type": "Select",
            "value": a.governance,
            "values": list(GOVERNANCE),
            "label": "Governance",
        },
        "trusts": Slider(
            "Trusts (board size)",
            value=a.trusts,
            min=MIN_SLIDER_TRUSTS,
            max=max(MAX_SLIDER_TRUSTS, a.trusts),
            step=1,
        ),
        "meeting_interval": Slider(
            "Board meets every … months", value=a.meeting_interval, min=1, max=12, step=1
        ),
        "compact": {"type": "Checkbox", "value": a.compact, "label": "Board negotiates a compact"},
        "pressure_baseline": _slider("External pressure", a.pressure_baseline, 0.0, 1.5, 0.05),
        "loss_ratio": _slider("Trust lost ÷ trust gained", a.loss_ratio, 1.0, 6.0, 0.5),
        "orientation": _slider("Regulator's supportiveness ρ", a.orientation, 0.0, 1.0, 0.05),
        "readiness_spread": _slider("Spread of readiness", a.readiness_spread, 0.0, 0.5, 0.05),
        "seed": {"type": "InputText", "value": str(demo.seed), "label": "Seed"},
    }


@solara.component
def LessonCard(
    model: solara.Reactive[DemoModel],
    presets: dict[str, str],
    preset: str,
    on_preset: Callable[[str], None],
) -> None:
    """Preset choice, the pressure shock button, and how the other controls apply."""
    demo = model.value

    def shock() -> None:
        model.value.apply_shock()
        force_update()

    small = {"font-size": "0.85rem"}
    with solara.Card("Lesson"), solara.Column(gap="8px"):
        solara.Select("Preset", value=preset, values=list(presets), on_value=on_preset)
        if demo.problem:
            solara.Error(demo.problem, classes=["relsim-problem"])
        solara.Text(demo.base.scenario.description or demo.base.name, style=small)
        solara.Button(
            "Pressure shock now", color="warning", on_click=shock, disabled=not demo.running
        )
        solara.Text(
            f"Adds {SHOCK_MAGNITUDE:+.1f} external pressure for {SHOCK_MONTHS} months from next "
            "month.",
            style=small,
        )
        solara.Text(
            "Choosing a preset starts it afresh. The settings under Model Parameters (and the "
            "seed) apply when you press Reset.",
            style=small,
        )
