//! The filter's configuration (SPEC §5): one strict JSON document, read once in
//! `on_configure`. Unknown keys, wrong types and impossible values are refused with a
//! message that names the key; secrets are named by environment variables and resolved
//! here, through a lookup the caller provides (the shell passes the VM's environment).

use crate::catalogue::{Catalogue, MessageOverride, Source};
use crate::errors;
use crate::profile::{GenericOptions, Profile, ProfileDef};
use crate::xml::Limits;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Which way the traffic flows through this filter instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Outbound,
    Inbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }
}

/// A secret value. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: &str) -> Self {
        Secret(value.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum UnknownElements {
    Reject,
    Ignore,
}

/// Where a secret comes from: `{"env": "NAME"}`, or `{"value": "..."}` with `insecure_inline`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretRef {
    env: Option<String>,
    #[serde(alias = "inline")]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiKeyConfig {
    header: Option<String>,
    env: Option<String>,
    #[serde(alias = "inline")]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItsmConfig {
    profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileDef>,
    auth_header: Option<String>,
    auth: Option<SecretRef>,
    #[serde(default)]
    generic: GenericOptions,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    direction: Direction,
    #[serde(default)]
    insecure_inline: bool,
    apikey: Option<ApiKeyConfig>,
    apikeys: Option<Vec<SecretRef>>,
    #[serde(default)]
    limits: Limits,
    max_attachment_bytes: Option<usize>,
    unknown_elements: Option<UnknownElements>,
    modules: Option<Vec<String>>,
    denied_assignment_groups: Option<Vec<String>>,
    routes: Option<BTreeMap<String, String>>,
    future_tolerance_seconds: Option<u32>,
    #[serde(default)]
    error_status: BTreeMap<String, u16>,
    #[serde(default)]
    catalogue: BTreeMap<String, MessageOverride>,
    itsm: Option<ItsmConfig>,
    log_level: Option<LogLevel>,
}

/// The filter's own log level (`log_level`), below which it writes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Resolves a secret reference: (configuration key, env name, inline value).
type SecretResolver<'a> =
    dyn Fn(&str, &Option<String>, &Option<String>) -> Result<Secret, String> + 'a;

/// The ITSM side of an inbound filter.
#[derive(Debug, Clone)]
pub struct Itsm {
    pub profile: Profile,
    pub auth_header: String,
    pub auth: Secret,
}

/// The checked configuration every request borrows.
#[derive(Debug, Clone)]
pub struct Settings {
    pub direction: Direction,
    /// The header SITA's key travels in (lower case).
    pub key_header: String,
    /// Outbound: the key injected into every request to SITA.
    pub outbound_key: Option<Secret>,
    /// Inbound: the keys SITA may present (several, for rotation).
    pub inbound_keys: Vec<Secret>,
    pub limits: Limits,
    pub max_attachment_bytes: usize,
    pub reject_unknown: bool,
    /// Named lists rules refer to (`modules`, `denied_assignment_groups`).
    pub lists: BTreeMap<String, Vec<String>>,
    /// GET path → query message key.
    pub routes: Vec<(String, String)>,
    pub future_tolerance_seconds: i64,
    pub error_status: BTreeMap<String, u16>,
    pub catalogue: Catalogue,
    pub itsm: Option<Itsm>,
    pub log_level: LogLevel,
}

const DEFAULT_KEY_HEADER: &str = "apikey";
const DEFAULT_MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;
const DEFAULT_FUTURE_TOLERANCE: u32 = 300;

/// Reads and checks the configuration. `env` looks up an environment variable.
/// The error names the key that is wrong and never contains a secret.
pub fn parse(json: &[u8], env: &dyn Fn(&str) -> Option<String>) -> Result<Settings, String> {
    let de = &mut serde_json::Deserializer::from_slice(json);
    let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        // serde quotes the offending value (`invalid type: string "…"`): that value may be a
        // key written in the wrong place, so it is never repeated.
        let inner = without_quoted_values(&e.into_inner().to_string());
        if path == "." || path.is_empty() {
            format!("configuration: {inner}")
        } else {
            format!("{path}: {inner}")
        }
    })?;
    build(raw, env)
}

