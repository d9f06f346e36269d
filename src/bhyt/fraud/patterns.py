"""Pattern detectors: each a named, explained test over the claim features.

A detector is declarative — a stable code, a title in English and Vietnamese, the abuse kind it
looks for (the synthetic nation's label, for the evaluation), a condition over the feature columns
and a sentence template filled from them — so a reviewer reads *why* a claim is on the worklist in
the words of the pattern, with the claims involved (``related``) as evidence. Detectors never
change a claim or its decision; they add reasons.

The learned score (:mod:`bhyt.fraud.model`) ranks; the detectors explain. A claim the score ranks
high with no detector firing is explained by the score's strongest features instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

Mask = npt.NDArray[np.bool_]
Columns = dict[str, npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Pattern:
    code: str
    title: str
    title_vi: str
    kinds: tuple[str, ...]  # the labelled abuse kinds it is meant to find
    when: Callable[[Columns], Mask]
    message: str  # str.format over the feature columns of the claim
    message_vi: str

    def text(self, values: dict[str, float], lang: str) -> str:
        return (self.message_vi if lang == "vi" else self.message).format(**values)


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "card_sharing", "One card at distant facilities within hours", "Một thẻ dùng ở nơi xa nhau trong vài giờ",
        ("card_sharing",),
        lambda f: (f["same_day_elsewhere"] > 0) & (f["hours_after_elsewhere"] <= 12),
        "the card was used at another facility {hours_after_elsewhere:.1f} h earlier the same day, with no "
        "referral between them",
        "thẻ đã được dùng ở cơ sở khác {hours_after_elsewhere:.1f} giờ trước trong cùng ngày, không có chuyển "
        "tuyến giữa hai nơi",
    ),
    Pattern(
        "phantom", "A stay with no trace of care", "Đợt điều trị không có dấu vết khám chữa bệnh thật",
        ("phantom",),
        lambda f: (f["only_claim"] > 0) & (f["no_diagnostics"] > 0) & (f["inpatient"] > 0),
        "a {los_days:.0f}-day inpatient stay with no test or imaging for a patient seen nowhere else",
        "đợt nội trú {los_days:.0f} ngày không xét nghiệm, chẩn đoán hình ảnh, người bệnh không khám ở đâu khác",
    ),
    Pattern(
        "after_death", "A visit after death", "Khám chữa bệnh sau khi đã tử vong",
        ("phantom",),
        lambda f: f["after_death"] > 0,
        "an earlier claim of this card records the patient's death before this admission",
        "hồ sơ trước của thẻ này ghi nhận người bệnh đã tử vong trước lần vào viện này",
    ),
    Pattern(
        "duplicate", "A claim sent twice", "Hồ sơ gửi hai lần",
        ("duplicate",),
        lambda f: (f["copy_later"] > 0) | (f["rule_duplicate"] > 0),
        "an exact copy of a claim already sent (same card, facility, admission, diagnosis and amount)",
        "bản sao của hồ sơ đã gửi (cùng thẻ, cơ sở, thời gian vào, chẩn đoán và số tiền)",
    ),
    Pattern(
        "overlapping_stay", "Two inpatient stays at once", "Hai đợt nội trú cùng lúc",
        ("overlapping_stay",),
        lambda f: (f["overlap_later"] > 0) | (f["rule_overlap"] > 0),
        "an inpatient stay that overlaps an earlier stay of the same card at another facility",
        "đợt nội trú trùng thời gian với đợt nội trú của cùng thẻ ở cơ sở khác",
    ),
    Pattern(
        "ping_pong", "Referred back and forth", "Chuyển tuyến qua lại",
        ("ping_pong",),
        lambda f: f["referral_loop"] > 0,
        "referred from a facility that this facility referred the same patient to within 30 days",
        "được chuyển từ cơ sở mà chính cơ sở này đã chuyển người bệnh đến trong 30 ngày",
    ),
    Pattern(
        "repeat_visits", "Visits beyond clinical need", "Khám lại nhiều lần không cần thiết",
        ("repeat_visits",),
        lambda f: f["repeat_30d"] >= 2,
        "{repeat_30d:.0f} earlier visits for the same complaint at the same facility within 30 days",
        "{repeat_30d:.0f} lần khám trước cùng bệnh tại cùng cơ sở trong 30 ngày",
    ),
    Pattern(
        "upcoding", "Services unusual for the diagnosis", "Dịch vụ bất thường so với chẩn đoán",
        ("upcoding",),
        lambda f: (f["rare_item_share"] >= 0.3) & (f["rare_drug_share"] < 0.1) & (f["padding_share"] == 0),
        "{rare_items:.0f} item(s) billed on under 2% of claims with this diagnosis make "
        "{rare_item_share:.0%} of the cost",
        "{rare_items:.0f} dịch vụ chỉ có ở dưới 2% hồ sơ cùng chẩn đoán chiếm {rare_item_share:.0%} chi phí",
    ),
    Pattern(
        "unbundling", "A panel billed as its parts", "Tách dịch vụ đã có trong gói",
        ("unbundling",),
        lambda f: f["rule_unbundling"] > 0,
        "parts of a test panel billed beside the panel itself",
        "thành phần của gói xét nghiệm được thanh toán cùng với chính gói đó",
    ),
    Pattern(
        "inflated_los", "A stay stretched", "Kéo dài ngày điều trị",
        ("inflated_los",),
        lambda f: f["los_ratio_dx"] >= 2,
        "a {los_days:.0f}-day stay, {los_ratio_dx:.1f} times the usual stay for the diagnosis",
        "nằm viện {los_days:.0f} ngày, gấp {los_ratio_dx:.1f} lần thường lệ của chẩn đoán",
    ),
    Pattern(
        "prescription", "A prescription out of line", "Kê đơn bất thường",
        ("prescription",),
        lambda f: (f["drug_qty_ratio"] >= 4) | (f["rare_drug_share"] >= 0.2),
        "a drug at {drug_qty_ratio:.1f} times its usual quantity, or costly drugs unusual for the diagnosis "
        "({rare_drug_share:.0%} of the cost)",
        "thuốc gấp {drug_qty_ratio:.1f} lần số lượng thường lệ, hoặc thuốc đắt tiền bất thường với chẩn đoán "
        "({rare_drug_share:.0%} chi phí)",
    ),
    Pattern(
        "sudden_change", "A facility's sudden change", "Thay đổi đột ngột của cơ sở",
        ("facility_surge",),
        lambda f: f["padding_share"] > 0,
        "services this facility has added to most of its visits since a month, {padding_share:.0%} of this claim",
        "dịch vụ cơ sở bắt đầu chỉ định cho hầu hết lượt khám từ một tháng, chiếm {padding_share:.0%} hồ sơ này",
    ),
    Pattern(
        "facility_outlier", "A facility unlike its peers", "Cơ sở khác biệt so với cơ sở cùng hạng",
        ("facility_surge",),
        # Many more services per visit than its peers, not explained by a case mix of many more
        # admissions (a central hospital among provincial ones has both).
        lambda f: (f["fac_lines_z"] >= 4) & (f["fac_admission_z"] < 4),
        "the facility bills many more services per visit than facilities of its level in its region (robust z: "
        "services {fac_lines_z:.1f}, cost {fac_cost_z:.1f}, admissions {fac_admission_z:.1f})",
        "cơ sở chỉ định nhiều dịch vụ mỗi lượt hơn hẳn cơ sở cùng hạng trong vùng (z: dịch vụ {fac_lines_z:.1f}, "
        "chi phí {fac_cost_z:.1f}, nhập viện {fac_admission_z:.1f})",
    ),
    Pattern(
        "rule_breach", "Rejected by the assessment rules", "Bị quy tắc giám định từ chối",
        ("price_above_list", "sex_age_impossible", "expired_card", "wrong_route"),
        lambda f: (f["rule_rejects"] > 0) | (f["rule_route"] > 0),
        "the assessment rejected or cut it ({rule_rejects:.0f} rule(s)); see its findings",
        "giám định đã từ chối hoặc cắt giảm ({rule_rejects:.0f} quy tắc); xem kết quả giám định",
    ),
)  # fmt: skip
BY_CODE = {p.code: p for p in PATTERNS}


def columns(features: pa.Table, names: tuple[str, ...]) -> Columns:
    return {n: features[n].to_numpy(zero_copy_only=False).astype(np.float64) for n in names}


def fired(cols: Columns) -> dict[str, Mask]:
    """Each detector's claims."""
    return {p.code: np.asarray(p.when(cols), bool) for p in PATTERNS}
