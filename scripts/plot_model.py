#!/usr/bin/env python3
"""The distributed model's strong-scaling figure from `aigcbench model --out CSV`.

    scripts/plot_model.py scaling.csv [--out results/model/figures/scaling] [--label TEXT]

Left: predicted decode tokens/s against the ranks P, beside the ideal (communication-free)
line; right: parallel efficiency and the share of each step spent communicating. The
crossover P (communication longer than the compute share) is marked where it falls in range.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from aigc_results import fail as _fail  # noqa: E402
from plot import save  # noqa: E402

COLUMNS = ["ranks", "t_compute_s", "t_comm_s", "t_wall_s", "tokens_per_s", "speedup",
           "efficiency", "cost_s", "alpha_s", "beta_s_per_byte", "shape"]


def fail(message):
    _fail("plot_model.py", message)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="the curve written by aigcbench model --out")
    parser.add_argument("--out", default=None, help="figure path without extension "
                        "(default: beside the CSV); PNG and SVG are written")
    parser.add_argument("--label", default="", help="a line under the title (the network)")
    args = parser.parse_args(argv)
    if not os.path.exists(args.csv):
        fail(f"{args.csv}: no such file")
    df = pd.read_csv(args.csv)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing or df.empty:
        fail(f"{args.csv}: not an `aigcbench model --out` curve (missing {', '.join(missing) or 'rows'})")
    df = df.sort_values("ranks")
    one = df["t_compute_s"] * df["ranks"]  # the one-rank step time, on every row
    batch = df["tokens_per_s"] * df["t_wall_s"]
    fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(12, 4.8))
    ax_t.plot(df["ranks"], df["tokens_per_s"], marker="o", label="predicted")
    ax_t.plot(df["ranks"], batch * df["ranks"] / one, ls=":", color="gray", label="ideal (no communication)")
    ax_e.plot(df["ranks"], 100 * df["efficiency"], marker="o", label="parallel efficiency")
    ax_e.plot(df["ranks"], 100 * df["t_comm_s"] / df["t_wall_s"], marker="s", ls="--",
              label="communication share of a step")
    cross = df[df["t_comm_s"] > df["t_compute_s"]]
    if not cross.empty:
        p = cross["ranks"].iloc[0]
        for ax in (ax_t, ax_e):
            ax.axvline(p, color="C3", ls=":", lw=1, label=f"communication > compute from P = {p}")
    for ax in (ax_t, ax_e):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("ranks P (tensor parallel)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    ax_t.set_yscale("log")
    ax_t.set_ylabel("decode tokens/s")
    ax_e.set_ylabel("%")
    ax_e.set_ylim(0, 105)
    a, b = df["alpha_s"].iloc[0], df["beta_s_per_byte"].iloc[0]
    net = f"alpha {a * 1e6:.3g} us, 1/beta {1e-9 / b:.3g} GB/s" if b > 0 else f"alpha {a * 1e6:.3g} us"
    fig.suptitle(f"distributed model: {df['shape'].iloc[0]} over P ranks ({net})"
                 + (f"\n{args.label}" if args.label else ""), fontsize=10)
    out = args.out or os.path.splitext(args.csv)[0]
    folder = os.path.dirname(out) or "."
    os.makedirs(folder, exist_ok=True)
    for path in save(fig, folder, os.path.basename(out)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
