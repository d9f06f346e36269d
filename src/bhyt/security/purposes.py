"""Why personal data is read or changed: a closed list of purpose codes, so the audit log can be
queried by purpose ("every read for an investigation last month") instead of by free text.

A caller states it in the ``X-Purpose`` header as a code, optionally followed by a note after a
colon (``investigation: case 2026-117``); an endpoint's default applies when the header is absent.
An unknown code is refused, not logged as given.
"""

from __future__ import annotations

from enum import StrEnum

from bhyt.errors import BhytError

NOTE_LIMIT = 160


class Purpose(StrEnum):
    TREATMENT = "treatment"  # card check and care at a facility
    ASSESSMENT = "assessment"  # claim assessment (giám định)
    INVESTIGATION = "investigation"  # an abuse or fraud case
    ENROLMENT = "enrolment"  # registry work: cards, participation, registered facility, corrections
    CONTRIBUTIONS = "contributions"  # contributions due and collected, lists per paying unit
    CITIZEN_REQUEST = "citizen_request"  # the person asks for their own data
    OVERSIGHT = "oversight"  # audit and inspection
    REPORTING = "reporting"  # statistics and reports


class PurposeError(BhytError, ValueError):
    """An ``X-Purpose`` value that names no purpose code."""

    code = "auth.purpose"


def parse_purpose(header: str | None, default: Purpose) -> str:
    """The audit log's purpose: ``code`` or ``code: note``.

    >>> parse_purpose(None, Purpose.TREATMENT)
    'treatment'
    >>> parse_purpose("investigation: case 2026-117", Purpose.TREATMENT)
    'investigation: case 2026-117'
    """
    if header is None or not header.strip():
        return default.value
    code, colon, note = header.partition(":")
    code = code.strip().lower()
    if code not in Purpose._value2member_map_:
        known = ", ".join(p.value for p in Purpose)
        raise PurposeError(f"X-Purpose {code[:40]!r} is not a purpose code; give one of {known} (and ': note')")
    note = " ".join(note.split())[:NOTE_LIMIT]
    return f"{code}: {note}" if colon and note else code
