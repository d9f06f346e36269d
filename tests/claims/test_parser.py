"""The envelope reader: safe against hostile files, exact about bad ones, and never a traceback."""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bhyt.claims.parser import Limits, _sum, read_envelope
from bhyt.synth.run import SynthConfig, synthesize


def inner(table: str, body: str) -> str:
    return base64.b64encode(f'<?xml version="1.0" encoding="utf-8"?>{body}'.encode()).decode()


XML1 = "<TONG_HOP><MA_LK>LK1</MA_LK><MA_CSKCB>92001</MA_CSKCB><T_BHTT>100.00</T_BHTT></TONG_HOP>"
XML2 = ("<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC><MA_LK>{ma_lk}</MA_LK><STT>1</STT>"
        "<T_BHTT>100.00</T_BHTT></CHI_TIET_THUOC></DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>")  # fmt: skip


def envelope(*hosos: list[tuple[str, str]], facility: str = "92001", count: int | None = None) -> bytes:
    body = "".join(
        "<HOSO>"
        + "".join(f"<FILEHOSO><LOAIHOSO>{t}</LOAIHOSO><NOIDUNGFILE>{c}</NOIDUNGFILE></FILEHOSO>" for t, c in h)
        + "</HOSO>"
        for h in hosos
    )
    n = len(hosos) if count is None else count
    return (f'<?xml version="1.0" encoding="utf-8"?><GIAMDINHHS><THONGTINDONVI><MACSKCB>{facility}</MACSKCB>'
            f"</THONGTINDONVI><THONGTINHOSO><NGAYLAP>20251231</NGAYLAP><SOLUONGHOSO>{n}</SOLUONGHOSO>"
            f"<DANHSACHHOSO>{body}</DANHSACHHOSO></THONGTINHOSO>"
            "<CHUKYDONVI></CHUKYDONVI></GIAMDINHHS>").encode()  # fmt: skip


GOOD = [("XML1", inner("XML1", XML1)), ("XML2", inner("XML2", XML2.format(ma_lk="LK1")))]
GOOD2 = [("XML1", inner("XML1", XML1.replace("LK1", "LK2"))), ("XML2", inner("XML2", XML2.format(ma_lk="LK2")))]
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                  b"]><GIAMDINHHS>&lol2;</GIAMDINHHS>")  # fmt: skip
XXE = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       b"<GIAMDINHHS><THONGTINDONVI><MACSKCB>&xxe;</MACSKCB></THONGTINDONVI></GIAMDINHHS>")  # fmt: skip

