#!/usr/bin/env python3
"""Figures from an aigcbench results CSV.

    scripts/plot.py results/intel-xeon-spr-2c-avx3/quick.csv [--out-dir results/intel-xeon-spr-2c-avx3/figures/quick]

Writes, as PNG and SVG:
  speedup-<workload>: speedup over the scalar reference per shape and backend (log scale,
                      each bar labeled with its ratio; hatched where the scalar time is
                      the serial model's prediction rather than a measurement);
  roofline:           every measured row at its arithmetic intensity and achieved FLOP/s,
                      under the machine's measured compute and bandwidth ceilings;
  scaling:            speedup over the same backend at one thread against the thread count,
                      with the ideal line and the Amdahl curve fitted to the measurements;
  models:             measured against predicted: the scalar time against the serial model
                      (T_single x N), and each backend's speedup against the accelerated
                      model's S_pred (from the rooflines);
  decoder:            tokens/s of each decode shape and time to first token of each prefill
                      shape, per backend (when the CSV has decoder rows);
  formats:            decode tokens/s per weight format (dtype) and model, beside the roofline's
                      tokens/s for the weights as stored (when the CSV has two formats or more);
  batch:              batched decoding: aggregate tokens/s and each sequence's ms/token against
                      the batch B, with the roofline's tokens/s at each B and the predicted knee
                      B* marked (when a decode shape ran at two batches or more);
  collectives:        each MPI collective's time against the message size (log-log), with its
                      own alpha-beta fit per regime and the algorithm's cost from the ping-pong
                      fit (when the CSV has collectives rows: mpirun -np P ... --workloads
                      collectives).
  tensor-parallel:    each tensor-parallel decoder row (tp=P): its time split into compute and
                      communication, beside the distributed model's (one rank's time / P plus
                      the collectives' cost) and one rank's time, with any one-process row of
                      the same model for comparison (when the CSV has rows with ranks > 1).
Rows without a time (skipped or failed) are listed on stderr, never silently dropped.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from aigc_results import config_label, fail as _fail, load as _load, shape_items, title  # noqa: E402


def fail(message):
    _fail("plot.py", message)


def load(path):
    return _load(path, "plot.py")


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
    # Collectives move bytes between ranks: no compute ceiling holds them (their own figure).
    rows = df[df["achieved_flops"].notna() & df["arithmetic_intensity"].notna() &
              (df["workload"] != "collectives")].copy()
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


def amdahl_fit(points):
    """Serial fraction f minimizing the squared error of T_P/T_1 = f + (1 - f)/P."""
    xs = [1 - 1 / p for p, _ in points]
    ys = [r - 1 / p for p, r in points]
    den = sum(x * x for x in xs)
    return None if den == 0 else min(1.0, max(0.0, sum(x * y for x, y in zip(xs, ys)) / den))


def plot_scaling(df, out_dir):
    rows = df[df["t1_s"].notna() & df["time_median_s"].notna()].copy()
    # Sweeps: (workload, shape, backend) measured at more than one thread count.
    sweeps = [g for _, g in rows.groupby(["workload", "shape", "backend"]) if g["threads"].nunique() > 1]
    if not sweeps:
        return None
    workloads = list(dict.fromkeys(g.iloc[0]["workload"] for g in sweeps))
    fig, axes = plt.subplots(1, len(workloads), figsize=(5.2 * len(workloads), 4.6), squeeze=False)
    max_p = max(max(g["threads"]) for g in sweeps)
    horizon = max(8, 2 * max_p)  # the fitted curve is drawn past the measurements
    for ax, workload in zip(axes[0], workloads):
        ps = list(range(1, horizon + 1))
        ax.plot(ps, ps, color="0.5", lw=1, ls=":", label="ideal (T1/P)")
        for i, g in enumerate(s for s in sweeps if s.iloc[0]["workload"] == workload):
            g = g.sort_values("threads")
            first = g.iloc[0]
            label = f"{first['backend']} {first['shape']}"
            measured = [(int(r["threads"]), r["time_median_s"] / r["t1_s"]) for _, r in g.iterrows()]
            f = amdahl_fit(measured)
            color = f"C{i % 10}"
            ax.plot([p for p, _ in measured], [1 / r for _, r in measured], "o-", color=color, ms=4,
                    label=f"{label} (f={f:.3f})" if f is not None else label)
            if f is not None:
                ax.plot(ps, [1 / (f + (1 - f) / p) for p in ps], color=color, lw=0.8, ls="--")
        ax.set_xlabel("threads")
        ax.set_ylabel("speedup over 1 thread")
        ax.set_title(workload, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.suptitle(title(df, "thread scaling: measured (dots), ideal (dotted), fitted Amdahl (dashed)"),
                 fontsize=10)
    return save(fig, out_dir, "scaling")


def plot_models(df, out_dir):
    serial = df[(df["backend"] == "scalar") & df["time_median_s"].notna() & df["t_serial_model_s"].notna()]
    accel = df[df["speedup_vs_scalar"].notna() & df["predicted_speedup"].notna() & (df["backend"] != "scalar")]
    if serial.empty and accel.empty:
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 5))
    markers = {w: m for w, m in zip(dict.fromkeys(df["workload"]), "osD^v<>")}

    def diagonal(ax, values):
        lo, hi = min(values) / 2, max(values) * 2
        ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, ls=":", label="model = measurement")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(which="both", alpha=0.3)

    if not serial.empty:
        for w, g in serial.groupby("workload", sort=False):
            a1.scatter(g["t_serial_model_s"], g["time_median_s"], marker=markers[w], label=w, s=22)
        diagonal(a1, list(serial["t_serial_model_s"]) + list(serial["time_median_s"]))
        a1.set_xlabel("serial model T_single × N (s)")
        a1.set_ylabel("measured scalar time (s)")
        a1.set_title("serial model", fontsize=9)
        a1.legend(fontsize=7)
    if not accel.empty:
        for i, config in enumerate(dict.fromkeys(accel.apply(config_label, axis=1))):
            g = accel[accel.apply(config_label, axis=1) == config]
            for w, gw in g.groupby("workload", sort=False):
                a2.scatter(gw["predicted_speedup"], gw["speedup_vs_scalar"], marker=markers[w], color=f"C{i}",
                           s=22, label=config if w == g.iloc[0]["workload"] else None)
        diagonal(a2, list(accel["predicted_speedup"]) + list(accel["speedup_vs_scalar"]))
        a2.set_xlabel("accelerated model S_pred = T_roof(1 scalar core) / T_roof(backend)")
        a2.set_ylabel("measured speedup over scalar")
        a2.set_title("accelerated model (marker: workload, as left)", fontsize=9)
        a2.legend(fontsize=7)
    fig.suptitle(title(df, "measured against the models' predictions (on the dotted line: the model is exact)"),
                 fontsize=10)
    return save(fig, out_dir, "models")


def single_sequence(rows):
    """Decoder rows of one sequence (batch 1; older files have no batch column)."""
    return rows[rows["batch"].isna() | (rows["batch"] <= 1)] if "batch" in rows else rows


def plot_decoder(df, out_dir):
    rows = single_sequence(df[(df["workload"] == "decoder") & df["time_median_s"].notna()]).copy()
    if rows.empty:
        return None
    rows["config"] = rows.apply(config_label, axis=1)
    panels = [("decode", "tokens_per_s", "decode tokens/s (higher is better)", lambda v: f"{v:.1f}"),
              ("prefill", "time_median_s", "time to first token, ms (lower is better)", lambda v: f"{v * 1e3:.1f}")]
    panels = [p for p in panels if (rows["phase"] == p[0]).any()]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False)
    configs = list(dict.fromkeys(rows["config"]))
    for ax, (phase, column, label, fmt) in zip(axes[0], panels):
        part = rows[rows["phase"] == phase]
        shapes = list(dict.fromkeys(part["shape"]))
        width = 0.8 / len(configs)
        for i, config in enumerate(configs):
            for j, shape in enumerate(shapes):
                hit = part[(part["config"] == config) & (part["shape"] == shape)]
                if hit.empty:
                    continue
                value = hit.iloc[0][column] * (1e3 if column == "time_median_s" else 1)
                bar = ax.bar(j - 0.4 + width * (i + 0.5), value, width, color=f"C{i}",
                             label=config if j == 0 else None)
                ax.bar_label(bar, labels=[fmt(hit.iloc[0][column])], fontsize=7, rotation=90, padding=2)
        ax.set_xticks(range(len(shapes)))
        ax.set_xticklabels([s.replace(",", "\n") for s in shapes], fontsize=8)
        ax.set_ylabel(label)
        ax.set_ylim(top=ax.get_ylim()[1] * 1.15)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7, ncol=3)
    fig.suptitle(title(df, "decoder: decode throughput and time to first token per backend"), fontsize=10)
    return save(fig, out_dir, "decoder")


FORMATS = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"]


def model_of(shape):
    """The decoder shape without its weight format: the model and the phase's sizes."""
    return ",".join(p for p in shape.split(",") if not p.startswith("dtype="))


