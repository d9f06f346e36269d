"""The compiled strict reader of table documents gives exactly what lxml gives, or steps aside."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from bhyt.claims import parser
from bhyt.synth.run import SynthConfig, synthesize

FLAT = parser._FLAT
LXML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True)
pytestmark = pytest.mark.skipif(FLAT is None and os.environ.get("CI") != "true", reason="_flat not built")


def by_lxml(data: bytes, row: str | None) -> tuple[str, list[dict[str, str]]] | None:
    try:
        doc = etree.fromstring(data, LXML)
    except etree.XMLSyntaxError:
        return None
    rows = [doc] if row is None else doc.iter(row)
    return str(doc.tag), [{str(c.tag): (c.text or "").strip() for c in r} for r in rows]


def test_the_reader_is_built_in_ci() -> None:
    assert FLAT is not None, "make setup builds src/bhyt/claims/_flat.c"


DOC = ('<?xml version="1.0" encoding="utf-8"?><CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC>'
       "<CHI_TIET_THUOC><MA_LK>LK1</MA_LK><STT>1</STT><TEN_THUOC> Paracetamol\u00a0</TEN_THUOC><LIEU_DUNG/>"
       "</CHI_TIET_THUOC>\n  <CHI_TIET_THUOC><MA_LK>LK1</MA_LK><STT>2</STT></CHI_TIET_THUOC>"
       "</DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>")  # fmt: skip


@pytest.mark.parametrize(
    ("text", "row", "taken"),
    [
        (DOC, "CHI_TIET_THUOC", True),
        (DOC.replace("<DSACH_CHI_TIET_THUOC>", "").replace("</DSACH_CHI_TIET_THUOC>", ""), "CHI_TIET_THUOC", True),
        ("<TONG_HOP><MA_LK>LK1</MA_LK><HO_TEN>Lê Thị Ánh</HO_TEN></TONG_HOP>", None, True),
        ("<TONG_HOP/>", None, True),
        (DOC.replace("utf-8", "ISO-8859-1"), "CHI_TIET_THUOC", False),  # another encoding: lxml reads it
        (DOC.replace("Paracetamol", "A &amp; B"), "CHI_TIET_THUOC", False),  # a reference
        (DOC.replace("Paracetamol", "A ]]> B"), "CHI_TIET_THUOC", False),  # not allowed in text
        (DOC.replace("Paracetamol", "A\r\nB"), "CHI_TIET_THUOC", False),
        (DOC.replace("<STT>1", "<STT x='1'>1"), "CHI_TIET_THUOC", False),  # an attribute
        (DOC.replace("<STT>1</STT>", "<!-- c --><STT>1</STT>"), "CHI_TIET_THUOC", False),
        (DOC.replace("<STT>1</STT>", "<STT><![CDATA[1]]></STT>"), "CHI_TIET_THUOC", False),
        (DOC.replace("</MA_LK>", "</MA_LX>", 1), "CHI_TIET_THUOC", False),  # malformed
        (" " + DOC, "CHI_TIET_THUOC", False),  # a declaration must come first
        (DOC + "<X/>", "CHI_TIET_THUOC", False),  # two roots
        ("<TONG_HOP><MA_LK><B>LK1</B></MA_LK></TONG_HOP>", None, False),  # nested
    ],
)  # fmt: skip
def test_takes_plain_documents_and_steps_aside_for_the_rest(text: str, row: str | None, taken: bool) -> None:
    assert FLAT is not None
    data = text.encode("utf-8") if "ISO" not in text else text.encode("latin-1")
    fast = FLAT(data, row)
    assert (fast is not None) == taken
    if fast is not None:
        assert fast == by_lxml(data, row)


PIECES = ["<TONG_HOP>", "</TONG_HOP>", "<MA_LK>", "</MA_LK>", "<A/>", "<B>", "</B>", "x", " ", "\n", "\t", "é",
          "\u00a0", "\u2003", "&", "<", ">", "]]>", "<!--", "-->", "\r", '<?xml version="1.0"?>', "\ufffe",
          "0"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=30), row=st.sampled_from([None, "B"]))
def test_never_differs_from_lxml(pieces: list[str], row: str | None) -> None:
    assert FLAT is not None
    data = "".join(pieces).encode("utf-8")
    fast = FLAT(data, row)
    if fast is not None:
        assert fast == by_lxml(data, row)


def test_every_synthetic_document_reads_the_same(tmp_path: Path) -> None:
    assert FLAT is not None
    synthesize(SynthConfig(people=150, year=2025, seed=8, out=tmp_path, formats=frozenset({"xml"})))
    seen = 0
    for path in sorted((tmp_path / "xml").rglob("*.xml")):
        for f in etree.fromstring(path.read_bytes()).iter("FILEHOSO"):
            data = base64.b64decode(f.findtext("NOIDUNGFILE") or "")
            row = parser.ROOTS[f.findtext("LOAIHOSO") or ""][1]
            assert FLAT(data, row) == by_lxml(data, row)
            seen += 1
    assert seen > 500


VALUES = st.one_of(
    st.from_regex(r"-?[0-9]{1,17}(\.[0-9]{1,4})?", fullmatch=True),
    st.text(alphabet="abcé 0123456789.-\u00a0", max_size=20),
    st.sampled_from(["", "0", "00", "0.5", "-0", "1.", ".5", "9" * 16, "1" * 5 + "." + "1" * 3]),
)


@settings(max_examples=300, deadline=None)
@given(
    values=st.dictionaries(
        st.sampled_from(
            [
                "MA_LK",
                "HO_TEN",
                "GIOI_TINH",
                "T_BHTT",
                "SO_NGAY_DTRI",
                "CAN_NANG",
                "MUC_HUONG",
                "NOT_A_FIELD",
                "MA_CSKCB",
            ]
        ),
        VALUES,
        max_size=6,
    )
)
def test_clean_means_no_field_finding(values: dict[str, str]) -> None:
    from xml.sax.saxutils import escape

    from bhyt.claims import schema

    assert FLAT is not None
    body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in values.items())
    result = FLAT(f"<TONG_HOP>{body}</TONG_HOP>".encode(), None, schema.flat_spec("XML1"))
    if result is None:
        return  # something lxml must read
    _, (record,), clean = result
    known = {f.name: f for f in schema.tables()["XML1"]}
    problems = [k for k, v in record.items() if k not in known or schema.check_value(known[k], v)]
    assert clean == (not problems), (record, problems)


def test_a_value_that_is_not_utf8_raises_and_a_declaration_that_is_not_ascii_steps_aside() -> None:
    """The reader is the only UTF-8 check of the documents it reads (the parser relies on it)."""
    assert FLAT is not None
    with pytest.raises(UnicodeDecodeError):
        FLAT(DOC.encode().replace(b"Paracetamol", b"Parac\xe9tamol"), "CHI_TIET_THUOC")
    assert FLAT(DOC.encode().replace(b'encoding="utf-8"', b'encoding="utf-8" \xe9'), "CHI_TIET_THUOC") is None
    assert FLAT(DOC.encode(), "CHI_TIET_THUOC") is not None


def test_a_names_rule_is_read_again_for_another_spec() -> None:
    """The reader keeps each name's rule for the spec it last read it from: a new spec is read anew."""
    assert FLAT is not None
    doc = b"<R><D><X><A>12</A><B>ab</B></X></D></R>"
    fitting, narrow = {"A": (1, 5, 0), "B": (0, 2, -1)}, {"A": (1, 5, 0), "B": (0, 1, -1)}
    assert [FLAT(doc, "X", s)[2] for s in (fitting, narrow, fitting, {"A": (1, 5, 0)})] == [True, False, True, False]
