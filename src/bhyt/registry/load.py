"""Bulk load of a registry folder (``bhyt synth``'s ``registry/``: facilities, employers, people, cards,
payments) into the database: households from the people's household numbers, one participation per
card period with its paying unit, income and the state's subsidy share from the policy parameters in
force when it began, and the contributions each paying unit paid."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine, delete

from bhyt.db import insert_in_chunks
from bhyt.errors import BhytError
from bhyt.policy.params import ParameterSet
from bhyt.registry.dues import participation_terms
from bhyt.registry.models import Card, Employer, Facility, Household, Participation, Payment, Person

CHUNK = 20_000
FILES = {
    "facilities.parquet": ("code", "name", "province", "kind", "level", "points", "contract_from", "contract_to"),
    "people.parquet": ("person_id", "citizen_id", "name", "birth_date", "sex", "province", "commune",
                       "household_id", "household_position"),
    "cards.parquet": ("person_id", "citizen_id", "card", "group", "benefit_digit", "card_province", "valid_from",
                      "valid_to", "registered_facility", "continuous_since", "five_year_date", "living_area",
                      "employer", "income"),
    "employers.parquet": ("code", "name", "province", "kind"),
    "payments.parquet": ("payer", "month", "amount", "paid_on", "reference"),
}  # fmt: skip


class RegistryInputError(BhytError, ValueError):
    """A registry folder that cannot be loaded: which file and what is wrong."""

    code = "registry.input"


@dataclass(frozen=True)
class Loaded:
    facilities: int
    employers: int
    households: int
    people: int
    participations: int
    cards: int
    payments: int


def load_registry(
    engine: Engine, folder: Path, params: ParameterSet, progress: Callable[[str, int], None] | None = None
) -> Loaded:
    """Replace the registry with ``folder``'s contents, in one transaction (all or nothing)."""
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise RegistryInputError(f"{folder}: missing {', '.join(missing)} (expected the registry/ of bhyt synth)")
    tables = {}
    for name, columns in FILES.items():
        try:
            tables[name] = pq.read_table(folder / name)
        except (pa.ArrowInvalid, OSError) as exc:
            raise RegistryInputError(f"{folder / name}: {exc}") from exc
        if absent := [c for c in columns if c not in tables[name].column_names]:
            raise RegistryInputError(f"{folder / name}: missing column(s) {', '.join(absent)}")
    facilities, people, cards = (tables[f"{n}.parquet"] for n in ("facilities", "people", "cards"))
    employers, payments = tables["employers.parquet"], tables["payments.parquet"]
    unknown = set(pc.unique(pc.drop_null(cards["employer"])).to_pylist()) - set(employers["code"].to_pylist())
    if unknown:
        raise RegistryInputError(f"{folder / 'cards.parquet'}: employer(s) not in employers.parquet: "
                                 f"{', '.join(sorted(unknown)[:5])}")  # fmt: skip
    now = datetime.now().replace(microsecond=0)  # noqa: DTZ005 - recorded in local time
    tell = progress or (lambda _what, _n: None)
    households: dict[int, tuple[str, str | None]] = {}
    for hh, prov, commune in zip(*(people.column(k).to_pylist() for k in ("household_id", "province", "commune")),
                                 strict=True):  # fmt: skip
        if hh is not None:
            households.setdefault(hh, (prov, commune))
    person = dict(zip(people.column("person_id").to_pylist(),
                      zip(people.column("province").to_pylist(), people.column("household_id").to_pylist(),
                          strict=True), strict=True))  # fmt: skip
    with engine.begin() as conn:
        for table in (Payment, Card, Participation, Person, Household, Employer, Facility):
            conn.execute(delete(table))
        insert_in_chunks(conn, Facility, _facilities(facilities), CHUNK)
        tell("facilities", facilities.num_rows)
        insert_in_chunks(conn, Employer, iter(employers.select(list(FILES["employers.parquet"])).to_pylist()), CHUNK)
        tell("employers", employers.num_rows)
        rows = ({"id": h, "province": p, "commune": c} for h, (p, c) in households.items())
        insert_in_chunks(conn, Household, rows, CHUNK)
        tell("households", len(households))
        insert_in_chunks(conn, Person, _people(people), CHUNK)
        tell("people", people.num_rows)
        insert_in_chunks(conn, Participation, _participations(cards, params, person, now), CHUNK)
        tell("participations", cards.num_rows)
        insert_in_chunks(conn, Card, _cards(cards, now), CHUNK)
        tell("cards", cards.num_rows)
        insert_in_chunks(conn, Payment, (r for b in payments.select(list(FILES["payments.parquet"])).to_batches(CHUNK)
                                         for r in b.to_pylist()), CHUNK)  # fmt: skip
        tell("payments", payments.num_rows)
    return Loaded(facilities.num_rows, employers.num_rows, len(households), people.num_rows, cards.num_rows,
                  cards.num_rows, payments.num_rows)  # fmt: skip


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


def _participations(
    cards: pa.Table, params: ParameterSet, person: dict[int, tuple[str, int | None]], now: datetime
) -> Iterator[dict[str, Any]]:
    for part in cards.to_batches(CHUNK):
        for c in part.to_pylist():
            province, household = person[c["person_id"]]
            terms = participation_terms(params, c["group"], c["valid_from"], province, household, c["employer"])
            yield {
                "person_id": c["person_id"],
                "group_code": c["group"],
                **terms,
                "employer_code": c["employer"],
                "income": c["income"],
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
