#!/usr/bin/env python3
"""The "Measured" table of one machine (docs/measured/<machine>.md), printed as Markdown from its results CSV.

    python scripts/measured_table.py results/<machine>/quick.csv

The suite's standing targets, each against its peer in the same run: our matmul against
oneDNN's (1 and 2 threads) and against scalar, the fused attention against oneDNN's
composition and against scalar, decode attention at its roofline, GPT-2's decode at its
roofline and against oneDNN's whole model, and its prefill against oneDNN's projection
matmuls alone (the 48 products of 12 layers, from the matmul rows of the same run). A target
whose rows are not in the file is left out; a row that did not run reads "—". Then the probe's
ceilings (results/<machine>/probe.json beside the CSV) in one line. Printed, not edited into the
page, so a person sees what changed before committing it; a test holds the page to it.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aigc_results  # noqa: E402

TOOL = "measured_table"
# GPT-2 124M's projections per layer at M tokens: QKV, attention output, MLP up and down.
GPT2_PROJECTIONS = ["M={m},N=2304,K=768,bias=1", "M={m},N=768,K=768,bias=1",
                    "M={m},N=3072,K=768,bias=1", "M={m},N=768,K=3072,bias=1"]
GPT2_LAYERS = 12


class Rows:
    def __init__(self, df):
        self.df = df

    def get(self, workload, shape, backend, threads):
        hit = self.df[(self.df["workload"] == workload) & (self.df["shape"] == shape) &
                      (self.df["backend"] == backend) & (self.df["threads"] == threads)]
        if hit.empty:
            return None
        r = hit.iloc[0]
        return r if r["status"] == "ok" and r["time_median_s"] > 0 else None

    def has(self, workload, shape):
        return bool(((self.df["workload"] == workload) & (self.df["shape"] == shape)).any())


def ms(r):
    if r is None:
        return "—"
    v = r["time_median_s"] * 1e3
    return f"{v:.3f}" if v < 1 else f"{v:.2f}"


def pct(x):
    return f"{100 * x:.1f}%"


def roof(r):
    v = r["roofline_fraction"] if r is not None else None
    return "—" if v is None or v != v else f"{100 * v:.0f}%"


def over_scalar(rows, workload, shape, label, goal):
    """The `simd` backend's speedup over `scalar` (1 thread) on one shape, where the file has it."""
    if not rows.has(workload, shape):
        return []
    ours, scalar = rows.get(workload, shape, "simd", 1), rows.get(workload, shape, "scalar", 1)
    text = (f"{scalar['time_median_s'] / ours['time_median_s']:.1f}× ({ms(ours)} vs {ms(scalar)} ms)"
            if ours is not None and scalar is not None else "—")
    return [(label, text, goal)]


def matmul_targets(rows):
    out = []
    for n, backend, threads in ((1024, "simd", 1), (2048, "simd", 1), (2048, "openmp", 2)):
        shape = f"M={n},N={n},K={n}"
        if not rows.has("matmul", shape):
            continue
        ours, vendor = rows.get("matmul", shape, backend, threads), rows.get("matmul", shape, "onednn", threads)
        text = (f"{pct(vendor['time_median_s'] / ours['time_median_s'])} of oneDNN ({ms(ours)} vs "
                f"{ms(vendor)} ms)" if ours is not None and vendor is not None else "—")
        out.append((f"matmul `{backend}` vs `onednn`, {threads} thread{'s' if threads > 1 else ''}, {n}³",
                    text, "≥ 85%"))
    return out + over_scalar(rows, "matmul", "M=512,N=512,K=512", "matmul `simd` vs `scalar`, 512³",
                             "≥ 10×")


def attention_targets(rows):
    out = []
    shape = "B=1,H=12,S=2048,D=64"
    if rows.has("attention", shape):
        ours, vendor = rows.get("attention", shape, "openmp", 2), rows.get("attention", shape, "onednn", 2)
        if ours is not None and vendor is not None:
            ratio = vendor["time_median_s"] / ours["time_median_s"]
            text = f"{ratio:.2f}× {'faster' if ratio >= 1 else 'slower'} ({ms(ours)} vs {ms(vendor)} ms)"
        else:
            text = "—"
        out.append(("attention fused `openmp` vs `onednn` composition, 2 threads, S=2048, H=12, D=64",
                    text, "≥ 1×"))
    out += over_scalar(rows, "attention", "B=1,H=12,S=1024,D=64",
                       "attention fused `simd` vs `scalar`, S=1024, H=12, D=64", "≥ 5×")
    shape = "B=1,H=12,L=1024,D=64"
    if rows.has("attention", shape):
        ours = rows.get("attention", shape, "openmp", 2)
        vendor, scalar = rows.get("attention", shape, "onednn", 2), rows.get("attention", shape, "scalar", 1)
        text = (f"`openmp` {ms(ours)} ms ({roof(ours)} of the roofline), `onednn` {ms(vendor)} ms, "
                f"`scalar` {ms(scalar)} ms")
        out.append(("attention decode, 2 threads, L=1024, H=12, D=64", text, "—"))
    return out


