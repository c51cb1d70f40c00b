"""The trust network view: who trusts whom, in a picture that stays legible at forty trusts.

The regulator sits in the middle and the trusts on a ring around it, in the order of their
regions. Each trust's circle is coloured by how much it trusts the regulator; each spoke by how
much the regulator trusts that trust; and a line between two trusts by how much they trust each
other (both directions averaged), thicker and yellower for more trust. On a board of up to
:data:`ALL_TIES` trusts every pair is drawn; on a larger one only each trust's
:data:`STRONGEST` strongest ties, and by default not the spokes, so that the picture shows
structure rather than a solid disc (:data:`LINES` are the choices). Names are written next to
the circles up to :data:`NAMED` trusts, and shown on hover always.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import altair as alt
import numpy as np

from relsim.dashboard.widget import Columns, Template
from relsim.presentation.figures import OKABE_ITO

if TYPE_CHECKING:
    from relsim.model.mesa_model import RegulationModel

#: Boards of at most this many trusts show every tie between trusts.
ALL_TIES = 8
#: On larger boards, each trust's strongest ties shown.
STRONGEST = 2
#: Boards of at most this many trusts have their names written on the chart.
NAMED = 12
DATA = "table"
#: Which lines to draw: the kinds of line each choice shows.
LINES: dict[str, tuple[str, ...]] = {
    "all lines": ("tie", "spoke"),
    "trust – trust": ("tie",),
    "regulator – trust": ("spoke",),
}


def default_lines(trusts: int) -> str:
    """Both kinds of line on a small board; on a large one, the ties between trusts."""
    return "all lines" if trusts <= ALL_TIES else "trust – trust"


def extent(trusts: int) -> float:
    """Half the drawing's height, in ring radii: room for names outside the ring if written."""
    return 1.45 if trusts <= NAMED else 1.12


def ring(n: int) -> np.ndarray:
    """Positions of ``n`` trusts on a circle around the regulator, the first at the top."""
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    return np.column_stack([np.cos(angles), np.sin(angles)])


def peer_ties(peer: np.ndarray) -> list[tuple[int, int]]:
    """The pairs of trusts drawn: every pair on a small board, else each one's strongest ties.

    Args:
        peer: Mutual trust between trusts (symmetric, n × n; the diagonal is ignored).
    """
    n = peer.shape[0]
    if n <= ALL_TIES:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    ranked = np.where(np.eye(n, dtype=bool), -np.inf, peer)
    strongest = np.argsort(-ranked, axis=1, kind="stable")[:, :STRONGEST]
    return sorted({(min(i, int(j)), max(i, int(j))) for i in range(n) for j in strongest[i]})


def network_columns(panel: RegulationModel, month: int, lines: str = "all lines") -> Columns:
    """The network of one panel at ``month``: nodes and the lines chosen (a key of LINES)."""
    names = list(panel.config.trust_names)
    n = len(names)
    trust = panel.history.relationships[month]  # actor 0 is the regulator
    position = ring(n)
    peer = (trust[1:, 1:] + trust[1:, 1:].T) / 2
    to_regulator, from_regulator = trust[1:, 0], trust[0, 1:]
    named = n <= NAMED
    out: Columns = {
        key: []
        for key in ("kind", "x", "y", "x2", "y2", "trust", "name", "to", "label", "lx", "ly")
    }

    def add(kind: str, a: np.ndarray, b: np.ndarray, value: float, name: str, to: str) -> None:
        out["kind"].append(kind)
        out["x"].append(round(float(a[0]), 4))
        out["y"].append(round(float(a[1]), 4))
        out["x2"].append(round(float(b[0]), 4))
        out["y2"].append(round(float(b[1]), 4))
        out["trust"].append(round(float(value), 3))
        out["name"].append(name)
        out["to"].append(to)
        out["label"].append(name if kind == "trust" and named else "")
        out["lx"].append(round(float(a[0]) * 1.22, 4))
        out["ly"].append(round(float(a[1]) * 1.22, 4))

    centre = np.zeros(2)
    if "tie" in LINES[lines]:
        for i, j in peer_ties(peer):
            add("tie", position[i], position[j], peer[i, j], names[i], names[j])
    if "spoke" in LINES[lines]:
        for i in range(n):
            add("spoke", centre, position[i], from_regulator[i], "regulator", names[i])
    for i in range(n):
        add("trust", position[i], position[i], to_regulator[i], names[i], "regulator")
    add("regulator", centre, centre, 1.0, "regulator", "")
    return out


@cache
def network_template(trusts: int) -> Template:
    """The network drawing for a board of ``trusts`` trusts (node size shrinks as it grows)."""
    base = alt.Chart(alt.NamedData(name=DATA))
    hidden = alt.Axis(grid=False, domain=False, ticks=False, labels=False, title=None)
    # Equal units across and up, whatever the card's width: a ring stays a circle.
    half = extent(trusts)
    across = f"[-{half} * width / height, {half} * width / height]"
    x_scale = alt.Scale(domain=alt.ExprRef(across), nice=False, zero=False)
    y_scale = alt.Scale(domain=[-half, half], nice=False, zero=False)
    x = alt.X("x:Q", axis=hidden, scale=x_scale)
    y = alt.Y("y:Q", axis=hidden, scale=y_scale)
    colour = alt.Color(
        "trust:Q",
        title="trust (0 none, 1 complete)",
        scale=alt.Scale(scheme="viridis", domain=[0, 1]),
        legend=alt.Legend(orient="bottom", columns=6),
    )
    # Width shows trust too, in pixels without a scale (so without a second legend).
    width = alt.StrokeWidth("width:Q", scale=None)
    lines = (
        base.transform_filter((alt.datum.kind == "tie") | (alt.datum.kind == "spoke"))
        .transform_calculate(width="0.5 + 5.5 * datum.trust")
        .mark_rule(strokeCap="round", opacity=0.85)
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y2:Q",
            color=colour,
            strokeWidth=width,
            tooltip=[
                alt.Tooltip("name:N", title="from"),
                alt.Tooltip("to:N", title="to"),
                alt.Tooltip("trust:Q", format=".2f"),
            ],
        )
    )
    size = max(60, 700 - 16 * trusts)
    trusts_ = (
        base.transform_filter(alt.datum.kind == "trust")
        .mark_circle(size=size, opacity=1, stroke="white", strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            color=colour,
            tooltip=[
                alt.Tooltip("name:N", title="trust"),
                alt.Tooltip("trust:Q", format=".2f", title="its trust in the regulator"),
            ],
        )
    )
    regulator = (
        base.transform_filter(alt.datum.kind == "regulator")
        .mark_circle(size=size * 1.6, opacity=1, color=OKABE_ITO["vermillion"], stroke="white")
        .encode(x=x, y=y, tooltip=[alt.Tooltip("name:N", title="")])
    )
    labels = (
        base.transform_filter(alt.datum.label != "")
        .mark_text(fontWeight="bold")
        .encode(
            x=alt.X("lx:Q", axis=hidden, scale=x_scale),
            y=alt.Y("ly:Q", axis=hidden, scale=y_scale),
            text="label:N",
        )
    )
    return Template.of(alt.layer(lines, trusts_, regulator, labels))
