#!/usr/bin/env python3
"""Writes the table of scripts/class_death.sh into docs/results.md (between the class_death markers): for each net,
number of training examples and seed, the classes that are dead, i.e. at least 95 % of whose test images drive their
own output cell to v <= 0, where SPEC's rectified derivative (eq 2.11) gives that cell no teaching signal.

Usage: class_death_report.py RESULTS_MD KEPT_CSV [OUT]

OUT holds the run folders <net>-n<examples>-seed<N> of scripts/class_death.sh. For each finished one with a
weights.h5 the script computes every class's fraction of test images with v_own <= 0 (the forward pass of
scripts/depth1_ceiling.py, MNIST from $SNNSIM_DATA_DIR) and merges it into KEPT_CSV, which the table is built from:
without OUT the table is rebuilt from KEPT_CSV alone. The last row reads the one-epoch runs of
scripts/lost_classes.sh kept in docs/runs/lost_classes (classes less than half right).

The LIF runs lif-n<examples>-seed<N> are measured from their rasters.h5 instead: the output cells' drive v traced on
every step of the recorded test presentations. A LIF cell's drive changes from step to step with the hidden spikes,
and the rectified derivative is taken on each step's v (SPEC §2.2), so a class counts as dead there when its own cell
has v <= 0 on every learning step (after settle_steps) of at least 95 % of its images."""
import csv
import os
import sys

from results_md import write_section
from run_folders import finished_runs

BEGIN, END = "<!-- class_death:begin -->", "<!-- class_death:end -->"
DEAD = 0.95
NETS = [
    ("init", "initial weights (Appendix B; the same for every net of a seed)"),
    ("depth1", "depth 1 (only the output layer learns)"),
    ("depth1_no_momentum", "depth 1, momentum 0"),
    ("depth1_unrectified", "depth 1, unrectified derivative"),
    ("depth1_target_c1", "depth 1, the true class's target c1 = 0.82"),
    ("bp", "BP, depth 2"),
    ("fa", "FA, depth 2"),
    ("bp_online", "BP, depth 2, online: one example per update, one step"),
    ("bp_online_unrectified", "BP, depth 2, online, unrectified derivative"),
    ("lif", "LIF-BA, depth 2 (`models/mnist_lif_ba.ron`; v ≤ 0 on every learning step; 1000 test images)"),
]
FIELDS = (["net", "examples", "seed", "test_accuracy", "commit"] + [f"dead_{c}" for c in range(10)]
          + [f"drive_mean_{c}" for c in range(10)] + [f"drive_sd_{c}" for c in range(10)]
          + ["hidden_cosine_within", "hidden_cosine_between"]
          + ["step_sd", "below0_pairs", "below0_on_steps", "below0_never_on"])
COSINE_IMAGES = 2000  # test images (a fixed random subset) whose hidden activity vectors are compared pairwise
LOST_CLASSES = "docs/runs/lost_classes"


def measure(out, rows):
    """Adds to `rows` ({(net, examples, seed): row}) every finished run under `out` with its weights."""
    import h5py
    import numpy as np
    from depth1_ceiling import act, mnist

    folders = [(m.group(1), int(m.group(2)), int(m.group(3)), folder, summary)
               for m, folder, summary in finished_runs(out, r"(\w+?)-n(\d+)-seed(\d+)", "weights.h5")]
    if not folders:
        return
    x, y = mnist(os.path.join(os.environ.get("SNNSIM_DATA_DIR", "data"), "mnist"))
    x, y = x["test"], y["test"]
    subset = np.random.default_rng(0).choice(len(y), COSINE_IMAGES, replace=False)
    same = y[subset][:, None] == y[subset][None, :]
    pairs = ~np.eye(COSINE_IMAGES, dtype=bool)
    for net, examples, seed, folder, summary in folders:
        row = {"net": net, "examples": examples, "seed": seed, "test_accuracy": f"{summary['test_accuracy']:.4f}",
               "commit": summary.get("commit") or "?"}
        if net == "lif":
            row.update(measure_lif(os.path.join(folder, "rasters.h5")))
            rows[(net, examples, seed)] = row
            continue
        with h5py.File(os.path.join(folder, "weights.h5"), "r") as f:
            w1, b1 = f["forward/hidden1/W"][:], f["forward/hidden1/b"][:]
            wo, bo = f["forward/output/W"][:], f["forward/output/b"][:]
        h = act(x @ w1.T + b1)
        v = h @ wo.T + bo
        # How alike the images' hidden activity is: the mean cosine between two images' vectors.
        unit = h[subset] / np.maximum(np.linalg.norm(h[subset], axis=1, keepdims=True), 1e-12)
        cosine = unit @ unit.T
        own = v[np.arange(len(y)), y]
        row.update({f"dead_{c}": f"{float((own[y == c] <= 0).mean()):.4f}" for c in range(10)})
        row.update({f"drive_mean_{c}": f"{float(v[:, c].mean()):.3f}" for c in range(10)})
        row.update({f"drive_sd_{c}": f"{float(v[:, c].std()):.3f}" for c in range(10)})
        row["hidden_cosine_within"] = f"{float(cosine[same & pairs].mean()):.4f}"
        row["hidden_cosine_between"] = f"{float(cosine[~same].mean()):.4f}"
        rows[(net, examples, seed)] = row


