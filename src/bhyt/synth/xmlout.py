"""GIAMDINHHS envelopes in the QĐ 130/4750 standard, written from the claims lake.

One envelope per facility per day of discharge, one HOSO per episode, each inner table a base64
UTF-8 document: XML1 (summary), XML2 (drugs), XML3 (services and supplies), and where they apply
XML4 (results of paraclinical services), XML5 (clinical progress, for stays), XML7 (discharge
paper, for stays) and XML14 (re-visit appointment, for chronic care). Every field of a table is
written, in the standard's order, empty where the episode has no value; field names and sizes come
from the generated schema (``bhyt.claims.schema``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhyt import refdata
from bhyt.claims import schema

ROOTS = {  # table -> (root, list, row) elements, bhyt-spec §1.4
    "XML1": ("TONG_HOP", None, None),
    "XML2": ("CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC"),
    "XML3": ("CHITIEU_CHITIET_DVKT_VTYT", "DSACH_CHI_TIET_DVKT", "CHI_TIET_DVKT"),
    "XML4": ("CHITIEU_CHITIET_DICHVUCANLAMSANG", "DSACH_CHI_TIET_CLS", "CHI_TIET_CLS"),
    "XML5": ("CHITIEU_CHITIET_DIENBIENLAMSANG", "DSACH_CHI_TIET_DIEN_BIEN_BENH", "CHI_TIET_DIEN_BIEN_BENH"),
    "XML7": ("CHI_TIEU_DU_LIEU_GIAY_RA_VIEN", None, None),
    "XML13": ("CHI_TIEU_GIAYCHUYENTUYEN", None, None),
    "XML14": ("CHI_TIEU_GIAYHEN_KHAMLAI", None, None),
}
HEADER = '<?xml version="1.0" encoding="utf-8"?>'
DOCTOR = "000123/HCM-CCHN"  # practising-certificate shaped identifier of the synthetic clinicians


def strength(drug_name: str) -> str:
    """The strength written in a drug's name ("Amlodipin 10mg" -> "10mg"), as HAM_LUONG wants."""
    match = re.search(r"(\d[\d,./+ ]*(?:mg|g|ml|mcg|IU|U)\S*)", drug_name)
    return match.group(1).strip() if match else "Theo đăng ký"


def revisit(day: str) -> str:
    """The re-visit time of a chronic patient: 30 days after this visit, at 07:30 (yyyyMMddHHmm)."""
    d = date(int(day[:4]), int(day[4:6]), int(day[6:8])) + timedelta(days=30)
    return d.strftime("%Y%m%d") + "0730"


class Template:
    """All fields of one table in the standard's order, the given ones to be filled (in the order
    given) and the others written empty: the empty tags are compiled into the pattern once."""

    def __init__(self, table: str, filled: Sequence[str]) -> None:
        names = schema.field_names(table)
        unknown = set(filled) - set(names)
        if unknown:
            raise KeyError(f"{table} has no field {sorted(unknown)}")
        slot = {n: i for i, n in enumerate(filled)}
        self.pattern = "".join(f"<{n}>{{{slot[n]}}}</{n}>" if n in slot else f"<{n}></{n}>" for n in names)

    def render(self, *values: str) -> str:
        return self.pattern.format(*values)


def column_text(col: pa.ChunkedArray | pa.Array) -> list[str]:
    """A whole column in the standard's text form (as :func:`text`), formatted by Arrow kernels."""
    typ = col.type
    if pa.types.is_timestamp(typ):
        out = pc.strftime(col, format="%Y%m%d%H%M")
    elif pa.types.is_date(typ):
        out = pc.strftime(col, format="%Y%m%d")
    elif pa.types.is_decimal(typ):
        out = pc.cast(col, pa.string())
        if typ.scale:  # "240000.00" -> "240000", "47.50" -> "47.50": whole amounts without decimals
            out = pc.replace_substring_regex(out, pattern=r"\.0+$", replacement="")
    elif pa.types.is_string(typ):
        out = col
        for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            out = pc.replace_substring(out, raw, entity)
    else:
        out = pc.cast(col, pa.string())
    return pc.fill_null(out, "").to_pylist()  # type: ignore[no-any-return]


def _columns(table: pa.Table, names: Iterable[str]) -> dict[str, list[str]]:
    return {n: column_text(table[n]) for n in names}


def document(table: str, rows: Sequence[str]) -> str:
    root, lst, row = ROOTS[table]
    if lst is None:
        return f"{HEADER}<{root}>{rows[0]}</{root}>"
    body = "".join(f"<{row}>{r}</{row}>" for r in rows)
    return f"{HEADER}<{root}><{lst}>{body}</{lst}></{root}>"


