//! The decisions of both directions, as plain functions of what the host hands over:
//! request head, whole body, ITSM answer. The shell applies the `Decision`s; this module
//! never calls the host.

use crate::catalogue::{Message, Source};
use crate::config::{normalise_path, Direction, Settings};
use crate::errors::{self, Reply, Violation};
use crate::profile::{AckContext, Acknowledgement, ItsmRequest};
use crate::validate::{self, Context};
use crate::xml::{self, Element, XmlError};
use subtle::ConstantTimeEq;

/// The request head as the host reports it.
#[derive(Debug, Clone, Default)]
pub struct Head<'a> {
    pub method: &'a str,
    /// `:path`, query included.
    pub path: &'a str,
    pub content_type: Option<&'a str>,
    pub content_length: Option<&'a str>,
    /// The value of the key header (`Settings::key_header`), if any.
    pub apikey: Option<&'a str>,
    /// The headers ended the stream: there is no body.
    pub end_of_stream: bool,
}

/// What to do once the head is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadDecision {
    /// Answer the client now; nothing goes upstream.
    Answer(Refusal),
    /// Send the request on (outbound: with the key injected).
    Forward { operation: String },
    /// Hold the headers until the whole body has been judged.
    ReadBody,
}

/// What to do once the whole body is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyDecision {
    Answer(Refusal),
    /// Outbound: forward the body untouched.
    Forward {
        operation: String,
    },
    /// Inbound: replace the request by the ITSM's native one.
    Rewrite {
        operation: String,
        request: ItsmRequest,
        ack: AckContext,
    },
}

/// An answer the filter gives itself, with what the logs and metrics need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub operation: String,
    pub reply: Reply,
}

const NO_OPERATION: &str = "-";

/// The request-phase and response-phase decisions for one configuration.
#[derive(Debug)]
pub struct Gateway {
    pub settings: Settings,
    /// What is cut out of the ITSM's error text before it reaches SITA: the ITSM credential
    /// (also without its `Basic `/`Bearer ` scheme) and SITA's keys.
    redactions: Vec<crate::config::Secret>,
}

impl Gateway {
    pub fn new(settings: Settings) -> Self {
        let mut redactions = settings.inbound_keys.clone();
        if let Some(itsm) = &settings.itsm {
            redactions.push(itsm.auth.clone());
            if let Some((_, token)) = itsm.auth.expose().rsplit_once(' ') {
                redactions.push(crate::config::Secret::new(token));
            }
        }
        Gateway {
            settings,
            redactions,
        }
    }

    fn refuse(&self, operation: &str, violations: &[Violation]) -> Refusal {
        Refusal {
            operation: operation.to_string(),
            reply: errors::render(violations, &self.settings.error_status),
        }
    }

    fn refuse_one(&self, operation: &str, v: Violation) -> Refusal {
        self.refuse(operation, &[v])
    }

    /// The filter's own fault (SPEC §7): `500` for this request, nothing forwarded.
    pub fn server_error(&self, operation: &str) -> Refusal {
        self.refuse_one(operation, Violation::plain("500", ""))
    }

    /// Judges the head. `now` is the host clock in seconds since the epoch.
    pub fn on_head(&self, head: &Head, now: Option<i64>) -> HeadDecision {
        match self.settings.direction {
            Direction::Outbound => self.outbound_head(head, now),
            Direction::Inbound => self.inbound_head(head),
        }
    }

    fn outbound_head(&self, head: &Head, now: Option<i64>) -> HeadDecision {
        let method = head.method.to_ascii_uppercase();
        match method.as_str() {
            "POST" | "PUT" | "PATCH" => self.body_head_checks(head),
            "GET" => self.outbound_get(head.path, now),
            _ => HeadDecision::Forward {
                operation: NO_OPERATION.to_string(),
            },
        }
    }