/// `message` with the content of every double-quoted string replaced by `…`.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '"' {
            out.push('…');
            let mut escaped = false;
            for inner in chars.by_ref() {
                match (escaped, inner) {
                    (false, '\\') => escaped = true,
                    (false, '"') => break,
                    _ => escaped = false,
                }
            }
            out.push('"');
        }
    }
    out
}

fn build(raw: RawConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings, String> {
    let inline_ok = raw.insecure_inline;
    let secret = |key: &str, env_name: &Option<String>, value: &Option<String>| {
        resolve_secret(key, env_name, value, inline_ok, env)
    };

    let key_header = match raw.apikey.as_ref().and_then(|a| a.header.as_ref()) {
        Some(h) => header_name("apikey.header", h)?,
        None => DEFAULT_KEY_HEADER.to_string(),
    };

    let (outbound_key, inbound_keys, itsm) = match raw.direction {
        Direction::Outbound => {
            if raw.apikeys.is_some() {
                return Err(
                    "apikeys: only an inbound filter checks keys; outbound uses apikey".into(),
                );
            }
            if raw.itsm.is_some() {
                return Err("itsm: only an inbound filter talks to the ITSM".into());
            }
            let a = raw.apikey.as_ref().ok_or(
                "apikey: required for direction outbound, e.g. {\"env\": \"SITA_APIKEY\"}",
            )?;
            (Some(secret("apikey", &a.env, &a.value)?), Vec::new(), None)
        }
        Direction::Inbound => {
            if let Some(a) = &raw.apikey {
                if a.env.is_some() || a.value.is_some() {
                    return Err(
                        "apikey: an inbound filter takes its keys from apikeys; apikey may only name the header".into(),
                    );
                }
            }
            let refs = raw.apikeys.as_ref().ok_or(
                "apikeys: required for direction inbound, e.g. [{\"env\": \"SITA_PUSH_APIKEY\"}]",
            )?;
            if refs.is_empty() {
                return Err("apikeys: at least one key is required".into());
            }
            let keys = refs
                .iter()
                .enumerate()
                .map(|(i, r)| secret(&format!("apikeys[{i}]"), &r.env, &r.value))
                .collect::<Result<Vec<_>, _>>()?;
            let itsm = raw
                .itsm
                .as_ref()
                .ok_or("itsm: required for direction inbound")?;
            (None, keys, Some(build_itsm(itsm, &secret)?))
        }
    };

    check_limits(&raw.limits)?;
    let max_attachment_bytes = raw
        .max_attachment_bytes
        .unwrap_or(DEFAULT_MAX_ATTACHMENT_BYTES);
    if max_attachment_bytes == 0 {
        return Err("max_attachment_bytes: must be greater than 0".into());
    }

    for (code, status) in &raw.error_status {
        if !errors::is_known(code) {
            return Err(format!(
                "error_status.{code}: not a code this filter answers with"
            ));
        }
        if !(400..=599).contains(status) {
            return Err(format!(
                "error_status.{code}: {status} is not an error status (400 to 599)"
            ));
        }
    }

    let mut catalogue = match raw.direction {
        Direction::Outbound => Catalogue::outbound()?,
        Direction::Inbound => Catalogue::push()?,
    };
    catalogue.apply(&raw.catalogue)?;
    if let Some(itsm) = &itsm {
        require_profile_elements(&mut catalogue, &itsm.profile);
    }

    let routes = build_routes(&catalogue, raw.routes.as_ref())?;

    let mut lists = BTreeMap::new();
    for (key, list) in [
        ("modules", raw.modules),
        ("denied_assignment_groups", raw.denied_assignment_groups),
    ] {
        if let Some(list) = list {
            if list.iter().any(|v| v.trim().is_empty()) {
                return Err(format!("{key}: entries must not be empty"));
            }
            lists.insert(key.to_string(), list);
        }
    }

    Ok(Settings {
        direction: raw.direction,
        key_header,
        outbound_key,
        inbound_keys,
        limits: raw.limits,
        max_attachment_bytes,
        reject_unknown: raw.unknown_elements != Some(UnknownElements::Ignore),
        lists,
        routes,
        future_tolerance_seconds: i64::from(
            raw.future_tolerance_seconds
                .unwrap_or(DEFAULT_FUTURE_TOLERANCE),
        ),
        error_status: raw.error_status,
        catalogue,
        itsm,
        log_level: raw.log_level.unwrap_or(LogLevel::Info),
    })
}

fn resolve_secret(
    key: &str,
    env_name: &Option<String>,
    value: &Option<String>,
    inline_ok: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, String> {
    match (env_name, value) {
        (Some(_), Some(_)) => Err(format!("{key}: give either env or value, not both")),
        (Some(name), None) => match env(name) {
            Some(v) if !v.is_empty() => Ok(Secret(v)),
            _ => Err(format!(
                "{key}.env: environment variable {name} is not set or empty \
                 (list it in vm_config.environment_variables.host_env_keys)"
            )),
        },
        (None, Some(v)) if inline_ok && !v.is_empty() => Ok(Secret(v.clone())),
        (None, Some(_)) if inline_ok => Err(format!("{key}.value: must not be empty")),
        (None, Some(_)) => Err(format!(
            "{key}.value: inline secrets are refused unless \"insecure_inline\": true; \
             name an environment variable with {{\"env\": \"NAME\"}}"
        )),
        (None, None) => Err(format!("{key}: needs {{\"env\": \"NAME\"}}")),
    }
}

fn build_itsm(itsm: &ItsmConfig, secret: &SecretResolver) -> Result<Itsm, String> {
    let name = itsm.profile.as_deref().unwrap_or("servicenow");
    let profile = Profile::resolve(name, &itsm.profiles, &itsm.generic)
        .map_err(|e| format!("itsm.profile: {e}"))?;
    let auth_header = header_name(
        "itsm.auth_header",
        itsm.auth_header.as_deref().unwrap_or("authorization"),
    )?;
    let auth_ref = itsm
        .auth
        .as_ref()
        .ok_or("itsm.auth: required, e.g. {\"env\": \"ITSM_AUTH\"}")?;
    let auth = secret("itsm.auth", &auth_ref.env, &auth_ref.value)?;
    Ok(Itsm {
        profile,
        auth_header,
        auth,
    })
}

/// The profile's own required elements (servicenow: CustomerReferenceNumber, E010) become
/// required fields of the push catalogue, so validation answers them like any other rule.
fn require_profile_elements(catalogue: &mut Catalogue, profile: &Profile) {
    for message in catalogue.messages.values_mut() {
        let Some(root) = message.standard_root().map(str::to_string) else {
            continue;
        };
        for (name, code) in profile.required_elements(&root) {
            if let Some(field) = message.fields.iter_mut().find(|f| f.name == name) {
                field.required = true;
                field.absent = Some(crate::catalogue::Outcome {
                    code,
                    message: None,
                });
            }
        }
    }
}

fn build_routes(
    catalogue: &Catalogue,
    overrides: Option<&BTreeMap<String, String>>,
) -> Result<Vec<(String, String)>, String> {
    let mut routes: BTreeMap<String, String> = catalogue
        .messages
        .iter()
        .filter(|(_, m)| m.source == Source::Query)
        .filter_map(|(k, m)| m.route.clone().map(|r| (k.clone(), r)))
        .collect();
    for (key, path) in overrides.into_iter().flatten() {
        if !routes.contains_key(key) {
            let known: Vec<&str> = routes.keys().map(String::as_str).collect();
            return Err(format!(
                "routes.{key}: no such operation (known: {})",
                known.join(", ")
            ));
        }
        if !path.starts_with('/') || path.contains('?') || path.contains(char::is_whitespace) {
            return Err(format!(
                "routes.{key}: a path starting with / and without a query"
            ));
        }
        routes.insert(key.clone(), path.clone());
    }
    let mut by_path: Vec<(String, String)> = routes
        .into_iter()
        .map(|(k, p)| (normalise_path(&p).to_string(), k))
        .collect();
    by_path.sort();
    for pair in by_path.windows(2) {
        if let [a, b] = pair {
            if a.0 == b.0 {
                return Err(format!(
                    "routes.{}: path {} is also routes.{}",
                    b.1, b.0, a.1
                ));
            }
        }
    }
    Ok(by_path)
}

/// A route path without its trailing slash (`/incidents/` is `/incidents`).
pub fn normalise_path(path: &str) -> &str {
    if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    }
}

fn check_limits(l: &Limits) -> Result<(), String> {
    for (name, v) in [
        ("max_body_bytes", l.max_body_bytes),
        ("max_depth", l.max_depth),
        ("max_elements", l.max_elements),
        ("max_attributes", l.max_attributes),
        ("max_name_length", l.max_name_length),
        ("max_text_bytes", l.max_text_bytes),
    ] {
        if v == 0 {
            return Err(format!("limits.{name}: must be greater than 0"));
        }
    }
    Ok(())
}

fn header_name(key: &str, name: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && !name.starts_with(':')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
    if ok {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(format!("{key}: {name:?} is not a valid header name"))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SITA_APIKEY" => Some("sita-secret".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn outbound(extra: &str) -> Result<Settings, String> {
        let json =
            format!(r#"{{"direction": "outbound", "apikey": {{"env": "SITA_APIKEY"}}{extra}}}"#);
        parse(json.as_bytes(), &env)
    }

    #[test]
    fn least_outbound_form_and_defaults() {
        let s = outbound("").unwrap();
        assert_eq!(s.direction, Direction::Outbound);
        assert_eq!(s.key_header, "apikey");
        assert_eq!(s.outbound_key.as_ref().unwrap().expose(), "sita-secret");
        assert_eq!(s.limits, Limits::default());
        assert_eq!(s.max_attachment_bytes, 5 * 1024 * 1024);
        assert!(s.reject_unknown);
        assert_eq!(s.future_tolerance_seconds, 300);
        assert!(s
            .routes
            .contains(&("/incidents".to_string(), "list_incidents".to_string())));
        assert!(!format!("{s:?}").contains("sita-secret"));
    }

    #[test]
    fn every_optional_key() {
        let s = outbound(
            r#", "limits": {"max_depth": 8, "max_body_bytes": 1000},
               "max_attachment_bytes": 10, "unknown_elements": "ignore",
               "modules": ["Network"], "denied_assignment_groups": ["*admin*"],
               "routes": {"list_incidents": "/api/v1/incidents/"},
               "future_tolerance_seconds": 0, "error_status": {"E006": 422},
               "catalogue": {"create_incident": {"fields": {"ShortDescription": {"max": 100}}}},
               "log_level": "trace""#,
        )
        .unwrap();
        assert_eq!(s.limits.max_depth, 8);
        assert_eq!(s.limits.max_elements, 10_000);
        assert!(!s.reject_unknown);
        assert!(s.routes.contains(&(
            "/api/v1/incidents".to_string(),
            "list_incidents".to_string()
        )));
        assert_eq!(s.error_status.get("E006"), Some(&422));
        assert_eq!(s.log_level, LogLevel::Trace);
    }

    #[test]
    fn each_kind_of_bad_configuration_names_its_key() {
        let cases: &[(&str, &str)] = &[
            (r#", "colour": "red""#, "unknown field `colour`"),
            (r#", "limits": {"max_dept": 3}"#, "limits"),
            (r#", "limits": {"max_depth": "3"}"#, "limits.max_depth"),
            (r#", "limits": {"max_depth": 0}"#, "limits.max_depth"),
            (r#", "limits": {"max_depth": -1}"#, "limits.max_depth"),
            (r#", "max_attachment_bytes": 0"#, "max_attachment_bytes"),
            (r#", "unknown_elements": "drop""#, "unknown_elements"),
            (r#", "modules": "Network""#, "modules"),
            (r#", "modules": [" "]"#, "modules"),
            (r#", "routes": {"list": "/x"}"#, "routes.list"),
            (
                r#", "routes": {"list_incidents": "x"}"#,
                "routes.list_incidents",
            ),
            (
                r#", "routes": {"list_incidents": "/incident"}"#,
                "routes.read_incident",
            ),
            (
                r#", "future_tolerance_seconds": -5"#,
                "future_tolerance_seconds",
            ),
            (r#", "error_status": {"E999": 400}"#, "error_status.E999"),
            (r#", "error_status": {"E006": 99}"#, "error_status.E006"),
            (r#", "error_status": {"E006": 200}"#, "error_status.E006"),
            (r#", "catalogue": {"nope": {}}"#, "catalogue.nope"),
            (r#", "itsm": {}"#, "itsm"),
            (r#", "apikeys": []"#, "apikeys"),
            (r#", "log_level": "loud""#, "log_level"),
        ];
        for (extra, needle) in cases {
            let err = outbound(extra).unwrap_err();
            assert!(err.contains(needle), "{extra}: {err}");
        }
        for (json, needle) in [
            (r#"{"apikey": {"env": "SITA_APIKEY"}}"#, "direction"),
            (r#"{"direction": "sideways"}"#, "direction"),
            (r#"{"direction": "outbound"}"#, "apikey"),
            (
                r#"{"direction": "outbound", "apikey": {"env": "NOPE"}}"#,
                "apikey.env",
            ),
            (
                r#"{"direction": "outbound", "apikey": {"env": "EMPTY"}}"#,
                "apikey.env",
            ),
            (
                r#"{"direction": "outbound", "apikey": {"value": "k"}}"#,
                "insecure_inline",
            ),
            (
                r#"{"direction": "outbound", "apikey": {"env": "SITA_APIKEY", "header": "bad header"}}"#,
                "apikey.header",
            ),
            (r#"{"direction": "inbound", "itsm": {}}"#, "apikeys"),
            ("not json", "configuration"),
            ("", "configuration"),
        ] {
            let err = parse(json.as_bytes(), &env).unwrap_err();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn inline_secrets_only_when_insecure_inline() {
        let ok = parse(
            br#"{"direction": "outbound", "insecure_inline": true, "apikey": {"value": "k1", "header": "X-Api-Key"}}"#,
            &env,
        )
        .unwrap();
        assert_eq!(ok.outbound_key.unwrap().expose(), "k1");
        assert_eq!(ok.key_header, "x-api-key");
    }

    #[test]
    fn a_key_written_in_the_wrong_place_is_never_repeated() {
        for json in [
            r#"{"direction": "outbound", "apikey": "supersecret-123"}"#,
            r#"{"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}, "apikeys": "supersecret-123"}"#,
            r#"{"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}, "insecure_inline": "supersecret-123"}"#,
            r#"{"direction": "outbound", "apikey": {"env": "SITA_APIKEY"}, "modules": "super\"secret-123"}"#,
        ] {
            let err = parse(json.as_bytes(), &env).unwrap_err();
            assert!(!err.contains("secret-123"), "{err}");
            assert!(err.contains("invalid type"), "{err}");
        }
        assert_eq!(without_quoted_values(r#"a "b\"c" d "e""#), r#"a "…" d "…""#);
    }

    #[test]
    fn errors_never_contain_secrets() {
        let err = parse(
            br#"{"direction": "outbound", "apikey": {"value": "topsecret-value"}}"#,
            &env,
        )
        .unwrap_err();
        assert!(!err.contains("topsecret-value"), "{err}");
    }
}