def measure_lif(rasters):
    """The fields of a LIF run's row, from the drive v of its output cells traced on every step of its recorded test
    presentations: per class, the fraction of images whose own cell has v <= 0 on every learning step, and the mean
    and spread over images of each cell's drive averaged over the learning steps; over all images and cells, the mean
    standard deviation of v over the learning steps of a presentation; and of the (image, own cell) pairs whose
    averaged drive is <= 0 (where the rate net's cell gets no teaching signal), how many, the mean fraction of their
    learning steps with v > 0, and the fraction with none."""
    import h5py
    import numpy as np

    with h5py.File(rasters, "r") as f:
        settle = int(f.attrs["settle_steps"])
        tests = f["test"]
        labels = np.array([int(tests[k].attrs["label"]) for k in tests])
        v = np.stack([tests[k]["traces/output/v"][settle:] for k in tests])  # [images, learning steps, cells]
    own = v[np.arange(len(labels)), :, labels]  # [images, learning steps]
    mean = v.mean(axis=1)  # [images, cells]
    below = own.mean(axis=1) <= 0
    on = (own[below] > 0).mean(axis=1)
    row = {f"dead_{c}": f"{float((own[labels == c] <= 0).all(axis=1).mean()):.4f}" for c in range(10)}
    row.update({f"drive_mean_{c}": f"{float(mean[:, c].mean()):.3f}" for c in range(10)})
    row.update({f"drive_sd_{c}": f"{float(mean[:, c].std()):.3f}" for c in range(10)})
    row.update({"step_sd": f"{float(v.std(axis=1).mean()):.3f}", "below0_pairs": int(below.sum()),
                "below0_on_steps": f"{float(on.mean()) if len(on) else 0.0:.4f}",
                "below0_never_on": f"{float((on == 0).mean()) if len(on) else 0.0:.4f}"})
    return row


def read_kept(path):
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {(r["net"], int(r["examples"]), int(r["seed"])): r for r in csv.DictReader(f)}


