#!/usr/bin/env python3
"""The GPU targets, read off a results CSV of `aigcbench run --preset gpu` (scripts/gpu-check.sh).

    python scripts/gpu_summary.py results/<machine>/gpu.csv [--out summary.csv]

Prints one line per target: the two medians it compares, the measured ratio, the target, and
hit / MISS; a target whose rows are missing or did not run says so ("not measured", with the
rows' status) instead of a ratio. --out writes the same table as CSV. Exit status: 0 when every
ratio could be computed (hit or miss: a miss is a measurement, not a failure of this script),
1 when a target could not be measured, 2 for an unreadable CSV.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aigc_results  # noqa: E402

TOOL = "gpu_summary"

# (name, what is measured, numerator row, denominator row or None, target, how the ratio reads).
# A row is (workload, shape, backend); with no denominator the ratio is the numerator row's own
# roofline_fraction (measured time over the bandwidth/compute bound).
TARGETS = [
    ("sgemm_vs_cublas", "own SGEMM (cuda) at 4096^3 over cuBLAS fp32: cuBLAS time / cuda time",
     ("matmul", "M=4096,N=4096,K=4096", "cuda"), ("matmul", "M=4096,N=4096,K=4096", "cublas"),
     0.80),
    ("flash_vs_naive_d64", "fused attention S=4096, H=12, D=64: naive time / cuda time",
     ("attention", "B=1,H=12,S=4096,D=64", "cuda"),
     ("attention", "B=1,H=12,S=4096,D=64", "cuda-naive"), 5.0),
    ("flash_vs_naive_d128", "fused attention S=4096, H=12, D=128: naive time / cuda time",
     ("attention", "B=1,H=12,S=4096,D=128", "cuda"),
     ("attention", "B=1,H=12,S=4096,D=128", "cuda-naive"), 5.0),
    ("flash_vs_cublas_d64", "fused attention S=4096, D=64: cuBLAS composition time / cuda time",
     ("attention", "B=1,H=12,S=4096,D=64", "cuda"),
     ("attention", "B=1,H=12,S=4096,D=64", "cublas"), 1.0),
    ("flash_vs_cublas_d128", "fused attention S=4096, D=128: cuBLAS composition time / cuda time",
     ("attention", "B=1,H=12,S=4096,D=128", "cuda"),
     ("attention", "B=1,H=12,S=4096,D=128", "cublas"), 1.0),
    ("decode_vs_hbm_bound", "GPT-2 124M decode on cuda: fraction of the HBM bandwidth bound",
     ("decoder", "cfg=gpt2-124m,prompt=128,gen=128", "cuda"), None, 0.60),
    # The stored formats' decode (kernels/cuda/matmul_stored.cu): bytes as stored set the bound.
    ("decode_q8_0_vs_hbm", "GPT-2 124M q8_0 decode on cuda: fraction of the HBM bandwidth bound",
     ("decoder", "cfg=gpt2-124m,prompt=128,gen=128,dtype=q8_0", "cuda"), None, 0.60),
    ("decode_q4_1_vs_hbm", "GPT-2 124M q4_1 decode on cuda: fraction of the HBM bandwidth bound",
     ("decoder", "cfg=gpt2-124m,prompt=128,gen=128,dtype=q4_1", "cuda"), None, 0.60),
]


def find_row(df, key):
    workload, shape, backend = key
    rows = df[(df["workload"] == workload) & (df["shape"] == shape) & (df["backend"] == backend)]
    return None if rows.empty else rows.iloc[0]


def usable(row):
    return row is not None and row["status"] == "ok" and row["time_median_s"] == row["time_median_s"]


def describe(key, row):
    what = f"{key[2]} {key[0]} {key[1]}"
    return f"{what}: not in the file" if row is None else f"{what}: {row['status']}"


def summarize(df):
    """One dict per target: name, what, a_s, b_s, ratio, target, verdict (hit, MISS, not measured)."""
    out = []
    for name, what, num_key, den_key, target in TARGETS:
        num = find_row(df, num_key)
        den = find_row(df, den_key) if den_key else None
        entry = {"target": name, "what": what, "a_s": None, "b_s": None, "ratio": None,
                 "goal": target, "verdict": "not measured", "note": ""}
        if not usable(num):
            entry["note"] = describe(num_key, num)
        elif den_key is not None and not usable(den):
            entry["note"] = describe(den_key, den)
        elif den_key is None:
            fraction = num["roofline_fraction"]
            if fraction != fraction:  # NaN: the probe had no GPU ceilings
                entry["note"] = f"{num_key[2]} {num_key[1]}: no roofline (probe without GPU figures)"
            else:
                entry.update(a_s=float(num["time_median_s"]), b_s=float(num["t_roofline_s"]),
                             ratio=float(fraction))
        else:
            entry.update(a_s=float(num["time_median_s"]), b_s=float(den["time_median_s"]),
                         ratio=float(den["time_median_s"]) / float(num["time_median_s"]))
        if entry["ratio"] is not None:
            entry["verdict"] = "hit" if entry["ratio"] >= target else "MISS"
        out.append(entry)
    return out


def format_seconds(s):
    if s is None:
        return "-"
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.3f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="results of aigcbench run --preset gpu")
    parser.add_argument("--out", help="write the summary as CSV here")
    args = parser.parse_args(argv)
    df = aigc_results.load(args.csv, TOOL)
    machine = df["machine"].iloc[0]
    gpu = df["gpu_name"].dropna()
    print(f"GPU targets on {machine} ({gpu.iloc[0] if not gpu.empty else 'no GPU name'}):")
    entries = summarize(df)
    print(f"{'target':<22} {'measured':>10} {'vs':>10} {'ratio':>7} {'goal':>6}  verdict")
    for e in entries:
        ratio = "-" if e["ratio"] is None else f"{e['ratio']:.2f}"
        line = (f"{e['target']:<22} {format_seconds(e['a_s']):>10} {format_seconds(e['b_s']):>10} "
                f"{ratio:>7} {e['goal']:>6.2f}  {e['verdict']}")
        print(line + (f" ({e['note']})" if e["note"] else ""))
    if args.out:
        import pandas as pd
        pd.DataFrame(entries).to_csv(args.out, index=False)
    return 1 if any(e["ratio"] is None for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
