"""``bhyt policy …``: read the rules in force, compare dates, price one visit step by step."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from bhyt.cli.common import DB, day, open_database, store_run
from bhyt.cli.console import console
from bhyt.errors import BhytError, PolicyInputError
from bhyt.policy.benefit import FacilityLevel, Visit
from bhyt.policy.card import check_card
from bhyt.policy.citizen_id import CITIZEN_ID_ERRORS, check_citizen_id
from bhyt.policy.contribution import contribution, monthly_contribution
from bhyt.policy.display import amount, describe, format_value, percent
from bhyt.policy.params import Entry, ParameterSet, default_parameters
from bhyt.policy.split import Line, price_visit

app = typer.Typer(help="Policy parameters and payment rules as code.", no_args_is_help=True)


def _date(text: str) -> date:
    return day(text, "--date")


DateOpt = Annotated[str, typer.Option("--date", "-d", help="As at this date, YYYY-MM-DD.")]


def _params(overrides: list[str] | None = None) -> ParameterSet:
    params = default_parameters()
    for item in overrides or []:
        name, sep, raw = item.partition("=")
        if not sep or name not in params:
            raise typer.BadParameter(f"expected NAME=VALUE with a known parameter name, got {item!r}")
        kind = params.parameter(name).kind
        value: object = raw
        if kind in ("money", "integer"):
            value = int(raw) if raw.isdigit() else raw
        elif kind == "percent":
            with contextlib.suppress(InvalidOperation):
                value = Decimal(raw)
        elif kind == "flag":
            value = {"true": True, "false": False}.get(raw.lower(), raw)
        elif kind in ("code_list", "percent_list"):
            value = [Decimal(v) if kind == "percent_list" else v for v in raw.split(",")]
        try:
            params = params.with_override(name, value)
        except BhytError as exc:
            raise typer.BadParameter(str(exc)) from None
    return params


@app.command()
def show(
    at: DateOpt,
    name: Annotated[str | None, typer.Option(help="Only parameters whose name starts with this.")] = None,
) -> None:
    """Every parameter in force on a date: value, unit, status and legal source."""
    out = console()
    when, params = _date(at), default_parameters()
    rows = [
        (p.name, describe(params, p, when), p.unit, e.status.value, e.start.isoformat(), e.reference)
        for p, e in params.in_force(when)
        if name is None or p.name.startswith(name)
    ]
    if not sys.stdout.isatty():  # one parameter per line, never wrapped: for grep and scripts
        for row in rows:
            print("\t".join(" ".join(c.split()) for c in row))
        return
    table = Table(title=f"Parameters in force on {when}", show_lines=True)
    for col in ("parameter", "value", "unit", "status", "since", "source"):
        table.add_column(col, overflow="fold")
    for row in rows:
        style = "yellow" if row[3] == "unverified" else None
        table.add_row(*row, style=style)
    out.print(table)


@app.command()
def diff(date1: str, date2: str) -> None:
    """What changed between two dates: values, and sources or evidence status."""
    out = console()
    d1, d2, params = _date(date1), _date(date2), default_parameters()
    table = Table(title=f"Changes from {d1} to {d2}", show_lines=True)
    for col in ("parameter", f"on {d1}", f"on {d2}", "source on the later date"):
        table.add_column(col, overflow="fold")
    changed = 0
    for pname in params.names():
        p = params.parameter(pname)
        entries: list[Entry | None] = []
        for d in (d1, d2):
            try:
                entries.append(p.entry_at(d))
            except BhytError:
                entries.append(None)
        a, b = entries
        if a == b:
            continue
        changed += 1
        show_a = describe(params, p, d1) if a else "(no value)"
        show_b = describe(params, p, d2) if b else "(no value)"
        if a and b and isinstance(a.value, Mapping) and isinstance(b.value, Mapping) and a.value != b.value:
            keys = [k for k in dict.fromkeys([*a.value, *b.value]) if a.value.get(k) != b.value.get(k)]
            same = len(set(a.value) | set(b.value)) - len(keys)
            show_a = format_value({k: a.value[k] for k in keys if k in a.value}) or "(none)"
            show_b = (format_value({k: b.value[k] for k in keys if k in b.value}) or "(none)") + (
                f" ({same} other entries unchanged)" if same else ""
            )
        if a and b and a.value == b.value:
            show_b = f"unchanged; {a.status.value} → {b.status.value}"
        table.add_row(pname, show_a, show_b, b.reference if b else (a.reference if a else ""))
    if changed:
        out.print(table)
    else:
        out.print(f"No parameter changed between {d1} and {d2}.")


def _line(spec: str) -> Line:
    """GROUP:QUANTITY:PRICE[:BHYT_PRICE[:ITEM_RATE[:SCOPE]]], positional; an empty field keeps its default."""
    parts = spec.split(":")
    if not 3 <= len(parts) <= 6 or not parts[1] or not parts[2]:
        raise typer.BadParameter(f"--line {spec!r}: expected GROUP:QUANTITY:PRICE[:BHYT_PRICE[:ITEM_RATE[:SCOPE]]]")
    try:
        nums = [Decimal(x) if x else None for x in parts[1:5]] + [None] * (5 - len(parts))
    except InvalidOperation:
        raise typer.BadParameter(f"--line {spec!r}: quantity, prices and rates must be numbers") from None
    quantity, price, insured, rate = nums[:4]
    assert quantity is not None
    assert price is not None
    return Line(
        cost_group=parts[0],
        quantity=quantity,
        unit_price=price,
        insured_price=insured,
        listed_item_rate=rate if rate is not None else Decimal(100),
        scope=parts[5] if len(parts) > 5 and parts[5] else "1",
        label=spec,
    )


@app.command()
def explain(
    card: Annotated[str, typer.Option(help="15-character card number, e.g. DN4797912345678.")],
    route: Annotated[str, typer.Option(help="Route code MA_DOITUONG_KCB, e.g. 1.1 or 3.1.")],
    line: Annotated[
        list[str],
        typer.Option(help="GROUP:QUANTITY:PRICE[:BHYT_PRICE[:ITEM_RATE[:SCOPE]]], repeatable; GROUP is MA_NHOM."),
    ],
    at: DateOpt,
    visit_type: Annotated[str, typer.Option(help="MA_LOAI_KCB: 01 outpatient, 03 inpatient, …")] = "01",
    level: Annotated[FacilityLevel, typer.Option(help="Facility technical level.")] = FacilityLevel.BASIC,
    exempt: Annotated[bool, typer.Option(help="The 5-year co-payment exemption is in force.")] = False,
    living_area: Annotated[str | None, typer.Option(help="MA_KHUVUC on the card: K1, K2 or K3.")] = None,
    override: Annotated[list[str] | None, typer.Option(help="What-if: NAME=VALUE, repeatable.")] = None,
) -> None:
    """Price one visit and print every step with the parameter and legal source it used."""
    out = console()
    when, params = _date(at), _params(override)
    checked = check_card(card, params, when)
    if not checked.valid:
        raise PolicyInputError("card", card, checked.message)
    assert checked.benefit_digit is not None
    visit = Visit(checked.benefit_digit, visit_type, route, level, when, Decimal(0), exempt, living_area)
    priced = price_visit(params, visit, [_line(s) for s in line])
    out.print(
        f"[bold]Visit on {when}[/bold]: card {card} (group {checked.group}, benefit digit "
        f"{checked.benefit_digit}), MA_LOAI_KCB {visit_type}, route {route}, {level.value} level"
    )
    if checked.unusual_benefit:
        out.print(
            f"[yellow]note:[/yellow] group {checked.group} usually carries digit {checked.usual_digit}; "
            "the digit on the card governs payment"
        )
    steps = Table(title="Steps", show_lines=True)
    for col in ("#", "step", "parameter", "value used", "status", "legal source"):
        steps.add_column(col, overflow="fold")
    for i, step in enumerate(priced.steps, 1):
        e = step.entry
        steps.add_row(
            str(i),
            step.text,
            step.parameter or "",
            format_value(e.value) if e else "",
            e.status.value if e else "",
            e.reference if e else "",
        )
    out.print(steps)
    lines = Table(title=f"Lines at MUC_HUONG {percent(priced.rate.rate)}")
    for col in ("line", "total (BV)", "in scope (BH)", "outside (BNTT)", "co-pay (BNCCT)", "fund (BHTT)"):
        lines.add_column(col, justify="right" if col != "line" else "left")
    for spec, a in (*zip(line, priced.lines, strict=True), ("total", priced.totals)):
        lines.add_row(spec, amount(a.total), amount(a.insured), amount(a.outside), amount(a.copay), amount(a.fund))
    out.print(lines)


@app.command()
def publish(
    db: DB = None,
) -> None:
    """Publish every parameter's history to the database, for SQL reports and engines."""
    from bhyt.db.policy_store import publish as publish_values

    engine = open_database(db, create=True)
    url = engine.url
    count = store_run(engine, "parameter history", lambda e: publish_values(e, default_parameters()))
    console().print(f"published {count} dated values to {url} (table policy_parameter_value)")


