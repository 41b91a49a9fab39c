//! The offline CLI over the same core the filter runs: check a configuration before Envoy
//! loads it, and see the filter's verdict on a request without a gateway.
//!
//! ```text
//! sita-sm check-config CONFIG.json
//! sita-sm judge CONFIG.json METHOD PATH [BODY_FILE]     (content type: application/xml)
//! ```
//! Secrets named by `{"env": ...}` are read from this process's environment.

use sita_sm_filter::config;
use sita_sm_filter::gateway::{BodyDecision, Gateway, Head, HeadDecision};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["check-config", path] => load(path).map(|g| {
            println!(
                "configuration OK: direction {}",
                g.settings.direction.as_str()
            );
        }),
        ["judge", path, method, target] => judge(path, method, target, None),
        ["judge", path, method, target, body] => judge(path, method, target, Some(body)),
        _ => Err("usage: sita-sm check-config CONFIG.json | sita-sm judge CONFIG.json METHOD PATH [BODY_FILE]".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &str) -> Result<Gateway, String> {
    let json = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let env = |name: &str| std::env::var(name).ok();
    config::parse(&json, &env)
        .map(Gateway::new)
        .map_err(|e| format!("configuration refused: {e}"))
}

fn judge(path: &str, method: &str, target: &str, body: Option<&str>) -> Result<(), String> {
    let gateway = load(path)?;
    let body = match body {
        Some(file) => Some(std::fs::read(file).map_err(|e| format!("{file}: {e}"))?),
        None => None,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    let apikey = gateway
        .settings
        .inbound_keys
        .first()
        .map(|k| k.expose().to_string());
    let length = body.as_ref().map(|b| b.len().to_string());
    let head = Head {
        method,
        path: target,
        content_type: Some("application/xml"),
        content_length: length.as_deref(),
        apikey: apikey.as_deref(),
        end_of_stream: body.is_none(),
    };
    match gateway.on_head(&head, now) {
        HeadDecision::Answer(refusal) => print_refusal(&refusal.reply),
        HeadDecision::Forward { operation } => println!("forward ({operation})"),
        HeadDecision::ReadBody => match gateway.on_body(body.as_deref().unwrap_or(b""), now) {
            BodyDecision::Answer(refusal) => print_refusal(&refusal.reply),
            BodyDecision::Forward { operation } => println!("forward ({operation})"),
            BodyDecision::Rewrite {
                operation, request, ..
            } => {
                println!("rewrite ({operation}): {} {}", request.method, request.path);
                for (name, value) in &request.headers {
                    println!("{name}: {value}");
                }
                println!("{}", String::from_utf8_lossy(&request.body));
            }
        },
    }
    Ok(())
}

fn print_refusal(reply: &sita_sm_filter::errors::Reply) {
    println!("answer HTTP {} ({})", reply.status, reply.code);
    print!("{}", reply.body);
}
