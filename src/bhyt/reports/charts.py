"""What every HTML report shares: charts declared in Vega-Lite through Altair and rendered to inline
SVG by vl-convert (its own bundled Vega, no browser, no network), so that a report stays one file
that opens offline with no script; the page shell; and escaping.

Reports are pure functions from results to HTML text; they import domains, nothing imports them
but the commands that write them.
"""

from __future__ import annotations

from html import escape
from typing import Literal

import altair as alt
import vl_convert as vlc

Lang = Literal["vi", "en"]

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#1a202c}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #cbd5e0;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}td.text{text-align:left}figure{margin:0 0 1.5em}
figcaption{font-weight:600;margin:.8em 0 .3em}.none{color:#4a5568}"""


def bars(title: str, items: list[tuple[str, int]], unit: str, lang: Lang = "vi") -> str:
    """A horizontal bar chart of signed values (negatives drawn left of zero, in another colour) as an
    inline SVG figure; the title is its caption and its accessible name."""
    if not items:
        none = "Không có." if lang == "vi" else "None."
        return f'<figure><figcaption>{escape(title)}</figcaption><p class="none">{none}</p></figure>'
    values = [{"label": label, "value": int(v), "sign": "−" if v < 0 else "+"} for label, v in items]
    chart = (
        alt.Chart(alt.Data(values=values))  # type: ignore[no-untyped-call]
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=unit, axis=alt.Axis(format=",d")),
            y=alt.Y("label:N", title=None, sort=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color("sign:N", scale=alt.Scale(domain=["+", "−"], range=["#2b6cb0", "#c05621"]), legend=None),
            tooltip=[alt.Tooltip("label:N"), alt.Tooltip("value:Q", format=",d")],
        )
        .properties(width=560, height=alt.Step(20))
    )
    svg = vlc.vegalite_to_svg(chart.to_json())
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)
    return f"<figure><figcaption>{escape(title)}</figcaption>{svg}</figure>"


def page(title: str, body: str, lang: Lang = "vi") -> str:
    """A whole report page: one file, styles inline, nothing fetched."""
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{escape(title)}</title><style>{STYLE}</style></head>
<body><h1>{escape(title)}</h1>
{body}
</body></html>
"""


def table(headings: list[str], rows: list[list[str]], table_id: str | None = None) -> str:
    """An HTML table; cells are escaped here, so callers pass plain text."""
    ident = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table{ident}><tr>{head}</tr>{body}</table>"
