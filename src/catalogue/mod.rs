//! The message catalogue: every SITA message the filter checks, written as data
//! (`outbound.json`, `push.json`) in the rule language below, and the configuration's
//! per-message overrides applied to it once, at load.
//!
//! Adding a SITA message means adding an entry to one of the JSON files; the validator
//! (`crate::validate`) interprets whatever the catalogue says.

use serde::Deserialize;
use std::collections::BTreeMap;

const OUTBOUND: &str = include_str!("outbound.json");
const PUSH: &str = include_str!("push.json");

/// Where a message's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An XML body whose root element names the message.
    Body,
    /// The query string of a GET request matched by route.
    Query,
}

/// What the validator answers for one broken rule: a code and, optionally, a message
/// template (`{field}` is the element's name, `{max}` the rule's maximum). Without a
/// message the code's own description is used.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// A condition on a sibling element (`ResolutionCode` is required when `State` is `Resolved`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub field: String,
    pub equals: String,
}

/// The rule a value must satisfy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// `min`..=`max` characters; optionally only `charset` characters (ASCII letters, digits and
    /// the listed punctuation), optionally no `/`, `\` or control characters.
    Text {
        min: usize,
        max: usize,
        #[serde(default)]
        charset: Option<String>,
        #[serde(default)]
        file_name: bool,
    },
    /// An e-mail address of at most `max` characters.
    Email { max: usize },
    /// A decimal integer in `min..=max`.
    Integer { min: i64, max: i64 },
    /// One of `values`, compared case-insensitively.
    Enum { values: Vec<String> },
    /// `true` or `false`.
    Boolean,
    /// `YYYY-MM-DD HH:MM:SS`, or also `YYYY-MM-DD` when `date_only` is set.
    DateTime {
        #[serde(default)]
        date_only: bool,
    },
    /// Standard base64 (padding required, whitespace between lines allowed); the decoded
    /// size is bounded by the configuration's `max_attachment_bytes`.
    Base64,
    /// A MIME type `type/subtype`.
    MimeType,
    /// A container of `min..=max` repeated `item` elements, each checked against `fields`.
    List {
        item: String,
        min: usize,
        max: usize,
        fields: Vec<Field>,
        /// Answer when more than `max` items.
        too_many: Outcome,
        /// Answer when fewer than `min` items.
        #[serde(default)]
        too_few: Option<Outcome>,
        /// When every one of these item fields is absent, one violation replaces theirs.
        #[serde(default)]
        all_absent: Option<AllAbsent>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllAbsent {
    pub fields: Vec<String>,
    pub outcome: Outcome,
}

/// One element (or query parameter) of a message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(default)]
    pub required: bool,
    /// Required only when a sibling has a value.
    #[serde(default)]
    pub required_when: Option<When>,
    /// Answer when required and absent (default E004 `Missing Element Is {field}`).
    #[serde(default)]
    pub absent: Option<Outcome>,
    /// Answer when required and present but empty (default E005).
    #[serde(default)]
    pub empty: Option<Outcome>,
    /// Answer when the rule is broken (default E006).
    #[serde(default)]
    pub invalid: Option<Outcome>,
    pub rule: Rule,
    /// The value may not be earlier than this sibling's (answered with `invalid`).
    #[serde(default)]
    pub not_before: Option<String>,
    /// The value may not lie in the future (host clock plus tolerance).
    #[serde(default)]
    pub not_future: Option<Outcome>,
    /// The value must be one of the configuration list of this name (`modules`).
    #[serde(default)]
    pub allowed_from: Option<ListCheck>,
    /// The value must match none of the configuration globs of this name
    /// (`denied_assignment_groups`).
    #[serde(default)]
    pub denied_from: Option<ListCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListCheck {
    pub list: String,
    pub outcome: Outcome,
}

/// A rule across elements, checked after the fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CrossCheck {
    /// When `user` is an e-mail address and `email` is present, they must agree
    /// case-insensitively.
    SameEmail {
        user: String,
        email: String,
        outcome: Outcome,
    },
    /// When every one of `fields` broke its rule, one violation replaces theirs.
    AllInvalid {
        fields: Vec<String>,
        outcome: Outcome,
    },
}

