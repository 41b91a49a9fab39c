//! Counters in the host's stats (Envoy: `/stats/prometheus`, prefixed `wasmcustom`).
//! Each name is defined once and its id kept.

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;
use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Default)]
pub struct Metrics {
    ids: RefCell<HashMap<String, u32>>,
}

impl Metrics {
    pub fn increment(&self, name: &str) {
        let id = {
            let mut ids = self.ids.borrow_mut();
            match ids.get(name) {
                Some(id) => *id,
                None => match hostcalls::define_metric(MetricType::Counter, name) {
                    Ok(id) => {
                        ids.insert(name.to_string(), id);
                        id
                    }
                    Err(_) => return,
                },
            }
        };
        let _ = hostcalls::increment_metric(id, 1);
    }
}

/// `CREATE INCIDENT (PUSH)` → `create_incident_push`, safe in a stat name.
pub fn stat_token(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let trimmed = out.trim_end_matches('_');
    if trimmed.is_empty() {
        "none".to_string()
    } else {
        trimmed.to_string()
    }
}
