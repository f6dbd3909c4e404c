#!/usr/bin/env python3
"""Figures from an aigcbench results CSV.

    scripts/plot.py results/vm-quick.csv [--out-dir results/figures]

Writes, as PNG and SVG:
  speedup-<workload>: speedup over the scalar reference per shape and backend (log scale,
                      each bar labeled with its ratio; hatched where the scalar time is
                      the serial model's prediction rather than a measurement);
  roofline:           every measured row at its arithmetic intensity and achieved FLOP/s,
                      under the machine's measured compute and bandwidth ceilings.
Rows without a time (skipped or failed) are listed on stderr, never silently dropped.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

SCHEMA_VERSION = 1
REQUIRED = ["schema_version", "run_id", "host", "cpu_model", "workload", "shape", "backend",
            "threads", "time_median_s", "achieved_flops", "arithmetic_intensity",
            "speedup_vs_scalar", "baseline_source", "peak_flops", "peak_bytes_per_s", "status"]


def fail(message):
    print(f"plot.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def load(path):
    if not os.path.exists(path):
        fail(f"{path}: no such file")
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        fail(f"{path}: empty file")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        fail(f"{path}: missing columns {', '.join(missing)}")
    versions = set(df["schema_version"].dropna().astype(int))
    if versions != {SCHEMA_VERSION}:
        fail(f"{path}: schema_version {sorted(versions)}, this script reads {SCHEMA_VERSION}")
    if df.empty:
        fail(f"{path}: no rows")
    return df


def title(df, what):
    first = df.iloc[0]
    return f"{what}\n{first['host']} · {first['cpu_model']} · run {first['run_id']}"


def config_label(row):
    return f"{row['backend']} ×{row['threads']}" if row["threads"] > 1 else row["backend"]


def plot_speedup(df, workload, out_dir):
    rows = df[(df["workload"] == workload) & df["speedup_vs_scalar"].notna()].copy()
    if rows.empty:
        return None
    rows["config"] = rows.apply(config_label, axis=1)
    shapes = list(dict.fromkeys(rows["shape"]))
    configs = list(dict.fromkeys(rows["config"]))
    width = 0.8 / len(configs)
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(shapes) + 2), 5.5))
    for i, config in enumerate(configs):
        for j, shape in enumerate(shapes):
            hit = rows[(rows["config"] == config) & (rows["shape"] == shape)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            x = j - 0.4 + width * (i + 0.5)
            bar = ax.bar(x, r["speedup_vs_scalar"], width, color=f"C{i}",
                         hatch="//" if r["baseline_source"] == "serial_model" else None,
                         label=config if j == 0 or config not in ax.get_legend_handles_labels()[1] else None)
            ax.bar_label(bar, labels=[f"{r['speedup_vs_scalar']:.1f}×"], fontsize=7, rotation=90, padding=2)
    ax.set_yscale("log")
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels([s.replace(",", "\n") for s in shapes], fontsize=8)
    ax.set_ylabel("speedup over scalar (×, log scale)")
    ax.set_title(title(df, f"{workload}: speedup over the scalar reference (hatched: serial-model baseline)"),
                 fontsize=10)
    ax.legend(fontsize=8, ncol=min(len(configs), 6))
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.set_ylim(top=ax.get_ylim()[1] * 3)
    return save(fig, out_dir, f"speedup-{workload}")


def plot_roofline(df, out_dir):
    rows = df[df["achieved_flops"].notna() & df["arithmetic_intensity"].notna()].copy()
    if rows.empty:
        return None
    rows["config"] = rows.apply(config_label, axis=1)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    lo, hi = rows["arithmetic_intensity"].min() / 4, rows["arithmetic_intensity"].max() * 4
    xs = [lo * (hi / lo) ** (k / 200) for k in range(201)]
    # One roof per (compute peak, bandwidth) pair the rows were held to; each peak and
    # each bandwidth labeled once.
    ceilings = rows.groupby(["peak_flops", "peak_bytes_per_s"]).size().index
    for peak, bw in ceilings:
        ax.plot(xs, [min(peak, bw * x) for x in xs], color="0.6", lw=1)
    for peak in sorted({p for p, _ in ceilings}):
        ax.annotate(f"{peak / 1e9:.0f} GFLOP/s", (hi, peak), fontsize=7, ha="right", va="bottom", color="0.35")
    for bw in sorted({b for _, b in ceilings}):
        ax.annotate(f"{bw / 1e9:.0f} GB/s", (lo, bw * lo), fontsize=7, ha="left", va="bottom", color="0.35",
                    rotation=25)
    for i, config in enumerate(dict.fromkeys(rows["config"])):
        pts = rows[rows["config"] == config]
        ax.scatter(pts["arithmetic_intensity"], pts["achieved_flops"], label=config, color=f"C{i}", s=18)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title(title(df, "roofline: measured ceilings (grey) and every measured row"), fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(which="both", alpha=0.3)
    return save(fig, out_dir, "roofline")


def save(fig, out_dir, name):
    fig.tight_layout()
    paths = []
    for ext in ("png", "svg"):
        path = os.path.join(out_dir, f"{name}.{ext}")
        fig.savefig(path, dpi=120)
        paths.append(path)
    plt.close(fig)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--out-dir", default=None, help="default: <csv folder>/figures")
    args = parser.parse_args()
    df = load(args.csv)
    out_dir = args.out_dir or os.path.join(os.path.dirname(os.path.abspath(args.csv)), "figures")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        fail(f"--out-dir {out_dir}: {e.strerror}")
    for _, r in df[df["time_median_s"].isna()].iterrows():
        print(f"plot.py: not plotted (no time): {r['workload']} {r['shape']} {r['backend']} "
              f"x{r['threads']}: {r['status']}", file=sys.stderr)
    written = []
    for workload in dict.fromkeys(df["workload"]):
        written += plot_speedup(df, workload, out_dir) or []
    written += plot_roofline(df, out_dir) or []
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
