#!/usr/bin/env python3
"""One self-contained HTML page from aigcbench results: what a person opens.

    scripts/report.py results/A.csv [results/B.csv ...] [--out report.html] [--probe P.json ...]

Per results CSV (one run of one machine): the machine and the build, the probe's measured
ceilings (results/<machine>/probe.json beside the CSV, or --probe), the summary table of every
row (time, achieved FLOP/s and bytes/s, tokens/s, speedup over scalar, roofline fraction with
rows above their ceiling flagged, energy where measured), and every figure scripts/plot.py
draws for it. With CSVs of two or more machines, the machine view of scripts/compare.py
follows: geometric-mean speedups over the first machine, measured against predicted, and its
figure. Figures are embedded (PNG as data: URIs), so the page is one file that opens anywhere
without the results folder. Written atomically; a CSV it cannot read stops it with exit 2.
"""
import argparse
import base64
import html
import math
import os
import sys
import tempfile

from aigc_results import fail as _fail, load as _load, load_repetitions, probe_beside

TOOL = "report.py"


def fail(message):
    _fail(TOOL, message)


def esc(value):
    return html.escape("" if value is None else str(value))


def number(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def si(value, unit):
    """1.23 G<unit> style, empty for a missing value."""
    if value is None or not value == value:
        return ""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def png_tag(path, alt):
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return (f'<figure><img class="figure" alt="{esc(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(alt)}</figcaption></figure>")


def shown(path):
    """A results file as a page names it: its machine's folder and its name
    (intel-xeon-emr-2c-avx3/quick.csv), which say the machine and the experiment."""
    return "/".join(os.path.normpath(path).split(os.sep)[-2:])


def probe_section(path, probe):
    if probe is None:
        return "<p>No probe file found for this machine (the roofline columns are the run's own).</p>"
    rows = []
    for name, key in (("SIMD FLOP/s", "simd_flops"), ("bf16 dot FLOP/s", "bf16_dot_flops"),
                      ("int8 dot ops/s", "int8_dot_flops")):
        for threads, value in sorted(probe.get(key, {}).items(), key=lambda kv: int(kv[0])):
            rows.append((name, f"{threads} thread(s)", si(value, "FLOP/s")))
    if "scalar_flops_per_core" in probe:
        rows.append(("scalar FLOP/s", "per core", si(probe["scalar_flops_per_core"], "FLOP/s")))
    for level in probe.get("bandwidth", []):
        for threads, value in sorted(level.get("read_bytes_per_s", {}).items(), key=lambda kv: int(kv[0])):
            rows.append((f"read bandwidth, {level['name']} working set", f"{threads} thread(s)",
                         si(value, "B/s")))
    body = "".join(f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td class=num>{esc(c)}</td></tr>"
                   for a, b, c in rows)
    return (f"<p>From <code>{esc(shown(path))}</code> (version {esc(probe.get('version'))}, "
            f"measured {esc(probe.get('timestamp'))}).</p>"
            f"<table><tr><th>ceiling</th><th>threads</th><th>value</th></tr>{body}</table>")


SUMMARY = [("workload", "workload", None), ("shape", "shape", None), ("backend", "backend", None),
           ("dtype", "dtype", None), ("threads", "thr", None),
           ("time_median_s", "median", "s"), ("time_min_s", "min", "s"), ("time_max_s", "max", "s"),
           ("achieved_flops", "FLOP/s", "FLOP/s"), ("achieved_bytes_per_s", "bytes/s", "B/s"),
           ("tokens_per_s", "tokens/s", ""), ("speedup_vs_scalar", "× scalar", None),
           ("roofline_fraction", "roofline", None), ("bound", "bound", None),
           ("energy_j", "energy", "J"), ("joules_per_token", "J/token", None),
           ("status", "status", None)]


def summary_table(df):
    head = "".join(f"<th>{esc(label)}</th>" for _, label, _ in SUMMARY)
    lines = []
    for _, r in df.iterrows():
        cells = []
        for column, _, unit in SUMMARY:
            value = r.get(column)
            if column == "roofline_fraction" and value == value and value is not None:
                flag = " !" if value > 1 else ""
                text, cls = f"{100 * value:.0f}%{flag}", "num" + (" above" if flag else "")
            elif unit:
                text, cls = si(value, unit), "num"
            elif isinstance(value, float):
                text, cls = number(value), "num"
            else:
                text, cls = ("" if value is None or value != value else str(value)), ""
            cells.append(f'<td class="{cls}">{esc(text)}</td>')
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="summary"><tr>{head}</tr>{"".join(lines)}</table>'


def run_section(index, csv_path, df, probes, figure_dir):
    import plot  # scripts/plot.py: the same figures bench.sh writes
    first = df.iloc[0]
    machine = str(first["machine"])
    targets = ", ".join(dict.fromkeys(str(t) for t in df["simd_target"].dropna()))
    facts = [("machine", machine), ("CPU", first["cpu_model"]), ("cores", first["cores"]),
             ("instruction sets that ran", targets), ("GPU", first.get("gpu_name", "")),
             ("compiler", first["compiler"]), ("build", first["build_type"]),
             ("run", first["run_id"]), ("written", first["timestamp"]),
             ("schema", first["schema_version"]), ("rows", len(df)),
             ("rows with a time", int(df["time_median_s"].notna().sum()))]
    if "energy_source" not in df.columns:
        energy = f"not recorded (schema {first['schema_version']}, before the energy columns)"
    else:
        sources = sorted(set(df["energy_source"].dropna().astype(str)) - {""})
        energy = ", ".join(sources) if sources else \
            "not measured (no RAPL or NVML counter readable on this machine)"
    facts.append(("energy", energy))
    fact_rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc('' if v != v else v)}</td></tr>"
                        for k, v in facts)
    probe_path, probe = probe_beside(csv_path, machine, probes)
    out_dir = os.path.join(figure_dir, f"run{index}")
    os.makedirs(out_dir)
    pngs = [p for p in plot.write_figures(df, out_dir) if p.endswith(".png")]
    figures = "".join(png_tag(p, f"{os.path.splitext(os.path.basename(p))[0]} · {machine}")
                      for p in pngs)
    above = int((df["roofline_fraction"] > 1).sum())
    warning = (f'<p class="warning">{above} row(s) ran faster than their roofline (marked !): '
               f"a ceiling of the probe is too low for them.</p>" if above else "")
    return (f'<section id="run{index}"><h2>{esc(machine)} · {esc(shown(csv_path))}</h2>'
            f"<table class=facts>{fact_rows}</table>"
            f"<h3>Ceilings (the probe)</h3>{probe_section(probe_path, probe)}"
            f"<h3>Figures</h3><div class=figures>{figures}</div>"
            f"<h3>Every row</h3>{warning}{summary_table(df)}</section>"), len(pngs)


