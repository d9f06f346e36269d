"""The HTML report of a detection run: score distributions, top facilities, money at risk by pattern,
the head of the worklist and, with labels, the evaluation. Inline SVG, no scripts."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from bhyt.assessment.report import bars
from bhyt.fraud.detect import HIGH_RISK, Detection
from bhyt.fraud.evaluate import BUDGETS, Evaluation
from bhyt.fraud.patterns import PATTERNS


def _histogram(title: str, values: np.ndarray[Any, np.dtype[np.float64]], bins: int = 20) -> str:
    counts, _ = np.histogram(values, bins=bins, range=(0.0, 1.0))
    items = [(f"{i / bins:.2f}–{(i + 1) / bins:.2f}", int(c)) for i, c in enumerate(counts)]
    return bars(title, items, "claims")


def _money_by_pattern(d: Detection) -> list[tuple[str, int]]:
    money = d.at_risk
    out = [(p.code, round(float(money[d.hits[p.code]].sum()))) for p in PATTERNS]
    return sorted(out, key=lambda kv: -kv[1])


def _evaluation(ev: Evaluation) -> str:
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{n:,}</td>"
        + "".join(f"<td>{ev.model.recall_vs_clean[k][b]:.3f}</td><td>{ev.baseline.recall_vs_clean[k][b]:.3f}</td>"
                  for b in BUDGETS)
        + f"<td>{ev.model.recall_by_kind[k][0.05]:.3f}</td>"
        + "</tr>"
        for k, n in sorted(ev.kinds.items())
    )  # fmt: skip
    head = "".join(f"<th>recall top {b:.0%}</th><th>baseline</th>" for b in BUDGETS) + "<th>all claims: top 5%</th>"
    m, b = ev.model, ev.baseline
    return f"""<h2>Evaluation against the labels</h2>
<p id="evaluation">{ev.claims:,} claims, {ev.positives:,} labelled. Model: ROC-AUC {m.roc_auc:.4f},
PR-AUC {m.pr_auc:.4f},
precision top 1% {m.precision[0.01]:.3f}, recall top 1% {m.recall[0.01]:.3f}, top 5% {m.recall[0.05]:.3f},
abusive money in the top 1% {m.money_top1:.1%}. Baseline (cost z-score): ROC-AUC {b.roc_auc:.4f},
recall top 1% {b.recall[0.01]:.3f}, top 5% {b.recall[0.05]:.3f}. The data are synthetic and the abuse was
injected by known rules: real claims are harder.</p>
<table><tr><th>kind</th><th>claims</th>{head}</tr>{rows}</table>"""


def render(d: Detection, source: str, ev: Evaluation | None = None, top: int = 50) -> str:
    claims = "".join(
        f"<tr><td>{c['rank']}</td><td>{escape(c['facility'])}</td><td>{escape(c['claim_id'])}</td>"
        f"<td>{c['risk']:.3f}</td><td>{c['at_risk']:,}</td><td>{escape(', '.join(c['patterns']))}</td>"
        f"<td>{escape('; '.join(c['explanations'] or c['reasons']))}</td></tr>"
        for c in d.claims[:top]
    )
    facilities = "".join(
        f"<tr><td>{f['rank']}</td><td>{escape(f['facility'])}</td><td>{escape(str(f['level']))}</td>"
        f"<td>{f['claims']:,}</td><td>{f['at_risk']:,}</td><td>{f['flagged_share']:.1%}</td>"
        f"<td>{escape(', '.join(f['top_patterns']))}</td></tr>"
        for f in d.facilities[:15]
    )
    at_risk = round(float(d.at_risk.sum()))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BHYT abuse detection report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child{{text-align:left}}</style></head>
<body><h1>Abuse detection report</h1>
<p>Assessment run: {escape(source)}</p>
<p id="totals">{d.features.num_rows:,} claims scored; {int((d.risk >= HIGH_RISK).sum()):,} at risk {HIGH_RISK} or more;
expected amount at risk {at_risk:,} VND.</p>
{_histogram("Risk score distribution", d.risk)}
{_histogram("Anomaly percentile distribution", d.anomaly)}
{bars("Expected money at risk by pattern (VND)", _money_by_pattern(d), "VND")}
{bars("Facilities by expected money at risk (VND, top 15)", [(f["facility"], f["at_risk"]) for f in d.facilities[:15]],
       "VND")}
<h2>Facilities to review</h2>
<table><tr><th>rank</th><th>facility</th><th>level</th><th>claims</th><th>at risk (VND)</th><th>flagged</th>
<th>patterns</th></tr>{facilities}</table>
<h2>Claims to review (top {min(top, len(d.claims))})</h2>
<table id="worklist"><tr><th>rank</th><th>facility</th><th>claim</th><th>risk</th><th>at risk (VND)</th>
<th>patterns</th>
<th>why</th></tr>{claims}</table>
{_evaluation(ev) if ev is not None else ""}
</body></html>
"""  # fmt: skip
