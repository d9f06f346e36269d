"""Bounded work per file and per claim (issue 22): a table over the row limit or a HOSO over the
findings limit is refused with one finding naming the limit; empty rows are one finding, not one per
field; the others of the file go on. The 450,000-empty-row file is read in bounded time and memory."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bhyt.claims.parser import Limits, read_envelope
from tests.claims.test_parser import GOOD2, XML1, envelope, inner

BHYT = Path(sys.executable).parent / "bhyt"
ROWS = "<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC>{rows}</DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>"
LINE = "<CHI_TIET_THUOC><MA_LK>LK1</MA_LK><STT>{i}</STT><T_BHTT>1.00</T_BHTT></CHI_TIET_THUOC>"
BAD_LINE = "<CHI_TIET_THUOC><MA_LK>LK9</MA_LK><STT>x</STT><T_BHTT>y</T_BHTT><NOPE>1</NOPE></CHI_TIET_THUOC>"


def hoso(xml2_rows: str) -> list[tuple[str, str]]:
    return [("XML1", inner("XML1", XML1)), ("XML2", inner("XML2", ROWS.format(rows=xml2_rows)))]


def codes(h: object) -> list[str]:
    return [f.code for f in h.findings]  # type: ignore[attr-defined]


def test_a_table_over_the_row_limit_refuses_its_hoso_alone() -> None:
    many = "".join(LINE.format(i=i) for i in range(1, 12))
    env = read_envelope(envelope(hoso(many), GOOD2), "x.xml", "en", Limits(max_rows=10))
    refused, other = env.hosos
    assert refused.rejected
    assert codes(refused) == ["hoso.too_many_rows"]
    assert "11 rows, over the limit of 10" in refused.findings[0].message
    assert not other.rejected


def test_empty_rows_are_one_finding() -> None:
    rows = LINE.format(i=1) + "<CHI_TIET_THUOC/>" * 500 + "<CHI_TIET_THUOC></CHI_TIET_THUOC>" * 10
    (h,) = read_envelope(envelope(hoso(rows)), "x.xml", "en").hosos
    empties = [x for x in h.findings if x.code == "table.empty_rows"]
    assert len(empties) == 1
    assert "510 empty rows" in empties[0].message
    assert all(x.row in (None, 1) for x in h.findings)  # nothing said of the empty rows one by one
    assert not h.rejected
    assert len(h.tables["XML2"]) == 1


def test_a_hoso_over_the_findings_limit_is_refused_with_a_bounded_list() -> None:
    rows = "".join(BAD_LINE for _ in range(100))  # four findings a row
    (h,) = read_envelope(envelope(hoso(rows)), "x.xml", "en", Limits(max_findings=50)).hosos
    assert h.rejected
    assert len(h.findings) == 51
    assert h.findings[-1].code == "hoso.too_many_findings"
    assert "over the limit of 50" in h.findings[-1].message


def test_the_450000_empty_row_file_is_bounded(tmp_path: Path) -> None:
    """The probe's file: one HOSO whose XML3 holds 450,000 empty rows (8.5 MB of base64)."""
    xml3 = ("<CHITIEU_CHITIET_DVKT_VTYT><DSACH_CHI_TIET_DVKT>" + "<CHI_TIET_DVKT/>" * 450_000
            + "</DSACH_CHI_TIET_DVKT></CHITIEU_CHITIET_DVKT_VTYT>")  # fmt: skip
    path = tmp_path / "big.xml"
    path.write_bytes(envelope([("XML1", inner("XML1", XML1)), ("XML3", inner("XML3", xml3))], GOOD2))
    started = time.perf_counter()
    done = subprocess.run([BHYT, "ingest", str(path), "--db", f"sqlite:///{tmp_path / 'b.db'}", "--json",
                           "--workers", "0"], capture_output=True, text=True, timeout=120)  # fmt: skip
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # GiB (ru_maxrss is in KiB)
    assert done.returncode == 0, done.stderr  # the other HOSO of the file is received
    receipts = [json.loads(line) for line in done.stdout.splitlines()]  # a valid receipt, line by line
    assert [r["status"] for r in receipts] == ["rejected", "accepted"]
    assert [f["code"] for f in receipts[0]["findings"]] == ["hoso.too_many_rows"]
    assert len(done.stdout) < 100_000  # not 2 GiB of findings
    assert elapsed < 30
    assert peak < 1, f"peak {peak:.2f} GiB"
    print(f"450,000 empty rows: {elapsed:.1f} s, peak {peak:.2f} GiB")


def test_the_limits_are_settings(tmp_path: Path) -> None:
    import os

    path = tmp_path / "six.xml"
    path.write_bytes(envelope(hoso("".join(LINE.format(i=i) for i in range(1, 7)))))
    env = {**os.environ, "BHYT_MAX_ROWS": "5"}
    done = subprocess.run([BHYT, "ingest", str(path), "--db", f"sqlite:///{tmp_path / 's.db'}", "--json",
                           "--lang", "en"], capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 1  # nothing of the file could be received
    (receipt,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert receipt["findings"][0]["code"] == "hoso.too_many_rows"
    assert "BHYT_MAX_ROWS" in receipt["findings"][0]["message"]


def test_negative_quantities_prices_and_totals_are_findings() -> None:
    line = ("<CHI_TIET_THUOC><MA_LK>LK1</MA_LK><STT>1</STT><SO_LUONG>-5</SO_LUONG><DON_GIA>-0.000</DON_GIA>"
            "<T_BHTT>-100.00</T_BHTT></CHI_TIET_THUOC>")  # fmt: skip
    head = XML1.replace("<T_BHTT>100.00</T_BHTT>", "<T_BHTT>-100.00</T_BHTT>")
    xml2 = ROWS.format(rows=line)
    (h,) = read_envelope(envelope([("XML1", inner("XML1", head)), ("XML2", inner("XML2", xml2))]), "x.xml", "en").hosos
    negative = [(f.table, f.row, f.field) for f in h.findings if f.code == "field.negative"]
    assert negative == [("XML1", None, "T_BHTT"), ("XML2", 1, "SO_LUONG"), ("XML2", 1, "T_BHTT")]  # -0.000 is 0
    assert "no negative value" in next(f.message for f in h.findings if f.code == "field.negative")