    fn outbound_get(&self, path: &str, now: Option<i64>) -> HeadDecision {
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let route = normalise_path(route);
        let Some(key) = self
            .settings
            .routes
            .iter()
            .find(|(p, _)| p == route)
            .map(|(_, k)| k)
        else {
            return HeadDecision::Forward {
                operation: NO_OPERATION.to_string(),
            };
        };
        let Some(message) = self.settings.catalogue.messages.get(key) else {
            return HeadDecision::Forward {
                operation: NO_OPERATION.to_string(),
            };
        };
        let params = query_element(query);
        let violations = validate::validate(message, &params, &self.context(now));
        if violations.is_empty() {
            HeadDecision::Forward {
                operation: message.operation.clone(),
            }
        } else {
            HeadDecision::Answer(self.refuse(&message.operation, &violations))
        }
    }

    fn inbound_head(&self, head: &Head) -> HeadDecision {
        if !head.method.eq_ignore_ascii_case("POST") {
            return HeadDecision::Answer(self.refuse_one(
                NO_OPERATION,
                Violation::new("E004", "", "Method Not Allowed").with_status(405),
            ));
        }
        if !self.key_matches(head.apikey) {
            return HeadDecision::Answer(self.refuse_one(
                NO_OPERATION,
                Violation::plain("E001", &self.settings.key_header),
            ));
        }
        self.body_head_checks(head)
    }

    /// Constant-time comparison against every configured key (no early exit on a match).
    fn key_matches(&self, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        let mut any = subtle::Choice::from(0u8);
        for key in &self.settings.inbound_keys {
            any |= key.expose().as_bytes().ct_eq(presented.as_bytes());
        }
        bool::from(any)
    }

    /// Content type, declared length and presence of a body (both directions).
    fn body_head_checks(&self, head: &Head) -> HeadDecision {
        if !is_xml_content_type(head.content_type) {
            return HeadDecision::Answer(
                self.refuse_one(
                    NO_OPERATION,
                    Violation::new(
                        "E004",
                        "Content-Type",
                        "Content-Type must be application/xml",
                    )
                    .with_status(415),
                ),
            );
        }
        let declared = head
            .content_length
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(len) = declared {
            if let Some(refusal) = self.body_too_large(usize::try_from(len).unwrap_or(usize::MAX)) {
                return HeadDecision::Answer(refusal);
            }
        }
        if head.end_of_stream || declared == Some(0) {
            return HeadDecision::Answer(self.refuse_one(
                NO_OPERATION,
                Violation::new("E004", "", XmlError::Empty.detail()),
            ));
        }
        HeadDecision::ReadBody
    }

    /// The 413 refusal once `size` bytes exceed `max_body_bytes`; checked on every chunk.
    pub fn body_too_large(&self, size: usize) -> Option<Refusal> {
        let max = self.settings.limits.max_body_bytes;
        (size > max).then(|| {
            let detail = XmlError::Limit {
                name: "max_body_bytes",
                value: max,
            }
            .detail();
            self.refuse_one(
                NO_OPERATION,
                Violation::new("E004", "", detail).with_status(413),
            )
        })
    }

    /// Judges the complete body.
    pub fn on_body(&self, body: &[u8], now: Option<i64>) -> BodyDecision {
        if let Some(refusal) = self.body_too_large(body.len()) {
            return BodyDecision::Answer(refusal);
        }
        let root = match xml::parse(body, &self.settings.limits) {
            Ok(root) => root,
            Err(e) => {
                let mut v = Violation::new("E004", "", e.detail());
                if matches!(
                    e,
                    XmlError::Limit {
                        name: "max_body_bytes",
                        ..
                    }
                ) {
                    v = v.with_status(413);
                }
                return BodyDecision::Answer(self.refuse_one(NO_OPERATION, v));
            }
        };
        let Some((_, message)) = self.settings.catalogue.by_root(&root.name) else {
            return BodyDecision::Answer(self.refuse_one(
                NO_OPERATION,
                Violation::new(
                    "E004",
                    &root.name,
                    format!("Unknown Message {}", errors::echo(&root.name)),
                ),
            ));
        };
        let violations = validate::validate(message, &root, &self.context(now));
        if !violations.is_empty() {
            return BodyDecision::Answer(self.refuse(&message.operation, &violations));
        }
        match &self.settings.itsm {
            None => BodyDecision::Forward {
                operation: message.operation.clone(),
            },
            Some(itsm) => {
                let mut root = root;
                if let Some(standard) = message.standard_root() {
                    standard.clone_into(&mut root.name);
                }
                self.rewrite(itsm, message, &root)
            }
        }
    }

