//! The trained forward network of a LIF run in the Neuromorphic Intermediate Representation (NIR 1.0, the HDF5
//! layout of the `nir` Python package: `nir.read` loads it), for snnTorch, Norse, Lava, Rockpool, Sinabs, Spyx and
//! SpiNNaker2.
//!
//! ```text
//! input ─▶ affine_hidden1 ─▶ lif_hidden1 ─▶ … ─▶ affine_output ─▶ lif_output ─▶ output
//! ```
//!
//! `Affine(W, b)` carries the drive v = W a + b of SPEC §2.1, and `LIF(tau, r = 1, v_leak = 0, v_threshold, v_reset
//! = 0)` the hillock potential, τ dh/dt = (0 − h) + 1 · v, a spike when h > h_th (SPEC §1). Time is in seconds.
//!
//! What NIR cannot express goes into the graph's metadata, and a simulator reading the file must add it by hand to
//! reproduce snnsim: the refractory period (`t_ref_s`, during which h is pinned at 0), the spike as a pulse of activity
//! 1 lasting `pulse_steps` steps of `dt_s` (NIR's spike is one event), the graded input held constant over a
//! presentation of `present_s` (standardised pixels, `input`), and the read-out (the output cell with most spikes
//! after `settle_s`). The learning machinery (error pools, feedback, plasticity) is not part of the exported network.
//! Rate and stochastic binary cells have no NIR node: their runs are refused.

use super::weights::Weights;
use crate::error::SimError;
use crate::model::{CellKind, InputScaling, Model};
use crate::network::Network;
use crate::recorder::{h5err, text};
use hdf5::types::VarLenUnicode;
use ndarray::{Array1, Array2};
use std::path::Path;

/// The NIR version whose layout is written.
pub const NIR_VERSION: &str = "1.0.0";

/// Why a run's network cannot be written as NIR, if it cannot.
pub fn unsupported(model: &Model) -> Option<String> {
    match model.cells() {
        CellKind::Lif => None,
        CellKind::Rate { .. } => Some(
            "its cells are nonspiking rate cells (a = max(0, c1 tanh(c2 v))), which NIR has no node for; \
             export its weights with `snnsim export weights` instead"
                .into(),
        ),
        CellKind::Graded(_) => Some(
            "its cells are graded units (a = f(v), linear, tanh or sigmoid), and NIR's graphs are written here for \
             LIF networks only; export its weights with `snnsim export weights` instead"
                .into(),
        ),
        CellKind::Bernoulli(_) => Some(
            "its cells are stochastic binary units (spike with probability σ(u)), which NIR has no node for; \
             export its weights with `snnsim export weights` instead"
                .into(),
        ),
    }
}

