"""Reading aigcbench results CSVs: the schema check every script shares.

A CSV of another schema version, one missing a column, or an empty file is refused with one
line on stderr and exit status 2, so no figure or comparison is built from data it cannot read.
"""
import os
import sys

import pandas as pd

# 2 added upload_s and download_s (GPU transfers); a version-1 file lacks only those.
SCHEMA_VERSIONS = {1, 2}
KEY = ["workload", "shape", "phase", "backend", "dtype", "threads"]
REQUIRED = ["schema_version", "run_id", "host", "cpu_model", "workload", "phase", "shape",
            "backend", "dtype", "threads", "repetitions", "time_median_s", "time_min_s",
            "time_max_s", "time_cv", "achieved_flops", "arithmetic_intensity", "tokens_per_s",
            "speedup_vs_scalar", "baseline_source", "t_single_s", "t_serial_model_s",
            "t1_s", "parallel_speedup", "karp_flatt", "peak_flops", "peak_bytes_per_s",
            "predicted_speedup", "status"]


def fail(tool, message):
    print(f"{tool}: error: {message}", file=sys.stderr)
    sys.exit(2)


def load(path, tool):
    if not os.path.exists(path):
        fail(tool, f"{path}: no such file")
    try:
        df = pd.read_csv(path, dtype={"phase": str, "shape": str})
    except pd.errors.EmptyDataError:
        fail(tool, f"{path}: empty file")
    except pd.errors.ParserError as e:
        fail(tool, f"{path}: not a CSV ({e})")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        fail(tool, f"{path}: missing columns {', '.join(missing)} (not an aigcbench results file?)")
    if df.empty:
        fail(tool, f"{path}: no rows")
    versions = set(df["schema_version"].dropna().astype(int))
    if len(versions) != 1 or not versions <= SCHEMA_VERSIONS:
        fail(tool, f"{path}: schema_version {sorted(versions)}, this script reads "
                   f"{' or '.join(map(str, sorted(SCHEMA_VERSIONS)))}")
    df["phase"] = df["phase"].fillna("")
    return df


def repetitions_path(results_path):
    """Where `aigcbench run` writes each repetition's time, beside the results."""
    root, ext = os.path.splitext(results_path)
    return (root if ext == ".csv" else results_path) + ".repetitions.csv"


def load_repetitions(results_path):
    """{key tuple: [seconds, ...]} from the repetitions file, or {} when there is none."""
    path = repetitions_path(results_path)
    if not os.path.exists(path):
        return {}
    reps = pd.read_csv(path, dtype={"phase": str, "shape": str})
    reps["phase"] = reps["phase"].fillna("")
    return {key: list(group["time_s"]) for key, group in reps.groupby(KEY)}


def title(df, what):
    first = df.iloc[0]
    return f"{what}\n{first['host']} · {first['cpu_model']} · run {first['run_id']}"


def config_label(row):
    return f"{row['backend']} ×{row['threads']}" if row["threads"] > 1 else row["backend"]
