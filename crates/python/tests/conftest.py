"""Shared set-up of the package's tests: the repository, the shared MNIST copy, the `snnsim` command line (the
reference the package is compared with), and a small model that runs in well under a second."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# Run from the repository root, as the command line's tests do: model files name `models/...`.
os.chdir(REPO)


def _data_root():
    root = Path(os.environ.get("SNNSIM_DATA_DIR", REPO.parent / "shared" / "data"))
    if (root / "mnist" / "t10k-images-idx3-ubyte.gz").exists():
        return root.resolve()
    assert "CI" not in os.environ, "CI must provide MNIST through SNNSIM_DATA_DIR"
    return None


DATA = _data_root()
if DATA is not None:
    os.environ["SNNSIM_DATA_DIR"] = str(DATA)

needs_data = pytest.mark.skipif(DATA is None, reason="MNIST not found (set SNNSIM_DATA_DIR)")

# The small LIF model of the command line's tests, smaller still.
SMALL = {
    "data.train_limit": 100,
    "data.test_limit": 100,
    "protocol.curve_every": 50,
    "data.download": False,
}


def cli_binary() -> Path:
    path = Path(os.environ.get("SNNSIM_BIN", REPO / "target" / "release" / "snnsim"))
    if not path.exists():
        assert "CI" not in os.environ, f"{path}: build the command line first (cargo build --release)"
        pytest.skip(f"{path} not built")
    return path


def cli(*args: str) -> subprocess.CompletedProcess:
    """`snnsim ARGS` from the repository root; fails the test with its output if it fails."""
    done = subprocess.run([str(cli_binary()), *args], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, f"snnsim {' '.join(args)}: {done.stderr}"
    return done


def sets(overrides: dict) -> list:
    """`--set` arguments for the command line from the package's `set=` dict."""
    import snnsim

    out = []
    for field, value in overrides.items():
        out += ["--set", f"{field}={snnsim._ron(value)}"]
    return out
