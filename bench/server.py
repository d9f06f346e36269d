"""Starting ``bhyt serve`` for a benchmark: a free port, and a check that the server answering is the
one started (its ``BHYT_INSTANCE`` echoed by ``/health``), never another that holds the port."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_own_server(url: str, instance: str, server: subprocess.Popen[bytes], seconds: float = 300) -> None:
    """Wait until ``url`` answers /health as ``instance``; fail if another server answers or ours dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"bhyt serve exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as r:
                health = json.loads(r.read())
        except OSError:
            time.sleep(0.3)
            continue
        if health.get("instance") != instance:
            raise SystemExit(f"another server answers at {url}: {health}")
        return
    raise SystemExit(f"bhyt serve did not answer at {url} within {seconds:.0f} s")
