//! Model files: parsing with positions, unknown fields, round trip, `--set` overrides, validation.

use snn_sim::ModelFile;
use snn_sim::model::ModelError;
use std::path::{Path, PathBuf};

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

fn main_model() -> (String, ModelFile) {
    let p = models_dir().join("mnist_lif_ba.ron");
    let text = std::fs::read_to_string(&p).unwrap();
    let m = ModelFile::from_ron(&text, &p).unwrap();
    (text, m)
}

#[test]
fn every_shipped_model_parses_checks_and_round_trips() {
    let mut n = 0;
    for entry in std::fs::read_dir(models_dir()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "ron") {
            let m = ModelFile::from_path(&p).unwrap_or_else(|e| panic!("{e}"));
            m.check().unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let back = ModelFile::from_ron(&m.to_ron(), Path::new("resolved.ron")).unwrap();
            assert_eq!(back, m, "{}", p.display());
            n += 1;
        }
    }
    assert!(n >= 4);
}

#[test]
fn paper_model_has_the_paper_numbers() {
    let (_, m) = main_model();
    let c = m.check().unwrap();
    assert_eq!(c.layers(), &[784, 1000, 10]);
    assert_eq!((c.steps(), c.settle_steps()), (400, 80));
    assert_eq!(c.plan().learning_flags(), vec![true, true]);
    let eta: Vec<f32> = c.plan().layers().iter().map(|l| l.eta).collect();
    assert_eq!(eta, vec![1.0 / 784.0, 1.0 / 1000.0]);
    assert_eq!(c.lif().refractory_steps(), 4);
    assert_eq!(m.learning.gamma, 0.034);
    assert_eq!(m.protocol.epochs, 30);
}

#[test]
fn misspelt_field_is_named_with_its_line() {
    let (text, _) = main_model();
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("momentum:"))
        .unwrap()
        + 1;
    let bad = text.replace("momentum: 0.9,", "momentun: 0.9,");
    let e = ModelFile::from_ron(&bad, Path::new("models/bad.ron")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("models/bad.ron:{line}:")), "{msg}");
    assert!(
        msg.contains("momentun") && msg.contains("momentum"),
        "names the field and the expected ones: {msg}"
    );
}

