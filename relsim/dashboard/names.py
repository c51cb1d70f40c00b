"""What the dashboard calls things: plain words for students, never a code name.

Scenario files and the model name governance rules and practices in snake_case
(``network_administrative_organisation``, ``training_heat_map``); a student should read
"Network administrative organisation" and "training heat map". Presets are called by their
scenario's own ``name`` ("Pressure shock in year 3").

The governance rules offered are the scenario schema's :data:`~relsim.scenario.GOVERNANCE_MODES`
(the model's registry), so a rule added to the model appears on the page; a rule without a
description below is shown by its name in words.
"""

from __future__ import annotations

from relsim.scenario import GOVERNANCE_MODES

#: What some governance rules are, in a few words, as the governance menu shows them.
GOVERNANCE_DESCRIPTIONS: dict[str, str] = {
    "hierarchical": "targets and terror",
    "responsive": "persuade first, escalate on non-compliance",
    "hybrid": "the board inside target regulation, as in the case",
    "networked": "one shared board, no reviews",
    "regional_boards": "one board per region",
    "lead_organisation": "one trust convenes each region",
    "network_administrative_organisation": "a convener",
    "national_learning_network": "regional boards linked",
}


def governance_name(mode: str) -> str:
    """A governance rule's short name in words, as a legend or a panel's title shows it."""
    return mode.replace("_", " ").capitalize()


def governance_long_name(mode: str) -> str:
    """A governance rule's name with what it is, as the governance menu shows it."""
    about = GOVERNANCE_DESCRIPTIONS.get(mode)
    return f"{governance_name(mode)}: {about}" if about else governance_name(mode)


def governance_choices() -> dict[str, str]:
    """The governance menu: long name → rule, for every rule the schema allows, in its order."""
    return {governance_long_name(mode): mode for mode in GOVERNANCE_MODES}