def envelope(facility: str, day: str, hosos: Sequence[dict[str, str]]) -> str:
    """A GIAMDINHHS envelope: each HOSO is {LOAIHOSO: inner document}."""
    parts = []
    for hoso in hosos:
        files = "".join(
            f"<FILEHOSO><LOAIHOSO>{kind}</LOAIHOSO><NOIDUNGFILE>"
            f"{base64.b64encode(doc.encode('utf-8')).decode('ascii')}</NOIDUNGFILE></FILEHOSO>"
            for kind, doc in hoso.items()
        )
        parts.append(f"<HOSO>{files}</HOSO>")
    return (
        f"{HEADER}<GIAMDINHHS><THONGTINDONVI><MACSKCB>{facility}</MACSKCB></THONGTINDONVI>"
        f"<THONGTINHOSO><NGAYLAP>{day}</NGAYLAP><SOLUONGHOSO>{len(hosos)}</SOLUONGHOSO>"
        f"<DANHSACHHOSO>{''.join(parts)}</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI></CHUKYDONVI></GIAMDINHHS>"
    )


XML1_FIELDS = (
    *schema.XML1.values(),
    "STT",
    "MA_BN",
    "MA_QUOCTICH",
    "T_BHTT_GDV",
    "MA_KHOA",
    "MA_HSBA",
    "NGAY_TTOAN",
    "CHAN_DOAN_RV",
    "LY_DO_VV",
    "MA_NGHE_NGHIEP",
    "DIA_CHI",
    "CHAN_DOAN_VAO",
    "CAN_NANG",
)
ZERO_SOURCES = ("T_NGUONKHAC_NSNN", "T_NGUONKHAC_VTNN", "T_NGUONKHAC_VTTN", "T_NGUONKHAC_CL")
XML2_FIELDS = (
    *schema.XML2.values(),
    "MA_BAC_SI",
    "NGAY_TH_YL",
    "NGUON_CTRA",
    "LIEU_DUNG",
    "HAM_LUONG",
    "MA_KHOA",
    *ZERO_SOURCES,
)
XML3_COMMON = (
    "MA_LK",
    "STT",
    "MA_NHOM",
    "GOI_VTYT",
    "DON_VI_TINH",
    "PHAM_VI",
    "SO_LUONG",
    "DON_GIA_BV",
    "DON_GIA_BH",
    "TYLE_TT_DV",
    "TYLE_TT_BH",
    "THANH_TIEN_BV",
    "THANH_TIEN_BH",
    "MUC_HUONG",
    "T_NGUONKHAC",
    "T_BNTT",
    "T_BNCCT",
    "T_BHTT",
    "NGAY_YL",
    "MA_PTTT",
    "MA_BAC_SI",
    "NGAY_TH_YL",
    "MA_KHOA",
    "MA_BENH",
    *ZERO_SOURCES,
)
XML3_LINE = (
    "claim_id",
    "line_no",
    "cost_group",
    "supply_package",
    "unit",
    "scope",
    "quantity",
    "unit_price",
    "insured_price",
    "service_rate",
    "item_rate",
    "total",
    "insured",
    "benefit_rate",
    "other_sources",
    "outside",
    "copay",
    "fund",
    "ordered_at",
    "payment_method",
)


