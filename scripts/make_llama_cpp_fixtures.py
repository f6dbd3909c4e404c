#!/usr/bin/env python3
"""Regenerates llama.cpp's greedy tokens on each real file (tests/data/<model>/llama_cpp_greedy.json),
the peer the `dtype=file` tests compare against: for each prompt of the transformers fixture
(tests/data/<model>/greedy.json, the same prompt ids), 32 greedy steps by llama.cpp on the GGUF
file as stored, with the margin of its two best logits at every step.

    .venv/bin/python scripts/peers.py --build      # llama.cpp into .cache/llama.cpp, once
    .venv/bin/python scripts/make_llama_cpp_fixtures.py [--which smollm2|qwen2|gemma3]

scripts/llama_greedy.cpp is compiled here against that build's libllama (the same sdist as
llama-bench); the tests need neither.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_model_fixtures  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".cache", "llama.cpp")
TOOL = os.path.join(CACHE, "build", "bin", "llama_greedy")
THREADS = 2


def fail(message):
    sys.exit(f"make_llama_cpp_fixtures: {message}")


def build_tool():
    lib = os.path.join(CACHE, "build", "bin")
    if not os.path.exists(os.path.join(lib, "libllama.so")):
        fail(f"no libllama.so in {lib} (run scripts/peers.py --build first)")
    src = os.path.join(CACHE, "src")
    subprocess.run(["g++", "-std=c++17", "-O2", "-I", os.path.join(src, "include"),
                    "-I", os.path.join(src, "ggml", "include"),
                    os.path.join(ROOT, "scripts", "llama_greedy.cpp"), "-L", lib, "-lllama",
                    "-lggml", "-lggml-base", f"-Wl,-rpath,{lib}", "-o", TOOL], check=True)


def version():
    path = os.path.join(CACHE, "VERSION")
    return open(path).read().strip() if os.path.exists(path) else "llama.cpp"


def fixtures_for(which):
    model = make_model_fixtures.find_model(which)
    folder = os.path.join(ROOT, "tests", "data", which)
    with open(os.path.join(folder, "greedy.json"), encoding="utf-8") as f:
        transformers = json.load(f)
    runs = []
    for run in transformers["runs"]:
        ids = ",".join(str(i) for i in run["prompt_ids"])
        out = subprocess.run([TOOL, model, str(transformers["steps"]), str(THREADS), ids],
                             capture_output=True, text=True)
        if out.returncode != 0:
            fail(f"{TOOL} on {model}: {out.stderr.strip()[-300:]}")
        result = json.loads(out.stdout)
        runs.append({"prompt": run["prompt"], "prompt_ids": run["prompt_ids"], **result})
        same = sum(a == b for a, b in zip(result["generated_ids"], run["generated_ids"]))
        print(f"{which}: {run['prompt']!r}: {same}/{len(run['generated_ids'])} tokens as transformers'")
    meta = {"generator": "scripts/make_llama_cpp_fixtures.py", "llama_cpp": version(),
            "model_file": os.path.basename(model), "threads": THREADS,
            "steps": transformers["steps"]}
    with open(os.path.join(folder, "llama_cpp_greedy.json"), "w", encoding="utf-8") as f:
        json.dump({**meta, "runs": runs}, f, ensure_ascii=False, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--which", choices=sorted(make_model_fixtures.MODELS),
                    help="one fixture set (default: all)")
    args = ap.parse_args()
    build_tool()
    for which in [args.which] if args.which else sorted(make_model_fixtures.MODELS):
        fixtures_for(which)


if __name__ == "__main__":
    main()
