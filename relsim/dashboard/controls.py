"""The dashboard's controls: the lesson card and the assumptions, bound to the session.

Every input shows a field of the session's :class:`~relsim.dashboard.settings.Settings` and
changes only that field, so what the inputs show and what Reset builds cannot disagree.
Choosing a preset loads all of its values into the inputs and starts it afresh. Sliders say
their value and its unit in their label, since a slider's knob alone does not.
"""

from __future__ import annotations

from typing import Any

import solara

from relsim.dashboard.assumptions import MAX_SLIDER_TRUSTS, MIN_SLIDER_TRUSTS
from relsim.dashboard.demo import SHOCK_MAGNITUDE, SHOCK_MONTHS
from relsim.dashboard.names import governance_choices, governance_long_name
from relsim.dashboard.session import Session


@solara.component
def LessonCard(session: Session) -> None:
    """Preset choice, its description, and the pressure shock button."""
    demo = session.run.value
    session.frame.value  # the shock button follows the month  # noqa: B018
    with solara.Card("Lesson", classes=["relsim-controls"]), solara.Column(gap="8px"):
        solara.Select(
            "Preset",
            value=session.preset_label,
            values=list(session.presets),
            on_value=session.choose,
        )
        solara.Text(demo.base.scenario.description or demo.base.name, classes=["relsim-caption"])
        solara.Button(
            "Pressure shock now",
            color="warning",
            on_click=session.shock,
            disabled=not demo.can_shock,
        )
        solara.Text(
            f"Adds {SHOCK_MAGNITUDE:+.1f} external pressure for {SHOCK_MONTHS} months from next "
            "month."
            if demo.can_shock
            else "No month is left in this run for a shock: press Reset first.",
            classes=["relsim-caption"],
        )


def _slider(
    session: Session, field: str, label: str, shown: str, lo: float, hi: float, step: float
) -> None:
    """A slider for one assumption, with its value (formatted by ``shown``) written above it."""
    value = getattr(session.settings.value.assumptions, field)
    slider: Any = solara.SliderInt if isinstance(step, int) else solara.SliderFloat
    solara.Text(f"{label}: {shown.format(value)}", classes=["relsim-slider-label"])
    slider(
        "",
        value=value,
        min=min(lo, value),
        max=max(hi, value),
        step=step,
        on_value=lambda v: session.change(session.settings.value.assume(**{field: v})),
        thumb_label=False,
    )


@solara.component
def AssumptionsCard(session: Session) -> None:
    """Twin mode, the eight assumptions and the seed; they apply when Reset is pressed."""
    settings = session.settings.value
    a = settings.assumptions
    by_name = governance_choices()

    def assume(**changes: Any) -> None:
        session.change(session.settings.value.assume(**changes))

    with solara.Card("Assumptions", classes=["relsim-controls"]), solara.Column(gap="2px"):
        solara.Checkbox(
            label="Twin: the other governance alongside",
            value=settings.twin,
            on_value=lambda v: session.change(session.settings.value.set(twin=bool(v))),
        )
        solara.Select(
            "Governance",
            value=governance_long_name(a.governance),
            values=list(by_name),
            on_value=lambda label: assume(governance=by_name[label]),
        )
        _slider(
            session,
            "trusts",
            "Trusts on the board",
            "{:d}",
            MIN_SLIDER_TRUSTS,
            MAX_SLIDER_TRUSTS,
            1,
        )
        _slider(session, "meeting_interval", "Board meets every", "{:d} month(s)", 1, 12, 1)
        solara.Checkbox(
            label="Board negotiates a compact",
            value=a.compact,
            on_value=lambda v: assume(compact=bool(v)),
        )
        _slider(
            session,
            "pressure_baseline",
            "External pressure",
            "{:.2f} (0 calm, 1.5 crisis)",
            0.0,
            1.5,
            0.05,
        )
        _slider(session, "loss_ratio", "Trust lost faster than gained", "{:.1f}×", 1.0, 6.0, 0.5)
        _slider(
            session,
            "orientation",
            "Regulator's supportiveness ρ",
            "{:.2f} (0 punitive, 1 supportive)",
            0.0,
            1.0,
            0.05,
        )
        _slider(session, "readiness_spread", "Readiness of trusts", "mean ±{:.2f}", 0.0, 0.5, 0.05)
        problem = settings.problem()
        solara.InputText(
            "Seed",
            value=settings.seed,
            on_value=lambda text: session.change(session.settings.value.set(seed=text)),
            continuous_update=True,
            error=problem or False,
        )
        if session.pending:
            solara.Text(
                "The controls differ from the run shown: press Reset to run them.",
                classes=["relsim-pending"],
            )
        else:
            solara.Text(
                "Changes apply when you press Reset; the same seed always gives the same run.",
                classes=["relsim-caption"],
            )
