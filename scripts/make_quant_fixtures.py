#!/usr/bin/env python3
"""Writes the weight-format fixtures with the `gguf` package's quantizers (gguf.quants, ggml's
reference code in numpy), so that our C++ quantize and dequantize (core/weight_format) are
checked against an independent implementation, bit for bit:

    .venv/bin/python scripts/make_quant_fixtures.py [--out DIR]

For each format (f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1) tests/data/quants/<format>.bin holds:
    uint32 n (a multiple of 32), then n float32 inputs, then the n weights as
    gguf.quants.quantize stores them, then n float32 as gguf.quants.dequantize returns them
    from those bytes.
gguf.quants has no quantizer for the K-quants (q2_k, q3_k, q4_k, q5_k, q6_k): their files hold
seeded random super-blocks instead (every byte random, the f16 scales drawn finite at several
magnitudes), laid out the same way with the dequantized values as the inputs, so that only
dequantize is held to gguf.quants bit for bit.
The inputs are seeded random blocks at scales from 1e-6 to 1e4, plus blocks that test the
edges: all zeros, one constant value, the largest magnitude negative, equal magnitudes of
both signs, values on rounding ties, and (for the float formats) subnormals, overflow and
infinities. scripts/setup.sh installs the pinned gguf; scripts/tests/test_scripts.py checks
that the committed files are what this script writes now.
"""
import argparse
import os
import struct

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORMATS = {"f16": T.F16, "bf16": T.BF16, "q8_0": T.Q8_0, "q4_0": T.Q4_0, "q4_1": T.Q4_1,
           "q5_0": T.Q5_0, "q5_1": T.Q5_1}
# K-quant: (type, block bytes, byte offsets of its f16 scales).
K_QUANTS = {"q2_k": (T.Q2_K, 84, (80, 82)), "q3_k": (T.Q3_K, 110, (108,)),
            "q4_k": (T.Q4_K, 144, (0, 2)), "q5_k": (T.Q5_K, 176, (0, 2)),
            "q6_k": (T.Q6_K, 210, (208,))}


def k_quant_blocks(name, count=24):
    """Random super-blocks with finite f16 scales from 1e-6 to 1e2 (and a zero one)."""
    _, size, scales = K_QUANTS[name]
    rng = np.random.default_rng(20261207)
    blocks = rng.integers(0, 256, size=(count, size), dtype=np.uint8)
    magnitudes = np.logspace(-6, 2, count).astype(np.float16)
    magnitudes[0] = 0
    for at in scales:
        blocks[:, at:at + 2] = magnitudes.reshape(-1, 1).view(np.uint8)
    return blocks


def inputs(name):
    rng = np.random.default_rng(20261202)
    blocks = []
    for scale in (1e-6, 1e-3, 0.02, 1.0, 37.0, 1e4):
        blocks.append(rng.normal(0.0, scale, size=(8, 32)))
    blocks.append(rng.uniform(-1, 1, size=(8, 32)) + 3.0)      # all positive: q4_1's min > 0
    edge = np.zeros((8, 32))
    edge[1, :] = 0.75                                          # constant: q4_1's d = 0
    edge[2, :] = np.linspace(-1, 0.5, 32)                      # largest magnitude negative
    edge[3, :] = np.tile([0.5, -0.5], 16)                      # equal magnitudes, both signs
    edge[4, :] = np.arange(-16, 16) / 16.0 * 127 / 127.5       # q8_0 ties at x / d = k + 1/2
    edge[5, :] = (np.arange(32) - 15.5) / 2                    # halves: ties in 4-bit rounding
    edge[6, :] = rng.normal(0, 1, 32) * np.logspace(-8, 2, 32)  # a wide spread in one block
    edge[7, :] = 1e-30                                         # tiny: subnormal scales
    blocks.append(edge)
    x = np.concatenate(blocks).astype(np.float32).reshape(-1)
    if name in ("f16", "bf16"):
        special = np.array([0.0, -0.0, np.inf, -np.inf, 65504, 65519.9, 65520, 70000, -1e9,
                            6.1e-5, 6.0e-5, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 1e-8, 1e-40,
                            1.0 + 2 ** -11, 1.0 + 3 * 2 ** -11, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8,
                            3.4e38, -3.4e38, 1.17549435e-38, 0.1, -0.1, 1 / 3, -2 / 3, 1e-3,
                            255.5, 256.5, 2049, 2051], dtype=np.float32)
        x[: special.size] = special
    return x


def write(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, (qtype, _, _) in K_QUANTS.items():
        stored = k_quant_blocks(name)
        back = quants.dequantize(stored.reshape(-1), qtype).astype(np.float32).reshape(-1)
        with open(os.path.join(out_dir, f"{name}.bin"), "wb") as f:
            f.write(struct.pack("<I", back.size))
            f.write(back.tobytes())
            f.write(stored.tobytes())
            f.write(back.tobytes())
    for name, qtype in FORMATS.items():
        x = inputs(name)
        stored = quants.quantize(x, qtype)
        back = quants.dequantize(stored, qtype).astype(np.float32).reshape(-1)
        with open(os.path.join(out_dir, f"{name}.bin"), "wb") as f:
            f.write(struct.pack("<I", x.size))
            f.write(x.tobytes())
            f.write(np.ascontiguousarray(stored).view(np.uint8).tobytes())
            f.write(back.tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "quants"))
    write(parser.parse_args().out)


if __name__ == "__main__":
    main()
