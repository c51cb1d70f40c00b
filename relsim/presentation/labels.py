"""What things are called where people read them: outcomes, practices, factor levels, groups.

Shared by the sweep figures, the report and the console tables, so that an outcome or a group
has the same name everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from relsim.analysis.contrasts import MODE
from relsim.analysis.sweep_data import Cell, SweepData

#: Plain-language names of the outcomes, with their units; ``{practice}`` and ``{n}`` (trusts)
#: are filled in.
OUTCOME_LABELS = {
    "trust_in_regulator_final": "Trusts' trust in the regulator at the end (0–1)",
    "trust_in_regulator_m36": "Trusts' trust in the regulator at month 36 (0–1)",
    "regulator_trust_final": "Regulator's trust in trusts at the end (0–1)",
    "peer_trust_final": "Trust among trusts at the end (0–1)",
    "disclosures": "Problems disclosed over the run (count)",
    "surprises": "Hidden problems that surfaced as surprises (count)",
    "sanctions": "Punitive responses of the regulator (count)",
    "gaming_gap": "Gaming gap: reported minus true quality (mean, 0–1 scale)",
    "capability_final": "Improvement capability at the end (0–1)",
    "true_quality_final": "True quality of care at the end (0–1)",
    "safety_final": "Psychological safety at the end (0–1)",
    "attendance_mean": "Board attendance (share of trusts, mean over meetings)",
    "relational_orientation_final": "Regulator's relational orientation at the end (0–1)",
    "compact_month": "Month the compact came into force",
    "compact_in_force": "Runs in which the compact came into force (share)",
    "months_to_compact": "Months until the compact came into force (Kaplan–Meier median)",
    "adopters_final_": "Trusts using the {practice} at the end (of {n})",
    "full_adoption_month_": "Month the {practice} reached every trust",
    "board_mates_adopted_": "Share of the origin's board mates using the {practice} at the end",
    "reached_all_": "Runs in which the {practice} reached every trust (share)",
    "months_to_full_adoption_": (
        "Months from introduction until the {practice} reached every trust (Kaplan–Meier median)"
    ),
}


#: Outcomes the headline tables show (prefixes; every outcome is in summary.csv).
HEADLINE = (
    "reached_all_",
    "board_mates_adopted_",
    "months_to_full_adoption_",
    "trust_in_regulator_m36",
    "trust_in_regulator_final",
    "peer_trust_final",
    "disclosures",
    "surprises",
    "gaming_gap",
    "capability_final",
    "compact_in_force",
    "months_to_compact",
)


def is_headline(outcome: str) -> bool:
    """Whether the headline tables (console and report) show an outcome."""
    return outcome.startswith(HEADLINE)


#: The order in which outcomes are shown where all of them are (sensitivity tables and
#: figures): these first, in this order, then the rest in table order.
FIRST_OUTCOMES = (
    "trust_in_regulator_final",
    "adopters_final_",
    "board_mates_adopted_",
    "full_adoption_month_",
    "peer_trust_final",
    "disclosures",
    "surprises",
    "gaming_gap",
    "capability_final",
    "true_quality_final",
    "trust_in_regulator_m36",
)


def ordered_outcomes(outcomes: Iterable[str]) -> list[str]:
    """Outcomes with the headline ones first (:data:`FIRST_OUTCOMES`), the rest as given.

    The console, the figure and the report show a sensitivity analysis in this one order.
    """
    unique = list(dict.fromkeys(outcomes))

    def rank(outcome: str) -> int:
        hits = [k for k, prefix in enumerate(FIRST_OUTCOMES) if outcome.startswith(prefix)]
        return hits[0] if hits else len(FIRST_OUTCOMES)

    return sorted(unique, key=rank)  # stable: the rest keep their order


def practice_label(name: str) -> str:
    """A practice's name as words: ``training_heat_map`` → ``training heat map``."""
    return name.replace("_", " ")


def outcome_label(outcome: str, practices: Sequence[str] = (), n_trusts: int | None = None) -> str:
    """The plain-language name of an outcome, with its unit."""
    if outcome in OUTCOME_LABELS:
        return OUTCOME_LABELS[outcome]
    for practice in practices:
        prefix = outcome.removesuffix(practice)
        if prefix != outcome and prefix in OUTCOME_LABELS:
            n = "all" if n_trusts is None else str(n_trusts)
            return OUTCOME_LABELS[prefix].format(practice=practice_label(practice), n=n)
    return outcome


def format_level(value: Any) -> str:
    """A factor level as written in an experiment file: ``true``, ``0.3``, ``networked``."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def short_key(key: str) -> str:
    """The last two parts of a dotted key (``governance.compact.enabled`` → ``compact.enabled``)."""
    return ".".join(key.split(".")[-2:])


def stratum_label(stratum: Sequence[tuple[str, Any]]) -> str:
    """A stratum as text, e.g. ``compact.enabled = true`` (empty without strata)."""
    return ", ".join(f"{short_key(k)} = {format_level(v)}" for k, v in stratum)


def group_label(data: SweepData, level: Any) -> str:
    """A group's label: the mode's name, ``pressure.baseline = 0.3``, or ``all runs``."""
    if data.group is None:
        return "all runs"
    if data.group == MODE:
        return format_level(level)
    return f"{short_key(data.group)} = {format_level(level)}"


def cell_label(data: SweepData, cell: Cell) -> str:
    """Group and stratum, e.g. ``networked · compact.enabled = true``."""
    parts = (group_label(data, cell.group), stratum_label(cell.stratum))
    return " · ".join(part for part in parts if part)


def compared(data: SweepData) -> str:
    """What the figures compare, for titles: ``hierarchical vs networked``."""
    if data.group is None:
        return "all runs"
    labels = [format_level(v) for v in data.group_levels()]
    what = " vs ".join(labels) if len(labels) <= 4 else f"{len(labels)} levels"
    return what if data.group == MODE else f"{data.group}: {what}"


def pooled_note(data: SweepData) -> str:
    """``; pooled over ...`` when factors are pooled, else empty."""
    return f"; pooled over {', '.join(data.pooled)}" if data.pooled else ""


def trusts_text(data: SweepData) -> str:
    """The number of trusts, for prose: ``5``, or ``3 to 40`` when it is varied."""
    low, high = int(data.trusts_per_run.min()), int(data.trusts_per_run.max())
    return str(low) if low == high else f"{low} to {high}"
