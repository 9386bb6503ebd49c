#!/usr/bin/python3
"""Open-loop HTTP load spread over several balancers: RATE GET requests per second for SECONDS,
sent in turn to each PORT on HOST, each on its own connection. Prints "sent N", one
"status CODE COUNT" line per status and one "error NAME COUNT" line per kind of failure
(connect or read errors, timeouts), then the same per quarter second of sending time:
"slice K status CODE COUNT" (K = 0 for requests sent in the first 0.25 s). Bounded: each request gives up after 10 s, the whole run
after SECONDS + 15 s.

usage: spread_load.py HOST PATH RATE SECONDS PORT...
"""
import asyncio
import collections
import sys


async def one(host, port, path, results, sliced, k):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n".encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            status = head.split(b" ", 2)[1].decode()
            await asyncio.wait_for(reader.read(), 10)
            results["status " + status] += 1
            sliced[(k, "status " + status)] += 1
        finally:
            writer.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
        results["error " + type(e).__name__] += 1
        sliced[(k, "error " + type(e).__name__)] += 1


async def main():
    host, path = sys.argv[1], sys.argv[2]
    rate, seconds = float(sys.argv[3]), float(sys.argv[4])
    ports = [int(p) for p in sys.argv[5:]]
    results = collections.Counter()
    sliced = collections.Counter()
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    n = int(rate * seconds)
    for i in range(n):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        k = int((loop.time() - start) / 0.25)
        tasks.append(asyncio.ensure_future(one(host, ports[i % len(ports)], path, results, sliced, k)))
    await asyncio.wait_for(asyncio.gather(*tasks), 15)
    print(f"sent {n}")
    for k, v in sorted(results.items()):
        print(f"{k} {v}")
    for (k, what), v in sorted(sliced.items()):
        print(f"slice {k} {what} {v}")


if __name__ == "__main__":
    asyncio.run(main())
