"""Roles and what each may see. Pure functions of the principal and the record's owner, so the
access rules are tested as a matrix without a server.

- facility staff: card checks at their own facility, their own facility's claims;
- assessor: claims of facilities in their province;
- province officer: registry records (and card checks) of people of their province;
- citizen: their own record and visits;
- auditor: everything, read-only; admin: everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bhyt.policy.provinces import current_codes, merged_code, province_codes


class Role(StrEnum):
    FACILITY = "facility"
    ASSESSOR = "assessor"
    PROVINCE = "province"
    CITIZEN = "citizen"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller, as its signed token names it."""

    subject: str
    role: Role
    facility: str | None = None  # facility staff
    province: str | None = None  # assessor, province officer
    citizen_id: str | None = None  # citizen

    def __post_init__(self) -> None:
        needs = {Role.FACILITY: self.facility, Role.ASSESSOR: self.province, Role.PROVINCE: self.province,
                 Role.CITIZEN: self.citizen_id}  # fmt: skip
        if self.role in needs and not needs[self.role]:
            raise ValueError(f"a {self.role.value} token needs its {_SCOPE[self.role]}")
        if self.province is not None and self.province not in current_codes():
            known = province_codes()
            hint = f": since 2025-07-01 it is part of {merged_code(self.province)}" if self.province in known else ""
            raise ValueError(f"province {self.province!r} is not one of the 34 provinces{hint}")
        if self.facility is not None and not (
            len(self.facility) == 5
            and self.facility.isascii()
            and self.facility.isalnum()
            and self.facility[:2] in province_codes()
        ):
            raise ValueError(
                f"facility {self.facility!r} is not a facility code (MA_CSKCB: 5 characters, a province's first)"
            )
        if self.citizen_id is not None and not (
            len(self.citizen_id) == 12 and self.citizen_id.isascii() and self.citizen_id.isdigit()
        ):
            raise ValueError(f"citizen ID {self.citizen_id!r} is not 12 digits")


_SCOPE = {Role.FACILITY: "facility", Role.ASSESSOR: "province", Role.PROVINCE: "province", Role.CITIZEN: "citizen_id"}
EVERYTHING = (Role.AUDITOR, Role.ADMIN)


def facility_province(facility: str) -> str:
    """The province a facility is in today: its code (MA_CSKCB) begins with its province's code as it
    was registered, mapped onto the 34 provinces since 2025-07-01 (74001, registered in Bình Dương, is in
    79, Ho Chi Minh City)."""
    prefix = facility[:2]
    return merged_code(prefix) if prefix in province_codes() else prefix


def may_check_card(p: Principal, facility: str | None, person_province: str | None, citizen_id: str | None) -> bool:
    """A card check: staff at their own facility (and only there), the person themself, the
    province officer of the person's province, auditors and admins."""
    if p.role in EVERYTHING:
        return True
    if p.role is Role.FACILITY:
        return facility is not None and facility == p.facility
    if p.role is Role.CITIZEN:
        return citizen_id is not None and citizen_id == p.citizen_id
    if p.role is Role.PROVINCE:
        return person_province is not None and person_province == p.province
    return False


def may_read_person(p: Principal, person_province: str, citizen_id: str) -> bool:
    """A registry record: the person, their province's officer, auditors and admins."""
    if p.role in EVERYTHING:
        return True
    if p.role is Role.CITIZEN:
        return citizen_id == p.citizen_id
    return p.role is Role.PROVINCE and person_province == p.province


def may_read_claim(p: Principal, facility: str, citizen_id: str | None = None) -> bool:
    """A stored claim: its facility's staff, assessors of its province, the patient, auditors, admins."""
    if p.role in EVERYTHING:
        return True
    if p.role is Role.FACILITY:
        return facility == p.facility
    if p.role is Role.ASSESSOR:
        return facility_province(facility) == p.province
    return p.role is Role.CITIZEN and citizen_id is not None and citizen_id == p.citizen_id


def may_submit_claims(p: Principal, facility: str | None) -> bool:
    """Claims are sent by the facility that treated (or an admin re-sending on its behalf)."""
    return p.role is Role.ADMIN or (p.role is Role.FACILITY and facility == p.facility)


def may_read_reports(p: Principal, province: str | None) -> bool:
    """Registry reports (increase/decrease lists, contributions due): province officers of the
    province, auditors, admins."""
    if p.role in EVERYTHING:
        return True
    return p.role is Role.PROVINCE and province is not None and province == p.province


def may_change_registry(p: Principal, person_province: str) -> bool:
    """Cards, participation and the registered facility: the province officer of the person's
    province and admins (auditors read, never write)."""
    return p.role is Role.ADMIN or (p.role is Role.PROVINCE and person_province == p.province)
