# Sourced by the mpirun tests (tests/mpi_collectives.sh, tests/mpi_tensor_parallel.sh): Open
# MPI's settings for CI and the sanitize preset, and the checks they share. The caller sets
# $bin (aigcbench) and $work (a scratch folder).

# Open MPI refuses root without these (CI runs as root); --oversubscribe: 2 ranks may exceed the
# cores a container reports.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Under the sanitize preset: Open MPI's own allocations that live until exit are not ours. Its
# components stay loaded to the end (no dlclose) and stacks are unwound the slow way (its
# libraries keep no frame pointers), so each leak's stack names Open MPI's library for the
# suppressions to match; a leak of ours still fails the test.
export LSAN_OPTIONS="suppressions=$(dirname "${BASH_SOURCE[0]}")/lsan-mpi.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export OMPI_MCA_mca_base_component_disable_dlclose=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"

fail() { echo "FAIL: $*"; exit 1; }

# mpi NP COMMAND...: the command on NP ranks (1: alone, without mpirun), 300 s at most.
mpi() {
  local np=$1; shift
  if ((np > 1)); then timeout 300 mpirun --oversubscribe -np "$np" "$@"; else timeout 300 "$@"; fi
}

# expect_refusal WHAT PATTERN NP ARGS...: `aigcbench run ARGS` on NP ranks must be refused by
# every rank (a non-zero status, not the timeout's 124), with rank 0's message matching PATTERN,
# and leave no results file ($refusal_out, default $work/bad.csv).
expect_refusal() {
  local what=$1 pattern=$2 np=$3; shift 3
  local out=${refusal_out:-$work/bad.csv}
  set +e
  mpi "$np" "$bin" run "$@" --out "$out" > "$work/bad.txt" 2>&1
  local rc=$?
  set -e
  cat "$work/bad.txt"
  ((rc != 0 && rc != 124)) || fail "$what: exit status $rc (0 is a pass, 124 a hang)"
  grep -q -- "$pattern" "$work/bad.txt" || fail "$what: no message matching '$pattern'"
  [[ ! -e $out ]] || fail "$what: a results file was written"
}
