"""The scenario schema: the typed, frozen description of one simulated world.

Every parameter of the model specification is a field of a frozen dataclass here, declared with
:func:`param`: its default, its admissible range, its unit and the source it comes from. A
scenario file (TOML) states only what differs from these defaults. The rest of the layer is
derived from the declarations: validation (:mod:`relsim.scenario.validation`), overrides
(:mod:`relsim.scenario.overrides`), loading files (:mod:`relsim.scenario.files`) and the
parameter table of ``docs/ODD.md`` (:mod:`relsim.scenario.reference`).

This module imports nothing of the model: the governance rules a scenario may name are declared
here (:data:`GOVERNANCE_MODES`), and a test keeps them equal to the model's registry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The longest horizon a scenario may ask for, in months (50 years). The model is monthly and
#: cheap, but a typo such as ``months = 60000`` should be caught, not run.
MAX_MONTHS = 600

#: The most trusts a population may generate: England has about 210 NHS trusts, and a scenario of
#: ten thousand is a typo, not a study.
MAX_GENERATED_TRUSTS = 10_000

#: The governance rules a scenario may name (``governance.mode``), in the order error messages
#: list them. The model implements one rule per name (``relsim.model.governance.GOVERNANCE``);
#: they are declared here so that a scenario can be checked without importing the model, and
#: ``tests/test_scenario.py`` keeps the two equal.
GOVERNANCE_MODES: tuple[str, ...] = (
    "hierarchical",
    "responsive",
    "networked",
    "hybrid",
    "regional_boards",
    "lead_organisation",
    "network_administrative_organisation",
    "national_learning_network",
)

# ---------------------------------------------------------------------------------------------
# Declaring parameters
# ---------------------------------------------------------------------------------------------


def param(
    default: Any,
    doc: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    unit: str = "",
    source: str = "",
    choices: tuple[str, ...] | None = None,
) -> Any:
    """Declare one parameter: its default, meaning, admissible range and source.

    Used for the scenario's fields here and for the tables of other input files (an
    experiment's), so that :func:`relsim.scenario.validation.build_table` checks them all alike.

    Args:
        default: The default value (immutable).
        doc: One line saying what the parameter means.
        lo: Smallest admissible value (inclusive unless ``lo_open``).
        hi: Largest admissible value (inclusive).
        lo_open: Whether ``lo`` itself is excluded (for rates that must be positive).
        unit: Unit of the value, for documentation.
        source: Where the default comes from (a citation, "case" or "assumption").
        choices: Admissible strings for a text field whose choices are known up front.
    """
    meta = {
        "doc": doc,
        "lo": lo,
        "hi": hi,
        "lo_open": lo_open,
        "unit": unit,
        "source": source,
        "choices": choices,
    }
    return field(default=default, metadata=meta)


def required(doc: str, *, expected: str = "", **kwargs: Any) -> Any:
    """Declare a parameter that has no default and must be given (e.g. a trust's name).

    Args:
        doc: One line saying what the parameter means.
        expected: What to give, added to the error when it is missing: ``is required
            (expected <expected>)``; empty for a plain ``is required``.
        **kwargs: Range and documentation, as for :func:`param`.
    """
    meta = {"doc": doc, "lo": None, "hi": None, "lo_open": False, "unit": "", "source": ""}
    meta.update(kwargs, expected=expected)
    return field(metadata=meta)


def _bound(x: float) -> str:
    """A bound as written: whole numbers in full (2**63 - 1 is not 9.22337e+18)."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True, slots=True)
class Limits:
    """The admissible range of a numeric parameter, as declared with :func:`param`."""

    lo: float | None = None
    """Smallest admissible value, or None for no lower bound."""
    hi: float | None = None
    """Largest admissible value (inclusive), or None for no upper bound."""
    lo_open: bool = False
    """Whether ``lo`` itself is excluded."""

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> Limits:
        """The limits declared in a field's metadata."""
        return cls(meta.get("lo"), meta.get("hi"), bool(meta.get("lo_open")))

    def admits(self, value: float) -> bool:
        """Whether ``value`` lies within the limits."""
        lo, hi = self.lo, self.hi
        if lo is not None and (value < lo or (self.lo_open and value == lo)):
            return False
        return hi is None or value <= hi

    def words(self) -> str:
        """The range for an error message: ``between 0 and 1``, ``at least 1``, ..."""
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None and not self.lo_open:
            return f"between {_bound(lo)} and {_bound(hi)}"
        at_least = "greater than" if self.lo_open else "at least"
        low = None if lo is None else f"{at_least} {_bound(lo)}"
        high = None if hi is None else f"at most {_bound(hi)}"
        return " and ".join(part for part in (low, high) if part) or "a number"

    def interval(self) -> str:
        """The range in interval notation for the docs: ``[0, 1]``, ``(0, 24]``; empty if none."""
        if self.lo is None and self.hi is None:
            return ""
        low = "" if self.lo is None else _bound(self.lo)
        high = "" if self.hi is None else _bound(self.hi)
        return f"{'(' if self.lo_open else '['}{low}, {high}]"


_FIELD_TYPES: dict[type, dict[str, Any]] = {}


def field_types(cls: type) -> dict[str, Any]:
    """The resolved type of each field of a schema class, by name (cached).

    The annotations are strings (``from __future__ import annotations``); validation, overrides
    and the reference table all need the types they name.
    """
    if cls not in _FIELD_TYPES:
        _FIELD_TYPES[cls] = typing.get_type_hints(cls)
    return _FIELD_TYPES[cls]


# ---------------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Meta:
    """What the scenario is called and how long it runs."""

    name: str = param("unnamed scenario", "Human-readable name, shown in outputs.")
    description: str = param("", "One or two sentences on what the scenario represents.")
    months: int = param(
        60,
        "Horizon of the run (the partnership lasted 60 months).",
        lo=1,
        hi=MAX_MONTHS,
        unit="months",
        source="case",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GovernanceChange:
    """A scripted change of governance rule at a given month."""

    month: int = required("Month at which the new rule takes over.", lo=1, hi=MAX_MONTHS)
    mode: str = required("Governance rule from then on.", choices=GOVERNANCE_MODES)


@dataclass(frozen=True, slots=True, kw_only=True)
class Board:
    """The networked board: a protected relational space that meets regularly (MODEL.md M6)."""

    meeting_interval_months: int = param(
        1, "Months between board meetings.", lo=1, hi=24, unit="months", source="case"
    )
    hours: float = param(
        6.0, "Length of a board meeting.", lo=0, lo_open=True, hi=24, unit="hours", source="case"
    )
    pair_hours_scale: float = param(
        0.1,
        "Contact time per pair at which a meeting gives a pair 63% of a full interaction; "
        "weight = 1 - exp(-hours per pair / scale).",
        lo=0,
        lo_open=True,
        hi=10,
        unit="hours",
        source="assumption (network-size effect, Provan & Kenis 2008)",
    )
    positivity_floor: float = param(
        0.4,
        "Probability that a pair's exchange at a meeting is positive when the board is no "
        "protected space at all (space 0): π = floor + (ceiling - floor)·space.",
        lo=0,
        hi=1,
        source="assumption (MODEL.md M6 had 0.6 before a compact)"
        "; the case calibration leaves it at its prior",
    )
    positivity_ceiling: float = param(
        0.9,
        "Probability that a pair's exchange at a meeting is positive in a fully protected "
        "space (space 1).",
        lo=0,
        hi=1,
        source="assumption (MODEL.md M6 had 0.85 with a compact in force)"
        "; the case calibration leaves it at its prior",
    )
    initial_space: float = param(
        0.3,
        "How protected the board is as a space at its first meeting (0 to 1): low, for the "
        "legacy of power imbalance between regulator and providers.",
        lo=0,
        hi=1,
        source="case (Burgess et al. 2019: a legacy of power imbalance); value an assumption"
        "; the case calibration leaves it at its prior",
    )
    space_rate: float = param(
        0.15,
        "Share of the way the protected space moves each meeting toward what the regulator "
        "has shown: the share of its responses to the board's trusts that were supportive, at "
        "the board and outside it.",
        lo=0,
        hi=1,
        source="assumption (Burgess et al. 2019: the space is made by the regulator's behaviour)"
        "; the case calibration leaves it at its prior",
    )
    broker: float = param(
        0.3,
        "How far the improvement partner, while active on the board as a neutral broker, "
        "lifts what the space moves toward: target + broker·(1 - target).",
        lo=0,
        hi=1,
        source="case (Virginia Mason on the board, Burgess et al. 2019); value an assumption"
        "; the case calibration leaves it at its prior",
    )
    peer_training: float = param(
        0.03,
        "Training a trust gains the month after a meeting at which all its exchanges with "
        "peers were positive (in proportion to its share of positive peer exchanges): peer "
        "learning that outlasts the partner.",
        lo=0,
        hi=12,
        unit="department-equivalents",
        source="assumption (learning together, Burgess et al. 2019)",
    )
    negative_weight: float = param(
        0.2,
        "Weight of a negative exchange at the board relative to a positive one: a hard "
        "conversation in a protected space is not a betrayal.",
        lo=0,
        hi=1,
        source="assumption (protected relational space, Burgess et al. 2019)",
    )
    showcase_probability: float = param(
        0.68,
        "Probability that an attending adopter showcases a practice at a meeting.",
        lo=0,
        hi=1,
        source="calibrated (relsim calibrate case_calibration: posterior median 0.68, 90% "
        "interval 0.48-0.88; was the assumption 0.5)",
    )
    safety_gain: float = param(
        0.05,
        "Rise of psychological safety per meeting attended, as a share of the way to 1.",
        lo=0,
        hi=1,
        source="assumption (Edmondson 1999)",
    )
    attendance_intercept: float = param(
        -1.0, "Logit of attendance with no value found and no norm.", lo=-10, hi=10
    )
    attendance_value_weight: float = param(
        2.5, "Logit weight of the value a trust has found in past meetings.", lo=0, hi=10
    )
    attendance_norm_weight: float = param(
        2.5, "Logit weight of the group's norm of attending (last attendance rate).", lo=0, hi=10
    )
    value_memory: float = param(
        0.3,
        "Weight of the latest meeting in a trust's remembered value of meetings.",
        lo=0,
        lo_open=True,
        hi=1,
    )
    initial_norm: float = param(
        0.8, "Attendance norm before the first meeting.", lo=0, hi=1, source="case"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Compact:
    """The compact of reciprocal commitments negotiated by the board (MODEL.md M6)."""

    enabled: bool = param(True, "Whether the board negotiates a compact.", source="case")
    clauses: int = param(
        6,
        "Categories of reciprocal commitments the board must agree before the compact comes "
        "into force.",
        lo=1,
        hi=50,
        source="case (six categories of responsibilities, Burgess et al. 2019, box 3)",
    )
    clause_hours: float = param(
        18.7,
        "Hours of meeting in full agreement that agreeing one category takes on average: at a "
        "meeting of h hours whose exchanges are positive in share s, each open category is "
        "agreed with probability 1 - exp(-h·s / clause_hours).",
        lo=0,
        lo_open=True,
        hi=1000,
        unit="hours",
        source="calibrated (relsim calibrate case_calibration: posterior median 18.7, 90% "
        "interval 11.5-30.8 hours; target: the compact after nearly 12 months; was 16)",
    )
    early_warning: float = param(
        1.0,
        "Rise in the logit of disclosure while the compact is in force: the trusts' "
        "commitment to early warning and no surprises.",
        lo=0,
        hi=10,
        source="case (Burgess et al. 2019, box 3); value an assumption",
    )
    lapse_threshold: float = param(
        0.35,
        "Mean board trust below which a compact in force lapses back into negotiation.",
        lo=0,
        hi=1,
        source="assumption",
    )
    buffer: float = param(
        0.7,
        "How far a compact in force shields the regulator's responses from external pressure "
        "(b in ρ_eff = ρ(1 - P(1 - b))).",
        lo=0,
        hi=1,
        source="MODEL.md M4",
    )
    repair_probability: float = param(
        0.7,
        "Probability that a breach under the compact leads to a repair conversation at the "
        "next meeting.",
        lo=0,
        hi=1,
        source="Burgess, Richmond & Kiefer 2020",
    )
    repair_share: float = param(
        0.5,
        "Share of the trust a breach cost (in log-odds) that a repair conversation restores; "
        "never more than the breach cost.",
        lo=0,
        hi=1,
        source="assumption (Burgess, Richmond & Kiefer 2020)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Responsive:
    """Responsive regulation: persuasion first, then the pyramid (Ayres & Braithwaite 1992)."""

    persuasion_reviews: int = param(
        2,
        "Missed targets in a row met by persuasion before the regulator escalates; a "
        "surprise escalates at once, and cooperation (a target met, or problems disclosed) "
        "steps the pyramid down.",
        lo=1,
        hi=24,
        source="Ayres & Braithwaite 1992 (persuasion first); value an assumption",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Hierarchical:
    """Positional regulation: targets, reviews and the enforcement pyramid (MODEL.md M5)."""

    quality_target: float = param(
        0.55,
        "Target on reported quality at the monthly performance review.",
        lo=0,
        hi=1,
        source="assumption (a target some trusts meet and others miss)",
    )
    review_weight: float = param(
        0.5,
        "Weight of the interaction a performance review is (positive when the target is met, "
        "negative otherwise).",
        lo=0,
        hi=10,
    )
    peer_contact_rate: float = param(
        0.05,
        "Probability that a pair of trusts of the same region meets in a month (trusts of "
        "different regions serve different local health economies and do not meet).",
        lo=0,
        hi=1,
        unit="per pair per month",
        source="MODEL.md M5",
    )
    peer_positive_probability: float = param(
        0.5,
        "Probability that a meeting between competing trusts is positive.",
        lo=0,
        hi=1,
        source="assumption (competition)",
    )
    peer_weight: float = param(0.5, "Weight of a peer meeting.", lo=0, hi=10)


@dataclass(frozen=True, slots=True, kw_only=True)
class Regional:
    """Regional networks: who convenes each regional board (Provan & Kenis 2008)."""

    convener_protection: float = param(
        0.5,
        "How far a network administrative organisation's convener shields the disclosures it "
        "relays to the regulator, on top of the board's protection: P(supportive) = "
        "1 - (1 - P at the board)(1 - convener_protection).",
        lo=0,
        hi=1,
        source="assumption (a neutral broker, Provan & Kenis 2008)",
    )
    convener_initial_trust: float = param(
        0.4,
        "Initial trust between a convener and the regulator and trusts of its region, both "
        "ways: a convener brings no legacy of sanction or competition.",
        lo=0,
        hi=1,
        source="assumption (legitimacy of a network administrative organisation, Provan & "
        "Kenis 2008)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class National:
    """The national learning network: representatives of the regional boards meet in sets."""

    meeting_interval_months: int = param(
        3,
        "Months between meetings of the national learning network (quarterly).",
        lo=1,
        hi=24,
        unit="months",
        source="assumption (a quarterly national network, as for representatives' meetings)",
    )
    hours: float = param(
        6.0,
        "Length of a meeting of a national learning set.",
        lo=0,
        lo_open=True,
        hi=24,
        unit="hours",
        source="assumption (as the board)",
    )
    set_size: int = param(
        6,
        "Representatives per national learning set; neighbouring sets share one region's "
        "representative, so that the sets form a connected ring.",
        lo=2,
        hi=1000,
        source="assumption (small stable groups, MODEL.md fact 8)",
    )
    positive_probability: float = param(
        0.85,
        "Probability that an exchange between representatives is positive: they come from "
        "different local health economies and do not compete.",
        lo=0,
        hi=1,
        source="assumption",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Governance:
    """Which governance rule is active, and the parameters of each rule."""

    mode: str = param(
        "hybrid",
        "Governance rule: how the regulator and the trusts meet each month.",
        source="MODEL.md §1",
        choices=GOVERNANCE_MODES,
    )
    board: Board = param(Board(), "The networked board.")
    compact: Compact = param(Compact(), "The compact.")
    hierarchical: Hierarchical = param(
        Hierarchical(),
        "Positional regulation: targets, reviews, the pyramid (hierarchical, responsive, hybrid).",
    )
    responsive: Responsive = param(Responsive(), "Responsive regulation.")
    regional: Regional = param(Regional(), "Regional networks and their conveners.")
    national: National = param(National(), "The national learning network.")
    changes: tuple[GovernanceChange, ...] = param(
        (), "Scripted changes of governance rule, e.g. [{month = 36, mode = 'hierarchical'}]."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Regulator:
    """The regulator's relational orientation and how it learns (MODEL.md M4, M10)."""

    relational_orientation: float = param(
        0.4,
        "Initial propensity to respond supportively rather than punitively (ρ).",
        lo=0,
        hi=1,
        source="MODEL.md §2",
    )
    learning_rate: float = param(
        0.05,
        "Monthly rate at which ρ moves toward the share of positive board exchanges.",
        lo=0,
        hi=1,
        source="assumption (Burgess et al. 2019: regulators reflecting on their behaviours)",
    )
    pressure_sensitivity: float = param(
        0.02,
        "Monthly proportional fall of ρ per unit of pressure when no compact is in force.",
        lo=0,
        hi=1,
    )
    supportive_weight: float = param(
        1.0, "Weight of a supportive response as an interaction.", lo=0, hi=10
    )
    punitive_weight: float = param(
        1.0, "Weight of a punitive response as an interaction.", lo=0, hi=10
    )
    disclosure_credit: float = param(
        0.3,
        "Weight of the positive interaction a disclosure is for the regulator's trust in the "
        "trust that disclosed.",
        lo=0,
        hi=10,
    )
    trust_leniency: float = param(
        0.5,
        "Rise in the probability of a supportive response to a trust per unit of the "
        "regulator's trust in it above its initial level: trust built at the board tempers "
        "reviews.",
        lo=0,
        hi=5,
        source="assumption (relational authority, Burgess et al. 2019)"
        "; the case calibration leaves it at its prior",
    )
    board_hours: float = param(
        24.0,
        "Hours a month the regulator's senior staff can spend at boards; with more board "
        "hours due, it attends each meeting with probability board_hours / hours due.",
        lo=0,
        hi=10_000,
        unit="hours per month",
        source="assumption (the cost of relating)",
    )
    staff_turnover: float = param(
        0.02,
        "Monthly probability that the regulator's person on a board changes, carrying part of "
        "the regulator's trust in that board's trusts away (trust_dynamics.turnover_loss).",
        lo=0,
        hi=1,
        unit="per board per month",
        source="assumption (about four years in post)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Shock:
    """A scripted rise in external pressure."""

    month: int = required("First month of the shock.", lo=1, hi=MAX_MONTHS)
    magnitude: float = required("Added pressure while the shock lasts.", lo=-10, hi=10)
    duration: int = required("Months the shock lasts.", lo=1, hi=MAX_MONTHS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pressure:
    """External political and operational pressure (MODEL.md M2)."""

    baseline: float = param(
        0.3, "Long-run level of pressure (P̄); also its level at month 0.", lo=0, hi=10
    )
    reversion: float = param(0.2, "Monthly reversion toward the baseline (κ).", lo=0, hi=1)
    volatility: float = param(0.05, "Standard deviation of monthly noise (σ).", lo=0, hi=10)
    shocks: tuple[Shock, ...] = param(
        (), "Scripted shocks: pressure is raised by `magnitude` for `duration` months."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustDynamics:
    """How trust is built and lost (MODEL.md M1)."""

    gain: float = param(
        0.5,
        "Log-odds of trust gained per unit of positive interaction (α); a negative one costs "
        "λ·α, so loss exceeds gain at every level of trust.",
        lo=0,
        hi=5,
        unit="log-odds",
        source="assumption (about two years from 0.3 to 0.7 at a monthly board, MODEL.md M1)"
        "; the case calibration leaves it at its prior",
    )
    loss_ratio: float = param(
        3.0,
        "How many times faster trust is lost than gained (λ).",
        lo=1,
        hi=10,
        source="Slovic 1993 (plausible range 2-5)",
    )
    drift: float = param(
        0.01, "Monthly drift toward the initial level for pairs with no contact (φ).", lo=0, hi=1
    )
    initial_regulator_trust: float = param(
        0.3,
        "Initial trust between the regulator and each trust, both ways (legacy of power "
        "imbalance).",
        lo=0,
        hi=1,
        source="MODEL.md §2",
    )
    initial_peer_trust: float = param(
        0.3, "Initial trust between trusts (competition).", lo=0, hi=1, source="MODEL.md §2"
    )
    ceo_turnover: float = param(
        0.02,
        "Monthly probability that a trust's chief executive changes, carrying part of its "
        "interpersonal trust away.",
        lo=0,
        hi=1,
        unit="per trust per month",
        source="assumption (NHS trust chief executives stay about four years)",
    )
    turnover_loss: float = param(
        0.5,
        "Share of the way back to its initial level that a relationship falls when the person "
        "holding it leaves.",
        lo=0,
        hi=1,
        source="assumption (trust between organisations is held by people)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Problems:
    """Problems arise, are disclosed or hidden, and surface as surprises (MODEL.md M3)."""

    rate: float = param(
        1.0, "New problems a month at quality 0 (μ).", lo=0, hi=100, unit="per month"
    )
    surface_probability: float = param(
        0.1, "Monthly probability that a hidden problem surfaces as a surprise.", lo=0, hi=1
    )
    fix_disclosed: float = param(
        0.5, "Monthly probability that a known problem is fixed.", lo=0, hi=1
    )
    fix_hidden: float = param(
        0.1, "Monthly probability that a hidden problem is fixed quietly.", lo=0, hi=1
    )
    disclosure_intercept: float = param(-0.5, "Logit of disclosure (a0).", lo=-10, hi=10)
    disclosure_safety: float = param(
        2.0,
        "Logit weight of psychological safety on disclosure (a1).",
        lo=0,
        hi=10,
        source="Edmondson 1996",
    )
    disclosure_trust: float = param(
        2.0, "Logit weight of trust in the regulator on disclosure (a2).", lo=0, hi=10
    )
    disclosure_sanction: float = param(
        2.0, "Logit weight of the expected sanction against disclosure (a3).", lo=0, hi=10
    )
    surprise_weight: float = param(
        2.0, "Weight of the negative interaction a surprise is, in both directions.", lo=0, hi=10
    )
    harm: float = param(
        0.02,
        "Share of quality each open problem (pending, known or hidden) takes away while it is "
        "open: more problems never raise quality.",
        lo=0,
        hi=1,
        source="assumption",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Safety:
    """Psychological safety inside trusts (MODEL.md M4, M5)."""

    supportive_gain: float = param(
        0.1, "Rise per supportive response, as a share of the way to 1.", lo=0, hi=1
    )
    punitive_loss: float = param(
        0.2,
        "Fall per punitive response, as a share of the current level (η).",
        lo=0,
        hi=1,
        source="MODEL.md M4",
    )
    drift: float = param(0.02, "Monthly drift toward the trust's initial safety.", lo=0, hi=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Posture:
    """Thresholds that classify a trust's motivational posture (Braithwaite)."""

    commitment_trust: float = param(
        0.6, "Trust in the regulator at or above which the posture is commitment.", lo=0, hi=1
    )
    capitulation_trust: float = param(
        0.4,
        "Trust in the regulator at or above which (below commitment) the posture is "
        "capitulation; below it, resistance or game-playing.",
        lo=0,
        hi=1,
    )
    gaming_level: int = param(
        2, "Enforcement level at or above which low trust turns to game-playing.", lo=1, hi=5
    )
    disengagement_energy: float = param(
        0.4, "Improvement energy below which a trust disengages.", lo=0, hi=1
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Enforcement:
    """The enforcement pyramid and gaming (MODEL.md M5)."""

    gaming_rate: float = param(
        0.1, "Monthly growth of the gaming gap toward its maximum while game-playing.", lo=0, hi=1
    )
    max_gaming_gap: float = param(
        0.25,
        "Largest gap between reported and true quality.",
        lo=0,
        hi=1,
        source="Bevan & Hood 2006 (19-21 points)",
    )
    gaming_decay: float = param(
        0.2, "Monthly proportional decay of the gap when not game-playing.", lo=0, hi=1
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Energy:
    """Improvement energy (MODEL.md M9): E = clip(1 - β_L·L/5 - β_P·P)."""

    level_weight: float = param(0.5, "Energy lost at enforcement level 5 (β_L).", lo=0, hi=1)
    pressure_weight: float = param(0.5, "Energy lost per unit of pressure (β_P).", lo=0, hi=10)


@dataclass(frozen=True, slots=True, kw_only=True)
class Quality:
    """True quality of care (MODEL.md M9)."""

    growth: float = param(0.03, "Monthly growth of quality with capability × energy.", lo=0, hi=1)
    pressure_erosion: float = param(
        0.03, "Monthly proportional erosion of quality per unit of pressure.", lo=0, hi=1
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Adoption:
    """Complex-contagion adoption of practices (MODEL.md M7)."""

    trust_threshold: float = param(
        0.5,
        "Trust in an adopter needed for an exposure to count (θ_T).",
        lo=0,
        hi=1,
        source="MODEL.md M7; the case calibration leaves it at its prior",
    )
    p1: float = param(
        0.15, "Adoption probability from one trusted exposure.", lo=0, hi=1, source="Centola 2010"
    )
    p2: float = param(
        0.3,
        "Added probability from each further trusted exposure.",
        lo=0,
        hi=1,
        source="Centola 2010",
    )
    implementation_months: int = param(
        3, "Months of implementing before a practice pays off.", lo=0, hi=120, unit="months"
    )
    abandonment: float = param(
        0.05, "Base monthly abandonment hazard (δ0), scaled by (1 - A)(1 - E).", lo=0, hi=1
    )
    mandate_abandonment_multiplier: float = param(
        3.0,
        "How many times likelier a mandated (shallow) adoption is abandoned.",
        lo=1,
        hi=100,
        source="MODEL.md M5",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Training:
    """Training coverage per department: the heat map (MODEL.md M8)."""

    departments: int = param(12, "Departments per trust (D).", lo=1, hi=100)
    initial_coverage: tuple[float, float] = param(
        (0.02, 0.1),
        "Range of initial coverage per department, drawn uniformly.",
        lo=0,
        hi=1,
        source="MODEL.md §2",
    )
    turnover: float = param(
        0.01, "Monthly share of trained staff who leave (τ).", lo=0, hi=1, source="MODEL.md M8"
    )
    capability_coverage: float = param(
        0.3,
        "Coverage at which a department counts as fully capable (c*).",
        lo=0,
        lo_open=True,
        hi=1,
        source="MODEL.md M8",
    )
    internal_rate: float = param(
        0.12,
        "Internal training a month at full capability, in department-equivalents.",
        lo=0,
        hi=12,
    )
    internal_threshold: float = param(
        0.3,
        "Capability below which a trust has too few trained staff to train others.",
        lo=0,
        hi=1,
        source="assumption (what lasts, MODEL.md fact 10)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Partner:
    """The improvement partner (e.g. the Virginia Mason Institute)."""

    enabled: bool = param(True, "Whether there is a partner at all.")
    name: str = param("Virginia Mason Institute", "The partner's name.", source="case")
    start_month: int = param(0, "First month the partner is active.", lo=0, hi=MAX_MONTHS)
    end_month: int = param(
        60,
        "Month the partner leaves (active while start <= month < end).",
        lo=0,
        hi=MAX_MONTHS,
        source="case (2015-2020)",
    )
    training_capacity: float = param(
        0.1,
        "Training the partner provides each trust a month, in department-equivalents.",
        lo=0,
        hi=12,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustSpec:
    """One provider organisation."""

    name: str = required("Unique name of the trust.")
    readiness: float = param(
        0.5,
        "Cultural readiness / absorptive capacity (A).",
        lo=0,
        hi=1,
        source="Cohen & Levinthal 1990",
    )
    quality: float = param(0.55, "Initial true quality of care.", lo=0, hi=1)
    safety: float = param(0.3, "Initial psychological safety (S).", lo=0, hi=1, source="MODEL.md")
    initial_coverage: float = param(
        -1.0,
        "Mean initial training coverage of the trust's departments; the spread of "
        "training.initial_coverage is rescaled to this mean. -1: drawn from "
        "training.initial_coverage as it stands.",
        lo=-1,
        hi=1,
    )
    region: str = param(
        "",
        "Regional network the trust belongs to: trusts with the same region share a regional "
        "board and compete as neighbours. Empty: the trusts form one network.",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PracticeSpec:
    """An improvement practice that can spread between trusts."""

    name: str = required("Unique name of the practice (letters, digits, underscores).")
    origin: str = required("Name of the trust that introduces it.")
    introduced_month: int = param(
        0, "Month the origin trust adopts it.", lo=0, hi=MAX_MONTHS, unit="month"
    )
    complexity: int = param(
        1,
        "Distinct trusted sources (adopters met, the partner's teaching) needed in one month "
        "before adoption is possible: 1 a simple contagion, 2 or more a complex one.",
        lo=1,
        hi=20,
        source="Centola 2010",
    )
    benefit: float = param(
        0.005,
        "Monthly rise of quality, as a share of the way to 1, once embedded.",
        lo=0,
        hi=1,
    )
    targets_training: bool = param(
        False, "Whether the practice steers training to the least-covered departments."
    )
    taught_by_partner: bool = param(
        False,
        "Whether the improvement partner teaches it: while the partner is active, every trust "
        "has one trusted exposure to it a month.",
        source="case (Virginia Mason taught its production system's methods)",
    )
    mandated_month: int = param(
        -1,
        "Month the regulator mandates it for every trust (-1: never).",
        lo=-1,
        hi=MAX_MONTHS,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Distribution:
    """How one attribute is spread over the trusts of a generated population.

    A beta distribution rescaled to [low, high], with the given mean and standard deviation: a
    bounded, unimodal spread fixed by four numbers a reader can check. ``sd = 0`` gives every
    trust the mean.
    """

    mean: float = param(0.5, "Mean over trusts.", lo=0, hi=1)
    sd: float = param(
        0.0, "Standard deviation over trusts (0: every trust at the mean).", lo=0, hi=1
    )
    low: float = param(0.0, "Smallest value a trust can have.", lo=0, hi=1)
    high: float = param(1.0, "Largest value a trust can have.", lo=0, hi=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Population:
    """A generated population of trusts in regional networks, instead of a list of trusts.

    The trusts are a function of this table alone (its own seed, not the run's), so every run of
    a scenario simulates the same trusts, and paired runs compare like with like.
    """

    trusts: int = param(
        0,
        "Number of trusts to generate; 0: the scenario lists its trusts under [[trusts]]. "
        "Generated trusts are named T001, T002, ... and replace the default trusts.",
        lo=0,
        hi=MAX_GENERATED_TRUSTS,
    )
    regions: int = param(
        0,
        "Number of regional networks the trusts are divided into; 0: as few as keep every "
        "region within region_size (one region when the trusts fit in one). Regions are named "
        "R01, R02, ...",
        lo=0,
        hi=MAX_GENERATED_TRUSTS,
    )
    region_size: tuple[int, int] = param(
        (3, 8),
        "Smallest and largest number of trusts in a region; sizes are drawn between them "
        "(at least 2: a trust alone in its region has no peers).",
        lo=2,
        hi=MAX_GENERATED_TRUSTS,
        source="assumption (integrated care systems have about 3-10 trusts)",
    )
    seed: int = param(
        1,
        "Seed of the population (not of the run): the same trusts in every run.",
        lo=0,
        hi=2**63 - 1,
    )
    readiness: Distribution = param(
        Distribution(mean=0.55, sd=0.15, low=0.2, high=0.9),
        "Spread of readiness (A) over the trusts.",
        source="assumption (the case's five trusts span 0.3-0.8)",
    )
    initial_coverage: Distribution = param(
        Distribution(mean=0.06, sd=0.015, low=0.02, high=0.1),
        "Spread over the trusts of their mean initial training coverage.",
        source="MODEL.md §2 (initial 0.02-0.1)",
    )
    quality: Distribution = param(
        Distribution(mean=0.55, sd=0.03, low=0.45, high=0.65),
        "Spread of initial true quality over the trusts.",
        source="assumption (the case's five trusts span 0.5-0.6)",
    )


DEFAULT_TRUSTS: tuple[TrustSpec, ...] = (
    TrustSpec(name="Trust A", readiness=0.8, quality=0.6),
    TrustSpec(name="Trust B", readiness=0.65, quality=0.55),
    TrustSpec(name="Trust C", readiness=0.55, quality=0.55),
    TrustSpec(name="Trust D", readiness=0.45, quality=0.5),
    TrustSpec(name="Trust E", readiness=0.3, quality=0.5),
)

DEFAULT_PRACTICES: tuple[PracticeSpec, ...] = (
    PracticeSpec(
        name="training_heat_map",
        origin="Trust B",
        introduced_month=18,
        targets_training=True,
        benefit=0.002,
    ),
    PracticeSpec(
        name="daily_huddles",
        origin="Trust A",
        introduced_month=6,
        benefit=0.005,
        complexity=2,
        taught_by_partner=True,
    ),
    PracticeSpec(
        name="rapid_improvement_workshops",
        origin="Trust A",
        introduced_month=12,
        benefit=0.008,
        complexity=2,
        taught_by_partner=True,
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A complete, validated description of one simulated world.

    Build one with :func:`load_scenario`; derive variants with :meth:`with_overrides`.
    """

    scenario: Meta = param(Meta(), "Name and horizon.")
    governance: Governance = param(Governance(), "Governance rule and its parameters.")
    regulator: Regulator = param(Regulator(), "The regulator.")
    pressure: Pressure = param(Pressure(), "External pressure.")
    trust_dynamics: TrustDynamics = param(TrustDynamics(), "Trust dynamics.")
    problems: Problems = param(Problems(), "Problems and disclosure.")
    safety: Safety = param(Safety(), "Psychological safety.")
    posture: Posture = param(Posture(), "Motivational postures.")
    enforcement: Enforcement = param(Enforcement(), "Enforcement and gaming.")
    energy: Energy = param(Energy(), "Improvement energy.")
    quality: Quality = param(Quality(), "Quality of care.")
    adoption: Adoption = param(Adoption(), "Adoption of practices.")
    training: Training = param(Training(), "Training and the heat map.")
    partner: Partner = param(Partner(), "Improvement partner.")
    population: Population = param(Population(), "A generated population of trusts.")
    trusts: tuple[TrustSpec, ...] = param(
        DEFAULT_TRUSTS,
        "The provider organisations; generated from [population] when population.trusts > 0.",
    )
    practices: tuple[PracticeSpec, ...] = param(DEFAULT_PRACTICES, "The catalogue of practices.")

    @property
    def months(self) -> int:
        """The horizon in months."""
        return self.scenario.months

    @property
    def name(self) -> str:
        """The scenario's human-readable name."""
        return self.scenario.name

    @property
    def trust_names(self) -> tuple[str, ...]:
        """Names of the trusts, in order."""
        return tuple(t.name for t in self.trusts)

    @property
    def practice_names(self) -> tuple[str, ...]:
        """Names of the practices, in order."""
        return tuple(p.name for p in self.practices)

    @property
    def region_names(self) -> tuple[str, ...]:
        """Names of the regions, in order of first appearance among the trusts."""
        return tuple(dict.fromkeys(t.region for t in self.trusts))

    def _repr_html_(self) -> str:
        """A short description for notebooks (``relsim show`` prints every parameter)."""
        trusts = ", ".join(html.escape(f"{t.name} ({t.readiness:.2f})") for t in self.trusts[:8])
        more = f", … ({len(self.trusts)} in all)" if len(self.trusts) > 8 else ""
        practices = ", ".join(
            html.escape(f"{p.name.replace('_', ' ')} (from {p.origin}, month {p.introduced_month})")
            for p in self.practices
        )
        return (
            f"<p><strong>{html.escape(self.name)}</strong>: {self.months} months, "
            f"{html.escape(self.governance.mode)} governance, {len(self.trusts)} trusts.</p>"
            f"<ul><li>Trusts (readiness): {trusts}{more}</li>"
            f"<li>Practices: {practices}</li>"
            f"<li>Hash: <code>{self.digest()[:16]}</code>; every parameter: "
            "<code>relsim show</code> or <code>.to_dict()</code></li></ul>"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as plain nested dicts and lists (TOML/JSON-ready).

        Generated trusts are not listed: the ``population`` table generates them again, so the
        dict reads back as the same scenario and stays short.
        """
        data: dict[str, Any] = _plain(self)
        if self.population.trusts:
            data["trusts"] = []
        return data

    def digest(self) -> str:
        """Return a SHA-256 hash of the resolved scenario, for provenance."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """Turn dataclasses and tuples into dicts and lists, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
