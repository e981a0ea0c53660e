//! The fast paths compute the same thing as the straightforward path (issue 7): a learning first layer carried through
//! the Gram matrix of its constant input (`engine.first_layer: Gram`) against the forward product and weight update of
//! every step (`Direct`), and hidden layers fed by spikes summing the rows of their transposed weights for the active
//! inputs (`engine.spike_input: ActiveRows`) against the product with the whole 0/1 activity (`Product`). Same seed,
//! same inputs, learning on: identical spike rasters of every population on every step, and weights, biases and
//! momentum equal within float tolerance.
//!
//! Across presentations the two paths start from weights that differ by float rounding (materialised once per
//! minibatch vs. 320 increments), and spiking dynamics eventually turn such a difference into one different threshold
//! crossing: with 784 inputs the second presentation first differs at step 247, and on another machine of the same
//! kind (other float kernels picked at run time) the first presentation differed at step 271. The small networks are
//! therefore held to identical rasters over several presentations; the MNIST-sized one to identical rasters until
//! learning starts (step 80, when the two paths have still computed bit-identical drives) and, after that, to at most
//! one raster entry in a thousand differing: a wrong carry changes far more (see `a_wrong_carry_is_caught`).

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_sim::ModelFile;
use snn_sim::engine::{Phase, Watch};
use snn_sim::experiment::Experiment;
use snn_sim::recorder::RasterCapture;
use std::path::Path;

/// How closely two spiking runs must agree.
#[derive(Clone, Copy)]
enum Agreement {
    /// Identical rasters and answers on every step.
    Exact,
    /// Identical rasters before `learning_from` (the first learning step); afterwards at most `fraction` of the
    /// raster entries (step × cell) may differ, and the answers of at most `answers` examples per presentation.
    Chaotic {
        learning_from: usize,
        fraction: f64,
        answers: usize,
    },
}

fn compare(layers: &str, batch: usize, presentations: usize, inputs: usize, agreement: Agreement) {
    let depth = layers.matches(',').count().min(2);
    let (direct, gram) = compare_engines(
        layers,
        depth,
        ("first_layer", "Direct", "Gram"),
        batch,
        presentations,
        inputs,
        agreement,
    );
    assert!(!direct.first_layer_uses_gram(batch) && gram.first_layer_uses_gram(batch));
}

/// Runs `presentations` learning presentations of the same network under two values of one `engine` field
/// (`(field, straightforward, fast)`) and compares rasters, answers and weights; returns the two models.
fn compare_engines(
    layers: &str,
    depth: usize,
    engines: (&str, &str, &str),
    batch: usize,
    presentations: usize,
    inputs: usize,
    agreement: Agreement,
) -> (snn_sim::Model, snn_sim::Model) {
    compare_models(layers, depth, engines, "", batch, presentations, inputs, agreement)
}

