//! Support for the fuzz targets: the shared oracles (`check`) and the fixed configurations
//! the gateway targets are built from.

pub mod check;

use sita_sm_filter::config;
use sita_sm_filter::gateway::Gateway;

/// The inline key of the fixed configurations (`insecure_inline`, for tests only).
pub const OUTBOUND_KEY: &str = "fuzz-outbound-key";
pub const INBOUND_KEY: &str = "fuzz-inbound-key";

/// Outbound with the default limits, a module list and denied assignment groups.
pub const OUTBOUND: &str = r#"{"direction": "outbound", "insecure_inline": true,
  "apikey": {"value": "fuzz-outbound-key"},
  "modules": ["Network", "Email", "Check-in"],
  "denied_assignment_groups": ["*admin*", "root"]}"#;

/// Outbound with small limits, unknown elements ignored and a status override.
pub const OUTBOUND_SMALL: &str = r#"{"direction": "outbound", "insecure_inline": true,
  "apikey": {"value": "fuzz-outbound-key", "header": "x-api-key"},
  "limits": {"max_body_bytes": 4096, "max_depth": 4, "max_elements": 64,
             "max_attributes": 2, "max_name_length": 32, "max_text_bytes": 256},
  "max_attachment_bytes": 64, "unknown_elements": "ignore",
  "error_status": {"E006": 422}}"#;

pub const INBOUND_SERVICENOW: &str = r#"{"direction": "inbound", "insecure_inline": true,
  "apikeys": [{"value": "fuzz-inbound-key"}],
  "itsm": {"profile": "servicenow", "auth_header": "authorization", "auth": {"value": "Basic Zm9vOmJhcg=="}}}"#;

pub const INBOUND_GENERIC: &str = r#"{"direction": "inbound", "insecure_inline": true,
  "apikeys": [{"value": "fuzz-inbound-key"}],
  "itsm": {"profile": "generic", "auth": {"value": "Bearer t0ken"},
           "generic": {"path": "/push", "always_array": ["UpdateIncidentPush/WorkNotes/WorkNote"]}}}"#;

/// A gateway from one of the fixed configurations. `None` while the configuration cannot be
/// built (e.g. the profiles are still stubs), so the targets stay runnable.
pub fn gateway(json: &str) -> Option<Gateway> {
    let env = |_: &str| None;
    config::parse(json.as_bytes(), &env).ok().map(Gateway::new)
}

/// The status and headers of a refusal must make sense, and its body must be well-formed.
pub fn check_reply(reply: &sita_sm_filter::errors::Reply) {
    check_reply_status_in(reply, 400..=599);
}

/// As [`check_reply`], for configurations whose `error_status` may map a code to any status
/// the configuration accepts (200..=599).
pub fn check_reply_status_in(
    reply: &sita_sm_filter::errors::Reply,
    statuses: std::ops::RangeInclusive<u16>,
) {
    assert!(
        statuses.contains(&reply.status),
        "refusal status {}",
        reply.status
    );
    let code = reply
        .headers
        .iter()
        .find(|(n, _)| n == "x-sm-error-code")
        .map(|(_, v)| v.as_str());
    assert_eq!(code, Some(reply.code.as_str()), "x-sm-error-code header");
    if let Err(e) = check::well_formed(&reply.body) {
        panic!("ErrorResponse not well-formed: {e}\n{}", reply.body);
    }
}
