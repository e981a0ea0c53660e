//! The fields of a model that act at test time only. A trained network can be tested again with other values of
//! them (`snnsim test RUN --set ...`) without being retrained: the network it was trained into is the same.

use super::error::ModelError;
use super::file::{BernoulliSpec, CellKind, DataSpec, EngineSpec, ModelFile, Ties};
use serde_json::Value;

/// The test-time fields, as `--set` paths. Every other field shapes how the network was trained.
pub const TEST_TIME_FIELDS: &[&str] = &[
    "data.test_limit",
    "protocol.ties",
    "protocol.count_from_ms",
    "network.cells.Bernoulli.readout",
    "network.cells.Bernoulli.test_steps",
];

impl ModelFile {
    /// This model with every field of [`TEST_TIME_FIELDS`] at its default, and those that say where the data come
    /// from or how the engine computes ([`crate::run::LOCATION_FIELDS`]): what a trained network was trained with.
    /// Two models whose training parts are equal train the same network from the same seed (learning-curve tests
    /// draw their noise from a copy of the training's stream, so they change nothing either).
    pub fn training_part(&self) -> ModelFile {
        let mut file = self.clone();
        let data = DataSpec::default();
        file.data.test_limit = None;
        file.data.root = data.root;
        file.data.download = data.download;
        file.data.url = data.url;
        file.data.verify_checksums = data.verify_checksums;
        file.engine = EngineSpec::default();
        file.protocol.ties = Ties::default();
        file.protocol.count_from_ms = None;
        if let CellKind::Bernoulli(spec) = &mut file.network.cells {
            let default = BernoulliSpec::default();
            spec.readout = default.readout;
            spec.test_steps = default.test_steps;
        }
        file
    }

    /// Refuses `other` when it trains differently from this model, naming the first field (as a `--set` path) in
    /// which it does, with both values.
    pub fn check_same_training(&self, other: &ModelFile) -> Result<(), ModelError> {
        let tree = |f: &ModelFile| serde_json::to_value(f.training_part()).expect("a model file always serialises");
        match first_difference(&tree(self), &tree(other), String::new()) {
            None => Ok(()),
            Some((field, trained, changed)) => Err(ModelError::Invalid {
                field,
                value: ron_like(changed),
                expected: format!(
                    "{}, the value the network was trained with: only test-time fields may change ({}), \
                     and {}",
                    ron_like(trained),
                    TEST_TIME_FIELDS.join(", "),
                    crate::run::LOCATION_FIELDS.join(", ")
                ),
            }),
        }
    }
}

/// The dotted path of the first place where `a` and `b` differ (`""` for the whole tree), with the values there.
fn first_difference<'v>(a: &'v Value, b: &'v Value, path: String) -> Option<(String, &'v Value, &'v Value)> {
    let join = |key: &str| match path.is_empty() {
        true => key.to_string(),
        false => format!("{path}.{key}"),
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() && x.keys().all(|k| y.contains_key(k)) => {
            x.iter().find_map(|(key, u)| first_difference(u, &y[key], join(key)))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v, join(&i.to_string()))),
        // A value, a list of another length, or an enum whose variant changed (the variant names are the keys).
        _ => (a != b).then_some((path, a, b)),
    }
}

/// A value of a model's JSON tree written as in a model file: `0.9` for an f32 field (not its f64 expansion),
/// `Fixed(0.5)` for an enum variant with data, `FanIn` for one without, `(a: 1, b: 2)` for a struct.
fn ron_like(v: &Value) -> String {
    let is_variant = |s: &str| s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(char::is_alphanumeric);
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f64::from(f as f32) == f => (f as f32).to_string(),
            _ => n.to_string(),
        },
        Value::String(s) if is_variant(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(ron_like).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => match map.iter().next() {
            Some((name, inner)) if map.len() == 1 && is_variant(name) => match inner {
                Value::Object(_) => format!("{name}{}", ron_like(inner)),
                _ => format!("{name}({})", ron_like(inner)),
            },
            _ => format!(
                "({})",
                map.iter()
                    .map(|(k, v)| format!("{k}: {}", ron_like(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn bernoulli() -> ModelFile {
        let text = "(name: \"t\", network: (layers: [4, 3, 2], cells: Bernoulli(cells_per_class: 1)), \
                    learning: (algorithm: FA, depth: 2))";
        ModelFile::from_ron(text, Path::new("t.ron")).unwrap()
    }

    #[test]
    fn test_time_fields_may_change() {
        let base = bernoulli();
        let mut other = base.clone();
        for set in [
            "data.test_limit=Some(10)",
            "protocol.ties=Lowest",
            "protocol.count_from_ms=Some(0.0)",
            "network.cells.Bernoulli.readout=LastPsp",
            "network.cells.Bernoulli.test_steps=20",
            "data.root=\"elsewhere\"",
            "engine.first_layer=Direct",
        ] {
            other.set(set).unwrap();
        }
        assert_ne!(base, other);
        base.check_same_training(&other).unwrap();
    }

    #[test]
    fn a_training_field_is_named() {
        let base = bernoulli();
        for (set, field) in [
            ("learning.learning_rate=Fixed(0.5)", "learning.learning_rate"),
            (
                "network.cells.Bernoulli.train_steps=3",
                "network.cells.Bernoulli.train_steps",
            ),
            ("network.layers.1=5", "network.layers.1"),
            ("protocol.batch_size=7", "protocol.batch_size"),
            ("seed=9", "seed"),
            ("network.cells=Lif", "network.cells"),
        ] {
            let mut other = base.clone();
            other.set(set).unwrap();
            let err = base.check_same_training(&other).unwrap_err().to_string();
            assert!(err.starts_with(&format!("field `{field}` = ")), "{set}: {err}");
            assert!(err.contains("protocol.ties"), "{err}");
        }
        let mut other = base.clone();
        other.set("learning.learning_rate=Fixed(0.5)").unwrap();
        let err = base.check_same_training(&other).unwrap_err().to_string();
        assert!(
            err.starts_with("field `learning.learning_rate` = Fixed(0.5): expected FanIn, the value"),
            "{err}"
        );
        let mut other = base.clone();
        other.set("learning.momentum=0.5").unwrap();
        let err = base.check_same_training(&other).unwrap_err().to_string();
        assert!(
            err.starts_with("field `learning.momentum` = 0.5: expected 0.9, the value"),
            "{err}"
        );
    }
}