# case -> (bytes, file-level codes expected, per-HOSO codes expected)
CASES: dict[str, tuple[bytes, set[str], list[set[str]]]] = {
    "valid": (envelope(GOOD), set(), [set()]),
    "not xml": (b"hello, this is not XML", {"xml.syntax"}, []),
    "empty file": (b"", {"xml.syntax"}, []),
    "truncated": (envelope(GOOD)[:150], {"xml.syntax"}, []),
    "billion laughs": (BILLION_LAUGHS, {"xml.dtd"}, []),
    "external entity": (XXE, {"xml.dtd"}, []),
    "doctype lowercase": (b"<!doctype x><GIAMDINHHS/>", {"xml.dtd"}, []),
    "wrong root": (b"<HOSO/>", {"envelope.root"}, []),
    "no facility": (envelope(GOOD, facility=""), {"envelope.facility"}, [set()]),
    "count mismatch": (envelope(GOOD, count=3), {"envelope.count"}, [set()]),
    "deep nesting": (b"<GIAMDINHHS>" + b"<a>" * 40 + b"</a>" * 40 + b"</GIAMDINHHS>", {"xml.too_deep"}, []),
    "deep nesting inside a table": (envelope([("XML1", base64.b64encode(b"<TONG_HOP>" + b"<a>" * 300 + b"</a>" * 300
                                                                        + b"</TONG_HOP>").decode())]),
                                    set(), [{"hoso.xml"}]),
    "latin-1 envelope": ("<?xml version='1.0' encoding='utf-8'?><GIAMDINHHS><THONGTINDONVI><MACSKCB>Bệnh</MACSKCB>"
                         "</THONGTINDONVI></GIAMDINHHS>".encode("latin-1", "replace") + b"\xff", {"xml.syntax"}, []),
    "hoso without files": (envelope([]), set(), [{"hoso.empty"}]),
    "missing XML1": (envelope([GOOD[1]]), set(), [{"hoso.no_xml1"}]),
    "bad base64": (envelope([("XML1", "!!!not base64!!!")]), set(), [{"hoso.base64"}]),
    "inner not utf-8": (envelope([("XML1", base64.b64encode("<TONG_HOP>Đ</TONG_HOP>".encode("utf-16")).decode())]),
                        set(), [{"hoso.encoding"}]),
    "inner not xml": (envelope([("XML1", base64.b64encode(b"<TONG_HOP><MA_LK>").decode())]), set(), [{"hoso.xml"}]),
    "inner dtd": (envelope([("XML1", base64.b64encode(XXE).decode())]), set(), [{"xml.dtd"}]),
    "inner wrong root": (envelope([("XML1", inner("XML1", "<TONGHOP/>"))]), set(), [{"hoso.root"}]),
    "unknown table": (envelope([*GOOD, ("XML99", inner("XML1", XML1))]), set(), [{"hoso.table"}]),
    "table twice": (envelope([*GOOD, GOOD[0]]), set(), [{"hoso.duplicate_table"}]),
    "no MA_LK": (envelope([("XML1", inner("XML1", "<TONG_HOP><MA_CSKCB>92001</MA_CSKCB></TONG_HOP>"))]), set(),
                 [{"hoso.no_ma_lk"}]),
    "line for another MA_LK": (envelope([GOOD[0], ("XML2", inner("XML2", XML2.format(ma_lk="LK9")))]), set(),
                               [{"line.ma_lk"}]),
    "MA_LK twice in one file": (envelope(GOOD, GOOD), set(), [set(), {"hoso.duplicate_ma_lk"}]),
    "unknown field": (envelope([("XML1", inner("XML1", XML1.replace("</TONG_HOP>", "<FOO>1</FOO></TONG_HOP>"))),
                               GOOD[1]]), set(), [{"field.unknown"}]),
    "amount with letters": (envelope([("XML1", inner("XML1", XML1.replace("100.00", "1OO")))]), set(),
                            [{"field.format"}]),
    "too many decimals": (envelope([("XML1", inner("XML1", XML1.replace("100.00", "100.123"))), GOOD[1]]), set(),
                          [{"field.format", "totals.mismatch"}]),
    "code too long": (envelope([("XML1", inner("XML1", XML1.replace("92001<", "920011<"))), GOOD[1]]), set(),
                      [{"field.format"}]),
    "one bad HOSO among good ones": (envelope(GOOD, [("XML1", "%%%")], GOOD2),
                                     set(), [set(), {"hoso.base64"}, set()]),
    "no HOSO at all": (envelope(count=0), set(), []),
    "base64 wrapped over lines": (envelope([(t, "\n".join(c[i : i + 60] for i in range(0, len(c), 60)))
                                            for t, c in GOOD]), set(), [set()]),
    "lower-case LOAIHOSO": (envelope([(t.lower(), c) for t, c in GOOD]), set(), [set()]),
    "byte-order mark in a table": (envelope([("XML1", base64.b64encode(b"\xef\xbb\xbf" + XML1.encode()).decode()),
                                             GOOD[1]]), set(), [set()]),
    "comments and CDATA": (envelope([("XML1", inner("XML1", XML1.replace("<MA_LK>LK1</MA_LK>",
                                                                         "<!-- x --><MA_LK><![CDATA[LK1]]></MA_LK>"))),
                                      GOOD[1]]), set(), [set()]),
    "empty table document": (envelope([("XML1", "")]), set(), [{"hoso.xml"}]),
    "element inside MA_LK": (envelope([("XML1", inner("XML1", XML1.replace("<MA_LK>LK1</MA_LK>",
                                                                           "<MA_LK><B>LK1</B></MA_LK>")))]),
                             set(), [{"hoso.no_ma_lk"}]),
    "name longer than 255": (envelope([("XML1", inner("XML1", XML1.replace(
        "</TONG_HOP>", f"<HO_TEN>{'A' * 300}</HO_TEN></TONG_HOP>"))), GOOD[1]]), set(), [{"field.format"}]),
    "MA_LK longer than 100": (envelope([("XML1", inner("XML1", XML1.replace("LK1", "L" * 101)))]), set(),
                              [{"hoso.ma_lk_size"}]),
    "facility code of six characters": (envelope(GOOD, facility="920011"), {"envelope.facility_format"}, [set()]),
    "line number not a number": (envelope([GOOD[0], ("XML2", inner("XML2", XML2.format(ma_lk="LK1").replace(
        "<STT>1</STT>", "<STT>one</STT>")))]), set(), [{"field.format"}]),
    "XML2 with the wrong root": (envelope([GOOD[0], ("XML2", inner("XML2", "<CHI_TIET_THUOC/>"))]), set(),
                                 [{"hoso.root"}]),
    "entity declared inside a table": (envelope([("XML1", base64.b64encode(BILLION_LAUGHS).decode())]), set(),
                                       [{"xml.dtd"}]),
}  # fmt: skip