def plot_formats(df, out_dir):
    """Decode tokens/s per weight format, beside the roofline's tokens/s (the weights as stored
    per token at the measured bandwidth): bytes per weight set a decode's speed."""
    rows = single_sequence(df[(df["workload"] == "decoder") & (df["phase"] == "decode") &
                              df["time_median_s"].notna() & df["dtype"].isin(FORMATS)]).copy()
    if rows.empty or rows["dtype"].nunique() < 2:
        return None
    rows["model"] = rows["shape"].map(model_of)
    rows["config"] = rows.apply(config_label, axis=1)
    models = list(dict.fromkeys(rows["model"]))
    fig, axes = plt.subplots(1, len(models), figsize=(6.5 * len(models), 5), squeeze=False)
    for ax, model in zip(axes[0], models):
        part = rows[rows["model"] == model]
        dtypes = [d for d in FORMATS if (part["dtype"] == d).any()]
        configs = list(dict.fromkeys(part["config"]))
        width = 0.8 / len(configs)
        tokens = part["tokens_per_s"] * part["time_median_s"]
        part = part.assign(roof_tps=tokens / part["t_roofline_s"])
        for i, config in enumerate(configs):
            for j, dtype in enumerate(dtypes):
                hit = part[(part["config"] == config) & (part["dtype"] == dtype)]
                if hit.empty:
                    continue
                x = j - 0.4 + width * (i + 0.5)
                value = hit.iloc[0]["tokens_per_s"]
                bar = ax.bar(x, value, width, color=f"C{i}", label=config if j == 0 else None)
                ax.bar_label(bar, labels=[f"{value:.0f}"], fontsize=7, padding=2)
                roof = hit.iloc[0]["roof_tps"]
                if pd.notna(roof):
                    ax.plot([x - width / 2, x + width / 2], [roof, roof], color="black", lw=1.5,
                            label="roofline (bytes as stored)" if i == 0 and j == 0 else None)
        ax.set_xticks(range(len(dtypes)))
        ax.set_xticklabels(dtypes)
        ax.set_ylabel("decode tokens/s (higher is better)")
        ax.set_title(model, fontsize=9)
        ax.set_ylim(top=ax.get_ylim()[1] * 1.1)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title(df, "decoder: decode throughput per weight format, against the roofline"),
                 fontsize=10)
    return save(fig, out_dir, "formats")


