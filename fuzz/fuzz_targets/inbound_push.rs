//! Arbitrary push → the inbound gateway with the servicenow and the generic profile; a
//! rewrite must carry a JSON body and a clean method, path and headers; then an arbitrary
//! ITSM answer → the acknowledgement, which must be well-formed XML. Never panics.
//!
//! Input layout: 4 selector bytes (flags, status high, status low, canned answer), then the
//! push body; if the body holds the line `@@ANSWER@@`, what follows it is the ITSM's answer,
//! else a canned answer is used.
#![no_main]

use fuzz_support::{check, check_reply, gateway, INBOUND_GENERIC, INBOUND_KEY, INBOUND_SERVICENOW};
use libfuzzer_sys::fuzz_target;
use sita_sm_filter::gateway::{BodyDecision, Gateway, Head, HeadDecision};
use sita_sm_filter::profile::{AckContext, Acknowledgement, ItsmRequest};
use std::sync::OnceLock;

const NOW: i64 = 1_796_299_200;
const MARKER: &[u8] = b"\n@@ANSWER@@\n";

const CANNED: [&[u8]; 8] = [
    br#"{"result":{"sys_id":"0123456789abcdef0123456789abcdef","number":"INC0010001"}}"#,
    br#"{"batch_request_id":"1","serviced_requests":[{"id":"1","status_code":201,"body":""}],"unserviced_requests":[]}"#,
    b"",
    b"not json at all <oops>",
    br#"{"error":{"message":"<b>&amp; 'x' ]]> \"q\" \u0000 \ud83d\ude00","detail":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"status":"failure"}"#,
    br#"{"result":{"sys_id":"<script>&\"]]>\u0001"}}"#,
    br#"{"result":[]}"#,
    b"\x00",
];

fn gateways() -> &'static [Gateway] {
    static G: OnceLock<Vec<Gateway>> = OnceLock::new();
    G.get_or_init(|| {
        [INBOUND_SERVICENOW, INBOUND_GENERIC]
            .iter()
            .filter_map(|c| gateway(c))
            .collect()
    })
}

/// No control character but a tab: nothing that could split or end a header line.
fn clean(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() && c != '\t')
}

fn check_request(r: &ItsmRequest) {
    assert!(
        matches!(r.method.as_str(), "POST" | "PUT" | "PATCH"),
        "method {:?}",
        r.method
    );
    assert!(r.path.starts_with('/'), "path {:?}", r.path);
    assert!(
        !r.path.chars().any(|c| c.is_control() || c.is_whitespace()),
        "path {:?}",
        r.path
    );
    // No dot-segment: path normalisation (RFC 3986 §5.2.4) would send the request elsewhere.
    let path = r.path.split('?').next().unwrap_or("");
    assert!(
        !path.split('/').any(|s| s == "." || s == ".."),
        "dot-segment in path {:?}",
        r.path
    );
    for (name, value) in &r.headers {
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':'),
            "header name {name:?}"
        );
        assert!(clean(value), "header {name}: {value:?}");
    }
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&r.body) {
        panic!(
            "rewritten body is not JSON: {e}: {:?}",
            String::from_utf8_lossy(&r.body)
        );
    }
}

fn check_ack(a: &Acknowledgement, itsm_status: u16) {
    assert!((200..=599).contains(&a.status), "ack status {}", a.status);
    if !(200..300).contains(&itsm_status) {
        assert!(
            !(200..300).contains(&a.status),
            "ITSM {itsm_status} acknowledged as {}",
            a.status
        );
    }
    if let Err(e) = check::well_formed(&a.body) {
        panic!("PushResponse not well-formed: {e}\n{}", a.body);
    }
    let success = a.body.contains("<Status>Success</Status>");
    assert_eq!(
        success,
        (200..300).contains(&a.status),
        "status {} vs body {}",
        a.status,
        a.body
    );
    // A failure carries at most 200 characters of the ITSM's text (SPEC §4.4). A success may
    // carry the ITSM's id, whose length the SPEC does not bound.
    if !success {
        assert!(
            a.body.len() < 4096,
            "failure acknowledgement of {} bytes",
            a.body.len()
        );
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    let gateways = gateways();
    let [flags, hi, lo, canned, rest @ ..] = data else {
        return;
    };
    let Some(g) = gateways.get(usize::from(flags & 1) % gateways.len().max(1)) else {
        return;
    };
    let status = u16::from_be_bytes([*hi, *lo]) % 600;
    let (body, answer) = match find(rest, MARKER) {
        Some(at) => (&rest[..at], &rest[at + MARKER.len()..]),
        None => (rest, CANNED[usize::from(*canned) % CANNED.len()]),
    };
    let now = (flags & 2 == 0).then_some(NOW);
    let head = Head {
        method: if flags & 4 == 0 { "POST" } else { "PUT" },
        path: "/sita/push",
        content_type: Some("application/xml"),
        content_length: None,
        apikey: (flags & 8 == 0).then_some(INBOUND_KEY),
        end_of_stream: false,
    };
    match g.on_head(&head, now) {
        HeadDecision::Answer(r) => check_reply(&r.reply),
        HeadDecision::Forward { .. } => panic!("an inbound gateway forwarded a push untouched"),
        HeadDecision::ReadBody => {}
    }
    match g.on_body(body, now) {
        BodyDecision::Answer(r) => check_reply(&r.reply),
        BodyDecision::Forward { .. } => panic!("an inbound gateway forwarded a push untouched"),
        BodyDecision::Rewrite { request, ack, .. } => {
            check_request(&request);
            assert!(
                clean(&ack.incident_number),
                "incident number {:?}",
                ack.incident_number
            );
            check_ack(&g.on_itsm_answer(&ack, status, answer), status);
        }
    }
    // The answer phase on its own, with values that need escaping in the context.
    for root in [
        "CreateIncidentPush",
        "UpdateIncidentPush",
        "UpdateIncidentAttachmentPush",
    ] {
        let ctx = AckContext {
            root: root.to_string(),
            incident_number: "INC<1>&'\"]]>".to_string(),
            customer_reference: (flags & 16 == 0).then(|| "ref<&>".to_string()),
            ..AckContext::default()
        };
        check_ack(&g.on_itsm_answer(&ctx, status, answer), status);
    }
});
