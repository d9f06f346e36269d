"""The rule catalogue: each check an assessor applies, written as a view condition twice over —
an Ibis expression for the engines and a plain predicate for the reference evaluator.

Codes are stable. Sources follow ``shared/domain/assessment-rules.md`` (its IDs in ``basis``); a
parameter a rule reads is an effective-dated policy parameter with its own legal source.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from bhyt.assessment.rules import Ctx, EngineCtx, Needs, Row, Rule, Scope, Severity
from bhyt.assessment.views import in_list

S = Severity
CAT = frozenset({Needs.CATALOGUE})
DB = frozenset({Needs.DB})


def _codes(ctx: Ctx, r: Row, name: str) -> tuple[str, ...]:
    return ctx.params.code_list(name, ctx.at(r))


def _lt(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a < b


def _ne(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a != b


def _or100(value: int | None) -> int:
    return 100 if value is None else value


def rule(
    code: str,
    severity: Severity,
    scope: Scope,
    title: str,
    title_vi: str,
    basis: str,
    message: str,
    message_vi: str,
    engine: Callable[[ir.Table, EngineCtx], ir.BooleanValue],
    reference: Callable[[Row, Ctx], bool],
    args: tuple[str, ...] = (),
    needs: frozenset[Needs] = frozenset(),
    reason_code: str | None = None,
) -> Rule:
    return Rule(
        code, title, title_vi, basis, severity, scope, message, message_vi, engine, reference, args, needs, reason_code
    )


C, L = Scope.CLAIM, Scope.LINE

RULES: tuple[Rule, ...] = (
    # Facility and contract (IN)
    rule(
        "facility.not_contracted",
        S.REJECT_CLAIM,
        C,
        "Facility outside its contract with the fund",
        "Cơ sở KCB ngoài thời hạn hợp đồng KCB BHYT",
        "IN-06, GDH 58 [V]; the contract (hợp đồng KCB BHYT, ND 188/2025) held by the registry",
        "admitted {admit_day} at {facility}, whose contract with the fund runs {contract_from} to {contract_to}",
        "vào viện ngày {admit_day} tại {facility}, hợp đồng KCB BHYT từ {contract_from} đến {contract_to}",
        lambda v, x: v.uncontracted,
        lambda r, x: r["uncontracted"],
        ("admit_day", "facility", "contract_from", "contract_to"),
    ),
    # Card and eligibility (CE)
    rule(
        "card.malformed",
        S.REJECT_CLAIM,
        C,
        "Card number malformed",
        "Mã thẻ BHYT sai cấu trúc",
        "CE-02, GDH 8/17 [V]; policy.card",
        "card {card}: {card_error}",
        "thẻ {card}: {card_error}",
        lambda v, x: v.card_error.notnull(),
        lambda r, x: r["card_error"] is not None,
        ("card", "card_error"),
    ),
    rule(
        "card.not_yet_valid",
        S.REJECT_CLAIM,
        C,
        "Care before the card's start date",
        "KCB trước ngày thẻ có giá trị",
        "CE-03 [V2]; portal code 02",
        "admitted {admit_day}, card valid from {card_valid_from}",
        "vào viện {admit_day}, thẻ có giá trị từ {card_valid_from}",
        lambda v, x: v.admit_day < v.card_valid_from,
        lambda r, x: _lt(r["admit_day"], r["card_valid_from"]),
        ("admit_day", "card_valid_from"),
    ),
    rule(
        "card.expired",
        S.REJECT_CLAIM,
        C,
        "Card expired before the visit",
        "Thẻ hết hạn trước ngày KCB",
        "CE-03 [V2]; portal code 01",
        "admitted {admit_day}, card valid to {card_valid_to}",
        "vào viện {admit_day}, thẻ có giá trị đến {card_valid_to}",
        lambda v, x: v.admit_day > v.card_valid_to,
        lambda r, x: _lt(r["card_valid_to"], r["admit_day"]),
        ("admit_day", "card_valid_to"),
    ),
    rule(
        "card.expired_during_stay",
        S.REJECT_LINE,
        L,
        "Service after the card's grace period",
        "Chi phí sau thời hạn thẻ cho phép",
        "CE-04: ND 188/2025 Art. 50(4) [V2]; card.expiry_grace_days",
        "ordered {ordered_day}, card valid to {card_valid_to} plus {grace_days} days",
        "y lệnh ngày {ordered_day}, thẻ hết hạn {card_valid_to}, quá {grace_days} ngày",
        lambda v, x: v.inpatient & (v.admitted_at.date() <= v.card_valid_to) & (v.ordered_day > v.expiry_limit),
        lambda r, x: (
            r["inpatient"]
            and not _lt(r["card_valid_to"], r["admitted_at"].date())
            and _lt(r["expiry_limit"], r["ordered_day"])
        ),
        ("ordered_day", "card_valid_to", "grace_days"),
    ),
    rule(
        "card.benefit_digit_unusual",
        S.REVIEW,
        C,
        "Benefit digit unusual for the group",
        "Mức hưởng không thường gặp với mã đối tượng",
        "CE-07 [V2]; benefit.usual_level_by_group",
        "group {card_group} usually has benefit digit {usual_digit}, the card has {card_digit}",
        "nhóm {card_group} thường có mức hưởng {usual_digit}, thẻ ghi {card_digit}",
        lambda v, x: v.card_error.isnull() & (v.usual_digit != v.card_digit),
        lambda r, x: r["card_error"] is None and _ne(r["usual_digit"], r["card_digit"]),
        ("card_group", "usual_digit", "card_digit"),
    ),
    rule(
        "card.living_area",
        S.REJECT_CLAIM,
        C,
        "Living-area code unknown",
        "Mã khu vực không hợp lệ",
        "GDH 38 [V]; benefit.living_area_codes",
        "MA_KHUVUC {living_area} is not in the list",
        "MA_KHUVUC {living_area} không có trong danh mục",
        lambda v, x: ~v.area_known,
        lambda r, x: not r["area_known"],
        ("living_area",),
    ),
    # Route and level (RL)
    rule(
        "route.unknown",
        S.REJECT_CLAIM,
        C,
        "Route code not in force for this visit",
        "Mã đối tượng KCB không hợp lệ",
        "RL-05; QĐ 824 / QĐ 3276 lists by date [V2]; route.rates",
        "MA_DOITUONG_KCB {route_code} has no rate for visit type {visit_type} on {at}",
        "MA_DOITUONG_KCB {route_code} không áp dụng cho loại KCB {visit_type} ngày {at}",
        lambda v, x: v.visit_type_known & v.route_rate.isnull(),
        lambda r, x: r["visit_type_known"] and r["route_rate"] is None,
        ("route_code", "visit_type", "at"),
    ),
    rule(
        "route.not_registered_here",
        S.REVIEW,
        C,
        "Registered-facility route, registered elsewhere",
        "Đúng nơi đăng ký nhưng thẻ đăng ký nơi khác",
        "RL-01/RL-02 [V]/[V2]; route.registered_facility_codes",
        "route {route_code} but the card is registered at {registered_facility}",
        "mã {route_code} nhưng thẻ đăng ký KCB ban đầu tại {registered_facility}",
        lambda v, x: (
            in_list(x, v, v.route_code, "route.registered_facility_codes")
            & (v.registered_facility != v.facility).fill_null(True)
        ),
        lambda r, x: (
            r["route_code"] in _codes(x, r, "route.registered_facility_codes")
            and r["registered_facility"] != r["facility"]
        ),
        ("route_code", "registered_facility"),
    ),
    rule(
        "route.referral_missing",
        S.REVIEW,
        C,
        "Referral route without a referring facility",
        "Chuyển tuyến nhưng thiếu nơi chuyển đi",
        "RL-06: TT 01/2025 Art. 9–10 [V2]; route.referral_codes",
        "route {route_code} but MA_NOI_DI is empty",
        "mã {route_code} nhưng không có MA_NOI_DI",
        lambda v, x: (
            in_list(x, v, v.route_code, "route.referral_codes") & (v.referred_from.isnull() | (v.referred_from == ""))
        ),
        lambda r, x: r["route_code"] in _codes(x, r, "route.referral_codes") and not r["referred_from"],
        ("route_code",),
    ),
    rule(
        "visit.type_unknown",
        S.REJECT_CLAIM,
        C,
        "Visit type not in force",
        "Mã loại KCB không hợp lệ",
        "IN-01, GDH 37 [V]; visit.types",
        "MA_LOAI_KCB {visit_type} is not in the list on {at}",
        "MA_LOAI_KCB {visit_type} không có trong danh mục ngày {at}",
        lambda v, x: ~v.visit_type_known,
        lambda r, x: not r["visit_type_known"],
        ("visit_type", "at"),
    ),
    # Clinical consistency (CC)
    rule(
        "icd.unknown",
        S.REVIEW,
        C,
        "Main diagnosis not in the ICD-10 list",
        "Mã bệnh chính không có trong ICD-10",
        "CC-01: QĐ 4469/QĐ-BYT [V]",
        "{main_diagnosis} is not in the Ministry's ICD-10 list",
        "{main_diagnosis} không có trong danh mục ICD-10 của Bộ Y tế",
        lambda v, x: ~v.icd_known,
        lambda r, x: not r["icd_known"],
        ("main_diagnosis",),
    ),
    rule(
        "icd.not_main",
        S.REVIEW,
        C,
        "Code not allowed as a main diagnosis",
        "Mã không được dùng làm bệnh chính",
        "CC-02: QĐ 4469 Phụ lục A2 [V]",
        "{main_diagnosis} may not be the main diagnosis",
        "{main_diagnosis} không được dùng làm mã bệnh chính",
        lambda v, x: v.icd_known & ~v.icd_main_allowed,
        lambda r, x: r["icd_known"] and not r["icd_main_allowed"],
        ("main_diagnosis",),
    ),
    rule(
        "icd.sex",
        S.REVIEW,
        C,
        "Diagnosis impossible for the patient's sex",
        "Chẩn đoán không phù hợp giới tính",
        "CC-05: QĐ 4469 Phụ lục A4 [V]",
        "{main_diagnosis} is for sex {icd_sex} only",
        "{main_diagnosis} chỉ dùng cho giới {icd_sex}",
        lambda v, x: v.icd_sex.notnull() & v.sex_code.notnull() & (v.icd_sex != v.sex_code),
        lambda r, x: _ne(r["icd_sex"], r["sex_code"]),
        ("main_diagnosis", "icd_sex"),
    ),
    rule(
        "icd.age",
        S.REVIEW,
        C,
        "Diagnosis impossible at the patient's age",
        "Chẩn đoán không phù hợp tuổi",
        "CC-04: QĐ 4469 Phụ lục A3 [V]",
        "{main_diagnosis} is for ages {icd_min_age}–{icd_max_age} days; the patient is {age_days} days old",
        "{main_diagnosis} chỉ dùng cho tuổi {icd_min_age}–{icd_max_age} ngày; người bệnh {age_days} ngày tuổi",
        lambda v, x: (v.age_days < v.icd_min_age) | (v.age_days > v.icd_max_age),
        lambda r, x: _lt(r["age_days"], r["icd_min_age"]) or _lt(r["icd_max_age"], r["age_days"]),
        ("main_diagnosis", "icd_min_age", "icd_max_age", "age_days"),
    ),
    # Dates (DD)
    rule(
        "dates.discharge_before_admission",
        S.REJECT_CLAIM,
        C,
        "Discharge before admission",
        "Ngày ra trước ngày vào",
        "DD-03 [V2]",
        "admitted {admitted_at}, discharged {discharged_at}",
        "vào {admitted_at}, ra {discharged_at}",
        lambda v, x: v.discharged_at < v.admitted_at,
        lambda r, x: _lt(r["discharged_at"], r["admitted_at"]),
        ("admitted_at", "discharged_at"),
    ),
    rule(
        "dates.line_outside_episode",
        S.REJECT_LINE,
        L,
        "Service outside the episode",
        "Y lệnh ngoài thời gian điều trị",
        "DD-01 [V2]; QĐ 130 NGAY_YL",
        "ordered {ordered_at}, episode {admitted_at} – {discharged_at}",
        "y lệnh {ordered_at}, đợt điều trị {admitted_at} – {discharged_at}",
        lambda v, x: (v.ordered_at < v.admitted_at) | (v.ordered_at > v.discharged_at),
        lambda r, x: _lt(r["ordered_at"], r["admitted_at"]) or _lt(r["discharged_at"], r["ordered_at"]),
        ("ordered_at", "admitted_at", "discharged_at"),
    ),
    rule(
        "dates.treatment_days",
        S.INFO,
        C,
        "Treatment days inconsistent with the dates",
        "Số ngày điều trị không khớp ngày vào/ra",
        "DD-04, IN-08 [V2]; QĐ 4750 SO_NGAY_DTRI",
        "SO_NGAY_DTRI {treatment_days}, expected {expected_days}",
        "SO_NGAY_DTRI {treatment_days}, đúng ra là {expected_days}",
        lambda v, x: v.treatment_days != v.expected_days,
        lambda r, x: _ne(r["treatment_days"], r["expected_days"]),
        ("treatment_days", "expected_days"),
    ),
    # Beds (BD)
    rule(
        "bed.outpatient",
        S.REJECT_LINE,
        L,
        "Bed-day on an outpatient visit",
        "Tiền giường cho KCB ngoại trú",
        "BD-05 [V2]",
        "bed line on visit type {visit_type}",
        "dòng tiền giường với loại KCB {visit_type}",
        lambda v, x: v.is_bed & ~v.inpatient,
        lambda r, x: r["is_bed"] and not r["inpatient"],
        ("visit_type",),
    ),
    rule(
        "bed.days_exceed_stay",
        S.REJECT_LINE,
        L,
        "More bed-days than the stay allows",
        "Số ngày giường vượt thời gian nằm viện",
        "BD-01: TT 35/2016 Art. 4c(1) as amended by TT 39/2024 [V]; bed.* parameters",
        "bed-days reach {bed_cum}, the stay allows {bed_allowed}",
        "số ngày giường đến {bed_cum}, thời gian nằm viện cho phép {bed_allowed}",
        lambda v, x: v.is_bed & v.inpatient & (v.bed_cum > v.bed_allowed),
        lambda r, x: r["is_bed"] and r["inpatient"] and _lt(r["bed_allowed"], r["bed_cum"]),
        ("bed_cum", "bed_allowed"),
        reason_code="S.015.478",
    ),
    # Quantities and frequency (QF)
    rule(
        "line.invalid",
        S.REJECT_LINE,
        L,
        "Quantity, price or rate impossible",
        "Số lượng, đơn giá hoặc tỷ lệ sai",
        "AR-01 [V]; spec §1.12",
        "quantity {quantity}, price {unit_price}, rates {item_rate}% / {service_rate}%",
        "số lượng {quantity}, đơn giá {unit_price}, tỷ lệ {item_rate}% / {service_rate}%",
        lambda v, x: (
            (v.quantity <= 0)
            | v.quantity.isnull()
            | v.unit_price.isnull()
            | (v.unit_price < 0)
            | ~v.item_rate.coalesce(100).between(0, 100)
            | ~v.service_rate.coalesce(100).between(0, 100)
        ),
        lambda r, x: (
            r["quantity"] is None
            or r["quantity"] <= 0
            or r["unit_price"] is None
            or r["unit_price"] < 0
            or not 0 <= _or100(r["item_rate"]) <= 100
            or not 0 <= _or100(r["service_rate"]) <= 100
        ),
        ("quantity", "unit_price", "item_rate", "service_rate"),
    ),
    rule(
        "exam.daily_rate",
        S.ADJUST,
        L,
        "Consultation rate for its place in the day",
        "Tỷ lệ thanh toán công khám trong ngày",
        "QF-11: TT 35/2016 as amended by TT 39/2024 [N]/[V2]; items.consultation_rates",
        "consultation {exam_rank} of the day at {service_rate}%, payable at {expected_service_rate}%",
        "lần khám thứ {exam_rank} trong ngày tính {service_rate}%, được thanh toán {expected_service_rate}%",
        lambda v, x: v.is_exam & (v.service_rate.coalesce(100) != v.expected_service_rate),
        lambda r, x: r["is_exam"] and _or100(r["service_rate"]) != r["expected_service_rate"],
        ("exam_rank", "service_rate", "expected_service_rate"),
        reason_code="S.013.458",
    ),
    rule(
        "item.rate_mismatch",
        S.ADJUST,
        L,
        "Item payment rate differs from the list",
        "Tỷ lệ thanh toán BHYT của mục khác danh mục",
        "PL-05: TT 20/2022, TT 04/2017 [V]; items.percentage_paid_groups",
        "TYLE_TT_BH {item_rate}%, payable at {expected_item_rate}%",
        "TYLE_TT_BH {item_rate}%, được thanh toán {expected_item_rate}%",
        lambda v, x: v.item_rate.coalesce(100) != v.expected_item_rate,
        lambda r, x: _or100(r["item_rate"]) != r["expected_item_rate"],
        ("item_rate", "expected_item_rate"),
    ),
    # Duplicates and overlaps (DU)
    rule(
        "line.duplicate",
        S.REJECT_LINE,
        L,
        "Line billed twice",
        "Dòng chi phí trùng",
        "DU-03 [V2]",
        "same item {item_code} at the same time, quantity and price as an earlier line",
        "trùng mã {item_code}, thời gian, số lượng và đơn giá với dòng trước",
        lambda v, x: v.dup_rank > 1,
        lambda r, x: r["dup_rank"] > 1,
        ("item_code",),
    ),
    rule(
        "claim.duplicate",
        S.REJECT_CLAIM,
        C,
        "Claim already submitted",
        "Hồ sơ trùng",
        "DU-01: GDH 61 [V]",
        "the same card, dates, diagnosis and amounts as claim {dup_first}",
        "trùng thẻ, ngày, chẩn đoán và số tiền với hồ sơ {dup_first}",
        lambda v, x: v.is_copy,
        lambda r, x: r["is_copy"],
        ("dup_first",),
    ),
    rule(
        "claim.duplicate_stored",
        S.REJECT_CLAIM,
        C,
        "Claim already assessed in an earlier run",
        "Hồ sơ trùng với hồ sơ đã giám định",
        "DU-01: GDH 61 [V]",
        "the same card, dates, diagnosis and amounts as claim {stored_first}, assessed earlier",
        "trùng thẻ, ngày, chẩn đoán và số tiền với hồ sơ {stored_first} đã giám định",
        lambda v, x: v.stored_first.notnull(),
        lambda r, x: r["stored_first"] is not None,
        ("stored_first",),
        DB,
    ),
    rule(
        "claim.overlapping_stay",
        S.REVIEW,
        C,
        "Inpatient stays overlap at two facilities",
        "Hai đợt nội trú chồng thời gian tại hai cơ sở",
        "DU-04 [N]",
        "overlaps stay {overlap_with} at {overlap_facility}",
        "chồng thời gian với đợt {overlap_with} tại {overlap_facility}",
        lambda v, x: v.overlap_with.notnull(),
        lambda r, x: r["overlap_with"] is not None,
        ("overlap_with", "overlap_facility"),
    ),
    rule(
        "claim.same_day_facilities",
        S.REVIEW,
        C,
        "The card at another facility the same day",
        "Thẻ KCB tại cơ sở khác cùng ngày",
        "DU-05, QF-14: TT 12/2026 Art. 10(1)(h) [N]/[V2]",
        "the card was also used at {same_day_facility} on {admit_day}, with no referral between them",
        "thẻ cũng KCB tại {same_day_facility} ngày {admit_day}, không có chuyển tuyến",
        lambda v, x: v.same_day_facility.notnull(),
        lambda r, x: r["same_day_facility"] is not None,
        ("same_day_facility", "admit_day"),
    ),
    # Arithmetic (AR)
    rule(
        "line.arithmetic",
        S.ADJUST,
        L,
        "Line amount not quantity × price × rate",
        "Thành tiền khác số lượng × đơn giá × tỷ lệ",
        "AR-01/AR-02: GDH 3, 41, 45, 47 [V]",
        "THANH_TIEN_BV {total}, expected {expected_total}; parts differ by {balance}",
        "THANH_TIEN_BV {total}, đúng ra là {expected_total}; chênh lệch các nguồn {balance}",
        lambda v, x: (v.total != v.expected_total) | (v.balance != 0),
        lambda r, x: _ne(r["total"], r["expected_total"]) or (r["balance"] is not None and r["balance"] != 0),
        ("total", "expected_total", "balance"),
    ),
    rule(
        "claim.totals",
        S.ADJUST,
        C,
        "XML1 totals differ from the lines",
        "Tổng XML1 khác tổng các dòng",
        "AR-04: GDH 4, 31 [V]; spec §1.12",
        "T_TONGCHI_BV {total} vs lines {lines_total}; T_BHTT {fund} vs lines {lines_fund}",
        "T_TONGCHI_BV {total} so với các dòng {lines_total}; T_BHTT {fund} so với các dòng {lines_fund}",
        lambda v, x: (v.n_lines > 0) & ((v.total != v.lines_total) | (v.fund != v.lines_fund)),
        lambda r, x: r["n_lines"] > 0 and (_ne(r["total"], r["lines_total"]) or _ne(r["fund"], r["lines_fund"])),
        ("total", "lines_total", "fund", "lines_fund"),
    ),
    # Catalogue and prices (PL) — need --catalogue
    rule(
        "item.not_in_catalogue",
        S.REJECT_LINE,
        L,
        "Item not in the catalogue",
        "Mục không có trong danh mục",
        "PL-01/PL-04: TT 12/2026 Art. 10(1)(c) [V2]",
        "{item_code} is not in the catalogue",
        "{item_code} không có trong danh mục",
        lambda v, x: ~v.cat_found,
        lambda r, x: not r["cat_found"],
        ("item_code",),
        CAT,
        "S.004.351",
    ),
    rule(
        "item.not_at_level",
        S.REJECT_LINE,
        L,
        "Item not approved at this facility",
        "Mục chưa được phê duyệt tại cơ sở",
        "PL-01, RL-09: TT 20/2022 PL I [V]; facility price list",
        "{item_code} is not on {facility}'s approved list (its level may not bill it)",
        "{item_code} không có trong danh mục được phê duyệt của {facility}",
        lambda v, x: v.cat_found & ~v.cat_in_list,
        lambda r, x: r["cat_found"] and not r["cat_in_list"],
        ("item_code", "facility"),
        CAT,
        "S.004.369",
    ),
    rule(
        "price.above_approved",
        S.ADJUST,
        L,
        "Price above the approved price",
        "Đơn giá cao hơn giá phê duyệt",
        "PL-02: TT 12/2026 Art. 10(1)(d) [V2]",
        "unit price {unit_price} above the approved {cat_price}",
        "đơn giá {unit_price} cao hơn giá phê duyệt {cat_price}",
        lambda v, x: v.cat_in_list & (v.unit_price > v.cat_price),
        lambda r, x: r["cat_in_list"] and _lt(r["cat_price"], r["unit_price"]),
        ("unit_price", "cat_price"),
        CAT,
    ),
    rule(
        "service.sex",
        S.REJECT_LINE,
        L,
        "Service impossible for the patient's sex",
        "Dịch vụ không phù hợp giới tính",
        "CC-10 [V2]; catalogue restrictions",
        "{item_code} is for sex {cat_sex} only",
        "{item_code} chỉ dùng cho giới {cat_sex}",
        lambda v, x: v.cat_sex.notnull() & v.sex_code.notnull() & (v.cat_sex != v.sex_code),
        lambda r, x: bool(r["cat_sex"]) and _ne(r["cat_sex"], r["sex_code"]),
        ("item_code", "cat_sex"),
        CAT,
    ),
    rule(
        "service.age",
        S.REJECT_LINE,
        L,
        "Service impossible at the patient's age",
        "Dịch vụ không phù hợp tuổi",
        "CC-10 [V2]; catalogue restrictions",
        "{item_code} is for ages {cat_min_age}–{cat_max_age}; the patient is {age_years}",
        "{item_code} chỉ dùng cho tuổi {cat_min_age}–{cat_max_age}; người bệnh {age_years} tuổi",
        lambda v, x: (v.age_years < v.cat_min_age) | (v.age_years > v.cat_max_age),
        lambda r, x: _lt(r["age_years"], r["cat_min_age"]) or _lt(r["cat_max_age"], r["age_years"]),
        ("item_code", "cat_min_age", "cat_max_age", "age_years"),
        CAT,
    ),
    rule(
        "unbundling.part_with_panel",
        S.REJECT_LINE,
        L,
        "Component billed with the service that includes it",
        "Thành phần tính riêng khi đã có dịch vụ bao gồm nó",
        "BU-01/BU-10: TT 35/2016 Art. 4(4)(a) [V]",
        "{item_code} is part of {cat_part_of}, billed in the same claim",
        "{item_code} là thành phần của {cat_part_of} đã thanh toán trong hồ sơ",
        lambda v, x: v.parent_billed,
        lambda r, x: r["parent_billed"],
        ("item_code", "cat_part_of"),
        CAT,
        "S.005.434",
    ),
)

# Rules decided after the amounts: they compare what was claimed with what the step computed.
AFTER_AMOUNTS: tuple[Rule, ...] = (
    rule(
        "benefit.rate_mismatch",
        S.ADJUST,
        C,
        "Benefit rate (MUC_HUONG) recomputed differs",
        "Mức hưởng tính lại khác mức đề nghị",
        "AR-07 [V2]; ND 188/2025 Art. 18–19 via policy.benefit",
        "MUC_HUONG {submitted_rate}, recomputed {assessed_rate}",
        "MUC_HUONG {submitted_rate}, tính lại {assessed_rate}",
        lambda v, x: v.submitted_rate != v.assessed_rate,
        lambda r, x: _ne(r["submitted_rate"], r["assessed_rate"]),
        ("submitted_rate", "assessed_rate"),
    ),
    rule(
        "benefit.copay_exemption_unfounded",
        S.ADJUST,
        C,
        "Co-payment exemption not in force",
        "Miễn cùng chi trả chưa đủ điều kiện",
        "AR-07, GDH 21 [V2]; ND 188/2025 Art. 18(2)(c)",
        "NGAY_MIEN_CCT {copay_exempt_from}, 5-year date {five_year_date}, admitted {admit_day}",
        "NGAY_MIEN_CCT {copay_exempt_from}, ngày đủ 5 năm {five_year_date}, vào viện {admit_day}",
        lambda v, x: v.copay_exempt_from.notnull() & ~v.exempt,
        lambda r, x: r["copay_exempt_from"] is not None and not r["exempt"],
        ("copay_exempt_from", "five_year_date", "admit_day"),
    ),
    rule(
        "supply.package_ceiling",
        S.ADJUST,
        C,
        "Supplies of one service above the ceiling",
        "Vật tư của một dịch vụ vượt trần thanh toán",
        "PL-06: TT 04/2017 Art. 3(2)(b) [V]; items.supply_package_ceiling_months",
        "supply packages above the ceiling by {package_cut}",
        "gói vật tư vượt trần {package_cut}",
        lambda v, x: v.package_cut > 0,
        lambda r, x: r["package_cut"] > 0,
        ("package_cut",),
    ),
)

SKIPPED = rule(
    "checks.skipped",
    S.INFO,
    C,
    "Checks skipped for missing inputs",
    "Các kiểm tra chưa thực hiện",
    "bhyt assess: --registry, --catalogue",
    "not checked without {missing}: {skipped}",
    "chưa kiểm tra vì thiếu {missing}: {skipped}",
    lambda v, x: ibis.literal(True),
    lambda r, x: True,
    ("missing", "skipped"),
)

ALL: tuple[Rule, ...] = (*RULES, *AFTER_AMOUNTS, SKIPPED)
BY_CODE = {r.code: r for r in ALL}


def age_years(admit: date | None, birth: date | None) -> int | None:
    """Full years of age on the admission day."""
    if admit is None or birth is None:
        return None
    return (
        admit.year * 10000 + admit.month * 100 + admit.day - birth.year * 10000 - birth.month * 100 - birth.day
    ) // 10000
