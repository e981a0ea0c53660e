"""scripts/table2_report.py against run folders made up for the test: which runs count, the numbers of a row, the
lost classes, the variants beside their paper row, and the sections it rewrites in docs/results.md and the README."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import table2_report  # noqa: E402

ROWS = [
    # name, model, overrides, paper, range, kind, row, of
    ("net_bp", "net_bp", "-", "98.00", "-", "rate", "BP · test net · depth 2", "-"),
    ("net_lif", "net_lif", "-", "96.00", "95.90–96.10", "lif", "LIF-BA · test net · depth 2 (γ = α)", "-"),
    ("net_bp_soft", "net_bp", "learning.rectifier_noise_sd=5.0", "98.00", "-", "rate-variant",
     "BP · test net · depth 2 — variant: rectifier softened (noise sd 5)", "net_bp"),
    ("net_lif_gamma", "net_lif_gamma", "-", "96.00", "95.90–96.10", "lif-variant",
     "LIF-BA · test net · depth 2 — variant: γ = 0.034", "net_lif"),
    ("net_bp_onestep", "net_bp_onestep", "-", "98.00", "-", "rate-onestep",
     "BP · test net · depth 2 — variant: one step per minibatch, η = 30/fan-in", "net_bp"),
]


def write_rows(path):
    with open(path, "w") as f:
        f.write("#name\tmodel\toverrides\tpaper\trange\tkind\trow\tof\n")
        for row in ROWS:
            f.write("\t".join(row) + "\n")


def make_run(root, folder, seed, accuracy, status="finished", per_class=None, angles=None, wall_s=600.0):
    """A run folder as `snnsim run` leaves it: summary.json, and confusion.csv and alignment.csv when given."""
    d = root / folder
    d.mkdir(parents=True)
    summary = {
        "status": status,
        "seed": seed,
        "commit": f"c0ffee{seed}",
        "train_examples_seen": 1_800_000 if status == "finished" else 60_000,
        "test_accuracy": accuracy if status == "finished" else None,
        "wall_s": wall_s,
    }
    (d / "summary.json").write_text(json.dumps(summary))
    if per_class is not None:
        lines = ["label,examples,correct,accuracy"]
        lines += [f"{label},100,{round(100 * a)},{a}" for label, a in enumerate(per_class)]
        (d / "confusion.csv").write_text("\n".join(lines) + "\n")
    if angles is not None:
        lines = ["examples,population,angle_deg,samples"]
        lines += [f"{1000 * (i + 1)},hidden1,{a},100" for i, a in enumerate(angles)]
        (d / "alignment.csv").write_text("\n".join(lines) + "\n")
    return d


@pytest.fixture
def tree(tmp_path):
    out, kept = tmp_path / "out", tmp_path / "kept"
    healthy = [0.9] * 10
    lost_4 = [0.9] * 4 + [0.0] + [0.9] * 5
    # Paper row: two finished seeds kept, a third in progress in $OUT, and a stale unfinished copy of seed 1 in $OUT
    # that the kept finished copy must win over.
    make_run(kept, "net_bp-seed1", 1, 0.9700, per_class=healthy, angles=[0.0] * 12)
    make_run(kept, "net_bp-seed2", 2, 0.8800, per_class=lost_4, angles=[0.0] * 12)
    make_run(out, "net_bp-seed1", 1, None, status="interrupted")
    make_run(out, "net_bp-seed3", 3, None, status="interrupted")
    make_run(out, "net_bp-seed3.unfinished", 3, 0.5)  # set aside by --skip-finished: never counts
    # LIF row: no confusion.csv (runs made before snnsim wrote it).
    for seed, acc in ((1, 0.9650), (2, 0.9640), (3, 0.9660)):
        make_run(kept, f"net_lif-seed{seed}", seed, acc, wall_s=3000.0)
    make_run(out, "net_bp_soft-seed1", 1, 0.9770, per_class=healthy)
    make_run(kept, "net_lif_gamma-seed1", 1, 0.9630)
    make_run(kept, "net_lif_gamma-seed2", 2, 0.9634)
    results, readme, rows = tmp_path / "results.md", tmp_path / "README.md", tmp_path / "rows.tsv"
    results.write_text("# Results\n\nbefore\n\n<!-- table2:begin -->\nold\n<!-- table2:end -->\n\nafter\n")
    readme.write_text("# x\n\nintro\n\n<!-- table2-summary:begin -->\nold\n<!-- table2-summary:end -->\n\nrest\n")
    write_rows(rows)
    table2_report.main(str(results), str(readme), str(rows), str(out), str(kept))
    return results.read_text(), readme.read_text()


def line_of(text, label):
    lines = [line for line in text.splitlines() if line.startswith(f"| {label} |")]
    assert len(lines) == 1, (label, lines)
    return [cell.strip() for cell in lines[0].strip("|").split("|")]


def test_a_paper_row_counts_its_finished_seeds_only(tree):
    results, _ = tree
    cells = line_of(results, "BP · test net · depth 2")
    # model, paper, mean, range, seeds, finished / folders, epochs, Δ, wall, alignment, lowest class, commits
    assert cells[1] == "`models/net_bp.ron`"
    assert cells[3] == "**92.50**"  # (97.00 + 88.00) / 2
    assert cells[4] == "88.00–97.00"
    assert cells[5] == "1,2"
    assert cells[6] == "2/3"  # seeds 1 and 2 finished; seed 3 in progress; the .unfinished folder ignored
    assert cells[7] == "30"
    assert cells[8] == "-5.50"
    assert cells[9] == "10.0 min"
    assert cells[10] == "hidden1 0°"
    assert cells[11] == "0: 90.0 · 4: 0.0"  # seed 1's weakest class; seed 2 lost the 4s
    assert cells[12] == "c0ffee1 c0ffee2"


def test_a_row_without_runs_says_so(tmp_path):
    rows = tmp_path / "rows.tsv"
    write_rows(rows)
    results, readme = tmp_path / "results.md", tmp_path / "README.md"
    table2_report.main(str(results), str(readme), str(rows), str(tmp_path / "none"))
    cells = line_of(results.read_text(), "BP · test net · depth 2")
    assert cells[2:] == ["98.00", "—", "—", "—", "not run", "—", "—", "—", "—", "—", "—"]
    summary = line_of(readme.read_text(), "BP · test net · depth 2")
    assert summary[3:] == ["—", "—", "0", "—", "—"]


def test_the_readme_summary_puts_each_variant_beside_its_paper_row(tree):
    _, readme = tree
    bp = line_of(readme, "BP · test net · depth 2")
    assert bp[1:] == [
        "`net_bp`", "98.00", "**92.50**", "-5.50", "2 (+1 unfinished)", "1 of 2",
        "rectifier softened (noise sd 5): 97.70 (1)",  # the one-step variant has no finished run: left out
    ]
    lif = line_of(readme, "LIF-BA · test net · depth 2 (γ = α)")
    # No confusion.csv: lost classes unknown; the γ = 0.034 variant beside the row its `of` column names.
    assert lif[1:] == ["`net_lif`", "96.00", "**96.50**", "+0.50", "3", "—", "γ = 0.034: 96.32 (2)"]
    # The summary has one line per paper row and none for a variant.
    assert sum(1 for line in readme.splitlines() if line.startswith("| ") and "·" in line) == 2


def test_only_the_marked_sections_are_rewritten(tree):
    results, readme = tree
    assert results.startswith("# Results\n\nbefore\n\n<!-- table2:begin -->")
    assert results.endswith("<!-- table2:end -->\n\nafter\n")
    assert "\nold\n" not in results
    assert readme.startswith("# x\n\nintro\n\n<!-- table2-summary:begin -->")
    assert readme.endswith("<!-- table2-summary:end -->\n\nrest\n")
    assert "\nold\n" not in readme
    # The variants go to the variants table of results.md, not to the paper's rows.
    paper_part, variant_part = results.split("**Variants**", 1)
    assert "— variant:" not in paper_part
    assert "| BP · test net · depth 2 — variant: rectifier softened (noise sd 5) |" in variant_part


def test_a_malformed_rows_file_is_refused(tmp_path):
    rows = tmp_path / "rows.tsv"
    rows.write_text("net_bp\tnet_bp\t-\t98.00\n")
    with pytest.raises(SystemExit, match="expected 8 tab-separated columns"):
        table2_report.read_rows(str(rows))
    rows.write_text("net_bp\tnet_bp\t-\t98.00\t-\tspiking\tBP\t-\n")
    with pytest.raises(SystemExit, match="unknown kind 'spiking'"):
        table2_report.read_rows(str(rows))
    rows.write_text("net_bp\tnet_bp\t-\t98.00\t-\trate-variant\tBP — variant: x\tnet_fa\n")
    with pytest.raises(SystemExit, match="variant net_bp is of 'net_fa', which is not a paper row"):
        table2_report.read_rows(str(rows))
