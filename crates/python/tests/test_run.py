"""`snnsim.run`, `snnsim.resume` and `snnsim.check` against the command line: the same bits for the same model and
seed, the callback at every curve point, interrupts that leave a resumable run, and the command line's errors."""

import contextlib
import csv
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import snnsim
from conftest import REPO, SMALL, cli, cli_binary, needs_data, sets


def curve_without_elapsed(folder: Path):
    with open(folder / "curve.csv", newline="") as f:
        rows = list(csv.reader(f))
    elapsed = rows[0].index("elapsed_s")
    return [row[:elapsed] + row[elapsed + 1 :] for row in rows]


def h5_contents(path: Path):
    """Every dataset (and every attribute of the example groups) of an HDF5 file, by path."""
    out = {}
    with h5py.File(path, "r") as f:

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
            else:
                for k, v in obj.attrs.items():
                    out[f"{name}@{k}"] = v

        f.visititems(visit)
    return out


def assert_same_h5(a: Path, b: Path, skip=("commit",)):
    ca, cb = h5_contents(a), h5_contents(b)
    assert sorted(ca) == sorted(cb)
    for key in ca:
        if any(key.endswith("@" + s) for s in skip):
            continue
        assert np.array_equal(np.asarray(ca[key]), np.asarray(cb[key])), key


def assert_same_run(a: Path, b: Path):
    assert curve_without_elapsed(a) == curve_without_elapsed(b)
    sa, sb = snnsim.Run(a).summary, snnsim.Run(b).summary
    for field in ["status", "test_accuracy", "test_examples", "train_examples_seen", "seed", "model_hash"]:
        assert sa[field] == sb[field], field
    assert (a / "alignment.csv").read_text() == (b / "alignment.csv").read_text()
    assert_same_h5(a / "weights.h5", b / "weights.h5")
    if (a / "rasters.h5").exists() or (b / "rasters.h5").exists():
        assert_same_h5(a / "rasters.h5", b / "rasters.h5")


@needs_data
@pytest.mark.parametrize(
    "model, overrides",
    [
        ("models/small_lif_ba.ron", SMALL),
        (
            "models/small_lillicrap_spiking.ron",
            {"data.train_limit": 300, "data.test_limit": 100, "protocol.curve_every": 100,
             "protocol.batch_size": 3, "record.train_examples": [0, 1, 299]},
        ),
    ],
)
def test_run_writes_what_the_command_line_writes_bit_for_bit(tmp_path, model, overrides):
    cli("run", model, "--out", str(tmp_path / "cli"), "-q", "--seed", "11", *sets(overrides))
    run = snnsim.run(model, set=overrides, seed=11, out=tmp_path / "py", threads=1)
    assert run.status == "finished"
    assert run.summary["threads"] == 1
    assert_same_run(tmp_path / "cli", tmp_path / "py")


@needs_data
def test_the_callback_sees_every_curve_point_as_it_is_written(tmp_path):
    seen = []
    run = snnsim.run("models/small_lif_ba.ron", set=SMALL, out=tmp_path / "r", on_curve=seen.append)
    curve = run.curve
    assert [p["examples"] for p in seen] == list(curve["examples"]) == [0, 50, 100]
    assert [p["test_accuracy"] for p in seen] == pytest.approx(list(curve["test_accuracy"]), abs=1e-6)
    assert set(seen[0]) == {
        "examples",
        "epoch",
        "test_accuracy",
        "test_examples",
        "train_accuracy",
        "elapsed_s",
        "test_nse",
    }


def interrupt_at(examples: int, exception: BaseException):
    def on_curve(point):
        if point["examples"] == examples:
            raise exception

    return on_curve


@needs_data
def test_an_interrupt_leaves_a_run_the_command_line_resumes_to_the_uninterrupted_result(tmp_path):
    cli("run", "models/small_lif_ba.ron", "--out", str(tmp_path / "whole"), "-q", *sets(SMALL))
    with pytest.raises(KeyboardInterrupt) as caught:
        snnsim.run("models/small_lif_ba.ron", set=SMALL, out=tmp_path / "cut", on_curve=interrupt_at(50, KeyboardInterrupt()))
    run = caught.value.run
    assert run.path == tmp_path / "cut"
    assert run.status == "interrupted"
    assert run.summary["train_examples_seen"] == 50
    assert (run.path / "checkpoint.bin").exists() and not (run.path / "weights.h5").exists()
    assert any("snnsim run --resume" in note for note in caught.value.__notes__)
    # The network of an interrupted run is read from its checkpoint.
    assert [w.shape for w, _ in run.weights()] == [(100, 784), (10, 100)]
    cli("run", "--resume", str(run.path), "-q")
    assert run.status == "finished"
    assert_same_run(tmp_path / "whole", tmp_path / "cut")


