"""The assumptions a teacher can change in the dashboard, and how they become a scenario.

A preset is a scenario (a bundled one, or a file); the dashboard shows eight of its assumptions
as controls, starting at the preset's own values, so that leaving the controls alone runs the
preset exactly. :class:`Assumptions` reads those eight from a scenario and writes them back as
ordinary dotted-key overrides, so everything the model checks about a scenario file is checked
here too.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from relsim.errors import RelsimError
from relsim.scenario import GOVERNANCE_MODES, Scenario, with_overrides

#: Seeds are whole numbers from 0 to 2^64 - 1, as on the command line.
MAX_SEED = 2**64 - 1
#: Board sizes the dashboard offers: a board needs pairs, and beyond 20 trusts one shared board
#: gives each pair almost no time (MODEL.md M6), which the slider's top already shows.
MIN_SLIDER_TRUSTS, MAX_SLIDER_TRUSTS = 2, 20


@dataclass(frozen=True, slots=True)
class Assumptions:
    """The main assumptions of a run, as the dashboard's controls show them.

    Attributes:
        governance: Name of the governance rule (one of ``GOVERNANCE_MODES``).
        trusts: Number of trusts, which is also the size of the networked board.
        meeting_interval: Months between board meetings (networked governance).
        compact: Whether the board negotiates a compact.
        pressure_baseline: Long-run level of external pressure.
        loss_ratio: How many times faster trust is lost than gained.
        orientation: The regulator's initial relational orientation ρ.
        readiness_spread: Half the range of readiness between the readiest and the least ready
            trust.
    """

    governance: str
    trusts: int
    meeting_interval: int
    compact: bool
    pressure_baseline: float
    loss_ratio: float
    orientation: float
    readiness_spread: float

    @classmethod
    def of(cls, scenario: Scenario) -> Assumptions:
        """The assumptions as a scenario states them."""
        return cls(
            governance=scenario.governance.mode,
            trusts=len(scenario.trusts),
            meeting_interval=scenario.governance.board.meeting_interval_months,
            compact=scenario.governance.compact.enabled,
            pressure_baseline=scenario.pressure.baseline,
            loss_ratio=scenario.trust_dynamics.loss_ratio,
            orientation=scenario.regulator.relational_orientation,
            readiness_spread=readiness_spread(scenario),
        )

    def overrides(self, scenario: Scenario) -> dict[str, Any]:
        """Dotted-key overrides that turn ``scenario`` into one with these assumptions."""
        base = Assumptions.of(scenario)
        out: dict[str, Any] = {
            "governance.mode": self.governance,
            "governance.board.meeting_interval_months": int(self.meeting_interval),
            "governance.compact.enabled": bool(self.compact),
            "pressure.baseline": float(self.pressure_baseline),
            "trust_dynamics.loss_ratio": float(self.loss_ratio),
            "regulator.relational_orientation": float(self.orientation),
        }
        same_board = self.trusts == base.trusts and _close(
            self.readiness_spread, base.readiness_spread
        )
        if not same_board:
            out.update(board_overrides(scenario, int(self.trusts), float(self.readiness_spread)))
        return out

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with these assumptions (validated like any scenario file)."""
        return with_overrides(scenario, self.overrides(scenario), source="dashboard")


def _close(a: float, b: float) -> bool:
    # Sliders step in hundredths; a float slider's 0.30000000000000004 is the preset's 0.3.
    return abs(a - b) < 5e-3


def readiness_spread(scenario: Scenario) -> float:
    """Half the range of the trusts' readiness (0 when they are all alike)."""
    values = [t.readiness for t in scenario.trusts]
    return round((max(values) - min(values)) / 2, 2)


def _letters(k: int) -> str:
    """Spreadsheet-style labels: 0 → A, 25 → Z, 26 → AA."""
    label = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        label = string.ascii_uppercase[r] + label
    return label


def board_overrides(scenario: Scenario, n: int, spread: float) -> dict[str, Any]:
    """Overrides for a board of ``n`` trusts whose readiness spreads ``spread`` around the mean.

    The preset's trusts keep their names and order; a larger board repeats the preset's pattern
    of readiness (a board of ten has two trusts like each of five), named on from the last
    letter used. Readiness is stretched or squeezed around the preset's mean, so that the order
    of the trusts, and so which trust is readiest, stays as in the preset. Practices whose
    origin is no longer on a smaller board move to its last trust.
    """
    base = scenario.trusts
    mean = sum(t.readiness for t in base) / len(base)
    base_spread = (max(t.readiness for t in base) - min(t.readiness for t in base)) / 2
    names = [t.name for t in base[:n]]
    k = 0
    while len(names) < n:
        candidate = f"Trust {_letters(k)}"
        if candidate not in names and candidate not in scenario.trust_names:
            names.append(candidate)
        k += 1
    trusts = []
    for i, name in enumerate(names):
        spec = base[i % len(base)]
        if base_spread > 0:
            readiness = mean + (spread / base_spread) * (spec.readiness - mean)
        else:  # all alike in the preset: spread them evenly, readiest first
            readiness = mean + spread * (1 - 2 * i / (n - 1)) if n > 1 else mean
        trusts.append(
            {
                "name": name,
                "readiness": round(min(1.0, max(0.0, readiness)), 4),
                "quality": spec.quality,
                "safety": spec.safety,
            }
        )
    out: dict[str, Any] = {"trusts": trusts}
    for k, practice in enumerate(scenario.practices):
        if practice.origin not in names:
            out[f"practices[{k}].origin"] = names[-1]
    return out


def other_governance(mode: str) -> str:
    """The governance rule a twin runs: the first the schema lists that differs from ``mode``."""
    return next(name for name in GOVERNANCE_MODES if name != mode)


def parse_seed(value: int | str) -> int:
    """A seed from a number or the text of the dashboard's seed field.

    Raises:
        RelsimError: naming the field and what was expected.
    """
    if isinstance(value, int) and 0 <= value <= MAX_SEED:
        return value
    text = str(value)
    if re.fullmatch(r"\s*\d+\s*", text) and int(text) <= MAX_SEED:
        return int(text)
    raise RelsimError(f"seed: expected a whole number from 0 to 2^64-1 (got {text!r})")
