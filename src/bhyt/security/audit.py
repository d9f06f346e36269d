"""The audit log: every read of personal data, who, what, when and why. Entries are queued and
written in batches by one thread, each batch one transaction (group commit: a hundred card checks
share one disk write). The service answers a request only once its entries are committed
(:meth:`AuditLog.durable`), so a crash, even kill -9, loses no entry of an answered request.
``close`` writes what is queued. The table refuses updates and deletes (migration 0004)."""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError

from bhyt.security.models import AuditEntry


@dataclass(frozen=True)
class Entry:
    at: datetime
    subject: str
    role: str
    action: str
    target: str
    purpose: str
    outcome: str


class AuditLog:
    def __init__(self, engine: Engine, batch: int = 500, interval: float = 0.2) -> None:
        self.engine, self.batch, self.interval = engine, batch, interval
        self._queue: queue.Queue[Entry | None] = queue.Queue()
        self._lock = threading.Lock()
        self._queued = 0  # entries recorded, and committed: the nth entry is written once written >= n
        self._written = 0
        self._waiting: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    @property
    def queued(self) -> int:
        """How many entries have been recorded so far (the mark :meth:`durable` waits for)."""
        return self._queued

    def record(self, subject: str, role: str, action: str, target: str, purpose: str, outcome: str) -> None:
        entry = Entry(datetime.now().replace(microsecond=0), subject, role, action, target, purpose, outcome)  # noqa: DTZ005
        with self._lock:  # numbered in the order queued, so the writer's count tells which are committed
            self._queued += 1
            self._queue.put(entry)

    async def durable(self, mark: int) -> None:
        """Return once the first ``mark`` entries are committed (at once when they are)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._written >= mark:
                return
            self._waiting.append((mark, loop, future))
        await future

    def _committed(self, count: int) -> None:
        with self._lock:
            self._written += count
            ready = [w for w in self._waiting if w[0] <= self._written]
            self._waiting = [w for w in self._waiting if w[0] > self._written]
        for _, loop, future in ready:
            loop.call_soon_threadsafe(_resolve, future)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        done = False
        pending: list[Entry] = []
        while not done:
            try:
                item = self._queue.get(timeout=self.interval)
                while True:
                    if item is None:
                        done = True
                        break
                    pending.append(item)
                    if len(pending) >= self.batch:
                        break
                    item = self._queue.get_nowait()
            except queue.Empty:
                pass
            if pending:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(insert(AuditEntry), [asdict(e) for e in pending])
                    self._committed(len(pending))
                    pending = []
                except SQLAlchemyError as exc:  # kept and written at the next turn; never dropped
                    print(f"audit log: write failed, retrying: {exc}", file=sys.stderr)
                    time.sleep(self.interval)
                    done = False


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # a request that went away may have cancelled it
        future.set_result(None)


def entries(
    engine: Engine, subject: str | None = None, target: str | None = None, since: datetime | None = None,
    limit: int = 100, purpose: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Audit entries, newest first, filtered by who, whose data, from when and for which purpose code."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject:
        query = query.where(AuditEntry.subject == subject)
    if target:
        query = query.where(AuditEntry.target == target)
    if since:
        query = query.where(AuditEntry.at >= since)
    if purpose:  # the code alone or with its note ("investigation: case 7")
        query = query.where(or_(AuditEntry.purpose == purpose, AuditEntry.purpose.startswith(f"{purpose}: ")))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
