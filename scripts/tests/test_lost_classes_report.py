"""scripts/lost_classes_report.py and the helpers it shares (run_folders.finished_runs, results_md.write_section)
against run folders made up for the test."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import lost_classes_report  # noqa: E402
from results_md import write_section  # noqa: E402


def make_run(out, folder, accuracy, per_class, no_answer=0, status="finished", commit="abc123"):
    d = out / folder
    d.mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps({"status": status, "test_accuracy": accuracy, "commit": commit}))
    lines = ["label,examples,correct,accuracy,no_answer"]
    for label, a in enumerate(per_class):
        lines.append(f"{label},100,{round(100 * a)},{a},{no_answer if label == 0 else 0}")
    (d / "confusion.csv").write_text("\n".join(lines) + "\n")


def report(tmp_path, monkeypatch):
    results = tmp_path / "results.md"
    results.write_text("# Results\n")
    monkeypatch.setattr(sys, "argv", ["lost_classes_report.py", str(results), str(tmp_path / "out")])
    lost_classes_report.main()
    return results.read_text()


def test_each_seed_its_lost_classes_and_the_totals(tmp_path, monkeypatch):
    out = tmp_path / "out"
    healthy = [0.9] * 10
    make_run(out, "spec-seed1", 0.80, [0.9] * 4 + [0.1] + [0.9] * 5, no_answer=7)
    make_run(out, "spec-seed2", 0.90, healthy)
    make_run(out, "unrectified-seed1", 0.93, healthy)
    make_run(out, "soft-seed2", 0.94, healthy, status="interrupted")  # not finished: not counted
    make_run(out, "other-seed1", 0.10, [0.0] * 10)  # not a variant of the script: not counted
    text = report(tmp_path, monkeypatch)
    assert "| 1 | 80.00 % (lost 4; 7 without an answer) | 93.00 % (none lost; 0 without an answer) | — |" in text
    assert "| 2 | 90.00 % (none lost; 0 without an answer) | — | — |" in text
    assert "| seeds that lost a class | 1 of 2 seeds | 0 of 1 seeds | — |" in text
    assert "| mean test accuracy | 85.00 % (2 seeds) | 93.00 % (1 seeds) | — |" in text
    assert "Commit of the binary: abc123." in text


def test_a_section_without_markers_is_appended_under_its_heading(tmp_path):
    md = tmp_path / "results.md"
    md.write_text("# Results\n\nkept\n")
    write_section(str(md), "<!-- x:begin -->", "<!-- x:end -->", ["<!-- x:begin -->", "one", "<!-- x:end -->"], "## X")
    assert md.read_text() == "# Results\n\nkept\n\n## X\n\n<!-- x:begin -->\none\n<!-- x:end -->\n"
    write_section(str(md), "<!-- x:begin -->", "<!-- x:end -->", ["<!-- x:begin -->", "two", "<!-- x:end -->"], "## X")
    assert md.read_text() == "# Results\n\nkept\n\n## X\n\n<!-- x:begin -->\ntwo\n<!-- x:end -->\n"
    assert not os.path.exists(str(md) + ".tmp")
