#!/usr/bin/env python3
"""Speed of `snnsim.run` against `snnsim run` on the same model, in alternating rounds on one machine (the way
docs/performance.md compares variants): prints each round's training and test seconds from summary.json and the
ratio of the medians. Usage (from the repository root, with the package installed and the binary built):

    python scripts/python_speed.py [ROUNDS] [--set FIELD=VALUE ...]
"""

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import snnsim

MODEL = "models/mnist_lif_ba.ron"
SETS = {"data.train_limit": 3000, "data.test_limit": 1000, "protocol.epochs": 1, "protocol.curve_every": 1000}


def main() -> None:
    args = sys.argv[1:]
    rounds = int(args.pop(0)) if args and args[0].isdigit() else 3
    sets = dict(SETS)
    while args:
        flag, value = args.pop(0), args.pop(0)
        assert flag == "--set", "usage: python_speed.py [ROUNDS] [--set FIELD=VALUE ...]"
        field, text = value.split("=", 1)
        sets[field] = text
    binary = Path("target/release/snnsim")
    work = Path(tempfile.mkdtemp(prefix="snnsim-speed-"))
    times = {"cli": [], "python": []}
    for r in range(rounds):
        for side in ["cli", "python"] if r % 2 == 0 else ["python", "cli"]:
            out = work / f"{side}-{r}"
            if side == "cli":
                cmd = [str(binary), "run", MODEL, "--out", str(out), "-q"]
                for field, value in sets.items():
                    cmd += ["--set", f"{field}={snnsim._ron(value)}"]
                subprocess.run(cmd, check=True, capture_output=True)
            else:
                snnsim.run(MODEL, set=sets, out=out)
            s = json.loads((out / "summary.json").read_text())
            times[side].append((s["train_s"], s["test_s"], s["test_accuracy"]))
            print(f"round {r} {side:6}: train {s['train_s']:.2f} s, test {s['test_s']:.2f} s, "
                  f"accuracy {100 * s['test_accuracy']:.2f} %", flush=True)
    shutil.rmtree(work)
    for i, what in enumerate(["train", "test"]):
        cli = statistics.median(t[i] for t in times["cli"])
        py = statistics.median(t[i] for t in times["python"])
        print(f"median {what}: cli {cli:.2f} s, python {py:.2f} s, python/cli {py / cli:.3f}")


if __name__ == "__main__":
    main()
