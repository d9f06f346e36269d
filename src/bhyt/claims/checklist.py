"""The vendor checklist's validity notes ("VALID", qd4750-validation-checks.xlsx) as checks.

The notes travel in the generated schema (``Field.check``); :data:`HANDLED` says how each kind of note
is enforced — here, by another check of the intake, or by the assessment — so a note nobody handles is
caught by a test, not forgotten. The checks here run on one HOSO's records and yield
(table, row, field, rule, detail); the parser turns them into ``checklist.*`` findings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache

from bhyt.claims import schema

SAME_AS_XML1 = "Nếu có dữ liệu thì phải giống thông tin này ở bảng 1"
PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {  # note -> (pattern a non-empty value must match, why)
    "Định dạng 9,12 ký tự số hoặc 8 ký tự bắt đầu là chữ in hoa và 7 ký tự số ở sau": (
        re.compile(r"[0-9]{9}|[0-9]{12}|[A-Z][0-9]{7}"), "9 or 12 digits, or a capital letter and 7 digits"),
    "10 ký tự dạng số": (re.compile(r"[0-9]{10}"), "10 digits"),
    "Ký tự G + số từ 1-999": (re.compile(r"G[1-9][0-9]{0,2}"), "G and a number from 1 to 999"),
    "Null hoặc = 1": (re.compile(r"1"), "empty or 1"),
    "là Số là và ko được để tất cả = 0": (re.compile(r"(?=[0-9]+$)0*[1-9][0-9]*"), "digits, not all zero"),
    "Bắt buộc là CT07 hoặc null; Nếu null tự insert DB là CT07": (re.compile(r"CT07"), "empty or CT07"),
}  # fmt: skip
ORDER = re.compile(r"(?:^|điều kiện )>= ([A-Z_]+)$")  # ">= NGAY_VAO", "… bổ sung thêm điều kiện >= NGAY_VAO"
DAYS_ZERO, DAYS_COUNTED = ("01", "07", "09"), ("02", "03", "04", "06")
STAY_SUMMARY_VISITS = ("03", "04", "06")  # XML8 only for these visit types
# How every other note is enforced (a test checks that each note of the schema is listed or interpreted).
HANDLED = {
    "Như 4210": "the field's type, size and required flag (schema)",
    "Như QĐ 4210": "the field's type, size and required flag (schema)",
    "Như Bảng 1": "as the XML1 field of the same name (schema, code lists)",
    "Như MA_NOI_DI": "as MA_NOI_DI (schema)",
    "Như trường NGAY_MIEN_CCT": "a yyyyMMdd date (parser: field.date)",
    "Như trường GIOI_TINH bảng 1": "the sex code list (codes)",
    "Check Danh mục": "code lists (codes: MA_DOITUONG_KCB; MA_KHOA and LAN_XN_PCR need catalogues: assessment)",
    "Theo File công thức": "the line arithmetic of the payment split (assessment)",
    "Theo File Công thức": "the line arithmetic of the payment split (assessment)",
    "Sửa thành Không bắt buộc trường này": "not required (schema)",
    "Nếu 1 trường có dữ liệu thì bắt buộc nhập ca3 3 trường": "SO_NGAY_NGHI with its two dates (here)",
    "- Đối với Trường thông tin MA_LOAI_KCB": "SO_NGAY_DTRI against the stay (here)",
    "nhỏ hơn hoặc bằng với ngày trong trường thông tin NGAY_KET_THUC_XU_TRI": "ARV days within the treatment (here)",
    "Bảng 8 chỉ có khi MA_LOAI_KCB": "XML8 only for inpatient visit types (here)",
}

Problem = tuple[str, int | None, str, str, str]  # table, row, field, rule, detail
Rule = tuple[str, str, Callable[[str], bool] | None, str]  # field, kind, test, detail


def _matcher(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


@cache
def rules(table: str) -> tuple[Rule, ...]:
    """(field, kind, test, detail) for the notes of ``table`` that are checked value by value."""
    out: list[Rule] = []
    for f in schema.tables()[table]:
        if f.check in PATTERNS:
            pattern, why = PATTERNS[f.check]
            out.append((f.name, "format", _matcher(pattern), why))
        elif f.check == SAME_AS_XML1:
            out.append((f.name, "same_as_xml1", None, ""))
        elif order := ORDER.search(f.check):
            out.append((f.name, "order", None, order.group(1)))
    return tuple(out)


def _days(stamp: str) -> date | None:
    try:
        return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
    except ValueError:
        return None


def problems(tables: dict[str, list[dict[str, str]]]) -> Iterator[Problem]:
    """Every checklist note a HOSO's records break (values already checked for type and size)."""
    head = tables["XML1"][0]
    for table, rows in tables.items():
        checks = rules(table)
        if not checks or _kept(table, rows, head, checks):
            continue
        for i, record in enumerate(rows, start=1):
            row = None if table in ("XML1", "XML7", "XML8", "XML13", "XML14") else i
            for name, kind, test, detail in checks:
                value = record.get(name, "")
                if not value:
                    continue
                if kind == "format" and test is not None and not test(value):
                    yield table, row, name, "checklist.format", detail
                elif kind == "same_as_xml1" and table != "XML1" and head.get(name) and value != head[name]:
                    yield table, row, name, "checklist.same_as_xml1", head[name]
                elif kind == "order" and len(value) == len(record.get(detail, "")) == 12 and value < record[detail]:
                    yield table, row, name, "checklist.order", detail
    yield from _treatment_days(head)
    if tables.get("XML8") and head.get("MA_LOAI_KCB") not in STAY_SUMMARY_VISITS:
        yield "XML8", None, "MA_LK", "checklist.xml8_visit_type", head.get("MA_LOAI_KCB", "")
    for record in tables.get("XML7", []):
        leave = [record.get(n, "") for n in ("SO_NGAY_NGHI", "NGOAITRU_TUNGAY", "NGOAITRU_DENNGAY")]
        if any(leave) and not all(leave):
            yield "XML7", None, "SO_NGAY_NGHI", "checklist.leave_incomplete", ""
    for i, record in enumerate(tables.get("XML6", []), start=1):
        start, end = _days(record.get("NGAY_BAT_DAU_XU_TRI", "")), _days(record.get("NGAY_KET_THUC_XU_TRI", ""))
        given = record.get("SO_NGAY_CAP_THUOC_ARV", "")
        if start and end and given.isdigit() and int(given) > (end - start).days:
            yield "XML6", i, "SO_NGAY_CAP_THUOC_ARV", "checklist.arv_days", str((end - start).days)


