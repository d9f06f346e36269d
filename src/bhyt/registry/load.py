"""Bulk load of a registry folder (``bhyt synth``'s ``registry/``: facilities, people, cards) into the
database: households from the people's household numbers, one participation per card period with its
paying unit and the state's subsidy share from the policy parameters in force when it began."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, delete

from bhyt.db import insert_in_chunks
from bhyt.errors import BhytError
from bhyt.policy.contribution import Funding
from bhyt.policy.params import ParameterSet
from bhyt.registry.models import Card, Facility, Household, Participation, Person

CHUNK = 20_000
FILES = {
    "facilities.parquet": ("code", "name", "province", "kind", "level", "points", "contract_from", "contract_to"),
    "people.parquet": ("person_id", "citizen_id", "name", "birth_date", "sex", "province", "commune",
                       "household_id", "household_position"),
    "cards.parquet": ("person_id", "citizen_id", "card", "group", "benefit_digit", "card_province", "valid_from",
                      "valid_to", "registered_facility", "continuous_since", "five_year_date", "living_area"),
}  # fmt: skip


class RegistryInputError(BhytError, ValueError):
    """A registry folder that cannot be loaded: which file and what is wrong."""


@dataclass(frozen=True)
class Loaded:
    facilities: int
    households: int
    people: int
    participations: int
    cards: int


def payer_of(funding: str, group: str, province: str, household_id: int | None) -> str:
    """The paying unit a participation is listed under (danh sách tăng/giảm are per unit)."""
    if funding == Funding.HOUSEHOLD:
        return f"household:{household_id}"
    if funding == Funding.EMPLOYER:
        return f"employer:{province}:{group}"  # the synthetic nation has no employer register
    return f"{funding}:{province}"


def load_registry(
    engine: Engine, folder: Path, params: ParameterSet, progress: Callable[[str, int], None] | None = None
) -> Loaded:
    """Replace the registry with ``folder``'s contents, in one transaction (all or nothing)."""
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise RegistryInputError(f"{folder}: missing {', '.join(missing)} (expected the registry/ of bhyt synth)")
    try:
        facilities = pq.read_table(folder / "facilities.parquet")
        people = pq.read_table(folder / "people.parquet")
        cards = pq.read_table(folder / "cards.parquet")
    except (pa.ArrowInvalid, OSError) as exc:
        raise RegistryInputError(f"{folder}: {exc}") from exc
    for name, table in zip(FILES, (facilities, people, cards), strict=True):
        if absent := [c for c in FILES[name] if c not in table.column_names]:
            raise RegistryInputError(f"{folder / name}: missing column(s) {', '.join(absent)}")
    now = datetime.now().replace(microsecond=0)  # noqa: DTZ005 - recorded in local time
    tell = progress or (lambda _what, _n: None)
    households: dict[int, tuple[str, str | None]] = {}
    for hh, prov, commune in zip(*(people.column(k).to_pylist() for k in ("household_id", "province", "commune")),
                                 strict=True):  # fmt: skip
        if hh is not None:
            households.setdefault(hh, (prov, commune))
    person_household = dict(
        zip(people.column("person_id").to_pylist(), people.column("household_id").to_pylist(), strict=True)
    )
    with engine.begin() as conn:
        for table in (Card, Participation, Person, Household, Facility):
            conn.execute(delete(table))
        insert_in_chunks(conn, Facility, _facilities(facilities), CHUNK)
        tell("facilities", facilities.num_rows)
        rows = ({"id": h, "province": p, "commune": c} for h, (p, c) in households.items())
        insert_in_chunks(conn, Household, rows, CHUNK)
        tell("households", len(households))
        insert_in_chunks(conn, Person, _people(people), CHUNK)
        tell("people", people.num_rows)
        insert_in_chunks(conn, Participation, _participations(cards, params, person_household, now), CHUNK)
        tell("participations", cards.num_rows)
        insert_in_chunks(conn, Card, _cards(cards, now), CHUNK)
        tell("cards", cards.num_rows)
    return Loaded(facilities.num_rows, len(households), people.num_rows, cards.num_rows, cards.num_rows)


def _facilities(t: pa.Table) -> Iterator[dict[str, Any]]:
    for f in t.to_pylist():
        yield {"code": f["code"], "name": f["name"], "province": f["province"], "kind": f["kind"],
               "level": f["level"], "points": f.get("points") or None, "contract_from": f["contract_from"],
               "contract_to": f["contract_to"]}  # fmt: skip


def _people(t: pa.Table) -> Iterator[dict[str, Any]]:
    for p in t.to_batches(CHUNK):
        for r in p.to_pylist():
            yield {"id": r["person_id"], "citizen_id": r["citizen_id"], "name": r["name"],
                   "birth_date": r["birth_date"], "sex": r["sex"], "province": r["province"], "commune": r["commune"],
                   "household_id": r["household_id"], "household_position": r["household_position"]}  # fmt: skip


def participation_terms(
    params: ParameterSet, group: str, start: date, province: str, household_id: int | None
) -> dict[str, Any]:
    """Who pays for a participation in ``group`` from ``start``, and the state's subsidy share."""
    funding = params.code_by_code("contribution.funding_by_group", start).get(group, "unknown")
    share = params.percent_by_code("contribution.state_subsidy_share", start)
    subsidy = {"state": 100, "subsidised": int(share.get(group, 0))}.get(funding, 0)
    return {"funding": funding, "payer": payer_of(funding, group, province, household_id), "subsidy_percent": subsidy}


def _participations(
    cards: pa.Table, params: ParameterSet, household: dict[int, int | None], now: datetime
) -> Iterator[dict[str, Any]]:
    for part in cards.to_batches(CHUNK):
        for c in part.to_pylist():
            terms = participation_terms(params, c["group"], c["valid_from"], c["card_province"],
                                        household.get(c["person_id"]))  # fmt: skip
            yield {
                "person_id": c["person_id"],
                "group_code": c["group"],
                **terms,
                "valid_from": c["valid_from"],
                "valid_to": c["valid_to"],
                "recorded_at": now,
                "superseded_at": None,
            }


def _cards(cards: pa.Table, now: datetime) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    for part in cards.to_batches(CHUNK):
        for c in part.to_pylist():
            status = "renewed" if c["card"] in seen else "issued"
            seen.add(c["card"])
            yield {
                "person_id": c["person_id"],
                "number": c["card"],
                "group_code": c["group"],
                "benefit_digit": c["benefit_digit"],
                "valid_from": c["valid_from"],
                "valid_to": c["valid_to"],
                "registered_facility": c["registered_facility"],
                "continuous_since": c["continuous_since"],
                "five_year_date": c["five_year_date"],
                "living_area": c["living_area"],
                "status": status,
                "recorded_at": now,
                "superseded_at": None,
            }
