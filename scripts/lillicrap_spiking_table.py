#!/usr/bin/env python3
"""The table of scripts/lillicrap_spiking_choices.sh: one row per run folder under OUT (markdown on stdout).

Usage: python3 scripts/lillicrap_spiking_table.py OUT
"""
import csv
import json
import sys
from pathlib import Path


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "output/lillicrap_choices")
    print("| run | overrides | test accuracy (10 000 images) | curve (1000 images each 10 000) | train s | commit |")
    print("|---|---|---|---|---|---|")
    for run in sorted(p for p in out.iterdir() if (p / "summary.json").exists()):
        s = json.loads((run / "summary.json").read_text())
        if s.get("status") != "finished":
            continue
        with open(run / "curve.csv", newline="") as f:
            curve = [f"{100 * float(r['test_accuracy']):.1f}" for r in csv.DictReader(f)]
        shown = ("Bernoulli", "learning_rate", "batch_size", "depth", "init.")
        sets = " ".join(f"`{o}`" for o in s.get("overrides", []) if any(k in o for k in shown))
        acc = 100 * s["test_accuracy"]
        print(f"| {run.name} | {sets or '—'} | {acc:.2f} % | {' '.join(curve)} | {s.get('train_s', 0):.0f} | "
              f"{s.get('commit', '?')} |")


if __name__ == "__main__":
    main()