@needs_data
def test_an_exception_in_the_callback_stops_the_run_and_is_raised_as_it_was(tmp_path):
    class Mine(Exception):
        pass

    with pytest.raises(Mine) as caught:
        snnsim.run("models/small_lif_ba.ron", set=SMALL, out=tmp_path / "r", on_curve=interrupt_at(0, Mine("stop")))
    assert caught.value.run.status == "interrupted"
    done = snnsim.resume(tmp_path / "r")
    assert done.status == "finished"
    assert done.curve["examples"].tolist() == [0, 50, 100]


@needs_data
def test_skip_finished_resumes_an_interrupted_run_returns_a_finished_one_and_leaves_a_busy_one_alone(tmp_path):
    folder = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        snnsim.run("models/small_lif_ba.ron", set=SMALL, out=folder, on_curve=interrupt_at(50, KeyboardInterrupt()))
    done = snnsim.run("models/small_lif_ba.ron", set=SMALL, out=folder, skip_finished=True)
    assert done.status == "finished"
    assert [r["from_examples"] for r in done.summary["resumes"]] == [50]
    before = (folder / "summary.json").read_bytes()
    again = snnsim.run("models/small_lif_ba.ron", set=SMALL, out=folder, skip_finished=True)
    assert again.path == folder and (folder / "summary.json").read_bytes() == before, "a finished run is not rerun"
    changed = {**SMALL, "learning.momentum": 0.5}
    with pytest.raises(OSError, match=r"holds a run of another model.*`learning\.momentum` = 0\.9 .* gives 0\.5"):
        snnsim.run("models/small_lif_ba.ron", set=changed, out=folder, skip_finished=True)
    assert (folder / "summary.json").read_bytes() == before, "the folder is left as it was"
    with pytest.raises(ValueError, match=r"threads=0: 0 worker threads: expected 1 to"):
        snnsim.run("models/small_lif_ba.ron", set=SMALL, out=folder, skip_finished=True, threads=0)
    with pytest.raises(ValueError, match="needs out"):
        snnsim.run("models/small_lif_ba.ron", set=SMALL, skip_finished=True)

    # A folder held by another process (a shell's flock on the run's lock file stands in for a running snnsim).
    busy = tmp_path / "busy"
    busy.mkdir()
    lock = busy / ".snnsim-run.lock"
    lock.write_text("pid 4242 since a test\n")
    holder = subprocess.Popen(["flock", "-x", str(lock), "sleep", "30"])
    try:
        import time

        for _ in range(100):  # until the holder has the lock
            probe = subprocess.run(["flock", "-n", "-x", str(lock), "true"])
            if probe.returncode != 0:
                break
            time.sleep(0.05)
        with pytest.raises(BlockingIOError, match="another snnsim process.*pid 4242"):
            snnsim.run("models/small_lif_ba.ron", set=SMALL, out=busy, skip_finished=True)
        assert sorted(p.name for p in busy.iterdir()) == [".snnsim-run.lock"], "nothing written"
    finally:
        holder.kill()
        holder.wait()


@needs_data
def test_a_missing_data_folder_is_an_os_error_that_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SNNSIM_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(OSError, match="nowhere"):
        snnsim.run("models/small_lif_ba.ron", set=SMALL, out=tmp_path / "r")
    assert snnsim.Run(tmp_path / "r").status == "failed"


def corpus():
    for path in sorted((REPO / "tests" / "corpus" / "models").glob("*.ron")):
        first = path.read_text(errors="replace").splitlines()[0]
        m = re.match(r"// expect: (.*)", first)
        if m:
            yield path, m.group(1).strip()


