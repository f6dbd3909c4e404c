#!/usr/bin/env bash
# The tensor-parallel decoder on two MPI ranks, end to end: its logits against the same model in
# one process (tests/mpi_tensor_parallel.cpp, every CPU backend, both architectures), then
# `mpirun -np 2 aigcbench run --workloads collectives,decoder --shapes ...,tp=2`: verified rows
# with the communication and the distributed model's columns; bad input (tp that does not
# divide the KV heads, a run started with other ranks than tp) refused on every rank with rank
# 0's message and a non-zero exit, never a hang (timeouts).
# Usage: tests/mpi_tensor_parallel.sh path/to/aigcbench path/to/mpi_tensor_parallel_check
set -euo pipefail
bin=$1
check=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/mpi_common.sh"

# 1. Logits of the split model against the whole one.
mpi 2 "$check" > "$work/check.txt" 2>&1 || { cat "$work/check.txt"; fail "logits differ"; }
cat "$work/check.txt"
grep -q "all logits agree" "$work/check.txt" || fail "the check did not finish"

# 2. The run: rows verified against the float64 reference on both ranks, timed in step.
mpi 2 "$bin" run --trust-probe --workloads collectives,decoder --preset smoke --backends scalar,openmp \
  --shapes "cfg=tiny,prompt=16,gen=8,tp=2;cfg=tiny-llama,prompt=16,tp=2" --threads 1 \
  --repetitions 3 --min-time 0.01 --out "$work/tp.csv" > "$work/out.txt" 2>&1 ||
  { cat "$work/out.txt"; fail "the tensor-parallel run failed"; }
cat "$work/out.txt"
python3 - "$work/tp.csv" <<'PY' || fail "the results are wrong"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["workload"] == "decoder"]
assert len(rows) == 4, f"{len(rows)} decoder rows, expected 2 shapes x 2 backends"
for r in rows:
    where = f"{r['shape']} {r['backend']}"
    assert r["status"] == "ok", f"{where}: {r['status']}"
    assert r["ranks"] == "2" and r["threads"] == "1", where
    assert float(r["max_rel_error"]) <= float(r["error_tolerance"]), where
    t = float(r["time_median_s"])
    assert 0 < float(r["t_comm_s"]) < t, f"{where}: t_comm_s {r['t_comm_s']} of {t}"
    for c in ("t_one_rank_s", "t_comm_model_s", "t_comm_fit_s", "t_wall_model_s",
              "distributed_efficiency"):
        assert r[c] != "" and float(r[c]) > 0, f"{where}: {c} empty"
    one, eff = float(r["t_one_rank_s"]), float(r["distributed_efficiency"])
    assert abs(eff - one / (2 * t)) <= 1e-6 * eff, where
    assert abs(float(r["t_wall_model_s"]) - (one / 2 + float(r["t_comm_model_s"]))) <= 1e-9, where
print("ok: 4 tensor-parallel rows verified and timed on 2 ranks, the model's columns filled")
PY

# 3. Bad input: refused by every rank (mpirun's status non-zero), rank 0's message.
expect_refusal "tp not dividing the KV heads" "tp=4 does not divide tiny-llama's 2 KV heads" 2 \
  --workloads decoder --shapes "cfg=tiny-llama,prompt=16,tp=4"
expect_refusal "tp=2 on 3 ranks" "tp=2 needs a run of 2 ranks, and this one has 3" 3 \
  --workloads decoder --shapes "cfg=tiny,prompt=16,tp=2"
expect_refusal "tp=2 in one process" "tp=2 needs a run of 2 ranks, and this one has 1" 1 \
  --workloads decoder --shapes "cfg=tiny,prompt=16,tp=2"
expect_refusal "a stored format split" "tp=2 takes f32 weights only" 2 \
  --workloads decoder --shapes "cfg=tiny,prompt=16,dtype=q8_0,tp=2"
echo "PASS: the tensor-parallel decoder on 2 ranks: logits, rows and refusals"
