"""The HTML report of one assessment run: figures, charts (inline SVG, no scripts) and tables."""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

from bhyt.assessment.outcome import largest_reductions


def bars(title: str, items: list[tuple[str, int]], unit: str) -> str:
    """A horizontal bar chart as inline SVG."""
    if not items:
        return f"<h2>{escape(title)}</h2><p>None.</p>"
    top = max(abs(v) for _, v in items) or 1
    height = 22 * len(items) + 10
    parts = []
    for i, (label, value) in enumerate(items):
        width = int(460 * abs(value) / top)
        y = 5 + 22 * i
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{escape(label)}</text>'
            f'<rect x="260" y="{y}" width="{width}" height="16" fill="#2b6cb0"><title>{value:,} {unit}</title></rect>'
            f'<text x="{265 + width}" y="{y + 14}" font-size="12">{value:,}</text>'
        )
    return (
        f'<h2>{escape(title)}</h2><svg role="img" aria-label="{escape(title)}" width="900" height="{height}">'
        + "".join(parts)
        + "</svg>"
    )


def render(rows: list[dict[str, Any]], facilities: list[dict[str, Any]], by_rule: list[tuple[str, int, int]],
           source: str, what_if: list[tuple[str, str, int, int]] | None = None) -> str:  # fmt: skip
    statuses = Counter(r["status"] for r in rows)
    claimed = sum(r["claimed_fund"] for r in rows)
    assessed = sum(r["assessed_fund"] for r in rows)
    worst = largest_reductions(facilities, 15)
    table_rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{c:,}</td><td>{a:,}</td><td>{c - a:,}</td></tr>" for k, _, c, a in worst
    )
    rule_rows = "".join(f"<tr><td>{escape(r)}</td><td>{n:,}</td><td>{v:,}</td></tr>" for r, n, v in by_rule)
    whatif = ""
    if what_if:
        cells = "".join(
            f"<tr><td>{escape(kind)}</td><td>{escape(key)}</td><td>{b:,}</td><td>{s:,}</td><td>{s - b:,}</td></tr>"
            for kind, key, b, s in what_if
        )
        whatif = (
            "<h2>What-if: fund cost by group and facility</h2><table><tr><th>by</th><th>key</th><th>baseline</th>"
            f"<th>scenario</th><th>difference</th></tr>{cells}</table>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BHYT assessment report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1000px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child{{text-align:left}}</style></head>
<body><h1>Assessment report</h1>
<p>Source: {escape(source)}</p>
<p id="totals">{len(rows):,} claims; claimed from the fund {claimed:,} VND; assessed {assessed:,} VND;
reduction {claimed - assessed:,} VND.</p>
{bars("Claims by status", sorted(statuses.items()), "claims")}
{bars("Reduction by rule (VND)", [(r, v) for r, _, v in by_rule[:15]], "VND")}
{bars("Reduction by facility (VND, top 15)", [(k, c - a) for k, _, c, a in worst], "VND")}
<h2>Facilities with the largest reduction</h2>
<table><tr><th>facility</th><th>claimed</th><th>assessed</th><th>reduction</th></tr>{table_rows}</table>
<h2>Reduction by rule</h2><table><tr><th>rule</th><th>claims</th><th>VND</th></tr>{rule_rows}</table>
{whatif}
</body></html>
"""
