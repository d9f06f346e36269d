"""Finding messages in Vietnamese (the default) and English, keyed by finding code.

Rules and parsers never build sentences: they name a code and its parameters; this catalogue says it.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "file.too_large": (
        "Tệp {size} byte vượt giới hạn {limit} byte",
        "file of {size} bytes exceeds the limit of {limit} bytes",
    ),
    "file.unreadable": ("Không đọc được tệp: {reason}", "the file cannot be read: {reason}"),
    "xml.dtd": (
        "Tệp chứa khai báo DTD/ENTITY, không được chấp nhận",
        "the file declares a DTD or entities, which are refused",
    ),
    "xml.syntax": ("XML không hợp lệ: {reason}", "not well-formed XML: {reason}"),
    "xml.too_deep": ("XML lồng quá {limit} cấp", "XML nested deeper than {limit} levels"),
    "envelope.root": (
        "Phần tử gốc phải là GIAMDINHHS, nhận được {tag}",
        "the root element must be GIAMDINHHS, got {tag}",
    ),
    "envelope.facility": ("Thiếu MACSKCB trong THONGTINDONVI", "THONGTINDONVI has no MACSKCB"),
    "envelope.count": (
        "SOLUONGHOSO = {declared} nhưng có {found} HOSO",
        "SOLUONGHOSO says {declared} but {found} HOSO were found",
    ),
    "hoso.empty": ("HOSO không có FILEHOSO", "HOSO has no FILEHOSO"),
    "hoso.table": ("LOAIHOSO {table} không thuộc chuẩn", "LOAIHOSO {table} is not in the standard"),
    "hoso.base64": ("NOIDUNGFILE của {table} không phải base64 hợp lệ", "NOIDUNGFILE of {table} is not valid base64"),
    "hoso.too_large": (
        "{table} giải mã được {size} byte, vượt giới hạn {limit}",
        "{table} decodes to {size} bytes, over the limit of {limit}",
    ),
    "hoso.encoding": ("{table} không phải UTF-8: {reason}", "{table} is not UTF-8: {reason}"),
    "hoso.xml": ("{table} không phải XML hợp lệ: {reason}", "{table} is not well-formed XML: {reason}"),
    "hoso.root": (
        "{table}: phần tử gốc {tag}, chuẩn là {expected}",
        "{table}: root element {tag}, the standard has {expected}",
    ),
    "hoso.no_xml1": ("HOSO thiếu bảng XML1", "the HOSO has no XML1"),
    "hoso.too_many_rows": (
        "{table} có {rows} dòng, vượt giới hạn {limit} dòng của một bảng (BHYT_MAX_ROWS): hồ sơ bị từ chối",
        "{table} holds {rows} rows, over the limit of {limit} rows a table (BHYT_MAX_ROWS): the HOSO is refused",
    ),
    "hoso.too_many_findings": (
        "hồ sơ có {count} lỗi, vượt giới hạn {limit} (BHYT_MAX_FINDINGS): hồ sơ bị từ chối, liệt kê {limit} lỗi đầu",
        "the HOSO has {count} findings, over the limit of {limit} (BHYT_MAX_FINDINGS): it is refused, the first "
        "{limit} listed",
    ),
    "table.empty_rows": (
        "{table} có {rows} dòng trống (không có trường nào): bỏ qua các dòng này",
        "{table} holds {rows} empty rows (no field at all): they are left out",
    ),
    "hoso.duplicate_table": ("{table} xuất hiện hai lần trong HOSO", "{table} appears twice in the HOSO"),
    "hoso.no_ma_lk": ("XML1 thiếu MA_LK", "XML1 has no MA_LK"),
    "hoso.ma_lk_size": ("MA_LK dài {size} ký tự, tối đa {limit}", "MA_LK is {size} characters long, at most {limit}"),
    "envelope.facility_format": (
        "MACSKCB {facility!r} không phải mã cơ sở 5 ký tự",
        "MACSKCB {facility!r} is not a 5-character facility code",
    ),
    "hoso.duplicate_ma_lk": (
        "MA_LK {ma_lk} đã có ở HOSO {first} trong cùng tệp",
        "MA_LK {ma_lk} already appears in HOSO {first} of the same file",
    ),
    "line.ma_lk": (
        "Dòng có MA_LK {found}, khác MA_LK {expected} của XML1",
        "the line's MA_LK {found} differs from the XML1 MA_LK {expected}",
    ),
    "field.unknown": ("Trường {field} không có trong chuẩn", "field {field} is not in the standard"),
    "field.required": ("Thiếu trường bắt buộc {field}", "required field {field} is empty"),
    "field.format": ("{detail}", "{detail}"),
    "field.negative": (
        "{field} = {value}: chuẩn dữ liệu không cho phép số âm",
        "{field} = {value}: the standard allows no negative value",
    ),
    "field.timestamp": (
        "{field} = {value!r} không phải thời điểm yyyyMMddHHmm hợp lệ",
        "{field} = {value!r} is not a valid yyyyMMddHHmm time",
    ),
    "field.date": (
        "{field} = {value!r} không phải ngày yyyyMMdd hợp lệ",
        "{field} = {value!r} is not a valid yyyyMMdd date",
    ),
    "episode.dates": ("NGAY_RA {end} trước NGAY_VAO {start}", "NGAY_RA {end} is before NGAY_VAO {start}"),
    "line.outside_episode": (
        "NGAY_YL {at} nằm ngoài đợt điều trị {start}–{end}",
        "NGAY_YL {at} is outside the episode {start}–{end}",
    ),
    "totals.mismatch": (
        "{field} = {stated} nhưng tổng các dòng là {summed}",
        "{field} says {stated} but the lines add up to {summed}",
    ),
    "card.format": ("Mã thẻ {card}: {reason}", "card {card}: {reason}"),
    "code.unknown": (
        "{field} = {value!r} không có trong danh mục {list} áp dụng ngày {day}",
        "{field} = {value!r} is not in the list {list} in force on {day}",
    ),
    "icd.unknown": (
        "{field}: mã {value!r} không có trong danh mục ICD-10 của Bộ Y tế (QĐ 4469)",
        "{field}: {value!r} is not in the Ministry's ICD-10 list (QĐ 4469)",
    ),
    "icd.not_main": (
        "{field}: mã {value!r} không được dùng làm bệnh chính",
        "{field}: {value!r} may not be used as the main diagnosis",
    ),
    "claim.withdraw_unknown": (
        "Không có hồ sơ {ma_lk} đang hiệu lực của cơ sở {facility} để rút (MA_DOITUONG_KCB 8)",
        "there is no active claim {ma_lk} of facility {facility} to withdraw (MA_DOITUONG_KCB 8)",
    ),
    "claim.facility_mismatch": (
        "MA_CSKCB {found} của XML1 khác cơ sở gửi {facility}",
        "XML1 MA_CSKCB {found} differs from the sending facility {facility}",
    ),
    "fhir.invalid": (
        "FHIR Claim không đọc được tại {path}: {reason}",
        "the FHIR Claim cannot be read at {path}: {reason}",
    ),
    "layout.4210": (
        "Hồ sơ theo mẫu cũ QĐ 4210, đã đọc sang QĐ 130/4750; trường suy ra hoặc để trống: {derived}",
        "read as the legacy QĐ 4210 layout and converted to QĐ 130/4750; derived or left empty: {derived}",
    ),
    "checklist.format": ("{field} = {value!r}: phải là {detail}", "{field} = {value!r}: must be {detail}"),
    "checklist.same_as_xml1": (
        "{field} = {value!r} khác thông tin ở bảng 1 ({detail!r})",
        "{field} = {value!r} differs from XML1 ({detail!r})",
    ),
    "checklist.order": ("{field} = {value} trước {detail}", "{field} = {value} is before {detail}"),
    "checklist.treatment_days": (
        "SO_NGAY_DTRI = {value} nhưng theo MA_LOAI_KCB và ngày vào, ra phải là {detail}",
        "SO_NGAY_DTRI = {value} but the visit type and the stay give {detail}",
    ),
    "checklist.xml8_visit_type": (
        "Bảng 8 chỉ gửi khi MA_LOAI_KCB là 03, 04 hoặc 06 (đang là {detail!r})",
        "XML8 is only sent for visit types 03, 04 or 06 (this one is {detail!r})",
    ),
    "checklist.leave_incomplete": (
        "SO_NGAY_NGHI, NGOAITRU_TUNGAY, NGOAITRU_DENNGAY phải ghi đủ cả ba",
        "SO_NGAY_NGHI, NGOAITRU_TUNGAY and NGOAITRU_DENNGAY go together: all three or none",
    ),
    "checklist.arv_days": (
        "SO_NGAY_CAP_THUOC_ARV = {value} vượt số ngày điều trị ({detail})",
        "SO_NGAY_CAP_THUOC_ARV = {value} exceeds the days of treatment ({detail})",
    ),
    "storage.failed": (
        "Không lưu được hồ sơ, xin gửi lại ({reason})",
        "the claim could not be stored; please send it again ({reason})",
    ),
}


def render(code: str, lang: str = "vi", **params: object) -> str:
    """The message for ``code`` in ``lang`` ("vi" or "en")."""
    vi, en = MESSAGES[code]
    return (en if lang == "en" else vi).format(**params)
