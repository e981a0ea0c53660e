#!/usr/bin/env python3
"""Compares two folders of run folders (scripts/equivalence_runs.sh): the resolved model (model.ron but its first
line, which names the snnsim version), learning curves, alignment, trials (every column but the wall-clock seconds),
the summary's accuracy, and every dataset and attribute of rasters.h5 (but the snnsim version). Prints one line per
file and exits 1 if anything differs."""
import csv
import json
import os
import sys

import h5py
import numpy as np

SECONDS = {"elapsed_s", "seconds", "train_s", "wall_s"}


def rows(path):
    with open(path, newline="") as f:
        r = list(csv.DictReader(f))
    return [{k: v for k, v in row.items() if k not in SECONDS} for row in r]


def model_text(run):
    """The resolved model without its header line (`// Resolved by snnsim VERSION from ...`)."""
    with open(os.path.join(run, "model.ron")) as f:
        return f.read().split("\n", 1)[1]


def main(before, after):
    bad = 0
    for run in sorted(os.listdir(before)):
        b, a = os.path.join(before, run), os.path.join(after, run)
        if not os.path.isdir(b):
            continue
        same = model_text(b) == model_text(a)
        bad += not same
        print(f"{run}/model.ron: {'same' if same else 'DIFFERENT'}")
        for name in ["curve.csv", "alignment.csv", "trials.csv", "trial_curves.csv"]:
            if os.path.exists(os.path.join(b, name)):
                same = rows(os.path.join(b, name)) == rows(os.path.join(a, name))
                bad += not same
                print(f"{run}/{name}: {'same' if same else 'DIFFERENT'}")
        sb, sa = (json.load(open(os.path.join(x, "summary.json"))) for x in (b, a))
        same = sb["test_accuracy"] == sa["test_accuracy"] and sa["status"] == "finished"
        bad += not same
        print(f"{run}: accuracy {sb['test_accuracy']} / {sa['test_accuracy']} {'same' if same else 'DIFFERENT'}")
        raster = os.path.join(b, "rasters.h5")
        if os.path.exists(raster):
            fb, fa = h5py.File(raster, "r"), h5py.File(os.path.join(a, "rasters.h5"), "r")
            diffs, count = [], [0]

            def visit(name, obj):
                other = fa.get(name)
                if other is None:
                    diffs.append(name)
                    return
                if isinstance(obj, h5py.Dataset):
                    count[0] += 1
                    if not np.array_equal(obj[()], other[()]):
                        diffs.append(name)
                for k, v in obj.attrs.items():
                    if k != "snnsim_version" and not np.array_equal(np.asarray(v), np.asarray(other.attrs.get(k))):
                        diffs.append(f"{name}@{k}")

            visit("/", fb)
            fb.visititems(visit)
            bad += bool(diffs)
            print(f"{run}/rasters.h5: {count[0]} datasets, {'same' if not diffs else 'DIFFERENT: ' + ', '.join(diffs[:5])}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