    fn rewrite(
        &self,
        itsm: &crate::config::Itsm,
        message: &Message,
        root: &Element,
    ) -> BodyDecision {
        match itsm.profile.render(root) {
            Ok(request) => BodyDecision::Rewrite {
                operation: message.operation.clone(),
                request,
                ack: itsm.profile.ack_context(root),
            },
            Err(_) => BodyDecision::Answer(self.server_error(&message.operation)),
        }
    }

    /// Inbound: the ITSM's answer → SITA's acknowledgement.
    /// The ITSM's error text may echo what it was sent; `redactions` are cut out of it before
    /// any of it can reach SITA.
    pub fn on_itsm_answer(&self, ack: &AckContext, status: u16, body: &[u8]) -> Acknowledgement {
        match &self.settings.itsm {
            Some(itsm) => {
                let body = redact(body, self.redactions.iter().map(|s| s.expose()));
                itsm.profile.acknowledge(ack, status, &body)
            }
            None => Acknowledgement {
                status: 500,
                body: String::new(),
            },
        }
    }

    fn context(&self, now: Option<i64>) -> Context<'_> {
        Context {
            lists: Some(&self.settings.lists),
            max_attachment_bytes: self.settings.max_attachment_bytes,
            reject_unknown: self.settings.reject_unknown,
            now,
            future_tolerance_seconds: self.settings.future_tolerance_seconds,
        }
    }

    /// The message definition for a body root (for tests and the CLI).
    pub fn message_for_root(&self, root: &str) -> Option<&Message> {
        self.settings
            .catalogue
            .by_root(root)
            .map(|(_, m)| m)
            .filter(|m| m.source == Source::Body)
    }
}

/// `body` with every occurrence of a secret (of at least 4 bytes) replaced by `[redacted]`.
fn redact<'a, 's>(
    body: &'a [u8],
    secrets: impl IntoIterator<Item = &'s str>,
) -> std::borrow::Cow<'a, [u8]> {
    let mut out = std::borrow::Cow::Borrowed(body);
    for secret in secrets
        .into_iter()
        .map(str::as_bytes)
        .filter(|s| s.len() >= 4)
    {
        if !out.windows(secret.len()).any(|w| w == secret) {
            continue;
        }
        let mut replaced = Vec::with_capacity(out.len());
        let mut rest: &[u8] = &out;
        while !rest.is_empty() {
            if rest.starts_with(secret) {
                replaced.extend_from_slice(b"[redacted]");
                rest = rest.get(secret.len()..).unwrap_or_default();
            } else if let Some((first, tail)) = rest.split_first() {
                replaced.push(*first);
                rest = tail;
            }
        }
        out = std::borrow::Cow::Owned(replaced);
    }
    out
}

/// `application/xml` or `text/xml`, parameters allowed.
pub fn is_xml_content_type(value: Option<&str>) -> bool {
    let essence = value
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    essence.eq_ignore_ascii_case("application/xml") || essence.eq_ignore_ascii_case("text/xml")
}

