"""The route code (MA_DOITUONG_KCB) a visit without referral or emergency gets at a facility: the
card's registered facility (1.1), another primary facility of the province (1.2), or a
self-referral code by the facility's kind and level under the list in force (QĐ 824 before the
QĐ 3276 codes, recognised by 1.11 being a self-referral code on the date).

The synthetic nation assigns the same codes to its walk-in visits (``synth.episodes.route_codes``);
a test holds the two equal.
"""

from __future__ import annotations

from datetime import date

from bhyt.policy.params import ParameterSet

PRIMARY_KINDS = ("station", "polyclinic")  # primary level (cấp ban đầu)
BASIC_PRIVATE_KINDS = ("private", "provincial_basic")
POINTS_CODES = {"lt50": "1.12", "50to70": "1.13", "former": "1.14"}  # QĐ 3276 basic-level outpatient codes


def walk_in_route(
    params: ParameterSet,
    at: date,
    kind: str,
    points: str | None,
    inpatient: bool,
    has_living_area: bool,
    registered_here: bool,
    same_province: bool,
) -> str:
    """The code for a patient who walks in with a card (no referral, no emergency)."""
    if registered_here:
        return "1.1"
    if kind in PRIMARY_KINDS and same_province:
        return "1.2"
    if has_living_area and inpatient and kind in ("central", "provincial"):
        return "3.6"
    if "1.11" not in params.code_list("route.self_referral_codes", at):  # QĐ 824
        if kind in PRIMARY_KINDS:
            return "1.2"
        if kind == "district" or kind in BASIC_PRIVATE_KINDS:
            return "3.3"
        if kind == "provincial":
            return "3.2" if inpatient else "3.5"
        return "3.1"
    if kind in PRIMARY_KINDS:
        return "1.11"
    if kind == "district":
        return "3.3"
    if kind in BASIC_PRIVATE_KINDS:
        return "1.15" if inpatient else POINTS_CODES.get(points or "", "1.1")
    if kind == "provincial":
        return "3.2" if inpatient else "1.18"
    return "3.1"
