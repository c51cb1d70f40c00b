"""What happened when, for the marks on the charts: shocks, the compact, mandates, switches.

Every chart over time draws these on its month axis (:mod:`relsim.dashboard.charts`): a shaded
band for each pressure shock that has begun (the scenario's scripted ones and those applied with
the button), a rule where the board's compact came into force, where a practice was mandated and
where the scenario switches governance, and a heavier rule at the month being looked back at.
Events appear as the run reaches them, so a class can be asked what they expect to happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from relsim.dashboard.names import governance_name
from relsim.dashboard.widget import Columns
from relsim.presentation.labels import practice_label

if TYPE_CHECKING:
    from relsim.dashboard.demo import DemoModel
    from relsim.model.mesa_model import RegulationModel

COLUMNS = ("kind", "month", "end", "short", "label", "run")
Row = tuple[str, float, float, str, str, str]
"""One event, in the order of :data:`COLUMNS`."""


def compact_month(panel: RegulationModel) -> int | None:
    """The first month the panel's compact was in force, from what it recorded (None: never)."""
    states = panel.datacollector.model_vars["compact_state"]
    return next((m for m, state in enumerate(states) if state == "in_force"), None)


def shock_rows(demo: DemoModel) -> list[Row]:
    """A band over each month of each shock that has begun (shared by every panel)."""
    rows: list[Row] = []
    for start, magnitude, duration in demo.all_shocks():
        if start <= demo.month:
            label = f"pressure shock {magnitude:+.1f} from month {start} for {duration} months"
            rows.append(("shock", start - 0.5, start + duration - 0.5, "shock", label, ""))
    return rows


def panel_rows(demo: DemoModel, k: int) -> list[Row]:
    """Rules for the events of panel ``k`` so far: compact, mandates, governance switches."""
    panel, run, now = demo.panels[k], demo.labels[k], demo.month
    rows: list[Row] = []
    month = compact_month(panel)
    if month is not None:
        rows.append(("rule", month, month, "compact", f"compact in force from month {month}", run))
    for practice in demo.scenario_used.practices:
        if 0 <= practice.mandated_month <= now:
            name = practice_label(practice.name)
            rows.append(
                (
                    "rule",
                    practice.mandated_month,
                    practice.mandated_month,
                    "mandate",
                    f"{name} mandated in month {practice.mandated_month}",
                    run,
                )
            )
    for change in demo.scenario_used.governance.changes:
        if change.month <= now:
            new = governance_name(change.mode)
            rows.append(
                (
                    "rule",
                    change.month,
                    change.month,
                    f"→ {new.lower()}",
                    f"switch to {new} governance in month {change.month}",
                    run,
                )
            )
    return rows


def rule(month: int, short: str, label: str) -> Columns:
    """A single rule at ``month``, as columns (e.g. the month a trust adopted a practice)."""
    return dict(zip(COLUMNS, ([v] for v in ("rule", month, month, short, label, "")), strict=True))


def event_columns(demo: DemoModel, panels: Sequence[int], look: int | None) -> Columns:
    """The events of the given panels as columns; ``look`` adds the month looked back at."""
    rows = shock_rows(demo)
    for k in panels:
        rows += panel_rows(demo, k)
    if look is not None:
        rows.append(("cursor", look, look, "", f"month {look}", ""))
    unique = list(dict.fromkeys(rows))
    return {name: [row[i] for row in unique] for i, name in enumerate(COLUMNS)}
