"""The HTML report of a detection run: score distributions, top facilities, money at risk by pattern,
the head of the worklist and, with labels, the evaluation; Vietnamese by default or English."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from bhyt.fraud.detect import HIGH_RISK, Detection
from bhyt.fraud.evaluate import BUDGETS, Evaluation
from bhyt.fraud.patterns import PATTERNS
from bhyt.fraud.service import Outcome
from bhyt.reports.charts import Lang, bars, page, table

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Báo cáo phát hiện lạm dụng, trục lợi", "Abuse detection report"),
    "source": ("Lượt giám định", "Assessment run"),
    "totals": (
        "{n:,} hồ sơ được chấm điểm; {high:,} hồ sơ có điểm rủi ro từ {cut} trở lên; "
        "số tiền rủi ro kỳ vọng {money:,} đồng.",
        "{n:,} claims scored; {high:,} at risk {cut} or more; expected amount at risk {money:,} VND.",
    ),
    "risk": ("Phân bố điểm rủi ro", "Risk score distribution"),
    "anomaly": ("Phân bố bách phân vị bất thường", "Anomaly percentile distribution"),
    "by_pattern": ("Số tiền rủi ro kỳ vọng theo hành vi (đồng)", "Expected money at risk by pattern (VND)"),
    "by_facility": (
        "Cơ sở KCB theo số tiền rủi ro kỳ vọng (đồng, 15 cơ sở)",
        "Facilities by expected money at risk (VND, top 15)",
    ),
    "facilities": ("Cơ sở KCB cần giám định", "Facilities to review"),
    "claims_top": ("Hồ sơ cần giám định ({n} hồ sơ đầu)", "Claims to review (top {n})"),
    "claims": ("hồ sơ", "claims"),
    "vnd": ("đồng", "VND"),
    "rank": ("hạng", "rank"),
    "facility": ("cơ sở KCB", "facility"),
    "level": ("tuyến", "level"),
    "at_risk": ("tiền rủi ro (đồng)", "at risk (VND)"),
    "flagged": ("tỷ lệ cảnh báo", "flagged"),
    "patterns": ("hành vi", "patterns"),
    "claim": ("hồ sơ", "claim"),
    "score": ("điểm rủi ro", "risk"),
    "why": ("lý do", "why"),
    "evaluation": ("Đánh giá so với nhãn", "Evaluation against the labels"),
    "kind": ("loại", "kind"),
    "synthetic": (
        "Dữ liệu tổng hợp: hành vi lạm dụng được cài theo quy tắc đã biết nên dễ phát hiện hơn hồ sơ thật.",
        "The data are synthetic and the abuse was injected by known rules: real claims are harder.",
    ),
}


def _t(key: str, lang: Lang) -> str:
    vi, en = TEXT[key]
    return vi if lang == "vi" else en


def _histogram(title: str, values: np.ndarray[Any, np.dtype[np.float64]], lang: Lang, bins: int = 20) -> str:
    counts, _ = np.histogram(values, bins=bins, range=(0.0, 1.0))
    items = [(f"{i / bins:.2f}–{(i + 1) / bins:.2f}", int(c)) for i, c in enumerate(counts)]
    return bars(title, items, _t("claims", lang), lang)


def _money_by_pattern(d: Detection) -> list[tuple[str, int]]:
    money = d.at_risk
    out = [(p.code, round(float(money[d.hits[p.code]].sum()))) for p in PATTERNS]
    return sorted(out, key=lambda kv: -kv[1])


def _evaluation(ev: Evaluation, lang: Lang) -> str:
    head = [_t("kind", lang), _t("claims", lang)]
    for b in BUDGETS:
        head += [f"recall top {b:.0%}", "baseline"]
    head.append("all claims: top 5%")
    rows = []
    for k, n in sorted(ev.kinds.items()):
        cells = [k, f"{n:,}"]
        for b in BUDGETS:
            cells += [f"{ev.model.recall_vs_clean[k][b]:.3f}", f"{ev.baseline.recall_vs_clean[k][b]:.3f}"]
        rows.append([*cells, f"{ev.model.recall_by_kind[k][0.05]:.3f}"])
    m, base = ev.model, ev.baseline
    return f"""<h2>{_t("evaluation", lang)}</h2>
<p id="evaluation">{ev.claims:,} claims, {ev.positives:,} labelled. Model: ROC-AUC {m.roc_auc:.4f},
PR-AUC {m.pr_auc:.4f}, precision top 1% {m.precision[0.01]:.3f}, recall top 1% {m.recall[0.01]:.3f},
top 5% {m.recall[0.05]:.3f}, abusive money in the top 1% {m.money_top1:.1%}. Baseline (cost z-score):
ROC-AUC {base.roc_auc:.4f}, recall top 1% {base.recall[0.01]:.3f}, top 5% {base.recall[0.05]:.3f}.
{_t("synthetic", lang)}</p>
{table(head, rows)}"""


def render(d: Detection, source: str, ev: Evaluation | None = None, top: int = 50, lang: Lang = "vi") -> str:
    shown = d.claims[:top]
    claims = [[str(c["rank"]), c["facility"], c["claim_id"], f"{c['risk']:.3f}", f"{c['at_risk']:,}",
               ", ".join(c["patterns"]), "; ".join(c["explanations"] or c["reasons"])] for c in shown]  # fmt: skip
    facilities = [[str(f["rank"]), f["facility"], str(f["level"]), f"{f['claims']:,}", f"{f['at_risk']:,}",
                   f"{f['flagged_share']:.1%}", ", ".join(f["top_patterns"])] for f in d.facilities[:15]]  # fmt: skip
    at_risk = round(float(d.at_risk.sum()))
    high = int((d.risk >= HIGH_RISK).sum())
    vnd = _t("vnd", lang)
    totals = _t("totals", lang).format(n=d.features.num_rows, high=high, cut=HIGH_RISK, money=at_risk)
    body = "\n".join([
        f"<p>{_t('source', lang)}: {escape(source)}</p>",
        f'<p id="totals">{totals}</p>',
        _histogram(_t("risk", lang), d.risk, lang),
        _histogram(_t("anomaly", lang), d.anomaly, lang),
        bars(_t("by_pattern", lang), _money_by_pattern(d), vnd, lang),
        bars(_t("by_facility", lang), [(f["facility"], f["at_risk"]) for f in d.facilities[:15]], vnd, lang),
        f"<h2>{_t('facilities', lang)}</h2>",
        table([_t(k, lang) for k in ("rank", "facility", "level", "claims", "at_risk", "flagged", "patterns")],
              facilities),
        f"<h2>{_t('claims_top', lang).format(n=len(shown))}</h2>",
        table([_t(k, lang) for k in ("rank", "facility", "claim", "score", "at_risk", "patterns", "why")], claims,
              "worklist"),
        _evaluation(ev, lang) if ev is not None else "",
    ])  # fmt: skip
    return page(_t("title", lang), body, lang)


def write_report(done: Outcome, source: str, lang: Lang = "vi") -> Path:
    """The run's ``report.html`` beside its other outputs; its path (also in ``done.paths``)."""
    path = done.folder / "report.html"
    path.write_text(render(done.detection, source, done.evaluation, lang=lang), encoding="utf-8")
    done.paths["report"] = path
    return path
