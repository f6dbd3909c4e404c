#!/usr/bin/env python3
"""docs/distributed.md's tensor-parallel table, printed as Markdown from the CSV of scripts/tp_target.sh.

    python scripts/tp_table.py results/<machine>/tp-target.csv

Its decode rows of one shape, in rounds (one run_id per run): 1 rank at the most threads
(`ranks` 1) and P ranks (`ranks` P, tp=P). Per configuration: tokens/s as the median of the
rounds' medians with the lowest and highest round, ms per step, the time in communication and
the distributed model's wall time (T_compute(1 rank) / P + the collectives' cost from the
run's ping-pong) against the measured one, and the efficiency over one rank at the same
threads; then the target's ratio, P ranks' tokens/s over the one rank's, per round paired in
run order (median, min, max). The table is printed, not edited into the page.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aigc_results  # noqa: E402

TOOL = "tp_table"


def spread(values, fmt):
    s = sorted(values)
    median = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    return f"{fmt(median)} [{fmt(s[0])}–{fmt(s[-1])}]", median


def table(df):
    df = df[(df["workload"] == "decoder") & (df["phase"] == "decode") &
            (df["status"] == "ok")].copy()
    if df.empty:
        aigc_results.fail(TOOL, "no decode rows that ran")
    df = df.sort_values("timestamp", kind="stable")
    one = df[df["ranks"] == 1]
    split = df[df["ranks"] > 1]
    if one.empty or split.empty:
        aigc_results.fail(TOOL, "needs rows on 1 rank and on several (scripts/tp_target.sh)")
    gen = int(aigc_results.shape_items(one["shape"].iloc[0])["gen"])
    lines = ["| configuration | tokens/s, median [min–max] of rounds | ms per step | "
             "in communication | distributed model, ms per step | efficiency over 1 rank at "
             "the same threads |",
             "|---|---|---|---|---|---|"]

    def row(part, label):
        tps, median = spread(list(part["tokens_per_s"]), lambda v: f"{v:.1f}")
        ms, _ = spread(list(1e3 * part["time_median_s"] / gen), lambda v: f"{v:.2f}")
        comm = model = eff = "—"
        if part["ranks"].iloc[0] > 1:
            comm, _ = spread(list(100 * part["t_comm_s"] / part["time_median_s"]),
                             lambda v: f"{v:.0f}%")
            if part["t_wall_model_s"].notna().all():
                model, _ = spread(list(1e3 * part["t_wall_model_s"] / gen), lambda v: f"{v:.2f}")
            if part["distributed_efficiency"].notna().all():
                eff, _ = spread(list(100 * part["distributed_efficiency"]), lambda v: f"{v:.0f}%")
        lines.append(f"| {label} | {tps} | {ms} | {comm} | {model} | {eff} |")
        return median

    ranks = int(split["ranks"].iloc[0])
    row(one, f"1 rank × {int(one['threads'].iloc[0])} threads, `{one['backend'].iloc[0]}`")
    threads = int(split["threads"].iloc[0])
    row(split, f"{ranks} ranks × {threads} thread{'s' if threads > 1 else ''}, "
               f"`{split['backend'].iloc[0]}`, tp={ranks}")
    pairs = list(zip(one["tokens_per_s"], split["tokens_per_s"]))
    ratio, _ = spread([100 * s / o for o, s in pairs], lambda v: f"{v:.0f}%")
    lines.append(f"| {ranks} ranks over 1 rank, per round ({len(pairs)} rounds) | {ratio} | | | | |")
    return "\n".join(lines)


def main(argv=None):
    return aigc_results.table_main(table, TOOL, argv)


if __name__ == "__main__":
    sys.exit(main())