@app.command("check-card")
def check_card_cmd(
    number: str,
    at: DateOpt,
    registered: Annotated[str | None, typer.Option(help="Registered facility MA_DKBD.")] = None,
) -> None:
    """Check a card number's format as at a date (the portal's result code is shown)."""
    out = console()
    c = check_card(number, default_parameters(), _date(at), registered)
    if not c.valid:
        out.print(f"[red]{c.portal_code}[/red] {c.message}")
        raise typer.Exit(1)
    note = f"; [yellow]group {c.group} usually carries {c.usual_digit}[/yellow]" if c.unusual_benefit else ""
    out.print(
        f"000 valid: group {c.group}, benefit digit {c.benefit_digit}, province {c.province}, "
        f"BHXH number {c.bhxh_number}{' (temporary)' if c.temporary else ''}{note}"
    )


@app.command("check-id")
def check_id_cmd(number: str, at: DateOpt) -> None:
    """Check a 12-digit citizen ID's structure."""
    out = console()
    c = check_citizen_id(number, default_parameters(), _date(at))
    if c.error is not None:
        out.print(f"[red]invalid[/red] {number!r}: {CITIZEN_ID_ERRORS[c.error]}")
        raise typer.Exit(1)
    out.print(f"valid: province of registration {c.province}, born {c.birth_year}, sex {c.sex}")