def test_at_least_forty_malformed_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_corpus(case: str) -> None:
    data, file_codes, hoso_codes = CASES[case]
    env = read_envelope(data, f"{case}.xml", lang="en")
    assert {f.code for f in env.findings} == file_codes
    assert len(env.hosos) == len(hoso_codes)
    for hoso, expected in zip(env.hosos, hoso_codes, strict=True):
        codes = {f.code for f in hoso.findings if f.code != "field.required"}
        assert codes == expected, [f.message for f in hoso.findings]
    for f in env.findings + [f for h in env.hosos for f in h.findings]:
        assert f.file == f"{case}.xml"
        assert f.message  # English text, never empty


LOGIC = {  # the episode's logic: each case gives exactly these findings
    "discharged before admitted": ("<NGAY_VAO>202501020800</NGAY_VAO><NGAY_RA>202501010900</NGAY_RA>",
                                   {"episode.dates"}),
    "a time that is not one": ("<NGAY_VAO>202513020800</NGAY_VAO>", {"field.timestamp"}),
    "a card date that is not one": ("<GT_THE_DEN>20250230</GT_THE_DEN>", {"field.date"}),
    "a malformed card number": ("<NGAY_VAO>202501020800</NGAY_VAO><MA_THE_BHYT>DN9797912345678</MA_THE_BHYT>",
                                {"card.format"}),
    "a total that is not the lines' sum": ("<T_TONGCHI_BV>5.00</T_TONGCHI_BV>", {"totals.mismatch"}),
    "a consistent episode": ("<NGAY_VAO>202501020800</NGAY_VAO><NGAY_RA>202501021000</NGAY_RA>", set()),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(LOGIC))
def test_episode_logic(case: str) -> None:
    extra, expected = LOGIC[case]
    head = inner("XML1", XML1.replace("</TONG_HOP>", extra + "</TONG_HOP>"))
    env = read_envelope(envelope([("XML1", head), GOOD[1]]), "x.xml", lang="en")
    codes = {f.code for f in env.hosos[0].findings if f.code != "field.required"}
    assert codes == expected, [f.message for f in env.hosos[0].findings if f.code != "field.required"]


def test_a_line_ordered_after_discharge_is_outside_the_episode() -> None:
    times = "<NGAY_VAO>202501020800</NGAY_VAO><NGAY_RA>202501021000</NGAY_RA></TONG_HOP>"
    head = inner("XML1", XML1.replace("</TONG_HOP>", times))
    late = "<STT>1</STT><NGAY_YL>202501031200</NGAY_YL>"
    line = inner("XML2", XML2.format(ma_lk="LK1").replace("<STT>1</STT>", late))
    findings = read_envelope(envelope([("XML1", head), ("XML2", line)]), "x.xml").hosos[0].findings
    (f,) = [f for f in findings if f.code == "line.outside_episode"]
    assert (f.table, f.row, f.field) == ("XML2", 1, "NGAY_YL")


def test_findings_locate_the_field() -> None:
    data = envelope([("XML1", inner("XML1", XML1.replace("100.00", "1OO")))])
    (f,) = [f for f in read_envelope(data, "x.xml").hosos[0].findings if f.code == "field.format"]
    assert (f.hoso_index, f.ma_lk, f.table, f.row, f.field) == (0, "LK1", "XML1", None, "T_BHTT")


