//! Fallible wrappers over the host calls the shell uses. The SDK's trait helpers unwrap
//! host errors (a panic kills the VM); these return what the host said instead.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, MapType};

pub fn plugin_configuration() -> Option<Vec<u8>> {
    hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
        .ok()
        .flatten()
}

pub fn request_header(name: &str) -> Option<String> {
    hostcalls::get_map_value(MapType::HttpRequestHeaders, name)
        .ok()
        .flatten()
}

pub fn response_header(name: &str) -> Option<String> {
    hostcalls::get_map_value(MapType::HttpResponseHeaders, name)
        .ok()
        .flatten()
}

pub fn set_request_header(name: &str, value: Option<&str>) -> bool {
    hostcalls::set_map_value(MapType::HttpRequestHeaders, name, value).is_ok()
}

/// Removes every response header that is neither a pseudo-header nor in `keep`.
pub fn retain_response_headers(keep: impl Fn(&str) -> bool) -> bool {
    let Ok(headers) = hostcalls::get_map(MapType::HttpResponseHeaders) else {
        return false;
    };
    headers
        .iter()
        .filter(|(name, _)| !name.starts_with(':') && !keep(name))
        .all(|(name, _)| set_response_header(name, None))
}

pub fn remove_request_trailer(name: &str) -> bool {
    hostcalls::set_map_value(MapType::HttpRequestTrailers, name, None).is_ok()
}

pub fn set_response_header(name: &str, value: Option<&str>) -> bool {
    hostcalls::set_map_value(MapType::HttpResponseHeaders, name, value).is_ok()
}

/// The first `size` bytes of the buffered body (`None`: the host refused).
pub fn body(kind: BufferType, size: usize) -> Option<Vec<u8>> {
    if size == 0 {
        return Some(Vec::new());
    }
    match hostcalls::get_buffer(kind, 0, size) {
        Ok(bytes) => Some(bytes.unwrap_or_default()),
        Err(_) => None,
    }
}

pub fn replace_body(kind: BufferType, old_size: usize, value: &[u8]) -> bool {
    hostcalls::set_buffer(kind, 0, old_size, value).is_ok()
}

pub fn send_response(status: u16, headers: &[(String, String)], body: &[u8]) -> bool {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    hostcalls::send_http_response(u32::from(status), headers, Some(body)).is_ok()
}

/// The host clock in seconds since the epoch.
pub fn now() -> Option<i64> {
    let t = hostcalls::get_current_time().ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}