/// One SITA message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// The operation's name in logs and metrics (`CREATE INCIDENT`).
    pub operation: String,
    pub source: Source,
    /// Body messages: the root element's local name.
    #[serde(default)]
    pub root: Option<String>,
    /// Query messages: the default route (path).
    #[serde(default)]
    pub route: Option<String>,
    pub fields: Vec<Field>,
    #[serde(default)]
    pub checks: Vec<CrossCheck>,
    /// Query messages ignore parameters they do not know; body messages follow
    /// `unknown_elements`.
    #[serde(default)]
    pub ignore_unknown: bool,
    /// The built-in root when the configuration renamed it: profiles are written against
    /// SITA's standard names.
    #[serde(skip)]
    pub standard_root: Option<String>,
}

impl Message {
    /// The root element name profiles know this message by.
    pub fn standard_root(&self) -> Option<&str> {
        self.standard_root.as_deref().or(self.root.as_deref())
    }
}

/// A set of messages by key (`create_incident`, `list_incidents`, ...), in file order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub messages: BTreeMap<String, Message>,
}

/// The configuration's override of one field (`catalogue.<message>.fields.<Name>`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOverride {
    pub required: Option<bool>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub values: Option<Vec<String>>,
    /// Replaces the whole rule (or defines the rule of a new element).
    pub rule: Option<Rule>,
    /// Removes the element from the message (it becomes unexpected).
    #[serde(default)]
    pub remove: bool,
}

/// The configuration's override of one message (`catalogue.<message>`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageOverride {
    pub root: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldOverride>,
}

impl Catalogue {
    /// The built-in outbound catalogue (SPEC §3).
    pub fn outbound() -> Result<Catalogue, String> {
        serde_json::from_str(OUTBOUND).map_err(|e| format!("built-in outbound catalogue: {e}"))
    }

    /// The built-in push catalogue (SPEC §4.2).
    pub fn push() -> Result<Catalogue, String> {
        serde_json::from_str(PUSH).map_err(|e| format!("built-in push catalogue: {e}"))
    }

    /// The body message whose root element is `root`.
    pub fn by_root(&self, root: &str) -> Option<(&str, &Message)> {
        self.messages
            .iter()
            .find(|(_, m)| m.source == Source::Body && m.root.as_deref() == Some(root))
            .map(|(k, m)| (k.as_str(), m))
    }

    /// Applies the configuration's overrides. Errors name the key that is wrong.
    pub fn apply(&mut self, overrides: &BTreeMap<String, MessageOverride>) -> Result<(), String> {
        for (key, ov) in overrides {
            let msg = self
                .messages
                .get_mut(key)
                .ok_or_else(|| format!("catalogue.{key}: no such message"))?;
            if let Some(root) = &ov.root {
                if msg.source != Source::Body {
                    return Err(format!("catalogue.{key}.root: a query message has no root"));
                }
                if msg.standard_root.is_none() {
                    msg.standard_root = msg.root.take();
                }
                msg.root = Some(root.clone());
            }
            for (name, fo) in &ov.fields {
                apply_field(msg, name, fo)
                    .map_err(|e| format!("catalogue.{key}.fields.{name}: {e}"))?;
            }
        }
        Ok(())
    }
}

