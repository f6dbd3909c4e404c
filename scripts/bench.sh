#!/usr/bin/env bash
# Set-up, Release build, then the quick suite: every workload on every backend, the
# timing models applied, the tidy CSV written under results/ and a summary printed.
# Extra arguments go to `aigcbench run`, e.g. scripts/bench.sh --preset full. --peers also
# runs llama.cpp on the same SmolLM2 file, interleaved with ours (scripts/peers.py --build:
# builds llama-bench from llama-cpp-python's sdist the first time, several minutes). Without
# --workloads or --shapes the MPI run follows on 2 ranks (results/<machine>/collectives.csv): the
# collectives and GPT-2 124M's decode split over both ranks (tp=2, 1 thread each).
set -euo pipefail
cd "$(dirname "$0")/.."
peers=0
args=()
for a in "$@"; do
  if [[ $a == --peers ]]; then peers=1; else args+=("$a"); fi
done
set -- ${args[@]+"${args[@]}"}
scripts/setup.sh
scripts/build.sh >/dev/null
# Results are named after the hardware (e.g. amd-epyc-zen5-2c-avx3), not the host name: every
# VM here is called `vm`. AIGCBENCH_MACHINE overrides it, in the file names and the CSV alike.
machine="$(build/release/driver/aigcbench machine)"
preset=quick
for ((i = 1; i <= $#; i++)); do
  case "${!i}" in
    --preset) j=$((i + 1)); preset="${!j:-quick}" ;;
    --preset=*) preset="${!i#--preset=}" ;;
  esac
done
# One folder per machine: its runs (named after the experiment), their repetitions, its probe
# and its figures together.
dir="results/${machine}"
mkdir -p "$dir"
status=0
build/release/driver/aigcbench run --preset "$preset" \
  --probe-file "$dir/probe.json" \
  --out "$dir/${preset}.csv" "$@" || status=$?
# A run with failed rows (exit 1) still wrote its CSV: plot it, then report the failure.
[[ $status -le 1 && -f "$dir/${preset}.csv" ]] || exit $status
figures="$dir/figures/${preset}"
.venv/bin/python scripts/plot.py "$dir/${preset}.csv" --out-dir "$figures" >/dev/null
.venv/bin/python scripts/report.py "$dir/${preset}.csv" --out "$figures/report.html" >/dev/null
# The default suite also times the MPI collectives on 2 ranks (the network's alpha and beta for
# the distributed model) and the tensor-parallel decoder held to it. As root Open MPI needs its
# allow-run-as-root settings; --oversubscribe lets 2 ranks start where fewer cores are reported.
user_chose=0
for a in "$@"; do [[ $a == --workloads* || $a == --shapes* ]] && user_chose=1; done
collectives=""
if ((!user_chose)); then
  collectives="$dir/$([[ $preset == quick ]] || echo "${preset}-")collectives.csv"
  collectives_figures="$dir/figures/$(basename "$collectives" .csv)"
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun --oversubscribe -np 2 build/release/driver/aigcbench run \
    --workloads collectives,decoder --shapes "cfg=gpt2-124m,prompt=128,gen=32,tp=2" \
    --backends openmp --threads 1 --preset "$preset" --no-accuracy \
    --probe-file "$dir/probe.json" --out "$collectives" |
    sed -n '/decoder.*ranks:/p; /^collectives on/,$p' || status=$?
  .venv/bin/python scripts/plot.py "$collectives" --out-dir "$collectives_figures" >/dev/null
fi
echo
echo "results: $dir/${preset}.csv (repetitions and the probe beside it)"
[[ -z $collectives ]] ||
  echo "collectives: $collectives (2 MPI ranks; the tensor-parallel decoder too), figures $collectives_figures/{collectives,tensor-parallel}.png"
echo "figures: $figures/{speedup-<workload>,roofline,scaling,models,decoder,formats,batch}.{png,svg}"
echo "report: $figures/report.html (one page: machine, ceilings, figures, every row)"
echo "compare two runs: .venv/bin/python scripts/compare.py A.csv B.csv --out comparison.csv"
echo "compare machines: .venv/bin/python scripts/compare.py --machines BASE.csv OTHER.csv --figure machines.png"
if ((peers)); then
  echo
  .venv/bin/python scripts/peers.py --build --out "$dir/peers.csv" || status=$?
fi
exit $status
