//! The `generic` conversion (SPEC §4.3): lossless XML → JSON.
//!
//! - `{"<Root>": <value>}`: the root is the single top-level key.
//! - An element with neither attributes nor children is a string: its text with surrounding
//!   XML whitespace (space, tab, CR, LF) trimmed, as everywhere else in the filter, and
//!   otherwise as written (no numbers or booleans guessed: `"007"` stays `"007"`); empty is `""`.
//! - Otherwise an object: `"@name"` per attribute (document order), then one key per child
//!   local name in order of first appearance, then `"#text"` with the trimmed text when it is
//!   not only whitespace.
//! - Children sharing a local name become one array (at the position of the first of them);
//!   a path listed in `always_array` is an array even when it occurs once.

use serde_json::{Map, Value};

use crate::xml::Element;

pub(crate) fn convert(root: &Element, always_array: &[String]) -> Value {
    let mut top = Map::new();
    let mut path = root.name.clone();
    top.insert(root.name.clone(), element(root, &mut path, always_array));
    Value::Object(top)
}

fn element(el: &Element, path: &mut String, always_array: &[String]) -> Value {
    let text = el.trimmed_text();
    if el.attributes.is_empty() && el.children.is_empty() {
        return Value::String(text.to_string());
    }
    let mut out = Map::new();
    for a in &el.attributes {
        out.insert(format!("@{}", a.name), Value::String(a.value.clone()));
    }
    // Child names in order of first appearance.
    let mut names: Vec<&str> = Vec::new();
    for c in &el.children {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    for name in names {
        let len = path.len();
        path.push('/');
        path.push_str(name);
        let values: Vec<Value> = el
            .children_named(name)
            .map(|c| element(c, path, always_array))
            .collect();
        let forced = always_array.iter().any(|p| p == path);
        path.truncate(len);
        let value = if values.len() == 1 && !forced {
            values.into_iter().next().unwrap_or_default()
        } else {
            Value::Array(values)
        };
        out.insert(name.to_string(), value);
    }
    if !text.is_empty() {
        out.insert("#text".to_string(), Value::String(text.to_string()));
    }
    Value::Object(out)
}