/// [`compare_engines`], with `fast_learning` (more `learning` fields, each with a leading comma) in the fast model.
#[allow(clippy::too_many_arguments)]
fn compare_models(
    layers: &str,
    depth: usize,
    (field, plain, fast): (&str, &str, &str),
    fast_learning: &str,
    batch: usize,
    presentations: usize,
    inputs: usize,
    agreement: Agreement,
) -> (snn_sim::Model, snn_sim::Model) {
    let text = |engine: &str, learning: &str| {
        format!(
            r#"(name: "eq", seed: 21, network: (layers: {layers}), learning: (depth: {depth}{learning}),
                protocol: (batch_size: {batch}), engine: ({field}: {engine}))"#
        )
    };
    let direct = ModelFile::from_ron(&text(plain, ""), Path::new("plain.ron"))
        .unwrap()
        .check()
        .unwrap();
    let gram = ModelFile::from_ron(&text(fast, fast_learning), Path::new("fast.ron"))
        .unwrap()
        .check()
        .unwrap();
    let (mut a, mut b) = (Experiment::new(&direct).unwrap(), Experiment::new(&gram).unwrap());
    assert_eq!(a.network(), b.network(), "same seed, same initial network");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let slots: Vec<usize> = (0..batch).collect();
    let mut spikes = 0usize;
    for p in 0..presentations {
        // Inputs with the statistics of standardised MNIST pixels (mean 0.64, sd 0.8), many at the background value.
        let x = Array2::from_shape_simple_fn((batch, inputs), || {
            if rng.random_range(0.0f32..1.0) < 0.6 {
                0.2
            } else {
                rng.random_range(0.0f32..3.0)
            }
        });
        let labels: Vec<u8> = (0..batch).map(|_| rng.random_range(0u8..10)).collect();
        let (mut ca, mut cb) = (
            RasterCapture::new(&direct, &slots, direct.steps()),
            RasterCapture::new(&gram, &slots, gram.steps()),
        );
        let ans_a = a.present(x.view(), &labels, Phase::Train, &mut Watch::with(&mut ca));
        let ans_b = b.present(x.view(), &labels, Phase::Train, &mut Watch::with(&mut cb));
        let (mut entries, mut differing) = (0usize, 0usize);
        for ((slot, ra), (_, rb)) in ca.into_captures().into_iter().zip(cb.into_captures()) {
            for ((name, xa), (_, xb)) in ra.rasters.iter().zip(rb.rasters.iter()) {
                if let Some(s) = (0..xa.nrows()).find(|&s| xa.row(s) != xb.row(s)) {
                    match agreement {
                        Agreement::Chaotic { learning_from, .. } if s >= learning_from => {}
                        _ => panic!("presentation {p}, example {slot}, {name}: rasters differ first at step {s}"),
                    }
                }
                entries += xa.len();
                differing += xa.iter().zip(xb.iter()).filter(|(a, b)| a != b).count();
                spikes += xa.iter().filter(|&&s| s).count();
            }
        }
        let wrong_answers = ans_a
            .predicted
            .iter()
            .zip(&ans_b.predicted)
            .filter(|(a, b)| a != b)
            .count();
        match agreement {
            Agreement::Exact => assert_eq!(ans_a, ans_b, "presentation {p}: same answers"),
            Agreement::Chaotic { fraction, answers, .. } => {
                let seen = differing as f64 / entries as f64;
                assert!(
                    seen <= fraction,
                    "presentation {p}: {differing} of {entries} raster entries differ ({seen:.2e} > {fraction:.0e})"
                );
                assert!(
                    wrong_answers <= answers,
                    "presentation {p}: {wrong_answers} answers differ"
                );
            }
        }
    }
    assert!(spikes > 10_000, "real activity compared ({spikes} spikes)");
    let (na, nb) = (a.network(), b.network());
    for (l, (pa, pb)) in na.forward.iter().zip(&nb.forward).enumerate() {
        let close = |x: &Array2<f32>, y: &Array2<f32>, what: &str| {
            let worst = x
                .iter()
                .zip(y.iter())
                .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "layer {l} {what}: relative difference {worst}");
        };
        close(&pa.w, &pb.w, "W");
        close(&pa.dw, &pb.dw, "ΔW");
        close(
            &pa.b.clone().insert_axis(ndarray::Axis(0)),
            &pb.b.clone().insert_axis(ndarray::Axis(0)),
            "b",
        );
    }
    let initial = Experiment::new(&direct).unwrap().network().clone();
    for (l, (now, before)) in na.forward.iter().zip(&initial.forward).enumerate() {
        let learns = l + depth >= na.forward.len();
        assert_eq!(now.w != before.w, learns, "layer {l} learned: {learns}");
    }
    (direct, gram)
}

/// The MNIST-sized network's tolerance: learning starts after 20 ms (80 steps of 0.25 ms).
const MNIST_SIZED: Agreement = Agreement::Chaotic {
    learning_from: 80,
    fraction: 1e-3,
    answers: 1,
};

/// The tolerance of the MNIST-sized comparison is far tighter than any real error: a carry whose momentum differs in
/// the third digit (0.9 against 0.89, 1 % of every update after the first) fails it.
#[test]
#[should_panic(expected = "raster entries differ")]
fn a_wrong_carry_is_caught() {
    compare_models(
        "[784, 100, 10]",
        2,
        ("first_layer", "Direct", "Gram"),
        ", momentum: 0.89",
        50,
        1,
        784,
        MNIST_SIZED,
    );
}

#[test]
fn gram_carry_equals_direct_updates_small_network() {
    compare("[40, 30, 10]", 12, 3, 40, Agreement::Exact);
}

/// Without a hidden layer the carried layer is the output itself (its σ and μ^k must advance once per step).
#[test]
fn gram_carry_equals_direct_updates_without_hidden_layer() {
    compare("[40, 10]", 12, 4, 40, Agreement::Exact);
}

#[test]
fn gram_carry_equals_direct_updates_mnist_sized_input() {
    compare("[784, 100, 10]", 50, 1, 784, MNIST_SIZED);
}

/// Two hidden layers: the second sums active inputs over the first's four blocks; all three layers learn.
#[test]
fn active_input_rows_equal_the_dense_product() {
    let (plain, fast) = compare_engines(
        "[30, 630, 40, 10]",
        3,
        ("spike_input", "Product", "ActiveRows"),
        12,
        3,
        30,
        Agreement::Exact,
    );
    assert!(!plain.sums_active_inputs(1) && fast.sums_active_inputs(1));
}

/// Three hidden layers: two of them sum active inputs (one below the other), post layers in several blocks.
#[test]
fn active_input_rows_equal_the_dense_product_in_a_deep_network() {
    let (_, fast) = compare_engines(
        "[20, 300, 400, 100, 10]",
        4,
        ("spike_input", "Product", "ActiveRows"),
        10,
        2,
        20,
        Agreement::Exact,
    );
    assert!(fast.sums_active_inputs(1) && fast.sums_active_inputs(2) && !fast.sums_active_inputs(3));
}
