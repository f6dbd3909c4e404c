#!/usr/bin/env python3
"""Two aigcbench runs side by side (two builds, before and after a change), or the machine view:
the hardware speedup of several machines over a base machine.

    scripts/compare.py A.csv B.csv [--out comparison.csv] [--alpha 0.05]
    scripts/compare.py --machines BASE.csv OTHER.csv [MORE.csv ...] [--out machines.csv]
                       [--figure machines.png]

Rows are matched on (workload, shape, phase, backend, dtype, threads). For each pair: both
median times, the ratio B/A and the speedup A/B, and whether the difference is larger than
the noise:
  - Mann-Whitney U (two-sided, scipy) on the raw repetitions when both runs have their
    <name>.repetitions.csv beside them with at least 4 repetitions each (with fewer, no
    outcome can reach p < 0.05);
  - otherwise the spread: the runs differ when their [min, max] ranges do not overlap.
Prints the table and writes it as a CSV (atomically). Rows present in only one run, or
without a time in either, are listed with the reason; none is dropped silently.

The machine view (--machines; each CSV one machine's run, the first the base) gives per matched
row each machine's speedup over the base (base time / its time) with the same noise test, and
beside it the speedup its roofline predicts: the ratio of the two rows' roofline times, each
from its own machine's probe (measured peaks and bandwidths). A measured speedup near the
predicted one says the machine is faster because of its peaks; far above or below, despite
them (the kernels use one machine better than the other). Geometric-mean rows follow per
workload and over everything, as Google Benchmark's compare.py does, for measured and predicted.
"""
import argparse
import math
import os
import sys
import tempfile

from aigc_results import KEY, fail as _fail, load as _load, load_repetitions

TOOL = "compare.py"
MIN_REPETITIONS = 4


def fail(message):
    _fail(TOOL, message)


def mann_whitney_p(a, b):
    from scipy.stats import mannwhitneyu  # imported here: only runs with repetitions need it
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def noise_test(ra, rb, reps_a, reps_b, key, alpha):
    """{test, p_value, significant} for two rows with times: Mann-Whitney U on the repetitions
    where both have enough, else whether their [min, max] ranges are disjoint."""
    sa, sb = reps_a.get(key, []), reps_b.get(key, [])
    if len(sa) >= MIN_REPETITIONS and len(sb) >= MIN_REPETITIONS:
        p = mann_whitney_p(sa, sb)
        return {"test": "mann-whitney", "p_value": p, "significant": p < alpha}
    disjoint = ra["time_max_s"] < rb["time_min_s"] or rb["time_max_s"] < ra["time_min_s"]
    return {"test": "range overlap", "p_value": math.nan, "significant": bool(disjoint)}


def by_key(df):
    """{KEY tuple: row} of a run."""
    return {tuple(r[k] for k in KEY): r for _, r in df.iterrows()}


def no_time(ra, rb):
    """The status of the first of two matched rows without a time, or None when both have one."""
    for r in (ra, rb):
        if not r["time_median_s"] > 0:
            return r["status"]
    return None


def compare(a, b, reps_a, reps_b, alpha):
    """One dict per matched or unmatched row, in A's order then B's extras."""
    index_b = by_key(b)
    seen, out = set(), []
    for _, ra in a.iterrows():
        key = tuple(ra[k] for k in KEY)
        seen.add(key)
        row = dict(zip(KEY, key))
        rb = index_b.get(key)
        if rb is None:
            out.append({**row, "verdict": "only in A"})
            continue
        if (why := no_time(ra, rb)) is not None:
            out.append({**row, "verdict": f"no time: {why}"})
            continue
        ta, tb = ra["time_median_s"], rb["time_median_s"]
        row.update(time_a_s=ta, time_b_s=tb, ratio_b_over_a=tb / ta, speedup_b_vs_a=ta / tb)
        row.update(noise_test(ra, rb, reps_a, reps_b, key, alpha))
        if row["significant"]:
            row["verdict"] = "B faster" if tb < ta else "B slower"
        else:
            row["verdict"] = "within noise"
        out.append(row)
    for _, rb in b.iterrows():
        key = tuple(rb[k] for k in KEY)
        if key not in seen:
            out.append({**dict(zip(KEY, key)), "verdict": "only in B"})
    return out


def geomean(values):
    values = [v for v in values if v > 0 and v == v]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else math.nan


