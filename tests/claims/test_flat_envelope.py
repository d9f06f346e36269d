"""The compiled envelope reader gives exactly what the lxml path gives, or steps aside."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bhyt.claims import parser
from bhyt.claims.parser import Envelope, Limits, read_envelope
from bhyt.synth.run import SynthConfig, synthesize

ENVELOPE = parser._FLAT_ENVELOPE
pytestmark = pytest.mark.skipif(ENVELOPE is None and os.environ.get("CI") != "true", reason="_flat not built")
LIMIT = Limits().max_document_bytes
XML1 = base64.b64encode(b"<TONG_HOP><MA_LK>LK1</MA_LK><MA_CSKCB>01001</MA_CSKCB></TONG_HOP>").decode()


def envelope(files: str, head: str = "<MACSKCB>01001</MACSKCB>", tail: str = "<CHUKYDONVI></CHUKYDONVI>") -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><GIAMDINHHS>'
            f"<THONGTINDONVI>{head}</THONGTINDONVI><THONGTINHOSO><NGAYLAP>20250108</NGAYLAP>"
            f"<SOLUONGHOSO>1</SOLUONGHOSO><DANHSACHHOSO><HOSO>{files}</HOSO></DANHSACHHOSO></THONGTINHOSO>"
            f"{tail}</GIAMDINHHS>")  # fmt: skip


FILE = f"<FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>{XML1}</NOIDUNGFILE></FILEHOSO>"
PLAIN = envelope(FILE)


def by_lxml(data: bytes, limits: Limits | None = None) -> Envelope:
    saved, parser._FLAT_ENVELOPE = parser._FLAT_ENVELOPE, None
    try:
        return read_envelope(data, "f.xml", limits=limits)
    finally:
        parser._FLAT_ENVELOPE = saved


def same(data: bytes, limits: Limits | None = None) -> None:
    """read_envelope gives the same envelope, HOSO, tables and findings with the compiled reader as without."""
    assert read_envelope(data, "f.xml", limits=limits) == by_lxml(data, limits)


def test_reads_the_plain_envelope() -> None:
    assert ENVELOPE is not None
    facility, created, declared, hosos = ENVELOPE(PLAIN.encode(), LIMIT)
    assert (facility, created, declared) == ("01001", "20250108", "1")
    assert hosos == [[("XML1", base64.b64decode(XML1))]]
    same(PLAIN.encode())


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        (envelope(FILE, tail="<CHUKYDONVI/>"), True),
        (envelope(FILE, tail=""), True),
        (envelope(FILE, head=" <MACSKCB> 01001 </MACSKCB> "), True),  # stripped by the caller, as lxml's text
        (envelope(FILE.replace(XML1, XML1[:40] + "\n" + XML1[40:] + "\n")), True),  # line-wrapped base64
        (envelope(FILE + FILE), True),  # a duplicated table: the caller's finding
        (envelope(FILE.replace("XML1<", "xml9<")), True),
        (envelope(""), True),  # an empty HOSO
        (envelope("<FILEHOSO><LOAIHOSO>XML1</LOAIHOSO></FILEHOSO>"), True),  # no content: decodes to nothing
        (envelope(FILE, head=""), True),  # no facility: the caller's rejection
        (envelope(FILE, head="<MACSKCB>Bệnh</MACSKCB>"), True),
        (envelope(FILE, tail="<CHUKYDONVI><Signature/></CHUKYDONVI>"), False),  # a signature: lxml
        (envelope(FILE, tail="<X>1</X>"), False),  # an element the standard does not have
        (envelope(FILE, head="<MACSKCB>01001</MACSKCB><MACSKCB>01002</MACSKCB>"), False),  # find() takes the first
        (envelope(FILE.replace(XML1, XML1[:-2] + "!!")), False),  # not base64
        (envelope(FILE.replace(XML1, XML1 + "A")), False),  # truncated quad
        (envelope(FILE.replace(XML1, XML1[:-1] + "==")), False),  # too much padding
        (envelope(FILE.replace(XML1, "=" + XML1)), False),  # leading padding
        (envelope(FILE.replace(XML1, XML1[:40] + "\r\n" + XML1[40:])), False),  # a carriage return
        (envelope(FILE.replace(XML1, XML1[:40] + "&#10;" + XML1[40:])), False),  # a character reference
        (envelope(FILE, head="<MACSKCB>01&amp;01</MACSKCB>"), False),
        (envelope(FILE, head="<!-- c --><MACSKCB>01001</MACSKCB>"), False),
        (envelope(FILE).replace("<HOSO>", "<HOSO id='1'>"), False),  # an attribute
        (envelope(FILE).replace("<GIAMDINHHS>", "<!DOCTYPE GIAMDINHHS><GIAMDINHHS>"), False),
        (envelope(FILE).replace("</GIAMDINHHS>", ""), False),  # truncated
        (envelope(FILE) + "<GIAMDINHHS/>", False),  # two roots
        (envelope(FILE).replace("utf-8", "windows-1258"), False),
        (envelope(FILE).replace("<DANHSACHHOSO>", "<DANHSACHHOSO>x"), False),  # text between elements
        ("<TONG_HOP/>", False),
    ],
)  # fmt: skip
def test_takes_plain_envelopes_and_steps_aside_for_the_rest(text: str, taken: bool) -> None:
    assert ENVELOPE is not None
    data = text.encode("utf-8")
    assert (ENVELOPE(data, LIMIT) is not None) == taken
    same(data)


def test_a_text_that_is_not_utf8_or_a_document_over_the_limit_steps_aside() -> None:
    assert ENVELOPE is not None
    data = PLAIN.encode().replace(b">01001<", b">01\xe901<")
    assert ENVELOPE(data, LIMIT) is None
    assert [f.code for f in read_envelope(data, "f.xml").findings] == ["xml.syntax"]
    limits = Limits(max_document_bytes=len(XML1) * 3 // 4 - 1)
    assert ENVELOPE(PLAIN.encode(), limits.max_document_bytes) is None
    assert "hoso.too_large" in [f.code for h in read_envelope(PLAIN.encode(), "f", limits=limits).hosos
                                for f in h.findings]  # fmt: skip
    same(PLAIN.encode(), limits)
    huge = envelope(FILE.replace(XML1, "QUFB" * 2_500_001)).encode()  # a text node longer than lxml takes
    assert ENVELOPE(huge, LIMIT) is None
    assert [f.code for f in read_envelope(huge, "f").findings] == ["xml.syntax"]
    assert parser._FLAT is not None
    assert parser._FLAT(b"<TONG_HOP><HO_TEN>" + b"A" * 10_000_001 + b"</HO_TEN></TONG_HOP>", None) is None
    assert parser._FLAT(b"<TONG_HOP><HO_TEN>" + b"A" * 10_000_000 + b"</HO_TEN></TONG_HOP>", None) is not None
    shallow = Limits(max_depth=5)  # the envelope itself is six deep: the depth finding, from lxml
    assert [f.code for f in read_envelope(PLAIN.encode(), "f", limits=shallow).findings] == ["xml.too_deep"]


@settings(max_examples=300, deadline=None)
@given(content=st.binary(max_size=60), wrap=st.integers(1, 80), space=st.sampled_from(["\n", " ", "\t", "\n  "]))
def test_decodes_any_base64_as_python_does(content: bytes, wrap: int, space: str) -> None:
    assert ENVELOPE is not None
    text = base64.b64encode(content).decode()
    wrapped = space.join(text[i : i + wrap] for i in range(0, len(text), wrap))
    files = f"<FILEHOSO><LOAIHOSO>XML2</LOAIHOSO><NOIDUNGFILE>{wrapped}</NOIDUNGFILE></FILEHOSO>"
    assert ENVELOPE(envelope(files).encode(), LIMIT)[3] == [[("XML2", content)]]


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet="AQgw+/=0 \n\t\r!-_&<", max_size=24))
def test_never_decodes_what_python_refuses(text: str) -> None:
    assert ENVELOPE is not None
    files = f"<FILEHOSO><LOAIHOSO>XML2</LOAIHOSO><NOIDUNGFILE>{text}</NOIDUNGFILE></FILEHOSO>"
    fast = ENVELOPE(envelope(files).encode(), LIMIT)
    if fast is not None:
        assert fast[3] == [[("XML2", parser._base64(text))]]


PIECES = ["<GIAMDINHHS>", "</GIAMDINHHS>", "<THONGTINDONVI>", "</THONGTINDONVI>", "<MACSKCB>", "</MACSKCB>",
          "<THONGTINHOSO>", "</THONGTINHOSO>", "<DANHSACHHOSO>", "</DANHSACHHOSO>", "<HOSO>", "</HOSO>",
          "<FILEHOSO>", "</FILEHOSO>", "<LOAIHOSO>", "</LOAIHOSO>", "<NOIDUNGFILE>", "</NOIDUNGFILE>", "XML1", XML1,
          "01001", " ", "\n", "<CHUKYDONVI/>", "<X/>", "&", "é", "==", "<!--", "-->"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=30))
def test_never_differs_from_lxml(pieces: list[str]) -> None:
    same("".join(pieces).encode("utf-8"))


def test_every_synthetic_file_reads_the_same(tmp_path: Path) -> None:
    assert ENVELOPE is not None
    synthesize(SynthConfig(people=150, year=2025, seed=8, out=tmp_path, formats=frozenset({"xml"})))
    paths = sorted((tmp_path / "xml").rglob("*.xml"))
    assert len(paths) > 100
    for path in paths:
        data = path.read_bytes()
        assert ENVELOPE(data, LIMIT) is not None, path
        same(data)
