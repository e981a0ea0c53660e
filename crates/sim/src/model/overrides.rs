//! `--set path.to.field=value` overrides of a model file.
//!
//! The model is turned into a JSON tree, the value at the path replaced, and the tree turned back into a
//! [`ModelFile`], so every field, nested or in a list, is reachable and type-checked by the same serde code that reads
//! model files. Paths are dot-separated field names and list indices (`network.layers.1`); values are written in RON
//! (`0.5`, `[784, 500, 10]`, `Sum`, `FanInScaled(2.0)`, `Lif(gain: 40.0)`, `None`, `"text"`).

use super::error::ModelError;
use super::file::ModelFile;
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
///
/// RON read without a target type drops the names of enum variants, so the text is first rewritten: a bare
/// identifier that is not a field name (`Sum`, `v`) becomes the string `"Sum"`, and `Name(…)` becomes the map
/// `{"Name": (…)}` (serde's external tagging); `true`, `false`, `None` and `Some(…)` keep their meaning. Nested
/// structs are written without their names, as in the model files.
fn parse_value(text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return Err("the value after '=' is empty".into());
    }
    let rewritten = tag_variants(text);
    let value = super::file::ron_options()
        .from_str::<Value>(&rewritten)
        .map_err(|e| format!("cannot read `{text}` as a RON value: {}", e.code))?;
    Ok(unwrap_newtypes(value))
}

/// The rewrite of [`parse_value`], on RON text (string literals left alone).
fn tag_variants(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    // For every open parenthesis: whether it opened a `{"Name": (` that must be closed with `)}`.
    let mut tagged_parens: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            // Copy a string literal verbatim, escapes included.
            out.push(c);
            i += 1;
            while i < chars.len() {
                out.push(chars[i]);
                if chars[i] == '\\' && i + 1 < chars.len() {
                    out.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                i += 1;
                if chars[i - 1] == '"' {
                    break;
                }
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let next = chars.get(j).copied();
            let is_number_part = start > 0 && (chars[start - 1].is_ascii_digit() || chars[start - 1] == '.');
            match (word.as_str(), next) {
                _ if is_number_part => out.push_str(&word), // exponent of a float: 1e-3
                ("true" | "false" | "None" | "Some", _) => out.push_str(&word),
                (_, Some(':')) => out.push_str(&word), // a field name
                (_, Some('(')) => {
                    out.push_str(&format!("{{\"{word}\": ("));
                    tagged_parens.push(true);
                    i = j + 1;
                }
                _ => out.push_str(&format!("\"{word}\"")),
            }
        } else {
            match c {
                '(' => tagged_parens.push(false),
                ')' if tagged_parens.pop() == Some(true) => {
                    out.push_str(")}");
                    i += 1;
                    continue;
                }
                _ => {}
            }
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `{"Name": [x]}` (a newtype variant read as a one-element tuple) becomes `{"Name": x}`, at any depth.
fn unwrap_newtypes(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let single = map.len() == 1;
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::Array(mut a) if single && a.len() == 1 && k.starts_with(char::is_uppercase) => {
                                a.remove(0)
                            }
                            other => other,
                        };
                        (k, unwrap_newtypes(v))
                    })
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(unwrap_newtypes).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_keep_their_variant_names_at_any_depth() {
        let p = |s| parse_value(s).unwrap();
        assert_eq!(p("Sum"), json!("Sum"));
        assert_eq!(p("[v, h, iota]"), json!(["v", "h", "iota"]));
        assert_eq!(p("FanInScaled(2.0)"), json!({"FanInScaled": 2.0}));
        assert_eq!(p("Lif(gain: 40.0)"), json!({"Lif": {"gain": 40.0}}));
        assert_eq!(
            p("[(population: \"hidden1\", cells: [1], variables: [v, a])]"),
            json!([{"population": "hidden1", "cells": [1], "variables": ["v", "a"]}])
        );
        assert_eq!(
            p("(a: Some(3), b: None, c: true, d: 1e-3, e: \"x y(z)\")"),
            json!({"a": 3, "b": null, "c": true, "d": 1e-3, "e": "x y(z)"})
        );
        assert_eq!(p("[784, 500, 10]"), json!([784, 500, 10]));
        assert!(parse_value("").is_err());
        assert!(parse_value("[1, 2").is_err());
    }
}
