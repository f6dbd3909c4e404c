#!/usr/bin/env python3
"""Moves results/ from its flat layout (results/<machine>-<experiment>.csv, probe-<machine>.json,
figures/<machine>-<experiment>/) to one folder per machine (results/<machine>/<experiment>.csv,
probe.json, figures/<experiment>/), and rewrites the paths the manual's pages name. Run once
(the committed tree is already migrated); running it again finds nothing to move.

    python scripts/migrate_results_layout.py [--root .] [--dry-run]

Cross-machine files go to results/machines/ (the machine view) and results/model/ (the
distributed model's curves). Two experiments are renamed to say what they measured: `op` (every
op case) is `op-cases`, `tp` (the tensor-parallel target's interleaved rounds) is `tp-target`.
"""
import argparse
import glob
import os
import re
import subprocess
import sys


# Experiments whose old names did not say what they measured.
RENAMES = {"op": "op-cases", "tp": "tp-target"}


def experiment(rest):
    """`rest` ("op.repetitions.csv", "tp") with its experiment renamed where RENAMES says."""
    stem, dot, ext = rest.partition(".")
    return RENAMES.get(stem, stem) + dot + ext


def machines_of(results):
    """The machine ids: the probe caches' names, less a pinned target's suffix."""
    names = {os.path.basename(p)[len("probe-"):-len(".json")]
             for p in glob.glob(os.path.join(results, "probe-*.json"))}
    return sorted((n for n in names if not any(n != m and n.startswith(m + "-") for m in names)),
                  key=len, reverse=True)


def new_name(name, machines):
    """Where a flat entry of results/ goes, relative to results/; None: it stays."""
    for m in machines:
        if name == f"probe-{m}.json":
            return f"{m}/probe.json"
        if name.startswith(f"probe-{m}-"):  # a pinned SIMD target's cache
            return f"{m}/probe-{name[len(f'probe-{m}-'):]}"
        if name.startswith(m + "-"):
            return f"{m}/{experiment(name[len(m) + 1:])}"
    for group in ("machines", "model"):
        if name.startswith(group + "-"):
            return f"{group}/{name[len(group) + 1:]}"
    return None


def new_figures(name, machines):
    """Where figures/<name>/ goes, relative to results/."""
    for m in machines:
        if name.startswith(m + "-"):
            return f"{m}/figures/{experiment(name[len(m) + 1:])}"
    for group in ("machines", "model"):
        if name == group:
            return f"{group}/figures"
        if name.startswith(group + "-"):
            return f"{group}/figures/{name[len(group) + 1:]}"
    return None


def plan(results):
    machines = machines_of(results)
    moves = []
    for entry in sorted(os.listdir(results)):
        if os.path.isfile(os.path.join(results, entry)) and (to := new_name(entry, machines)):
            moves.append((entry, to))
    figures = os.path.join(results, "figures")
    if os.path.isdir(figures):
        for entry in sorted(os.listdir(figures)):
            if to := new_figures(entry, machines):
                moves.append((f"figures/{entry}", to))
    return moves


def move(root, old, new, dry_run):
    src, dst = os.path.join(root, "results", old), os.path.join(root, "results", new)
    print(f"results/{old} -> results/{new}")
    if dry_run:
        return
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tracked = subprocess.run(["git", "-C", root, "ls-files", "--error-unmatch", f"results/{old}"],
                             capture_output=True).returncode == 0
    if tracked:
        subprocess.run(["git", "-C", root, "mv", f"results/{old}", f"results/{new}"], check=True)
    else:
        os.rename(src, dst)


def rewrite_pages(root, moves, dry_run):
    """The paths the Markdown pages name, longest first (a figure folder before its files)."""
    pages = [os.path.join(root, "README.md"), os.path.join(root, "kernels", "cuda", "NOTES.md")]
    pages += glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True)
    pairs = sorted(moves, key=lambda m: len(m[0]), reverse=True)
    for page in pages:
        if not os.path.exists(page):
            continue
        with open(page, encoding="utf-8") as f:
            text = f.read()
        new = text
        for old, to in pairs:
            new = re.sub(r"results/" + re.escape(old) + r"(?=[/`)\s,.:;]|$)", f"results/{to}", new)
        if new != text and not dry_run:
            with open(page, "w", encoding="utf-8") as f:
                f.write(new)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    parser.add_argument("--dry-run", action="store_true", help="say what would move, move nothing")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    moves = plan(os.path.join(root, "results"))
    for old, new in moves:
        move(root, old, new, args.dry_run)
    rewrite_pages(root, moves, args.dry_run)
    figures = os.path.join(root, "results", "figures")
    if not args.dry_run and os.path.isdir(figures) and not os.listdir(figures):
        os.rmdir(figures)
    print(f"{len(moves)} moved" if moves else "nothing to move: results/ is already per machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
