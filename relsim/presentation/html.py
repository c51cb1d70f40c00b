"""The pieces of relsim's self-contained HTML reports: escaping, tables, inline SVG, the page.

Shared by the sweep report (:mod:`relsim.presentation.report`) and the calibration report
(:mod:`relsim.presentation.calibration_report`): one look, no scripts, no external links.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure


def escape(value: Any) -> str:
    """``value`` as text safe inside HTML (quotes included)."""
    return html.escape(str(value), quote=True)


def table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, cls: str = "", raw: bool = False
) -> str:
    """An HTML table; cells are escaped unless ``raw``."""
    cell = (lambda x: x) if raw else escape
    head = "".join(f"<th>{cell(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>\n" for row in rows)
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list of (term, escaped HTML) pairs."""
    items = "".join(f"<dt>{escape(term)}</dt><dd>{value}</dd>\n" for term, value in pairs)
    return f'<dl class="facts">\n{items}</dl>'


_SVG_DROP = (
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*"),
    re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL),
    re.compile(r'\s+xmlns(:xlink)?="[^"]*"'),
)


_SVG_ID = re.compile(r'\bid="([^"]+)"')
_SVG_REF = re.compile(r'(href="#|url\(#)([^")]+)')


def inline_svg(fig: Figure, key: str, title: str) -> str:
    """A figure as an ``<svg>`` element to place in HTML.

    Text is drawn as paths, so the figure looks the same in every browser; the XML prologue,
    the metadata and the namespace declarations (URLs, unneeded inside HTML) are dropped; a
    fixed hash salt keeps element ids the same from one report to the next, and a prefix (the
    figure's ``key``) keeps them unique in a page that holds several figures.
    """
    buffer = io.StringIO()
    with rc_context({"svg.hashsalt": "relsim", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    for pattern in _SVG_DROP:
        svg = pattern.sub("", svg)
    # Glyph ids (e.g. DejaVuSans-41) repeat in every figure: prefix every id with the figure's
    # key, and every reference to it, so ids stay unique in the page.
    ids = set(_SVG_ID.findall(svg))
    svg = _SVG_ID.sub(lambda m: f'id="{key}-{m.group(1)}"', svg)
    svg = _SVG_REF.sub(
        lambda m: f"{m.group(1)}{key}-{m.group(2)}" if m.group(2) in ids else m.group(0), svg
    )
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1).strip()


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1a1a1a; background: #fff; margin: 0; line-height: 1.5; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.8rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem;
  margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
.kicker { text-transform: uppercase; letter-spacing: 0.08em; color: #555; font-size: 0.8rem;
  margin: 0; }
.question { font-size: 1.2rem; border-left: 4px solid #E69F00; padding: 0.4rem 0 0.4rem 1rem;
  margin: 1rem 0; }
.warning { background: #fdf1e6; border: 1px solid #D55E00; padding: 0.6rem 1rem; }
nav ol { columns: 2; padding-left: 1.2rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left;
  vertical-align: top; }
th { background: #f1f4f8; }
table.numbers td { font-variant-numeric: tabular-nums; }
table.numbers td:not(:first-child) { white-space: nowrap; }
td small, td code { color: #555; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 0.85em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1.2rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
figure { margin: 1.5rem 0 2rem; }
figure svg, figure img { width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #333; margin-top: 0.4rem; }
details { margin: 0.6rem 0; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
.seeds { font-family: ui-monospace, monospace; font-size: 0.75rem; overflow-wrap: anywhere; }
"""


def document(
    title: str, kicker: str, sections: Sequence[tuple[str, str, str]], warning: str = ""
) -> str:
    """A whole report page: a title, a table of contents, and ``(id, heading, HTML)`` sections.

    ``warning`` (HTML) is shown under the title.
    """
    nav = "".join(f'<li><a href="#{key}">{escape(head)}</a></li>' for key, head, _ in sections)
    body = "\n".join(
        f'<section id="{key}">\n<h2>{escape(head)}</h2>\n{content}\n</section>'
        for key, head, content in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>relsim report: {escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header>
<p class="kicker">{escape(kicker)}</p>
<h1>{escape(title)}</h1>
{warning}
<nav><ol>{nav}</ol></nav>
</header>
{body}
</main>
</body>
</html>
"""


__all__ = ["CSS", "document", "escape", "facts", "inline_svg", "table"]
