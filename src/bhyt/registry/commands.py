"""``bhyt registry load|changes|check`` (bulk load, the monthly lists, a card check from the shell) and
``bhyt registry card issue|renew|change-group|lapse|change-facility|correct`` (changes to one person's
cover, through the same rules as the API; each is written to the audit log as the operator's)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine

from bhyt.console import console
from bhyt.db import DEFAULT_URL
from bhyt.db.commands import open_database
from bhyt.policy.params import ParameterNotFoundError, default_parameters
from bhyt.registry import lifecycle
from bhyt.registry.eligibility import today
from bhyt.registry.lifecycle import Change, RegistryRuleError
from bhyt.registry.load import RegistryInputError, load_registry
from bhyt.registry.service import COLLECTION_STATUSES, card_index, collection, monthly_changes, person_record
from bhyt.security.audit import AuditLog
from bhyt.security.purposes import Purpose

app = typer.Typer(no_args_is_help=True, help="The registry: people, households, participation, cards.")
DB = Annotated[str, typer.Option(help="Database URL; created and migrated when new.")]


@app.command("load")
def load(
    folder: Annotated[Path, typer.Argument(help="A registry folder (bhyt synth's OUT/registry, or OUT itself).")],
    db: DB = DEFAULT_URL,
) -> None:
    """Replace the registry with a folder's facilities, people and cards (one transaction)."""
    err = console(stderr=True)
    if (folder / "registry").is_dir():
        folder = folder / "registry"
    engine = open_database(db, err)
    try:
        with err.status("loading the registry"):
            loaded = load_registry(engine, folder, default_parameters())
    except RegistryInputError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    table = Table("what", "rows", title=f"Registry loaded into {db}")
    for name, n in loaded.__dict__.items():
        table.add_row(name, f"{n:,}")
    console().print(table)


def _month(text: str) -> date:
    """A --month option's first day."""
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise typer.BadParameter(f"--month takes YYYY-MM, got {text!r}") from None


@app.command("changes")
def changes(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    db: DB = DEFAULT_URL,
) -> None:
    """The month's increase and decrease lists (danh sách tăng/giảm), per paying unit."""
    first = _month(month)
    engine = open_database(db, console(stderr=True))
    try:
        rows = monthly_changes(engine, first)
    finally:
        engine.dispose()
    table = Table("paying unit", "list", "citizen ID", "group", "on", title=f"Increases and decreases, {month}")
    for c in rows:
        table.add_row(c.payer, c.kind, c.citizen_id, c.group, c.on.isoformat())
    console().print(table)


@app.command("contributions")
def contributions(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    status: Annotated[
        str | None, typer.Option(help="Only units with this status (paid, late, partial, unpaid).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per paying unit on stdout.")] = False,
    db: DB = DEFAULT_URL,
) -> None:
    """Contributions due and collected per paying unit for a month: arrears and late payers."""
    first = _month(month)
    if status is not None and status not in COLLECTION_STATUSES:
        raise typer.BadParameter(f"--status takes one of {', '.join(COLLECTION_STATUSES)}, got {status!r}")
    engine = open_database(db, console(stderr=True))
    try:
        rows = collection(engine, default_parameters(), first)
    finally:
        engine.dispose()
    if as_json:
        for r in rows:
            if status is None or r["status"] == status:
                print(json.dumps(r, ensure_ascii=False))
        return
    by_funding = Table("funding", "units", "people", "due", "paid", "outstanding", "rate", "late", "partial", "unpaid",
                       title=f"Contributions for {month} (VND)")  # fmt: skip
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
        table = Table("paying unit", "name", "people", "due", "paid", "outstanding", "status", title="Largest arrears")
        for r in owing:
            table.add_row(r["payer"], r["name"] or "", f"{r['people']:,}", f"{r['total']:,}", f"{r['paid']:,}",
                          f"{r['outstanding']:,}", r["status"])  # fmt: skip
        out.print(table)


@app.command("check")
def check(
    card: Annotated[str | None, typer.Option(help="Card number.")] = None,
    citizen_id: Annotated[str | None, typer.Option(help="12-digit citizen ID.")] = None,
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")] = None,
    facility: Annotated[str | None, typer.Option(help="Facility code, for the route code.")] = None,
    db: DB = DEFAULT_URL,
) -> None:
    """The card check the counter gets, as JSON."""
    engine = open_database(db, console(stderr=True))
    try:
        index = card_index(engine)
    finally:
        engine.dispose()
    at = date.fromisoformat(on) if on else today()
    print(json.dumps(index.check(default_parameters(), at, card, citizen_id, facility).as_json(), ensure_ascii=False))


card = typer.Typer(no_args_is_help=True, help="Change one person's cover: issue, renew, change group, lapse, …")
app.add_typer(card, name="card")
CITIZEN = Annotated[str, typer.Option("--citizen-id", help="The person's 12-digit citizen ID.")]
ON = Annotated[str, typer.Option("--on", help="YYYY-MM-DD: the first day of the change.")]
OPERATOR = Annotated[str, typer.Option(help="Who makes the change (written to the audit log).")]
EMPLOYER = Annotated[str | None, typer.Option(help="Employer code (employer-funded groups).")]
INCOME = Annotated[int | None, typer.Option(min=0, help="Monthly salary, pension or benefit (đồng).")]


