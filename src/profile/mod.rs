//! ITSM profiles (SPEC §4.3, §4.4): a small mapping language, written as JSON, that says for
//! each push message how the ITSM's native request is built, and how the ITSM's answer becomes
//! SITA's `PushResponse`. The built-in `servicenow` and `generic` profiles are written in the
//! same language (embedded JSON data); a custom profile in the configuration replaces or
//! extends them. The language is described in `docs/profiles.md`.

mod ack;
mod batch;
mod compile;
mod generic;
mod template;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::xml::Element;

pub use compile::ROOTS;

/// A profile as written in the configuration (`itsm.profiles.<name>`) or embedded.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDef {
    /// A profile (custom or built-in) whose messages and acknowledgement this one inherits
    /// where it does not define its own.
    #[serde(default)]
    pub extends: Option<String>,
    /// Free text for the operator; not used.
    #[serde(default)]
    pub description: Option<String>,
    /// How the ITSM's answer is read, for every message that does not say otherwise.
    #[serde(default)]
    pub acknowledge: Option<AckDef>,
    /// One mapping per push message root.
    #[serde(default)]
    pub messages: MessagesDef,
}

/// The mappings of a profile, one per push message root.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesDef {
    #[serde(rename = "CreateIncidentPush", default)]
    pub create_incident: Option<MessageDef>,
    #[serde(rename = "UpdateIncidentPush", default)]
    pub update_incident: Option<MessageDef>,
    #[serde(rename = "UpdateIncidentAttachmentPush", default)]
    pub update_attachments: Option<MessageDef>,
}

impl MessagesDef {
    pub(crate) fn get(&self, root: &str) -> Option<&MessageDef> {
        match root {
            "CreateIncidentPush" => self.create_incident.as_ref(),
            "UpdateIncidentPush" => self.update_incident.as_ref(),
            "UpdateIncidentAttachmentPush" => self.update_attachments.as_ref(),
            _ => None,
        }
    }
}

/// How one push message becomes the ITSM's request.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageDef {
    /// `POST`, `PUT` or `PATCH`.
    pub method: String,
    /// Path template (`/api/now/table/incident/{CustomerReferenceNumber}`); placeholders are
    /// percent-encoded as one path segment. May be left out with a `generic` body: then
    /// `itsm.generic.path` is used.
    #[serde(default)]
    pub path: Option<String>,
    /// Query parameters, name → value template (percent-encoded), in the order written.
    #[serde(default)]
    pub query: Pairs,
    /// Extra request headers, name → value template.
    #[serde(default)]
    pub headers: Pairs,
    /// Elements this profile needs beyond the catalogue: local name → error code when absent.
    #[serde(default)]
    pub require: Pairs,
    /// The JSON body.
    pub body: BodyDef,
    /// How the ITSM's answer to this message is read (default: the profile's `acknowledge`).
    #[serde(default)]
    pub acknowledge: Option<AckDef>,
}

/// The body of the ITSM request.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum BodyDef {
    /// A JSON template whose leaves are field specs (`docs/profiles.md`).
    Json(serde_json::Value),
    /// The lossless `generic` conversion.
    Generic(GenericBodyDef),
    /// ServiceNow's batch API, one attachment upload per `Attachment`.
    ServicenowBatch(BatchBodyDef),
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenericBodyDef {
    /// Paths that are always arrays, in addition to `itsm.generic.always_array`.
    pub always_array: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchBodyDef {
    /// The table the attachments are added to (`table_name`).
    pub table: String,
}

impl Default for BatchBodyDef {
    fn default() -> Self {
        BatchBodyDef {
            table: "incident".to_string(),
        }
    }
}

/// How the ITSM's answer is read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckDef {
    pub mode: AckMode,
    /// `id` mode: JSON pointer (RFC 6901) to the ITSM's id, a string.
    #[serde(default)]
    pub id_pointer: Option<String>,
    /// JSON pointer to the ITSM's error text in an error answer.
    #[serde(default)]
    pub error_pointer: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckMode {
    /// 2xx with the id at `id_pointer`; the id becomes `CustomerReferenceNumber`.
    Id,
    /// ServiceNow batch answer: `serviced_requests`, one per sub-request, each 2xx.
    Batch,
    /// Any 2xx is success, whatever the body.
    Status,
}

/// Name → string pairs written as a JSON object, kept in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pairs(pub Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Pairs, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, String>()? {
                    if out.iter().any(|(seen, _)| seen == &k) {
                        return Err(serde::de::Error::custom(format!("duplicate key \"{k}\"")));
                    }
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Options of the built-in `generic` profile (`itsm.generic`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenericOptions {
    pub path: Option<String>,
    pub always_array: Vec<String>,
}

/// A profile ready to use: checked once in `on_configure`.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    name: String,
    messages: Vec<compile::MessagePlan>,
}

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
    /// Sub-requests sent in a batch (attachments); 0 when unknown or not a batch. When
    /// non-zero, a batch answer must list exactly this many served sub-requests.
    pub batch_size: usize,
}

