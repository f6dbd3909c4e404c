"""Reading aigcbench results CSVs: the schema check every script shares.

A CSV of another schema version, one missing a column, or an empty file is refused with one
line on stderr and exit status 2, so no figure or comparison is built from data it cannot read.
"""
import json
import os
import sys

import pandas as pd

# The columns come from the one schema table in the code: results_schema.json beside this file
# is `aigcbench schema --format json`, and a ctest checks that the two agree.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results_schema.json")) as f:
    SCHEMA = json.load(f)
SCHEMA_VERSION = SCHEMA["schema_version"]
COLUMNS = [c["name"] for c in SCHEMA["columns"]]
# Older files this reader still takes, and the columns each lacks: 2 added upload_s and
# download_s (GPU transfers), 3 added machine (the hardware id; older files get the host), 4
# added format_speedup, format_speedup_pred (a weight format against fp32), the accuracy columns
# (perplexity, perplexity_f32, greedy_agreement) and error_tolerance, 5 added batch,
# ms_per_token and knee_batch (batched decoding; older decoder rows are batch 1), 6 added
# above_roofline (a row faster than its ceilings), 7 added the energy columns (energy_j,
# avg_power_w, joules_per_token, flop_per_joule, energy_source), 8 added the ranks and the
# distributed model's columns (ranks, t_comm_s, alpha_s, beta_s_per_byte, t_comm_fit_s,
# t_comm_model_s; older rows are one rank).
ADDED_IN = {"upload_s": 2, "download_s": 2, "machine": 3, "format_speedup": 4,
            "format_speedup_pred": 4, "error_tolerance": 4, "perplexity": 4,
            "perplexity_f32": 4, "greedy_agreement": 4, "batch": 5, "ms_per_token": 5,
            "knee_batch": 5, "above_roofline": 6, "energy_j": 7, "avg_power_w": 7,
            "joules_per_token": 7, "flop_per_joule": 7, "energy_source": 7,
            "ranks": 8, "t_comm_s": 8, "alpha_s": 8, "beta_s_per_byte": 8, "t_comm_fit_s": 8,
            "t_comm_model_s": 8, "t_one_rank_s": 9, "t_wall_model_s": 9,
            "distributed_efficiency": 9}
SCHEMA_VERSIONS = set(range(1, SCHEMA_VERSION + 1))
KEY = ["workload", "shape", "phase", "backend", "dtype", "threads"]


def required_columns(version):
    return [c for c in COLUMNS if ADDED_IN.get(c, 1) <= version]


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
    if "schema_version" not in df.columns:
        fail(tool, f"{path}: missing columns schema_version (not an aigcbench results file?)")
    if df.empty:
        fail(tool, f"{path}: no rows")
    versions = set(df["schema_version"].dropna().astype(int))
    if len(versions) != 1 or not versions <= SCHEMA_VERSIONS:
        fail(tool, f"{path}: schema_version {sorted(versions)}, this script reads "
                   f"{' or '.join(map(str, sorted(SCHEMA_VERSIONS)))}")
    missing = [c for c in required_columns(versions.pop()) if c not in df.columns]
    if missing:
        fail(tool, f"{path}: missing columns {', '.join(missing)} (not an aigcbench results file?)")
    if "machine" not in df.columns:
        df["machine"] = df["host"]
    df["phase"] = df["phase"].fillna("")
    if "batch" not in df.columns:  # before batched decoding every decoder row was one sequence
        df["batch"] = [1.0 if p else float("nan") for p in df["phase"]]
    if "ranks" not in df.columns:  # before MPI every run was one process
        df["ranks"] = 1
    return df


# Display names of the real models, for tables and figures.
MODEL_NAMES = {"gpt2-124m": "GPT-2 124M", "gpt2-355m": "GPT-2 355M", "smollm2-135m": "SmolLM2-135M"}


def shape_items(shape):
    """{"cfg": "gpt2-124m", "prompt": "128", ...} of a shape string "cfg=gpt2-124m,prompt=128"."""
    return dict(item.split("=", 1) for item in shape.split(","))


def table_main(table, tool, argv=None):
    """The command line of a script that prints a manual's table from one results CSV (its
    module docstring's first line is the description)."""
    import argparse
    doc = sys.modules[table.__module__].__doc__
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("csv", help="results CSV with the rows the table shows")
    args = parser.parse_args(argv)
    print(table(load(args.csv, tool)))
    return 0


def repetitions_path(results_path):
    """Where `aigcbench run` writes each repetition's time, beside the results."""
    root, ext = os.path.splitext(results_path)
    return (root if ext == ".csv" else results_path) + ".repetitions.csv"


def load_repetitions(results_path, run_ids=None, tool="aigc_results"):
    """{key tuple: [seconds, ...]} from the repetitions file, or {} when there is none.

    With `run_ids` (those of the results file), only those runs' repetitions are used: the file
    also holds the run before's (`aigcbench run` carries them, so that an interrupted write
    leaves the old results paired), and a pair written by two different runs (an older writer,
    files copied by hand) says so on stderr instead of mixing their times."""
    path = repetitions_path(results_path)
    if not os.path.exists(path):
        return {}
    reps = pd.read_csv(path, dtype={"phase": str, "shape": str, "run_id": str})
    if run_ids is not None:
        wanted = set(map(str, run_ids))
        missing = sorted(wanted - set(reps["run_id"]))
        if missing:
            print(f"{tool}: warning: {path} holds no repetitions of run {', '.join(missing)} "
                  f"({results_path}'s): not used", file=sys.stderr)
        reps = reps[reps["run_id"].isin(wanted)]
        if reps.empty:
            return {}
    reps["phase"] = reps["phase"].fillna("")
    return {key: list(group["time_s"]) for key, group in reps.groupby(KEY)}


def probe_beside(csv_path, machine, given=()):
    """(path, probe dict) of a run's probe, or (None, None): among `given` the one named after
    the machine, else the machine folder's probe.json beside the CSV (results/<machine>/), else
    the flat layout's probe-<machine>.json beside it, or for a file written before the machine id
    (its machine column is the host name) the one named like the CSV."""
    folder = os.path.dirname(os.path.abspath(csv_path))
    stem = os.path.basename(csv_path).rsplit("-", 1)[0]  # <machine>-quick.csv -> <machine>
    candidates = [p for p in given if machine in os.path.basename(p)]
    candidates.append(os.path.join(folder, "probe.json"))
    candidates += [os.path.join(folder, f"probe-{name}.json") for name in (machine, stem)]
    path = next((c for c in candidates if os.path.exists(c)), None)
    if path is None:
        return None, None
    with open(path) as f:
        return path, json.load(f)


def title(df, what):
    first = df.iloc[0]
    return f"{what}\n{first['machine']} · {first['cpu_model']} · run {first['run_id']}"


def config_label(row):
    return f"{row['backend']} ×{row['threads']}" if row["threads"] > 1 else row["backend"]