/// The query string as a flat element: one child per parameter, percent-decoded, `+` a space.
pub fn query_element(query: &str) -> Element {
    Element {
        name: "query".to_string(),
        attributes: Vec::new(),
        text: String::new(),
        children: form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| Element {
                name: k.into_owned(),
                attributes: Vec::new(),
                text: v.into_owned(),
                children: Vec::new(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::config;

    const NOW: Option<i64> = Some(1_796_299_200);

    fn gateway(json: &str) -> Gateway {
        let env = |n: &str| (n == "K").then(|| "sita-key".to_string());
        Gateway::new(config::parse(json.as_bytes(), &env).unwrap())
    }

    fn outbound() -> Gateway {
        gateway(
            r#"{"direction": "outbound", "apikey": {"env": "K"}, "limits": {"max_body_bytes": 2000}}"#,
        )
    }

    fn head<'a>(method: &'a str, path: &'a str, ct: Option<&'a str>) -> Head<'a> {
        Head {
            method,
            path,
            content_type: ct,
            ..Head::default()
        }
    }

    fn refused(d: HeadDecision) -> (u16, String, String) {
        match d {
            HeadDecision::Answer(r) => (r.reply.status, r.reply.code, r.reply.field),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn content_type_length_and_empty_body() {
        let g = outbound();
        assert_eq!(refused(g.on_head(&head("POST", "/x", None), NOW)).0, 415);
        assert_eq!(
            refused(g.on_head(&head("PUT", "/x", Some("application/json")), NOW)).0,
            415
        );
        for ok in [
            "application/xml",
            "text/xml; charset=utf-8",
            "Application/XML ;x=y",
        ] {
            assert_eq!(
                g.on_head(&head("POST", "/x", Some(ok)), NOW),
                HeadDecision::ReadBody,
                "{ok}"
            );
        }
        let mut h = head("POST", "/x", Some("application/xml"));
        h.content_length = Some("2001");
        assert_eq!(refused(g.on_head(&h, NOW)).0, 413);
        h.content_length = Some("2000");
        assert_eq!(g.on_head(&h, NOW), HeadDecision::ReadBody);
        h.end_of_stream = true;
        let (status, code, _) = refused(g.on_head(&h, NOW));
        assert_eq!((status, code.as_str()), (400, "E004"));
        assert!(g.body_too_large(2000).is_none());
        assert_eq!(g.body_too_large(2001).unwrap().reply.status, 413);
    }

    #[test]
    fn get_routes() {
        let g = outbound();
        assert_eq!(
            refused(g.on_head(&head("GET", "/incidents", None), NOW)).1,
            "E012"
        );
        assert_eq!(
            refused(g.on_head(&head("GET", "/incidents/?x=1", None), NOW)).1,
            "E012"
        );
        assert!(matches!(
            g.on_head(&head("GET", "/incidents?ActiveStatus=false", None), NOW),
            HeadDecision::Forward { .. }
        ));
        assert_eq!(
            refused(g.on_head(
                &head("GET", "/incident/attachment?IncidentNumber=a%20b", None),
                NOW
            ))
            .1,
            "E006"
        );
        assert!(matches!(
            g.on_head(&head("GET", "/elsewhere", None), NOW),
            HeadDecision::Forward { .. }
        ));
        assert!(matches!(
            g.on_head(&head("DELETE", "/incident", None), NOW),
            HeadDecision::Forward { .. }
        ));
    }

    #[test]
    fn bodies() {
        let g = outbound();
        let refusal = |body: &str| match g.on_body(body.as_bytes(), NOW) {
            BodyDecision::Answer(r) => (r.reply.status, r.reply.code, r.reply.body),
            other => panic!("expected a refusal, got {other:?}"),
        };
        let (_, code, body) = refusal("<Other/>");
        assert_eq!(code, "E004");
        assert!(body.contains("Unknown Message Other"));
        let (_, _, body) = refusal("<!DOCTYPE x><x/>");
        assert!(body.contains("DTD is not allowed"));
        assert_eq!(refusal(&"x".repeat(2001)).0, 413);
        let valid = "<ns:CreateIncidentRequest xmlns:ns=\"urn:sita\"><ns:CustomerReferenceNumber>C1</ns:CustomerReferenceNumber>\
            <ns:AffectedEndUser>u</ns:AffectedEndUser><ns:ShortDescription>s</ns:ShortDescription>\
            <ns:Description>d</ns:Description><ns:Module>m</ns:Module></ns:CreateIncidentRequest>";
        assert_eq!(
            g.on_body(valid.as_bytes(), NOW),
            BodyDecision::Forward {
                operation: "CREATE INCIDENT".to_string()
            }
        );
    }

    #[test]
    fn inbound_head_checks_method_then_key() {
        let g = gateway(
            r#"{"direction": "inbound", "insecure_inline": true,
                "apikeys": [{"value": "old-key-1"}, {"value": "new-key-2"}],
                "itsm": {"profile": "generic", "generic": {"path": "/push"}, "auth": {"value": "Basic x"}}}"#,
        );
        let mut h = head("GET", "/", Some("application/xml"));
        h.apikey = Some("new-key-2");
        assert_eq!(refused(g.on_head(&h, NOW)).0, 405);
        h.method = "POST";
        assert_eq!(g.on_head(&h, NOW), HeadDecision::ReadBody);
        h.apikey = Some("old-key-1");
        assert_eq!(g.on_head(&h, NOW), HeadDecision::ReadBody);
        // Same length, differing in the first or the last byte; absent; empty.
        for wrong in [Some("xew-key-2"), Some("new-key-3"), None, Some("")] {
            h.apikey = wrong;
            assert_eq!(
                refused(g.on_head(&h, NOW)),
                (401, "E001".to_string(), "apikey".to_string())
            );
        }
        // The key is judged before the content type.
        h.content_type = Some("application/json");
        assert_eq!(refused(g.on_head(&h, NOW)).1, "E001");
    }

    fn servicenow(extra: &str) -> Gateway {
        gateway(&format!(
            r#"{{"direction": "inbound", "insecure_inline": true, "apikeys": [{{"value": "k"}}],
                "itsm": {{"auth": {{"value": "Basic x"}}}}{extra}}}"#
        ))
    }

    const UPDATE: &str = "<UpdateIncidentPush><IncidentNumber>INC9</IncidentNumber>\
        <CustomerReferenceNumber>abc123</CustomerReferenceNumber><UpdatedAt>2026-01-01 00:00:00</UpdatedAt>\
        <State>Closed</State></UpdateIncidentPush>";

    #[test]
    fn inbound_rewrite_and_acknowledgement() {
        let g = servicenow("");
        let BodyDecision::Rewrite {
            operation,
            request,
            ack,
        } = g.on_body(UPDATE.as_bytes(), NOW)
        else {
            panic!("expected a rewrite");
        };
        assert_eq!(operation, "UPDATE INCIDENT (PUSH)");
        assert_eq!(request.method, "PATCH");
        assert!(request.path.starts_with("/api/now/table/incident/abc123?"));
        let json: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(json["state"], "7");
        assert_eq!(json["correlation_id"], "INC9");
        let answer = g.on_itsm_answer(&ack, 200, br#"{"result": {"sys_id": "abc123"}}"#);
        assert_eq!(answer.status, 200);
        assert!(answer.body.contains("<Status>Success</Status>"));
        assert_eq!(g.on_itsm_answer(&ack, 404, b"{}").status, 404);
        assert_eq!(g.on_itsm_answer(&ack, 503, b"down").status, 502);
    }

    #[test]
    fn servicenow_needs_the_customer_reference_on_update() {
        let g = servicenow("");
        let without = UPDATE.replace(
            "<CustomerReferenceNumber>abc123</CustomerReferenceNumber>",
            "",
        );
        match g.on_body(without.as_bytes(), NOW) {
            BodyDecision::Answer(r) => assert_eq!(r.reply.code, "E010"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_renamed_root_still_finds_its_profile_mapping() {
        let g =
            servicenow(r#", "catalogue": {"update_incident_push": {"root": "IncidentUpdated"}}"#);
        let renamed = UPDATE.replace("UpdateIncidentPush", "IncidentUpdated");
        assert!(matches!(
            g.on_body(renamed.as_bytes(), NOW),
            BodyDecision::Rewrite { .. }
        ));
        let without = renamed.replace(
            "<CustomerReferenceNumber>abc123</CustomerReferenceNumber>",
            "",
        );
        match g.on_body(without.as_bytes(), NOW) {
            BodyDecision::Answer(r) => assert_eq!(r.reply.code, "E010"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_itsm_error_text_never_carries_a_secret_to_sita() {
        let g = servicenow("");
        let BodyDecision::Rewrite { ack, .. } = g.on_body(UPDATE.as_bytes(), NOW) else {
            panic!("expected a rewrite");
        };
        let answer = g.on_itsm_answer(
            &ack,
            401,
            br#"{"error": {"message": "bad credential Basic x; key k? no: x"}}"#,
        );
        assert!(!answer.body.contains("Basic x"), "{}", answer.body);
        assert_eq!(
            redact(b"a secret-1 b secret-1", ["secret-1"]).as_ref(),
            b"a [redacted] b [redacted]"
        );
        assert_eq!(redact(b"abcd", ["abcd"]).as_ref(), b"[redacted]");
        assert_eq!(redact(b"abc", ["abc"]).as_ref(), b"abc");
        assert_eq!(redact(b"plain", ["zzzz"]).as_ref(), b"plain");
    }
}