def compare_machines(runs, alpha):
    """runs: [(frame, repetitions)], the first the base. One dict per (machine, matched row),
    then the geometric-mean rows; rows a machine lacks or without a time say why."""
    base, reps_base = runs[0]
    base_machine = str(base.iloc[0]["machine"])
    out = []
    for other, reps_other in runs[1:]:
        machine = str(other.iloc[0]["machine"])
        index = by_key(other)
        rows = []
        for _, rb in base.iterrows():
            key = tuple(rb[k] for k in KEY)
            row = {**dict(zip(KEY, key)), "machine": machine, "base_machine": base_machine}
            ro = index.get(key)
            if ro is None:
                rows.append({**row, "verdict": f"not run on {machine}"})
                continue
            if (why := no_time(rb, ro)) is not None:
                rows.append({**row, "verdict": f"no time: {why}"})
                continue
            tb, to = rb["time_median_s"], ro["time_median_s"]
            row.update(time_base_s=tb, time_s=to, speedup=tb / to)
            rt_b, rt_o = rb.get("t_roofline_s", math.nan), ro.get("t_roofline_s", math.nan)
            if rt_b > 0 and rt_o > 0:
                row.update(predicted_speedup=rt_b / rt_o, speedup_over_predicted=(tb / to) / (rt_b / rt_o))
            row.update(noise_test(rb, ro, reps_base, reps_other, key, alpha))
            row["verdict"] = (("faster" if to < tb else "slower") if row["significant"]
                              else "within noise")
            rows.append(row)
        timed = [r for r in rows if "speedup" in r]
        groups = sorted({r["workload"] for r in timed}) + ["(all)"]
        for workload in groups:
            members = [r for r in timed if workload == "(all)" or r["workload"] == workload]
            predicted = [r["predicted_speedup"] for r in members if "predicted_speedup" in r]
            rows.append({"workload": workload, "shape": "(geomean)", "phase": "", "backend": "",
                         "dtype": "", "threads": "", "machine": machine,
                         "base_machine": base_machine, "speedup": geomean([r["speedup"] for r in members]),
                         "predicted_speedup": geomean(predicted),
                         "verdict": f"{len(members)} rows"})
        out.extend(rows)
    return out


MACHINE_COLUMNS = KEY + ["machine", "base_machine", "time_base_s", "time_s", "speedup",
                         "predicted_speedup", "speedup_over_predicted", "test", "p_value",
                         "significant", "verdict"]


COLUMNS = KEY + ["time_a_s", "time_b_s", "ratio_b_over_a", "speedup_b_vs_a", "test", "p_value",
                 "significant", "verdict"]


def cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    return f'"{text}"' if any(c in text for c in ',"\n') else text


def write_atomically(path, text):
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".compare-", suffix=".tmp")
    except OSError as e:
        fail(f"--out {path}: {e.strerror}")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def as_csv(rows, columns):
    return ",".join(columns) + "\n" + "".join(
        ",".join(cell(r.get(c)) for c in columns) + "\n" for r in rows)


