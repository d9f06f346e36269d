"""Effective-dated policy parameters: every rate, threshold and amount, with its legal source.

One YAML file per parameter under ``policy/parameters/``; the folder path is the dotted name
(``general/base_salary.yaml`` → ``general.base_salary``). A file looks like::

    description: Base salary (lương cơ sở), VND per month.
    metadata:
      kind: money              # how values are typed, see Kind
      unit: VND/month
      status: secondary        # official | secondary | unverified (the spec's evidence labels)
      reference: ND 73/2024/NĐ-CP
    values:
      2024-07-01:
        value: 2340000
      2026-07-01:
        value: 2530000
        reference: ND 161/2026/NĐ-CP   # an entry may override status and reference
        end: 2027-06-30                # optional last day (inclusive); otherwise open-ended

Files are validated strictly when loaded (unknown keys, duplicate keys, bad dates, wrong types,
overlapping entries): every error names the file and the key. Values are only ever read "as at" a
date; a date with no value raises :class:`ParameterNotFoundError`. YAML floats are read as ``Decimal``
so that no rate is ever a binary float.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from bhyt.errors import BhytError

PARAMETERS_DIR = Path(__file__).parent / "parameters"

T = TypeVar("T")


class Status(StrEnum):
    """Evidence label of a value, following ``shared/domain/bhyt-spec.md``."""

    OFFICIAL = "official"  # [V] read in an official text
    SECONDARY = "secondary"  # [V2] vendor code or research notes
    UNVERIFIED = "unverified"  # background knowledge: a hypothesis until checked


class Kind(StrEnum):
    """How a parameter's values are typed."""

    MONEY = "money"  # whole đồng (int)
    PERCENT = "percent"  # Decimal in [0, 100]
    INTEGER = "integer"  # int
    FLAG = "flag"  # bool
    FRACTION = "fraction"  # "2/3" -> Fraction in [0, 1]
    PERCENT_BY_CODE = "percent_by_code"  # {"1": 100, …}
    CODE_BY_CODE = "code_by_code"  # {"DN": "4", …}
    CODE_LIST = "code_list"  # ["6", "9", "11"]
    PERCENT_LIST = "percent_list"  # [100, 70, 60, 50, 40]
    ROUTE_RATES = "route_rates"  # {"3.1": {inpatient: 40, outpatient: 0}, …}


@dataclass(frozen=True)
class RouteRate:
    """Share of the card's benefit the fund pays for one route code; ``None``: the code does not
    apply to that visit class."""

    inpatient: Decimal | None
    outpatient: Decimal | None


Value = (
    int
    | Decimal
    | bool
    | Fraction
    | Mapping[str, Decimal]
    | Mapping[str, str]
    | tuple[str, ...]
    | tuple[Decimal, ...]
    | Mapping[str, RouteRate]
)


class ParameterFileError(BhytError, ValueError):
    """A parameter file that does not follow the format; names the file and the key."""

    code = "policy.parameter_file"

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file, self.key = file, key
        where = f" at {key}" if key else ""
        super().__init__(f"Error in parameter file '{file}'{where}: {message}")


class ParameterNotFoundError(BhytError, LookupError):
    """No value of a parameter is in force on the date asked for."""

    code = "policy.no_rules"

    def __init__(self, name: str, at: date, detail: str) -> None:
        self.name, self.at = name, at
        super().__init__(f"Parameter '{name}' has no value on {at.isoformat()}: {detail}")


class ParameterTypeError(BhytError, TypeError):
    """A parameter read as a kind other than the one its file declares (a programming error)."""

    code = "policy.parameter_type"


@dataclass(frozen=True)
class Entry:
    """One dated value of a parameter, in force from ``start`` to ``end`` (inclusive) or onwards."""

    start: date
    end: date | None
    value: Value
    status: Status
    reference: str
    note: str = ""