def machines_section(paths, frames, figure_dir):
    import compare  # scripts/compare.py: the machine view
    runs = [(f, load_repetitions(p, f["run_id"].astype(str).unique(), TOOL)) for p, f in zip(paths, frames)]
    rows = compare.compare_machines(runs, 0.05)
    means = [r for r in rows if r["shape"] == "(geomean)"]
    body = "".join(
        f"<tr><td>{esc(r['machine'])}</td><td>{esc(r['workload'])}</td>"
        f"<td class=num>{r['speedup']:.2f}×</td><td class=num>{r['predicted_speedup']:.2f}×</td>"
        f"<td>{esc(r['verdict'])}</td></tr>" for r in means)
    path = os.path.join(figure_dir, "machines.png")
    compare.plot_machines(rows, path)
    base = esc(frames[0].iloc[0]["machine"])
    return (f'<section id="machines"><h2>Machines compared (base: {base})</h2>'
            f"<p>Geometric means of the speedup over {base} of the rows both ran, measured and "
            f"predicted by the ratio of the two machines' rooflines (their probes).</p>"
            f"<table><tr><th>machine</th><th>workload</th><th>measured</th><th>predicted</th>"
            f"<th></th></tr>{body}</table>{png_tag(path, 'machines: measured against predicted speedup')}"
            f"</section>"), 1


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.above { background: #fdd; font-weight: bold; }
.warning { color: #a00; font-weight: bold; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; } img.figure { max-width: 720px; border: 1px solid #eee; }
figcaption { font-size: 0.8em; color: #666; }
"""

# Run by the browser when the page has loaded: how many figures decoded, and any script error,
# written into the page (a headless browser's --dump-dom shows it; a person sees it at the end).
CHECK = """
<p id="check">checking figures…</p>
<script>
var errors = [];
window.addEventListener('error', function (e) { errors.push(String(e.message || e)); }, true);
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img.figure');
  var shown = Array.prototype.filter.call(imgs, function (i) { return i.complete && i.naturalWidth > 0; });
  document.getElementById('check').textContent =
      'figures shown: ' + shown.length + ' of ' + imgs.length + '; errors: ' + errors.length +
      (errors.length ? ' (' + errors.join('; ') + ')' : '');
});
</script>
"""


def build_page(paths, probes):
    frames = [_load(p, TOOL) for p in paths]
    sections, figures = [], 0
    with tempfile.TemporaryDirectory(prefix="aigc_report_") as figure_dir:
        for i, (path, df) in enumerate(zip(paths, frames)):
            text, n = run_section(i, path, df, probes, figure_dir)
            sections.append(text)
            figures += n
        machines = [str(f.iloc[0]["machine"]) for f in frames]
        if len(set(machines)) == len(machines) and len(machines) >= 2:
            text, n = machines_section(paths, frames, figure_dir)
            sections.append(text)
            figures += n
    toc = "".join(f'<li><a href="#run{i}">{esc(f.iloc[0]["machine"])} · {esc(os.path.basename(p))}</a></li>'
                  for i, (p, f) in enumerate(zip(paths, frames)))
    page = (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<title>aigcbench report: {esc(', '.join(dict.fromkeys(map(str, (f.iloc[0]['machine'] for f in frames)))))}</title>"
            f"<style>{STYLE}</style></head><body><h1>aigcbench report</h1>"
            f"<p>{len(paths)} run(s), {figures} figure(s). Rows and columns: see docs/results-schema.md, "
            f"the results table; roofline fractions are of the counted FLOPs and bytes.</p>"
            f"<ul>{toc}</ul>{''.join(sections)}{CHECK}</body></html>")
    return page, figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+", help="results CSVs (one run each; several machines for the comparison)")
    parser.add_argument("--out", default="report.html", help="the page (default: report.html)")
    parser.add_argument("--probe", action="append", default=[],
                        help="a probe JSON (default: probe.json beside each CSV, results/<machine>/)")
    args = parser.parse_args()
    for path in args.probe:
        if not os.path.exists(path):
            fail(f"--probe {path}: no such file")
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        fail(f"--out {args.out}: no such folder {folder}")
    page, figures = build_page(args.csv, args.probe)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".report-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, args.out)
    print(f"report: {args.out} ({len(args.csv)} run(s), {figures} figure(s), {len(page) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
