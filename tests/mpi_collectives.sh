#!/usr/bin/env bash
# `mpirun -np 2 aigcbench run --workloads collectives`, end to end: every operation verified
# and timed on two ranks, one CSV from rank 0 with the distributed model's columns; bad input
# refused on every rank with a non-zero exit and rank 0's message, never a hang (timeouts).
# Usage: tests/mpi_collectives.sh path/to/aigcbench
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/mpi_common.sh"

mpi 2 "$bin" run --workloads collectives --preset smoke --repetitions 3 --min-time 0.01 \
  --out "$work/c.csv" > "$work/out.txt" 2>&1 || { cat "$work/out.txt"; fail "the smoke run failed"; }
cat "$work/out.txt"
[[ -f $work/c.csv && -f $work/c.repetitions.csv ]] || fail "no results written"
python3 - "$work/c.csv" <<'PY' || fail "the results are wrong"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 12, f"{len(rows)} rows, expected 4 operations x 3 sizes"
for r in rows:
    where = r["shape"]
    assert r["workload"] == "collectives" and r["backend"] == "mpi", where
    assert r["status"] == "ok", f"{where}: {r['status']}"
    assert r["ranks"] == "2", f"{where}: ranks {r['ranks']}"
    t = float(r["time_median_s"])
    assert 0 < t < 1, f"{where}: {t} s"
    assert float(r["t_comm_s"]) == t, where
    assert float(r["max_rel_error"]) <= float(r["error_tolerance"]), where
    for c in ("alpha_s", "beta_s_per_byte", "t_comm_fit_s", "t_comm_model_s"):
        assert r[c] != "" and float(r[c]) >= 0, f"{where}: {c} empty"
print("ok: 12 rows verified and timed on 2 ranks, the distributed model's columns filled")
PY
grep -q "alpha = " "$work/out.txt" || fail "no fitted alpha printed"

# Bad input: refused by every rank (mpirun's status non-zero), rank 0's message once.
expect_refusal "an odd size" "shapes: 'op=allreduce,bytes=6'" 2 \
  --workloads collectives --shapes "op=allreduce,bytes=6"
expect_refusal "an unknown operation" "op must be one of" 2 \
  --workloads collectives --shapes "op=alltoall,bytes=64"
expect_refusal "a one-process workload on two ranks" "workloads: matmul runs in one process" 2 \
  --workloads matmul --preset smoke

# Rank 0 fails after the others have started waiting for it (its output is locked by another
# run): every rank ends, no hang.
touch "$work/locked.csv.lock"
flock "$work/locked.csv.lock" sleep 30 &
holder=$!
sleep 0.5
refusal_out="$work/locked.csv" expect_refusal "an output locked by another run" \
  "is being written by another run" 2 --workloads collectives --preset smoke
kill "$holder" 2>/dev/null || true

# One process without mpirun: the rows say why they did not run, and the run, having measured
# nothing, exits 1 saying so.
status=0
"$bin" run --workloads collectives --shapes "op=allreduce,bytes=64" --out "$work/one.csv" \
  > "$work/one.txt" 2>&1 || status=$?
[[ "$status" == 1 ]] || { cat "$work/one.txt"; fail "the one-process run exited $status, not 1"; }
grep -q "nothing was measured" "$work/one.txt" ||
  { cat "$work/one.txt"; fail "the one-process run did not say that nothing was measured"; }
grep -q "skipped: collectives need at least 2 ranks" "$work/one.csv" || fail "no skip reason"
echo "PASS"
