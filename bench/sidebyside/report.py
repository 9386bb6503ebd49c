"""Medians, the markdown table, the JSON file and the targets of issue #6 as ratios."""
import statistics

SCENARIOS = [
    # key, title, [(metric, heading, format)]
    ("http_keepalive_64B", "HTTP/1.1 keep-alive, 64 B responses",
     [("rps", "requests/s", "{:,.0f}"), ("p50_ms", "p50 ms", "{:.2f}"), ("p99_ms", "p99 ms", "{:.2f}"),
      ("cpu_us_per_req", "proxy CPU µs/request", "{:.1f}"), ("user_us_per_req", "of which user", "{:.1f}"),
      ("sys_us_per_req", "of which kernel", "{:.1f}")]),
    ("http_keepalive_16KiB", "HTTP/1.1 keep-alive, 16 KiB responses",
     [("rps", "requests/s", "{:,.0f}"), ("p50_ms", "p50 ms", "{:.2f}"), ("p99_ms", "p99 ms", "{:.2f}"),
      ("cpu_us_per_req", "proxy CPU µs/request", "{:.1f}"), ("user_us_per_req", "of which user", "{:.1f}"),
      ("sys_us_per_req", "of which kernel", "{:.1f}")]),
    ("http_conn_per_request", "HTTP, a new connection per request (64 B)",
     [("rps", "connections/s", "{:,.0f}"), ("p99_ms", "p99 ms", "{:.2f}"),
      ("cpu_us_per_req", "proxy CPU µs/request", "{:.1f}"), ("user_us_per_req", "of which user", "{:.1f}"),
      ("sys_us_per_req", "of which kernel", "{:.1f}")]),
    ("l4_bulk", "L4 TCP bulk transfer (server to client)",
     [("gbit_s", "Gbit/s", "{:.2f}"), ("cpu_s_per_gib", "proxy CPU s/GiB", "{:.3f}")]),
    ("idle_http", "Memory per idle HTTP connection (after one keep-alive request)",
     [("kib_per_conn", "KiB/connection", "{:.2f}")]),
    ("idle_l4", "Memory per idle L4 connection (with its server connection)",
     [("kib_per_conn", "KiB/connection", "{:.2f}")]),
]


def summarize(results):
    """results[scenario][target] = [round dicts] -> same shape with {median, min, max, n}."""
    out = {}
    for scen, per_target in results.items():
        out[scen] = {}
        for target, rounds in per_target.items():
            metrics = {}
            for key in rounds[0] if rounds else []:
                vals = [r[key] for r in rounds if isinstance(r.get(key), (int, float))]
                if vals and key not in ("requests", "connections", "before_kib", "after_kib"):
                    metrics[key] = {"median": statistics.median(vals), "min": min(vals),
                                    "max": max(vals), "n": len(vals)}
            metrics["errors"] = sum(r.get("errors", 0) for r in rounds)
            out[scen][target] = metrics
    return out


def _med(summary, scen, target, metric):
    return summary.get(scen, {}).get(target, {}).get(metric, {}).get("median")


def targets(summary, parser_gbps):
    """(statement, fulcrum, reference, ratio, limit, held) for each target of the issue."""
    rows = []

    def ratio(desc, scen, metric, ref_target, limit, at_most):
        f = _med(summary, scen, "fulcrum", metric)
        ref = _med(summary, scen, ref_target, metric)
        if f is None or not ref:
            rows.append((desc, f, ref, None, limit, None))
            return
        r = f / ref
        rows.append((desc, f, ref, r, limit, r <= limit if at_most else r >= limit))

    for scen, size in (("http_keepalive_64B", "64 B"), ("http_keepalive_16KiB", "16 KiB")):
        ratio(f"keep-alive {size}: CPU/request ≤ 0.8× HAProxy", scen, "cpu_us_per_req", "haproxy", 0.8, True)
        ratio(f"keep-alive {size}: CPU/request ≤ NGINX", scen, "cpu_us_per_req", "nginx", 1.0, True)
        ratio(f"keep-alive {size}: requests/s ≥ HAProxy", scen, "rps", "haproxy", 1.0, False)
        ratio(f"keep-alive {size}: p99 ≤ HAProxy", scen, "p99_ms", "haproxy", 1.0, True)
    ratio("connection per request: rate ≥ HAProxy", "http_conn_per_request", "rps", "haproxy", 1.0, False)
    ratio("L4 bulk: throughput ≥ 0.9× direct", "l4_bulk", "gbit_s", "direct", 0.9, False)
    ratio("L4 bulk: CPU/GiB ≤ HAProxy", "l4_bulk", "cpu_s_per_gib", "haproxy", 1.0, True)
    ratio("idle HTTP connection: memory ≤ NGINX", "idle_http", "kib_per_conn", "nginx", 1.0, True)
    ratio("idle L4 connection: memory ≤ 0.5× HAProxy", "idle_l4", "kib_per_conn", "haproxy", 0.5, True)
    if parser_gbps is not None:
        rows.append(("request parser ≥ 1 GB/s (typical head)", parser_gbps, 1.0, parser_gbps, 1.0,
                     parser_gbps >= 1.0))
    return rows


def _cell(m, fmt):
    if not m:
        return "—"
    if m["n"] == 1 or m["min"] == m["max"]:
        return fmt.format(m["median"])
    return f"{fmt.format(m['median'])} ({fmt.format(m['min'])}–{fmt.format(m['max'])})"


def markdown(meta, summary, target_rows, order):
    lines = [f"# Benchmarks: Fulcrum side by side with HAProxy and NGINX", "",
             f"Latest run: {meta['date']}, `{meta['command']}`. How it is measured and why the figures are what "
             "they are: [performance.md](performance.md).", "",
             f"- Machine: {meta['machine']}",
             f"- Versions: " + "; ".join(f"{k}: {v}" for k, v in meta["versions"].items()),
             f"- Method: {meta['method']}", ""]
    for scen, title, cols in SCENARIOS:
        if scen not in summary:
            continue
        lines += [f"## {title}", "", "| target | " + " | ".join(h for _, h, _ in cols) + " | errors |",
                  "|---|" + "---:|" * (len(cols) + 1)]
        for t in order:
            if t not in summary[scen]:
                continue
            m = summary[scen][t]
            lines.append(f"| {t} | " + " | ".join(_cell(m.get(k), fmt) for k, _, fmt in cols)
                         + f" | {m['errors']} |")
        lines.append("")
    if meta.get("parser"):
        lines += ["## Request parser (Google Benchmark, `bench_http_parser`, median of the repetitions)", "",
                  "| head | GB/s |", "|---|---:|"]
        lines += [f"| {name} | {gbps:.2f} |" for name, gbps in meta["parser"].items()]
        lines.append("")
    lines += ["## Targets (issue #6), as ratios of the medians above", "",
              "| target | Fulcrum | reference | ratio | limit | held |", "|---|---:|---:|---:|---:|:---:|"]
    for desc, f, ref, r, limit, held in target_rows:
        fmt = lambda v: "—" if v is None else f"{v:,.3g}"
        lines.append(f"| {desc} | {fmt(f)} | {fmt(ref)} | {fmt(r)} | {limit} | "
                     f"{'—' if held is None else ('yes' if held else '**no**')} |")
    lines.append("")
    return "\n".join(lines)
