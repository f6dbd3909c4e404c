#!/usr/bin/env python3
"""docs/distributed.md's collectives table, printed as Markdown from a results CSV of collectives rows.

    python scripts/collectives_table.py results/<machine>/full-collectives.csv

Per operation (ranks from the rows): its Hockney regimes (consecutive sizes sharing the fitted
alpha and beta), the measured median at 4 KiB, 1 MiB and 64 MiB, and the worst relative
distance between 4 KiB and 64 MiB (the alpha-beta target's range) of its own fit
(t_comm_fit_s) and of its algorithm's cost from the ping-pong regimes (t_comm_model_s). A cell
without a row reads "—". The table is printed, not edited into the page.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aigc_results  # noqa: E402

TOOL = "collectives_table"
SIZES = [4096, 1 << 20, 64 << 20]
LOW, HIGH = 4096, 64 << 20


def size(n):
    n = float(n)
    if n >= 1 << 20:
        return f"{n / (1 << 20):g} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):g} KiB"
    return f"{n:g} B"


def duration(t):
    return f"{t * 1e3:.3g} ms" if t >= 1e-3 else f"{t * 1e6:.3g} µs"


def regimes(part):
    out, start = [], 0
    rows = part.to_dict("records")
    for i in range(1, len(rows) + 1):
        if i == len(rows) or (rows[i]["alpha_s"], rows[i]["beta_s_per_byte"]) != \
                (rows[start]["alpha_s"], rows[start]["beta_s_per_byte"]):
            r = rows[start]
            bw = f"{1e-9 / r['beta_s_per_byte']:.3g} GB/s" if r["beta_s_per_byte"] > 0 else "∞"
            out.append(f"{size(r['bytes'])}–{size(rows[i - 1]['bytes'])}: "
                       f"{r['alpha_s'] * 1e6:.3g} µs, {bw}")
            start = i
    return "; ".join(out)

def worst(part, column):
    inside = part[(part["bytes"] >= LOW) & (part["bytes"] <= HIGH) & part[column].notna()]
    if inside.empty:
        return "—"
    return f"{100 * (inside[column] / inside['time_median_s'] - 1).abs().max():.0f}%"

def table(df):
    df = df[(df["workload"] == "collectives") & (df["status"] == "ok")].copy()
    if df.empty:
        aigc_results.fail(TOOL, "no collectives rows that ran")
    df["op"] = [aigc_results.shape_items(s)["op"] for s in df["shape"]]
    lines = ["| operation, ranks | regimes (sizes: α, 1/β) | 4 KiB | 1 MiB | 64 MiB | own fit, worst "
             "4 KiB–64 MiB | algorithm from ping-pong, worst 4 KiB–64 MiB |",
             "|---|---|---|---|---|---|---|"]
    for op in dict.fromkeys(df["op"]):
        part = df[df["op"] == op].sort_values("bytes")
        cells = []
        for n in SIZES:
            hit = part[part["bytes"] == n]
            cells.append(duration(hit["time_median_s"].iloc[0]) if not hit.empty else "—")
        ranks = int(part["ranks"].iloc[0])
        lines.append(f"| {op}, {ranks} | {regimes(part)} | {' | '.join(cells)} | "
                     f"{worst(part, 't_comm_fit_s')} | {worst(part, 't_comm_model_s')} |")
    return "\n".join(lines)

if __name__ == "__main__":
    sys.exit(aigc_results.table_main(table, TOOL))