fn apply_field(msg: &mut Message, name: &str, fo: &FieldOverride) -> Result<(), String> {
    if fo.remove {
        let before = msg.fields.len();
        msg.fields.retain(|f| f.name != name);
        return if msg.fields.len() < before {
            Ok(())
        } else {
            Err("no such element to remove".to_string())
        };
    }
    let idx = match msg.fields.iter().position(|f| f.name == name) {
        Some(i) => i,
        None => {
            let rule = fo
                .rule
                .clone()
                .ok_or("a new element needs a `rule`".to_string())?;
            msg.fields.push(Field {
                name: name.to_string(),
                required: false,
                required_when: None,
                absent: None,
                empty: None,
                invalid: None,
                rule,
                not_before: None,
                not_future: None,
                allowed_from: None,
                denied_from: None,
            });
            msg.fields.len() - 1
        }
    };
    let field = msg
        .fields
        .get_mut(idx)
        .ok_or("internal: field index".to_string())?;
    if let Some(rule) = &fo.rule {
        field.rule = rule.clone();
    }
    if let Some(required) = fo.required {
        field.required = required;
    }
    let to_usize =
        |v: i64, key: &str| usize::try_from(v).map_err(|_| format!("{key} must not be negative"));
    match &mut field.rule {
        Rule::Text { min, max, .. } | Rule::List { min, max, .. } => {
            if let Some(v) = fo.min {
                *min = to_usize(v, "min")?;
            }
            if let Some(v) = fo.max {
                *max = to_usize(v, "max")?;
            }
            if min > max {
                return Err("min is larger than max".to_string());
            }
        }
        Rule::Email { max } => {
            if fo.min.is_some() {
                return Err("an e-mail rule has no `min`".to_string());
            }
            if let Some(v) = fo.max {
                *max = to_usize(v, "max")?;
            }
        }
        Rule::Integer { min, max } => {
            if let Some(v) = fo.min {
                *min = v;
            }
            if let Some(v) = fo.max {
                *max = v;
            }
            if min > max {
                return Err("min is larger than max".to_string());
            }
        }
        _ if fo.min.is_some() || fo.max.is_some() => {
            return Err("this element's rule has no `min`/`max`".to_string());
        }
        _ => {}
    }
    if let Some(values) = &fo.values {
        match &mut field.rule {
            Rule::Enum { values: v } if !values.is_empty() => *v = values.clone(),
            Rule::Enum { .. } => return Err("`values` must not be empty".to_string()),
            _ => return Err("`values` applies only to an enumeration".to_string()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn built_in_catalogues_load() {
        let out = Catalogue::outbound().unwrap();
        assert_eq!(
            out.by_root("CreateIncidentRequest").unwrap().0,
            "create_incident"
        );
        assert_eq!(
            out.by_root("UpdateIncidentRequest").unwrap().0,
            "update_incident"
        );
        assert_eq!(out.messages.len(), 6);
        let push = Catalogue::push().unwrap();
        assert_eq!(push.messages.len(), 3);
        assert!(push.by_root("UpdateIncidentAttachmentPush").is_some());
    }

    #[test]
    fn overrides_change_roots_lengths_requirements_and_enumerations() {
        let mut c = Catalogue::outbound().unwrap();
        let ov: BTreeMap<String, MessageOverride> = serde_json::from_str(
            r#"{"create_incident": {"root": "NewIncident", "fields": {
                "ShortDescription": {"max": 80},
                "Email": {"required": true},
                "Category": {"rule": {"kind": "enum", "values": ["Hardware", "Software"]}}
              }},
              "update_incident": {"fields": {"State": {"values": ["Open", "Done"]}}}}"#,
        )
        .unwrap();
        c.apply(&ov).unwrap();
        let (_, m) = c.by_root("NewIncident").unwrap();
        let sd = m
            .fields
            .iter()
            .find(|f| f.name == "ShortDescription")
            .unwrap();
        assert!(matches!(sd.rule, Rule::Text { max: 80, .. }));
        assert!(m.fields.iter().any(|f| f.name == "Email" && f.required));
        assert!(m.fields.iter().any(|f| f.name == "Category"));
    }

    #[test]
    fn bad_overrides_name_the_key() {
        let mut c = Catalogue::outbound().unwrap();
        for (json, needle) in [
            (r#"{"nope": {}}"#, "catalogue.nope"),
            (
                r#"{"create_incident": {"fields": {"Priority": {"values": ["x"]}}}}"#,
                "catalogue.create_incident.fields.Priority",
            ),
            (
                r#"{"create_incident": {"fields": {"Brand": {"required": true}}}}"#,
                "catalogue.create_incident.fields.Brand",
            ),
            (
                r#"{"create_incident": {"fields": {"ShortDescription": {"min": 10, "max": 5}}}}"#,
                "min is larger",
            ),
        ] {
            let ov: BTreeMap<String, MessageOverride> = serde_json::from_str(json).unwrap();
            let err = c.apply(&ov).unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }
}