@pytest.mark.parametrize("path, expected", list(corpus()), ids=lambda v: getattr(v, "name", ""))
def test_check_raises_value_error_with_the_command_lines_message(path, expected):
    with pytest.raises(ValueError) as caught:
        snnsim.check(path)
    assert expected in str(caught.value)
    done = subprocess.run([str(cli_binary()), "check", str(path)], capture_output=True, text=True)
    assert done.returncode != 0
    assert str(caught.value) in done.stderr


def test_a_missing_model_file_is_a_file_not_found_error_that_names_it(tmp_path):
    missing = tmp_path / "no_such_model.ron"
    for call in (lambda: snnsim.check(missing), lambda: snnsim.run(missing, out=tmp_path / "r")):
        with pytest.raises(FileNotFoundError, match="no_such_model.ron: cannot read the model file"):
            call()
    assert not (tmp_path / "r").exists(), "no run folder for a model that could not be read"


def test_check_returns_the_resolved_model_with_overrides_applied():
    model = snnsim.check(
        "models/small_lif_ba.ron",
        set={"protocol.epochs": 3, "network.layers": [784, 50, 10], "learning.algorithm": "DF",
             "protocol.shuffle": False, "learning.momentum": 0.5},
    )
    assert model["protocol"]["epochs"] == 3
    assert model["network"]["layers"] == [784, 50, 10]
    assert model["learning"]["algorithm"] == "DF"
    assert model["protocol"]["shuffle"] is False
    assert model["learning"]["momentum"] == 0.5
    assert model["protocol"]["dt"] == 0.25  # a default filled in


def test_an_override_that_is_not_a_field_or_not_convertible_is_refused():
    with pytest.raises(ValueError, match="protocol.epoch"):
        snnsim.check("models/small_lif_ba.ron", set={"protocol.epoch": 3})
    with pytest.raises(TypeError, match="RON text"):
        snnsim.check("models/small_lif_ba.ron", set={"protocol.epochs": {"a": 1}})


@needs_data
def test_ctrl_c_stops_a_run_cleanly_and_the_command_line_resumes_it(tmp_path):
    import os
    import signal
    import sys

    folder = tmp_path / "r"
    script = (
        "import snnsim\n"
        f"snnsim.run('models/small_lif_ba.ron', set={{'data.train_limit': 3000, 'data.test_limit': 100, "
        f"'protocol.curve_every': 1000, 'data.download': False}}, out={str(folder)!r}, threads=1, "
        "on_curve=lambda p: print('curve', p['examples'], flush=True))\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    assert child.stdout.readline().split() == ["curve", "0"]
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode != 0 and "KeyboardInterrupt" in err, err
    assert "snnsim run --resume" in err
    run = snnsim.Run(folder)
    assert run.status == "interrupted"
    assert 0 < run.summary["train_examples_seen"] < 3000
    cli("run", "--resume", str(folder), "-q")
    assert run.status == "finished" and run.summary["train_examples_seen"] == 3000


@contextlib.contextmanager
def sigint_raises_while_armed():
    """SIGINT raises KeyboardInterrupt inside the block only: one that comes late (a timer that fires after the call
    it was meant for) is dropped instead of stopping the whole pytest session."""
    armed = [True]

    def handler(signum, frame):
        if armed[0]:
            raise KeyboardInterrupt

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield armed
    finally:
        armed[0] = False
        signal.signal(signal.SIGINT, old)


@needs_data
def test_a_second_ctrl_c_while_a_run_stops_does_not_hide_the_first(tmp_path):
    def twice(point):
        # Two interrupts while the run is held in its callback: Python's main thread sees each within 50 ms.
        if point["examples"] == 50:
            for _ in range(2):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1.0)

    with sigint_raises_while_armed(), pytest.raises(KeyboardInterrupt) as caught:
        snnsim.run("models/small_lif_ba.ron", set=SMALL, out=tmp_path / "r", on_curve=twice, threads=1)
    # The first interrupt is the one raised, with the run attached; the second is named in a note.
    assert caught.value.run.status == "interrupted"
    if sys.version_info >= (3, 11):  # exception notes
        assert any("not raised, since the work was stopping or had failed already: KeyboardInterrupt" in n
                   for n in caught.value.__notes__), caught.value.__notes__


