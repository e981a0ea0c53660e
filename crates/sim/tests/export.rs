//! The open formats of a trained network: `weights.h5` read back equal to what was written, and the NIR file read
//! back as the graph NIR's own reader builds (node types, the chain of edges, weights, the LIF fields, metadata),
//! with what NIR cannot express refused.

use hdf5::types::VarLenUnicode;
use ndarray::{Array1, Array2};
use snn_sim::export::nir;
use snn_sim::export::weights::Weights;
use snn_sim::network::Network;
use snn_sim::seeds::Streams;
use snn_sim::{Model, ModelFile};
use std::path::Path;

fn model(text: &str) -> Model {
    ModelFile::from_ron(text, Path::new("export_test.ron"))
        .unwrap()
        .check()
        .unwrap()
}

const LIF: &str = r#"(name: "export_lif", seed: 3, network: (layers: [12, 7, 5, 4]),
    learning: (algorithm: BA, depth: 3))"#;

/// A network whose every weight differs, drawn as a run would draw it.
fn network(m: &Model) -> Network {
    let mut streams = Streams::from_seed(m.seed());
    Network::init(m, &mut streams).unwrap()
}

fn string(g: &hdf5::Group, name: &str) -> String {
    g.dataset(name)
        .unwrap()
        .read_scalar::<VarLenUnicode>()
        .unwrap()
        .as_str()
        .to_string()
}

#[test]
fn weights_file_reads_back_what_was_written_by_population_name() {
    let m = model(LIF);
    let net = network(&m);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.h5");
    let w = Weights::of(&m, &net, 1234, true);
    w.write(&path).unwrap();
    let back = Weights::read(&path).unwrap();
    assert_eq!(back, w);
    let names: Vec<(&str, &str)> = back.forward.iter().map(|l| (l.pre.as_str(), l.post.as_str())).collect();
    assert_eq!(
        names,
        [("input", "hidden1"), ("hidden1", "hidden2"), ("hidden2", "output")]
    );
    assert_eq!(back.forward[1].w, net.forward[1].w);
    assert_eq!(back.forward[2].b, net.forward[2].b);
    // Broadcast alignment: every hidden layer has a matrix straight from the output.
    assert_eq!(back.feedback.len(), 2);
    assert!(
        back.feedback
            .iter()
            .all(|f| f.reach == "broadcast" && f.from == "output")
    );
    assert_eq!(back.feedback[0].b.dim(), (7, 4));
    assert_eq!(back.examples_seen, 1234);
    assert!(!dir.path().join("weights.h5.partial").exists());
    // Written again, the file is replaced whole.
    Weights::of(&m, &net, 99, false).write(&path).unwrap();
    let again = Weights::read(&path).unwrap();
    assert_eq!((again.examples_seen, again.training_done), (99, false));
}

#[test]
fn weights_of_backprop_have_no_feedback_matrix_and_feedback_alignment_chains() {
    let bp = model(
        r#"(name: "bp", network: (layers: [6, 5, 4, 3], cells: Rate(c1: 0.82)), record: (train_examples: [], test_examples: []),
        learning: (algorithm: BP, depth: 3))"#,
    );
    assert!(Weights::of(&bp, &network(&bp), 0, true).feedback.is_empty());
    let fa = model(
        r#"(name: "fa", network: (layers: [6, 5, 4, 3], cells: Rate(c1: 0.82)), record: (train_examples: [], test_examples: []),
        learning: (algorithm: FA, depth: 3))"#,
    );
    let w = Weights::of(&fa, &network(&fa), 0, true);
    let from: Vec<(&str, &str, (usize, usize))> = w
        .feedback
        .iter()
        .map(|f| (f.hidden.as_str(), f.from.as_str(), f.b.dim()))
        .collect();
    assert_eq!(from, [("hidden1", "hidden2", (5, 4)), ("hidden2", "output", (4, 3))]);
    assert!(w.feedback.iter().all(|f| f.reach == "chained"));
}

/// Kolen-Pollack with two hidden layers: each feedback group names its rule, and the first hidden layer's holds the
/// layer-wise B_FA its broadcast B is built from; written and read back.
#[test]
fn weights_of_layer_wise_kolen_pollack_hold_b_fa_and_name_the_rule() {
    let m = model(
        r#"(name: "export_kp", seed: 3, network: (layers: [12, 7, 5, 4]),
        learning: (algorithm: BA, depth: 3, feedback: KolenPollack(decay: 0.0)))"#,
    );
    let net = network(&m);
    let w = Weights::of(&m, &net, 0, true);
    assert!(w.feedback.iter().all(|f| f.rule == "kolen_pollack"));
    assert_eq!(w.feedback[0].layerwise.as_ref(), Some(&net.layerwise[0]));
    assert_eq!(w.feedback[0].layerwise.as_ref().map(|b| b.dim()), Some((7, 5)));
    assert_eq!(
        w.feedback[1].layerwise, None,
        "the last hidden layer's B_FA is B_BA / γ"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.h5");
    w.write(&path).unwrap();
    assert_eq!(Weights::read(&path).unwrap(), w);
    let fixed = Weights::of(&model(LIF), &network(&model(LIF)), 0, true);
    assert!(
        fixed
            .feedback
            .iter()
            .all(|f| f.rule == "fixed" && f.layerwise.is_none())
    );
}

