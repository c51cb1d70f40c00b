"""The ten-minute lesson plan: what to do on the page, and what to ask the class.

Written once, here: the page's Info tab shows it to students, and the README's "For teachers"
section carries the same table (a test checks that the two agree). The browser test follows it
step by step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One step of the lesson.

    Attributes:
        minutes: When, e.g. ``"0–2"``.
        do: What to do on the page (Markdown).
        ask: What to ask the class (Markdown).
    """

    minutes: str
    do: str
    ask: str


LESSON: tuple[Step, ...] = (
    Step(
        "0–2",
        "Preset *NHS–VMI partnership 2015–2020*, tick *Twin*, press *Reset*. Type 12 in "
        "*Pause at month* and press *▶ Play*.",
        "Which picture shows more trust, and between whom? Why does trust grow so slowly?",
    ),
    Step(
        "2–4",
        "Set *Pause at month* to 30 and press *▶ Play*. Point at the *Trust network*, the "
        "dashed *compact* line on the charts and the compact's row in the table.",
        "What changed when the compact came into force? Where are problems told early, and "
        "where do they come out as surprises?",
    ),
    Step(
        "4–6",
        "In the *Training heat map* card choose a trust that is not Trust B; pause at month 45 "
        "and play. Drag *Look back* to see an earlier month.",
        "Did the heat map spread to this trust? Compare its picture in the two twins: where is "
        "training evening out?",
    ),
    Step(
        "6–8",
        "Choose preset *Pressure shock in year 3* (twin stays on): its shock hits in month 27; "
        "pause at month 40 and play. On any other preset, *Pressure shock now* does the same at "
        "a moment you choose.",
        "Which twin's trust held up better under the shock, and what does the compact have to "
        "do with it?",
    ),
    Step(
        "8–10",
        "Untick *Board negotiates a compact* (or set *Trust lost faster than gained* to 5×), "
        "press *Reset*, play to the end. Then change only the *Seed* and press *Reset*: the "
        "previous run stays on the charts, dashed.",
        "Which conclusions survived a different assumption, or a different seed? What would it "
        "take to scale a board to fifty trusts? (Try *Trusts on the board* = 20.)",
    ),
)


def lesson_table(lesson: tuple[Step, ...] = LESSON) -> str:
    """The lesson plan as a Markdown table (minutes, do, ask the class)."""
    rows = ["| minutes | do | ask the class |", "|---|---|---|"]
    rows += [f"| {step.minutes} | {step.do} | {step.ask} |" for step in lesson]
    return "\n".join(rows)