class XmlWriter:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.xml1 = Template("XML1", XML1_FIELDS)
        self.xml2 = Template("XML2", XML2_FIELDS)
        self.service = Template("XML3", (*XML3_COMMON, "MA_DICH_VU", "TEN_DICH_VU"))
        self.supply = Template("XML3", (*XML3_COMMON, "MA_VAT_TU", "TEN_VAT_TU"))
        self.xml4 = Template("XML4", ("MA_LK", "STT", "MA_DICH_VU", "TEN_CHI_SO", "GIA_TRI", "NGAY_KQ", "MA_BS_DOC_KQ"))
        self.xml5 = Template("XML5", ("MA_LK", "STT", "DIEN_BIEN_LS", "THOI_DIEM_DBLS", "NGUOI_THUC_HIEN"))
        self.xml7 = Template(
            "XML7",
            (
                "MA_LK",
                "SO_LUU_TRU",
                "MA_YTE",
                "NGAY_VAO",
                "NGAY_RA",
                "CHAN_DOAN_RV",
                "MA_TTDV",
                "MA_KHOA_RV",
                "PP_DIEUTRI",
                "MA_BS",
                "TEN_BS",
                "NGAY_CT",
            ),
        )
        self.xml14 = Template(
            "XML14",
            (
                "MA_LK",
                "SO_GIAYHEN_KL",
                "MA_CSKCB",
                "HO_TEN",
                "NGAY_SINH",
                "GIOI_TINH",
                "MA_THE_BHYT",
                "NGAY_VAO",
                "NGAY_RA",
                "MA_BENH_CHINH",
                "NGAY_HEN_KL",
                "MA_BAC_SI",
                "MA_TTDV",
                "NGAY_CT",
            ),
        )
        self.xml13 = Template(
            "XML13",
            ("MA_LK", "SO_HOSO", "SO_CHUYENTUYEN", "GIAY_CHUYEN_TUYEN", "MA_CSKCB", "MA_NOI_DI", "MA_NOI_DEN", "HO_TEN",
             "NGAY_SINH", "GIOI_TINH", "MA_THE_BHYT", "NGAY_VAO", "NGAY_RA", "DAU_HIEU_LS", "CHAN_DOAN_RV", "QT_BENHLY",
             "TOMTAT_KQ", "TEN_DICH_VU", "MA_BENH_CHINH", "MA_LOAI_RV", "MA_LYDO_CT", "HUONG_DIEU_TRI", "PHUONGTIEN_VC",
             "MA_BAC_SI", "MA_TTDV"),
        )  # fmt: skip
        icd = refdata.icd10()
        self.diagnosis = dict(zip(icd["code"].to_pylist(), icd["name_vi"].to_pylist(), strict=True))
        communes = refdata.communes()
        self.commune = dict(zip(communes["commune"].to_pylist(), communes["name"].to_pylist(), strict=True))

    def write_chunk(self, chunk: int, claims: pa.Table, lines: pa.Table, slice_claims: int = 4_000) -> int:
        """Write one chunk's claims, one envelope per facility and day of discharge; returns how many
        HOSO were written. Groups are rendered a slice at a time, so memory stays bounded."""
        day = pc.strftime(pc.cast(claims["discharged_at"], pa.date32()), format="%Y%m%d")
        keys = pa.table({"facility": claims["facility"], "day": day, "row": pa.array(np.arange(claims.num_rows))})
        keys = keys.sort_by([("facility", "ascending"), ("day", "ascending"), ("row", "ascending")])
        rows = np.asarray(keys["row"])
        facility, days = keys["facility"].to_pylist(), keys["day"].to_pylist()
        starts = [0] + [i for i in range(1, len(rows)) if (facility[i], days[i]) != (facility[i - 1], days[i - 1])]
        # The lines of each claim are contiguous (the lake is in claim order): a range per claim.
        line_claim = np.asarray(pc.index_in(lines["claim_id"], value_set=claims["claim_id"]))
        first = np.searchsorted(line_claim, np.arange(claims.num_rows), "left")
        last = np.searchsorted(line_claim, np.arange(claims.num_rows), "right")
        bounds = [*starts, len(rows)]
        g = 0
        while g < len(starts):
            end = g + 1
            while end < len(starts) and bounds[end + 1] - bounds[g] <= slice_claims:
                end += 1
            take = rows[bounds[g] : bounds[end]]
            line_rows = np.concatenate([np.arange(first[c], last[c]) for c in take]) if take.size else take
            hosos = self.hosos(claims.take(pa.array(take)), lines.take(pa.array(line_rows, pa.int64())))
            offset = bounds[g]
            for k in range(g, end):
                f, d = facility[bounds[k]], days[bounds[k]]
                folder = self.root / f
                folder.mkdir(parents=True, exist_ok=True)
                group = hosos[bounds[k] - offset : bounds[k + 1] - offset]
                (folder / f"{d}-{chunk:05d}.xml").write_text(envelope(f, d, group), encoding="utf-8")
            g = end
        return int(claims.num_rows)

    def hosos(self, claims: pa.Table, lines: pa.Table) -> list[dict[str, str]]:
        """The inner documents of each claim, in claim order."""
        c = _columns(claims, [k for k in schema.XML1 if k in claims.column_names])
        c["birth_date"] = [v + "0000" for v in c["birth_date"]]  # NGAY_SINH is yyyyMMddHHmm
        n = claims.num_rows
        keys = [k for k in schema.XML1 if k in c]
        if len(keys) != len(schema.XML1):
            raise KeyError(f"the claims table lacks {sorted(set(schema.XML1) - set(keys))}")
        main = dict(zip(c["claim_id"], c["main_diagnosis"], strict=True))
        by_claim = self._lines(lines, main)
        out: list[dict[str, str]] = []
        for i in range(n):
            ci = c["claim_id"][i]
            row = [c[k][i] for k in keys]
            diagnosis = self.diagnosis.get(c["main_diagnosis"][i], c["main_diagnosis"][i])
            address = f"{self.commune.get(c['commune'][i], c['commune'][i])}, tỉnh/thành phố {c['province'][i]}"
            age = int(c["admitted_at"][i][:4]) - int(c["birth_date"][i][:4])
            weight = f"{min(3.2 + 2.6 * age, 58.0):.2f}"
            discharged_day = c["discharged_at"][i][:8]
            xml1 = self.xml1.render(
                *row,
                "1",
                c["patient_id"][i],
                "000",
                c["fund"][i],
                "K01",
                ci,
                c["discharged_at"][i],
                diagnosis,
                "Khám bệnh",
                "00000",
                escape(address),
                diagnosis,
                weight,
            )
            hoso = {"XML1": document("XML1", [xml1])}
            drugs, services, labs = by_claim.get(ci, ([], [], []))
            if drugs:
                hoso["XML2"] = document("XML2", drugs)
            if services:
                hoso["XML3"] = document("XML3", services)
            if labs:
                hoso["XML4"] = document("XML4", labs)
            visit_type = c["visit_type"][i]
            if visit_type in ("03", "04", "06", "09"):
                hoso["XML5"] = document(
                    "XML5",
                    [self.xml5.render(ci, "1", "Bệnh nhân tỉnh, theo dõi và điều trị", c["admitted_at"][i], DOCTOR)],
                )
                hoso["XML7"] = document(
                    "XML7",
                    [
                        self.xml7.render(
                            ci,
                            ci,
                            c["patient_id"][i],
                            c["admitted_at"][i],
                            c["discharged_at"][i],
                            diagnosis,
                            "0100000001",
                            "K01",
                            "Điều trị nội khoa",
                            DOCTOR,
                            "Bác sĩ điều trị",
                            discharged_day,
                        )
                    ],
                )
            if c["discharge_type"][i] == "2":  # transferred up: the referral paper (bhyt-spec §1.4)
                paper = f"CT{ci[-10:]}"
                hoso["XML13"] = document(
                    "XML13",
                    [
                        self.xml13.render(
                            ci, ci, paper, paper, c["facility"][i], c["referred_from"][i], c["referred_to"][i],
                            c["name"][i], c["birth_date"][i], c["sex"][i], c["card"][i], c["admitted_at"][i],
                            c["discharged_at"][i],
                            "Diễn biến nặng hơn", diagnosis, "Điều trị nội khoa không đáp ứng",
                            "Kết quả cận lâm sàng kèm theo", "Điều trị nội trú", c["main_diagnosis"][i], "2", "1",
                            "Tiếp tục điều trị tại cơ sở tuyến trên", "Xe cứu thương", DOCTOR, "0100000001",
                        )
                    ],
                )  # fmt: skip
            if visit_type in ("05", "07", "08"):
                hoso["XML14"] = document(
                    "XML14",
                    [
                        self.xml14.render(
                            ci,
                            ci,
                            c["facility"][i],
                            c["name"][i],
                            c["birth_date"][i],
                            c["sex"][i],
                            c["card"][i],
                            c["admitted_at"][i],
                            c["discharged_at"][i],
                            c["main_diagnosis"][i],
                            revisit(discharged_day),
                            DOCTOR,
                            "0100000001",
                            discharged_day,
                        )
                    ],
                )
            out.append(hoso)
        return out

    def _lines(self, lines: pa.Table, main: dict[str, str]) -> dict[str, tuple[list[str], list[str], list[str]]]:
        drug_keys = list(schema.XML2)
        cols = _columns(lines, dict.fromkeys([*drug_keys, *XML3_LINE, "item_code", "name", "table", "item_kind"]))
        out: dict[str, tuple[list[str], list[str], list[str]]] = {}
        is_drug = pc.equal(lines["table"], "XML2").to_pylist()
        is_supply = pc.equal(lines["item_kind"], "sup").to_pylist()
        is_lab = pc.equal(lines["cost_group"], "1").to_pylist()
        drug_cols = [cols[k] for k in drug_keys]
        line_cols = [cols[k] for k in XML3_LINE]
        claim_id, code, name, ordered = cols["claim_id"], cols["item_code"], cols["name"], cols["ordered_at"]
        for i in range(lines.num_rows):
            entry = out.get(claim_id[i])
            if entry is None:
                entry = out[claim_id[i]] = ([], [], [])
            if is_drug[i]:
                entry[0].append(
                    self.xml2.render(
                        *(col[i] for col in drug_cols),
                        DOCTOR,
                        ordered[i],
                        "1",
                        "Theo chỉ định",
                        strength(name[i]),
                        "K01",
                        "0",
                        "0",
                        "0",
                        "0",
                    )
                )
                continue
            template = self.supply if is_supply[i] else self.service
            entry[1].append(
                template.render(
                    *(col[i] for col in line_cols),
                    DOCTOR,
                    ordered[i],
                    "K01",
                    main[claim_id[i]],
                    "0",
                    "0",
                    "0",
                    "0",
                    code[i],
                    name[i],
                )
            )
            if is_lab[i]:
                entry[2].append(
                    self.xml4.render(
                        claim_id[i],
                        str(len(entry[2]) + 1),
                        code[i][:15],
                        name[i][:255],
                        "Bình thường",
                        ordered[i],
                        DOCTOR,
                    )
                )
        return out
