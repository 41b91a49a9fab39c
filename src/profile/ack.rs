//! The acknowledgement to SITA (SPEC §4.4): the ITSM's answer becomes a `PushResponse`.

use base64::Engine as _;
use serde_json::Value;

use super::compile::{AckKind, AckPlan};
use super::{AckContext, Acknowledgement};

/// At most this many characters of the ITSM's error text are passed on.
pub(crate) const MAX_ERROR_CHARS: usize = 200;

const NOT_FOUND_DESCRIPTION: &str = "Ticket Not Found — Customer Reference number not exists";
const NOT_FOUND_COMMENTS: &str = "Customer Reference number not exists";

pub(crate) fn acknowledge(
    plan: &AckPlan,
    ctx: &AckContext,
    status: u16,
    body: &[u8],
) -> Acknowledgement {
    if status == 404 {
        return not_found(ctx);
    }
    if !(200..300).contains(&status) {
        return server_error(ctx, status, &comments(status, "", &error_text(plan, body)));
    }
    match &plan.kind {
        AckKind::Status => success(ctx, ctx.customer_reference.as_deref()),
        AckKind::Id { pointer } => {
            let id = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| {
                    v.pointer(pointer)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .filter(|s| !s.trim().is_empty());
            match id {
                Some(id) => success(ctx, Some(&id)),
                None => server_error(
                    ctx,
                    status,
                    &comments(
                        status,
                        &format!(" without a string at {pointer}"),
                        &error_text(plan, body),
                    ),
                ),
            }
        }
        AckKind::Batch => batch(plan, ctx, status, body),
    }
}

fn batch(plan: &AckPlan, ctx: &AckContext, status: u16, body: &[u8]) -> Acknowledgement {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let Some(served) = parsed
        .as_ref()
        .and_then(|v| v.get("serviced_requests"))
        .and_then(Value::as_array)
    else {
        return server_error(
            ctx,
            status,
            &comments(
                status,
                " without serviced_requests",
                &error_text(plan, body),
            ),
        );
    };
    let code_of = |r: &Value| r.get("status_code").and_then(Value::as_u64);
    if served.iter().any(|r| code_of(r) == Some(404)) {
        return not_found(ctx);
    }
    if let Some(bad) = served
        .iter()
        .find(|r| !code_of(r).is_some_and(|c| (200..300).contains(&c)))
    {
        let id = match bad.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "?".to_string(),
        };
        let code = code_of(bad).map_or_else(|| "no status".to_string(), |c| format!("HTTP {c}"));
        return server_error(
            ctx,
            status,
            &comments(
                status,
                &format!("; sub-request {id} answered {code}"),
                &sub_request_text(plan, bad),
            ),
        );
    }
    let unserviced = parsed
        .as_ref()
        .and_then(|v| v.get("unserviced_requests"))
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let expected = ctx.batch_size;
    if served.is_empty() || unserviced > 0 || (expected > 0 && served.len() != expected) {
        let of = if expected > 0 {
            format!("{} of {expected}", served.len())
        } else {
            format!("{} (and {unserviced} not served)", served.len())
        };
        return server_error(
            ctx,
            status,
            &comments(status, &format!("; sub-requests served: {of}"), ""),
        );
    }
    success(ctx, ctx.customer_reference.as_deref())
}

/// The error text of one batch sub-request: its base64 body read like a whole answer, else
/// its `status_text` / `error_message`.
fn sub_request_text(plan: &AckPlan, r: &Value) -> String {
    let from_body = r
        .get("body")
        .and_then(Value::as_str)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|bytes| error_text(plan, &bytes))
        .filter(|t| !t.is_empty());
    from_body
        .or_else(|| {
            ["error_message", "status_text"]
                .iter()
                .find_map(|k| r.get(*k).and_then(Value::as_str))
                .map(clip)
        })
        .unwrap_or_default()
}

/// The ITSM's error text: the string at `error_pointer` when the body is JSON and has one,
/// else the raw body (lossy UTF-8); made XML-safe and cut to `MAX_ERROR_CHARS` characters.
pub(crate) fn error_text(plan: &AckPlan, body: &[u8]) -> String {
    if let Some(pointer) = &plan.error_pointer {
        if let Ok(v) = serde_json::from_slice::<Value>(body) {
            match v.pointer(pointer) {
                Some(Value::String(s)) => return clip(s),
                Some(Value::Null) | None => {}
                Some(other) => return clip(&other.to_string()),
            }
        }
    }
    // 200 characters never need more than 800 bytes.
    let head = body.get(..MAX_ERROR_CHARS * 4).unwrap_or(body);
    clip(&String::from_utf8_lossy(head))
}

/// XML-safe (control characters and non-characters become spaces / U+FFFD), trimmed, and at
/// most `MAX_ERROR_CHARS` characters (counted in chars, never cutting one).
fn clip(s: &str) -> String {
    let clean: String = sanitize(s).chars().take(MAX_ERROR_CHARS).collect();
    clean.trim().to_string()
}

fn sanitize(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| match c {
            '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    cleaned.trim().to_string()
}

fn comments(status: u16, what: &str, text: &str) -> String {
    if text.is_empty() {
        format!("ITSM answered HTTP {status}{what}")
    } else {
        format!("ITSM answered HTTP {status}{what}: {text}")
    }
}

fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&quick_xml::escape::escape(sanitize(value)));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn document(status: &str, ctx: &AckContext, rest: &[(&str, &str)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PushResponse>");
    element(&mut out, "Status", status);
    element(&mut out, "IncidentNumber", &ctx.incident_number);
    for (name, value) in rest {
        element(&mut out, name, value);
    }
    out.push_str("</PushResponse>");
    out
}

fn success(ctx: &AckContext, reference: Option<&str>) -> Acknowledgement {
    let rest: Vec<(&str, &str)> = reference
        .map(|r| ("CustomerReferenceNumber", r))
        .into_iter()
        .collect();
    Acknowledgement {
        status: 200,
        body: document("Success", ctx, &rest),
    }
}

fn not_found(ctx: &AckContext) -> Acknowledgement {
    Acknowledgement {
        status: 404,
        body: document(
            "Failure",
            ctx,
            &[
                ("ErrorCode", "E011"),
                ("ErrorDescription", NOT_FOUND_DESCRIPTION),
                ("Comments", NOT_FOUND_COMMENTS),
            ],
        ),
    }
}

/// SPEC §4.4: code 500 with the ITSM's status in `ErrorDescription`; the details (at most
/// 200 characters of the ITSM's own error text) in `Comments`.
fn server_error(ctx: &AckContext, status: u16, comments: &str) -> Acknowledgement {
    let description = format!("Server error: ITSM answered HTTP {status}");
    Acknowledgement {
        status: 502,
        body: document(
            "Failure",
            ctx,
            &[
                ("ErrorCode", "500"),
                ("ErrorDescription", &description),
                ("Comments", comments),
            ],
        ),
    }
}