/// Writes the forward network of `network` (a LIF run of `model`) to `path` as NIR, atomically (written beside as
/// `<name>.partial`, then renamed). Refuses, naming the reason, what NIR cannot express.
pub fn write(path: &Path, model: &Model, network: &Network, examples_seen: u64) -> Result<(), SimError> {
    if let Some(why) = unsupported(model) {
        return Err(SimError::output(path, format!("cannot export this run as NIR: {why}")));
    }
    super::check_parent(path)?;
    let weights = Weights::of(model, network, examples_seen, true);
    let partial = path.with_extension("nir.partial");
    let _ = std::fs::remove_file(&partial);
    let result = write_to(&partial, model, &weights)
        .and_then(|()| std::fs::rename(&partial, path).map_err(|e| SimError::write(path, "the NIR file", &e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// A scalar string dataset (NIR writes every string, the node types among them, this way).
fn string(g: &hdf5::Group, name: &str, value: &str) -> hdf5::Result<()> {
    g.new_dataset::<VarLenUnicode>()
        .shape(())
        .create(name)?
        .write_scalar(&text(value))
}

fn scalar(g: &hdf5::Group, name: &str, value: f64) -> hdf5::Result<()> {
    g.new_dataset::<f64>().shape(()).create(name)?.write_scalar(&value)
}

fn write_to(path: &Path, model: &Model, weights: &Weights) -> Result<(), SimError> {
    let file = hdf5::File::create_excl(path).map_err(|e| h5err(path, "creating the NIR file", e))?;
    let lif = model.lif();
    let ms = 1e-3;
    let write = || -> hdf5::Result<()> {
        string(&file, "version", NIR_VERSION)?;
        let graph = file.create_group("node")?;
        string(&graph, "type", "NIRGraph")?;
        let nodes = graph.create_group("nodes")?;
        let input_size = weights.forward.first().map_or(0, |l| l.w.ncols());
        let output_size = weights.forward.last().map_or(0, |l| l.w.nrows());
        let port = |name: &str, kind: &str, size: usize| -> hdf5::Result<()> {
            let g = nodes.create_group(name)?;
            string(&g, "type", kind)?;
            g.new_dataset_builder()
                .with_data(&Array1::from_elem(1, size as i64))
                .create("shape")?;
            Ok(())
        };
        port("input", "Input", input_size)?;
        port("output", "Output", output_size)?;
        let mut edges: Vec<[String; 2]> = Vec::new();
        let mut previous = "input".to_string();
        for layer in &weights.forward {
            let affine = format!("affine_{}", layer.post);
            let g = nodes.create_group(&affine)?;
            string(&g, "type", "Affine")?;
            g.new_dataset_builder().with_data(&layer.w).create("weight")?;
            g.new_dataset_builder().with_data(&layer.b).create("bias")?;
            let cell = format!("lif_{}", layer.post);
            let g = nodes.create_group(&cell)?;
            string(&g, "type", "LIF")?;
            let n = layer.w.nrows();
            for (name, value) in [
                ("tau", f64::from(lif.tau) * ms),
                ("r", 1.0),
                ("v_leak", 0.0),
                ("v_threshold", f64::from(lif.h_th)),
                ("v_reset", 0.0),
            ] {
                g.new_dataset_builder()
                    .with_data(&Array1::from_elem(n, value))
                    .create(name)?;
            }
            edges.push([previous, affine.clone()]);
            edges.push([affine, cell.clone()]);
            previous = cell;
        }
        edges.push([previous, "output".into()]);
        let edge_table = Array2::from_shape_fn((edges.len(), 2), |(i, j)| text(&edges[i][j]));
        graph.new_dataset_builder().with_data(&edge_table).create("edges")?;
        let meta = graph.create_group("metadata")?;
        string(&meta, "source", &format!("snnsim {}", env!("CARGO_PKG_VERSION")))?;
        string(&meta, "commit", crate::run::COMMIT.unwrap_or("unknown"))?;
        string(&meta, "model", &weights.model)?;
        scalar(&meta, "seed", weights.seed as f64)?;
        scalar(&meta, "examples_seen", weights.examples_seen as f64)?;
        scalar(&meta, "dt_s", f64::from(lif.dt) * ms)?;
        scalar(&meta, "t_ref_s", f64::from(lif.t_ref) * ms)?;
        scalar(&meta, "pulse_steps", f64::from(lif.refractory_steps()))?;
        let protocol = model.protocol();
        scalar(&meta, "present_s", f64::from(protocol.present_ms) * ms)?;
        scalar(&meta, "settle_s", f64::from(protocol.settle_ms) * ms)?;
        string(
            &meta,
            "refractory",
            "after a spike the cell's activity is 1 for pulse_steps steps (t_ref_s) and its potential is pinned at \
             v_reset; NIR's LIF resets at once and emits one event",
        )?;
        let scaling = match model.data().scaling {
            InputScaling::Standardise => "pixels standardised to the training set's mean and spread (SPEC §2.3)",
            InputScaling::UnitInterval => "pixels scaled to [0, 1]",
            InputScaling::StandardiseGlobal => {
                "pixels standardised to the training set's mean and spread over all pixels"
            }
        };
        string(
            &meta,
            "input",
            &format!("graded, not spikes: {scaling}, held constant for present_s"),
        )?;
        string(
            &meta,
            "readout",
            "the class is the output cell with the most spikes after settle_s (no answer on a tie)",
        )?;
        file.flush()
    };
    write().map_err(|e| h5err(path, "writing the NIR graph", e))?;
    file.close().map_err(|e| h5err(path, "closing the NIR file", e))
}
