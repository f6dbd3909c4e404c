#!/usr/bin/env python3
"""docs/weight-formats.md's table, printed as Markdown from a results CSV of decoder rows.

    python scripts/formats_table.py results/<machine>/formats.csv

Per model and weight format (rows `cfg=<model>,prompt=P,gen=G[,dtype=F]` for decode and
`cfg=<model>,prompt=P[,dtype=F]` for prefill, at 1 and at the most threads of the file): bytes
per decoded token, decode tokens/s, the decode's fraction of the roofline, the measured speedup
over the f32 row against the accelerated model's prediction (format_speedup / _pred, 1 thread),
prefill tokens/s, and for a real model its perplexity and greedy agreement with fp32. A cell
whose row is missing or did not run reads "—". The table is printed, not edited into the
page, so a person sees what changed before committing it.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aigc_results  # noqa: E402

TOOL = "formats_table"
FORMATS = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"]


def parse(shape):
    items = aigc_results.shape_items(shape)
    return items.get("cfg"), items.get("dtype", "f32"), "gen" in items


def cell(values, fmt):
    return " / ".join("—" if v is None or v != v else fmt(v) for v in values)


def table(df):
    df = df[(df["workload"] == "decoder") & (df["status"] == "ok")].copy()
    parsed = df["shape"].map(parse)
    df["model"] = [p[0] for p in parsed]
    df["dtype_"] = [p[1] for p in parsed]
    df["is_decode"] = [p[2] for p in parsed]
    most = int(df["threads"].max())
    threads = [1, most] if most > 1 else [1]

    def row(model, dtype, decode, t):
        r = df[(df["model"] == model) & (df["dtype_"] == dtype) & (df["is_decode"] == decode) &
               (df["threads"] == t)]
        return None if r.empty else r.iloc[0]

    def value(r, column):
        return None if r is None else float(r[column])

    tn = " / ".join(str(t) for t in threads)
    lines = [f"| model | `dtype` | MB/token | decode tok/s, {tn} threads | % of the roofline, {tn} | "
             f"S / S_pred vs f32, 1 thread | prefill tok/s, {tn} | perplexity | greedy agreement |",
             "|---|---|---|---|---|---|---|---|---|"]
    for model in dict.fromkeys(df["model"]):
        for i, dtype in enumerate(f for f in FORMATS if (df["dtype_"] == f).any()):
            decode = [row(model, dtype, True, t) for t in threads]
            prefill = [row(model, dtype, False, t) for t in threads]
            first = next((r for r in decode if r is not None), None)
            if first is None and all(r is None for r in prefill):
                continue
            gen = None
            if first is not None:
                gen = int(aigc_results.shape_items(first["shape"])["gen"])
            mb = "—" if first is None else f"{float(first['bytes']) / gen / 1e6:.0f}"
            speed = "—"
            if dtype != "f32" and decode[0] is not None:
                speed = (f"{float(decode[0]['format_speedup']):.2f}× / "
                         f"{float(decode[0]['format_speedup_pred']):.2f}×")
            ppl = value(first, "perplexity")
            agree = value(first, "greedy_agreement")
            lines.append(" | ".join([
                "|" + (f" {aigc_results.MODEL_NAMES.get(model, model)}" if i == 0 else ""),
                f"`{dtype}`", mb,
                cell([value(r, "tokens_per_s") for r in decode], lambda v: f"{v:.0f}"),
                cell([value(r, "roofline_fraction") for r in decode], lambda v: f"{100 * v:.0f}%"),
                speed,
                cell([value(r, "tokens_per_s") for r in prefill], lambda v: f"{v:.0f}"),
                "—" if ppl is None or ppl != ppl else f"{ppl:.2f}",
                "—" if agree is None or agree != agree else f"{100 * agree:.0f}%"]) + " |")
    return "\n".join(lines)


def main(argv=None):
    return aigc_results.table_main(table, TOOL, argv)


if __name__ == "__main__":
    sys.exit(main())