def without_batch(shape):
    return ",".join(p for p in shape.split(",") if not p.startswith("batch="))


def plot_batch(df, out_dir):
    """Aggregate decode tokens/s and per-sequence ms/token against the batch B, one line per
    (shape without its batch, backend, threads), the roofline's tokens/s at each measured B
    dashed, and B* (the knee the peaks predict) dotted."""
    rows = df[(df["workload"] == "decoder") & (df["phase"] == "decode") &
              df["time_median_s"].notna()].copy()
    if rows.empty or "batch" not in rows:
        return None
    rows["series"] = [f"{without_batch(s)} {b} x{t}"
                      for s, b, t in zip(rows["shape"], rows["backend"], rows["threads"])]
    series = [s for s in dict.fromkeys(rows["series"])
              if rows[rows["series"] == s]["batch"].nunique() >= 2]
    if not series:
        return None
    fig, (ax_t, ax_l) = plt.subplots(1, 2, figsize=(13, 5))
    for i, name in enumerate(series):
        part = rows[rows["series"] == name].sort_values("batch")
        color = f"C{i % 10}"
        ax_t.plot(part["batch"], part["tokens_per_s"], marker="o", color=color, label=name)
        roof = part["tokens_per_s"] * part["time_median_s"] / part["t_roofline_s"]
        if roof.notna().any():
            ax_t.plot(part["batch"], roof, ls="--", color=color, lw=1,
                      label="roofline" if i == 0 else None)
        knee = part["knee_batch"].dropna() if "knee_batch" in part else pd.Series(dtype=float)
        if not knee.empty:
            ax_t.axvline(knee.iloc[-1], color=color, ls=":", lw=1,
                         label=f"B* = {knee.iloc[-1]:.0f}")
        ax_l.plot(part["batch"], part["ms_per_token"], marker="o", color=color, label=name)
    for ax in (ax_t, ax_l):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch B (sequences decoded together)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    ax_t.set_yscale("log")
    ax_t.set_ylabel("aggregate decode tokens/s (higher is better)")
    ax_l.set_ylabel("ms per token each sequence sees (lower is better)")
    fig.suptitle(title(df, "decoder: batched decoding, throughput against latency"), fontsize=10)
    return save(fig, out_dir, "batch")


