//! The projection's forward drive and three-factor update against straightforward loops (SPEC §2.2).

use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_plasticity::{InitParams, LowRankIota, Projection, Update};

fn random(rows: usize, cols: usize, rng: &mut Xoshiro256PlusPlus) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0f32..1.0))
}

#[test]
fn drive_and_momentum_update_match_scalar_loops() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let (batch, pre, post) = (5, 7, 300); // post spans three parallel blocks
    let w = random(post, pre, &mut rng);
    let b = Array1::from_shape_simple_fn(post, || rng.random_range(-1.0f32..1.0));
    let mut p = Projection::new(w.clone(), b.clone());
    let a = random(batch, pre, &mut rng);
    let mut v = Array2::zeros((batch, post));
    p.drive_into(a.view(), &mut v);
    for e in 0..batch {
        for i in 0..post {
            let expect: f64 = (0..pre)
                .map(|j| f64::from(w[[i, j]]) * f64::from(a[[e, j]]))
                .sum::<f64>()
                + f64::from(b[i]);
            assert!((f64::from(v[[e, i]]) - expect).abs() < 1e-5);
        }
    }

    // Two updates with momentum μ = 0.9 and the mean over the batch, checked by hand-written loops.
    let (mu, scale) = (0.9f32, 1.0 / batch as f32);
    let mut w_ref = w.mapv(f64::from);
    let mut b_ref = b.mapv(f64::from);
    let mut dw_ref = Array2::<f64>::zeros((post, pre));
    let mut db_ref = Array1::<f64>::zeros(post);
    for _ in 0..2 {
        let iota = random(batch, post, &mut rng);
        p.learn(iota.view(), a.view(), Update::new(mu, scale));
        for i in 0..post {
            for j in 0..pre {
                let g: f64 = (0..batch).map(|e| f64::from(iota[[e, i]]) * f64::from(a[[e, j]])).sum();
                dw_ref[[i, j]] = f64::from(mu) * dw_ref[[i, j]] - f64::from(scale) * g;
                w_ref[[i, j]] += dw_ref[[i, j]];
            }
            let g: f64 = (0..batch).map(|e| f64::from(iota[[e, i]])).sum();
            db_ref[i] = f64::from(mu) * db_ref[i] - f64::from(scale) * g;
            b_ref[i] += db_ref[i];
        }
    }
    for ((x, y), (dx, dy)) in p.w.iter().zip(w_ref.iter()).zip(p.dw.iter().zip(dw_ref.iter())) {
        assert!((f64::from(*x) - y).abs() < 1e-5 && (f64::from(*dx) - dy).abs() < 1e-5);
    }
    for (x, y) in p.b.iter().zip(b_ref.iter()) {
        assert!((f64::from(*x) - y).abs() < 1e-5);
    }
}

/// SPEC §2.3: with inputs of the assumed statistics (a = α v, v of mean 8 and std 10), the initialised drive has mean
/// ≈ 8 and standard deviation ≈ 10, for the fan-ins of the MNIST networks.
#[test]
fn initialisation_gives_drive_mean_8_std_10() {
    let init = InitParams::SAMADI;
    for fan_in in [784usize, 1000, 630, 370] {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(fan_in as u64);
        let cells = 400;
        let w = init.uniform_matrix(cells, fan_in, fan_in, &mut rng).unwrap();
        let p = Projection::new(w, Array1::from_elem(cells, init.b_mean as f32));
        // Inputs a = α v with v ~ Normal(8, 10) (Box–Muller from the seeded stream).
        let examples = 200;
        let a = Array2::from_shape_simple_fn((examples, fan_in), || {
            let (u1, u2): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            (init.alpha * (init.v_mean + init.v_std * z)) as f32
        });
        let mut v = Array2::zeros((examples, cells));
        p.drive_into(a.view(), &mut v);
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let std = (v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!((mean - 8.0).abs() < 0.4, "fan-in {fan_in}: mean {mean}");
        assert!((std - 10.0).abs() < 0.5, "fan-in {fan_in}: std {std}");
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let w = random(1000, 784, &mut rng);
    let a = random(100, 784, &mut rng);
    let iota = random(100, 1000, &mut rng);
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut p = Projection::new(w.clone(), Array1::zeros(1000));
            let mut v = Array2::zeros((100, 1000));
            p.drive_into(a.view(), &mut v);
            p.learn(iota.view(), a.view(), Update::new(0.9, 0.01));
            (v, p)
        })
    };
    assert_eq!(run(1), run(2));
}

