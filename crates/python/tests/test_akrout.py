"""Feedback that learns (Akrout et al. 2019, SPEC §6) from Python: the reference protocol's model files run, the
feedback matrices learn as their rule says, and the probe's δ angles arrive as numpy fields, the same as the command
line's."""

import numpy as np
import pytest

import snnsim
from conftest import cli, needs_data, sets

# The reference protocol shortened: 20 minibatches of 128 per epoch, two epochs, a probe of 10 images.
SHORT = {
    "data.train_limit": 2560,
    "data.test_limit": 500,
    "protocol.epochs": 2,
    "protocol.curve_every": 2560,
    "protocol.curve_test_examples": 500,
    "protocol.alignment_probe": 10,
    "data.download": False,
}


def angle(a, b):
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return np.degrees(np.arccos(np.clip(a @ b / np.sqrt((a @ a) * (b @ b)), -1.0, 1.0)))


@needs_data
def test_kolen_pollack_from_python_aligns_b_and_logs_the_probe(tmp_path):
    kp = snnsim.run("models/akrout_mnist_kp.ron", set=SHORT, out=tmp_path / "kp")
    fa = snnsim.run("models/akrout_mnist_fa.ron", set=SHORT, out=tmp_path / "fa")
    for run in (kp, fa):
        rows = run.alignment
        assert list(rows["examples"]) == [2560, 5120]
        assert np.isfinite(rows["probe_first_deg"]).all() and np.isfinite(rows["probe_mean_deg"]).all()
    assert (kp.alignment["probe_mean_deg"] < fa.alignment["probe_mean_deg"]).all(), "KP's δ is nearer backprop's"
    # KP's B takes W's increments: it ends closer to W^T than FA's fixed B, in the file and in alignment.csv.
    (_, (w2, _)) = kp.weights()
    b_kp = kp.feedback()["hidden1"]
    (_, (w2_fa, _)) = fa.weights()
    b_fa = fa.feedback()["hidden1"]
    assert b_kp.shape == w2.T.shape
    assert angle(w2.T, b_kp) < angle(w2_fa.T, b_fa) - 10.0
    assert abs(angle(w2.T, b_kp) - kp.alignment["weight_angle_deg"][-1]) < 0.01

    # The command line gives the same numbers for the same model and seed.
    cli("run", "models/akrout_mnist_kp.ron", *sets(SHORT), "--out", str(tmp_path / "cli"), "-q")
    again = snnsim.Run(tmp_path / "cli")
    assert np.array_equal(again.alignment["probe_first_deg"], kp.alignment["probe_first_deg"])
    assert np.array_equal(again.curve["test_accuracy"], kp.curve["test_accuracy"])


def test_a_feedback_rule_that_cannot_run_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="learning.feedback.KolenPollack.decay"):
        snnsim.check("models/akrout_mnist_kp.ron", set={"learning.feedback": "KolenPollack(decay: -0.5)"})
