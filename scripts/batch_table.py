#!/usr/bin/env python3
"""docs/batching.md's batched-decoding table, printed as Markdown from a results CSV of decoder rows.

    python scripts/batch_table.py results/<machine>/batch.csv

Per model, weight format and thread count (decode rows `cfg=<model>,prompt=P,gen=G[,batch=B]
[,dtype=F]`): aggregate tokens/s and the ms/token each sequence sees at B = 1, 4, 16 and 64,
the speedup of B = 16 over B = 1 (the batching target), B* (knee_batch: where the roofline's
compute time meets its bandwidth time) and the share of the compute ceiling (peak_flops, the
probe's fp32 FMA peak) the largest batch of the file uses. A cell whose row is missing or did
not run reads "—". The table is printed, not edited into the page, so a person sees what
changed before committing it.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aigc_results  # noqa: E402

TOOL = "batch_table"
BATCHES = [1, 4, 16, 64]


def parse(shape):
    items = aigc_results.shape_items(shape)
    return items.get("cfg"), items.get("dtype", "f32"), int(items.get("batch", "1"))


def table(df):
    df = df[(df["workload"] == "decoder") & (df["phase"] == "decode") &
            (df["status"] == "ok")].copy()
    if df.empty:
        aigc_results.fail(TOOL, "no decode rows that ran")
    parsed = df["shape"].map(parse)
    df["model"] = [p[0] for p in parsed]
    df["dtype_"] = [p[1] for p in parsed]
    df["batch_"] = [p[2] for p in parsed]
    largest = int(df["batch_"].max())

    def row(model, dtype, batch, t):
        r = df[(df["model"] == model) & (df["dtype_"] == dtype) & (df["batch_"] == batch) &
               (df["threads"] == t)]
        return None if r.empty else r.iloc[0]

    def tok_ms(r):
        if r is None:
            return "—"
        return f"{float(r['tokens_per_s']):.0f}, {float(r['ms_per_token']):.1f} ms"

    lines = ["| model, weights | threads | " + " | ".join(f"B = {b}" for b in BATCHES) +
             f" | B=16 / B=1 | B* | FMA peak used at B = {largest} |",
             "|---" * (len(BATCHES) + 5) + "|"]
    for model in dict.fromkeys(df["model"]):
        for dtype in dict.fromkeys(df[df["model"] == model]["dtype_"]):
            for i, t in enumerate(sorted(set(df[(df["model"] == model) &
                                                (df["dtype_"] == dtype)]["threads"]))):
                cells = [tok_ms(row(model, dtype, b, t)) for b in BATCHES]
                one, sixteen = row(model, dtype, 1, t), row(model, dtype, 16, t)
                ratio = "—"
                if one is not None and sixteen is not None:
                    ratio = f"{float(sixteen['tokens_per_s']) / float(one['tokens_per_s']):.1f}×"
                top = row(model, dtype, largest, t)
                knee = "—" if top is None else f"{float(top['knee_batch']):.0f}"
                used = "—"
                if top is not None:
                    used = f"{100 * float(top['achieved_flops']) / float(top['peak_flops']):.0f}%"
                label = f"{aigc_results.MODEL_NAMES.get(model, model)}, {dtype}" if i == 0 else ""
                lines.append("| " + " | ".join([label, str(int(t))] + cells +
                                                [ratio, knee, used]) + " |")
    return "\n".join(lines)


def main(argv=None):
    return aigc_results.table_main(table, TOOL, argv)


if __name__ == "__main__":
    sys.exit(main())
