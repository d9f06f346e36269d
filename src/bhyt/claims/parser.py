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

import binascii
import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from operator import gt, itemgetter
from typing import Any, cast

from lxml import etree

from bhyt.claims import checklist, codes, legacy, schema
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
    "hoso.no_xml1", "hoso.no_ma_lk", "hoso.ma_lk_size", "envelope.facility_format", "claim.withdraw_unknown",
    "storage.failed", "fhir.invalid", "hoso.too_many_rows", "hoso.too_many_findings",
})  # fmt: skip
_FACILITY = re.compile(r"[0-9A-Za-z]{5}")  # MA_CSKCB is C 5 in the 4750 field table
MA_LK_SIZE = 100  # the key of a claim; longer cannot be stored
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """Bounds on what a file may cost to read, whatever it holds: its size, each decoded document's,
    the nesting, the rows of one table and the findings of one HOSO (a HOSO over either is refused with
    one finding that names the limit), so that memory and the receipt stay bounded."""

    max_file_bytes: int = 256 * 2**20
    max_document_bytes: int = 32 * 2**20  # one decoded inner document
    max_depth: int = 24
    max_rows: int = 20_000  # rows of one table of one HOSO (a year-long stay bills a few thousand lines)
    max_findings: int = 200  # findings of one HOSO


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
    findings: list[Finding] = field(default_factory=list)
    clean: set[str] = field(default_factory=set)  # tables whose every field the compiled reader found fitting

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
        self.parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                                      huge_tree=False, remove_comments=True, remove_pis=True)  # fmt: skip
        self.too_deep = _too_deep(limits.max_depth)

    def finding(self, code: str, hoso: Hoso | None = None, in_table: str | None = None, row: int | None = None,
                field_name: str | None = None, /, **params: object) -> Finding:  # fmt: skip
        """A finding located in ``in_table``/``row``/``field_name``; ``params`` fill its message."""
        return Finding(self.file, hoso.index if hoso else None, hoso.ma_lk if hoso else None, in_table, row,
                       field_name, code, render(code, self.lang, **params))  # fmt: skip

    def xml(
        self, data: bytes, check_depth: bool = True
    ) -> tuple[etree._Element | None, tuple[str, dict[str, object]] | None]:
        """Parse ``data`` safely: (root, None) or (None, (finding code, params)).

        Without ``check_depth`` only libxml2's own bound (256 levels) applies: enough for a table
        document, which is read two levels below its rows and is size-limited already.
        """
        if b"<!" in data and _DTD.search(data):  # a plain find first: most files have no "<!" at all
            return None, ("xml.dtd", {})
        try:
            root = etree.fromstring(data, self.parser)
        except etree.XMLSyntaxError as exc:
            return None, ("xml.syntax", {"reason": str(exc)[:200]})
        if check_depth and self.too_deep(root):
            return None, ("xml.too_deep", {"limit": self.limits.max_depth})
        return root, None


@cache
def _too_deep(limit: int) -> etree.XPath:
    """An XPath, evaluated in C, that is true when some element lies deeper than ``limit``."""
    return etree.XPath("boolean(" + "/*" * (limit + 1) + ")")


def warm() -> None:
    """Load the schema, checks and reference lists now, so forked workers share them instead of each
    loading its own on the first file."""
    for table in schema.tables():
        schema.fast_checks(table)
        _quick_check(table)
        _required_given(table)
        schema.flat_spec(table)
        _required(table)
        _time_tests(table)
        checklist.rules(table)
    codes.icd_problem("A00", main=True)
    default_parameters()