def test_messages_in_vietnamese_by_default_and_english_on_request() -> None:
    data = envelope([GOOD[1]])
    assert read_envelope(data, "x.xml").hosos[0].findings[0].message == "HOSO thiếu bảng XML1"
    assert read_envelope(data, "x.xml", lang="en").hosos[0].findings[0].message == "the HOSO has no XML1"


def test_a_huge_base64_blob_is_refused_before_decoding() -> None:
    blob = "A" * (2 * 2**20)
    env = read_envelope(envelope([("XML1", blob)]), "x.xml", limits=Limits(max_document_bytes=2**20))
    assert {f.code for f in env.hosos[0].findings} == {"hoso.too_large"}


def test_an_oversized_file_is_refused_unread() -> None:
    env = read_envelope(b"<GIAMDINHHS/>" + b" " * 100, "x.xml", limits=Limits(max_file_bytes=50))
    assert [f.code for f in env.findings] == ["file.too_large"]


def test_rejected_only_when_unusable() -> None:
    env = read_envelope(envelope([("XML1", inner("XML1", XML1.replace("100.00", "1OO")))]), "x.xml")
    assert not env.hosos[0].rejected  # a format problem is a warning for the assessment
    env = read_envelope(envelope([GOOD[1]]), "x.xml")
    assert env.hosos[0].rejected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2_000) | st.builds(lambda cut, junk: envelope(GOOD)[:cut] + junk,
                                             st.integers(0, 800), st.binary(max_size=40)))  # fmt: skip
def test_fuzzed_input_never_raises(data: bytes) -> None:
    env = read_envelope(data, "fuzz.xml")
    assert env.rejected or env.hosos or not env.findings or env.findings


def test_every_synthetic_file_is_accepted_without_findings(tmp_path: Path) -> None:
    # The synthetic nation's XML passes the project's own intake validation (issue 3's bar).
    synthesize(SynthConfig(people=2_000, year=2025, seed=5, out=tmp_path, formats=frozenset({"xml"})))
    files = sorted((tmp_path / "xml").rglob("*.xml"))
    assert files
    for path in files:
        env = read_envelope(path.read_bytes(), str(path))
        assert not env.findings
        for hoso in env.hosos:
            assert not hoso.findings, [f.message for f in hoso.findings][:5]


def _coded(day: str, **fields: str) -> list[tuple[str, set[str]]]:
    """Findings (code, field) of a claim admitted on ``day`` whose XML1 also carries ``fields``."""
    body = "".join(f"<{k}>{v}</{k}>" for k, v in {"NGAY_VAO": f"{day}0800", "NGAY_RA": f"{day}0900", **fields}.items())
    env = read_envelope(envelope([("XML1", inner("XML1", XML1.replace("</TONG_HOP>", body + "</TONG_HOP>")))]), "x")
    return sorted((f.code, f.field or "") for f in env.hosos[0].findings if f.code.startswith(("code.", "icd.")))