def tokens(r):
    return f"{r['tokens_per_s']:.1f}" if r is not None else "—"


def decoder_targets(rows):
    out = []
    df = rows.df
    shapes = list(dict.fromkeys(df[(df["workload"] == "decoder")]["shape"]))
    for shape in shapes:
        items = aigc_results.shape_items(shape)
        if not items.get("cfg", "").startswith("gpt2") or "dtype" in items or "batch" in items:
            continue
        model = aigc_results.MODEL_NAMES.get(items["cfg"], items["cfg"])
        ours, vendor = rows.get("decoder", shape, "openmp", 2), rows.get("decoder", shape, "onednn", 2)
        prompt = int(items["prompt"])
        if "gen" in items:
            scalar = rows.get("decoder", shape, "scalar", 1)
            text = (f"{tokens(ours)} tokens/s ({roof(ours)} of the decode roofline); `onednn` "
                    f"{tokens(vendor)} ({roof(vendor)}), `scalar` {tokens(scalar)}")
            out.append((f"decoder `openmp` decode, {model}, 2 threads, {items['gen']} steps after "
                        f"{prompt} tokens", text, "≥ 60%"))
            continue
        projections = [rows.get("matmul", p.format(m=prompt), "onednn", 2) for p in GPT2_PROJECTIONS]
        if items["cfg"] == "gpt2-124m" and all(p is not None for p in projections):
            matmuls = GPT2_LAYERS * sum(p["time_median_s"] for p in projections)
            fraction = matmuls / ours["time_median_s"] if ours is not None else None
            text = (f"the whole prefill ({ms(ours)} ms, {tokens(ours)} tokens/s) against oneDNN's "
                    f"{4 * GPT2_LAYERS} projection matmuls alone ({matmuls * 1e3:.2f} ms): "
                    f"**{pct(fraction)}**" if fraction is not None else "—")
            out.append((f"decoder `openmp` prefill vs `onednn`'s matmuls on the same shapes, 2 threads, "
                        f"{prompt} tokens", text, "≥ 70%"))
        text = f"`openmp` {ms(ours)} ms ({tokens(ours)} tokens/s), `onednn` {ms(vendor)} ms"
        out.append((f"decoder prefill vs `onednn`'s whole model, {model}, 2 threads, {prompt} tokens",
                    text, "—"))
    return out


def probe_line(csv_path, machine):
    path, p = aigc_results.probe_beside(csv_path, machine)
    if path is None:
        return None
    flops = {int(k): v for k, v in p["simd_flops"].items()}
    most = max(flops)
    dram = max(p["bandwidth"], key=lambda level: level["capacity_bytes"])
    reads = dram.get("read_bytes_per_s") or dram["bytes_per_s"]
    kind = "read-only" if dram.get("read_bytes_per_s") else "triad"
    reads = {int(k): v for k, v in reads.items()}
    shown = "/".join(os.path.normpath(path).split(os.sep)[-2:])  # <machine>/probe.json
    return (f"Probe (`{shown}`): {flops[1] / 1e9:.1f} GFLOP/s per core "
            f"{p['simd_target']} FMA ({flops[most] / 1e9:.1f} on {most}), scalar "
            f"{p['scalar_flops_per_core'] / 1e9:.1f} GFLOP/s; {kind} bandwidth at the largest working "
            f"set ({dram['name']}) {reads[1] / 1e9:.1f} GB/s on one core, "
            f"{reads[max(reads)] / 1e9:.1f} GB/s on {max(reads)}.")


def table(df, csv_path=None):
    rows = Rows(df)
    lines = ["| target | measured | goal |", "|---|---|---|"]
    for name, text, goal in matmul_targets(rows) + attention_targets(rows) + decoder_targets(rows):
        lines.append(f"| {name} | {text} | {goal} |")
    if csv_path is not None:
        line = probe_line(csv_path, str(df.iloc[0]["machine"]))
        if line:
            lines += ["", line]
    return "\n".join(lines)


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="one machine's results CSV (a quick or full run)")
    args = parser.parse_args(argv)
    print(table(aigc_results.load(args.csv, TOOL), args.csv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
