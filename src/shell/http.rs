//! One HTTP exchange: the phases of the host mapped onto the gateway's decisions.

use super::host;
use super::metrics::{stat_token, Metrics};
use crate::config::Direction;
use crate::gateway::{BodyDecision, Gateway, Head, HeadDecision, Refusal};
use crate::profile::{AckContext, ItsmRequest};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType};
use std::rc::Rc;

/// The ITSM's response headers that may reach SITA with the acknowledgement. Everything
/// else (content-encoding of a body that is no longer there, the integration user's
/// session cookies, locations inside the ITSM) stays behind.
fn ack_keeps_header(name: &str) -> bool {
    matches!(name, "date" | "server" | "x-request-id") || name.starts_with("x-envoy-")
}

/// SITA error bodies larger than this are not scanned for their code.
const MAX_SCANNED_ANSWER: usize = 64 * 1024;

enum Phase {
    /// Nothing more to do for this exchange.
    Passing,
    /// Headers held; the body is being buffered until its end.
    ReadingBody {
        size: usize,
    },
    /// The filter answered itself.
    Answered,
    /// Inbound: the rewritten request went to the ITSM; its answer becomes the ack.
    AwaitingItsm {
        ack: AckContext,
    },
    ReadingItsmAnswer {
        ack: AckContext,
        status: u16,
    },
    /// Outbound: SITA answered with an error; read its code for the metrics.
    ScanningSitaAnswer,
}

pub struct Exchange {
    gateway: Rc<Gateway>,
    metrics: Rc<Metrics>,
    phase: Phase,
    operation: String,
    request_id: String,
}

impl Exchange {
    pub fn new(gateway: Rc<Gateway>, metrics: Rc<Metrics>) -> Self {
        Exchange {
            gateway,
            metrics,
            phase: Phase::Passing,
            operation: "-".to_string(),
            request_id: String::new(),
        }
    }

    fn direction(&self) -> &'static str {
        self.gateway.settings.direction.as_str()
    }

    fn answer(&mut self, refusal: &Refusal) -> Action {
        let reply = &refusal.reply;
        log::info!(
            "sita-sm-filter: rejected request_id={} direction={} operation={} code={} field={}",
            self.request_id,
            self.direction(),
            refusal.operation,
            reply.code,
            reply.field
        );
        self.metrics.increment(&format!(
            "sita_sm.{}.rejected.{}",
            self.direction(),
            stat_token(&reply.code)
        ));
        if !host::send_response(reply.status, &reply.headers, reply.body.as_bytes()) {
            log::error!("sita-sm-filter: the host refused the local reply");
        }
        self.phase = Phase::Answered;
        Action::Pause
    }

    fn internal_error(&mut self, what: &str) -> Action {
        log::error!(
            "sita-sm-filter: internal error request_id={}: {what}",
            self.request_id
        );
        let refusal = self.gateway.server_error(&self.operation);
        self.answer(&refusal)
    }

    fn count_request(&self, operation: &str) {
        self.metrics.increment(&format!(
            "sita_sm.{}.requests.{}",
            self.direction(),
            stat_token(operation)
        ));
    }

    /// The body is complete (end of stream or trailers): judge it and act.
    fn finish_body(&mut self, size: usize) -> Action {
        let Some(body) = host::body(BufferType::HttpRequestBody, size) else {
            return self.internal_error("request body unavailable");
        };
        match self.gateway.on_body(&body, host::now()) {
            BodyDecision::Answer(refusal) => self.answer(&refusal),
            BodyDecision::Forward { operation } => {
                self.count_request(&operation);
                self.operation = operation;
                self.phase = Phase::Passing;
                Action::Continue
            }
            BodyDecision::Rewrite {
                operation,
                request,
                ack,
            } => {
                self.count_request(&operation);
                self.operation = operation;
                if !self.rewrite_request(&request, &ack, size) {
                    return self.internal_error("the host refused the rewrite");
                }
                self.metrics.increment(&format!(
                    "sita_sm.inbound.converted.{}",
                    stat_token(&ack.root)
                ));
                self.phase = Phase::AwaitingItsm { ack };
                Action::Continue
            }
        }
    }

    fn rewrite_request(&self, request: &ItsmRequest, ack: &AckContext, old_size: usize) -> bool {
        let Some(itsm) = &self.gateway.settings.itsm else {
            return false;
        };
        let length = request.body.len().to_string();
        let mut ok = host::set_request_header(":method", Some(&request.method))
            && host::set_request_header(":path", Some(&request.path))
            && host::set_request_header("content-type", Some("application/json"))
            && host::set_request_header("accept", Some("application/json"))
            && host::set_request_header("content-length", Some(&length))
            && host::set_request_header("accept-encoding", None)
            && host::set_request_header("transfer-encoding", None)
            && host::set_request_header("x-sita-incident-number", Some(&ack.incident_number))
            && host::set_request_header(&itsm.auth_header, Some(itsm.auth.expose()));
        for (name, value) in &request.headers {
            ok = ok && host::set_request_header(name, Some(value));
        }
        ok && host::replace_body(BufferType::HttpRequestBody, old_size, &request.body)
    }

    fn finish_itsm_answer(&mut self, ack: &AckContext, status: u16, size: usize) -> Action {
        let body = if size > self.gateway.settings.limits.max_body_bytes {
            None
        } else {
            host::body(BufferType::HttpResponseBody, size)
        };
        // An answer too large to read is judged as an unexpected one.
        let answer = self
            .gateway
            .on_itsm_answer(ack, status, body.as_deref().unwrap_or(b"\x00"));
        let status_text = answer.status.to_string();
        let length = answer.body.len().to_string();
        let ok = host::retain_response_headers(ack_keeps_header)
            && host::set_response_header(":status", Some(&status_text))
            && host::set_response_header("content-type", Some("application/xml"))
            && host::set_response_header("content-length", Some(&length))
            && host::replace_body(BufferType::HttpResponseBody, size, answer.body.as_bytes());
        if !ok {
            log::error!("sita-sm-filter: the host refused the acknowledgement rewrite");
        }
        let outcome = if (200..300).contains(&answer.status) {
            "success"
        } else {
            "failure"
        };
        self.metrics
            .increment(&format!("sita_sm.inbound.acknowledged.{outcome}"));
        self.phase = Phase::Passing;
        Action::Continue
    }
}