@dataclass(frozen=True)
class Parameter:
    """A parameter and its full history, as read from one file."""

    name: str
    description: str
    kind: Kind
    unit: str
    file: str
    entries: tuple[Entry, ...]
    _starts: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(e.start for e in self.entries))

    def entry_at(self, at: date) -> Entry:
        """The entry in force on ``at``; raises :class:`ParameterNotFoundError` outside every entry."""
        i = bisect.bisect_right(self._starts, at) - 1
        if i < 0:
            raise ParameterNotFoundError(self.name, at, f"its first value starts {self.entries[0].start}")
        entry = self.entries[i]
        if entry.end is not None and at > entry.end:
            raise ParameterNotFoundError(self.name, at, f"the value from {entry.start} ended {entry.end}")
        return entry

    def end_of(self, entry: Entry) -> date | None:
        """Last day ``entry`` is in force: its own end, or the day before the next entry."""
        if entry.end is not None:
            return entry.end
        i = self.entries.index(entry)
        return self.entries[i + 1].start - timedelta(days=1) if i + 1 < len(self.entries) else None


class ParameterSet:
    """All parameters, read only as at a date. Immutable; overrides return a new set."""

    def __init__(self, parameters: Iterable[Parameter]) -> None:
        self._by_name = {p.name: p for p in parameters}

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def parameter(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise ParameterNotFoundError(name, date.min, "no such parameter") from None

    def entry(self, name: str, at: date) -> Entry:
        """The dated entry of ``name`` in force on ``at`` (value, status and legal source)."""
        return self.parameter(name).entry_at(at)

    def in_force(self, at: date) -> list[tuple[Parameter, Entry]]:
        """Every parameter that has a value on ``at``, by name."""
        out = []
        for name in self.names():
            p = self._by_name[name]
            try:
                out.append((p, p.entry_at(at)))
            except ParameterNotFoundError:
                continue
        return out

    def change_dates(self, names: Iterable[str]) -> list[date]:
        """Dates on which any of ``names`` starts or stops a value: the edges of the epochs over
        which a vectorised computation can read one snapshot of those parameters."""
        edges: set[date] = set()
        for name in names:
            for e in self.parameter(name).entries:
                edges.add(e.start)
                if e.end is not None:
                    edges.add(e.end + timedelta(days=1))
        return sorted(edges)

    def with_override(self, name: str, raw: object, start: date | None = None) -> ParameterSet:
        """A new set in which ``name`` takes ``raw`` (validated as its kind) from ``start`` on, or
        on every date when ``start`` is None: the basis of what-if replays."""
        p = self.parameter(name)
        value = _parse_value(p.kind, raw, p.file, f"override of {name}")
        entry = Entry(
            start=start or date.min,
            end=None,
            value=value,
            status=Status.UNVERIFIED,
            reference="what-if override",
            note="set on the command line",
        )
        kept = tuple(e for e in p.entries if start is not None and e.start < start)
        kept = tuple(replace(e, end=min(e.end or date.max, entry.start - timedelta(days=1))) for e in kept)
        new = Parameter(p.name, p.description, p.kind, p.unit, p.file, (*kept, entry))
        return ParameterSet([*(q for q in self._by_name.values() if q.name != name), new])

    # Typed readers: each checks the kind the file declares.

    def _typed(self, name: str, at: date, kind: Kind) -> Value:
        p = self.parameter(name)
        if p.kind is not kind:
            raise ParameterTypeError(f"parameter '{name}' is {p.kind}, read as {kind}")
        return p.entry_at(at).value

    def money(self, name: str, at: date) -> int:
        return _cast(int, self._typed(name, at, Kind.MONEY))

    def percent(self, name: str, at: date) -> Decimal:
        return _cast(Decimal, self._typed(name, at, Kind.PERCENT))

    def integer(self, name: str, at: date) -> int:
        return _cast(int, self._typed(name, at, Kind.INTEGER))

    def flag(self, name: str, at: date) -> bool:
        return _cast(bool, self._typed(name, at, Kind.FLAG))

    def fraction(self, name: str, at: date) -> Fraction:
        return _cast(Fraction, self._typed(name, at, Kind.FRACTION))

    def percent_by_code(self, name: str, at: date) -> Mapping[str, Decimal]:
        return _cast(Mapping, self._typed(name, at, Kind.PERCENT_BY_CODE))  # type: ignore[type-abstract]

    def code_by_code(self, name: str, at: date) -> Mapping[str, str]:
        return _cast(Mapping, self._typed(name, at, Kind.CODE_BY_CODE))  # type: ignore[type-abstract]

    def code_list(self, name: str, at: date) -> tuple[str, ...]:
        return _cast(tuple, self._typed(name, at, Kind.CODE_LIST))

    def percent_list(self, name: str, at: date) -> tuple[Decimal, ...]:
        return _cast(tuple, self._typed(name, at, Kind.PERCENT_LIST))

    def route_rates(self, name: str, at: date) -> Mapping[str, RouteRate]:
        return _cast(Mapping, self._typed(name, at, Kind.ROUTE_RATES))  # type: ignore[type-abstract]


def _cast(kind: type[T], value: object) -> T:
    assert isinstance(value, kind)
    return value


# Loading and validation.

_TOP_KEYS = {"description", "metadata", "values"}
_META_KEYS = {"kind", "unit", "status", "reference", "note"}
_ENTRY_KEYS = {"value", "status", "reference", "note", "end"}
_CODE = re.compile(r"^[0-9A-Za-z.]{1,10}$")


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML with Decimal floats, dates kept as text (we parse them, with our own errors)
    and duplicate keys refused."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _scalar_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(_scalar_text(loader, node))


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _scalar_text)


