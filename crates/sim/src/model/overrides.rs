//! `--set path.to.field=value` overrides of a model file.
//!
//! The model is turned into a JSON tree, the value at the path replaced, and the tree turned back into a
//! [`ModelFile`], so every field, nested or in a list, is reachable and type-checked by the same serde code that reads
//! model files. Paths are dot-separated field names and list indices (`network.layers.1`); values are written in RON
//! (`0.5`, `[784, 500, 10]`, `Sum`, `FanInScaled(2.0)`, `Lif(gain: 40.0)`, `None`, `"text"`).

use super::{ModelError, ModelFile};
use serde_json::Value;

impl ModelFile {
    /// Applies one `path=value` override; the error names the path and what was expected.
    pub fn set(&mut self, assignment: &str) -> Result<(), ModelError> {
        let err = |reason: String| ModelError::Override {
            assignment: assignment.to_string(),
            reason,
        };
        let (path, text) = assignment
            .split_once('=')
            .ok_or_else(|| err("expected PATH=VALUE, e.g. protocol.epochs=1".into()))?;
        let path = path.trim();
        if path.is_empty() {
            return Err(err("the path before '=' is empty".into()));
        }
        let value = parse_value(text.trim()).map_err(err)?;
        let mut tree = serde_json::to_value(&*self).expect("a model file always serialises");
        let mut node = &mut tree;
        let mut walked = String::new();
        for key in path.split('.') {
            let here = if walked.is_empty() {
                "the model".to_string()
            } else {
                format!("`{walked}`")
            };
            node = match node {
                Value::Object(map) => {
                    let known: Vec<String> = map.keys().cloned().collect();
                    map.get_mut(key).ok_or_else(|| {
                        err(format!(
                            "{here} has no field `{key}`; expected one of: {}",
                            known.join(", ")
                        ))
                    })?
                }
                Value::Array(items) => {
                    let n = items.len();
                    let i: usize = key
                        .parse()
                        .map_err(|_| err(format!("{here} is a list: expected an index 0..{n}, found `{key}`")))?;
                    items
                        .get_mut(i)
                        .ok_or_else(|| err(format!("{here} has {n} entries: index {i} is out of range")))?
                }
                _ => {
                    return Err(err(format!("{here} is a single value, it has no field `{key}`")));
                }
            };
            if !walked.is_empty() {
                walked.push('.');
            }
            walked.push_str(key);
        }
        *node = value;
        let updated: ModelFile = serde_path_to_error::deserialize(tree).map_err(|e| {
            let at = e.path().to_string();
            err(format!("`{at}`: {}", e.inner()))
        })?;
        *self = updated;
        Ok(())
    }
}

/// Parses an override value written in RON into the JSON tree's terms.
fn parse_value(text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return Err("the value after '=' is empty".into());
    }
    let is_ident = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match text {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        "None" => return Ok(Value::Null),
        _ => {}
    }
    if is_ident(text) {
        // A unit enum variant such as `Sum` or `Mnist`.
        return Ok(Value::String(text.to_string()));
    }
    if let Some(open) = text.find('(')
        && text.ends_with(')')
        && is_ident(&text[..open])
    {
        let (name, inner) = (&text[..open], &text[open..]);
        let inner = super::ron_options()
            .from_str::<Value>(inner)
            .map_err(|e| format!("cannot read `{inner}` as RON: {}", e.code))?;
        // `Some(x)` is just x; `Name(x)` a newtype variant; `Name(field: x)` a struct variant.
        let inner = match inner {
            Value::Array(mut v) if v.len() == 1 => v.remove(0),
            other => other,
        };
        if name == "Some" {
            return Ok(inner);
        }
        let mut map = serde_json::Map::new();
        map.insert(name.to_string(), inner);
        return Ok(Value::Object(map));
    }
    super::ron_options()
        .from_str::<Value>(text)
        .map_err(|e| format!("cannot read `{text}` as a RON value: {}", e.code))
}
