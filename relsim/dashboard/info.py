"""The Info tab: what the model is, how it works, how to use the page, the lesson, sources.

In the spirit of NetLogo's Info tab, written for students. The text is ``info.md`` beside this
module, with the lesson plan (:mod:`relsim.dashboard.lesson`) put in its place; it is turned into
HTML on the server with Python-Markdown (Solara's own Markdown component would fetch a diagram
library from the internet, which a classroom may not have).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import markdown
import solara

from relsim.dashboard.lesson import lesson_table

INFO = Path(__file__).with_name("info.md")


@cache
def info_html() -> str:
    """The Info tab's text as HTML."""
    text = INFO.read_text(encoding="utf-8").replace("{lesson}", lesson_table())
    return markdown.markdown(text, extensions=["tables"])


@solara.component
def InfoTab() -> None:
    """The Info tab."""
    solara.HTML(tag="div", unsafe_innerHTML=info_html(), classes=["relsim-info"])
