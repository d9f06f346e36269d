"""Read a GIAMDINHHS envelope safely, into HOSO records with structured findings.

Safety first: a file is refused before parsing when it is too large or declares a DTD or entities
(no external entity, no entity expansion, no network); the XML parser itself resolves nothing, loads
no DTD and keeps lxml's default size guards; nesting deeper than a limit is refused; every base64
document is size-checked before it is decoded. One bad HOSO never stops the others.

A finding is ``{file, hoso_index, ma_lk, table, row, field, code, message}``; ``rejects`` marks the
findings after which a HOSO (or the whole file) cannot be stored: it could not be decoded or parsed,
or lacks what identifies it (XML1, MA_LK, the facility). Every other finding is a warning kept with
the claim for the assessment to weigh.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from bhyt.claims import schema
from bhyt.claims.messages import render
from bhyt.errors import BhytError
from bhyt.policy.card import CARD_ERRORS, check_card
from bhyt.policy.params import default_parameters

ROOTS = {  # table -> (root, row) elements; row None: the root is the single record (bhyt-spec §1.4)
    "XML0": ("CHI_TIEU_TRANG_THAI_KCB", "TRANG_THAI_KCB"),
    "XML1": ("TONG_HOP", None),
    "XML2": ("CHITIEU_CHITIET_THUOC", "CHI_TIET_THUOC"),
    "XML3": ("CHITIEU_CHITIET_DVKT_VTYT", "CHI_TIET_DVKT"),
    "XML4": ("CHITIEU_CHITIET_DICHVUCANLAMSANG", "CHI_TIET_CLS"),
    "XML5": ("CHITIEU_CHITIET_DIENBIENLAMSANG", "CHI_TIET_DIEN_BIEN_BENH"),
    "XML6": ("CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS", None),
    "XML7": ("CHI_TIEU_DU_LIEU_GIAY_RA_VIEN", None),
    "XML8": ("CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN", None),
    "XML9": ("CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH", "DU_LIEU_GIAY_CHUNG_SINH"),
    "XML10": ("CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI", None),
    "XML11": ("CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI", None),
    "XML12": ("CHI_TIEU_DU_LIEU_GIAM_DINH_Y_KHOA", None),
    "XML13": ("CHI_TIEU_GIAYCHUYENTUYEN", None),
    "XML14": ("CHI_TIEU_GIAYHEN_KHAMLAI", None),
    "XML15": ("CHI_TIEU_DIEUTRI_BENHLAO", "CHITIET_DIEUTRI_BENHLAO"),
}
REJECTING = frozenset({
    "file.too_large", "file.unreadable", "xml.dtd", "xml.syntax", "xml.too_deep", "envelope.root",
    "envelope.facility", "hoso.empty", "hoso.base64", "hoso.too_large", "hoso.encoding", "hoso.xml", "hoso.root",
    "hoso.no_xml1", "hoso.no_ma_lk", "claim.withdraw_unknown",
})  # fmt: skip
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """Bounds on what a file may cost to read."""

    max_file_bytes: int = 256 * 2**20
    max_document_bytes: int = 32 * 2**20  # one decoded inner document
    max_depth: int = 24


@dataclass(frozen=True)
class Finding:
    file: str
    hoso_index: int | None
    ma_lk: str | None
    table: str | None
    row: int | None
    field: str | None
    code: str
    message: str

    @property
    def rejects(self) -> bool:
        return self.code in REJECTING

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("file", "hoso_index", "ma_lk", "table", "row", "field", "code",
                                              "message")}  # fmt: skip


@dataclass
class Hoso:
    """One episode as sent: its tables' records as text, by the standard's field names."""

    index: int
    tables: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)  # the decoded inner documents
    findings: list[Finding] = field(default_factory=list)

    @property
    def ma_lk(self) -> str | None:
        rows = self.tables.get("XML1")
        return (rows[0].get("MA_LK") or None) if rows else None

    @property
    def rejected(self) -> bool:
        return any(f.rejects for f in self.findings)


@dataclass
class Envelope:
    file: str
    facility: str | None = None
    created: str | None = None
    hosos: list[Hoso] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # about the file as a whole

    @property
    def rejected(self) -> bool:
        return any(f.rejects for f in self.findings)


class _Reader:
    def __init__(self, file: str, lang: str, limits: Limits) -> None:
        self.file, self.lang, self.limits = file, lang, limits

    def finding(self, code: str, hoso: Hoso | None = None, in_table: str | None = None, row: int | None = None,
                field_name: str | None = None, /, **params: object) -> Finding:  # fmt: skip
        """A finding located in ``in_table``/``row``/``field_name``; ``params`` fill its message."""
        return Finding(self.file, hoso.index if hoso else None, hoso.ma_lk if hoso else None, in_table, row,
                       field_name, code, render(code, self.lang, **params))  # fmt: skip

    def xml(self, data: bytes) -> tuple[etree._Element | None, tuple[str, dict[str, object]] | None]:
        """Parse ``data`` safely: (root, None) or (None, (finding code, params))."""
        if _DTD.search(data):
            return None, ("xml.dtd", {})
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                                 huge_tree=False, remove_comments=True, remove_pis=True)  # fmt: skip
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            return None, ("xml.syntax", {"reason": str(exc)[:200]})
        if _depth(root) > self.limits.max_depth:
            return None, ("xml.too_deep", {"limit": self.limits.max_depth})
        return root, None


def _depth(root: etree._Element) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in node)
    return deepest


def _text(node: etree._Element | None) -> str:
    return "" if node is None or node.text is None else node.text.strip()


def read_envelope(data: bytes, file: str, lang: str = "vi", limits: Limits | None = None) -> Envelope:
    """Read one GIAMDINHHS file's bytes. Never raises for bad input: problems become findings."""
    limits = limits or Limits()
    r = _Reader(file, lang, limits)
    env = Envelope(file)
    if len(data) > limits.max_file_bytes:
        env.findings.append(r.finding("file.too_large", size=len(data), limit=limits.max_file_bytes))
        return env
    root, problem = r.xml(data)
    if problem is not None or root is None:
        code, params = problem or ("xml.syntax", {"reason": "empty"})
        env.findings.append(r.finding(code, **params))
        return env
    if root.tag != "GIAMDINHHS":
        env.findings.append(r.finding("envelope.root", tag=str(root.tag)))
        return env
    env.facility = _text(root.find("THONGTINDONVI/MACSKCB")) or None
    env.created = _text(root.find("THONGTINHOSO/NGAYLAP")) or None
    if env.facility is None:
        env.findings.append(r.finding("envelope.facility"))
    hosos = root.findall("THONGTINHOSO/DANHSACHHOSO/HOSO")
    declared = _text(root.find("THONGTINHOSO/SOLUONGHOSO"))
    if declared and declared != str(len(hosos)):
        env.findings.append(r.finding("envelope.count", declared=declared, found=len(hosos)))
    first_seen: dict[str, int] = {}
    for index, node in enumerate(hosos):
        hoso = _read_hoso(r, node, index)
        if hoso.ma_lk is not None:
            if hoso.ma_lk in first_seen:
                hoso.findings.append(r.finding("hoso.duplicate_ma_lk", hoso, ma_lk=hoso.ma_lk,
                                               first=first_seen[hoso.ma_lk]))  # fmt: skip
            first_seen.setdefault(hoso.ma_lk, index)
        env.hosos.append(hoso)
    return env


