//! Resolution (`extends`, built-ins), checking and compiling of profile definitions into
//! plans, and rendering of the plans.

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use super::template::{is_local_name, Alternatives, ElemRef, Template};
use super::{
    batch, generic, AckDef, AckMode, BodyDef, GenericOptions, ItsmRequest, MessageDef, ProfileDef,
};
use crate::xml::Element;

/// The push message roots every profile maps.
pub const ROOTS: [&str; 3] = [
    "CreateIncidentPush",
    "UpdateIncidentPush",
    "UpdateIncidentAttachmentPush",
];

/// Everything but RFC 3986 unreserved characters is percent-encoded (path segments, query
/// names and values).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Headers the filter itself manages; a profile may not set them.
const RESERVED_HEADERS: [&str; 9] = [
    "content-type",
    "content-length",
    "accept",
    "accept-encoding",
    "transfer-encoding",
    "host",
    "connection",
    "x-sita-incident-number",
    "x-request-id",
];

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MessagePlan {
    pub root: String,
    pub method: String,
    pub path: Template,
    pub query: Vec<(String, Template)>,
    pub headers: Vec<(String, Template)>,
    pub required: Vec<(String, String)>,
    pub body: BodyPlan,
    pub ack: AckPlan,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BodyPlan {
    Json(Node),
    Generic { always_array: Vec<String> },
    Batch { table: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AckKind {
    Id { pointer: String },
    Batch,
    Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AckPlan {
    pub kind: AckKind,
    pub error_pointer: Option<String>,
}

impl Default for AckPlan {
    fn default() -> Self {
        AckPlan {
            kind: AckKind::Status,
            error_pointer: None,
        }
    }
}

/// A compiled JSON template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Value(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Field(Box<Field>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub source: Source,
    /// Lower-cased keys (matching is case-insensitive).
    pub map: Option<Vec<(String, Value)>>,
    pub unmapped: Unmapped,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    Text(Alternatives),
    Const(Value),
    Join {
        items: ElemRef,
        item: Alternatives,
        separator: String,
    },
    Each {
        items: ElemRef,
        item: Node,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unmapped {
    Omit,
    Keep,
    Error,
}

// ---------------------------------------------------------------------------------------------
// Resolution

struct Found {
    label: String,
    def: ProfileDef,
}

fn find(
    name: &str,
    custom: &BTreeMap<String, ProfileDef>,
    allow_custom: bool,
) -> Result<Option<Found>, String> {
    if allow_custom {
        if let Some(def) = custom.get(name) {
            return Ok(Some(Found {
                label: format!("profile '{name}'"),
                def: def.clone(),
            }));
        }
    }
    match super::builtin(name) {
        Some(def) => Ok(Some(Found {
            label: format!("built-in profile '{name}'"),
            def: def?,
        })),
        None => Ok(None),
    }
}

fn known_names(custom: &BTreeMap<String, ProfileDef>) -> String {
    let mut names: Vec<&str> = custom.keys().map(String::as_str).collect();
    for b in super::builtin_names() {
        if !names.contains(&b) {
            names.push(b);
        }
    }
    names.join(", ")
}

/// Resolves `name` and its `extends` chain, checks it and compiles one plan per root.
pub(crate) fn resolve(
    name: &str,
    custom: &BTreeMap<String, ProfileDef>,
    options: &GenericOptions,
) -> Result<Vec<MessagePlan>, String> {
    let first = find(name, custom, true)?
        .ok_or_else(|| format!("unknown profile '{name}' (known: {})", known_names(custom)))?;
    // The chain: the profile, then what it extends, and so on.
    let mut chain = vec![first];
    let mut current = name.to_string();
    let mut from_custom = custom.contains_key(name);
    while let Some(base) = chain.last().and_then(|f| f.def.extends.clone()) {
        let label = chain.last().map(|f| f.label.clone()).unwrap_or_default();
        // A custom profile extending its own name extends the built-in of that name.
        let allow_custom = !(base == current && from_custom);
        if chain.len() > 16 {
            return Err(format!("{label}: extends: the chain is too long"));
        }
        let found = find(&base, custom, allow_custom)?.ok_or_else(|| {
            format!(
                "{label}: extends: unknown profile '{base}' (known: {})",
                known_names(custom)
            )
        })?;
        if chain.iter().any(|f| f.label == found.label) {
            return Err(format!("{label}: extends: '{base}' makes a cycle"));
        }
        from_custom = allow_custom && custom.contains_key(&base);
        current = base;
        chain.push(found);
    }

    let profile_ack = chain.iter().find_map(|f| {
        f.def
            .acknowledge
            .as_ref()
            .map(|a| (f.label.clone(), a.clone()))
    });
    let profile_ack = match profile_ack {
        Some((label, a)) => compile_ack(&a).map_err(|e| format!("{label}: acknowledge: {e}"))?,
        None => AckPlan::default(),
    };

    let mut plans = Vec::new();
    for root in ROOTS {
        let (label, def) = chain
            .iter()
            .find_map(|f| f.def.messages.get(root).map(|m| (&f.label, m)))
            .ok_or_else(|| {
                format!("profile '{name}' lacks message {root} (messages.{root} is not defined)")
            })?;
        let plan = compile_message(root, def, &profile_ack, options)
            .map_err(|e| format!("{label}: messages.{root}.{e}"))?;
        plans.push(plan);
    }
    Ok(plans)
}

// ---------------------------------------------------------------------------------------------
// Compilation. Errors start with the key path below `messages.<Root>.`.

fn compile_ack(a: &AckDef) -> Result<AckPlan, String> {
    let check = |key: &str, p: &str| {
        if p.is_empty() || p.starts_with('/') {
            Ok(())
        } else {
            Err(format!(
                "{key}: \"{p}\" is not a JSON pointer (it must start with `/`)"
            ))
        }
    };
    if let Some(p) = &a.error_pointer {
        check("error_pointer", p)?;
    }
    let kind = match (a.mode, &a.id_pointer) {
        (AckMode::Id, Some(p)) => {
            check("id_pointer", p)?;
            AckKind::Id { pointer: p.clone() }
        }
        (AckMode::Id, None) => return Err("mode \"id\" needs id_pointer".to_string()),
        (AckMode::Batch, None) => AckKind::Batch,
        (AckMode::Status, None) => AckKind::Status,
        (_, Some(_)) => return Err("id_pointer is only allowed with mode \"id\"".to_string()),
    };
    Ok(AckPlan {
        kind,
        error_pointer: a.error_pointer.clone(),
    })
}

fn compile_message(
    root: &str,
    def: &MessageDef,
    profile_ack: &AckPlan,
    options: &GenericOptions,
) -> Result<MessagePlan, String> {
    let method = def.method.to_ascii_uppercase();
    if !matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
        return Err(format!(
            "method: \"{}\" is not one of POST, PUT, PATCH",
            def.method
        ));
    }

    let body = match &def.body {
        BodyDef::Json(v) => {
            if !(v.is_object() || v.is_array()) || is_field_spec(v) {
                return Err(
                    "body.json: the template must be a JSON object or array (not a field spec)"
                        .to_string(),
                );
            }
            BodyPlan::Json(compile_node(v, "body.json")?)
        }
        BodyDef::Generic(g) => {
            let mut always_array = options.always_array.clone();
            always_array.extend(g.always_array.iter().cloned());
            for p in &always_array {
                if p.split('/').any(|s| !is_local_name(s)) {
                    return Err(format!(
                        "body.generic.always_array (or itsm.generic.always_array): \"{p}\" is not local names joined by `/`"
                    ));
                }
            }
            BodyPlan::Generic { always_array }
        }
        BodyDef::ServicenowBatch(b) => {
            if b.table.is_empty()
                || !b
                    .table
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(format!(
                    "body.servicenow_batch.table: \"{}\" is not a table name",
                    b.table
                ));
            }
            BodyPlan::Batch {
                table: b.table.clone(),
            }
        }
    };

    let path_text = match (&def.path, &def.body) {
        (Some(p), _) => p.clone(),
        (None, BodyDef::Generic(_)) => options.path.clone().ok_or_else(|| {
            "path: not set, and itsm.generic.path is not configured (the generic conversion needs itsm.generic.path)".to_string()
        })?,
        (None, _) => return Err("path: missing".to_string()),
    };
    let path = Template::parse(&path_text).map_err(|e| format!("path: {e}"))?;
    check_path(&path).map_err(|e| format!("path: \"{path_text}\": {e}"))?;

    let mut query = Vec::new();
    for (k, v) in &def.query.0 {
        if k.is_empty() {
            return Err("query: an empty parameter name".to_string());
        }
        let t = Template::parse(v).map_err(|e| format!("query.{k}: {e}"))?;
        query.push((k.clone(), t));
    }

    let mut headers = Vec::new();
    for (k, v) in &def.headers.0 {
        let name = k.to_ascii_lowercase();
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token) {
            return Err(format!("headers.{k}: not a valid header name"));
        }
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(format!(
                "headers.{k}: the filter sets this header itself; a profile may not"
            ));
        }
        let t = Template::parse(v).map_err(|e| format!("headers.{k}: {e}"))?;
        if t.literals()
            .any(|l| l.chars().any(|c| c.is_control() && c != '\t'))
        {
            return Err(format!("headers.{k}: control characters in a header value"));
        }
        headers.push((name, t));
    }

    let mut required: Vec<(String, String)> = Vec::new();
    for (element, code) in &def.require.0 {
        if !is_local_name(element) {
            return Err(format!("require.{element}: not a local element name"));
        }
        if code.is_empty() || code.len() > 16 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "require.{element}: \"{code}\" is not an error code such as E010"
            ));
        }
        required.push((element.clone(), code.clone()));
    }
    // A path cannot be built without its placeholders: they are required too.
    for r in path.refs() {
        if let Some(n) = r.simple_name() {
            if !required.iter().any(|(e, _)| e == n) {
                let code = if n == "CustomerReferenceNumber" {
                    "E010"
                } else {
                    "E005"
                };
                required.push((n.to_string(), code.to_string()));
            }
        }
    }

    let ack = match &def.acknowledge {
        Some(a) => compile_ack(a).map_err(|e| format!("acknowledge: {e}"))?,
        None => profile_ack.clone(),
    };

    Ok(MessagePlan {
        root: root.to_string(),
        method,
        path,
        query,
        headers,
        required,
        body,
        ack,
    })
}

