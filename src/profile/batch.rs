//! ServiceNow's batch API body for UPDATE INCIDENT ATTACHMENTS (PUSH) (SPEC §4.3).

use base64::Engine as _;
use serde_json::{json, Value};

use super::compile::encode_component;
use crate::xml::Element;

const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The message's `Attachments/Attachment` elements.
pub(crate) fn attachments(message: &Element) -> Vec<&Element> {
    message
        .child("Attachments")
        .map(|a| a.children_named("Attachment").collect())
        .unwrap_or_default()
}

fn text<'a>(el: &'a Element, name: &str) -> Option<&'a str> {
    el.child(name)
        .map(Element::trimmed_text)
        .filter(|t| !t.is_empty())
}

/// Decodes FileData with the validator's own base64 reading (it was validated with it).
pub(crate) fn decode_file_data(data: &str) -> Result<Vec<u8>, String> {
    crate::validate::decode_base64(data, usize::MAX)
        .ok_or_else(|| "FileData is not valid base64".to_string())
}

/// `{"batch_request_id": <IncidentNumber>, "rest_requests": [...]}`, one sub-request per
/// attachment, ids "1", "2", ... in document order.
pub(crate) fn body(message: &Element, table: &str) -> Result<Value, String> {
    let sys_id = text(message, "CustomerReferenceNumber")
        .ok_or_else(|| "CustomerReferenceNumber has no value".to_string())?;
    let batch_id = text(message, "IncidentNumber").unwrap_or("sita-attachments");
    let list = attachments(message);
    if list.is_empty() {
        return Err("no Attachments/Attachment to send".to_string());
    }
    let mut requests = Vec::new();
    for (i, att) in list.iter().enumerate() {
        let n = i + 1;
        let file_name = text(att, "FileName")
            .ok_or_else(|| format!("Attachment {n}: FileName has no value"))?;
        let data = att
            .child("FileData")
            .map(|d| d.text.as_str())
            .ok_or_else(|| format!("Attachment {n}: FileData is missing"))?;
        let bytes = decode_file_data(data).map_err(|e| format!("Attachment {n}: {e}"))?;
        let content_type = text(att, "ContentType").unwrap_or(DEFAULT_CONTENT_TYPE);
        let url = format!(
            "/api/now/attachment/file?table_name={}&table_sys_id={}&file_name={}",
            encode_component(table),
            encode_component(sys_id),
            encode_component(file_name)
        );
        requests.push(json!({
            "id": n.to_string(),
            "method": "POST",
            "url": url,
            "headers": [
                {"name": "Content-Type", "value": content_type},
                {"name": "Accept", "value": "application/json"}
            ],
            "body": base64::engine::general_purpose::STANDARD.encode(bytes),
        }));
    }
    Ok(json!({
        "batch_request_id": batch_id,
        "rest_requests": requests,
    }))
}