/// The acknowledgement to SITA: HTTP status and `PushResponse` XML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub status: u16,
    pub body: String,
}

/// The built-in profiles, as embedded JSON.
const BUILTINS: [(&str, &str); 2] = [
    ("servicenow", include_str!("servicenow.json")),
    ("generic", include_str!("generic.json")),
];

/// The built-in definition called `name`, parsed.
pub fn builtin(name: &str) -> Option<Result<ProfileDef, String>> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(n, text)| {
        serde_json::from_str::<ProfileDef>(text)
            .map_err(|e| format!("built-in profile '{n}' does not parse: {e}"))
    })
}

/// The names of the built-in profiles.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|(n, _)| *n)
}

impl Profile {
    /// Resolves `name` among the custom definitions first, then the built-ins.
    pub fn resolve(
        name: &str,
        custom: &BTreeMap<String, ProfileDef>,
        generic: &GenericOptions,
    ) -> Result<Profile, String> {
        let messages = compile::resolve(name, custom, generic)?;
        Ok(Profile {
            name: name.to_string(),
            messages,
        })
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn plan(&self, root: &str) -> Option<&compile::MessagePlan> {
        self.messages.iter().find(|m| m.root == root)
    }

    /// Elements this profile needs beyond the push catalogue: (local name, error code when absent).
    pub fn required_elements(&self, root: &str) -> Vec<(String, String)> {
        self.plan(root)
            .map(|p| p.required.clone())
            .unwrap_or_default()
    }

    /// Builds the ITSM request from a validated push message.
    pub fn render(&self, message: &Element) -> Result<ItsmRequest, String> {
        let plan = self.plan(&message.name).ok_or_else(|| {
            format!(
                "profile '{}' has no mapping for message {}",
                self.name, message.name
            )
        })?;
        plan.render(message)
            .map_err(|e| format!("profile '{}': {}: {e}", self.name, message.name))
    }

    /// What the response phase needs to know about this message: its root, IncidentNumber,
    /// CustomerReferenceNumber and the number of batch sub-requests it produced.
    pub fn ack_context(&self, message: &Element) -> AckContext {
        let text = |name: &str| {
            message
                .child(name)
                .map(|e| e.trimmed_text())
                .filter(|t| !t.is_empty())
        };
        let batch_size = match self.plan(&message.name).map(|p| &p.body) {
            Some(compile::BodyPlan::Batch { .. }) => batch::attachments(message).len(),
            _ => 0,
        };
        AckContext {
            root: message.name.clone(),
            incident_number: text("IncidentNumber").unwrap_or_default().to_string(),
            customer_reference: text("CustomerReferenceNumber").map(str::to_string),
            batch_size,
        }
    }

    /// Turns the ITSM's answer into SITA's acknowledgement. Never fails: an unexpected
    /// answer is a `Failure` acknowledgement.
    pub fn acknowledge(&self, ctx: &AckContext, status: u16, body: &[u8]) -> Acknowledgement {
        let plan = self
            .plan(&ctx.root)
            .map(|p| p.ack.clone())
            .unwrap_or_default();
        ack::acknowledge(&plan, ctx, status, body)
    }
}
