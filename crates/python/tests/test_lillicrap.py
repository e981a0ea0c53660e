"""The feedback-alignment experiments of Lillicrap et al. 2016 from Python (SPEC §5): a regression task runs without
MNIST, and the run's normalised squared error and angles arrive as numpy fields, the same as the command line's."""

import numpy as np

import snnsim
from conftest import cli, sets

# The linear task of Fig 2, shortened: 3000 examples, the NSE every 100 and the angle over windows of 10.
SHORT = {
    "data.dataset": "LinearTeacher(train_examples: 3000, test_examples: 500)",
    "protocol.curve_every": 100,
    "protocol.curve_test_examples": 500,
}


def test_the_linear_task_learns_and_reports_its_nse_and_angles(tmp_path):
    run = snnsim.run("models/lillicrap_linear_fa.ron", set=SHORT, out=tmp_path / "fa")
    curve = run.curve
    assert curve["examples"][-1] == 3000
    nse = curve["test_nse"]
    assert abs(nse[0] - 1.0) < 0.05, "an untrained net from near-zero weights answers about 0"
    assert nse[-1] < 1e-2 * nse[0], f"FA learns the linear teacher: {nse[0]} -> {nse[-1]}"
    assert run.summary["test_nse"] < 1e-2
    angles = run.alignment
    assert (angles["samples"] == 10).all()
    assert (angles["folded_deg"] <= 90.0).all()
    assert np.isfinite(angles["weight_angle_deg"]).all() and np.isfinite(angles["unit_angle_deg"]).all()
    assert angles["folded_deg"][-10:].mean() < 60.0, "FA's hidden updates align with backprop's"

    # The command line gives the same numbers for the same model and seed.
    cli("run", "models/lillicrap_linear_fa.ron", *sets(SHORT), "--out", str(tmp_path / "cli"), "-q")
    again = snnsim.Run(tmp_path / "cli")
    assert np.array_equal(again.curve["test_nse"], nse)
    assert np.array_equal(again.alignment["angle_deg"], angles["angle_deg"])
