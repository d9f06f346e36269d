"""``bhyt registry load|changes|check`` (bulk load, the monthly lists, a card check from the shell) and
``bhyt registry card issue|renew|change-group|lapse|change-facility|correct`` (changes to one person's
cover, through the same rules as the API; each is written to the audit log as the operator's)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from bhyt.cli.common import DB, day, maybe_day, moment, month, open_database
from bhyt.cli.console import Lang, console, table, word
from bhyt.policy.params import ParameterNotFoundError, default_parameters
from bhyt.registry import lifecycle
from bhyt.registry.eligibility import today
from bhyt.registry.lifecycle import Change, RegistryRuleError
from bhyt.registry.load import load_registry
from bhyt.registry.service import (
    COLLECTION_STATUSES,
    PersonNotFoundError,
    card_index,
    collection,
    holder,
    monthly_changes,
    person_record,
)
from bhyt.security.audit import AuditLog
from bhyt.security.purposes import Purpose

app = typer.Typer(no_args_is_help=True, help="The registry: people, households, participation, cards.")


@app.command("load")
def load(
    folder: Annotated[Path, typer.Argument(help="A registry folder (bhyt synth's OUT/registry, or OUT itself).")],
    db: DB = None,
    lang: Lang = "vi",
) -> None:
    """Replace the registry with a folder's facilities, people and cards (one transaction)."""
    err = console(stderr=True)
    if (folder / "registry").is_dir():
        folder = folder / "registry"
    engine = open_database(db, create=True)
    try:
        with err.status("loading the registry"):
            loaded = load_registry(engine, folder, default_parameters())
    finally:
        engine.dispose()
    t = table("what", "rows", title="Registry loaded", lang=lang)
    for name, n in loaded.__dict__.items():
        t.add_row(word(name, lang), f"{n:,}")
    console().print(t)
    err.print(f"{word('into', lang)} {engine.url}")


@app.command("changes")
def changes(
    month_text: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    db: DB = None,
    lang: Lang = "vi",
) -> None:
    """The month's increase and decrease lists (danh sách tăng/giảm), per paying unit."""
    first = month(month_text)
    engine = open_database(db)
    try:
        rows = monthly_changes(engine, first)
    finally:
        engine.dispose()
    t = table("paying unit", "list", "citizen ID", "group", "on", title="Increases and decreases", lang=lang)
    t.caption = month_text
    for c in rows:
        t.add_row(c.payer, word(c.kind, lang), c.citizen_id, c.group, c.on.isoformat())
    console().print(t)


@app.command("contributions")
def contributions(
    month_text: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    status: Annotated[
        str | None, typer.Option(help="Only units with this status (paid, late, partial, unpaid).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per paying unit on stdout.")] = False,
    db: DB = None,
    lang: Lang = "vi",
) -> None:
    """Contributions due and collected per paying unit for a month: arrears and late payers."""
    first = month(month_text)
    if status is not None and status not in COLLECTION_STATUSES:
        raise typer.BadParameter(f"--status takes one of {', '.join(COLLECTION_STATUSES)}, got {status!r}")
    engine = open_database(db)
    try:
        rows = collection(engine, default_parameters(), first)
    finally:
        engine.dispose()
    if as_json:
        for r in rows:
            if status is None or r["status"] == status:
                print(json.dumps(r, ensure_ascii=False))
        return
    heads = (
        "funding",
        "units",
        "people",
        "due",
        "paid",
        "outstanding",
        "rate",
        "pay.late",
        "pay.partial",
        "pay.unpaid",
    )
    by_funding = table(*heads, title="Contributions (VND)", lang=lang)
    by_funding.caption = month_text
    for funding in sorted({r["funding"] for r in rows}):
        mine = [r for r in rows if r["funding"] == funding]
        due, paid = sum(r["total"] for r in mine), sum(r["paid"] for r in mine)
        count = {s: sum(r["status"] == s for r in mine) for s in ("late", "partial", "unpaid")}
        by_funding.add_row(funding, f"{len(mine):,}", f"{sum(r['people'] for r in mine):,}", f"{due:,}", f"{paid:,}",
                           f"{sum(r['outstanding'] for r in mine):,}", f"{min(paid, due) / due:.2%}" if due else "-",
                           *(f"{count[s]:,}" for s in ("late", "partial", "unpaid")))  # fmt: skip
    out = console()
    out.print(by_funding)
    owing = sorted((r for r in rows if r["outstanding"] > 0 and (status is None or r["status"] == status)),
                   key=lambda r: -r["outstanding"])[:15]  # fmt: skip
    if owing:
        t = table("paying unit", "name", "people", "due", "paid", "outstanding", "status", title="Largest arrears",
                  lang=lang)  # fmt: skip
        for r in owing:
            t.add_row(r["payer"], r["name"] or "", f"{r['people']:,}", f"{r['total']:,}", f"{r['paid']:,}",
                      f"{r['outstanding']:,}", word(f"pay.{r['status']}", lang))  # fmt: skip
        out.print(t)


