"""`snnsim.Run`: a run folder's tables, network and recorded examples as numpy arrays, and spike onsets that count
each spike once."""

import h5py
import numpy as np
import pytest

import snnsim
from conftest import DATA, SMALL, needs_data


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    if DATA is None:
        pytest.skip("MNIST not found (set SNNSIM_DATA_DIR)")
    folder = tmp_path_factory.mktemp("runs") / "small"
    return snnsim.run("models/small_lif_ba.ron", set=SMALL, out=folder)


def pulses(raster: np.ndarray, pulse: int) -> int:
    """Spikes in a raster of cells reset before it, counted independently of snnsim: each run of k true steps holds
    ceil(k / pulse) of them."""
    total = 0
    for column in raster.T:
        padded = np.concatenate([[False], column, [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        lengths = edges[1::2] - edges[0::2]
        total += int(np.sum(-(-lengths // pulse)))
    return total


def test_onsets_count_each_four_step_pulse_once_even_when_pulses_touch():
    raster = np.zeros((20, 3), dtype=bool)
    raster[2:6, 0] = True  # one pulse
    raster[8:16, 0] = True  # two pulses back to back
    raster[0:3, 1] = True  # the end of a pulse begun before the raster (when cells are not reset): no onset
    raster[3:7, 1] = True  # then a whole one
    raster[17:20, 2] = True  # a pulse cut off by the end of the raster
    spikes = snnsim.onsets(raster, pulse_steps=4, dt_ms=0.25, carried_in=True)
    assert spikes.step.tolist() == [2, 3, 8, 12, 17]
    assert spikes.i.tolist() == [0, 1, 0, 0, 2]
    assert spikes.t_ms.tolist() == [0.5, 0.75, 2.0, 3.0, 4.25]
    assert len(spikes.i) < raster.sum() / 3
    # Cells reset before the raster: the run at step 0 is a pulse that began there.
    reset = snnsim.onsets(raster, pulse_steps=4)
    assert reset.step.tolist() == [0, 2, 4, 8, 12, 17]
    assert reset.i.tolist() == [1, 0, 1, 0, 0, 2]


def test_one_step_spikes_are_each_an_onset():
    raster = np.random.default_rng(1).random((30, 8)) < 0.3
    spikes = snnsim.onsets(raster, pulse_steps=1)
    assert len(spikes.i) == raster.sum()
    assert raster[spikes.step, spikes.i].all()


@needs_data
def test_spikes_of_a_real_run_count_every_pulse_once(small_run):
    for example in small_run.examples():
        rasters = small_run.rasters(example)
        spikes = small_run.spikes(example)
        assert set(spikes) == set(rasters) == {"hidden1", "output", "error_exc", "error_inh"}
        for pop, raster in rasters.items():
            s = spikes[pop]
            assert len(s.i) == pulses(raster, 4), (example, pop)
            assert raster[s.step, s.i].all()
            assert np.array_equal(s.t_ms, s.step * 0.25)
            order = np.lexsort((s.i, s.step))
            assert np.array_equal(order, np.arange(len(order)))
    assert len(small_run.spikes()["hidden1"].i) > 100


@needs_data
def test_weights_are_the_weights_file_exactly_and_named(small_run):
    weights = small_run.weights()
    with h5py.File(small_run.path / "weights.h5", "r") as f:
        assert [p.decode() if isinstance(p, bytes) else p for p in f.attrs["populations"]] == [
            "input", "hidden1", "output"]
        for (w, b), post in zip(weights, ["hidden1", "output"]):
            assert w.dtype == np.float32 and b.dtype == np.float32
            assert np.array_equal(w, f[f"forward/{post}/W"][()])
            assert np.array_equal(b, f[f"forward/{post}/b"][()])
        assert np.array_equal(small_run.feedback()["hidden1"], f["feedback/hidden1/B"][()])
        assert "small_lif_ba" in f.attrs["model"]
        assert f.attrs["examples_seen"] == 100
    assert [w.shape for w, _ in weights] == [(100, 784), (10, 100)]
    assert small_run.layer_names() == [("input", "hidden1"), ("hidden1", "output")]
    assert small_run.feedback()["hidden1"].shape == (100, 10)


@needs_data
def test_tables_are_structured_arrays(small_run):
    curve = small_run.curve
    assert curve.dtype.names == (
        "examples",
        "epoch",
        "test_accuracy",
        "test_examples",
        "train_accuracy",
        "elapsed_s",
        "test_nse",
    )
    assert np.isnan(curve["test_nse"]).all(), "no NSE for classes"
    assert curve["examples"].tolist() == [0, 50, 100]
    assert np.isnan(curve["train_accuracy"][0])
    alignment = small_run.alignment
    assert set(alignment["population"]) == {"hidden1"}
    assert ((alignment["angle_deg"] > 0) & (alignment["angle_deg"] < 180)).all()
    assert (alignment["folded_deg"] <= 90).all() and (alignment["folded_deg"] <= alignment["angle_deg"] + 1e-3).all()
    pandas = pytest.importorskip("pandas")
    assert list(pandas.DataFrame(curve).columns)[:2] == ["examples", "epoch"]


@needs_data
def test_example_info_and_traces(small_run):
    info = small_run.info("test/00000")
    assert info["phase"] == "test" and info["dataset_index"] == 0 and info["steps"] == 400
    assert info["dt_ms"] == 0.25 and info["input"].shape == (784,)
    assert 0 <= info["label"] < 10
    traces = small_run.traces("test/00000")
    assert {(t.population, t.variable) for t in traces} >= {("hidden1", "h"), ("hidden1", "v")}
    h = next(t for t in traces if t.variable == "h")
    assert h.values.shape[1] == len(h.cells) and h.t_ms[1] - h.t_ms[0] == pytest.approx(0.25)
    with pytest.raises(KeyError, match="test/99999"):
        small_run.rasters("test/99999")


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        snnsim.Run(tmp_path)
