#!/usr/bin/env python3
"""Writes the Table 2 reproduction into docs/results.md (between the table2 markers) from the run folders of
scripts/table2.sh, and its summary, one line per paper row with that row's variants beside it, into the README
(between the table2-summary markers).  Usage: table2_report.py RESULTS_MD README_MD ROWS_TSV ROOT [ROOT ...]

Each row of ROWS_TSV (name, model, overrides, paper, range, kind, row, of) takes its runs from the folders
<ROOT>/<name>-seed<N> of every ROOT. A folder name found under several roots counts once: the copy whose summary.json
says "finished", else the one of the first root. The first ROOT is where scripts/table2.sh writes its runs ($OUT)."""
import csv
import json
import os
import re
import statistics
import sys

from results_md import write_section

BEGIN, END = "<!-- table2:begin -->", "<!-- table2:end -->"
SUMMARY_BEGIN, SUMMARY_END = "<!-- table2-summary:begin -->", "<!-- table2-summary:end -->"
VARIANT_MARK = " — variant: "
PAPER_KINDS = ("rate", "lif")
VARIANT_KINDS = ("rate-variant", "lif-variant", "rate-onestep")
EPOCH = 60000  # MNIST training examples per epoch
HEADER = [
    "| Table 2 row | model file | paper | snnsim mean | snnsim range | seeds | finished | epochs | Δ mean "
    "| wall per run | alignment at the end | lowest class per seed | commit |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def read_rows(rows_tsv):
    rows = []
    with open(rows_tsv, newline="") as f:
        for row in csv.reader(f, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 8:
                sys.exit(f"{rows_tsv}: expected 8 tab-separated columns, got {len(row)}: {row}")
            name, model, overrides, paper, rng, kind, label, of = row
            if kind not in PAPER_KINDS + VARIANT_KINDS:
                sys.exit(f"{rows_tsv}: unknown kind {kind!r} in row {name}")
            sets = [] if overrides.strip() in ("", "-") else overrides.split()
            rows.append(dict(name=name, model=model, sets=sets, paper=paper, range=rng, kind=kind, label=label, of=of))
    paper_rows = {r["name"] for r in rows if r["kind"] in PAPER_KINDS}
    for r in rows:
        if r["kind"] in VARIANT_KINDS and r["of"] not in paper_rows:
            sys.exit(f"{rows_tsv}: variant {r['name']} is of {r['of']!r}, which is not a paper row of the file")
    return rows


def runs_of(roots, name):
    """The runs <root>/<name>-seed<N> over all roots, one per folder name: the finished copy first, else the first
    root's. Folders such as <name>-seed1.unfinished (set aside by --skip-finished) do not count."""
    pattern = re.compile(re.escape(name) + r"-seed\d+")
    chosen = {}
    for root in roots:
        try:
            entries = sorted(os.listdir(root))
        except OSError:
            continue
        for entry in entries:
            d = os.path.join(root, entry)
            if not pattern.fullmatch(entry) or not os.path.isdir(d):
                continue
            try:
                with open(os.path.join(d, "summary.json")) as f:
                    s = json.load(f)
            except (OSError, ValueError):
                continue
            s["dir"], s["root"] = d, root
            old = chosen.get(entry)
            if old is None or (old.get("status") != "finished" and s.get("status") == "finished"):
                chosen[entry] = s
    return [chosen[k] for k in sorted(chosen, key=lambda e: (len(e), e))]


def final_angles(run_dir, last=10):
    """Mean alignment angle of each hidden population over its last `last` measurements."""
    path = os.path.join(run_dir, "alignment.csv")
    if not os.path.exists(path):
        return {}
    by_pop = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            by_pop.setdefault(r["population"], []).append(float(r["angle_deg"]))
    return {p: statistics.mean(v[-last:]) for p, v in by_pop.items()}


def class_accuracies(run_dir):
    """(label, fraction right) of each class in the run's final test, from its confusion.csv; None if the run folder
    has none (runs made before snnsim wrote it; `snnsim test RUN --confusion FILE` makes one from the checkpoint)."""
    path = os.path.join(run_dir, "confusion.csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return [(r["label"], int(r["correct"]) / int(r["examples"])) for r in csv.DictReader(f) if int(r["examples"])]


def lost_classes(right):
    """The classes a final test got less than half right: the classes the network lost."""
    return [c for c in right if c[1] < 0.5]


def lowest_class(run_dir):
    """The classes the run's final test got less than half right, or else the one it got least right: "class: %
    right", or "—" if the run folder has no confusion.csv."""
    right = class_accuracies(run_dir)
    if right is None:
        return "—"
    shown = lost_classes(right) or [min(right, key=lambda c: c[1])]
    return ", ".join(f"{label}: {100 * a:.1f}" for label, a in shown)


def finished_only(runs):
    return [r for r in runs if r.get("status") == "finished" and r.get("test_accuracy") is not None]


def epochs_txt(done):
    values = sorted({r.get("train_examples_seen", 0) / EPOCH for r in done})
    return ", ".join(f"{e:g}" for e in values) if values else "—"


def table_line(row, runs):
    done = finished_only(runs)
    model_txt = f"`models/{row['model']}.ron`" + "".join(f" `--set {s}`" for s in row["sets"])
    paper_txt = row["paper"] + ("" if row["range"] == "-" else f" ({row['range']})")
    if not done:
        finished = f"0/{len(runs)}" if runs else "not run"
        return f"| {row['label']} | {model_txt} | {paper_txt} | — | — | — | {finished} | — | — | — | — | — | — |"
    accs = [100 * r["test_accuracy"] for r in done]
    mean = statistics.mean(accs)
    span = f"{min(accs):.2f}–{max(accs):.2f}" if len(accs) > 1 else "—"
    delta = f"{mean - float(row['paper']):+.2f}"
    wall = statistics.mean(r["wall_s"] for r in done) / 60
    commits = sorted({(r.get("commit") or "?")[:12] for r in done})
    angles = {}
    for r in done:
        for p, a in final_angles(r["dir"]).items():
            angles.setdefault(p, []).append(a)
    angle_txt = ", ".join(f"{p} {statistics.mean(a):.0f}°" for p, a in sorted(angles.items())) or "—"
    seeds = ",".join(str(r["seed"]) for r in done)
    lowest = " · ".join(lowest_class(r["dir"]) for r in done)
    return (
        f"| {row['label']} | {model_txt} | {paper_txt} | **{mean:.2f}** | {span} | {seeds} | {len(done)}/{len(runs)} "
        f"| {epochs_txt(done)} | {delta} | {wall:.1f} min | {angle_txt} | {lowest} | {' '.join(commits)} |"
    )


def summary_line(row, runs, variants):
    """One line of the README's summary: the paper row with SPEC's rule, and each of its variants' means."""
    done = finished_only(runs)
    unfinished = len(runs) - len(done)
    seeds_txt = f"{len(done)}" + (f" (+{unfinished} unfinished)" if unfinished else "")
    if done:
        mean = statistics.mean(100 * r["test_accuracy"] for r in done)
        mean_txt, delta_txt = f"**{mean:.2f}**", f"{mean - float(row['paper']):+.2f}"
    else:
        mean_txt = delta_txt = "—"
    tested = [a for a in (class_accuracies(r["dir"]) for r in done) if a is not None]
    lost_txt = f"{sum(1 for a in tested if lost_classes(a))} of {len(tested)}" if tested else "—"
    variant_txt = []
    for variant, vruns in variants:
        vdone = finished_only(vruns)
        if vdone:
            name = variant["label"].split(VARIANT_MARK, 1)[-1].split(",")[0]
            vmean = statistics.mean(100 * r["test_accuracy"] for r in vdone)
            variant_txt.append(f"{name}: {vmean:.2f} ({len(vdone)})")
    return (
        f"| {row['label']} | `{row['model']}` | {row['paper']} | {mean_txt} | {delta_txt} | {seeds_txt} | {lost_txt} "
        f"| {' · '.join(variant_txt) or '—'} |"
    )


def summary_lines(rows, runs_by_name):
    lines = [
        SUMMARY_BEGIN,
        "",
        "| Table 2 row | models/….ron | paper | snnsim | Δ | seeds | seeds ending with a lost class | variants: mean (seeds) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row["kind"] in PAPER_KINDS:
            variants = [(v, runs_by_name[v["name"]]) for v in rows if v["kind"] in VARIANT_KINDS and v["of"] == row["name"]]
            lines.append(summary_line(row, runs_by_name[row["name"]], variants))
    lines += [
        "",
        "Generated by `scripts/table2.sh` (`scripts/table2_report.py`) from the same runs as the full table in "
        "docs/results.md (\"Table 2, every row\"), which gives each row's range, wall time, alignment, lowest class "
        "per seed, commit and command. snnsim: the mean test accuracy (%) of the finished seeds, with the model files' "
        "rule (the nonspiking rows stepped through the presentation with SPEC's rectified derivative; the 4-layer "
        "LIF row with γ = α). A seed ends with a lost class when its final test got that class less than half "
        "right (a class lost for a while and won back does not count; counted over the seeds whose run folder has a "
        "confusion.csv; the earliest LIF runs have none). Variants: the same row with one choice changed "
        "(docs/results.md says which), mean of its finished seeds.",
        "",
        SUMMARY_END,
    ]
    return lines


def main(results_md, readme_md, rows_tsv, *roots):
    rows = read_rows(rows_tsv)
    out = roots[0]
    paper_lines, variant_lines, commands = [], [], []
    used = {root: 0 for root in roots}
    runs_by_name = {}
    for row in rows:
        runs = runs_by_name[row["name"]] = runs_of(roots, row["name"])
        for r in runs:
            used[r["root"]] += 1
        (paper_lines if row["kind"] in PAPER_KINDS else variant_lines).append(table_line(row, runs))
        sets = "".join(f" --set {s}" for s in row["sets"])
        commands.append(
            f"snnsim run models/{row['model']}.ron{sets} --seed N --out {out}/{row['name']}-seedN --skip-finished"
        )
    roots_txt = " and ".join(f"`{root}` ({used[root]} run folders used)" for root in roots)
    lines = [
        BEGIN,
        "",
        "Generated by `scripts/table2.sh` (`scripts/table2_report.py`) from the run folders `<name>-seed<N>` under "
        f"{roots_txt}; a folder found under several of these counts once (the finished one, else the first "
        "root's). Each run repeats with `snnsim run <folder>/model.ron`.",
        "",
        "The paper's rows: the nonspiking nets are presented like the LIF ones (320 learning steps per minibatch) "
        "with SPEC's rule (η = 1/fan-in, rectified derivative); the 4-layer LIF row uses γ = α.",
        "",
        *HEADER,
        *paper_lines,
        "",
        "**Variants**: the nonspiking rows with the unrectified derivative and with the rectifier softened by a LIF "
        "output cell's spike noise (`learning.rectifier_noise_sd=5.0`), DF's rows with the true class's target "
        "at c1 = 0.82 (the most a rate cell's activity approaches) instead of 1, the 4-layer LIF row with the model "
        "file's γ = 0.034, and the earlier one-step nonspiking nets (one update per minibatch, η = 30/fan-in, "
        "unrectified).",
        "",
        *HEADER,
        *variant_lines,
        "",
        "Δ mean: snnsim's mean minus the paper's, over the finished runs only (finished: finished runs / run folders). "
        "Epochs: the training examples of the finished runs / 60 000. Alignment: the angle between each learning "
        "hidden layer's teaching signal and backprop's (`alignment.csv`, mean of the last 10 measurements, averaged "
        "over seeds; 0° for BP itself). Lowest class per seed, in the order of the seeds column: every class the "
        "seed's final test got less than half right (a class the network lost), or else the class it got least "
        "right, with its % right (`confusion.csv`; — for runs made before snnsim wrote it whose checkpoints were "
        "not kept). Every row was run with:",
        "",
        "```sh",
        *commands,
        "```",
        "",
        END,
    ]
    write_section(results_md, BEGIN, END, lines, "## Table 2, every row (scripts/table2.sh)")
    write_section(readme_md, SUMMARY_BEGIN, SUMMARY_END, summary_lines(rows, runs_by_name), "## Results")


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