@app.command("contribution")
def contribution_cmd(
    group: Annotated[str, typer.Option(help="Participant group code, e.g. GD, DN, HS.")],
    start: Annotated[str, typer.Option(help="First month, YYYY-MM-DD.")],
    months: Annotated[int, typer.Option(help="Number of months.")] = 12,
    income: Annotated[int | None, typer.Option(help="Monthly salary or pension, VND.")] = None,
    position: Annotated[int | None, typer.Option(help="Order in the household (GD), from 1.")] = None,
    subsidy_key: Annotated[str | None, typer.Option(help="Qualified subsidy key, e.g. CN.30a.")] = None,
) -> None:
    """A person's contribution for a period, by payer."""
    out = console()
    params, first = default_parameters(), _date(start)
    c = contribution(
        params,
        group=group,
        start=first,
        months=months,
        income=income,
        household_position=position,
        subsidy_key=subsidy_key,
    )
    m = monthly_contribution(
        params,
        group=group,
        month=first,
        income=income,
        household_position=position,
        subsidy_key=subsidy_key,
    )
    table = Table(title=f"Contribution of a {group} participant, {months} months from {first:%Y-%m}")
    for col in ("", "total", "employer", "person", "state", "social insurance"):
        table.add_column(col, justify="right")
    for label, x in ((f"first month ({first:%Y-%m})", m), ("period", c)):
        table.add_row(
            label,
            amount(x.total),
            amount(x.employer),
            amount(x.person),
            amount(x.state),
            amount(x.social_insurance),
        )
    out.print(table)
