#!/usr/bin/env python3
"""The README's "Measured on" lines: one per machine, from each committed quick run.

    python scripts/machines_summary.py results/*/quick.csv

Each line names the machine (linked to its page under docs/measured/), its CPU, cores and SIMD
target, and two figures of the run against their ceilings: the 1024³ matmul of `simd` on one
thread against oneDNN's in the same run, and GPT-2 124M's decode on `openmp` at 2 threads with its
fraction of the decode roofline. A figure whose rows are not in the file reads "—". Printed, not
edited into the README; a test holds the README to it.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aigc_results  # noqa: E402

TOOL = "machines_summary"
MATMUL = "M=1024,N=1024,K=1024"
DECODE = "cfg=gpt2-124m,prompt=128,gen=32"


def row(df, workload, shape, backend, threads):
    hit = df[(df["workload"] == workload) & (df["shape"] == shape) & (df["backend"] == backend) &
             (df["threads"] == threads) & (df["status"] == "ok")]
    return None if hit.empty else hit.iloc[0]


def matmul_text(df):
    ours, vendor = row(df, "matmul", MATMUL, "simd", 1), row(df, "matmul", MATMUL, "onednn", 1)
    if ours is None:
        return "matmul 1024³ —"
    text = f"matmul 1024³ `simd` 1 thread {ours['flops'] / ours['time_median_s'] / 1e9:.0f} GFLOP/s"
    if vendor is not None:
        text += f" ({100 * vendor['time_median_s'] / ours['time_median_s']:.0f}% of oneDNN's speed)"
    return text


def decode_text(df):
    ours = row(df, "decoder", DECODE, "openmp", 2)
    if ours is None:
        return "GPT-2 124M decode —"
    fraction = ours.get("roofline_fraction")
    roof = "" if fraction is None or fraction != fraction else f", {100 * fraction:.0f}% of its roofline"
    return f"GPT-2 124M decode `openmp` 2 threads {ours['tokens_per_s']:.1f} tokens/s{roof}"


def line(path):
    df = aigc_results.load(path, TOOL)
    first = df.iloc[0]
    # The folder says the machine (results/<machine>/quick.csv): runs from before the machine id
    # name their host ("vm") in the machine column.
    machine = os.path.basename(os.path.dirname(os.path.abspath(path)))
    targets = df[df["backend"] == "simd"]["simd_target"]
    target = targets.iloc[0] if not targets.empty else "—"
    date = str(first["timestamp"])[:10]
    return (f"- [`{machine}`](docs/measured/{machine}.md): {first['cpu_model']}, "
            f"{int(first['cores'])} cores, {target}; {matmul_text(df)}; "
            f"{decode_text(df)} (quick run of {date})")


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+", help="one quick results CSV per machine")
    args = parser.parse_args(argv)
    for path in args.csv:
        print(line(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