def plot_machines(rows, path):
    """Measured against roofline-predicted speedup, one point per matched row, per machine:
    on the diagonal a machine is faster exactly as its peaks say."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    timed = [r for r in rows if "time_s" in r and "predicted_speedup" in r]
    if not timed:
        fail("--figure: no row has a time and a roofline on both machines")
    fig, ax = plt.subplots(figsize=(7, 6))
    markers = {"matmul": "o", "attention": "s", "decoder": "^"}
    machines = sorted({r["machine"] for r in timed})
    for mi, machine in enumerate(machines):
        for workload in sorted({r["workload"] for r in timed}):
            pts = [r for r in timed if r["machine"] == machine and r["workload"] == workload]
            if pts:
                ax.scatter([r["predicted_speedup"] for r in pts], [r["speedup"] for r in pts],
                           marker=markers.get(workload, "x"), color=f"C{mi}", alpha=0.7,
                           label=f"{workload} on {machine} ({len(pts)})")
    values = [v for r in timed for v in (r["speedup"], r["predicted_speedup"])]
    lo, hi = min(values) / 1.3, max(values) * 1.3
    ax.plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1, label="as predicted")
    ax.axhline(1.0, color="black", linewidth=0.6)
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi),
           xlabel="predicted speedup (ratio of the rooflines, from each machine's probe)",
           ylabel="measured speedup (base median / machine median)",
           title=f"speedup over {timed[0]['base_machine']}")
    from matplotlib.ticker import FuncFormatter
    for axis in (ax.xaxis, ax.yaxis):  # plain "0.5x", not 5 x 10^-1
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}x" if f"{v:g}"[-1] in "25" else ""))
    for machine in machines:
        overall = next((r for r in rows if r["machine"] == machine and r["workload"] == "(all)"), None)
        if overall is not None:
            ax.annotate(f"{machine}: geomean {overall['speedup']:.2f}x measured, "
                        f"{overall['predicted_speedup']:.2f}x predicted",
                        xy=(0.02, 0.97 - 0.04 * machines.index(machine)), xycoords="axes fraction",
                        fontsize=8, va="top")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".compare-", suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def main_machines(paths, out, alpha, figure=None):
    runs = []
    for path in paths:
        frame = _load(path, TOOL)
        runs.append((frame, load_repetitions(path, frame["run_id"].astype(str).unique(), TOOL)))
    machines = [str(f.iloc[0]["machine"]) for f, _ in runs]
    if len(set(machines)) < len(machines):
        fail(f"--machines: each CSV must be a different machine's run (got {', '.join(machines)}); "
             f"to compare two runs of one machine, give A.csv B.csv without --machines")
    rows = compare_machines(runs, alpha)
    print(f"base: {paths[0]} ({machines[0]}, run {runs[0][0].iloc[0]['run_id']})")
    for path, (frame, _) in zip(paths[1:], runs[1:]):
        print(f"      {path} ({frame.iloc[0]['machine']}, run {frame.iloc[0]['run_id']})")
    print(f"{'machine':<24} {'workload':<9} {'shape':<32} {'backend':<8} {'thr':>3} {'speedup':>8} "
          f"{'roofline':>8} {'p':>7}  verdict")
    for r in rows:
        def x(key):
            v = r.get(key, math.nan)
            return f"{v:.2f}x" if v == v else "-"
        p = r.get("p_value", math.nan)
        p_text = f"{p:.3f}" if p == p else ("range" if "test" in r else "")
        print(f"{r['machine']:<24} {r['workload']:<9} {r['shape']:<32} {r['backend']:<8} {r['threads']!s:>3} "
              f"{x('speedup'):>8} {x('predicted_speedup'):>8} {p_text:>7}  {r['verdict']}")
    write_atomically(out, as_csv(rows, MACHINE_COLUMNS))
    if figure:
        plot_machines(rows, figure)
        print(f"figure: {figure}")
    matched = sum(1 for r in rows if "time_s" in r)
    print(f"{matched} matched rows over {len(paths) - 1} machine(s) against {machines[0]}; wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="CSV",
                        help="A.csv B.csv; with --machines, BASE.csv and one or more others")
    parser.add_argument("--machines", action="store_true",
                        help="the machine view: each CSV one machine, speedups over the first")
    parser.add_argument("--out", default=None,
                        help="the table as CSV (default: comparison.csv, or machines.csv with --machines)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level (default: 0.05)")
    parser.add_argument("--figure", default=None,
                        help="with --machines: a PNG of measured against predicted speedups")
    args = parser.parse_args()
    if not 0 < args.alpha < 1:
        fail(f"--alpha {args.alpha} is out of range (valid: 0 < alpha < 1)")
    if args.machines:
        if len(args.runs) < 2:
            fail(f"--machines needs a base CSV and at least one other (got {len(args.runs)})")
        return main_machines(args.runs, args.out or "machines.csv", args.alpha, args.figure)
    if len(args.runs) != 2:
        fail(f"two CSVs to compare, A and B (got {len(args.runs)}; several machines: --machines)")
    if args.figure:
        fail("--figure draws the machine view: give --machines")
    args.a, args.b = args.runs
    args.out = args.out or "comparison.csv"
    a, b = _load(args.a, TOOL), _load(args.b, TOOL)
    reps_a = load_repetitions(args.a, a["run_id"].astype(str).unique(), "compare.py")
    reps_b = load_repetitions(args.b, b["run_id"].astype(str).unique(), "compare.py")
    rows = compare(a, b, reps_a, reps_b, args.alpha)

    print(f"A: {args.a} ({a.iloc[0]['machine']}, run {a.iloc[0]['run_id']})")
    print(f"B: {args.b} ({b.iloc[0]['machine']}, run {b.iloc[0]['run_id']})")
    print(f"{'workload':<9} {'shape':<32} {'backend':<8} {'thr':>3} {'A':>11} {'B':>11} "
          f"{'B/A':>7} {'p':>7}  verdict")
    for r in rows:
        def ms(key):
            return f"{r[key] * 1e3:.3f} ms" if key in r else "-"
        ratio = f"{r['ratio_b_over_a']:.3f}" if "ratio_b_over_a" in r else "-"
        p = r.get("p_value", math.nan)
        p_text = f"{p:.3f}" if p == p else ("range" if "test" in r else "-")
        print(f"{r['workload']:<9} {r['shape']:<32} {r['backend']:<8} {r['threads']:>3} {ms('time_a_s'):>11} "
              f"{ms('time_b_s'):>11} {ratio:>7} {p_text:>7}  {r['verdict']}")
    write_atomically(args.out, as_csv(rows, COLUMNS))
    matched = sum(1 for r in rows if "ratio_b_over_a" in r)
    print(f"{matched} matched rows, {len(rows) - matched} unmatched or without a time; wrote {args.out}")


if __name__ == "__main__":
    main()
