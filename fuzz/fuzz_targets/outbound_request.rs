//! Arbitrary request → the outbound gateway (head, then the body as the shell would hand it
//! over). Never panics; every answer the filter gives itself is a 4xx/5xx with an
//! `x-sm-error-code` header and a well-formed XML body.
//!
//! Input layout: 5 selector bytes (method, content type, content length, path, flags), then
//! the body. A GET's query string is the body, read as text.
#![no_main]

use fuzz_support::{check_reply, gateway, OUTBOUND, OUTBOUND_SMALL};
use libfuzzer_sys::fuzz_target;
use sita_sm_filter::gateway::{BodyDecision, Gateway, Head, HeadDecision};
use std::sync::OnceLock;

const NOW: i64 = 1_796_299_200; // 2026-12-03 12:00:00 UTC

const METHODS: [&str; 8] = [
    "POST", "PUT", "PATCH", "GET", "DELETE", "post", "get", "OPTIONS",
];
const CONTENT_TYPES: [Option<&str>; 8] = [
    Some("application/xml"),
    Some("text/xml; charset=utf-8"),
    None,
    Some("application/json"),
    Some("Application/XML ;x=y"),
    Some(""),
    Some("application/xml-dtd"),
    Some(" text/xml "),
];
const PATHS: [&str; 8] = [
    "/incident",
    "/incidents",
    "/incident/activitylog",
    "/incident/attachment",
    "/elsewhere",
    "/incidents/",
    "/",
    "/incident/attachment/",
];

fn gateways() -> &'static [Gateway] {
    static G: OnceLock<Vec<Gateway>> = OnceLock::new();
    G.get_or_init(|| {
        [OUTBOUND, OUTBOUND_SMALL]
            .iter()
            .filter_map(|c| gateway(c))
            .collect()
    })
}

fn judge_body(g: &Gateway, body: &[u8], now: Option<i64>) {
    // The shell checks the running size on every chunk, then judges the whole body once.
    if let Some(r) = g.body_too_large(body.len()) {
        check_reply(&r.reply);
        assert_eq!(r.reply.status, 413);
        return;
    }
    match g.on_body(body, now) {
        BodyDecision::Answer(r) => check_reply(&r.reply),
        BodyDecision::Forward { operation } => assert!(!operation.is_empty()),
        BodyDecision::Rewrite { .. } => panic!("an outbound gateway rewrote a request"),
    }
}

fuzz_target!(|data: &[u8]| {
    let gateways = gateways();
    let [m, ct, cl, p, flags, body @ ..] = data else {
        return;
    };
    let Some(g) = gateways.get(usize::from(flags >> 2 & 1) % gateways.len().max(1)) else {
        return;
    };
    let method = METHODS[usize::from(*m) % METHODS.len()];
    let content_type = CONTENT_TYPES[usize::from(*ct) % CONTENT_TYPES.len()];
    let content_length = match cl % 8 {
        0 => None,
        1 => Some(body.len().to_string()),
        2 => Some("0".to_string()),
        3 => Some((body.len() + 1).to_string()),
        4 => Some("18446744073709551616".to_string()),
        5 => Some("-1".to_string()),
        6 => Some(format!(" {} ", body.len())),
        _ => Some("99999999".to_string()),
    };
    let route = PATHS[usize::from(*p) % PATHS.len()];
    let is_get = method.eq_ignore_ascii_case("GET");
    let path = if is_get {
        format!("{route}?{}", String::from_utf8_lossy(body))
    } else {
        route.to_string()
    };
    let now = (flags & 2 == 0).then_some(NOW);
    let head = Head {
        method,
        path: &path,
        content_type,
        content_length: content_length.as_deref(),
        apikey: (flags & 8 != 0).then_some("client-sent-key"),
        end_of_stream: flags & 1 != 0,
    };
    match g.on_head(&head, now) {
        HeadDecision::Answer(r) => check_reply(&r.reply),
        HeadDecision::Forward { operation } => assert!(!operation.is_empty()),
        HeadDecision::ReadBody => {
            assert!(!is_get, "a GET was held for a body");
        }
    }
    // Judge the body whatever the head said, for coverage of the reader and validator.
    judge_body(g, body, now);
});