impl Context for Exchange {}

impl HttpContext for Exchange {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        self.request_id = host::request_header("x-request-id").unwrap_or_default();
        let settings = &self.gateway.settings;
        let method = host::request_header(":method").unwrap_or_default();
        let path = host::request_header(":path").unwrap_or_default();
        let content_type = host::request_header("content-type");
        let content_length = host::request_header("content-length");
        let apikey = host::request_header(&settings.key_header);
        let head = Head {
            method: &method,
            path: &path,
            content_type: content_type.as_deref(),
            content_length: content_length.as_deref(),
            apikey: apikey.as_deref(),
            end_of_stream,
        };
        let decision = self.gateway.on_head(&head, host::now());

        // The key header never travels on as the client sent it: outbound it is replaced by
        // the configured key, inbound it is removed before anything reaches the ITSM.
        let key_header = settings.key_header.clone();
        let key_set = match (&settings.direction, &settings.outbound_key) {
            (Direction::Outbound, Some(key)) => {
                host::set_request_header(&key_header, Some(key.expose()))
            }
            _ => host::set_request_header(&key_header, None),
        };
        if !key_set {
            return self.internal_error("the host refused the key header");
        }

        match decision {
            HeadDecision::Answer(refusal) => self.answer(&refusal),
            HeadDecision::Forward { operation } => {
                self.count_request(&operation);
                self.operation = operation;
                Action::Continue
            }
            HeadDecision::ReadBody => {
                self.phase = Phase::ReadingBody { size: 0 };
                Action::Pause
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match self.phase {
            Phase::ReadingBody { .. } => {}
            Phase::Answered => return Action::Pause,
            _ => return Action::Continue,
        }
        if let Some(refusal) = self.gateway.body_too_large(body_size) {
            return self.answer(&refusal);
        }
        if end_of_stream {
            self.finish_body(body_size)
        } else {
            self.phase = Phase::ReadingBody { size: body_size };
            Action::Pause
        }
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // A key sent as a trailer travels no further than one sent as a header.
        if !host::remove_request_trailer(&self.gateway.settings.key_header) {
            return self.internal_error("the host refused to remove a trailer");
        }
        match self.phase {
            Phase::ReadingBody { size } => self.finish_body(size),
            Phase::Answered => Action::Pause,
            _ => Action::Continue,
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let status = host::response_header(":status")
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        match std::mem::replace(&mut self.phase, Phase::Passing) {
            Phase::AwaitingItsm { ack } => {
                if end_of_stream {
                    // No body to replace: the acknowledgement is sent as a local reply.
                    let answer = self.gateway.on_itsm_answer(&ack, status, b"");
                    let headers = vec![("content-type".to_string(), "application/xml".to_string())];
                    host::retain_response_headers(ack_keeps_header);
                    host::send_response(answer.status, &headers, answer.body.as_bytes());
                    return Action::Pause;
                }
                self.phase = Phase::ReadingItsmAnswer { ack, status };
                Action::Pause
            }
            Phase::Passing
                if self.gateway.settings.direction == Direction::Outbound
                    && status >= 400
                    && !end_of_stream =>
            {
                self.phase = Phase::ScanningSitaAnswer;
                Action::Continue
            }
            other => {
                self.phase = other;
                Action::Continue
            }
        }
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match std::mem::replace(&mut self.phase, Phase::Passing) {
            Phase::ReadingItsmAnswer { ack, status } => {
                if end_of_stream {
                    self.finish_itsm_answer(&ack, status, body_size)
                } else {
                    self.phase = Phase::ReadingItsmAnswer { ack, status };
                    Action::Pause
                }
            }
            Phase::ScanningSitaAnswer => {
                if body_size > MAX_SCANNED_ANSWER {
                    return Action::Continue;
                }
                if !end_of_stream {
                    self.phase = Phase::ScanningSitaAnswer;
                    return Action::Pause;
                }
                if let Some(body) = host::body(BufferType::HttpResponseBody, body_size) {
                    if let Some(code) = crate::errors::sita_code_in(&body) {
                        self.metrics.increment(&format!(
                            "sita_sm.outbound.sita_error.{}",
                            stat_token(&code)
                        ));
                    }
                }
                Action::Continue
            }
            other => {
                self.phase = other;
                Action::Continue
            }
        }
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        match std::mem::replace(&mut self.phase, Phase::Passing) {
            Phase::ReadingItsmAnswer { ack, status } => {
                let size =
                    host::body(BufferType::HttpResponseBody, usize::MAX).map_or(0, |b| b.len());
                self.finish_itsm_answer(&ack, status, size)
            }
            other => {
                self.phase = other;
                Action::Continue
            }
        }
    }
}
