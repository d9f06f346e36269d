"""Store claims durably and idempotently, and answer each HOSO with a receipt.

The key of a claim is (facility, MA_LK). An identical resubmission changes nothing ("duplicate"); a
changed one becomes a new version with what changed ("new_version"); MA_DOITUONG_KCB "8" withdraws the
claim ("withdrawn"); a HOSO that cannot be decoded, parsed or identified is "rejected" and stored
nowhere, while the others of the same file go on. Each file is one transaction: a receipt is only
given once its claims are committed, and the original bytes are kept under their SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bhyt.claims.messages import render
from bhyt.claims.models import Claim, ClaimFinding, ClaimVersion, OriginalFile
from bhyt.claims.parser import Envelope, Finding, Hoso, Limits, read_envelope

STATUSES = ("accepted", "duplicate", "new_version", "withdrawn", "rejected")
WITHDRAWAL = "8"


@dataclass(frozen=True)
class Receipt:
    """The answer for one HOSO (or for a file that could not be read at all: ``ma_lk`` None)."""

    file: str
    ma_lk: str | None
    facility: str | None
    status: str
    findings: tuple[Finding, ...]

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "ma_lk": self.ma_lk, "facility": self.facility, "status": self.status,
                "findings": [f.as_dict() for f in self.findings]}  # fmt: skip


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _changes(old: dict[str, list[dict[str, str]]], new: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    """What a new version changes: XML1 fields one by one, other tables by their rows."""
    out: dict[str, Any] = {}
    for table in sorted(set(old) | set(new)):
        a, b = old.get(table, []), new.get(table, [])
        if a == b:
            continue
        if table == "XML1" and a and b:
            out[table] = {k: [a[0].get(k, ""), b[0].get(k, "")] for k in sorted(set(a[0]) | set(b[0]))
                          if a[0].get(k, "") != b[0].get(k, "")}  # fmt: skip
        else:
            out[table] = {"rows": [len(a), len(b)], "changed": sum(1 for x, y in zip(a, b, strict=False) if x != y)}
    return out


def _store_version(session: Session, claim: Claim, hoso: Hoso, kind: str, tables_json: str, content: str,
                   file_sha: str, now: datetime, changes: dict[str, Any], findings: list[Finding]) -> None:  # fmt: skip
    version = ClaimVersion(claim_id=claim.id, version=claim.current_version, content_sha256=content,
                           file_sha256=file_sha, hoso_index=hoso.index, received_at=now, kind=kind,
                           tables=tables_json, changes=json.dumps(changes, ensure_ascii=False))  # fmt: skip
    session.add(version)
    session.flush()
    session.add_all(
        ClaimFinding(
            version_id=version.id, table_name=f.table, row=f.row, field=f.field, code=f.code, message=f.message
        )
        for f in findings
    )


def store_envelope(session: Session, env: Envelope, data: bytes, lang: str = "vi",
                   now: datetime | None = None) -> list[Receipt]:  # fmt: skip
    """Store one read envelope inside the caller's transaction; its receipts in HOSO order."""
    now = now or datetime.now()  # noqa: DTZ005 - facility-local time, as the standard's own timestamps
    if env.rejected:
        return [Receipt(env.file, None, env.facility, "rejected", tuple(env.findings))]
    file_sha = _sha256(data)
    if session.get(OriginalFile, file_sha) is None:
        session.add(OriginalFile(sha256=file_sha, name=env.file, size=len(data), received_at=now, data=data))
        session.flush()
    receipts = []
    facility = env.facility or ""
    for hoso in env.hosos:
        findings = [*env.findings, *hoso.findings]
        if hoso.rejected:
            receipts.append(Receipt(env.file, hoso.ma_lk, env.facility, "rejected", tuple(findings)))
            continue
        ma_lk = hoso.ma_lk or ""
        head = hoso.tables["XML1"][0]
        if head.get("MA_CSKCB") and head["MA_CSKCB"] != facility:
            message = render("claim.facility_mismatch", lang, found=head["MA_CSKCB"], facility=facility)
            findings.append(
                Finding(env.file, hoso.index, ma_lk, "XML1", None, "MA_CSKCB", "claim.facility_mismatch", message)
            )
        tables_json = json.dumps(hoso.tables, ensure_ascii=False, sort_keys=True)
        content = _sha256(tables_json.encode("utf-8"))
        claim = session.scalars(select(Claim).where(Claim.facility == facility, Claim.ma_lk == ma_lk)).first()
        if head.get("MA_DOITUONG_KCB") == WITHDRAWAL:
            if claim is None or claim.status == "withdrawn":
                message = render("claim.withdraw_unknown", lang, ma_lk=ma_lk, facility=facility)
                findings.append(
                    Finding(
                        env.file, hoso.index, ma_lk, "XML1", None, "MA_DOITUONG_KCB", "claim.withdraw_unknown", message
                    )
                )
                receipts.append(Receipt(env.file, ma_lk, facility, "rejected", tuple(findings)))
                continue
            claim.status, claim.current_version, claim.updated_at = "withdrawn", claim.current_version + 1, now
            _store_version(session, claim, hoso, "withdrawn", tables_json, content, file_sha, now, {}, findings)
            receipts.append(Receipt(env.file, ma_lk, facility, "withdrawn", tuple(findings)))
            continue
        if claim is None:
            claim = Claim(facility=facility, ma_lk=ma_lk, status="active", current_version=1, created_at=now,
                          updated_at=now)  # fmt: skip
            session.add(claim)
            session.flush()
            _store_version(session, claim, hoso, "accepted", tables_json, content, file_sha, now, {}, findings)
            receipts.append(Receipt(env.file, ma_lk, facility, "accepted", tuple(findings)))
            continue
        current = session.scalars(
            select(ClaimVersion).where(ClaimVersion.claim_id == claim.id, ClaimVersion.version == claim.current_version)
        ).one()
        if current.content_sha256 == content and claim.status == "active":
            receipts.append(Receipt(env.file, ma_lk, facility, "duplicate", tuple(findings)))
            continue
        changes = _changes(json.loads(current.tables), hoso.tables)
        claim.status, claim.current_version, claim.updated_at = "active", claim.current_version + 1, now
        _store_version(session, claim, hoso, "new_version", tables_json, content, file_sha, now, changes, findings)
        receipts.append(Receipt(env.file, ma_lk, facility, "new_version", tuple(findings)))
    return receipts


def ingest_file(engine: Engine, path: Path, lang: str = "vi", limits: Limits | None = None) -> list[Receipt]:
    """Read, check and store one file in one transaction; receipts only after the commit."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        finding = Finding(str(path), None, None, None, None, None, "file.unreadable",
                          render("file.unreadable", lang, reason=exc.strerror or str(exc)))  # fmt: skip
        return [Receipt(str(path), None, None, "rejected", (finding,))]
    env = read_envelope(data, str(path), lang, limits)
    with Session(engine) as session, session.begin():
        receipts = store_envelope(session, env, data, lang)
    return receipts


def original_bytes(engine: Engine, facility: str, ma_lk: str, version: int | None = None) -> bytes:
    """The bytes of the file a stored claim (its current version, or ``version``) came from."""
    with Session(engine) as session:
        claim = session.scalars(select(Claim).where(Claim.facility == facility, Claim.ma_lk == ma_lk)).one()
        number = version or claim.current_version
        row = session.scalars(
            select(ClaimVersion).where(ClaimVersion.claim_id == claim.id, ClaimVersion.version == number)
        ).one()
        original = session.get(OriginalFile, row.file_sha256)
        assert original is not None
        return original.data
