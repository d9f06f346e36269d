"""The claims store's large values compressed with Zstandard and a dictionary of each kind: a
facility's original file (a GIAMDINHHS envelope and its base64) and a claim version's tables (canonical
JSON). The store is the biggest thing BHYT keeps (a national year is ~200 M claims); with a dictionary
that already holds the standard's tags and field names, a file shrinks about twenty times and a
version's tables about fifteen, for tens of microseconds a claim.

The dictionaries ship in ``claims/zdict/`` (``scripts/gen_zdict.py`` trains them on a synthetic
nation). A frame names the dictionary it was written with by its id, so a dictionary, once used, is
never changed: a new one gets a new id and the old ones stay to read what they wrote. A Zstandard frame
begins with the bytes 28 B5 2F FD, which no XML, JSON or text begins with, so a value stored before
compression reads back as it is.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from functools import cache
from pathlib import Path

import zstandard

MAGIC = b"\x28\xb5\x2f\xfd"
LEVEL = 3
ZDICT = Path(__file__).parent / "zdict"


class Kind(StrEnum):
    FILE = "file"  # an original file as sent
    TABLES = "tables"  # a version's tables as canonical JSON


@cache
def dictionaries() -> dict[int, zstandard.ZstdCompressionDict]:
    """Every shipped dictionary by its id (files ``<kind>-<id>.zdict``)."""
    out = {}
    for path in sorted(ZDICT.glob("*.zdict")):
        d = zstandard.ZstdCompressionDict(path.read_bytes())
        out[d.dict_id()] = d
    return out


@cache
def current(kind: Kind) -> zstandard.ZstdCompressionDict:
    """The dictionary new values of ``kind`` are written with: the one with the highest id."""
    found = sorted(ZDICT.glob(f"{kind.value}-*.zdict"), key=lambda p: int(p.stem.split("-")[1]))
    if not found:
        raise FileNotFoundError(f"no {kind.value} dictionary in {ZDICT}")
    return dictionaries()[int(found[-1].stem.split("-")[1])]


# Contexts are reused (each allocates its working memory) but are not thread safe: one set per thread.
_contexts = threading.local()


def _compressor(kind: Kind) -> zstandard.ZstdCompressor:
    made: dict[Kind, zstandard.ZstdCompressor] | None = getattr(_contexts, "compressors", None)
    if made is None:
        made = _contexts.compressors = {}
    if kind not in made:
        made[kind] = zstandard.ZstdCompressor(level=LEVEL, dict_data=current(kind), write_content_size=True)
    return made[kind]


def _decompressor(dict_id: int) -> zstandard.ZstdDecompressor:
    made: dict[int, zstandard.ZstdDecompressor] | None = getattr(_contexts, "decompressors", None)
    if made is None:
        made = _contexts.decompressors = {}
    if dict_id not in made:
        known = dictionaries()
        if dict_id and dict_id not in known:
            raise LookupError(f"a stored value needs compression dictionary {dict_id}, which is not in {ZDICT}")
        made[dict_id] = zstandard.ZstdDecompressor(dict_data=known.get(dict_id))
    return made[dict_id]


def pack(data: bytes, kind: Kind) -> bytes:
    """``data`` compressed with the current dictionary of its kind (one frame that records its size)."""
    return _compressor(kind).compress(data)


def unpack(stored: bytes | str) -> bytes:
    """What :func:`pack` was given; a value stored uncompressed (text or bytes) as it is.

    >>> unpack(pack(b"<GIAMDINHHS/>", Kind.FILE))
    b'<GIAMDINHHS/>'
    >>> unpack("{}")
    b'{}'
    """
    if isinstance(stored, str):
        return stored.encode()
    if stored[:4] != MAGIC:
        return bytes(stored)
    return _decompressor(zstandard.get_frame_parameters(stored).dict_id).decompress(stored)