@needs_data
def test_ctrl_c_stops_a_test_after_its_minibatch_and_leaves_tests_csv_as_it_was(tmp_path):
    # A wide hidden layer tested on all 10 000 test images: seconds of testing, interrupted after 0.3 s.
    run = snnsim.run("models/small_lif_ba.ron", set={**SMALL, "network.layers": [784, 1000, 10]}, out=tmp_path / "r")
    before = len(run.tests())
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    with sigint_raises_while_armed():
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt) as caught:
                run.test(set={"data.test_limit": None}, threads=1)
        finally:
            timer.cancel()
            timer.join()
    if sys.version_info >= (3, 11):  # exception notes
        notes = " ".join(caught.value.__notes__)
        stopped = re.search(r"the test stopped after (\d+) of 10000 images; tests.csv was not changed", notes)
        assert stopped and int(stopped.group(1)) < 10000, notes
    assert len(run.tests()) == before
    # Nothing is left stopped: the next test runs to its end.
    assert run.test(set={"data.test_limit": 20})["test_examples"] == 20
    assert len(run.tests()) == before + 1


@needs_data
def test_a_run_tested_again_repeats_its_test_and_the_command_line_adds_to_the_same_table(tmp_path):
    run = snnsim.run("models/small_lif_ba.ron", set=SMALL, out=tmp_path / "run", seed=5)
    again = run.test()
    assert again["correct"] == round(run.summary["test_accuracy"] * 100)
    assert again["training_done"] and again["test_examples"] == 100
    # The final test's confusion matrix: every test image once, the right answers on the diagonal; the test made
    # again repeats it.
    confusion = run.confusion
    assert confusion.shape == (10, 11) and confusion.sum() == 100
    assert np.trace(confusion) == again["correct"]
    assert np.array_equal(again["confusion"], confusion)
    other = run.test(set={"protocol.ties": "Lowest", "data.test_limit": 40})
    assert other["test_examples"] == 40 and other["overrides"] == ["protocol.ties=Lowest", "data.test_limit=40"]
    cli("test", str(run.path), "-q", "--set", "data.test_limit=40", "--set", "protocol.ties=Lowest")
    tests = run.tests()
    assert list(tests["test_examples"]) == [100, 40, 40]
    assert tests["correct"][1] == tests["correct"][2] == other["correct"]
    assert tests["overrides"][0] == [] and tests["overrides"][1] == ["protocol.ties=Lowest", "data.test_limit=40"]
    with pytest.raises(ValueError, match="learning.momentum"):
        run.test(set={"learning.momentum": 0.5})
    assert len(run.tests()) == 3


def test_bad_arguments_are_named_before_anything_runs(tmp_path):
    model = "models/small_lif_ba.ron"
    with pytest.raises(TypeError, match="set: expected a mapping"):
        snnsim.check(model, set=[("protocol.epochs", 1)])
    with pytest.raises(TypeError, match="`protocol`: cannot write dict"):
        snnsim.check(model, set={"protocol": {"dt": 0.5}})
    resolved = snnsim.check(model, set={"protocol.shuffle": np.bool_(False), "network.layers": np.array([784, 50, 10])})
    assert resolved["network"]["layers"] == [784, 50, 10] and resolved["protocol"]["shuffle"] is False
    for kwargs, error, message in [
        ({"seed": "3"}, TypeError, "seed: expected an int"),
        ({"seed": -1}, ValueError, "seed=-1"),
        ({"threads": True}, TypeError, "threads: expected an int"),
        ({"threads": -1}, ValueError, "threads=-1"),
        ({"threads": 2**70}, ValueError, "threads="),
        ({"on_curve": 5}, TypeError, "on_curve: expected a function"),
    ]:
        with pytest.raises(error, match=message):
            snnsim.run(model, out=tmp_path / "r", **kwargs)
    assert not (tmp_path / "r").exists(), "nothing is written for a refused call"


def test_a_damaged_summary_is_named_and_the_run_still_shows(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "summary.json").write_text('{"status": "fini')
    run = snnsim.Run(folder)
    assert "not valid JSON" in repr(run)
    with pytest.raises(OSError, match="summary.json: not valid JSON"):
        run.status
    (folder / "summary.json").write_text("[1, 2]")
    with pytest.raises(OSError, match="not a run summary"):
        run.summary