def _read_hoso(r: _Reader, node: etree._Element, index: int) -> Hoso:
    hoso = Hoso(index)
    files = node.findall("FILEHOSO")
    if not files:
        hoso.findings.append(r.finding("hoso.empty", hoso))
        return hoso
    for f in files:
        table = _text(f.find("LOAIHOSO")).upper()
        if table not in ROOTS:
            hoso.findings.append(r.finding("hoso.table", hoso, table=table or "?"))
            continue
        if table in hoso.tables:
            hoso.findings.append(r.finding("hoso.duplicate_table", hoso, table, table=table))
            continue
        raw = "".join((f.findtext("NOIDUNGFILE") or "").split())
        if len(raw) * 3 // 4 > r.limits.max_document_bytes:  # refused before decoding
            hoso.findings.append(r.finding("hoso.too_large", hoso, table, table=table, size=len(raw) * 3 // 4,
                                           limit=r.limits.max_document_bytes))  # fmt: skip
            continue
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            hoso.findings.append(r.finding("hoso.base64", hoso, table, table=table))
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            hoso.findings.append(r.finding("hoso.encoding", hoso, table, table=table, reason=str(exc)[:120]))
            continue
        doc, problem = r.xml(data)
        if problem is not None or doc is None:
            code, params = problem or ("xml.syntax", {"reason": "empty"})
            hoso.findings.append(r.finding("hoso.xml" if code == "xml.syntax" else code, hoso, table, table=table,
                                           **params))  # fmt: skip
            continue
        root_tag, row_tag = ROOTS[table]
        if doc.tag != root_tag:
            hoso.findings.append(r.finding("hoso.root", hoso, table, table=table, tag=str(doc.tag),
                                           expected=root_tag))  # fmt: skip
            continue
        rows = [doc] if row_tag is None else list(doc.iter(row_tag))
        hoso.tables[table] = [{str(child.tag): _text(child) for child in row} for row in rows]
        hoso.documents[table] = data
    if "XML1" not in hoso.tables:
        if not any(f.rejects for f in hoso.findings):
            hoso.findings.append(r.finding("hoso.no_xml1", hoso))
        return hoso
    if not hoso.ma_lk:
        hoso.findings.append(r.finding("hoso.no_ma_lk", hoso, "XML1", None, "MA_LK"))
        return hoso
    if any(f.rejects for f in hoso.findings):
        return hoso  # a table could not be read: checking the rest would only add noise
    hoso.findings += _check_fields(r, hoso)
    hoso.findings += _check_logic(r, hoso)
    return hoso


