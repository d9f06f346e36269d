"""Reading processes: chunks of work done in forked workers, their results given back in input order.

Not ``concurrent.futures``: a worker there hands each result to a queue shared by all workers, which a
thread of this process reads while competing with the main thread for the GIL, through a 64 KiB pipe
that a chunk of prepared files (~370 KB) fills six times over, and unpickles every result there. Here
each worker has its own pair of pipes, widened to 1 MiB where Linux allows; a thread takes results off
them as bytes, and the caller unpickles each when it gets to it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, TypeVar

from bhyt.errors import BhytError

T = TypeVar("T")
R = TypeVar("R")
PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031  # Linux


class WorkerError(BhytError, RuntimeError):
    """A worker failed (a bug, not bad input: the work it runs answers bad input with findings) or died."""

    code = "claims.worker"
    exit_code = 1


def _widen(conn: Connection) -> None:
    with contextlib.suppress(OSError):  # another OS, or a limit below 1 MiB: the default size works, slower
        fcntl.fcntl(conn.fileno(), _F_SETPIPE_SZ, PIPE_BYTES)


def _serve(tasks: Connection, results: Connection, parent: int, others: list[Connection]) -> None:
    """A worker: run each task it is sent and send back ("ok", result) or ("error", traceback), until EOF.

    ``others``: the parent's ends of this worker's pipes and of those of the workers forked before,
    inherited by the fork and closed at once, so that a worker sees its pipes close when the parent
    closes them."""
    for conn in others:
        conn.close()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # never holds this process's stdout: a receipt stream ends when the ingest ends
    os.close(devnull)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux): die with the parent
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(0)
    with contextlib.suppress(EOFError, BrokenPipeError):  # the parent ended the pool (or died)
        while True:
            fn, part, args = tasks.recv()
            try:
                answer = ("ok", fn(part, *args))
            except Exception:  # reported to the parent, which raises it
                answer = ("error", traceback.format_exc())
            results.send(answer)


class ReadingPool:
    """Forked worker processes, for one :meth:`map` at a time. Create it before any thread starts (a
    progress bar's, say)."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("fork")
        self._tasks: list[Connection] = []
        self._results: list[Connection] = []
        self._processes: list[BaseProcess] = []
        self._readers: list[tuple[threading.Thread, queue.SimpleQueue[int | None]]] = []
        self._unread = 0  # parts sent whose results were not taken: a caller left map() early
        for _ in range(workers):
            task_out, task_in = context.Pipe(duplex=False)
            result_out, result_in = context.Pipe(duplex=False)
            _widen(task_in)
            _widen(result_in)
            others = [*self._tasks, *self._results, task_in, result_out]  # the parent's ends
            process = context.Process(target=_serve, args=(task_out, result_in, os.getpid(), others), daemon=True)
            process.start()
            task_out.close()
            result_in.close()
            self._tasks.append(task_in)
            self._results.append(result_out)
            self._processes.append(process)

    @property
    def workers(self) -> int:
        return len(self._processes)

    def map(self, fn: Callable[..., list[R]], items: Iterable[T], *args: Any, chunk: int = 16,
            ahead: int = 8) -> Iterator[R]:  # fmt: skip
        """``fn(part, *args)`` over ``items`` in parts of ``chunk``, flattened in input order; about ``ahead``
        parts per worker are queued, so the workers go on while the caller works on what it was given.

        A thread takes each result off its pipe as soon as it is there (as bytes: it holds the GIL only to
        make them), so a worker never waits on a full pipe while this process commits; this process
        unpickles a result when it gets to it, and only then sends that worker a new part, so at most
        ``ahead`` results per worker are held.
        """
        left = iter(items)
        order: queue.SimpleQueue[int | None] = queue.SimpleQueue()  # the worker of each part sent, in order
        answers: queue.SimpleQueue[tuple[int, bytes | None]] = queue.SimpleQueue()
        reader = threading.Thread(target=self._take, args=(order, answers), daemon=True)
        reader.start()
        self._readers.append((reader, order))

        def send(worker: int) -> None:
            part = list(islice(left, chunk))
            if part:
                self._tasks[worker].send((fn, part, args))
                order.put(worker)
                self._unread += 1

        try:
            for k in range(ahead * len(self._tasks)):
                send(k % len(self._tasks))
            while self._unread:
                worker, data = answers.get()
                self._unread -= 1
                if data is None:
                    raise WorkerError(f"reading process {self._processes[worker].pid} died")
                status, value = pickle.loads(data)
                if status != "ok":
                    raise WorkerError(f"a reading process failed:\n{value}")
                send(worker)
                yield from value
        finally:
            order.put(None)

    def _take(self, order: queue.SimpleQueue[int | None], answers: queue.SimpleQueue[tuple[int, bytes | None]]) -> None:
        """The reading thread of :meth:`map`: each result, in order, as the bytes its worker sent (None: it died)."""
        while (worker := order.get()) is not None:
            try:
                answers.put((worker, self._results[worker].recv_bytes()))
            except (EOFError, OSError):
                answers.put((worker, None))
                return

    def shutdown(self) -> None:
        """End the workers and wait for them. Idle workers end when their task pipe closes; when a caller
        left :meth:`map` early, they are killed instead of finishing parts nobody will read."""
        for conn in self._tasks:
            conn.close()
        for process in self._processes:
            if self._unread:
                process.kill()
            process.join()
        for thread, order in self._readers:  # its worker's pipe is closed now: it ends
            order.put(None)
            thread.join()
        for conn in self._results:
            conn.close()

    def __enter__(self) -> ReadingPool:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.shutdown()
