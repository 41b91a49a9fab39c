//! SITA's error codes (SPEC §6) and the `ErrorResponse` the filter answers with.

use std::collections::BTreeMap;

/// Violations listed in one `ErrorResponse` at most.
pub const MAX_LISTED: usize = 20;
/// Characters of any value taken from the request that an answer may echo.
pub const MAX_ECHO_CHARS: usize = 100;

/// One broken rule: the code, the element (or parameter) it concerns, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: String,
    pub field: String,
    pub message: String,
    /// An HTTP status that this violation demands over the code's own (E004: 413, 415, 405).
    pub status: Option<u16>,
}

impl Violation {
    pub fn new(code: &str, field: &str, message: impl Into<String>) -> Self {
        Violation {
            code: code.to_string(),
            field: echo(field),
            message: message.into(),
            status: None,
        }
    }

    /// A violation whose message is the code's own description (E005, E006, E010, ...).
    pub fn plain(code: &str, field: &str) -> Self {
        Violation::new(code, field, description(code))
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}

/// The codes the filter decides, with their description and HTTP status (SPEC §6).
const CODES: &[(&str, &str, u16)] = &[
    ("E001", "Apikey Validation Failed", 401),
    ("E004", "Schema Validation Exception", 400),
    ("E005", "Missing Mandatory fields", 400),
    ("E006", "Invalid Mandatory fields", 400),
    (
        "E010",
        "Ticket Not Found — Customer Reference number is missing",
        400,
    ),
    (
        "E011",
        "Ticket Not Found — Customer Reference number not exists",
        404,
    ),
    (
        "E012",
        "Invalid Status — Incident active status is missing true/false",
        400,
    ),
    ("E013", "Future fromDate cannot be validated", 400),
    ("E014", "Future toDate cannot be validated", 400),
    ("E019", "Module Does not Exist", 400),
    (
        "E035",
        "DowntimeEndTime - Invalid date format. Please enter the date in the format YYYY - MM - DD",
        400,
    ),
    (
        "E036",
        "Please Provide Valid Format For FromTimeStamps As 'YYYY-MM-DD','HH:MM:SS'",
        400,
    ),
    (
        "E037",
        "Please Provide Valid Format For ToTimeStamps As 'YYYY-MM-DD','HH:MM:SS'",
        400,
    ),
    (
        "E038",
        "Please Provide Valid Format For FromTimeStamps And ToTimeStamps As 'YYYY-MM-DD','HH:MM:SS'",
        400,
    ),
    ("E043", "Affected End User and E-Mail id can not different", 400),
    ("E045", "Assignment Group Is Not Valid", 400),
    (
        "E046",
        "DowntimeEndTime - Invalid date format. Please enter the date in the format YYYY - MM - DD",
        400,
    ),
    ("500", "Server error", 500),
];

/// The codes only SITA can decide: counted when seen in SITA's answers, never invented.
pub const SITA_ONLY_CODES: &[&str] = &[
    "E007", "E008", "E009", "E018", "E021", "E029", "E030", "E031", "E032", "E033", "E044",
];

/// Whether the filter knows this code (configuration refuses overrides of unknown codes).
pub fn is_known(code: &str) -> bool {
    CODES.iter().any(|(c, _, _)| *c == code)
}

/// The `ErrorDescription` of a code.
pub fn description(code: &str) -> &'static str {
    CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or("Schema Validation Exception", |(_, d, _)| d)
}

fn default_status(code: &str) -> u16 {
    CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(400, |(_, _, s)| *s)
}

/// Cuts a value taken from the request to [`MAX_ECHO_CHARS`] characters.
pub fn echo(value: &str) -> String {
    value.chars().take(MAX_ECHO_CHARS).collect()
}

/// A complete answer the filter gives itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub code: String,
    pub field: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Renders SPEC §6's `ErrorResponse` for `violations` (the first one decides the code).
