#!/usr/bin/env python3
"""Two aigcbench runs side by side: two machines, two builds, before and after a change.

    scripts/compare.py A.csv B.csv [--out comparison.csv] [--alpha 0.05]

Rows are matched on (workload, shape, phase, backend, dtype, threads). For each pair: both
median times, the ratio B/A and the speedup A/B, and whether the difference is larger than
the noise:
  - Mann-Whitney U (two-sided, scipy) on the raw repetitions when both runs have their
    <name>.repetitions.csv beside them with at least 4 repetitions each (with fewer, no
    outcome can reach p < 0.05);
  - otherwise the spread: the runs differ when their [min, max] ranges do not overlap.
Prints the table and writes it as a CSV (atomically). Rows present in only one run, or
without a time in either, are listed with the reason; none is dropped silently.
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


def compare(a, b, reps_a, reps_b, alpha):
    """One dict per matched or unmatched row, in A's order then B's extras."""
    index_b = {tuple(r[k] for k in KEY): r for _, r in b.iterrows()}
    seen, out = set(), []
    for _, ra in a.iterrows():
        key = tuple(ra[k] for k in KEY)
        seen.add(key)
        row = dict(zip(KEY, key))
        rb = index_b.get(key)
        if rb is None:
            out.append({**row, "verdict": "only in A"})
            continue
        ta, tb = ra["time_median_s"], rb["time_median_s"]
        if not (ta > 0 and tb > 0):
            why = ra["status"] if not ta > 0 else rb["status"]
            out.append({**row, "verdict": f"no time: {why}"})
            continue
        row.update(time_a_s=ta, time_b_s=tb, ratio_b_over_a=tb / ta, speedup_b_vs_a=ta / tb)
        sa, sb = reps_a.get(key, []), reps_b.get(key, [])
        if len(sa) >= MIN_REPETITIONS and len(sb) >= MIN_REPETITIONS:
            p = mann_whitney_p(sa, sb)
            row.update(test="mann-whitney", p_value=p, significant=p < alpha)
        else:
            disjoint = ra["time_max_s"] < rb["time_min_s"] or rb["time_max_s"] < ra["time_min_s"]
            row.update(test="range overlap", p_value=math.nan, significant=bool(disjoint))
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", metavar="A.csv")
    parser.add_argument("b", metavar="B.csv")
    parser.add_argument("--out", default="comparison.csv", help="the table as CSV (default: comparison.csv)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level (default: 0.05)")
    args = parser.parse_args()
    if not 0 < args.alpha < 1:
        fail(f"--alpha {args.alpha} is out of range (valid: 0 < alpha < 1)")
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
    text = ",".join(COLUMNS) + "\n" + "".join(
        ",".join(cell(r.get(c)) for c in COLUMNS) + "\n" for r in rows)
    write_atomically(args.out, text)
    matched = sum(1 for r in rows if "ratio_b_over_a" in r)
    print(f"{matched} matched rows, {len(rows) - matched} unmatched or without a time; wrote {args.out}")


if __name__ == "__main__":
    main()