def _check_fields(r: _Reader, hoso: Hoso) -> list[Finding]:
    """Unknown fields, sizes and types, required fields, and lines tied to the XML1 MA_LK."""
    out = []
    ma_lk = hoso.ma_lk
    for table, rows in hoso.tables.items():
        fields = {f.name: f for f in schema.tables()[table]}
        for i, record in enumerate(rows, start=1):
            row = None if table == "XML1" else i
            for name, value in record.items():
                f = fields.get(name)
                if f is None:
                    out.append(r.finding("field.unknown", hoso, table, row, name, field=name))
                elif why := schema.check_value(f, value):
                    out.append(r.finding("field.format", hoso, table, row, name, detail=why))
            for name, f in fields.items():
                if f.required and not record.get(name) and name not in OPTIONAL_SINCE_MERGER:
                    out.append(r.finding("field.required", hoso, table, row, name, field=name))
            if table != "XML1" and record.get("MA_LK") and record["MA_LK"] != ma_lk:
                out.append(r.finding("line.ma_lk", hoso, table, row, "MA_LK", found=record["MA_LK"], expected=ma_lk))
    return out


# Required in the vendor checklist, but empty by design since districts were abolished on 2025-07-01
# (bhyt-spec §1.5 and §5.3: real 2026 files leave it empty).
OPTIONAL_SINCE_MERGER = frozenset({"MAHUYEN_CU_TRU"})


# Points in time are yyyyMMddHHmm, dates yyyyMMdd (bhyt-spec §1.5); NGAY_SINH may write 00 for an
# unknown day or month, NGAY_MIEN_CCT may be either form.
TIMESTAMPS = frozenset({"NGAY_VAO", "NGAY_VAO_NOI_TRU", "NGAY_RA", "NGAY_TTOAN", "NGAY_YL", "NGAY_TH_YL", "NGAY_KQ",
                        "THOI_DIEM_DBLS", "NGAY_HEN_KL"})  # fmt: skip
