"""Benchmark of the card check: a registry of N insured people in SQLite, the service started in its own
process, driven from a second process on loopback; the same driver against /health is the framework's
floor, measured in the same run. Also the in-process lookup (CardIndex.check) alone.

Usage: bench/eligibility.py [--people N] [--seconds S] [--connections C]. Last line:
RESULT rps=<n> p50_ms=<x> p99_ms=<x> errors=<n> health_rps=<n> lookup_p99_us=<x>
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from server import free_port, wait_for_own_server  # bench/server.py, beside this file

from bhyt.db import connect
from bhyt.policy.params import default_parameters
from bhyt.registry.load import load_registry
from bhyt.registry.service import card_index
from bhyt.security.roles import Principal, Role
from bhyt.security.tokens import issue

SECRET = "bench-" + "s" * 40
PROVINCES = ("01", "79", "92", "48")
GROUPS = ("GD", "HS", "DN", "HT")  # with their usual benefit digits below
DIGITS = {"GD": "4", "HS": "4", "DN": "4", "HT": "3"}
DAY = date(2026, 3, 2)


def registry(folder: Path, people: int, seed: int = 7) -> list[str]:
    """A registry of ``people`` people, one card each, in the files bhyt synth writes; the card numbers."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    ids = np.arange(people)
    prov = np.array(PROVINCES)[rng.integers(0, len(PROVINCES), people)]
    group = np.array(GROUPS)[rng.integers(0, len(GROUPS), people)]
    serial = np.char.zfill(ids.astype(str), 10)
    year = 1940 + (ids // 10**6) * 7 + rng.integers(0, 7, people)  # with the serial below: unique IDs
    # Citizen IDs: 0 + province + century/sex digit (0/1 for the 1900s, 2/3 for the 2000s) + year + serial.
    century = np.where(year < 2000, 0, 2) + (rng.random(people) < 0.5)
    tail = np.char.add(np.char.zfill((year % 100).astype(str), 2), np.char.zfill((ids % 10**6).astype(str), 6))
    if people > 10**6 * 12:
        raise SystemExit("at most 12 million people: the citizen IDs would repeat")
    cid = np.char.add(np.char.add(np.char.add("0", prov), century.astype(str)), tail)
    card = np.char.add(np.char.add(np.char.add(group, np.vectorize(DIGITS.get)(group)), prov), serial)
    facilities = [f"{p}{i:03d}" for p in PROVINCES for i in range(1, 26)]
    reg = np.array(facilities)[rng.integers(0, len(facilities), people)]
    births = [date(int(y), 1, 1) for y in year]
    pq.write_table(pa.table({
        "code": facilities, "name": [f"Cơ sở {f}" for f in facilities], "province": [f[:2] for f in facilities],
        "kind": ["station" if int(f[2:]) < 20 else "district" for f in facilities],
        "level": ["primary" if int(f[2:]) < 20 else "basic" for f in facilities], "points": [""] * len(facilities),
        "contract_from": pa.array([date(2020, 1, 1)] * len(facilities), pa.date32()),
        "contract_to": pa.nulls(len(facilities), pa.date32()),
    }), folder / "facilities.parquet")  # fmt: skip
    pq.write_table(pa.table({"code": ["01DN00001"], "name": ["Công ty bench"], "province": ["01"],
                             "kind": ["enterprise"]}), folder / "employers.parquet")  # fmt: skip
    pq.write_table(pa.table({"payer": pa.array([], pa.string()), "month": pa.array([], pa.date32()),
                             "amount": pa.array([], pa.int64()), "paid_on": pa.array([], pa.date32()),
                             "reference": pa.array([], pa.string())}), folder / "payments.parquet")  # fmt: skip
    pq.write_table(pa.table({
        "person_id": ids, "citizen_id": cid, "name": ["Nguyễn Văn A"] * people, "birth_date": births,
        "sex": pa.array(np.where(rng.random(people) < 0.5, 1, 2), pa.int8()), "province": prov,
        "commune": pa.nulls(people, pa.string()), "household_id": ids,
        "household_position": pa.array(np.ones(people), pa.int8()),
    }), folder / "people.parquet")  # fmt: skip
    pq.write_table(pa.table({
        "person_id": ids, "citizen_id": cid, "card": card, "group": group, "benefit_digit": [c[2] for c in card],
        "card_province": prov, "valid_from": pa.array([date(2026, 1, 1)] * people, pa.date32()),
        "valid_to": pa.array([date(2026, 12, 31)] * people, pa.date32()), "registered_facility": reg,
        "continuous_since": pa.array([date(2019, 1, 1)] * people, pa.date32()),
        "five_year_date": pa.array([date(2024, 1, 1)] * people, pa.date32()),
        "living_area": pa.nulls(people, pa.string()),
        "employer": pa.array(np.where(group == "DN", "01DN00001", None), pa.string()),
        "income": pa.array(np.where(np.isin(group, ["DN", "HT"]), 8_000_000, None), pa.int64()),
    }), folder / "cards.parquet")  # fmt: skip
    return [str(c) for c in card]


async def drive(url: str, paths: list[str], token: str, seconds: float, connections: int) -> dict[str, float]:
    """Keep-alive HTTP/1.1 clients on loopback for ``seconds``: requests/s, latency, errors."""
    host, port = url.split("//")[1].split(":")
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client(k: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        i = k
        while time.perf_counter() < stop:
            path = paths[i % len(paths)]
            i += connections
            start = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {token}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(connections)))
    elapsed = time.perf_counter() - started
    lat = np.array(latencies) * 1000
    return {"rps": len(lat) / elapsed, "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)),
            "errors": errors, "requests": len(lat)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10_000_000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--connections", type=int, default=4, help="concurrent keep-alive clients")
    ap.add_argument("--drive", help=argparse.SUPPRESS)  # internal: run as the load-generating process
    ap.add_argument("--paths", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.drive:
        paths = json.loads(Path(args.paths).read_text())
        token = issue(SECRET, Principal("bench", Role.AUDITOR), 3600)
        print(json.dumps(asyncio.run(drive(args.drive, paths, token, args.seconds, args.connections))))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-elig-"))
    server = None
    try:
        started = time.perf_counter()
        cards = registry(work / "registry", args.people)
        print(f"registry files: {args.people:,} people in {time.perf_counter() - started:.1f} s")
        url_db = f"sqlite:///{work / 'bhyt.db'}"
        engine = connect(url_db)
        started = time.perf_counter()
        load_registry(engine, work / "registry", default_parameters())
        print(f"loaded into SQLite in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        index = card_index(engine)
        print(f"card index built in {time.perf_counter() - started:.1f} s")
        engine.dispose()
        params, rng = default_parameters(), np.random.default_rng(1)
        sample = [cards[i] for i in rng.integers(0, len(cards), 20_000)]
        times = []
        for c in sample:
            t0 = time.perf_counter_ns()
            index.check(params, DAY, card=c)
            times.append((time.perf_counter_ns() - t0) / 1000)
        lookup_p99 = float(np.percentile(times, 99))
        print(f"in-process lookup: p50 {np.percentile(times, 50):.1f} µs, p99 {lookup_p99:.1f} µs")
        del index

        # A free port, and a token of this run echoed by /health: what answers must be the server started
        # here, not another one that holds the port.
        port, instance = free_port(), uuid.uuid4().hex
        env = dict(os.environ, BHYT_TOKEN_SECRET=SECRET, BHYT_RATE_PER_SECOND="1000000", BHYT_RATE_BURST="1000000",
                   BHYT_INSTANCE=instance)  # fmt: skip
        server = subprocess.Popen([str(Path(sys.executable).parent / "bhyt"), "serve", "--db", url_db, "--port",
                                   str(port)], env=env, stderr=subprocess.DEVNULL)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_for_own_server(url, instance, server)
        paths = work / "paths.json"
        results = {}
        for name, targets in (("eligibility", [f"/eligibility?card={c}&date={DAY}" for c in sample]),
                              ("health", ["/health"])):  # fmt: skip
            paths.write_text(json.dumps(targets))
            done = subprocess.run([sys.executable, __file__, "--drive", url, "--paths", str(paths), "--seconds",
                                   str(args.seconds), "--connections", str(args.connections)],
                                  capture_output=True, text=True, check=True)  # fmt: skip
            results[name] = json.loads(done.stdout)
            print(f"{name:<12} {results[name]}")
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)
    e, h = results["eligibility"], results["health"]
    print(f"RESULT rps={e['rps']:.0f} p50_ms={e['p50_ms']:.2f} p99_ms={e['p99_ms']:.2f} errors={e['errors']} "
          f"health_rps={h['rps']:.0f} lookup_p99_us={lookup_p99:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
