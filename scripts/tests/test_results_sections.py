"""The generated sections of docs/results.md whose runs are kept in the repository are what their scripts make of
those runs now: a hand edit of a generated table, a kept run changed without the table, or a report script changed
without its table fails here. (Table 2's section also reads the runs in progress under output/table2, and the runs of
Lillicrap et al. 2016's feedback alignment section are not kept, so those two are not checked here.)"""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RESULTS = os.path.join(ROOT, "docs", "results.md")

# (markers' name, script, its arguments with RESULTS standing for the copy of docs/results.md it writes into)
SECTIONS = [
    ("lif_choices", "lif_choices_report.py", ["RESULTS", "docs/runs/lif_choices"]),
    ("lost_classes", "lost_classes_report.py", ["RESULTS", "docs/runs/lost_classes"]),
    ("class_death", "class_death_report.py", ["RESULTS", "docs/runs/class_death/dead_fractions.csv"]),
    ("deep_narrow", "deep_narrow_report.py", ["docs/runs/deep_narrow", "RESULTS"]),
    ("akrout2019", "akrout2019_report.py", ["docs/runs/akrout2019", "RESULTS", "docs/figures"]),
    ("lillicrap_passes", "lillicrap_spiking_passes.py",
     ["RESULTS", "docs/runs/lillicrap_spiking/k100_100passes", "docs/runs/lillicrap_spiking/snapshots"]),
]


def section(text, name):
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    assert text.count(begin) == 1 and text.count(end) == 1, f"docs/results.md has no single {name} section"
    return text.split(begin, 1)[1].split(end, 1)[0]


@pytest.mark.parametrize("name,script,args", SECTIONS, ids=[s[0] for s in SECTIONS])
def test_a_generated_section_is_what_its_script_makes_of_the_kept_runs(tmp_path, name, script, args):
    copy = tmp_path / "results.md"
    shutil.copy(RESULTS, copy)
    argv = [str(copy) if a == "RESULTS" else a for a in args]
    done = subprocess.run([sys.executable, os.path.join("scripts", script), *argv], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open(RESULTS) as f:
        committed = section(f.read(), name)
    assert section(copy.read_text(), name) == committed, (
        f"docs/results.md's {name} section differs from what scripts/{script} makes of the kept runs: "
        f"run `python3 scripts/{script} {' '.join(a if a != 'RESULTS' else 'docs/results.md' for a in args)}`")