def plot_collectives(df, out_dir):
    """Time against message size per collective: measured (median, min-max bars), the
    operation's own Hockney fit (per regime), and its textbook algorithm from the ping-pong fit."""
    rows = df[(df["workload"] == "collectives") & df["time_median_s"].notna()].copy()
    if rows.empty or "t_comm_fit_s" not in rows:
        return None
    rows["op"] = [shape_items(s)["op"] for s in rows["shape"]]
    ops = list(dict.fromkeys(rows["op"]))
    fig, axes = plt.subplots(1, len(ops), figsize=(4.2 * len(ops), 4.5), squeeze=False)
    for ax, op in zip(axes[0], ops):
        part = rows[rows["op"] == op].sort_values("bytes")
        us = 1e6
        ax.errorbar(part["bytes"], us * part["time_median_s"],
                    yerr=[us * (part["time_median_s"] - part["time_min_s"]),
                          us * (part["time_max_s"] - part["time_median_s"])],
                    fmt="o", ms=4, color="C0", label="measured (median, min-max)")
        if part["t_comm_fit_s"].notna().any():
            ax.plot(part["bytes"], us * part["t_comm_fit_s"], color="C1",
                    label="alpha + n beta (own fit, per regime)")
        if part["t_comm_model_s"].notna().any():
            ax.plot(part["bytes"], us * part["t_comm_model_s"], color="C2", ls="--",
                    label="algorithm from the ping-pong fit")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("message bytes")
        ax.set_ylabel("time (us)")
        ax.set_title(f"{op}, {int(part['ranks'].iloc[0])} ranks", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle(title(df, "collectives (MPI): measured against the distributed model"), fontsize=10)
    return save(fig, out_dir, "collectives")


def plot_tensor_parallel(df, out_dir):
    """Per tensor-parallel decoder row (median over its runs): measured time split into compute
    and communication, the distributed model's time split the same way, one rank alone; and the
    one-process decode rows of the same model, all in ms per step."""
    rows = df[(df["workload"] == "decoder") & df["time_median_s"].notna()].copy()
    if "ranks" not in rows or not (rows["ranks"] > 1).any():
        return None
    rows["model"] = [shape_items(s)["cfg"] for s in rows["shape"]]
    rows["gen"] = [int(shape_items(s).get("gen", "0")) for s in rows["shape"]]
    rows = rows[rows["gen"] > 0]
    split = rows[rows["ranks"] > 1]
    if split.empty:
        return None
    bars = []  # (label, [(value ms, part label, colour)])
    per_step = lambda part, column: 1e3 * (part[column] / part["gen"]).median()  # noqa: E731
    for model in dict.fromkeys(split["model"]):
        alone = rows[(rows["model"] == model) & (rows["ranks"] == 1)]
        for (backend, threads), part in alone.groupby(["backend", "threads"]):
            bars.append((f"{model}\n1 rank x {threads} thr\n{backend}",
                         [(per_step(part, "time_median_s"), "measured: compute", "C0")]))
        for (backend, threads, ranks), part in split[split["model"] == model].groupby(
                ["backend", "threads", "ranks"]):
            comm = per_step(part, "t_comm_s")
            bars.append((f"{model}\n{ranks} ranks x {threads} thr\n{backend}",
                         [(per_step(part, "time_median_s") - comm, "measured: compute", "C0"),
                          (comm, "measured: communication", "C3")]))
            if part["t_wall_model_s"].notna().all():
                model_comm = per_step(part, "t_comm_model_s")
                bars.append((f"model\n{ranks} ranks",
                             [(per_step(part, "t_one_rank_s") / ranks, "model: one rank / P", "C1"),
                              (model_comm, "model: collectives (ping-pong ring costs)", "C2")]))
            if part["t_one_rank_s"].notna().all():
                bars.append((f"one rank alone\nx {threads} thr",
                             [(per_step(part, "t_one_rank_s"), "one rank alone", "C7")]))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(bars)), 4.8))
    seen = set()
    for i, (_, parts) in enumerate(bars):
        bottom = 0.0
        for value, label, colour in parts:
            ax.bar(i, value, bottom=bottom, color=colour,
                   label=None if label in seen else label)
            seen.add(label)
            bottom += value
        ax.text(i, bottom, f"{bottom:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(bars)), [b[0] for b in bars], fontsize=7)
    ax.set_ylabel("ms per decode step (lower is better)")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title(df, "tensor-parallel decoder: measured against the distributed model"),
                 fontsize=10)
    return save(fig, out_dir, "tensor-parallel")


def save(fig, out_dir, name):
    fig.tight_layout()
    paths = []
    for ext in ("png", "svg"):
        path = os.path.join(out_dir, f"{name}.{ext}")
        fig.savefig(path, dpi=120)
        paths.append(path)
    plt.close(fig)
    return paths


def write_figures(df, out_dir):
    """Every figure the rows allow, as PNG and SVG in out_dir; the paths written."""
    written = []
    for workload in dict.fromkeys(df["workload"]):
        written += plot_speedup(df, workload, out_dir) or []
    written += plot_roofline(df, out_dir) or []
    written += plot_scaling(df, out_dir) or []
    written += plot_models(df, out_dir) or []
    written += plot_decoder(df, out_dir) or []
    written += plot_formats(df, out_dir) or []
    written += plot_batch(df, out_dir) or []
    written += plot_collectives(df, out_dir) or []
    written += plot_tensor_parallel(df, out_dir) or []
    return written


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
    written = write_figures(df, out_dir)
    for path in written:
        print(f"wrote {path}")
    print(f"figures: {len(written) // 2} in {out_dir}")


if __name__ == "__main__":
    main()
