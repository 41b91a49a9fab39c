//! ITSM profiles (SPEC §4.3, §4.4): a small mapping language, written as JSON, that says for
//! each push message how the ITSM's native request is built, and how the ITSM's answer becomes
//! SITA's `PushResponse`. The built-in `servicenow` and `generic` profiles are written in the
//! same language (embedded JSON data); a custom profile in the configuration replaces or
//! extends them.

use crate::xml::Element;

/// A profile as written in the configuration (`itsm.profiles.<name>`) or embedded.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDef {}

/// Options of the built-in `generic` profile (`itsm.generic`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenericOptions {
    pub path: Option<String>,
    pub always_array: Vec<String>,
}

/// A profile ready to use: checked once in `on_configure`.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {}

/// The rewritten request for the ITSM (method, path with query, extra headers, JSON body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItsmRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the request phase keeps for the response phase.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AckContext {
    pub root: String,
    pub incident_number: String,
    pub customer_reference: Option<String>,
}

/// The acknowledgement to SITA: HTTP status and `PushResponse` XML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub status: u16,
    pub body: String,
}

impl Profile {
    /// Resolves `name` among the custom definitions first, then the built-ins.
    pub fn resolve(
        name: &str,
        custom: &std::collections::BTreeMap<String, ProfileDef>,
        generic: &GenericOptions,
    ) -> Result<Profile, String> {
        let _ = (name, custom, generic);
        Err("profiles not written yet".to_string())
    }

    /// Elements this profile needs beyond the push catalogue: (local name, error code when absent).
    pub fn required_elements(&self, root: &str) -> Vec<(String, String)> {
        let _ = root;
        Vec::new()
    }

    /// Builds the ITSM request from a validated push message.
    pub fn render(&self, message: &Element) -> Result<ItsmRequest, String> {
        let _ = message;
        Err("profiles not written yet".to_string())
    }

    /// Turns the ITSM's answer into SITA's acknowledgement. Never fails: an unexpected
    /// answer is a `Failure` acknowledgement.
    pub fn acknowledge(&self, ctx: &AckContext, status: u16, body: &[u8]) -> Acknowledgement {
        let _ = (ctx, status, body);
        Acknowledgement {
            status: 502,
            body: String::new(),
        }
    }
}