def write_kept(path, rows):
    with open(path + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        for key in sorted(rows):
            w.writerow(rows[key])
    os.replace(path + ".tmp", path)


def dead_classes(row):
    """[(class, fraction of its test images at v_own <= 0)] of the run's dead classes."""
    return [(c, float(row[f"dead_{c}"])) for c in range(10) if float(row[f"dead_{c}"]) >= DEAD]


def dead_cell(row):
    if row is None:
        return "·"
    dead = dead_classes(row)
    if not dead:
        return "—"
    return ", ".join(str(c) if f == 1.0 else f"{c} ({100 * f:.1f})" for c, f in dead)


def init_drives(rows):
    """A sentence on the output cells' drives at the initial weights, over the seeds' init runs (none without)."""
    init = [r for (net, _, _), r in rows.items() if net == "init"]
    if not init:
        return []
    means = [float(r[f"drive_mean_{c}"]) for r in init for c in range(10)]
    sds = [float(r[f"drive_sd_{c}"]) for r in init for c in range(10)]
    mean = sum(means) / len(means)
    spread = (sum((m - mean) ** 2 for m in means) / len(means)) ** 0.5
    return ["", f"At the initial weights, over the {len(means)} output cells of {len(init)} seeds: each cell's mean "
                f"drive v over the test images averages {mean:.1f}, with a standard deviation of {spread:.1f} from "
                f"cell to cell and of {sum(sds) / len(sds):.1f} (on average) over the images within a cell; the "
                f"lowest cell's mean is {min(means):.1f}. The hidden layer's activity vectors of two test images "
                f"(of {COSINE_IMAGES}) are at a mean cosine of "
                f"{mean_of(init, 'hidden_cosine_between'):.2f} between classes and "
                f"{mean_of(init, 'hidden_cosine_within'):.2f} within a class."]


def lif_noise(rows):
    """Sentences on the LIF runs' step-to-step drive (none without LIF runs)."""
    counts = sorted({n for (net, n, _) in rows if net == "lif"})
    if not counts:
        return []
    parts = []
    for n in counts:
        lif = [r for (net, m, _), r in rows.items() if net == "lif" and m == n]
        pairs = sum(int(r["below0_pairs"]) for r in lif)
        weight = [int(r["below0_pairs"]) for r in lif]
        on = sum(w * float(r["below0_on_steps"]) for w, r in zip(weight, lif)) / max(pairs, 1)
        never = sum(w * float(r["below0_never_on"]) for w, r in zip(weight, lif)) / max(pairs, 1)
        within = mean_of(lif, "step_sd")
        spread = sum(float(r[f"drive_sd_{c}"]) for r in lif for c in range(10)) / (10 * len(lif))
        when = "at the initial weights" if n == 0 else f"after {n:,} examples".replace(",", " ")
        parts.append(f"{when} ({len(lif)} seeds): a standard deviation of {within:.1f} over a presentation's "
                     f"learning steps against {spread:.1f} over the images within a cell; {pairs} image–own-cell "
                     f"pairs with the averaged drive ≤ 0, their v above 0 on {100 * on:.1f} % of the learning steps "
                     f"on average, on none in {100 * never:.0f} % of them")
    return ["", "In the LIF net of the same seeds (the same initial weights), an output cell's drive v changes from "
                "step to step with the hidden spikes, and the rectified derivative is taken on each step's v: "
            + "; ".join(parts) + "."]


def mean_of(rows, field):
    return sum(float(r[field]) for r in rows) / len(rows)


def lost_after_one_epoch(seed):
    """The classes less than half right after one epoch of stepped BP (scripts/lost_classes.sh), or None."""
    path = os.path.join(LOST_CLASSES, f"spec-seed{seed}", "confusion.csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        lost = [r["label"] for r in csv.DictReader(f) if float(r["accuracy"]) < 0.5]
    return ", ".join(lost) or "—"


def main():
    results_md, kept = sys.argv[1], sys.argv[2]
    rows = read_kept(kept)
    if len(sys.argv) > 3:
        measure(sys.argv[3], rows)
        write_kept(kept, rows)
    seeds = sorted({s for (_, _, s) in rows})
    counts = sorted({n for (_, n, _) in rows})
    lines = [BEGIN, "",
             f"Generated by `scripts/class_death.sh` (`scripts/class_death_report.py`) from `{kept}`: "
             f"`snnsim run <model> --set protocol.epochs=1 --set data.train_limit=<examples> --seed N` for the "
             f"stepped 784-1000-10 nets (`models/mnist_stepped_ba_depth1.ron`, `--set learning.momentum=0.0`, "
             f"`--set learning.rectified_derivative=false`, `--set learning.class_target=0.82`; "
             f"`models/mnist_stepped_bp.ron`, `models/mnist_stepped_fa.ron`; online: `models/mnist_stepped_bp.ron "
             f"--set 'network.cells=Rate(c1: 0.82, steps: 1)' --set protocol.batch_size=1`), and "
             f"`--set protocol.epochs=0` for the initial weights; the LIF net `models/mnist_lif_ba.ron` alike, "
             f"its output cells' drive traced on every step of the first 1000 test images (`record.traces`). "
             f"Each cell lists the dead classes: at least "
             f"{100 * DEAD:.0f} % of the class's test images drive its own output cell to v ≤ 0 (the percentage in "
             f"brackets where it is not all of them), where the rectified derivative gives the cell no teaching "
             f"signal; — none, · not run.", "",
             "| net | training examples | " + " | ".join(f"seed {s}" for s in seeds)
             + " | seeds with a dead class (dead classes) |",
             "|---|---|" + "---|" * (len(seeds) + 1)]
    for n in counts:
        for net, label in NETS:
            got = [rows.get((net, n, s)) for s in seeds]
            if not any(got):
                continue
            dead = [len(dead_classes(r)) for r in got if r is not None]
            count = f"{n:,}".replace(",", " ")
            lines.append(f"| {label} | {count} | " + " | ".join(dead_cell(r) for r in got)
                         + f" | {sum(1 for d in dead if d)} of {len(dead)} ({sum(dead)}) |")
    lost = [lost_after_one_epoch(s) for s in seeds]
    if any(lost):
        lines.append("| BP, depth 2: classes lost (less than half right) after one epoch, the table above | 60 000 | "
                     + " | ".join(x or "·" for x in lost) + " | "
                     + f"{sum(1 for x in lost if x not in (None, '—'))} of {sum(x is not None for x in lost)} |")
    lines += init_drives(rows)
    lines += lif_noise(rows)
    commits = sorted({r["commit"] for r in rows.values()})
    lines += ["", f"Commit of the binary: {', '.join(commits)}.", "", END]
    write_section(results_md, BEGIN, END, lines, "## When SPEC's rule kills a class")


if __name__ == "__main__":
    main()
