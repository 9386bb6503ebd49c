#!/usr/bin/python3
"""Open-loop HTTP load: RATE GET requests per second for SECONDS, each on its own connection,
whatever the earlier ones are doing (a stalled server must not slow the sender). Prints
"sent N ok N failed N" and one "fail <reason>" line per distinct failure. Bounded: each request
gives up after 15 s, the whole run after SECONDS + 20 s.

usage: paced_load.py HOST PORT PATH RATE SECONDS
"""
import asyncio
import collections
import sys


async def one(host, port, path, results):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 15)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n".encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
            status = head.split(b" ", 2)[1].decode()
            await asyncio.wait_for(reader.read(), 15)
            results["ok" if status == "200" else "status " + status] += 1
        finally:
            writer.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
        results[type(e).__name__] += 1


async def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rate, seconds = float(sys.argv[4]), float(sys.argv[5])
    results = collections.Counter()
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    n = int(rate * seconds)
    for i in range(n):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(host, port, path, results)))
    await asyncio.wait_for(asyncio.gather(*tasks), 20)
    failed = sum(v for k, v in results.items() if k != "ok")
    print(f"sent {n} ok {results['ok']} failed {failed}")
    for k, v in results.items():
        if k != "ok":
            print(f"fail {k} {v}")


if __name__ == "__main__":
    asyncio.run(main())
