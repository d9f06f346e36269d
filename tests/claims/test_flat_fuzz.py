"""A fuzzing harness for the compiled readers (``_flat.c``: the envelope and the strict table reader)
against lxml on the same bytes, with a fixed budget: real envelopes mutated byte by byte (flips,
inserts, deletes, repeats, truncations), in the envelope itself and inside a decoded table document.
Whatever the bytes, the compiled path gives exactly the envelope, tables and findings lxml gives, and
never crashes the process (issue 22)."""

from __future__ import annotations

import base64
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bhyt.claims import parser
from bhyt.claims.parser import Envelope, read_envelope
from tests.claims.test_parser import GOOD, GOOD2, XML1, envelope, inner

pytestmark = pytest.mark.skipif(
    parser._FLAT is None and os.environ.get("CI") != "true", reason="_flat not built (make setup builds it)"
)
BUDGET = 1_500  # examples per run of each test (derandomized: the same inputs every run)
XML3 = ("<CHITIEU_CHITIET_DVKT_VTYT><DSACH_CHI_TIET_DVKT><CHI_TIET_DVKT><MA_LK>LK1</MA_LK><STT>1</STT>"
        "<MA_DICH_VU>01.0001.0001</MA_DICH_VU><SO_LUONG>1.000</SO_LUONG><DON_GIA_BH>45000.000</DON_GIA_BH>"
        "<NGAY_YL>202501021000</NGAY_YL><T_BHTT>45000.00</T_BHTT></CHI_TIET_DVKT></DSACH_CHI_TIET_DVKT>"
        "</CHITIEU_CHITIET_DVKT_VTYT>")  # fmt: skip
SEEDS = (envelope(GOOD, GOOD2), envelope([("XML1", inner("XML1", XML1)), ("XML3", inner("XML3", XML3))]))
DOCUMENTS = (XML1.encode(), XML3.encode())


def seen(env: Envelope) -> tuple[object, ...]:
    """What a reader tells of a file: the envelope, each HOSO's tables and findings (not ``clean``, the
    compiled reader's own note of what it already checked)."""
    return (env.facility, env.created, env.findings, [(h.index, h.tables, h.findings) for h in env.hosos])


def by_lxml(data: bytes) -> tuple[object, ...]:
    saved = parser._FLAT, parser._FLAT_ENVELOPE
    parser._FLAT, parser._FLAT_ENVELOPE = None, None
    try:
        return seen(read_envelope(data, "f.xml"))
    finally:
        parser._FLAT, parser._FLAT_ENVELOPE = saved


MUTATION = st.tuples(st.sampled_from(["flip", "insert", "delete", "repeat", "cut"]), st.floats(0, 1),
                     st.binary(min_size=1, max_size=6))  # fmt: skip


def mutate(data: bytes, ops: list[tuple[str, float, bytes]]) -> bytes:
    for op, where, piece in ops:
        i = int(where * len(data))
        if op == "flip" and data:
            i = min(i, len(data) - 1)
            data = data[:i] + bytes([data[i] ^ piece[0]]) + data[i + 1 :]
        elif op == "insert":
            data = data[:i] + piece + data[i:]
        elif op == "delete":
            data = data[:i] + data[i + len(piece) :]
        elif op == "repeat":
            data = data[:i] + data[i : i + 8 * len(piece)] * 2 + data[i + 8 * len(piece) :]
        elif op == "cut":
            data = data[:i]
    return data


FUZZ = settings(max_examples=BUDGET, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(seed=st.sampled_from(SEEDS), ops=st.lists(MUTATION, min_size=1, max_size=6))
def test_mutated_envelopes_read_as_lxml_reads_them(seed: bytes, ops: list[tuple[str, float, bytes]]) -> None:
    data = mutate(seed, ops)
    assert seen(read_envelope(data, "f.xml")) == by_lxml(data)


@FUZZ
@given(doc=st.sampled_from(DOCUMENTS), ops=st.lists(MUTATION, min_size=1, max_size=6))
def test_mutated_table_documents_read_as_lxml_reads_them(doc: bytes, ops: list[tuple[str, float, bytes]]) -> None:
    """The strict table reader: a mutated document inside an envelope that is itself intact."""
    table = "XML1" if doc.startswith(b"<TONG_HOP>") else "XML3"
    body = base64.b64encode(b'<?xml version="1.0" encoding="utf-8"?>' + mutate(doc, ops)).decode()
    hoso = [("XML1", inner("XML1", XML1)), (table, body)] if table == "XML3" else [("XML1", body)]
    data = envelope(hoso)
    assert seen(read_envelope(data, "f.xml")) == by_lxml(data)
    assert re.search(rb"<NOIDUNGFILE>", data)
