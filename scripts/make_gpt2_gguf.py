#!/usr/bin/env python3
"""Writes a GPT-2 GGUF file (124M by default) with seeded random weights in F32, F16, BF16, Q8_0,
Q4_0 or Q4_1, for llama.cpp to run beside our decoder on the same shapes and weight format:

    .venv/bin/python scripts/make_gpt2_gguf.py --dtype q8_0 --out .cache/gpt2-124m-q8_0.gguf

No GPT-2 checkpoint is needed (none can be fetched here): the weights follow GPT-2's
initialization (normal, std 0.02; residual projections scaled by 1/sqrt(2 n_layer)), the
tokenizer is a synthetic byte-level BPE vocabulary of GPT-2's size (the 256 byte tokens, then
merges of byte pairs), enough for llama.cpp to load the model and for llama-bench, which feeds
random token ids, to time it. As llama.cpp's own converter and quantizer do, the 2-D matrices
(token and position embeddings, projections) take the format and the 1-D tensors (norms,
biases) stay F32; the output is tied to the token embedding. Decode reads the same bytes per
token as our `cfg=gpt2-124m,dtype=<format>`, which is what a speed comparison needs.
"""
import argparse
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

SIZES = {  # n_layer, n_embd, n_head
    "gpt2-124m": (12, 768, 12),
    "gpt2-355m": (24, 1024, 16),
    "tiny": (2, 64, 4),
}
FORMATS = {"f32": T.F32, "f16": T.F16, "bf16": T.BF16, "q8_0": T.Q8_0, "q4_0": T.Q4_0,
           "q4_1": T.Q4_1}
VOCAB, N_CTX = 50257, 1024


def fail(message):
    print(f"make_gpt2_gguf: error: {message}", file=sys.stderr)
    sys.exit(2)


def bytes_to_unicode():
    """GPT-2's map of the 256 bytes to printable characters (its byte-level BPE alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def vocabulary(size):
    """The 256 byte tokens, then merges of byte pairs until `size` tokens; the last is EOS."""
    alphabet = bytes_to_unicode()
    tokens, merges = list(alphabet), []
    for a in alphabet:
        for b in alphabet:
            if len(tokens) == size - 1:
                break
            tokens.append(a + b)
            merges.append(f"{a} {b}")
    tokens.append("<|endoftext|>")
    return tokens, merges


def write(path, config, dtype, seed):
    n_layer, C, H = SIZES[config]
    F = 4 * C
    qtype = FORMATS[dtype]
    rng = np.random.default_rng(seed)

    def normal(*shape, std=0.02):
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    w = gguf.GGUFWriter(path, "gpt2")
    w.add_name(f"{config} (random weights, seed {seed})")
    w.add_context_length(N_CTX)
    w.add_embedding_length(C)
    w.add_feed_forward_length(F)
    w.add_block_count(n_layer)
    w.add_head_count(H)
    w.add_layer_norm_eps(1e-5)
    w.add_file_type({"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q8_0": 7, "bf16": 32}[dtype])
    tokens, merges = vocabulary(VOCAB)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.NORMAL] * (VOCAB - 1) + [gguf.TokenType.CONTROL])
    w.add_token_merges(merges)
    w.add_bos_token_id(VOCAB - 1)
    w.add_eos_token_id(VOCAB - 1)

    def matrix(name, values):  # values [out, in], as GGUF stores a matrix (dims reversed)
        if qtype == T.F32:
            w.add_tensor(name, values)
        else:
            w.add_tensor(name, quants.quantize(values, qtype), raw_dtype=qtype)

    def vector(name, values):
        w.add_tensor(name, values.astype(np.float32))

    residual = 0.02 / np.sqrt(2 * n_layer)
    matrix("token_embd.weight", normal(VOCAB, C))
    matrix("position_embd.weight", normal(N_CTX, C, std=0.01))
    for i in range(n_layer):
        p = f"blk.{i}."
        vector(p + "attn_norm.weight", 1 + normal(C))
        vector(p + "attn_norm.bias", normal(C))
        matrix(p + "attn_qkv.weight", normal(3 * C, C))
        vector(p + "attn_qkv.bias", normal(3 * C))
        matrix(p + "attn_output.weight", normal(C, C, std=residual))
        vector(p + "attn_output.bias", normal(C))
        vector(p + "ffn_norm.weight", 1 + normal(C))
        vector(p + "ffn_norm.bias", normal(C))
        matrix(p + "ffn_up.weight", normal(F, C))
        vector(p + "ffn_up.bias", normal(F))
        matrix(p + "ffn_down.weight", normal(C, F, std=residual))
        vector(p + "ffn_down.bias", normal(C))
    vector("output_norm.weight", 1 + normal(C))
    vector("output_norm.bias", normal(C))
    tmp = path + ".tmp"
    w.path = tmp
    w.write_header_to_file(path=tmp)
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="gpt2-124m", help=f"one of {', '.join(SIZES)}")
    ap.add_argument("--dtype", default="f16", help=f"one of {', '.join(FORMATS)}")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", required=True, help="the GGUF file to write (atomically)")
    args = ap.parse_args()
    if args.config not in SIZES:
        fail(f"--config: '{args.config}' is not one of {', '.join(SIZES)}")
    if args.dtype not in FORMATS:
        fail(f"--dtype: '{args.dtype}' is not one of {', '.join(FORMATS)}")
    if not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        fail(f"--out: the directory of '{args.out}' does not exist")
    write(args.out, args.config, args.dtype, args.seed)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB, {args.config}, {args.dtype})")


if __name__ == "__main__":
    main()
