"""NIR export read back by the `nir` package: the chain of nodes, the trained weights exactly, the LIF fields and the
metadata of what NIR cannot express; runs whose cells NIR has no node for are refused."""

import numpy as np
import pytest

import snnsim
from conftest import SMALL, needs_data

nir = pytest.importorskip("nir")


@needs_data
def test_the_nir_file_is_the_trained_forward_network(tmp_path):
    run = snnsim.run("models/small_lif_ba.ron", set={**SMALL, "network.layers": [784, 60, 40, 10],
                                                     "learning.depth": 3}, out=tmp_path / "r")
    path = run.export_nir(tmp_path / "net.nir")
    graph = nir.read(str(path), type_check=True)
    assert isinstance(graph, nir.NIRGraph)
    chain = ["input", "affine_hidden1", "lif_hidden1", "affine_hidden2", "lif_hidden2", "affine_output",
             "lif_output", "output"]
    assert set(graph.nodes) == set(chain)
    assert sorted(graph.edges) == sorted(zip(chain, chain[1:]))
    assert isinstance(graph.nodes["input"], nir.Input) and isinstance(graph.nodes["output"], nir.Output)
    assert list(graph.nodes["input"].input_type["input"]) == [784]
    for (w, b), post in zip(run.weights(), ["hidden1", "hidden2", "output"]):
        affine = graph.nodes[f"affine_{post}"]
        assert isinstance(affine, nir.Affine)
        assert affine.weight.dtype == np.float32
        assert np.array_equal(affine.weight, w) and np.array_equal(affine.bias, b)
        lif = graph.nodes[f"lif_{post}"]
        assert isinstance(lif, nir.LIF)
        n = w.shape[0]
        assert np.array_equal(lif.tau, np.full(n, 0.02))
        assert np.array_equal(lif.r, np.ones(n)) and np.array_equal(lif.v_leak, np.zeros(n))
        assert np.array_equal(lif.v_reset, np.zeros(n))
        assert np.allclose(lif.v_threshold, 0.4)
    meta = graph.metadata
    assert meta["dt_s"] == 0.00025 and meta["t_ref_s"] == 0.001 and meta["pulse_steps"] == 4
    assert meta["settle_s"] == pytest.approx(0.02) and meta["present_s"] == pytest.approx(0.1)
    text = lambda k: meta[k].decode() if isinstance(meta[k], bytes) else meta[k]
    assert "pulse_steps" in text("refractory") and "graded" in text("input")


@needs_data
def test_stochastic_binary_runs_are_refused_with_the_reason(tmp_path):
    run = snnsim.run("models/small_lillicrap_spiking.ron", set={"data.train_limit": 50, "data.test_limit": 20,
                     "protocol.curve_every": 0, "record.train_examples": [0]}, out=tmp_path / "b")
    with pytest.raises(OSError, match="stochastic binary units"):
        run.export_nir(tmp_path / "b.nir")
    assert not (tmp_path / "b.nir").exists()
    # Its weights are there, with the decay's scale multiplied in.
    assert [w.shape for w, _ in run.weights()] == [(300, 784), (300, 300), (1000, 300)]