@pytest.mark.parametrize(
    ("day", "fields", "expected"),
    [
        ("20260731", {"MA_LOAI_KCB": "14"}, [("code.unknown", "MA_LOAI_KCB")]),  # telemedicine: QĐ 1804 from 08/01
        ("20260801", {"MA_LOAI_KCB": "14"}, []),
        ("20240630", {"KET_QUA_DTRI": "8"}, [("code.unknown", "KET_QUA_DTRI")]),  # added by QĐ 4750
        ("20240701", {"KET_QUA_DTRI": "8"}, []),
        ("20250301", {"GIOI_TINH": "4", "MA_LOAI_RV": "6"},
         [("code.unknown", "GIOI_TINH"), ("code.unknown", "MA_LOAI_RV")]),
        ("20241231", {"MA_DOITUONG_KCB": "1.12"}, [("code.unknown", "MA_DOITUONG_KCB")]),  # QĐ 3276 code, 2025 on
        ("20250101", {"MA_DOITUONG_KCB": "1.12"}, []),
        ("20250101", {"MA_BENH_CHINH": "Z34.9", "MA_BENH_KT": "I10;X99.9"},
         [("icd.not_main", "MA_BENH_CHINH"), ("icd.unknown", "MA_BENH_KT")]),
        ("20250101", {"MA_BENH_CHINH": "J06.9", "MA_BENH_KT": "Z34.9"}, []),  # fine as a secondary diagnosis
    ],
)  # fmt: skip
def test_codes_are_checked_against_the_lists_in_force_that_day(
    day: str, fields: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    assert _coded(day, **fields) == expected


def test_line_codes_are_checked() -> None:
    line = XML2.format(ma_lk="LK1").replace("<STT>1</STT>", "<STT>1</STT><MA_NHOM>19</MA_NHOM><PHAM_VI>4</PHAM_VI>")
    head = XML1.replace("</TONG_HOP>", "<NGAY_VAO>202406300800</NGAY_VAO><NGAY_RA>202406300900</NGAY_RA></TONG_HOP>")
    env = read_envelope(envelope([("XML1", inner("XML1", head)), ("XML2", inner("XML2", line))]), "x")
    found = {(f.table, f.row, f.field) for f in env.hosos[0].findings if f.code == "code.unknown"}
    assert found == {("XML2", 1, "MA_NHOM"), ("XML2", 1, "PHAM_VI")}  # group 19 only from 2024-07-01


XML1_4210 = ("<TONG_HOP><MA_LK>OLD1</MA_LK><STT>1</STT><MA_BN>BN1</MA_BN><HO_TEN>Lê Văn B</HO_TEN>"
             "<NGAY_SINH>19800101</NGAY_SINH><GIOI_TINH>1</GIOI_TINH><MA_THE>DN4920123456789</MA_THE>"
             "<MA_DKBD>92001</MA_DKBD><GT_THE_TU>20230101</GT_THE_TU><GT_THE_DEN>20231231</GT_THE_DEN>"
             "<MA_BENH>J06.9</MA_BENH><MA_BENHKHAC>I10</MA_BENHKHAC><MA_LYDO_VVIEN>2</MA_LYDO_VVIEN>"
             "<NGAY_VAO>202303010800</NGAY_VAO><NGAY_RA>202303011000</NGAY_RA><TINH_TRANG_RV>1</TINH_TRANG_RV>"
             "<T_THUOC>5000</T_THUOC><T_TONGCHI>5000</T_TONGCHI><T_BHTT>5000</T_BHTT><T_BNCCT>0</T_BNCCT>"
             "<T_BNTT>0</T_BNTT><T_NGUONKHAC>0</T_NGUONKHAC><MA_LOAI_KCB>1</MA_LOAI_KCB><MA_CSKCB>92001</MA_CSKCB>"
             "</TONG_HOP>")  # fmt: skip
XML2_4210 = ("<DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC><MA_LK>OLD1</MA_LK><STT>1</STT><MA_THUOC>40.48</MA_THUOC>"
             "<MA_NHOM>4</MA_NHOM><TYLE_TT>100</TYLE_TT><SO_LUONG>10</SO_LUONG><DON_GIA>500</DON_GIA>"
             "<THANH_TIEN>5000</THANH_TIEN><MUC_HUONG>100</MUC_HUONG><T_BHTT>5000</T_BHTT><T_BNCCT>0</T_BNCCT>"
             "<T_BNTT>0</T_BNTT><T_NGUON_KHAC>0</T_NGUON_KHAC><NGAY_YL>202303010830</NGAY_YL>"
             "</CHI_TIET_THUOC></DSACH_CHI_TIET_THUOC>")  # fmt: skip


def test_legacy_4210_layout_is_read_onto_4750() -> None:
    env = read_envelope(envelope([("XML1", inner("XML1", XML1_4210)), ("XML2", inner("XML2", XML2_4210))]), "old.xml",
                        lang="en")  # fmt: skip
    (hoso,) = env.hosos
    head, (line,) = hoso.tables["XML1"][0], hoso.tables["XML2"]
    assert (head["MA_THE_BHYT"], head["MA_BENH_CHINH"], head["MA_BENH_KT"]) == ("DN4920123456789", "J06.9", "I10")
    assert (head["MA_DOITUONG_KCB"], head["MA_LOAI_KCB"], head["NGAY_SINH"]) == ("2", "01", "198001010000")
    assert (head["T_TONGCHI_BH"], head["T_TONGCHI_BV"], head["MA_LOAI_RV"]) == ("5000", "5000", "1")
    assert (line["TYLE_TT_BH"], line["THANH_TIEN_BH"], line["THANH_TIEN_BV"], line["T_NGUONKHAC"]) == (
        "100", "5000", "5000", "0")  # fmt: skip
    codes = {f.code for f in hoso.findings if f.code != "field.required"}
    assert codes == {"layout.4210"}, [f.message for f in hoso.findings if f.code != "field.required"]
    assert "MA_LYDO_VVIEN" not in head


def test_a_4210_route_that_cannot_be_told_is_left_for_the_assessment() -> None:
    body = XML1_4210.replace("<MA_LYDO_VVIEN>2</MA_LYDO_VVIEN>", "<MA_LYDO_VVIEN>3</MA_LYDO_VVIEN>")
    (hoso,) = read_envelope(envelope([("XML1", inner("XML1", body))]), "old.xml", lang="en").hosos
    assert hoso.tables["XML1"][0]["MA_DOITUONG_KCB"] == ""
    (note,) = [f for f in hoso.findings if f.code == "layout.4210"]
    assert "MA_LYDO_VVIEN '3'" in note.message


def test_every_checklist_note_is_enforced_somewhere() -> None:
    from bhyt.claims import checklist, schema

    for table, fields in schema.tables().items():
        for f in fields:
            note = f.check
            interpreted = (note in checklist.PATTERNS or note == checklist.SAME_AS_XML1
                           or checklist.ORDER.search(note) is not None)  # fmt: skip
            assert not note or interpreted or any(note.startswith(k) for k in checklist.HANDLED), (table, f.name, note)


def _checklist(*docs: tuple[str, str]) -> set[tuple[str, str | None]]:
    env = read_envelope(envelope([(t, inner(t, body)) for t, body in docs]), "x.xml", lang="en")
    return {(f.code, f.field) for f in env.hosos[0].findings if f.code.startswith("checklist.")}


STAY = "<NGAY_VAO>202503010800</NGAY_VAO><NGAY_RA>202503031000</NGAY_RA>"


def xml1_with(extra: str) -> tuple[str, str]:
    return "XML1", XML1.replace("</TONG_HOP>", extra + "</TONG_HOP>")


@pytest.mark.parametrize(
    ("docs", "expected"),
    [
        ([xml1_with("<SO_CCCD>12345</SO_CCCD>")], {("checklist.format", "SO_CCCD")}),
        ([xml1_with("<SO_CCCD>A1234567</SO_CCCD>")], set()),
        ([xml1_with(STAY + "<NGAY_VAO_NOI_TRU>202503010700</NGAY_VAO_NOI_TRU>")],
         {("checklist.order", "NGAY_VAO_NOI_TRU")}),
        ([xml1_with(STAY + "<MA_LOAI_KCB>03</MA_LOAI_KCB><SO_NGAY_DTRI>2</SO_NGAY_DTRI>")],
         {("checklist.treatment_days", "SO_NGAY_DTRI")}),  # 1 to 3 March: 3 days
        ([xml1_with(STAY + "<MA_LOAI_KCB>03</MA_LOAI_KCB><SO_NGAY_DTRI>3</SO_NGAY_DTRI>")], set()),
        ([xml1_with("<MA_LOAI_KCB>01</MA_LOAI_KCB><SO_NGAY_DTRI>1</SO_NGAY_DTRI>")],
         {("checklist.treatment_days", "SO_NGAY_DTRI")}),
        ([xml1_with("<MA_LOAI_KCB>01</MA_LOAI_KCB>"),
          ("XML8", "<CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN><MA_LK>LK1</MA_LK>"
                   "</CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN>")],
         {("checklist.xml8_visit_type", "MA_LK")}),
        ([xml1_with("<MA_THE_BHYT>DN4920123456789</MA_THE_BHYT>"),
          ("XML14", "<CHI_TIEU_GIAYHEN_KHAMLAI><MA_LK>LK1</MA_LK><MA_THE_BHYT>DN4920999999999</MA_THE_BHYT>"
                    "</CHI_TIEU_GIAYHEN_KHAMLAI>")],
         {("checklist.same_as_xml1", "MA_THE_BHYT")}),
        ([("XML1", XML1), ("XML3", "<CHITIEU_CHITIET_DVKT_VTYT><DSACH_CHI_TIET_DVKT><CHI_TIET_DVKT>"
          "<MA_LK>LK1</MA_LK><STT>1</STT><GOI_VTYT>X1</GOI_VTYT><NGAY_YL>202503011000</NGAY_YL>"
          "<NGAY_TH_YL>202503010900</NGAY_TH_YL></CHI_TIET_DVKT></DSACH_CHI_TIET_DVKT></CHITIEU_CHITIET_DVKT_VTYT>")],
         {("checklist.format", "GOI_VTYT"), ("checklist.order", "NGAY_TH_YL")}),
        ([("XML1", XML1), ("XML7", "<CHI_TIEU_DU_LIEU_GIAY_RA_VIEN><MA_LK>LK1</MA_LK><SO_NGAY_NGHI>5</SO_NGAY_NGHI>"
                                    "</CHI_TIEU_DU_LIEU_GIAY_RA_VIEN>")],
         {("checklist.leave_incomplete", "SO_NGAY_NGHI")}),
    ],
)  # fmt: skip
def test_the_vendor_checklist_notes(docs: list[tuple[str, str]], expected: set[tuple[str, str]]) -> None:
    assert _checklist(*docs) == expected


_ODD_AMOUNTS = [
    "",
    " 12 ",
    "1_000",
    "+5",
    "-0",
    "12.",
    ".5",
    "abc",
    " ",
    "1e3",
    "5.5 ",
    " 5.5",
    "1_.5",
    "-.5",
    ".",
    "-",
    "\u0663.\u0665",
    "-0.00",
    "18060.60",
    "0.5,1",
]
_AMOUNTS = st.one_of(
    st.integers(-(10**15), 10**15).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.sampled_from(_ODD_AMOUNTS),
)


@given(st.lists(_AMOUNTS, max_size=12))
def test_line_sums_are_the_exact_decimal_sums(values: list[str]) -> None:
    """The int fast path of the XML1 totals check sums exactly as Decimal does, or says "not a number" alike."""
    try:
        expected: Decimal | None = sum((Decimal(v or "0") for v in values), Decimal(0))
    except InvalidOperation:
        expected = None
    assert _sum(values) == expected


_STAMPS = st.sampled_from(["", "202506011200", "202506011300", "202506011100", "2025060112"])
_CHECKED_ROWS = st.fixed_dictionaries({
    "NGAY_YL": _STAMPS, "NGAY_TH_YL": _STAMPS, "NGAY_KQ": _STAMPS,
    "GOI_VTYT": st.sampled_from(["", "G1", "G1_1", "x!"]), "TAI_SU_DUNG": st.sampled_from(["", "1", "9"]),
    "VET_THUONG_TP": st.sampled_from(["", "0", "1", "7"]),
})  # fmt: skip
_CHECKED_XML6 = st.fixed_dictionaries({"NGAY_SINH": st.sampled_from(["", "198001010000", "198001020000"]),
                                       "GIOI_TINH": st.sampled_from(["", "1", "2"])})  # fmt: skip


@given(st.lists(_CHECKED_ROWS, max_size=6), st.lists(_CHECKED_XML6, max_size=3))
def test_the_checklists_one_pass_test_only_skips_tables_with_no_problem(
    lines: list[dict[str, str]], xml6: list[dict[str, str]]
) -> None:
    """Skipping a table that keeps every check (``_kept``) changes nothing: the same problems, in order."""
    from bhyt.claims import checklist

    tables = {"XML1": [{"NGAY_SINH": "198001010000", "GIOI_TINH": "1"}], "XML3": lines, "XML6": xml6}
    found = list(checklist.problems(tables))
    kept, checklist._kept = checklist._kept, lambda *_: False  # type: ignore[assignment]
    try:
        assert found == list(checklist.problems(tables))
    finally:
        checklist._kept = kept