@app.command("check")
def check(
    card: Annotated[str | None, typer.Option(help="Card number.")] = None,
    citizen_id: Annotated[str | None, typer.Option(help="12-digit citizen ID.")] = None,
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")] = None,
    facility: Annotated[str | None, typer.Option(help="Facility code, for the route code.")] = None,
    db: DB = None,
    lang: Lang = "vi",
) -> None:
    """The card check the counter gets, as JSON, with the holder's name and birth date so that the
    clerk can confirm who stands at the counter."""
    at = day(on, "--date") if on else today()
    engine = open_database(db)
    try:
        answer = card_index(engine).check(default_parameters(), at, card, citizen_id, facility).as_json(lang)
        answer["holder"] = holder(engine, answer["citizen_id"]) if answer["citizen_id"] else None
    finally:
        engine.dispose()
    print(json.dumps(answer, ensure_ascii=False))


card = typer.Typer(no_args_is_help=True, help="Change one person's cover: issue, renew, change group, lapse, …")
app.add_typer(card, name="card")
CITIZEN = Annotated[str, typer.Option("--citizen-id", help="The person's 12-digit citizen ID.")]
ON = Annotated[str, typer.Option("--on", help="YYYY-MM-DD: the first day of the change.")]
OPERATOR = Annotated[str, typer.Option(help="Who makes the change (written to the audit log).")]
EMPLOYER = Annotated[str | None, typer.Option(help="Employer code (employer-funded groups).")]
INCOME = Annotated[int | None, typer.Option(min=0, help="Monthly salary, pension or benefit (đồng).")]


def _apply(db: str | None, operator: str, action: str, citizen_id: str, do: Callable[[Engine], Change]) -> None:
    engine = open_database(db)
    audit = AuditLog(engine)
    try:
        done = do(engine)
        audit.record(operator, "admin", action, citizen_id, Purpose.ENROLMENT.value, "allowed")
    except RegistryRuleError:
        audit.record(operator, "admin", action, citizen_id, Purpose.ENROLMENT.value, "refused")
        raise
    except ParameterNotFoundError as exc:  # a date before the rules the registry holds: refused, as the API does
        audit.record(operator, "admin", action, citizen_id, Purpose.ENROLMENT.value, "refused")
        raise RegistryRuleError("registry.no_rules", 422, str(exc)) from None
    finally:
        audit.close()  # writes what it holds
        engine.dispose()
    print(json.dumps({"action": done.action, "citizen_id": done.citizen_id, "card": done.card,
                      "valid_from": done.valid_from.isoformat(),
                      "valid_to": done.valid_to.isoformat() if done.valid_to else None}))  # fmt: skip


@card.command("issue")
def issue(
    citizen_id: CITIZEN,
    group: Annotated[str, typer.Option(help="Participant group code (DN, GD, HS, …).")],
    valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    registered_facility: Annotated[str, typer.Option(help="Registered primary facility code.")],
    valid_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: open).")] = None,
    employer: EMPLOYER = None,
    income: INCOME = None,
    db: DB = None,
    operator: OPERATOR = "operator",
) -> None:
    """Issue a card: a new period of cover."""
    start, end = day(valid_from, "--valid-from"), maybe_day(valid_to, "--valid-to")
    _apply(db, operator, "card.issue", citizen_id, lambda e: lifecycle.issue_card(
        e, default_parameters(), citizen_id, group, start, end, registered_facility, employer=employer,
        income=income))  # fmt: skip