#[test]
fn syntax_errors_and_wrong_types_have_positions() {
    let e = ModelFile::from_ron("(\n  name: \"x\",\n  network: (layers: [784, 10]\n", Path::new("t.ron")).unwrap_err();
    assert!(matches!(e, ModelError::Parse { .. }), "{e}");
    let e = ModelFile::from_ron(
        "(\n  name: \"x\",\n  seed: \"one\",\n  network: (layers: [784, 10]),\n)",
        Path::new("t.ron"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("t.ron:3:"), "{e}");
    let e = ModelFile::from_ron("(name: \"x\")", Path::new("t.ron"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("network"), "missing section is named: {e}");
}

#[test]
fn minimal_file_takes_spec_defaults() {
    let m = ModelFile::from_ron("(name: \"tiny\", network: (layers: [784, 10]))", Path::new("t.ron")).unwrap();
    let c = m.check().unwrap();
    assert_eq!(c.lif().tau, 20.0);
    assert_eq!(m.protocol.batch_size, 100);
    assert_eq!(m.learning.momentum, 0.9);
}

#[test]
fn overrides_reach_nested_fields_lists_enums_and_options() {
    let (_, mut m) = main_model();
    m.set("protocol.batch_size=10").unwrap();
    m.set("network.layers.1=500").unwrap();
    m.set("learning.batch_reduction=Sum").unwrap();
    m.set("data.train_limit=10000").unwrap();
    m.set("learning.learning_rate=FanInScaled(2.0)").unwrap();
    m.set("network.error_pools=Lif(gain: 40.0)").unwrap();
    m.set("record.train_examples=[1, 2, 3]").unwrap();
    m.set("network.lif.tau=25").unwrap();
    m.set("name=\"renamed\"").unwrap();
    assert_eq!(m.protocol.batch_size, 10);
    assert_eq!(m.network.layers, vec![784, 500, 10]);
    assert_eq!(m.learning.batch_reduction, snn_plasticity::BatchReduction::Sum);
    assert_eq!(m.data.train_limit, Some(10000));
    assert_eq!(m.learning.learning_rate, snn_plasticity::LearningRate::FanInScaled(2.0));
    assert_eq!(m.network.error_pools, snn_sim::model::ErrorPools::Lif { gain: 40.0 });
    assert_eq!(m.record.train_examples, vec![1, 2, 3]);
    assert_eq!(m.network.lif.tau, 25.0);
    assert_eq!(m.name, "renamed");
    m.set("network.error_pools.Lif.gain=60").unwrap();
    assert_eq!(m.network.error_pools, snn_sim::model::ErrorPools::Lif { gain: 60.0 });
    m.set("data.train_limit=None").unwrap();
    assert_eq!(m.data.train_limit, None);
    m.set("network.layers=[784, 630, 370, 10]").unwrap();
    assert_eq!(m.check().unwrap().plan().layers().len(), 3);
}

#[test]
fn bad_overrides_name_the_path_and_what_was_expected() {
    let (_, mut m) = main_model();
    let before = m.clone();
    let err = |m: &mut ModelFile, s: &str| m.set(s).unwrap_err().to_string();
    let e = err(&mut m, "protocol.epocs=3");
    assert!(
        e.contains("`protocol` has no field `epocs`") && e.contains("epochs"),
        "{e}"
    );
    let e = err(&mut m, "protocol.batch_size=1.5");
    assert!(e.contains("protocol.batch_size") && e.contains("expected usize"), "{e}");
    let e = err(&mut m, "network.layers.7=3");
    assert!(e.contains("`network.layers` has 3 entries"), "{e}");
    let e = err(&mut m, "learning.algorithm=XY");
    assert!(e.contains("learning.algorithm") && e.contains("BA"), "{e}");
    let e = err(&mut m, "protocol.dt");
    assert!(e.contains("PATH=VALUE"), "{e}");
    let e = err(&mut m, "seed.x=1");
    assert!(e.contains("single value"), "{e}");
    assert_eq!(m, before, "a failed override changes nothing");
}

#[test]
fn impossible_parameters_are_rejected_with_the_field() {
    let (_, m) = main_model();
    let check = |s: &str| {
        let mut m = m.clone();
        m.set(s).unwrap();
        m.check().unwrap_err().to_string()
    };
    assert!(check("learning.depth=3").contains("`learning.depth` = 3: expected between 1 and 2"));
    assert!(check("learning.depth=0").contains("learning.depth"));
    assert!(check("protocol.dt=0").contains("`protocol.dt` = 0"));
    assert!(check("network.lif.tau=0.1").contains("network.lif.tau"));
    assert!(check("network.lif.h_th=-1").contains("network.lif.h_th"));
    assert!(check("protocol.present_ms=100.1").contains("whole number of steps"));
    assert!(check("protocol.settle_ms=100").contains("protocol.settle_ms"));
    assert!(check("protocol.batch_size=0").contains("protocol.batch_size"));
    assert!(check("learning.momentum=1").contains("learning.momentum"));
    assert!(check("learning.gamma=-0.1").contains("learning.gamma"));
    assert!(check("learning.learning_rate=Fixed(-1)").contains("learning.learning_rate"));
    assert!(check("network.layers=[784]").contains("network.layers"));
    assert!(check("network.layers.1=0").contains("network.layers.1"));
    assert!(check("record.populations=[\"hidden7\"]").contains("record.populations.0"));
    assert!(check("data.train_limit=0").contains("data.train_limit"));
    assert!(check("name=\"a/b\"").contains("name"));
}

/// Recording settings are checked against the network's roster by name: a trace must name a population with a state
/// (not the graded input, not an error pool), and a variable that population shows.
#[test]
fn traces_are_checked_against_the_roster_of_populations() {
    let (_, m) = main_model();
    let check = |s: &str| {
        let mut m = m.clone();
        m.set(s).unwrap();
        m.check().map(|_| ()).map_err(|e| e.to_string())
    };
    let e = check(r#"record.traces=[(population:"input",cells:[0],variables:[a])]"#).unwrap_err();
    assert!(
        e.contains("`record.traces.0.population` = \"input\"") && e.contains("one of hidden1, output"),
        "{e}"
    );
    let e = check(r#"record.traces=[(population:"error_exc",cells:[0],variables:[a])]"#).unwrap_err();
    assert!(e.contains("record.traces.0.population"), "{e}");
    let e = check(r#"record.traces=[(population:"hidden2",cells:[0],variables:[v])]"#).unwrap_err();
    assert!(e.contains("record.traces.0.population"), "{e}");
    assert!(check(r#"record.traces=[(population:"output",cells:[9],variables:[v,h,a,iota,delta])]"#).is_ok());
    assert!(check(r#"record.populations=["error_inh","input"]"#).is_ok());
    let model = m.check().unwrap();
    let roster = model.roster();
    assert_eq!(
        roster.names(),
        ["input", "hidden1", "output", "error_exc", "error_inh"],
        "raster order"
    );
    assert_eq!(roster.get(roster.find("hidden1").unwrap()).cells, 1000);
}

/// A rate network records no rasters, but its `record` names are still checked against the LIF roster of its layers:
/// a misspelt name is caught, and a LIF file stays valid when its cells are overridden to `Rate`. The roster the
/// checked model hands to probes is the rate one (no hillock, no error pools).
#[test]
fn a_rate_network_checks_its_record_names_against_the_lif_roster() {
    let (_, m) = main_model();
    let rate = |sets: &[&str]| {
        let mut m = m.clone();
        for s in [
            "network.cells=Rate(c1:0.82)",
            "record.train_examples=[]",
            "record.test_examples=[]",
        ]
        .iter()
        .chain(sets)
        {
            m.set(s).unwrap();
        }
        m.check().map_err(|e| e.to_string())
    };
    let e = rate(&[r#"record.populations=["hiden1"]"#]).unwrap_err();
    assert!(
        e.contains("record.populations.0") && e.contains("one of input, hidden1"),
        "{e}"
    );
    let e = rate(&[r#"record.traces=[(population:"error_exc",cells:[0],variables:[a])]"#]).unwrap_err();
    assert!(
        e.contains("record.traces.0.population") && e.contains("a population with a state: one of hidden1"),
        "{e}"
    );
    let model = rate(&[
        r#"record.populations=["error_exc","hidden1"]"#,
        r#"record.traces=[(population:"hidden1",cells:[0],variables:[h])]"#,
    ])
    .unwrap();
    assert_eq!(model.roster().names(), ["input", "hidden1", "output"]);
}

/// A network without LIF cells has no membrane and no presentation in Δt: the LIF fields and the presentation's
/// timing are refused away from their defaults, naming the field (a Bernoulli network keeps the reset between
/// examples, its units carrying state), as is a softened rectifier for an algorithm without a derivative term; at
/// their defaults (as every resolved model.ron writes them) they pass.
#[test]
fn a_nonspiking_network_refuses_the_fields_that_would_change_nothing() {
    let stepped = ModelFile::from_path(&models_dir().join("mnist_stepped_ba.ron")).unwrap();
    let check = |sets: &[&str]| {
        let mut m = stepped.clone();
        for s in sets {
            m.set(s).unwrap();
        }
        m.check().map(|_| ()).map_err(|e| e.to_string())
    };
    check(&[]).unwrap();
    check(&["protocol.dt=0.25", "protocol.settle_ms=20", "network.lif.tau=20"]).unwrap();
    for (set, field) in [
        ("protocol.dt=50.0", "protocol.dt"),
        ("protocol.present_ms=1000", "protocol.present_ms"),
        ("protocol.settle_ms=90", "protocol.settle_ms"),
        (
            "protocol.reset_between_examples=false",
            "protocol.reset_between_examples",
        ),
        ("network.lif.tau=10", "network.lif.tau"),
        ("network.lif.h_th=0.5", "network.lif.h_th"),
        ("network.lif.t_ref=2", "network.lif.t_ref"),
    ] {
        let e = check(&[set]).unwrap_err();
        assert!(
            e.contains(&format!("`{field}`")) && e.contains("for Rate cells, which do not use it"),
            "{set}: {e}"
        );
    }
    let graded = ModelFile::from_path(&models_dir().join("lillicrap_linear_fa.ron")).unwrap();
    let mut m = graded.clone();
    m.set("protocol.settle_ms=10").unwrap();
    let e = m.check().unwrap_err().to_string();
    assert!(
        e.contains("`protocol.settle_ms`") && e.contains("for Graded cells"),
        "{e}"
    );
    graded.check().unwrap();
    let mut bernoulli = ModelFile::from_path(&models_dir().join("small_lillicrap_spiking.ron")).unwrap();
    bernoulli.check().unwrap();
    bernoulli.set("protocol.reset_between_examples=true").unwrap();
    bernoulli.check().unwrap();
    bernoulli.set("protocol.present_ms=50").unwrap();
    let e = bernoulli.check().unwrap_err().to_string();
    assert!(
        e.contains("`protocol.present_ms`") && e.contains("for Bernoulli cells"),
        "{e}"
    );

    check(&["learning.rectifier_noise_sd=5.0"]).unwrap();
    let e = check(&["learning.algorithm=DF", "learning.rectifier_noise_sd=5.0"]).unwrap_err();
    assert!(
        e.contains("`learning.rectifier_noise_sd`") && e.contains("no derivative term to soften"),
        "{e}"
    );
}

/// The algorithm is resolved once into a plan: which layers learn with which η and derivative term, and how each
/// hidden layer's feedback arrives (SPEC §2.2 table).
#[test]
fn the_algorithm_becomes_a_plan_of_layers_and_feedback_pathways() {
    use snn_plasticity::{Derivative, Reach};
    let (_, m) = main_model();
    let plan_of = |sets: &[&str]| {
        let mut m = m.clone();
        for s in sets {
            m.set(s).unwrap();
        }
        m.check().unwrap().plan().clone()
    };
    let ba = plan_of(&["network.layers=[784,630,370,10]", "learning.depth=2"]);
    assert_eq!(ba.learning_flags(), [false, true, true]);
    assert_eq!(ba.learning_hidden_layers(), [1]);
    assert_eq!(ba.layer(1).eta, 1.0 / 630.0);
    assert_eq!(ba.layer(2).derivative, Derivative::Sech2 { c2: 0.08 });
    assert!(ba.broadcasts() && ba.feedback_plans().len() == 2);
    assert!(ba.feedback(0).own_matrix && ba.feedback(0).gamma == 0.034);
    let update = ba.update(100);
    assert_eq!((update.momentum, update.scale, update.decay), (0.9, 0.01, 0.0));
    let df = plan_of(&["learning.algorithm=DF"]);
    assert_eq!(df.layer(0).derivative, Derivative::One);
    let rate = [
        "network.cells=Rate(c1:0.82)",
        "record.train_examples=[]",
        "record.test_examples=[]",
    ];
    let bp = plan_of(&[&rate[..], &["learning.algorithm=BP"]].concat());
    assert_eq!(bp.feedback(0).reach, Reach::Chained);
    assert!(!bp.feedback(0).own_matrix, "backprop's feedback is the forward weights");
    let fa = plan_of(&[&rate[..], &["learning.algorithm=FA"]].concat());
    assert!(fa.feedback(0).reach == Reach::Chained && fa.feedback(0).own_matrix);
}