def read_envelope(data: bytes, file: str, lang: str = "vi", limits: Limits | None = None) -> Envelope:
    """Read one GIAMDINHHS file's bytes. Never raises for bad input: problems become findings."""
    limits = limits or Limits()
    r = _Reader(file, lang, limits)
    env = Envelope(file)
    if len(data) > limits.max_file_bytes:
        env.findings.append(r.finding("file.too_large", size=len(data), limit=limits.max_file_bytes))
        return env
    read = _read_envelope(r, data)
    if isinstance(read, Finding):
        env.findings.append(read)
        return env
    facility, created, declared, hosos = read
    env.facility = (facility or "").strip() or None
    env.created = (created or "").strip() or None
    if env.facility is None:
        env.findings.append(r.finding("envelope.facility"))
    elif not _FACILITY.fullmatch(env.facility):
        env.findings.append(r.finding("envelope.facility_format", facility=env.facility[:40]))
    declared = (declared or "").strip()
    if declared and declared != str(len(hosos)):
        env.findings.append(r.finding("envelope.count", declared=declared, found=len(hosos)))
    first_seen: dict[str, int] = {}
    for index, files in enumerate(hosos):
        hoso = _read_hoso(r, files, index)
        if hoso.ma_lk is not None:
            if hoso.ma_lk in first_seen:
                hoso.findings.append(r.finding("hoso.duplicate_ma_lk", hoso, ma_lk=hoso.ma_lk,
                                               first=first_seen[hoso.ma_lk]))  # fmt: skip
            first_seen.setdefault(hoso.ma_lk, index)
        env.hosos.append(hoso)
    return env


# Each FILEHOSO as (LOAIHOSO as written, NOIDUNGFILE): its base64 text, or its bytes already decoded.
FileHoso = tuple[str, str | bytes]
# MACSKCB, NGAYLAP and SOLUONGHOSO as written (None when left out), and each HOSO's FILEHOSO.
EnvelopeParts = tuple[str | None, str | None, str | None, list[list[FileHoso]]]
ENVELOPE_DEPTH = 6  # GIAMDINHHS/THONGTINHOSO/DANHSACHHOSO/HOSO/FILEHOSO/NOIDUNGFILE


def _read_envelope(r: _Reader, data: bytes) -> EnvelopeParts | Finding:
    """The parts of the envelope, or the finding that refuses the file.

    The compiled reader takes the plain envelope of bhyt-spec §1.3 and decodes its documents on the way,
    without building a tree around 15 KB of base64 a claim; anything else (a signature, a comment, an
    unknown element, a bad base64) is read by lxml, which also says what is wrong.
    """
    if _FLAT_ENVELOPE is not None and r.limits.max_depth >= ENVELOPE_DEPTH:
        fast = _FLAT_ENVELOPE(data, r.limits.max_document_bytes)
        if fast is not None:
            return fast
    root, problem = r.xml(data)
    if problem is not None or root is None:
        code, params = problem or ("xml.syntax", {"reason": "empty"})
        return r.finding(code, **params)
    if root.tag != "GIAMDINHHS":
        return r.finding("envelope.root", tag=str(root.tag))
    hosos: list[list[FileHoso]] = [
        [(f.findtext("LOAIHOSO") or "", f.findtext("NOIDUNGFILE") or "") for f in node.findall("FILEHOSO")]
        for node in root.findall("THONGTINHOSO/DANHSACHHOSO/HOSO")
    ]
    return (root.findtext("THONGTINDONVI/MACSKCB"), root.findtext("THONGTINHOSO/NGAYLAP"),
            root.findtext("THONGTINHOSO/SOLUONGHOSO"), hosos)  # fmt: skip


def _read_table(r: _Reader, hoso: Hoso, table: str, data: bytes,
                row_tag: str | None) -> tuple[str, list[dict[str, str]], bool] | None:  # fmt: skip
    """(root tag, records, every value fits the schema) of one decoded table document; None, with a
    finding, when it cannot be read.

    The compiled strict reader takes the plain documents nearly every facility sends, and checks each
    value against the schema as it goes; whatever it does not accept (and anything malformed) is read by
    lxml, which has the last word, and its values are checked in Python.
    """
    try:  # the compiled reader decodes every value strictly: a document it reads is UTF-8 throughout
        fast = None if _FLAT is None else _FLAT(data, row_tag, schema.flat_spec(table))
        if fast is None:
            data.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = str(exc)
        try:  # the compiled reader names the byte's place in its value: say it in the document, as lxml's path does
            data.decode("utf-8")
        except UnicodeDecodeError as whole:
            reason = str(whole)
        hoso.findings.append(r.finding("hoso.encoding", hoso, table, table=table, reason=reason[:120]))
        return None
    if fast is not None:
        return fast
    doc, problem = r.xml(data, check_depth=False)
    if problem is not None or doc is None:
        code, params = problem or ("xml.syntax", {"reason": "empty"})
        hoso.findings.append(r.finding("hoso.xml" if code == "xml.syntax" else code, hoso, table, table=table,
                                       **params))  # fmt: skip
        return None
    rows = [doc] if row_tag is None else doc.iter(row_tag)
    return str(doc.tag), [{str(c.tag): (c.text or "").strip() for c in row} for row in rows], False