@card.command("renew")
def renew(
    citizen_id: CITIZEN,
    valid_to: Annotated[str, typer.Option(help="YYYY-MM-DD: the renewed period's last day.")],
    db: DB = None,
    operator: OPERATOR = "operator",
) -> None:
    """Renew the latest period to a new end date."""
    end = day(valid_to, "--valid-to")
    _apply(db, operator, "card.renew", citizen_id, lambda e: lifecycle.renew_card(e, default_parameters(),
                                                                                  citizen_id, end))  # fmt: skip


@card.command("change-group")
def change_group(
    citizen_id: CITIZEN,
    group: Annotated[str, typer.Option(help="The new participant group code.")],
    on: ON,
    employer: EMPLOYER = None,
    income: INCOME = None,
    db: DB = None,
    operator: OPERATOR = "operator",
) -> None:
    """Insure the person through another group from a date (a new card number)."""
    when = day(on, "--on")
    _apply(db, operator, "card.change_group", citizen_id,
           lambda e: lifecycle.change_group(e, default_parameters(), citizen_id, group, when, employer,
                                            income))  # fmt: skip


@card.command("lapse")
def lapse(citizen_id: CITIZEN, on: ON, db: DB = None, operator: OPERATOR = "operator") -> None:
    """End cover the day before a date."""
    when = day(on, "--on")
    _apply(db, operator, "card.lapse", citizen_id,
           lambda e: lifecycle.lapse_card(e, default_parameters(), citizen_id, when))  # fmt: skip


@card.command("change-facility")
def change_facility(
    citizen_id: CITIZEN,
    facility: Annotated[str, typer.Option(help="The new registered primary facility code.")],
    on: ON,
    db: DB = None,
    operator: OPERATOR = "operator",
) -> None:
    """Register the person at another primary facility (at the start of a quarter)."""
    when = day(on, "--on")
    _apply(db, operator, "card.change_facility", citizen_id,
           lambda e: lifecycle.change_facility(e, default_parameters(), citizen_id, facility, when))  # fmt: skip


@card.command("correct")
def correct(
    citizen_id: CITIZEN,
    card_id: Annotated[int, typer.Option(help="The period's id (bhyt registry show lists them).")],
    valid_from: Annotated[str | None, typer.Option(help="Corrected first day.")] = None,
    valid_to: Annotated[str | None, typer.Option(help="Corrected last day.")] = None,
    registered_facility: Annotated[str | None, typer.Option(help="Corrected registered facility.")] = None,
    db: DB = None,
    operator: OPERATOR = "operator",
) -> None:
    """Correct a recorded period; the wrong row is kept as what the record held."""
    fields = {k: v for k, v in (("valid_from", maybe_day(valid_from, "--valid-from")),
                                ("valid_to", maybe_day(valid_to, "--valid-to")),
                                ("registered_facility", registered_facility)) if v is not None}  # fmt: skip
    _apply(db, operator, "card.correct", citizen_id,
           lambda e: lifecycle.correct_card(e, default_parameters(), citizen_id, card_id, **fields))  # fmt: skip


@app.command("show")
def show(
    citizen_id: CITIZEN,
    known_at: Annotated[str | None, typer.Option(help="YYYY-MM-DD[THH:MM:SS]: what the record held then.")] = None,
    history: Annotated[bool, typer.Option(help="Every row ever recorded, superseded ones too.")] = False,
    db: DB = None,
) -> None:
    """A person's record (participation and card periods, with when each was recorded), as JSON."""
    at = moment(known_at, "--known-at")
    engine = open_database(db)
    try:
        record = person_record(engine, citizen_id, at, history)
    finally:
        engine.dispose()
    if record is None:
        raise PersonNotFoundError(f"no person with citizen ID {citizen_id}")
    print(json.dumps(record, ensure_ascii=False, default=str))
