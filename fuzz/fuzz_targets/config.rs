//! Arbitrary bytes → the configuration reader. Never panics; an error never contains a secret
//! (neither an inline value nor an environment variable's value); a configuration it accepts
//! never shows a secret in its `Debug` form and answers requests without panicking.
#![no_main]

use fuzz_support::check_reply_status_in;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sita_sm_filter::config;
use sita_sm_filter::gateway::{BodyDecision, Gateway, Head, HeadDecision};

const INLINE_SECRET: &str = "inl1ne-s3cr3t-Xy7q";
const ENV_SECRET: &str = "env-s3cr3t-Kq9z";

fn env(name: &str) -> Option<String> {
    match name {
        "EMPTY" => Some(String::new()),
        "UNSET" => None,
        _ => Some(ENV_SECRET.to_string()),
    }
}

/// Puts the inline secret in every place a secret can be written inline.
fn plant(v: &mut Value) {
    let Some(top) = v.as_object_mut() else { return };
    top.insert("insecure_inline".to_string(), Value::Bool(true));
    let set = |o: &mut Value| {
        if let Some(o) = o.as_object_mut() {
            for key in ["value", "inline"] {
                if let Some(s) = o.get_mut(key) {
                    if s.is_string() {
                        *s = Value::String(INLINE_SECRET.to_string());
                    }
                }
            }
        }
    };
    if let Some(a) = top.get_mut("apikey") {
        set(a);
    }
    if let Some(Value::Array(keys)) = top.get_mut("apikeys") {
        keys.iter_mut().for_each(set);
    }
    if let Some(auth) = top.get_mut("itsm").and_then(|i| i.get_mut("auth")) {
        set(auth);
    }
}

/// `error_status` may send any code with any error status (400 to 599).
fn check_reply(reply: &sita_sm_filter::errors::Reply) {
    check_reply_status_in(reply, 400..=599);
}

fn exercise(g: &Gateway) {
    let head = Head {
        method: "POST",
        path: "/incident",
        content_type: Some("application/xml"),
        content_length: None,
        apikey: Some(INLINE_SECRET),
        end_of_stream: false,
    };
    if let HeadDecision::Answer(r) = g.on_head(&head, Some(0)) {
        check_reply(&r.reply);
    }
    let get = Head {
        method: "GET",
        path: "/incidents?ActiveStatus=true",
        ..head.clone()
    };
    if let HeadDecision::Answer(r) = g.on_head(&get, Some(0)) {
        check_reply(&r.reply);
    }
    for body in [
        &b"<CreateIncidentRequest><CustomerReferenceNumber>C1</CustomerReferenceNumber></CreateIncidentRequest>"[..],
        b"<CreateIncidentPush><IncidentNumber>INC1</IncidentNumber><ShortDescription>s</ShortDescription><Description>d</Description><State>New</State><Priority>2</Priority><OpenedAt>2026-01-01 00:00:00</OpenedAt><CustomerReferenceNumber>abc</CustomerReferenceNumber></CreateIncidentPush>",
        b"<x/>",
    ] {
        match g.on_body(body, Some(0)) {
            BodyDecision::Answer(r) => check_reply(&r.reply),
            BodyDecision::Forward { .. } => {}
            BodyDecision::Rewrite { ack, .. } => {
                let _ = g.on_itsm_answer(&ack, 201, br#"{"result":{"sys_id":"x"}}"#);
            }
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// `original` is the fuzzer's input: a secret it wrote itself somewhere else (libFuzzer
/// learns the constants compared against, so it does) is not a leak when echoed.
fn judge(json: &[u8], original: &[u8]) {
    let secrets: Vec<&str> = [INLINE_SECRET, ENV_SECRET]
        .into_iter()
        .filter(|s| !contains(original, s))
        .collect();
    match config::parse(json, &env) {
        Err(e) => {
            for s in &secrets {
                assert!(!e.contains(s), "secret {s} in error: {e}");
            }
        }
        Ok(settings) => {
            let shown = format!("{settings:?}");
            for s in &secrets {
                assert!(!shown.contains(s), "secret {s} in Debug");
            }
            exercise(&Gateway::new(settings));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    judge(data, data);
    if let Ok(mut v) = serde_json::from_slice::<Value>(data) {
        plant(&mut v);
        if let Ok(planted) = serde_json::to_vec(&v) {
            judge(&planted, data);
        }
    }
});