DATES = frozenset({"GT_THE_TU", "GT_THE_DEN", "NAM_NAM_LIEN_TUC", "NGAY_CT"})
TOTALS = (("T_TONGCHI_BV", "THANH_TIEN_BV", ("XML2", "XML3")), ("T_TONGCHI_BH", "THANH_TIEN_BH", ("XML2", "XML3")),
          ("T_BNTT", "T_BNTT", ("XML2", "XML3")), ("T_BNCCT", "T_BNCCT", ("XML2", "XML3")),
          ("T_BHTT", "T_BHTT", ("XML2", "XML3")), ("T_NGUONKHAC", "T_NGUONKHAC", ("XML2", "XML3")),
          ("T_THUOC", "THANH_TIEN_BV", ("XML2",)))  # fmt: skip


def _valid_time(value: str, birth: bool = False) -> bool:
    if not re.fullmatch(r"\d{12}", value):
        return False
    year, month, day, hour, minute = (int(value[i:j]) for i, j in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12)))
    if birth and (month == 0 or day == 0):
        return 1800 <= year <= 2200 and month <= 12 and hour < 24 and minute < 60
    return _valid_date(value[:8]) and hour < 24 and minute < 60


def _valid_date(value: str) -> bool:
    if not re.fullmatch(r"\d{8}", value):
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return True


def _check_logic(r: _Reader, hoso: Hoso) -> list[Finding]:
    """Times and dates, the episode's order, lines inside it, the XML1 totals and the card number."""
    out = []
    for table, rows in hoso.tables.items():
        for i, record in enumerate(rows, start=1):
            row = None if table in ("XML1", "XML7", "XML13", "XML14") else i
            for name, value in record.items():
                if not value:
                    continue
                if (name in TIMESTAMPS and not _valid_time(value)) or (
                    name == "NGAY_SINH" and not _valid_time(value, birth=True)
                ):
                    out.append(r.finding("field.timestamp", hoso, table, row, name, field=name, value=value))
                elif name in DATES and not all(_valid_date(v) for v in value.split(";")):
                    out.append(r.finding("field.date", hoso, table, row, name, field=name, value=value))
    head = hoso.tables["XML1"][0]
    start, end = head.get("NGAY_VAO", ""), head.get("NGAY_RA", "")
    if _valid_time(start) and _valid_time(end):
        if end < start:
            out.append(r.finding("episode.dates", hoso, "XML1", None, "NGAY_RA", start=start, end=end))
        for table in ("XML2", "XML3"):
            for i, line in enumerate(hoso.tables.get(table, []), start=1):
                at = line.get("NGAY_YL", "")
                if _valid_time(at) and not start <= at <= end:
                    out.append(
                        r.finding("line.outside_episode", hoso, table, i, "NGAY_YL", at=at, start=start, end=end)
                    )
    for total, line_field, tables in TOTALS:
        stated = head.get(total, "")
        values = [line.get(line_field, "") or "0" for t in tables for line in hoso.tables.get(t, [])]
        try:
            summed = sum((Decimal(v) for v in values), Decimal(0))
            if stated and Decimal(stated) != summed:
                out.append(r.finding("totals.mismatch", hoso, "XML1", None, total, field=total, stated=stated,
                                     summed=summed))  # fmt: skip
        except InvalidOperation:
            continue  # a number that is not one is already a field.format finding
    card_day = start[:8] if _valid_time(start) else ""
    if head.get("MA_THE_BHYT") and _valid_date(card_day):
        visit_day = date(int(card_day[:4]), int(card_day[4:6]), int(card_day[6:8]))
        registered = head.get("MA_DKBD", "").split(";")
        for k, card in enumerate(head["MA_THE_BHYT"].split(";")):
            try:
                check = check_card(
                    card, default_parameters(), visit_day, registered[k] if k < len(registered) else None
                )
            except BhytError:
                continue  # a date with no rules in force: the assessment says so
            if check.error is not None:
                out.append(r.finding("card.format", hoso, "XML1", None, "MA_THE_BHYT", card=card,
                                     reason=CARD_ERRORS[check.error][1]))  # fmt: skip
    return out