def _fail(file: str, key: str, message: str) -> ParameterFileError:
    return ParameterFileError(file, key, message)


def _parse_date(raw: object, file: str, key: str) -> date:
    if not isinstance(raw, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise _fail(file, key, f"expected a date YYYY-MM-DD, got {raw!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise _fail(file, key, f"not a real date {raw!r} ({exc})") from None


def _percent(raw: object, file: str, key: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise _fail(file, key, f"expected a percentage (number 0–100), got {raw!r}")
    value = Decimal(raw)
    if not Decimal(0) <= value <= Decimal(100):
        raise _fail(file, key, f"percentage {value} is outside 0–100")
    return value


def _code(raw: object, file: str, key: str) -> str:
    if not isinstance(raw, str) or not _CODE.match(raw):
        raise _fail(file, key, f"codes must be quoted strings (to keep leading zeros), got {raw!r}")
    return raw


def _mapping(raw: object, file: str, key: str) -> Mapping[object, object]:
    if not isinstance(raw, dict) or not raw:
        raise _fail(file, key, f"expected a non-empty mapping, got {raw!r}")
    return raw


def _parse_value(kind: Kind, raw: object, file: str, key: str) -> Value:
    if kind is Kind.MONEY or kind is Kind.INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise _fail(file, key, f"expected a whole non-negative number, got {raw!r}")
        return raw
    if kind is Kind.PERCENT:
        return _percent(raw, file, key)
    if kind is Kind.FLAG:
        if not isinstance(raw, bool):
            raise _fail(file, key, f"expected true or false, got {raw!r}")
        return raw
    if kind is Kind.FRACTION:
        if not isinstance(raw, str) or not re.fullmatch(r"\d+/\d+", raw) or raw.endswith("/0"):
            raise _fail(file, key, f'expected a fraction like "2/3", got {raw!r}')
        frac = Fraction(raw)
        if frac > 1:
            raise _fail(file, key, f"fraction {raw} is above 1")
        return frac
    if kind is Kind.PERCENT_BY_CODE:
        items = _mapping(raw, file, key).items()
        return MappingProxyType({_code(k, file, key): _percent(v, file, f"{key}.{k}") for k, v in items})
    if kind is Kind.CODE_BY_CODE:
        items = _mapping(raw, file, key).items()
        return MappingProxyType({_code(k, file, key): _code(v, file, f"{key}.{k}") for k, v in items})
    if kind is Kind.CODE_LIST or kind is Kind.PERCENT_LIST:
        if not isinstance(raw, list) or not raw:
            raise _fail(file, key, f"expected a non-empty list, got {raw!r}")
        if kind is Kind.PERCENT_LIST:
            return tuple(_percent(v, file, f"{key}[{i}]") for i, v in enumerate(raw))
        codes = tuple(_code(v, file, f"{key}[{i}]") for i, v in enumerate(raw))
        if len(set(codes)) != len(codes):
            raise _fail(file, key, "a code is listed twice")
        return codes
    # Kind.ROUTE_RATES
    rates: dict[str, RouteRate] = {}
    for k, v in _mapping(raw, file, key).items():
        code = _code(k, file, key)
        row = _mapping(v, file, f"{key}.{code}")
        if set(row) != {"inpatient", "outpatient"}:
            raise _fail(file, f"{key}.{code}", f"expected keys inpatient and outpatient, got {sorted(map(str, row))}")
        rates[code] = RouteRate(
            *(
                None if row[c] is None else _percent(row[c], file, f"{key}.{code}.{c}")
                for c in ("inpatient", "outpatient")
            )
        )
    return MappingProxyType(rates)


def _enum(cls: type[StrEnum], raw: object, file: str, key: str) -> Any:
    try:
        return cls(str(raw))
    except ValueError:
        raise _fail(file, key, f"expected one of {', '.join(m.value for m in cls)}, got {raw!r}") from None


def _text(raw: object, file: str, key: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _fail(file, key, f"expected non-empty text, got {raw!r}")
    return raw.strip()


def _unknown(keys: Iterable[object], allowed: set[str], file: str, where: str) -> None:
    extra = sorted(str(k) for k in keys if k not in allowed)
    if extra:
        raise _fail(file, f"{where}{extra[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def parse_parameter(name: str, text: str, file: str) -> Parameter:
    """Parse and validate one parameter file's text; ``file`` is how errors name it."""
    try:
        doc = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise _fail(file, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    doc = _mapping(doc, file, "")
    _unknown(doc, _TOP_KEYS, file, "")
    for k in sorted(_TOP_KEYS - set(map(str, doc))):
        raise _fail(file, k, "missing")
    description = _text(doc["description"], file, "description")
    meta = _mapping(doc["metadata"], file, "metadata")
    _unknown(meta, _META_KEYS, file, "metadata.")
    for k in ("kind", "unit", "status", "reference"):
        if k not in meta:
            raise _fail(file, f"metadata.{k}", "missing")
    kind: Kind = _enum(Kind, meta["kind"], file, "metadata.kind")
    status: Status = _enum(Status, meta["status"], file, "metadata.status")
    unit = _text(meta["unit"], file, "metadata.unit")
    reference = _text(meta["reference"], file, "metadata.reference")

    entries: list[Entry] = []
    for raw_start, raw_entry in _mapping(doc["values"], file, "values").items():
        key = f"values.{raw_start}"
        start = _parse_date(raw_start, file, key)
        body = _mapping(raw_entry, file, key)
        _unknown(body, _ENTRY_KEYS, file, f"{key}.")
        if "value" not in body:
            raise _fail(file, f"{key}.value", "missing")
        end = _parse_date(body["end"], file, f"{key}.end") if "end" in body else None
        if end is not None and end < start:
            raise _fail(file, f"{key}.end", f"ends {end} before it starts {start}")
        entries.append(
            Entry(
                start=start,
                end=end,
                value=_parse_value(kind, body["value"], file, f"{key}.value"),
                status=_enum(Status, body["status"], file, f"{key}.status") if "status" in body else status,
                reference=_text(body["reference"], file, f"{key}.reference") if "reference" in body else reference,
                note=_text(body["note"], file, f"{key}.note") if "note" in body else "",
            )
        )
    entries.sort(key=lambda e: e.start)
    for before, after in itertools.pairwise(entries):
        if before.end is not None and before.end >= after.start:
            raise _fail(
                file,
                f"values.{before.start}.end",
                f"overlaps the value starting {after.start} (ends {before.end})",
            )
    return Parameter(name, description, kind, unit, file, tuple(entries))


def load_parameters(root: Path = PARAMETERS_DIR) -> ParameterSet:
    """Load and validate every ``*.yaml`` under ``root``; the first bad file raises."""
    params = []
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root)
        name = ".".join(rel.with_suffix("").parts)
        params.append(parse_parameter(name, path.read_text(encoding="utf-8"), rel.as_posix()))
    if not params:
        raise ParameterFileError(str(root), "", "no parameter files found")
    return ParameterSet(params)


@cache
def default_parameters() -> ParameterSet:
    """The package's own parameters, loaded and validated once per process."""
    return load_parameters()
