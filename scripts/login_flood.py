#!/usr/bin/env python3
"""Login flood (SECURITY.md S2): N concurrent POST /api/v1/auth/login for unknown users against a
running peixun, while /healthz is probed every 20 ms. Prints the count of answers by status and the
/healthz latency percentiles measured during the flood. Standard library only.

    python3 scripts/login_flood.py --port 8099 --n 1000
"""

import argparse
import asyncio
import json
import time
from collections import Counter


async def request(host, port, method, path, body=b"", timeout=60.0):
    """One HTTP/1.1 request on its own connection; returns the status (0 on a transport error)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        writer.write(head + body)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        status = int(line.split()[1]) if line else 0
        await asyncio.wait_for(reader.read(), timeout)
        writer.close()
        return status
    except Exception:
        return 0


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=1000)
    a = ap.parse_args()

    done = asyncio.Event()
    health = []

    async def probe():
        while not done.is_set():
            t = time.perf_counter()
            s = await request(a.host, a.port, "GET", "/healthz")
            health.append(((time.perf_counter() - t) * 1000, s))
            await asyncio.sleep(0.02)

    async def login(i):
        body = json.dumps({"username": f"nobody_{i}", "password": "Wrong#Password1"}).encode()
        return await request(a.host, a.port, "POST", "/api/v1/auth/login", body)

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.2)
    t0 = time.perf_counter()
    statuses = await asyncio.gather(*(login(i) for i in range(a.n)))
    elapsed = time.perf_counter() - t0
    done.set()
    await prober

    lat = sorted(ms for ms, _ in health)
    pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")
    print(f"logins: {a.n} concurrent, all answered in {elapsed:.1f} s")
    print("by status:", dict(sorted(Counter(statuses).items())), "(0 = connection error)")
    print(
        f"/healthz during the flood: {len(lat)} probes, statuses {dict(Counter(s for _, s in health))}, "
        f"p50 {pct(50):.1f} ms, p99 {pct(99):.1f} ms, max {lat[-1] if lat else float('nan'):.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