FlatReader = Callable[
    [bytes, str | None, dict[str, tuple[int, int, int]]], tuple[str, list[dict[str, str]], bool] | None
]
FlatEnvelope = Callable[[bytes, int], EnvelopeParts | None]


def _flat_module() -> Any:
    """The compiled readers of ``_flat.c`` (built by ``make setup``), or None when they are not built."""
    try:
        return importlib.import_module("bhyt.claims._flat")
    except ImportError:
        return None


_FLAT_MODULE = _flat_module()
_FLAT = cast(FlatReader | None, getattr(_FLAT_MODULE, "records", None))
_FLAT_ENVELOPE = cast(FlatEnvelope | None, getattr(_FLAT_MODULE, "envelope", None))


def _base64(text: str) -> bytes | None:
    """Strict base64, whitespace allowed (line-wrapped encoders); None when it is not base64."""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    try:
        return binascii.a2b_base64("".join(text.split()), strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def _read_hoso(r: _Reader, files: list[FileHoso], index: int) -> Hoso:
    hoso = Hoso(index)
    if not files:
        hoso.findings.append(r.finding("hoso.empty", hoso))
        return hoso
    decoded: list[tuple[str, bytes]] = []
    for kind, content in files:
        table = kind.strip().upper()
        if table not in ROOTS:
            hoso.findings.append(r.finding("hoso.table", hoso, table=table or "?"))
            continue
        if any(t == table for t, _ in decoded):
            hoso.findings.append(r.finding("hoso.duplicate_table", hoso, table, table=table))
            continue
        if isinstance(content, bytes):  # decoded by the compiled reader, within the limit
            decoded.append((table, content))
            continue
        if len(content) * 3 // 4 > r.limits.max_document_bytes:  # refused before decoding
            hoso.findings.append(r.finding("hoso.too_large", hoso, table, table=table, size=len(content) * 3 // 4,
                                           limit=r.limits.max_document_bytes))  # fmt: skip
            continue
        data = _base64(content)
        if data is None:
            hoso.findings.append(r.finding("hoso.base64", hoso, table, table=table))
            continue
        decoded.append((table, data))
    for table, data in decoded:
        root_tag, row_tag = ROOTS[table]
        read = _read_table(r, hoso, table, data, row_tag)
        if read is None:
            continue
        tag, records, clean = read
        if tag != root_tag and tag != legacy.ROOTS.get(table):
            hoso.findings.append(r.finding("hoso.root", hoso, table, table=table, tag=tag, expected=root_tag))
            continue
        if len(records) > r.limits.max_rows:
            hoso.findings.append(r.finding("hoso.too_many_rows", hoso, table, table=table, rows=len(records),
                                           limit=r.limits.max_rows))  # fmt: skip
            continue
        if table != "XML1" and not all(any(rec.values()) for rec in records):
            kept = [rec for rec in records if any(rec.values())]  # an empty row says nothing: one finding
            hoso.findings.append(r.finding("table.empty_rows", hoso, table, table=table, rows=len(records) - len(kept)))
            records = kept
        hoso.tables[table] = records
        if clean:
            hoso.clean.add(table)
    if "XML1" not in hoso.tables:
        if not any(f.rejects for f in hoso.findings):
            hoso.findings.append(r.finding("hoso.no_xml1", hoso))
        return hoso
    if not hoso.ma_lk:
        hoso.findings.append(r.finding("hoso.no_ma_lk", hoso, "XML1", None, "MA_LK"))
        return hoso
    if len(hoso.ma_lk) > MA_LK_SIZE:
        hoso.findings.append(r.finding("hoso.ma_lk_size", hoso, "XML1", None, "MA_LK", size=len(hoso.ma_lk),
                                       limit=MA_LK_SIZE))  # fmt: skip
        return hoso
    if any(f.rejects for f in hoso.findings):
        return hoso  # a table could not be read: checking the rest would only add noise
    if legacy.is_4210(hoso.tables):
        hoso.tables, derived = legacy.to_4750(hoso.tables)
        hoso.clean.clear()  # renamed: checked field by field
        hoso.findings.append(r.finding("layout.4210", hoso, "XML1", None, None, derived=", ".join(derived) or "-"))
    hoso.findings += _check_fields(r, hoso)
    hoso.findings += _check_logic(r, hoso)
    if len(hoso.findings) > r.limits.max_findings:
        count = len(hoso.findings)
        del hoso.findings[r.limits.max_findings :]
        hoso.findings.append(r.finding("hoso.too_many_findings", hoso, count=count, limit=r.limits.max_findings))
    return hoso


def _check_fields(r: _Reader, hoso: Hoso) -> list[Finding]:
    """Unknown fields, sizes and types, required fields, and lines tied to the XML1 MA_LK."""
    out: list[Finding] = []
    ma_lk = hoso.ma_lk
    for table, rows in hoso.tables.items():
        quick = _required_given(table) if table in hoso.clean else _quick_check(table)
        for i, record in enumerate(rows, start=1):
            if len(out) > r.limits.max_findings:  # refused whatever the rest holds: stop counting
                return out
            row = None if table == "XML1" else i
            if not quick(record):
                out += _field_findings(r, hoso, table, row, record)
            if table != "XML1" and record.get("MA_LK") and record["MA_LK"] != ma_lk:
                out.append(r.finding("line.ma_lk", hoso, table, row, "MA_LK", found=record["MA_LK"], expected=ma_lk))
    return out


def _field_findings(r: _Reader, hoso: Hoso, table: str, row: int | None, record: dict[str, str]) -> list[Finding]:
    """One record checked field by field: what :func:`_quick_check` only says yes or no to."""
    out = []
    checks = schema.fast_checks(table)
    for name, value in record.items():
        check = checks.get(name)
        if check is None:
            out.append(r.finding("field.unknown", hoso, table, row, name, field=name))
            continue
        size, number = check
        if value and ((len(value) > size) if number is None else not number.fullmatch(value)):
            why = schema.check_value(schema.field(table, name), value)
            out.append(r.finding("field.format", hoso, table, row, name, detail=why))
    for name in _required(table):
        if not record.get(name):
            out.append(r.finding("field.required", hoso, table, row, name, field=name))
    return out


@cache
def _required_given(table: str) -> Callable[[dict[str, str]], bool]:
    """Whether a record whose values all fit (the compiled reader said so) has every required field."""
    required = _required(table)
    values = cast(Callable[[dict[str, str]], tuple[str, ...]], itemgetter(*required)) if len(required) > 1 else None

    def given(record: dict[str, str]) -> bool:
        if values is None:
            return all(record.get(n) for n in required)
        try:
            return all(values(record))
        except KeyError:
            return False

    return given


@cache
def _quick_check(table: str) -> Callable[[dict[str, str]], bool]:
    """A test that a record of ``table`` has every field, no unknown one, and nothing wrong in any.

    It runs in C loops (itemgetter, map) so a clean record costs a few calls; a record it does not pass
    is checked field by field. A record that leaves out a field always goes the slow way.
    """
    fields = schema.tables()[table]
    names = frozenset(f.name for f in fields)
    strings = [(f.name, f.size) for f in fields if f.type == "string" and f.size is not None]
    numbers = [(f.name, schema.fast_checks(table)[f.name][1]) for f in fields if f.type == "number"]
    required = _required(table)

    def getter(keys: list[str]) -> Callable[[dict[str, str]], tuple[str, ...]]:
        if len(keys) > 1:
            return cast(Callable[[dict[str, str]], tuple[str, ...]], itemgetter(*keys))
        return lambda record: tuple(record[k] for k in keys)

    string_values, sizes = getter([n for n, _ in strings]), [size for _, size in strings]
    number_values = getter([n for n, _ in numbers])
    patterns = [re.compile(f"(?:{p.pattern})?") for _, p in numbers if p is not None]
    required_values = getter(list(required))
    fullmatch = re.Pattern.fullmatch

    def quick(record: dict[str, str]) -> bool:
        return (
            record.keys() == names
            and not any(map(gt, map(len, string_values(record)), sizes))
            and all(map(fullmatch, patterns, number_values(record)))
            and all(required_values(record))
        )

    return quick


@cache
def _required(table: str) -> tuple[str, ...]:
    return tuple(f.name for f in schema.tables()[table] if f.required and f.name not in OPTIONAL_SINCE_MERGER)


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


def _value(hoso: Hoso, table: str, row: int | None, name: str) -> str:
    return hoso.tables[table][(row or 1) - 1].get(name, "")


# The line fields TOTALS sums, read from each line at once.
_SUMMED = tuple(dict.fromkeys(line_field for _, line_field, _ in TOTALS))
_SUMMED_VALUES = cast(Callable[[dict[str, str]], tuple[str, ...]], itemgetter(*_SUMMED))


def _line_sums(tables: dict[str, list[dict[str, str]]]) -> dict[tuple[str, tuple[str, ...]], Decimal | None]:
    """The sum of each line field TOTALS compares, over its tables (None when a value is not a number);
    each field of each table is summed once, however many totals use it."""
    each: dict[tuple[str, str], Decimal | None] = {}
    for t in ("XML2", "XML3"):
        lines = tables.get(t, [])
        try:
            columns: list[Sequence[str]] = list(zip(*map(_SUMMED_VALUES, lines), strict=True)) if lines else []
        except KeyError:  # a line leaves a field out
            columns = [[line.get(name, "") for line in lines] for name in _SUMMED]
        for name, column in zip(_SUMMED, columns or [()] * len(_SUMMED), strict=True):
            each[name, t] = _sum(column)
    out: dict[tuple[str, tuple[str, ...]], Decimal | None] = {}
    for _, line_field, names in TOTALS:
        known = [v for t in names if (v := each[line_field, t]) is not None]
        out[line_field, names] = sum(known, Decimal(0)) if len(known) == len(names) else None
    return out


def _sum(values: Sequence[str]) -> Decimal | None:
    """The exact sum of decimal strings, an empty one counting 0 (None when one is not a number). Whole
    numbers, đồng as a rule, are summed as ints: int() and Decimal() read such strings alike."""
    try:
        return Decimal(sum(map(int, values)))
    except ValueError:
        pass
    try:
        return sum(map(Decimal, [v or "0" for v in values]), Decimal(0))
    except InvalidOperation:
        return None


@lru_cache(maxsize=65536)  # an episode's lines repeat a few times over and over
def _valid_time(value: str, birth: bool = False) -> bool:
    """A real yyyyMMddHHmm point in time (for a birth, 00 may stand for an unknown day or month)."""
    if len(value) != 12 or not (value.isascii() and value.isdigit()) or value[8:10] > "23" or value[10:12] > "59":
        return False
    if birth and (value[4:6] == "00" or value[6:8] == "00"):
        return "1800" <= value[:4] <= "2200" and value[4:6] <= "12"
    return _valid_day(value[:8])


@lru_cache(maxsize=65536)
def _valid_birth(value: str) -> bool:
    return _valid_time(value, birth=True)


@lru_cache(maxsize=65536)
def _valid_dates(value: str) -> bool:
    """One date, or several joined by ';'."""
    return all(_valid_date(v) for v in value.split(";"))


@lru_cache(maxsize=65536)
def _valid_date(value: str) -> bool:
    return len(value) == 8 and value.isascii() and value.isdigit() and _valid_day(value)


@lru_cache(maxsize=65536)
def _valid_day(value: str) -> bool:
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return True


TimeTest = tuple[str, Callable[[str], bool], str]  # field, test, finding code


@cache
def _time_tests(table: str) -> tuple[tuple[TimeTest, ...], tuple[tuple[Callable[[str], bool], tuple[str, ...]], ...]]:
    """The time and date fields of ``table`` with their tests, in the order findings are given; and the
    same fields grouped by test, for the one-pass check."""
    names = schema.field_names(table)
    tests: list[TimeTest] = [(n, _valid_birth if n == "NGAY_SINH" else _valid_time, "field.timestamp")
                             for n in names if n in TIMESTAMPS or n == "NGAY_SINH"]  # fmt: skip
    tests += [(n, _valid_dates, "field.date") for n in names if n in DATES]
    groups = {test: tuple(n for n, t, _ in tests if t is test) for _, test, _ in tests}
    return tuple(tests), tuple(groups.items())


def _bad_times(r: _Reader, hoso: Hoso, table: str, rows: list[dict[str, str]]) -> list[Finding]:
    """The times and dates of ``table`` that are not real ones, in row then field order. All values of a
    test are tested in one pass; only a table with a bad value is looked at row by row."""
    tests, groups = _time_tests(table)
    if all(all(map(valid, filter(None, [rec.get(n) for rec in rows for n in names]))) for valid, names in groups):
        return []  # the usual case
    bad: list[tuple[int, int, Finding]] = []
    for k, (name, valid, code) in enumerate(tests):
        for i, record in enumerate(rows, start=1):
            if (value := record.get(name)) and not valid(value):
                row = None if table in ("XML1", "XML7", "XML13", "XML14") else i
                bad.append((i, k, r.finding(code, hoso, table, row, name, field=name, value=value)))
    return [finding for _, _, finding in sorted(bad, key=itemgetter(0, 1))]


@cache
def _numbers(table: str) -> tuple[str, ...]:
    """The number fields of a table: amounts, quantities, prices, rates and numeric codes, none of which
    the standard lets be negative."""
    return tuple(f.name for f in schema.tables()[table] if f.type == "number")


def _negatives(r: _Reader, hoso: Hoso) -> list[Finding]:
    """A negative quantity, price, amount or rate in XML1-XML3 (the assessment refuses such a line; intake
    says so where it was sent). One pass of ``startswith`` over the number fields."""
    out = []
    for table in ("XML1", "XML2", "XML3"):
        names = _numbers(table)
        for i, record in enumerate(hoso.tables.get(table, []), start=1):
            for name in names:
                value = record.get(name)
                if value and value.startswith("-") and value.strip("-0.") != "":
                    row = None if table == "XML1" else i
                    out.append(r.finding("field.negative", hoso, table, row, name, field=name, value=value))
    return out


def _check_logic(r: _Reader, hoso: Hoso) -> list[Finding]:
    """Times and dates, the episode's order, lines inside it, the XML1 totals and the card number."""
    out = []
    for table, rows in hoso.tables.items():
        out += _bad_times(r, hoso, table, rows)
    head = hoso.tables["XML1"][0]
    start, end = head.get("NGAY_VAO", ""), head.get("NGAY_RA", "")
    if _valid_time(start) and _valid_time(end):
        if end < start:
            out.append(r.finding("episode.dates", hoso, "XML1", None, "NGAY_RA", start=start, end=end))
        for table in ("XML2", "XML3"):
            ordered = [line.get("NGAY_YL", "") for line in hoso.tables.get(table, [])]
            if not ordered or ("" not in ordered and start <= min(ordered) and max(ordered) <= end):
                continue  # every line inside the episode (strings of one length compare as times)
            for i, at in enumerate(ordered, start=1):
                if _valid_time(at) and not start <= at <= end:
                    out.append(
                        r.finding("line.outside_episode", hoso, table, i, "NGAY_YL", at=at, start=start, end=end)
                    )
    out += _negatives(r, hoso)
    sums = _line_sums(hoso.tables)
    for total, line_field, tables in TOTALS:
        stated, summed = head.get(total, ""), sums.get((line_field, tables))
        if not stated or summed is None:
            continue  # a number that is not one is already a field.format finding
        try:
            if Decimal(stated) != summed:
                out.append(r.finding("totals.mismatch", hoso, "XML1", None, total, field=total, stated=stated,
                                     summed=summed))  # fmt: skip
        except InvalidOperation:
            continue
    for table, row, name, rule, detail in checklist.problems(hoso.tables):
        out.append(r.finding(rule, hoso, table, row, name, field=name, value=_value(hoso, table, row, name),
                             detail=detail))  # fmt: skip
    card_day = start[:8] if _valid_time(start) else ""
    if not _valid_date(card_day):
        return out
    visit_day = date(int(card_day[:4]), int(card_day[4:6]), int(card_day[6:8]))
    for table, i, name, value, list_name in codes.code_problems(hoso.tables, visit_day):
        out.append(r.finding("code.unknown", hoso, table, None if table == "XML1" else i, name, field=name,
                             value=value, list=list_name, day=visit_day.isoformat()))  # fmt: skip
    diagnoses = [("MA_BENH_CHINH", head.get("MA_BENH_CHINH", ""), True)]
    diagnoses += [("MA_BENH_KT", code, False) for code in head.get("MA_BENH_KT", "").split(";")]
    for name, code, main in diagnoses:
        if code and (problem := codes.icd_problem(code, main)):
            out.append(r.finding(f"icd.{problem}", hoso, "XML1", None, name, field=name, value=code))
    if head.get("MA_THE_BHYT"):
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