def _day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{flag} takes YYYY-MM-DD, got {text!r}") from None


def _maybe_day(text: str | None, flag: str) -> date | None:
    return None if text is None else _day(text, flag)


def _apply(db: str, operator: str, action: str, citizen_id: str, do: Callable[[Engine], Change]) -> None:
    err = console(stderr=True)
    engine = open_database(db, err)
    audit = AuditLog(engine)
    try:
        done = do(engine)
        audit.record(operator, "admin", action, citizen_id, Purpose.ENROLMENT.value, "allowed")
    except (RegistryRuleError, ParameterNotFoundError) as exc:
        audit.record(operator, "admin", action, citizen_id, Purpose.ENROLMENT.value, "refused")
        err.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from None
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
    db: DB = DEFAULT_URL,
    operator: OPERATOR = "operator",
) -> None:
    """Issue a card: a new period of cover."""
    start, end = _day(valid_from, "--valid-from"), _maybe_day(valid_to, "--valid-to")
    _apply(db, operator, "card.issue", citizen_id, lambda e: lifecycle.issue_card(
        e, default_parameters(), citizen_id, group, start, end, registered_facility, employer=employer,
        income=income))  # fmt: skip


@card.command("renew")
def renew(
    citizen_id: CITIZEN,
    valid_to: Annotated[str, typer.Option(help="YYYY-MM-DD: the renewed period's last day.")],
    db: DB = DEFAULT_URL,
    operator: OPERATOR = "operator",
) -> None:
    """Renew the latest period to a new end date."""
    end = _day(valid_to, "--valid-to")
    _apply(db, operator, "card.renew", citizen_id, lambda e: lifecycle.renew_card(e, default_parameters(),
                                                                                  citizen_id, end))  # fmt: skip


@card.command("change-group")
def change_group(
    citizen_id: CITIZEN,
    group: Annotated[str, typer.Option(help="The new participant group code.")],
    on: ON,
    employer: EMPLOYER = None,
    income: INCOME = None,
    db: DB = DEFAULT_URL,
    operator: OPERATOR = "operator",
) -> None:
    """Insure the person through another group from a date (a new card number)."""
    day = _day(on, "--on")
    _apply(db, operator, "card.change_group", citizen_id,
           lambda e: lifecycle.change_group(e, default_parameters(), citizen_id, group, day, employer,
                                            income))  # fmt: skip


@card.command("lapse")
def lapse(citizen_id: CITIZEN, on: ON, db: DB = DEFAULT_URL, operator: OPERATOR = "operator") -> None:
    """End cover the day before a date."""
    day = _day(on, "--on")
    _apply(db, operator, "card.lapse", citizen_id,
           lambda e: lifecycle.lapse_card(e, default_parameters(), citizen_id, day))  # fmt: skip


@card.command("change-facility")
def change_facility(
    citizen_id: CITIZEN,
    facility: Annotated[str, typer.Option(help="The new registered primary facility code.")],
    on: ON,
    db: DB = DEFAULT_URL,
    operator: OPERATOR = "operator",
) -> None:
    """Register the person at another primary facility (at the start of a quarter)."""
    day = _day(on, "--on")
    _apply(db, operator, "card.change_facility", citizen_id,
           lambda e: lifecycle.change_facility(e, default_parameters(), citizen_id, facility, day))  # fmt: skip


@card.command("correct")
def correct(
    citizen_id: CITIZEN,
    card_id: Annotated[int, typer.Option(help="The period's id (bhyt registry show lists them).")],
    valid_from: Annotated[str | None, typer.Option(help="Corrected first day.")] = None,
    valid_to: Annotated[str | None, typer.Option(help="Corrected last day.")] = None,
    registered_facility: Annotated[str | None, typer.Option(help="Corrected registered facility.")] = None,
    db: DB = DEFAULT_URL,
    operator: OPERATOR = "operator",
) -> None:
    """Correct a recorded period; the wrong row is kept as what the record held."""
    fields = {k: v for k, v in (("valid_from", _maybe_day(valid_from, "--valid-from")),
                                ("valid_to", _maybe_day(valid_to, "--valid-to")),
                                ("registered_facility", registered_facility)) if v is not None}  # fmt: skip
    _apply(db, operator, "card.correct", citizen_id,
           lambda e: lifecycle.correct_card(e, default_parameters(), citizen_id, card_id, **fields))  # fmt: skip


@app.command("show")
def show(
    citizen_id: CITIZEN,
    known_at: Annotated[str | None, typer.Option(help="YYYY-MM-DD[THH:MM:SS]: what the record held then.")] = None,
    history: Annotated[bool, typer.Option(help="Every row ever recorded, superseded ones too.")] = False,
    db: DB = DEFAULT_URL,
) -> None:
    """A person's record (participation and card periods, with when each was recorded), as JSON."""
    try:
        at = datetime.fromisoformat(known_at) if known_at else None
    except ValueError:
        raise typer.BadParameter(f"--known-at takes YYYY-MM-DD[THH:MM:SS], got {known_at!r}") from None
    engine = open_database(db, console(stderr=True))
    try:
        record = person_record(engine, citizen_id, at, history)
    finally:
        engine.dispose()
    if record is None:
        console(stderr=True).print(f"[red]error:[/red] no person with citizen ID {citizen_id}")
        raise typer.Exit(1)
    print(json.dumps(record, ensure_ascii=False, default=str))
