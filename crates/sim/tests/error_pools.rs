//! The excitatory and inhibitory error pools (SPEC §2.1) as LIF populations (`error_pools: Lif(gain: G)`).

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_sim::ModelFile;
use snn_sim::engine::{Phase, Watch};
use snn_sim::experiment::Experiment;
use snn_sim::recorder::RasterCapture;
use std::path::Path;

#[test]
fn lif_pools_spike_only_after_the_error_they_carry() {
    let text = r#"(
        name: "pools", seed: 5,
        network: (layers: [8, 12, 4], error_pools: Lif(gain: 40.0)),
        learning: (depth: 2),
        record: (populations: ["output", "error_exc", "error_inh"]),
    )"#;
    let model = ModelFile::from_ron(text, Path::new("pools.ron"))
        .unwrap()
        .check()
        .unwrap();
    let mut exp = Experiment::new(&model).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let (mut exc_spikes, mut inh_spikes) = (0, 0);
    for _ in 0..3 {
        let x = Array2::from_shape_simple_fn((4, 8), || rng.random_range(0.0f32..1.6));
        let labels: Vec<u8> = (0..4).map(|_| rng.random_range(0u8..4)).collect();
        let mut cap = RasterCapture::new(&model, &[0, 1, 2, 3], model.steps());
        exp.present(x.view(), &labels, Phase::Train, &mut Watch::with(&mut cap));
        for (slot, c) in cap.into_captures() {
            let (out, exc, inh) = (&c.rasters[0].1, &c.rasters[1].1, &c.rasters[2].1);
            let label = usize::from(labels[slot]);
            for s in 0..model.steps() {
                for k in 0..4 {
                    // A pool cell crosses threshold only under positive drive, and a spike lasts 4 steps, so a pool
                    // spike at s needs its error within steps s-3..=s.
                    let window = s.saturating_sub(3)..=s;
                    if exc[[s, k]] {
                        exc_spikes += 1;
                        assert!(
                            k != label && window.clone().any(|c| out[[c, k]]),
                            "e+ at step {s} cell {k}"
                        );
                    }
                    if inh[[s, k]] {
                        inh_spikes += 1;
                        assert!(
                            k == label && window.clone().any(|c| !out[[c, k]]),
                            "e- at step {s} cell {k}"
                        );
                    }
                }
            }
        }
    }
    assert!(
        exc_spikes > 100 && inh_spikes > 100,
        "both pools active: {exc_spikes} / {inh_spikes}"
    );
}
