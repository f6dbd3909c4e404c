#!/usr/bin/env python3
"""Writes tests/data/gguf/real_files.json from the real Q4_K_M files (scripts/fetch_models.py)
with the `gguf` package's reader and dequantizers (gguf.quants), an implementation independent of
ours, so that tests/test_gguf.cpp can hold our reader and our dequantization of the files people
run to it:

    .venv/bin/python scripts/make_real_gguf_fixtures.py [--models DIR] [--out FILE]

For each file: its sha256, architecture, tensor count and the count of tensors of each type;
for each quantized type, the smallest tensor of that type, its element count, the bit patterns
of its first 64 dequantized float32 values and the sum of all of them as uint64 (exact, so any
one differing weight shows).
"""
import argparse
import collections
import hashlib
import json
import os

import numpy as np
from gguf import GGUFReader
from gguf import quants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = {
    "gemma-3-270m-q4_k_m.gguf": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf":
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
}


def describe(path, sha256):
    reader = GGUFReader(path)
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    types = collections.Counter(t.tensor_type.name for t in reader.tensors)
    smallest = {}
    for t in reader.tensors:
        if t.tensor_type.name in ("F32", "F16", "BF16"):
            continue
        if t.tensor_type.name not in smallest or t.n_elements < smallest[t.tensor_type.name].n_elements:
            smallest[t.tensor_type.name] = t
    checks = []
    for name in sorted(smallest):
        t = smallest[name]
        values = quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        bits = values.view(np.uint32)
        checks.append({"tensor": t.name, "type": name, "elements": int(t.n_elements),
                       "first_bits": [int(b) for b in bits[:64]],
                       "bits_sum": int(bits.astype(np.uint64).sum())})
    return {"sha256": sha256, "architecture": arch, "tensors": len(reader.tensors),
            "types": dict(sorted(types.items())), "dequantized": checks}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=os.path.join(ROOT, ".venv", "models"))
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "gguf",
                                                      "real_files.json"))
    args = parser.parse_args()
    out = {name: describe(os.path.join(args.models, name), sha) for name, sha in FILES.items()}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