/// `status_overrides` is the configuration's `error_status`.
pub fn render(violations: &[Violation], status_overrides: &BTreeMap<String, u16>) -> Reply {
    let fallback = Violation::plain("500", "");
    let first = violations.first().unwrap_or(&fallback);
    let status = first
        .status
        .or_else(|| status_overrides.get(&first.code).copied())
        .unwrap_or_else(|| default_status(&first.code));

    let mut body = String::with_capacity(512);
    body.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse>\n");
    push_element(&mut body, "  ", "Status", "Failure");
    push_element(&mut body, "  ", "ErrorCode", &first.code);
    push_element(
        &mut body,
        "  ",
        "ErrorDescription",
        description(&first.code),
    );
    push_element(&mut body, "  ", "Comments", &first.message);
    body.push_str("  <Errors>\n");
    for v in violations.iter().take(MAX_LISTED) {
        body.push_str("    <Error>");
        push_element(&mut body, "", "Code", &v.code);
        push_element(&mut body, "", "Field", &v.field);
        push_element(&mut body, "", "Message", &v.message);
        body.push_str("</Error>\n");
    }
    body.push_str("  </Errors>\n</ErrorResponse>\n");

    Reply {
        status,
        code: first.code.clone(),
        field: first.field.clone(),
        headers: vec![
            ("content-type".to_string(), "application/xml".to_string()),
            ("x-sm-error-code".to_string(), first.code.clone()),
        ],
        body,
    }
}

fn push_element(out: &mut String, indent: &str, name: &str, value: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&quick_xml::escape::escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
    if !indent.is_empty() {
        out.push('\n');
    }
}

/// The `<ErrorCode>` of an answer from SITA, if it has one (for the metrics only).
pub fn sita_code_in(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<ErrorCode>")? + "<ErrorCode>".len();
    let rest = text.get(start..)?;
    let code = rest.get(..rest.find('<')?)?.trim();
    let plausible =
        !code.is_empty() && code.len() <= 8 && code.chars().all(|c| c.is_ascii_alphanumeric());
    plausible.then(|| code.to_string())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn first_violation_decides_code_status_and_comments() {
        let v = vec![
            Violation::new(
                "E004",
                "ShortDescription",
                "Missing Element Is ShortDescription",
            ),
            Violation::plain("E006", "Email"),
        ];
        let r = render(&v, &BTreeMap::new());
        assert_eq!(r.status, 400);
        assert_eq!(r.code, "E004");
        assert!(r.body.contains("<ErrorCode>E004</ErrorCode>"));
        assert!(r
            .body
            .contains("<ErrorDescription>Schema Validation Exception</ErrorDescription>"));
        assert!(r
            .body
            .contains("<Comments>Missing Element Is ShortDescription</Comments>"));
        assert!(r.body.contains(
            "<Error><Code>E006</Code><Field>Email</Field><Message>Invalid Mandatory fields</Message></Error>"
        ));
        assert!(r
            .headers
            .contains(&("x-sm-error-code".to_string(), "E004".to_string())));
    }

    #[test]
    fn values_are_escaped_and_lists_capped() {
        let many: Vec<Violation> = (0..30)
            .map(|i| Violation::new("E004", "<x&y>", format!("Unexpected Element Is a{i}<")))
            .collect();
        let r = render(&many, &BTreeMap::new());
        assert_eq!(r.body.matches("<Error>").count(), MAX_LISTED);
        assert!(r.body.contains("&lt;x&amp;y&gt;"));
        assert!(!r.body.contains("<x&y>"));
    }

    #[test]
    fn status_precedence() {
        let mut overrides = BTreeMap::new();
        overrides.insert("E006".to_string(), 422);
        assert_eq!(
            render(&[Violation::plain("E006", "x")], &overrides).status,
            422
        );
        let too_big = Violation::new("E004", "", "Limit").with_status(413);
        assert_eq!(render(&[too_big], &overrides).status, 413);
        assert_eq!(
            render(&[Violation::plain("E001", "")], &overrides).status,
            401
        );
    }

    #[test]
    fn echo_cuts_at_100_chars() {
        assert_eq!(echo(&"é".repeat(150)).chars().count(), 100);
    }
}
