"""The legacy QĐ 4210 layout (XML1-XML5, void since 2024-07-01 but met in old data), read onto QĐ 130/4750.

Field names and their 4750 counterparts follow bhyt-spec §1.14 and the vendor sources it cites
(sanglesoft/MOH.XML130 ``Xml4210.cs``; tracnn/qlbv_public's 4210 importer). The official 4210 appendix
was not available: what is not in those sources is marked [unverified] below and the HOSO carries a
``layout.4210`` finding saying it was converted, so an assessor knows the claim was read this way.
"""

from __future__ import annotations

# 4210 name -> 4750 name, per table; fields with no 4750 counterpart map to None and are dropped (the
# original bytes keep them).
RENAMES: dict[str, dict[str, str | None]] = {
    "XML1": {"MA_THE": "MA_THE_BHYT", "MA_BENH": "MA_BENH_CHINH", "MA_BENHKHAC": "MA_BENH_KT",
             "MA_NOI_CHUYEN": "MA_NOI_DI", "TINH_TRANG_RV": "MA_LOAI_RV", "MIEN_CUNG_CT": "NGAY_MIEN_CCT",
             "TEN_BENH": "CHAN_DOAN_RV",  # [unverified]
             "T_TONGCHI": "T_TONGCHI_BH", "T_NGOAIDS": "T_BHTT_GDV", "MA_LYDO_VVIEN": None},
    "XML2": {"TYLE_TT": "TYLE_TT_BH", "THANH_TIEN": "THANH_TIEN_BH", "T_NGUON_KHAC": "T_NGUONKHAC",
             "T_NGOAIDS": None, "MA_BENH": None},
    "XML3": {"DON_GIA": "DON_GIA_BH", "TYLE_TT": "TYLE_TT_BH", "THANH_TIEN": "THANH_TIEN_BH", "T_NGOAIDS": None},
    "XML4": {"MA_MAY": None},
    "XML5": {"DIEN_BIEN": "DIEN_BIEN_LS", "NGAY_YL": "THOI_DIEM_DBLS"},
}  # fmt: skip
# A 4210 file has no hospital-price amounts: they are taken equal to the insured ones [unverified: exact
# only when every line was charged at the insurance price].
DERIVED = {"XML1": {"T_TONGCHI_BV": "T_TONGCHI_BH"},
           "XML2": {"THANH_TIEN_BV": "THANH_TIEN_BH"},
           "XML3": {"THANH_TIEN_BV": "THANH_TIEN_BH", "DON_GIA_BV": "DON_GIA_BH"}}  # fmt: skip
# The inner roots 4210 senders write for XML2-XML5 (rows directly below; 4750 wraps them in CHITIEU_*).
ROOTS = {"XML2": "DSACH_CHI_TIET_THUOC", "XML3": "DSACH_CHI_TIET_DVKT", "XML4": "DSACH_CHI_TIET_CLS",
         "XML5": "DSACH_CHI_TIET_DIEN_BIEN_BENH"}  # fmt: skip
_MARKS = frozenset({"MA_THE", "MA_LYDO_VVIEN", "T_TONGCHI", "MA_BENH"})


def is_4210(tables: dict[str, list[dict[str, str]]]) -> bool:
    """An XML1 with 4210-only fields (MA_THE, MA_LYDO_VVIEN, …) and without MA_THE_BHYT."""
    head = (tables.get("XML1") or [{}])[0]
    return "MA_THE_BHYT" not in head and bool(_MARKS & head.keys())


def route_code(reason: str, registered: str, facility: str) -> str:
    """MA_DOITUONG_KCB for a 4210 MA_LYDO_VVIEN (1 right route, 2 emergency, 3 wrong route, 4 cross-
    registration): only the unambiguous cases; "" when it cannot be told (the assessment takes it up)."""
    if reason == "2":
        return "2"
    if reason == "4":
        return "1.2"
    if reason == "1" and registered and registered.split(";")[0] == facility:
        return "1.1"
    return ""


def to_4750(tables: dict[str, list[dict[str, str]]]) -> tuple[dict[str, list[dict[str, str]]], list[str]]:
    """The records renamed to 4750 with their formats (NGAY_SINH of 8 or 4 characters, one-digit
    MA_LOAI_KCB); also the names of the fields that had to be derived or left empty."""
    out: dict[str, list[dict[str, str]]] = {}
    notes: list[str] = []
    for table, rows in tables.items():
        renames, derived = RENAMES.get(table, {}), DERIVED.get(table, {})
        converted = []
        for record in rows:
            new = {name: v for k, v in record.items() if (name := renames.get(k, k)) is not None}
            for target, source in derived.items():
                if target not in new and new.get(source):
                    new[target] = new[source]
            converted.append(new)
        out[table] = converted
    head, old = out["XML1"][0], tables["XML1"][0]
    birth = head.get("NGAY_SINH", "")
    if len(birth) in (4, 8):
        head["NGAY_SINH"] = birth.ljust(8, "0") + "0000"
    if len(head.get("MA_LOAI_KCB", "")) == 1:
        head["MA_LOAI_KCB"] = head["MA_LOAI_KCB"].zfill(2)
    if "MA_DOITUONG_KCB" not in head:
        head["MA_DOITUONG_KCB"] = route_code(old.get("MA_LYDO_VVIEN", ""), head.get("MA_DKBD", ""),
                                             head.get("MA_CSKCB", ""))  # fmt: skip
        if not head["MA_DOITUONG_KCB"]:
            notes.append(f"MA_DOITUONG_KCB (MA_LYDO_VVIEN {old.get('MA_LYDO_VVIEN', '')!r})")
    notes += [f"{t}.{target}" for t, fields in DERIVED.items() for target in fields if out.get(t)]
    return out, notes
