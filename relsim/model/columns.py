"""What a month records: the per-trust snapshot and the table of monthly columns.

One explicit table, :func:`month_columns`, says every column of ``months.csv``: its name, what it
means, its type and where its value comes from. Both drivers record from it: the Mesa model's
collector (:class:`relsim.model.recording.Recorder`, whose reporters it generates) and the
batched driver (:mod:`relsim.model.batch`). A column's value comes from one of four sources:

- ``run``: a function of the state, the month's interactions and the month, per run (pressure,
  the compact's state, whether a board met, ...);
- ``mean`` / ``total``: the mean or total over trusts of a row of the month's per-trust
  snapshot (:func:`trust_snapshot`), so that ``trusts.csv`` and ``months.csv`` always agree;
- ``adopters``: the number of trusts that have adopted a practice.

Every function here broadcasts over the state's leading axes (replications).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np

from relsim.model.interactions import Interactions
from relsim.model.mechanisms import COMPACT_NAMES
from relsim.model.relations import REGULATOR
from relsim.model.state import NOT_ADOPTED, State
from relsim.scenario import Scenario

# ---------------------------------------------------------------------------------------------
# The per-trust snapshot: one row per field, one column per trust
# ---------------------------------------------------------------------------------------------

#: Per-trust state copied every month (rows of the snapshot), in this order.
SNAPSHOT_FIELDS: tuple[str, ...] = (
    "trust_in_regulator",
    "regulator_trust",
    "peer_trust",
    "safety",
    "capability",
    "energy",
    "true_quality",
    "reported_quality",
    "gaming_gap",
    "known_problems",
    "hidden_problems",
    "enforcement_level",
    "attended",
    "disclosures",
    "surprises",
    "supportive_responses",
    "sanctions",
)
#: Row of each field in the snapshot.
FIELD: dict[str, int] = {name: i for i, name in enumerate(SNAPSHOT_FIELDS)}


def trust_snapshot(state: State, ix: Interactions, out: np.ndarray | None = None) -> np.ndarray:
    """This month's per-trust state, ``(*lead, fields, trusts)`` (rows in SNAPSHOT_FIELDS order).

    Both tables are built from it: ``trusts.csv`` row by row, and the model-level means and
    totals of ``months.csv`` in one reduction, so the two always agree.

    Args:
        state: The state.
        ix: This month's interactions.
        out: Array to write into (e.g. the history's row for this month); a new one if None.
    """
    n = state.n_trusts
    if out is None:
        out = np.empty((*state.lead, len(SNAPSHOT_FIELDS), n))
    row = np.moveaxis(out, -2, 0) if state.lead else out  # row[i]: field i, whatever the lead
    relations = state.relations
    layout = relations.layout
    if layout.identity:  # one region: block 0 is the trust matrix
        trust = relations.blocks[..., 0, :, :]
        peers = trust[..., 1:, 1:]
        diagonal = peers.diagonal(axis1=-2, axis2=-1)
        fields = [
            trust[..., 1:, REGULATOR],
            trust[..., REGULATOR, 1:],
            (np.add.reduce(peers, axis=-1) - diagonal) / max(n - 1, 1),
        ]
    else:
        fields = [
            relations.trust_in_regulator(),
            relations.regulator_trust(),
            layout.peer_means(relations.blocks, columns=False)[0],
        ]
    fields += [
        state.safety,
        state.capability,
        state.energy,
        state.true_quality,
        state.reported_quality,
        state.gaming_gap,
        state.known,
        state.hidden,
        state.level,
        ix.attended,
        ix.disclosures,
        ix.surprises,
        ix.supportive,
        ix.punitive,
    ]
    for i, values in enumerate(fields):
        row[i] = values
    return out


# ---------------------------------------------------------------------------------------------
# Run-level values
# ---------------------------------------------------------------------------------------------

_COMPACT_NAMES = np.array(COMPACT_NAMES, dtype=object)


def _month(state: State, ix: Interactions, month: int) -> int:
    return month


def _governance(state: State, ix: Interactions, month: int) -> str:
    return state.mode


def _pressure(state: State, ix: Interactions, month: int) -> Any:
    return state.pressure


def _orientation(state: State, ix: Interactions, month: int) -> Any:
    return state.orientation


def _compact_state(state: State, ix: Interactions, month: int) -> Any:
    return _COMPACT_NAMES[state.compact]


def _board_met(state: State, ix: Interactions, month: int) -> bool:
    return ix.board_met


def _attendance_rate(state: State, ix: Interactions, month: int) -> Any:
    return ix.attendance_rate


def _repairs(state: State, ix: Interactions, month: int) -> Any:
    return ix.repairs


def _partner_active(state: State, ix: Interactions, month: int) -> bool:
    return state.partner_active


# ---------------------------------------------------------------------------------------------
# The column table
# ---------------------------------------------------------------------------------------------

Source = Literal["run", "mean", "total", "adopters"]
Dtype = Literal["int", "float", "bool", "str"]


@dataclass(frozen=True)
class MonthColumn:
    """One column of ``months.csv``.

    Attributes:
        name: The column's name.
        doc: What it means (the README's data dictionary says the same).
        dtype: Its type: int, float, bool or str.
        source: Where its value comes from (see the module docstring).
        value: For ``run`` columns: ``value(state, interactions, month)``, one value per run.
        index: For ``mean``/``total``: the snapshot row; for ``adopters``: the practice.
    """

    name: str
    doc: str
    dtype: Dtype
    source: Source
    value: Callable[[State, Interactions, int], Any] | None = None
    index: int = -1


def _run(name: str, dtype: Dtype, value: Callable[..., Any], doc: str) -> MonthColumn:
    return MonthColumn(name, doc, dtype, "run", value)


def _mean(name: str, field: str, doc: str) -> MonthColumn:
    return MonthColumn(name, doc, "float", "mean", index=FIELD[field])


def _total(name: str, field: str, doc: str) -> MonthColumn:
    return MonthColumn(name, doc, "int", "total", index=FIELD[field])


#: The columns of ``months.csv`` every scenario has, in order (adopter counts follow).
COMMON_COLUMNS: tuple[MonthColumn, ...] = (
    _run("month", "int", _month, "Month number; 0 is the initial state."),
    _run("governance", "str", _governance, "Name of the governance rule in force."),
    _run("pressure", "float", _pressure, "External pressure P_t."),
    _mean(
        "mean_trust_in_regulator", "trust_in_regulator", "Mean trust of trusts in the regulator."
    ),
    _mean("mean_regulator_trust", "regulator_trust", "Mean trust of the regulator in the trusts."),
    _mean("mean_peer_trust", "peer_trust", "Mean trust among trusts (of their own region)."),
    _run("relational_orientation", "float", _orientation, "The regulator's orientation ρ."),
    _run("compact_state", "str", _compact_state, "The compact: none, negotiating or in_force."),
    _run("board_met", "bool", _board_met, "Whether a board met this month."),
    _run(
        "attendance_rate",
        "float",
        _attendance_rate,
        "Share of trusts attending the board this month (NaN when no board met).",
    ),
    _total("disclosures", "disclosures", "Problems disclosed this month."),
    _total("surprises", "surprises", "Hidden problems that surfaced this month."),
    _total("sanctions", "sanctions", "Punitive responses this month."),
    _total("supportive_responses", "supportive_responses", "Supportive responses this month."),
    _run("repairs", "int", _repairs, "Boards that held a repair conversation this month."),
    _mean("mean_safety", "safety", "Mean psychological safety."),
    _mean("mean_capability", "capability", "Mean improvement capability."),
    _mean("mean_energy", "energy", "Mean improvement energy."),
    _mean("mean_true_quality", "true_quality", "Mean true quality."),
    _mean("mean_reported_quality", "reported_quality", "Mean reported quality."),
    _mean("gaming_gap", "gaming_gap", "Mean gap between reported and true quality."),
    _total("hidden_problems", "hidden_problems", "Problems hidden from the regulator."),
    _mean("mean_enforcement_level", "enforcement_level", "Mean enforcement level (0-5)."),
    _run("partner_active", "bool", _partner_active, "Whether the improvement partner is active."),
)


@cache
def _columns(practices: tuple[str, ...]) -> tuple[MonthColumn, ...]:
    adopters = tuple(
        MonthColumn(
            f"adopters_{name}",
            f"Trusts that have adopted {name} (implementing or embedded).",
            "int",
            "adopters",
            index=k,
        )
        for k, name in enumerate(practices)
    )
    return COMMON_COLUMNS + adopters


def month_columns(scenario: Scenario) -> tuple[MonthColumn, ...]:
    """The columns of ``months.csv`` for a scenario, in order."""
    return _columns(scenario.practice_names)


@dataclass(frozen=True)
class MonthValues:
    """One month's values of every column, with the leading axes of the state.

    Attributes:
        run: The ``run`` columns' values, in table order (each of shape ``lead`` or a scalar
            shared by every run).
        means: Mean over trusts of each snapshot row, ``(*lead, fields)``.
        totals: Total over trusts of each snapshot row, rounded, ``(*lead, fields)``.
        adopters: Adopters of each practice, ``(*lead, practices)``.
    """

    run: list[Any]
    means: np.ndarray
    totals: np.ndarray
    adopters: np.ndarray


#: The Python type a column of each dtype holds, as Mesa's collector keeps it.
PYTHON_TYPES: dict[Dtype, type] = {"int": int, "float": float, "bool": bool, "str": str}


def summed(state: State, snapshot: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means and rounded totals over trusts of each snapshot row, and adopters per practice."""
    sums = np.add.reduce(snapshot, axis=-1)
    return (
        sums / state.n_trusts,
        np.rint(sums).astype(np.int64),
        np.add.reduce(state.adoption > NOT_ADOPTED, axis=-2),
    )


def month_values(
    columns: tuple[MonthColumn, ...],
    state: State,
    ix: Interactions,
    month: int,
    snapshot: np.ndarray,
) -> MonthValues:
    """Every column's value this month, from the state and this month's snapshot."""
    means, totals, adopters = summed(state, snapshot)
    return MonthValues(
        run=[c.value(state, ix, month) for c in columns if c.value is not None],
        means=means,
        totals=totals,
        adopters=adopters,
    )
