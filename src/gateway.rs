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
}

impl Gateway {
    pub fn new(settings: Settings) -> Self {
        Gateway { settings }
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
            Some(itsm) => match itsm.profile.render(&root) {
                Ok(request) => BodyDecision::Rewrite {
                    operation: message.operation.clone(),
                    request,
                    ack: ack_context(&root),
                },
                Err(_) => BodyDecision::Answer(
                    self.refuse_one(&message.operation, Violation::plain("500", "")),
                ),
            },
        }
    }

    /// Inbound: the ITSM's answer → SITA's acknowledgement.
    pub fn on_itsm_answer(&self, ack: &AckContext, status: u16, body: &[u8]) -> Acknowledgement {
        match &self.settings.itsm {
            Some(itsm) => itsm.profile.acknowledge(ack, status, body),
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

fn ack_context(root: &Element) -> AckContext {
    let text = |name: &str| root.child(name).map(|e| e.trimmed_text().to_string());
    AckContext {
        root: root.name.clone(),
        incident_number: text("IncidentNumber").unwrap_or_default(),
        customer_reference: text("CustomerReferenceNumber").filter(|s| !s.is_empty()),
    }
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