#[test]
fn a_file_that_is_not_a_weights_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.h5");
    std::fs::write(&path, b"not hdf5").unwrap();
    let e = Weights::read(&path).unwrap_err().to_string();
    assert!(e.contains("weights.h5"), "{e}");
}

#[test]
fn nir_file_holds_the_chain_of_affine_and_lif_nodes_with_the_trained_weights() {
    let m = model(LIF);
    let net = network(&m);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.nir");
    nir::write(&path, &m, &net, 500).unwrap();
    let f = hdf5::File::open(&path).unwrap();
    assert_eq!(string(&f, "version"), nir::NIR_VERSION);
    let g = f.group("node").unwrap();
    assert_eq!(string(&g, "type"), "NIRGraph");
    let edges: Array2<VarLenUnicode> = g.dataset("edges").unwrap().read_2d().unwrap();
    let edges: Vec<(String, String)> = edges
        .rows()
        .into_iter()
        .map(|r| (r[0].as_str().to_string(), r[1].as_str().to_string()))
        .collect();
    let chain = [
        "input",
        "affine_hidden1",
        "lif_hidden1",
        "affine_hidden2",
        "lif_hidden2",
        "affine_output",
        "lif_output",
        "output",
    ];
    let expected: Vec<(String, String)> = chain.windows(2).map(|w| (w[0].into(), w[1].into())).collect();
    assert_eq!(edges, expected);
    let nodes = g.group("nodes").unwrap();
    let mut members = nodes.member_names().unwrap();
    members.sort();
    let mut names: Vec<String> = chain.iter().map(|s| s.to_string()).collect();
    names.sort();
    assert_eq!(members, names);
    let input = nodes.group("input").unwrap();
    assert_eq!(string(&input, "type"), "Input");
    assert_eq!(input.dataset("shape").unwrap().read_raw::<i64>().unwrap(), [12]);
    assert_eq!(
        nodes
            .group("output")
            .unwrap()
            .dataset("shape")
            .unwrap()
            .read_raw::<i64>()
            .unwrap(),
        [4]
    );
    for (l, post) in ["hidden1", "hidden2", "output"].iter().enumerate() {
        let a = nodes.group(&format!("affine_{post}")).unwrap();
        assert_eq!(string(&a, "type"), "Affine");
        let w: Array2<f32> = a.dataset("weight").unwrap().read_2d().unwrap();
        let b: Array1<f32> = a.dataset("bias").unwrap().read_1d().unwrap();
        assert_eq!(w, net.forward[l].w);
        assert_eq!(b, net.forward[l].b);
        let c = nodes.group(&format!("lif_{post}")).unwrap();
        assert_eq!(string(&c, "type"), "LIF");
        let field = |n: &str| c.dataset(n).unwrap().read_raw::<f64>().unwrap();
        let cells = w.nrows();
        assert_eq!(field("tau"), vec![0.02; cells]);
        assert_eq!(field("r"), vec![1.0; cells]);
        assert_eq!(field("v_leak"), vec![0.0; cells]);
        assert_eq!(field("v_reset"), vec![0.0; cells]);
        assert_eq!(field("v_threshold"), vec![f64::from(0.4f32); cells]);
    }
    let meta = g.group("metadata").unwrap();
    let num = |n: &str| meta.dataset(n).unwrap().read_scalar::<f64>().unwrap();
    assert_eq!(num("dt_s"), 0.25e-3);
    assert_eq!(num("t_ref_s"), 1e-3);
    assert_eq!(num("pulse_steps"), 4.0);
    assert_eq!(num("examples_seen"), 500.0);
    assert!(string(&meta, "model").contains("export_lif"));
    assert!(!dir.path().join("net.nir.partial").exists());
}

#[test]
fn nir_refuses_rate_and_stochastic_binary_networks_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (text, cells) in [
        (
            r#"(name: "r", network: (layers: [6, 5, 3], cells: Rate(c1: 0.82)), record: (train_examples: [], test_examples: []))"#,
            "nonspiking rate cells",
        ),
        (
            r#"(name: "b", data: (scaling: UnitInterval), network: (layers: [6, 5, 3], cells: Bernoulli(cells_per_class: 1)),
                init: (weights: Uniform(0.05), feedback: Uniform(0.1), b_mean: 0.0),
                learning: (algorithm: FA, depth: 2, momentum: 0.0, learning_rate: Fixed(0.001)),
                protocol: (reset_between_examples: false, batch_size: 1),
                record: (train_examples: [], test_examples: []))"#,
            "stochastic binary units",
        ),
    ] {
        let m = model(text);
        let path = dir.path().join("net.nir");
        let e = nir::write(&path, &m, &network(&m), 0).unwrap_err().to_string();
        assert!(e.contains("cannot export this run as NIR") && e.contains(cells), "{e}");
        assert!(e.contains("snnsim export weights"), "{e}");
        assert!(!path.exists());
    }
}

#[test]
fn an_output_folder_that_does_not_exist_is_named() {
    let m = model(LIF);
    let net = network(&m);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let e = Weights::of(&m, &net, 0, true)
        .write(&missing.join("weights.h5"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("the folder {} does not exist", missing.display())),
        "{e}"
    );
    let e = nir::write(&missing.join("net.nir"), &m, &net, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
}
