"""Terminal output and its language.

Rich on a terminal (tables wrap their cells at word boundaries to the terminal's width); wide,
unwrapped lines when piped, so scripts can grep them. Vietnamese by default, English with
``--lang en``: the words of tables and statuses come from :data:`WORDS`, one place for both.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from bhyt.assessment.outcome import STATUS_NAMES

PIPED_WIDTH = 240

Lang = Annotated[
    Literal["vi", "en"],
    typer.Option("--lang", help="Language of the output: vi (default) or en.", case_sensitive=False),
]


# key: (Vietnamese, English). Statuses of intake receipts and assessed claims, and table headings.
WORDS: dict[str, tuple[str, str]] = STATUS_NAMES | {
    "duplicate": ("trùng", "duplicate"),
    "new_version": ("phiên bản mới", "new version"),
    "withdrawn": ("rút hồ sơ", "withdrawn"),
    "status": ("trạng thái", "status"),
    "first finding": ("lỗi đầu tiên", "first finding"),
    "HOSO": ("hồ sơ", "HOSO"),
    "Intake": ("Tiếp nhận hồ sơ", "Intake"),
    "claims": ("hồ sơ", "claims"),
    "claimed (VND)": ("đề nghị (đồng)", "claimed (VND)"),
    "assessed (VND)": ("giám định (đồng)", "assessed (VND)"),
    "fund pays (VND)": ("quỹ chi trả (đồng)", "fund pays (VND)"),
    "reduced (VND)": ("giảm trừ (đồng)", "reduced (VND)"),
    "rule": ("quy tắc", "rule"),
    "title": ("nội dung", "title"),
    "legal basis": ("căn cứ", "legal basis"),
    "severity": ("mức độ", "severity"),
    "findings": ("phát hiện", "findings"),
    "facility": ("cơ sở KCB", "facility"),
    "Assessment": ("Giám định", "Assessment"),
    "claimed fund (VND)": ("quỹ đề nghị (đồng)", "claimed fund (VND)"),
    "assessed fund (VND)": ("quỹ chi sau giám định (đồng)", "assessed fund (VND)"),
    "reduction (VND)": ("giảm trừ (đồng)", "reduction (VND)"),
    "Largest reductions by rule": ("Giảm trừ lớn nhất theo quy tắc", "Largest reductions by rule"),
    "code": ("mã", "code"),
    "scope": ("phạm vi", "scope"),
    "needs": ("cần dữ liệu", "needs"),
    "by": ("theo", "by"),
    "key": ("nhóm", "key"),
    "baseline fund": ("quỹ chi hiện hành", "baseline fund"),
    "scenario fund": ("quỹ chi theo kịch bản", "scenario fund"),
    "difference": ("chênh lệch", "difference"),
    "What-if": ("Mô phỏng chính sách", "What-if"),
    "dataset": ("bảng", "dataset"),
    "rows": ("số dòng", "rows"),
    "what": ("nội dung", "what"),
    "Registry loaded": ("Đã nạp cơ sở dữ liệu hộ gia đình và thẻ", "Registry loaded"),
    "into": ("vào", "into"),
    "facilities": ("cơ sở KCB", "facilities"),
    "employers": ("đơn vị sử dụng lao động", "employers"),
    "households": ("hộ gia đình", "households"),
    "people": ("người", "people"),
    "participations": ("quá trình tham gia", "participations"),
    "cards": ("thẻ", "cards"),
    "payments": ("khoản đóng", "payments"),
    "paying unit": ("đơn vị đóng", "paying unit"),
    "list": ("danh sách", "list"),
    "citizen ID": ("số định danh", "citizen ID"),
    "group": ("đối tượng", "group"),
    "on": ("từ ngày", "on"),
    "increase": ("tăng", "increase"),
    "decrease": ("giảm", "decrease"),
    "Increases and decreases": ("Danh sách tăng, giảm", "Increases and decreases"),
    "funding": ("nguồn đóng", "funding"),
    "units": ("đơn vị", "units"),
    "due": ("phải đóng", "due"),
    "paid": ("đã đóng", "paid"),
    "outstanding": ("còn nợ", "outstanding"),
    "rate": ("tỷ lệ", "rate"),
    "pay.paid": ("đã đóng đủ", "paid"),
    "pay.late": ("đóng chậm", "late"),
    "pay.partial": ("đóng thiếu", "partial"),
    "pay.unpaid": ("chưa đóng", "unpaid"),
    "pay.nothing_due": ("không phải đóng", "nothing due"),
    "Contributions (VND)": ("Thu BHYT (đồng)", "Contributions (VND)"),
    "name": ("tên", "name"),
    "Largest arrears": ("Nợ đọng lớn nhất", "Largest arrears"),
    "at": ("thời điểm", "at"),
    "subject": ("người truy cập", "subject"),
    "role": ("vai trò", "role"),
    "action": ("thao tác", "action"),
    "target": ("đối tượng dữ liệu", "target"),
    "purpose": ("mục đích", "purpose"),
    "outcome": ("kết quả", "outcome"),
    "allowed": ("cho phép", "allowed"),
    "denied": ("từ chối", "denied"),
    "not_found": ("không tìm thấy", "not found"),
    "refused": ("bị từ chối", "refused"),
    "Audit log": ("Nhật ký truy cập", "Audit log"),
    "rank": ("hạng", "rank"),
    "claim": ("hồ sơ", "claim"),
    "risk": ("rủi ro", "risk"),
    "at risk (VND)": ("tiền rủi ro (đồng)", "at risk (VND)"),
    "patterns": ("hành vi", "patterns"),
    "why": ("lý do", "why"),
    "Claims to review": ("Hồ sơ cần giám định", "Claims to review"),
    "level": ("tuyến", "level"),
    "flagged": ("tỷ lệ cảnh báo", "flagged"),
    "Facilities to review": ("Cơ sở KCB cần giám định", "Facilities to review"),
    "skipped_checks": (
        "không có --catalogue / --registry nên một số kiểm tra bị bỏ qua (xem phát hiện checks.skipped)",
        "without --catalogue / --registry some checks were skipped (see the checks.skipped finding)",
    ),
}


def word(key: str, lang: str) -> str:
    """``key`` in ``lang`` (the key itself when it has no entry)."""
    pair = WORDS.get(key)
    return key if pair is None else pair[0 if lang == "vi" else 1]


def table(*columns: str, title: str | None = None, lang: str = "vi") -> Table:
    """A table whose headings are in ``lang`` and whose cells wrap at words (never cut) to fit."""
    t = Table(title=word(title, lang) if title else None)
    for c in columns:
        t.add_column(word(c, lang), overflow="fold")
    return t


def console(stderr: bool = False) -> Console:
    """A console for one command; created per call so it sees the streams in use at that moment.
    Piped, lines are as wide as ``COLUMNS`` says, else :data:`PIPED_WIDTH`."""
    c = Console(stderr=stderr)
    if not c.is_terminal:
        width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else PIPED_WIDTH
        c = Console(stderr=stderr, soft_wrap=True, width=width)
    return c