/// A teaching signal of low rank (DF's `ι = η e Bᵀ`) handed as its factors makes the update the dense product makes
/// with ι formed, with momentum and weight decay, over several blocks of post cells, and the same bits at any thread
/// count; a 1 % error of the gain is caught.
#[test]
fn a_low_rank_update_equals_the_dense_one() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(23);
    let (batch, pre, post, rank) = (20, 30, 300, 4);
    let w = random(post, pre, &mut rng);
    let a = random(batch, pre, &mut rng);
    let steps: Vec<(Array2<f32>, Array2<f32>)> = (0..3)
        .map(|_| (random(batch, rank, &mut rng), random(post, rank, &mut rng)))
        .collect();
    let update = Update::new(0.9, 1.0 / batch as f32).with_decay(1e-3);
    let run = |gain_error: f32| {
        let (mut dense, mut low) = (
            Projection::new(w.clone(), Array1::zeros(post)),
            Projection::new(w.clone(), Array1::zeros(post)),
        );
        let mut projected = Array2::zeros((rank, pre));
        for (coeff, basis) in &steps {
            let gain = 0.3;
            let iota = gain * coeff.dot(&basis.t());
            dense.learn(iota.view(), a.view(), update);
            let factors = LowRankIota::new(coeff.view(), basis.view(), gain * gain_error);
            low.learn_low_rank(iota.view(), factors, a.view(), &mut projected, update);
        }
        (dense, low)
    };
    let worst = |x: &Array2<f32>, y: &Array2<f32>| x.iter().zip(y).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    let (dense, low) = run(1.0);
    let change = worst(&dense.w, &w);
    assert!(change > 0.1, "the weights changed ({change})");
    assert!(
        worst(&dense.w, &low.w) < 1e-5 * change.max(1.0),
        "W: {}",
        worst(&dense.w, &low.w)
    );
    assert!(
        worst(&dense.dw, &low.dw) < 1e-5 * change.max(1.0),
        "ΔW: {}",
        worst(&dense.dw, &low.dw)
    );
    assert_eq!(dense.b, low.b, "the biases are summed from ι by both");
    let (dense, wrong) = run(1.01);
    assert!(
        worst(&dense.w, &wrong.w) > 1e-3 * change,
        "a 1 % error of the gain is seen"
    );
    let on = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run(1.0).1)
    };
    assert_eq!(on(1), on(2));
}

/// The per-block pieces of the simulator's step give the whole projection's results: post blocks (rows of W) learn
/// exactly as `Projection::learn`; pre blocks (columns of W) and the partial drives summed over blocks agree with it
/// to float rounding (their sums run in another order).
#[test]
fn block_views_equal_the_whole_projection() {
    // 7 cells above: the read-out's dot products; 20: a matrix product (above READOUT_MAX_OUTPUTS).
    for post in [7, 20] {
        block_views_equal_the_whole_projection_of(post);
    }
}

fn block_views_equal_the_whole_projection_of(post: usize) {
    use ndarray::{Axis, s};
    use rayon::prelude::*;
    use snn_plasticity::projection::{READOUT_MAX_OUTPUTS, learn_biases, partial_drive};
    assert!((post <= READOUT_MAX_OUTPUTS) == (post == 7));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let (examples, pre, width) = (6, 11, 3);
    let base = Projection::new(random(post, pre, &mut rng), Array1::from_elem(post, 0.3));
    let (a_pre, iota) = (random(examples, pre, &mut rng), random(examples, post, &mut rng));
    let close =
        |x: &Array2<f32>, y: &Array2<f32>| x.iter().zip(y).all(|(a, b)| (a - b).abs() <= 1e-5 * a.abs().max(1.0));

    let mut whole = base.clone();
    for _ in 0..2 {
        whole.learn(iota.view(), a_pre.view(), Update::new(0.9, 0.5));
    }
    let mut rows = base.clone();
    for _ in 0..2 {
        rows.post_blocks_mut(width)
            .zip(iota.axis_chunks_iter(Axis(1), width).into_par_iter())
            .for_each(|(mut block, iota)| {
                block.learn_weights(iota, a_pre.view(), Update::new(0.9, 0.5));
                block.learn_biases(iota, Update::new(0.9, 0.5));
            });
    }
    assert!(close(&whole.w, &rows.w) && close(&whole.dw, &rows.dw));
    assert_eq!(whole.b, rows.b, "bias sums run in the same order");

    // The pre layer in blocks: the layer above's update by columns, its drive from per-block partial sums.
    let mut cols = base.clone();
    for _ in 0..2 {
        cols.pre_blocks_mut(width)
            .zip(a_pre.axis_chunks_iter(Axis(1), width).into_par_iter())
            .for_each(|(mut block, a)| block.learn_weights(iota.view(), a, Update::new(0.9, 0.5)));
        learn_biases(&mut cols.db, &mut cols.b, iota.view(), Update::new(0.9, 0.5));
    }
    assert!(close(&whole.w, &cols.w) && close(&whole.dw, &cols.dw));
    let mut partials = vec![Array2::<f32>::zeros((examples, post)); pre.div_ceil(width)];
    for (k, p) in partials.iter_mut().enumerate() {
        let c = k * width..((k + 1) * width).min(pre);
        partial_drive(
            whole.w.slice(s![.., c.clone()]),
            a_pre.slice(s![.., c]),
            &mut p.view_mut(),
        );
    }
    let (mut summed, mut direct) = (Array2::zeros((examples, post)), Array2::zeros((examples, post)));
    whole.drive_from_partials(&partials, &mut summed);
    whole.drive_into(a_pre.view(), &mut direct);
    assert!(close(&summed, &direct), "{summed} vs {direct}");
}
