"""The HTML report of one assessment run: the figures, charts and tables an assessor reads, in
Vietnamese by default or English; each rule shown with its title and legal basis beside its code."""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

from bhyt.assessment.catalogue import BY_CODE
from bhyt.assessment.outcome import STATUS_NAMES, STATUSES, largest_reductions
from bhyt.reports.charts import Lang, bars, page, table

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Báo cáo giám định", "Assessment report"),
    "source": ("Nguồn", "Source"),
    "totals": (
        "{n:,} hồ sơ; đề nghị quỹ thanh toán {claimed:,} đồng; sau giám định {assessed:,} đồng; giảm trừ {cut:,} đồng.",
        "{n:,} claims; claimed from the fund {claimed:,} VND; assessed {assessed:,} VND; reduction {cut:,} VND.",
    ),
    "by_status": ("Hồ sơ theo trạng thái", "Claims by status"),
    "by_rule_chart": ("Giảm trừ theo quy tắc (đồng)", "Reduction by rule (VND)"),
    "by_facility_chart": ("Giảm trừ theo cơ sở KCB (đồng, 15 cơ sở lớn nhất)", "Reduction by facility (VND, top 15)"),
    "facilities": ("Cơ sở KCB bị giảm trừ nhiều nhất", "Facilities with the largest reduction"),
    "by_rule": ("Giảm trừ theo quy tắc", "Reduction by rule"),
    "what_if_chart": (
        "Mô phỏng: chênh lệch chi quỹ theo đối tượng (đồng)",
        "What-if: change in fund cost by group (VND)",
    ),
    "what_if": ("Mô phỏng: chi quỹ theo đối tượng và cơ sở KCB", "What-if: fund cost by group and facility"),
    "claims": ("hồ sơ", "claims"),
    "vnd": ("đồng", "VND"),
    "facility": ("cơ sở KCB", "facility"),
    "claimed": ("đề nghị", "claimed"),
    "assessed": ("sau giám định", "assessed"),
    "reduction": ("giảm trừ", "reduction"),
    "rule": ("mã quy tắc", "rule"),
    "rule_title": ("nội dung", "title"),
    "basis": ("căn cứ pháp lý", "legal basis"),
    "reason_code": ("mã lý do", "reason code"),
    "by": ("theo", "by"),
    "key": ("nhóm", "key"),
    "baseline": ("hiện hành", "baseline"),
    "scenario": ("kịch bản", "scenario"),
    "difference": ("chênh lệch", "difference"),
}


def _t(key: str, lang: Lang) -> str:
    vi, en = TEXT[key]
    return vi if lang == "vi" else en


def _rule_cells(code: str, lang: Lang) -> list[str]:
    rule = BY_CODE.get(code)
    if rule is None:
        return [code, "", "", ""]
    return [code, rule.title_vi if lang == "vi" else rule.title, rule.basis, rule.reason_code or "—"]


def render(rows: list[dict[str, Any]], facilities: list[dict[str, Any]], by_rule: list[tuple[str, int, int]],
           source: str, what_if: list[tuple[str, str, int, int]] | None = None, lang: Lang = "vi") -> str:  # fmt: skip
    statuses = Counter(r["status"] for r in rows)
    claimed = sum(r["claimed_fund"] for r in rows)
    assessed = sum(r["assessed_fund"] for r in rows)
    worst = largest_reductions(facilities, 15)
    vnd = _t("vnd", lang)
    status_items = [
        (STATUS_NAMES.get(s, (s, s))[0 if lang == "vi" else 1], statuses[s]) for s in STATUSES if statuses[s]
    ]
    totals = _t("totals", lang).format(n=len(rows), claimed=claimed, assessed=assessed, cut=claimed - assessed)
    parts = [
        f"<p>{_t('source', lang)}: {escape(source)}</p>",
        f'<p id="totals">{totals}</p>',
        bars(_t("by_status", lang), status_items, _t("claims", lang), lang),
        bars(_t("by_rule_chart", lang), [(r, v) for r, _, v in by_rule[:15]], vnd, lang),
        bars(_t("by_facility_chart", lang), [(k, c - a) for k, _, c, a in worst], vnd, lang),
        f"<h2>{_t('facilities', lang)}</h2>",
        table(
            [_t(k, lang) for k in ("facility", "claimed", "assessed", "reduction")],
            [[k, f"{c:,}", f"{a:,}", f"{c - a:,}"] for k, _, c, a in worst],
        ),
        f"<h2>{_t('by_rule', lang)}</h2>",
        table(
            [_t(k, lang) for k in ("rule", "rule_title", "basis", "reason_code", "claims", "reduction")],
            [[*_rule_cells(r, lang), f"{n:,}", f"{v:,}"] for r, n, v in by_rule],
            "by-rule",
        ),
    ]
    if what_if:
        groups = [(key, s - b) for kind, key, b, s in what_if if kind == "group"]
        parts += [
            bars(_t("what_if_chart", lang), groups, vnd, lang),
            f"<h2>{_t('what_if', lang)}</h2>",
            table(
                [_t(k, lang) for k in ("by", "key", "baseline", "scenario", "difference")],
                [[kind, key, f"{b:,}", f"{s:,}", f"{s - b:+,}"] for kind, key, b, s in what_if],
            ),
        ]
    return page(_t("title", lang), "\n".join(parts), lang)