fn check_path(t: &Template) -> Result<(), String> {
    let starts_with_slash =
        matches!(t.pieces.first(), Some(super::template::Piece::Literal(l)) if l.starts_with('/'));
    if !starts_with_slash {
        return Err("must start with `/`".to_string());
    }
    for lit in t.literals() {
        if let Some(c) = lit
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'))
        {
            return Err(format!(
                "{c:?} is not allowed in a path (the query goes under `query`)"
            ));
        }
        let bytes = lit.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'%' {
                let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return Err("`%` must start a percent-encoded byte such as %7C".to_string());
                }
            }
        }
    }
    Ok(())
}

const SPEC_KEYS: [&str; 9] = [
    "$path",
    "$template",
    "$const",
    "$join",
    "$each",
    "$item",
    "$separator",
    "$map",
    "$unmapped",
];

fn is_spec_key(k: &str) -> bool {
    k.starts_with('$') && !k.starts_with("$$")
}

fn is_field_spec(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.keys().any(|k| is_spec_key(k)))
}

fn compile_alternatives(v: &Value, at: &str) -> Result<Alternatives, String> {
    let texts: Vec<&str> = match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| {
                x.as_str()
                    .ok_or_else(|| format!("{at}: alternatives must be strings"))
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(format!(
                "{at}: a template string or a non-empty array of template strings"
            ))
        }
    };
    let ts = texts
        .iter()
        .map(|t| Template::parse(t).map_err(|e| format!("{at}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Alternatives(ts))
}

fn compile_node(v: &Value, at: &str) -> Result<Node, String> {
    match v {
        Value::String(_) => Ok(Node::Field(Box::new(Field {
            source: Source::Text(compile_alternatives(v, at)?),
            map: None,
            unmapped: Unmapped::Omit,
        }))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| compile_node(x, &format!("{at}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Node::Array),
        Value::Object(o) if is_field_spec(v) => {
            compile_field(o, at).map(|f| Node::Field(Box::new(f)))
        }
        Value::Object(o) => o
            .iter()
            .map(|(k, x)| {
                let key = k
                    .strip_prefix('$')
                    .filter(|_| k.starts_with("$$"))
                    .unwrap_or(k);
                compile_node(x, &format!("{at}.{k}")).map(|n| (key.to_string(), n))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Node::Object),
        _ => Ok(Node::Value(v.clone())),
    }
}

fn compile_field(o: &Map<String, Value>, at: &str) -> Result<Field, String> {
    if let Some(k) = o.keys().find(|k| !SPEC_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "{at}: unknown key \"{k}\" in a field spec (known: {})",
            SPEC_KEYS.join(", ")
        ));
    }
    let sources: Vec<&str> = ["$path", "$template", "$const", "$join", "$each"]
        .into_iter()
        .filter(|k| o.contains_key(*k))
        .collect();
    let src_key = match sources.as_slice() {
        [one] => *one,
        [] => {
            return Err(format!(
                "{at}: a field spec needs one of $path, $template, $const, $join, $each"
            ))
        }
        _ => {
            return Err(format!(
                "{at}: a field spec takes only one of {}",
                sources.join(", ")
            ))
        }
    };
    let get = |k: &str| o.get(k);
    let only_with = |k: &str, allowed: &[&str]| -> Result<(), String> {
        if o.contains_key(k) && !allowed.contains(&src_key) {
            Err(format!("{at}.{k}: not allowed with {src_key}"))
        } else {
            Ok(())
        }
    };
    only_with("$item", &["$join", "$each"])?;
    only_with("$separator", &["$join"])?;
    only_with("$map", &["$path", "$template", "$join"])?;
    if o.contains_key("$unmapped") && !o.contains_key("$map") {
        return Err(format!("{at}.$unmapped: only allowed with $map"));
    }
    let path_of = |k: &str| -> Result<ElemRef, String> {
        let s = get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at}.{k}: an element path string"))?;
        ElemRef::parse(s).map_err(|e| format!("{at}.{k}: {e}"))
    };
    let item_at = format!("{at}.$item");
    let source = match src_key {
        "$path" => Source::Text(Alternatives(vec![Template {
            pieces: vec![super::template::Piece::Ref(path_of("$path")?)],
        }])),
        "$template" => Source::Text(compile_alternatives(
            get("$template").unwrap_or(&Value::Null),
            &format!("{at}.$template"),
        )?),
        "$const" => Source::Const(get("$const").cloned().unwrap_or(Value::Null)),
        "$join" => {
            let items = path_of("$join")?;
            if items.attribute.is_some() || items.steps.is_empty() {
                return Err(format!("{at}.$join: must name elements, not an attribute"));
            }
            let item = compile_alternatives(
                get("$item").ok_or_else(|| format!("{at}: $join needs $item"))?,
                &item_at,
            )?;
            let separator = match get("$separator") {
                None => "\n".to_string(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(format!("{at}.$separator: a string")),
            };
            Source::Join {
                items,
                item,
                separator,
            }
        }
        _ => {
            let items = path_of("$each")?;
            if items.attribute.is_some() || items.steps.is_empty() {
                return Err(format!("{at}.$each: must name elements, not an attribute"));
            }
            let item = compile_node(
                get("$item").ok_or_else(|| format!("{at}: $each needs $item"))?,
                &item_at,
            )?;
            Source::Each { items, item }
        }
    };
    let map = match get("$map") {
        None => None,
        Some(Value::Object(m)) => {
            let mut out: Vec<(String, Value)> = Vec::new();
            for (k, v) in m {
                let key = k.to_lowercase();
                if out.iter().any(|(seen, _)| *seen == key) {
                    return Err(format!(
                        "{at}.$map: \"{k}\" appears twice (keys match case-insensitively)"
                    ));
                }
                if v.is_object() || v.is_array() {
                    return Err(format!("{at}.$map.{k}: a string, number, boolean or null"));
                }
                out.push((key, v.clone()));
            }
            Some(out)
        }
        Some(_) => return Err(format!("{at}.$map: an object of value → replacement")),
    };
    let unmapped = match get("$unmapped").map(Value::as_str) {
        None | Some(Some("omit")) => Unmapped::Omit,
        Some(Some("keep")) => Unmapped::Keep,
        Some(Some("error")) => Unmapped::Error,
        Some(_) => {
            return Err(format!(
                "{at}.$unmapped: one of \"omit\", \"keep\", \"error\""
            ))
        }
    };
    Ok(Field {
        source,
        map,
        unmapped,
    })
}

// ---------------------------------------------------------------------------------------------
// Rendering

impl MessagePlan {
    pub(crate) fn render(&self, message: &Element) -> Result<ItsmRequest, String> {
        let mut path = self
            .path
            .render_with(message, message, &encode_component)
            .map_err(|r| format!("path placeholder {{{r}}} has no value"))?;
        // A value of `.` or `..` would climb out of the resource (`/incident/..` is the table):
        // such a request is not built at all.
        if path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
        {
            return Err("a path placeholder made a `.` or `..` segment".to_string());
        }
        let mut sep = '?';
        for (k, t) in &self.query {
            if let Some(v) = t.render(message, message) {
                path.push(sep);
                path.push_str(&encode_component(k));
                path.push('=');
                path.push_str(&encode_component(&v));
                sep = '&';
            }
        }
        let mut headers = Vec::new();
        for (k, t) in &self.headers {
            if let Some(v) = t.render(message, message) {
                if v.chars().any(|c| c.is_control() && c != '\t') {
                    return Err(format!("header {k}: control characters in its value"));
                }
                headers.push((k.clone(), v));
            }
        }
        let body = match &self.body {
            BodyPlan::Json(node) => node
                .render(message, message)?
                .unwrap_or_else(|| Value::Object(Map::new())),
            BodyPlan::Generic { always_array } => generic::convert(message, always_array),
            BodyPlan::Batch { table } => batch::body(message, table)?,
        };
        let body = serde_json::to_vec(&body).map_err(|e| format!("JSON body: {e}"))?;
        Ok(ItsmRequest {
            method: self.method.clone(),
            path,
            headers,
            body,
        })
    }
}

impl Node {
    /// `None`: omitted (its source is absent).
    pub(crate) fn render(&self, ctx: &Element, root: &Element) -> Result<Option<Value>, String> {
        match self {
            Node::Value(v) => Ok(Some(v.clone())),
            Node::Array(items) => {
                let mut out = Vec::new();
                for n in items {
                    if let Some(v) = n.render(ctx, root)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            Node::Object(fields) => {
                let mut out = Map::new();
                for (k, n) in fields {
                    if let Some(v) = n.render(ctx, root).map_err(|e| format!("{k}: {e}"))? {
                        out.insert(k.clone(), v);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            Node::Field(f) => f.render(ctx, root),
        }
    }
}

impl Field {
    fn render(&self, ctx: &Element, root: &Element) -> Result<Option<Value>, String> {
        let text = match &self.source {
            Source::Const(v) => return Ok(Some(v.clone())),
            Source::Each { items, item } => {
                let mut out = Vec::new();
                for el in items.elements(ctx, root) {
                    if let Some(v) = item.render(el, root)? {
                        out.push(v);
                    }
                }
                return Ok(if out.is_empty() {
                    None
                } else {
                    Some(Value::Array(out))
                });
            }
            Source::Text(alts) => alts.render(ctx, root),
            Source::Join {
                items,
                item,
                separator,
            } => {
                let parts: Vec<String> = items
                    .elements(ctx, root)
                    .into_iter()
                    .filter_map(|el| item.render(el, root))
                    .collect();
                if parts.is_empty() {
                    None
                } else {
                    Some(parts.join(separator))
                }
            }
        };
        let Some(text) = text else {
            return Ok(None);
        };
        let Some(map) = &self.map else {
            return Ok(Some(Value::String(text)));
        };
        let key = text.to_lowercase();
        if let Some((_, v)) = map.iter().find(|(k, _)| *k == key) {
            return Ok(Some(v.clone()));
        }
        match self.unmapped {
            Unmapped::Omit => Ok(None),
            Unmapped::Keep => Ok(Some(Value::String(text))),
            Unmapped::Error => {
                Err("a value is not in its $map (\"$unmapped\": \"error\")".to_string())
            }
        }
    }
}
