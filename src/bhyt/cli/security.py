"""``bhyt token`` (issue a signed token for a role) and ``bhyt audit`` (query the audit log)."""

from __future__ import annotations

from typing import Annotated

import typer

from bhyt.cli.common import DB, moment, open_database, settings
from bhyt.cli.console import Lang, console, table, word
from bhyt.security.audit import entries
from bhyt.security.purposes import Purpose
from bhyt.security.roles import Principal, Role
from bhyt.security.tokens import issue


def token(
    role: Annotated[Role, typer.Option(help="facility, assessor, province, citizen, auditor or admin.")],
    subject: Annotated[str, typer.Option(help="Who the token is for (a user or a system).")] = "operator",
    facility: Annotated[str | None, typer.Option(help="Facility code (facility staff).")] = None,
    province: Annotated[str | None, typer.Option(help="Province code (assessor, province officer).")] = None,
    citizen_id: Annotated[str | None, typer.Option(help="Citizen ID (citizen).")] = None,
    hours: Annotated[int, typer.Option(min=1, max=24 * 30, help="Valid for this many hours.")] = 8,
) -> None:
    """Print a bearer token signed with BHYT_TOKEN_SECRET."""
    secret = settings().secret()
    try:
        who = Principal(subject, role, facility, province, citizen_id)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    print(issue(secret, who, hours * 3600))


def audit(
    db: DB = None,
    subject: Annotated[str | None, typer.Option(help="Only this caller.")] = None,
    target: Annotated[str | None, typer.Option(help="Only reads of this card number or citizen ID.")] = None,
    since: Annotated[str | None, typer.Option(help="From this time (YYYY-MM-DD[THH:MM]).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
    purpose: Annotated[Purpose | None, typer.Option(help="Only for this purpose code.")] = None,
    lang: Lang = "vi",
) -> None:
    """Who read whose data, when and why."""
    start = moment(since, "--since")
    engine = open_database(db)
    try:
        rows = entries(engine, subject, target, start, limit, purpose.value if purpose else None)
    finally:
        engine.dispose()
    t = table("at", "subject", "role", "action", "target", "purpose", "outcome", title="Audit log", lang=lang)
    for r in rows:
        t.add_row(r["at"].isoformat(), r["subject"], r["role"], r["action"], r["target"], r["purpose"],
                  word(r["outcome"], lang))  # fmt: skip
    console().print(t)
