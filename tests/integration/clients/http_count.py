#!/usr/bin/python3
"""Sends N HTTP/1.1 requests (keep-alive, reconnecting when the server closes) and prints
one line per (status, X-Backend) pair: "<status> <backend> <count>". Bounded: every socket
operation times out after 10 s.

usage: http_count.py HOST PORT PATH N [--header 'Name: value']... [--cookie-jar] [--new-conn]
"""
import http.client
import sys


def main():
    host, port, path, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    headers = {}
    jar = False
    new_conn = False
    args = sys.argv[5:]
    i = 0
    while i < len(args):
        if args[i] == "--header":
            name, value = args[i + 1].split(":", 1)
            headers[name.strip()] = value.strip()
            i += 2
        elif args[i] == "--cookie-jar":
            jar = True
            i += 1
        elif args[i] == "--new-conn":
            new_conn = True
            i += 1
        else:
            sys.exit("unknown argument " + args[i])
    counts = {}
    conn = None
    for _ in range(n):
        if conn is None or new_conn:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            key = (resp.status, resp.getheader("X-Backend", "-"))
            if jar:
                cookie = resp.getheader("Set-Cookie")
                if cookie:
                    headers["Cookie"] = cookie.split(";", 1)[0]
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            key = ("error", type(e).__name__)
            conn.close()
            conn = None
        counts[key] = counts.get(key, 0) + 1
    for (status, backend), c in sorted(counts.items(), key=str):
        print(status, backend, c)


main()
