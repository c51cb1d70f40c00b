"""Outcomes of a run: the numbers a sweep keeps for each run, computed from its monthly series.

Each outcome is a pure function of one run's model-level series (the columns of ``months.csv``)
and its scenario, so a sweep can recompute them from the series it stored, and the same
definitions serve the summary, the sensitivity analysis and the report. Counts are floats so
that a missing value (a practice that never reached every trust, a failed run) is NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from relsim.model.governance import GovernanceRule
from relsim.model.governance.board import Boards
from relsim.model.state import NOT_ADOPTED, State
from relsim.scenario import Scenario

#: Month at which trust in the regulator is read mid-partnership (three years in).
MID_MONTH = 36

#: Outcome columns that do not depend on the practice catalogue, with their meaning.
BASE_OUTCOMES: dict[str, str] = {
    "trust_in_regulator_final": "Mean trust of the trusts in the regulator at the last month.",
    "trust_in_regulator_m36": (
        f"Mean trust of the trusts in the regulator at month {MID_MONTH} (empty if the run is "
        "shorter)."
    ),
    "regulator_trust_final": "Mean trust of the regulator in the trusts at the last month.",
    "peer_trust_final": "Mean trust among trusts at the last month.",
    "disclosures": "Problems disclosed over the run.",
    "surprises": "Hidden problems that surfaced as surprises over the run.",
    "sanctions": "Punitive responses of the regulator over the run.",
    "gaming_gap": "Mean over months 1 to the last of the mean gap between reported and true "
    "quality.",
    "capability_final": "Mean improvement capability at the last month.",
    "true_quality_final": "Mean true quality at the last month.",
    "safety_final": "Mean psychological safety at the last month.",
    "attendance_mean": "Mean board attendance over the months a board met (empty if none met).",
    "relational_orientation_final": "The regulator's relational orientation at the last month.",
    "compact_month": "First month the compact was in force (empty if never).",
}

#: Outcomes that are levels in [0, 1] (trust, capability, quality, safety, shares; and
#: ``board_mates_adopted_<practice>``, :func:`outcome_range`); every other outcome is a count,
#: a month or a gap, at least 0.
UNIT_OUTCOMES = frozenset(
    {
        "trust_in_regulator_final",
        "trust_in_regulator_m36",
        "regulator_trust_final",
        "peer_trust_final",
        "capability_final",
        "true_quality_final",
        "safety_final",
        "attendance_mean",
        "relational_orientation_final",
    }
)


def outcome_range(name: str) -> tuple[float, float]:
    """The values an outcome can take, ``(low, high)``: ``(0, 1)`` for levels, else ``(0, inf)``.

    Used to keep a confidence interval of a mean within what is possible: a t interval over a
    few runs of a share near 1 can otherwise reach past 1.
    """
    share = name in UNIT_OUTCOMES or name.startswith("board_mates_adopted_")
    return (0.0, 1.0) if share else (0.0, float("inf"))


#: Per-practice outcome columns; ``<practice>`` stands for each practice's name.
PRACTICE_OUTCOMES: dict[str, str] = {
    "adopters_final_<practice>": "Trusts that had adopted the practice at the last month.",
    "full_adoption_month_<practice>": (
        "First month every trust had adopted the practice (empty if it never reached all)."
    ),
    "board_mates_adopted_<practice>": (
        "Share of the origin trust's board mates (the other trusts on its board under the rule "
        "in force at the last month: every other trust on one shared board, the trusts of its "
        "region on regional boards) that had adopted the practice at the last month (empty if "
        "that rule has no board, or the origin sits alone)."
    ),
}


def outcome_names(scenario: Scenario) -> list[str]:
    """Outcome columns of a scenario's runs, in order."""
    names = [
        name.replace("<practice>", practice)
        for practice in scenario.practice_names
        for name in PRACTICE_OUTCOMES
    ]
    return names + list(BASE_OUTCOMES)


def first_month(months: np.ndarray, condition: np.ndarray) -> float:
    """The first month at which ``condition`` holds, or NaN if it never does."""
    hits = np.flatnonzero(condition)
    return float(months[hits[0]]) if hits.size else float("nan")


def run_outcomes(series: Mapping[str, Any], scenario: Scenario) -> dict[str, float]:
    """Compute a run's outcomes from its monthly series.

    Args:
        series: Column name → one value a month from month 0 (the columns of ``months.csv``).
        scenario: The run's resolved scenario.
    """
    month = np.asarray(series["month"])
    last = -1
    n_trusts = len(scenario.trusts)
    out: dict[str, float] = {}
    for practice in scenario.practice_names:
        adopters = np.asarray(series[f"adopters_{practice}"])
        out[f"adopters_final_{practice}"] = float(adopters[last])
        out[f"full_adoption_month_{practice}"] = first_month(month, adopters >= n_trusts)

    def final(column: str) -> float:
        return float(np.asarray(series[column])[last])

    mid = np.flatnonzero(month == MID_MONTH)
    trust = np.asarray(series["mean_trust_in_regulator"], dtype=float)
    attendance = np.asarray(series["attendance_rate"], dtype=float)
    met = np.asarray(series["board_met"], dtype=bool)
    compact = np.asarray(series["compact_state"], dtype=object)
    out.update(
        {
            "trust_in_regulator_final": float(trust[last]),
            "trust_in_regulator_m36": float(trust[mid[0]]) if mid.size else float("nan"),
            "regulator_trust_final": final("mean_regulator_trust"),
            "peer_trust_final": final("mean_peer_trust"),
            "disclosures": float(np.sum(series["disclosures"])),
            "surprises": float(np.sum(series["surprises"])),
            "sanctions": float(np.sum(series["sanctions"])),
            "gaming_gap": float(np.mean(np.asarray(series["gaming_gap"], dtype=float)[1:]))
            if month.size > 1
            else 0.0,
            "capability_final": final("mean_capability"),
            "true_quality_final": final("mean_true_quality"),
            "safety_final": final("mean_safety"),
            "attendance_mean": float(attendance[met].mean()) if met.any() else float("nan"),
            "relational_orientation_final": final("relational_orientation"),
            "compact_month": first_month(month, compact == "in_force"),
        }
    )
    return out


def origin_boards(rule: GovernanceRule, state: State) -> np.ndarray | None:
    """Each trust's board under ``rule`` (an index per trust), or None if it has no board."""
    if not isinstance(rule, Boards):
        return None
    return np.asarray(rule.seating(state.relations.layout).board)


def board_mate_outcomes(
    adoption: np.ndarray, boards: np.ndarray | None, scenario: Scenario
) -> dict[str, float]:
    """The share of each practice's origin's board mates that had adopted it (a pure function).

    This is what a board is for: the practice travels between the trusts that meet on it. With
    one shared board of 40 trusts or regional boards of 5 to 8, it is the share of the trusts
    the origin meets that took the practice up (``board_size``'s question, MODEL.md fact 8).

    Args:
        adoption: One run's final adoption states, trusts x practices (0: not adopted).
        boards: Each trust's board (:func:`origin_boards`), or None when the rule has no board.
        scenario: The run's scenario (its trusts and practices).
    """
    names = [t.name for t in scenario.trusts]
    out = {}
    for k, practice in enumerate(scenario.practices):
        column = f"board_mates_adopted_{practice.name}"
        origin = names.index(practice.origin)
        if boards is None:
            out[column] = float("nan")
            continue
        mates = np.flatnonzero(boards == boards[origin])
        mates = mates[mates != origin]
        adopted = adoption[mates, k] != NOT_ADOPTED
        out[column] = float(adopted.mean()) if mates.size else float("nan")
    return out