def _kept(table: str, rows: list[dict[str, str]], head: dict[str, str], checks: tuple[Rule, ...]) -> bool:
    """Whether every record of ``table`` keeps every check: each check tested over all rows in one pass,
    so that only a table that breaks one is looked at row by row (in :func:`problems`, which says where)."""
    for name, kind, test, detail in checks:
        values = [v for record in rows if (v := record.get(name, ""))]
        if not values:
            continue
        if kind == "format" and test is not None and not all(map(test, values)):
            return False
        if kind == "same_as_xml1" and table != "XML1" and head.get(name) and set(values) != {head[name]}:
            return False
        if kind == "order" and any(
            len(v) == len(r.get(detail, "")) == 12 and v < r[detail] for r in rows if (v := r.get(name, ""))
        ):
            return False
    return True


def _treatment_days(head: dict[str, str]) -> Iterator[Problem]:
    """SO_NGAY_DTRI: 0 for visit types 01/07/09; days from NGAY_VAO to NGAY_RA plus one for 02/03/04/06."""
    stated, visit = head.get("SO_NGAY_DTRI", ""), head.get("MA_LOAI_KCB", "")
    if not stated.isdigit():
        return
    if visit in DAYS_ZERO:
        expected: int | None = 0
    elif visit in DAYS_COUNTED:
        start, end = _days(head.get("NGAY_VAO", "")), _days(head.get("NGAY_RA", ""))
        expected = (end - start).days + 1 if start and end else None
    else:
        expected = None
    if expected is not None and int(stated) != expected:
        yield "XML1", None, "SO_NGAY_DTRI", "checklist.treatment_days", str(expected)
