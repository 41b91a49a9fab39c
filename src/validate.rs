//! Message + catalogue → violations, in catalogue order (SPEC §3, §4.2).
//!
//! The validator interprets the rule language of `crate::catalogue`; it knows no message
//! by name. Query messages are validated the same way: the gateway turns the query string
//! into a flat element whose children are the parameters.

use crate::catalogue::{CrossCheck, Field, Message, Outcome, Rule};
use crate::datetime;
use crate::errors::{self, Violation};
use crate::xml::Element;
use base64::Engine;
use std::collections::BTreeMap;

/// What validation needs besides the message: configuration and the host clock.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// Named lists from the configuration (`modules`, `denied_assignment_groups`).
    pub lists: Option<&'a BTreeMap<String, Vec<String>>>,
    pub max_attachment_bytes: usize,
    /// `unknown_elements: "reject"` (body messages).
    pub reject_unknown: bool,
    /// The host clock, in seconds since 1970-01-01 UTC.
    pub now: Option<i64>,
    pub future_tolerance_seconds: i64,
}

/// Every violation of `root` against `message`, in catalogue order.
pub fn validate(message: &Message, root: &Element, ctx: &Context) -> Vec<Violation> {
    let mut out = Vec::new();
    let reject_unknown = ctx.reject_unknown && !message.ignore_unknown;
    check_fields(root, &message.fields, reject_unknown, ctx, &mut out);
    for check in &message.checks {
        apply_cross_check(check, message, root, &mut out);
    }
    out
}

fn violation(outcome: &Outcome, field: &str, max: Option<usize>) -> Violation {
    match &outcome.message {
        Some(template) => {
            let mut text = template.replace("{field}", &errors::echo(field));
            if let Some(max) = max {
                text = text.replace("{max}", &max.to_string());
            }
            Violation::new(&outcome.code, field, text)
        }
        None => Violation::plain(&outcome.code, field),
    }
}

fn absent_outcome(field: &Field) -> Outcome {
    field.absent.clone().unwrap_or_else(|| Outcome {
        code: "E004".to_string(),
        message: Some("Missing Element Is {field}".to_string()),
    })
}

fn invalid_outcome(field: &Field) -> Outcome {
    field.invalid.clone().unwrap_or_else(|| Outcome {
        code: "E006".to_string(),
        message: None,
    })
}

fn is_required(field: &Field, parent: &Element) -> bool {
    field.required
        || field.required_when.as_ref().is_some_and(|w| {
            parent
                .child(&w.field)
                .is_some_and(|s| s.trimmed_text().eq_ignore_ascii_case(&w.equals))
        })
}

fn check_fields(
    parent: &Element,
    fields: &[Field],
    reject_unknown: bool,
    ctx: &Context,
    out: &mut Vec<Violation>,
) {
    for field in fields {
        let mut found = parent.children_named(&field.name);
        match (found.next(), found.next()) {
            (_, Some(_)) => out.push(Violation::new(
                "E004",
                &field.name,
                format!("Duplicate Element Is {}", errors::echo(&field.name)),
            )),
            (None, None) => {
                if is_required(field, parent) {
                    out.push(violation(&absent_outcome(field), &field.name, None));
                }
            }
            (Some(element), None) => check_present(field, element, parent, ctx, out),
        }
    }
    if reject_unknown {
        report_unexpected(parent, |name| fields.iter().any(|f| f.name == name), out);
    }
}

fn report_unexpected(parent: &Element, known: impl Fn(&str) -> bool, out: &mut Vec<Violation>) {
    for child in &parent.children {
        if !known(&child.name) {
            out.push(Violation::new(
                "E004",
                &child.name,
                format!("Unexpected Element Is {}", errors::echo(&child.name)),
            ));
        }
    }
}

fn check_present(
    field: &Field,
    element: &Element,
    parent: &Element,
    ctx: &Context,
    out: &mut Vec<Violation>,
) {
    if let Rule::List { .. } = field.rule {
        check_list(field, element, ctx, out);
        return;
    }
    let value = element.trimmed_text();
    if value.is_empty() && element.children.is_empty() && is_required(field, parent) {
        let empty = field.empty.clone().unwrap_or_else(|| Outcome {
            code: "E005".to_string(),
            message: None,
        });
        out.push(violation(&empty, &field.name, None));
        return;
    }
    // An element where a value is expected must hold only text.
    if !element.children.is_empty() || !value_fits(&field.rule, value, ctx) {
        out.push(violation(&invalid_outcome(field), &field.name, None));
        return;
    }
    if let Some(earlier) = &field.not_before {
        let start = parent
            .child(earlier)
            .and_then(|e| datetime::parse_date_or_datetime(e.trimmed_text()));
        let end = datetime::parse_date_or_datetime(value);
        if let (Some(start), Some(end)) = (start, end) {
            if end < start {
                out.push(violation(&invalid_outcome(field), &field.name, None));
                return;
            }
        }
    }
    if let (Some(outcome), Some(now)) = (&field.not_future, ctx.now) {
        if datetime::parse_date_or_datetime(value)
            .is_some_and(|t| t > now.saturating_add(ctx.future_tolerance_seconds))
        {
            out.push(violation(outcome, &field.name, None));
            return;
        }
    }
    if let Some(check) = &field.allowed_from {
        let allowed = ctx.lists.and_then(|l| l.get(&check.list));
        if let Some(allowed) = allowed.filter(|a| !a.is_empty()) {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(value)) {
                out.push(violation(&check.outcome, &field.name, None));
                return;
            }
        }
    }
    if let Some(check) = &field.denied_from {
        let denied = ctx.lists.and_then(|l| l.get(&check.list));
        if denied.is_some_and(|d| d.iter().any(|g| glob_matches(g, value))) {
            out.push(violation(&check.outcome, &field.name, None));
        }
    }
}

fn check_list(field: &Field, element: &Element, ctx: &Context, out: &mut Vec<Violation>) {
    let Rule::List {
        item,
        min,
        max,
        fields,
        too_many,
        too_few,
        all_absent,
    } = &field.rule
    else {
        return;
    };
    let items: Vec<&Element> = element.children_named(item).collect();
    if items.len() > *max {
        out.push(violation(too_many, &field.name, Some(*max)));
    }
    if items.len() < *min {
        let outcome = too_few.clone().unwrap_or_else(|| Outcome {
            code: "E004".to_string(),
            message: Some(format!("Missing Element Is {item}")),
        });
        out.push(violation(&outcome, item, Some(*max)));
    }
    if ctx.reject_unknown {
        report_unexpected(element, |name| name == item, out);
    }
    for entry in items {
        let all_missing = all_absent
            .as_ref()
            .filter(|a| a.fields.iter().all(|n| entry.child(n).is_none()));
        match all_missing {
            Some(a) => {
                out.push(violation(&a.outcome, item, None));
                let rest: Vec<Field> = fields
                    .iter()
                    .filter(|f| !a.fields.contains(&f.name))
                    .cloned()
                    .collect();
                check_fields(entry, &rest, false, ctx, out);
                if ctx.reject_unknown {
                    report_unexpected(entry, |n| fields.iter().any(|f| f.name == n), out);
                }
            }
            None => check_fields(entry, fields, ctx.reject_unknown, ctx, out),
        }
    }
}

fn apply_cross_check(
    check: &CrossCheck,
    message: &Message,
    root: &Element,
    out: &mut Vec<Violation>,
) {
    match check {
        CrossCheck::SameEmail {
            user,
            email,
            outcome,
        } => {
            let user = root.child(user).map(Element::trimmed_text).unwrap_or("");
            let mail = root.child(email).map(Element::trimmed_text).unwrap_or("");
            if is_email(user) && !mail.is_empty() && !user.eq_ignore_ascii_case(mail) {
                out.push(violation(outcome, email, None));
            }
        }
        CrossCheck::AllInvalid { fields, outcome } => {
            let invalid_code = |name: &str| {
                message
                    .fields
                    .iter()
                    .find(|f| f.name == name)
                    .map(|f| invalid_outcome(f).code)
            };
            let is_format_violation = |v: &Violation| {
                fields.contains(&v.field) && invalid_code(&v.field).as_deref() == Some(&v.code)
            };
            let hits = out.iter().filter(|v| is_format_violation(v)).count();
            if hits == fields.len() && !fields.is_empty() {
                let at = out
                    .iter()
                    .position(is_format_violation)
                    .unwrap_or(out.len());
                out.retain(|v| !is_format_violation(v));
                let first = fields.first().map(String::as_str).unwrap_or("");
                out.insert(at.min(out.len()), violation(outcome, first, None));
            }
        }
    }
}

/// Whether `value` satisfies `rule` (lists are checked by `check_list`).
fn value_fits(rule: &Rule, value: &str, ctx: &Context) -> bool {
    match rule {
        Rule::Text {
            min,
            max,
            charset,
            file_name,
        } => {
            let n = value.chars().count();
            n >= *min
                && n <= *max
                && charset.as_ref().is_none_or(|extra| {
                    value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
                })
                && (!file_name
                    || value
                        .chars()
                        .all(|c| c != '/' && c != '\\' && !c.is_control()))
        }
        Rule::Email { max } => value.chars().count() <= *max && is_email(value),
        Rule::Integer { min, max } => {
            !value.is_empty()
                && value.bytes().all(|b| b.is_ascii_digit())
                && value.parse::<i64>().is_ok_and(|n| n >= *min && n <= *max)
        }
        Rule::Enum { values } => values.iter().any(|v| v.eq_ignore_ascii_case(value)),
        Rule::Boolean => value == "true" || value == "false",
        Rule::DateTime { date_only } => {
            if *date_only {
                datetime::parse_date_or_datetime(value).is_some()
            } else {
                datetime::parse_datetime(value).is_some()
            }
        }
        Rule::Base64 => decode_base64(value, ctx.max_attachment_bytes).is_some(),
        Rule::MimeType => is_mime_type(value),
        Rule::List { .. } => true,
    }
}

/// Decodes standard base64 (RFC 4648 alphabet, padding required) with whitespace allowed
/// between lines; `None` when it is not, or when it decodes to more than `max_bytes`.
pub fn decode_base64(text: &str, max_bytes: usize) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .collect();
    if compact.is_empty() || compact.len() / 4 * 3 > max_bytes.saturating_add(2) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .ok()?;
    (bytes.len() <= max_bytes).then_some(bytes)
}

/// A deliberately plain e-mail check: one `@`, a local part without spaces or specials,
/// and a dotted domain of letters, digits and hyphens.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

fn is_mime_type(value: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    matches!(essence.split_once('/'), Some((t, s)) if token(t) && token(s))
}

/// Case-insensitive glob where `*` matches any run of characters.
pub fn glob_matches(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let v: Vec<char> = value.to_lowercase().chars().collect();
    let (mut pi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match (p.get(pi), v.get(vi)) {
            (Some('*'), _) => {
                star = Some((pi, vi));
                pi += 1;
            }
            (Some(a), Some(b)) if a == b => {
                pi += 1;
                vi += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    pi = sp + 1;
                    vi = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::catalogue::Catalogue;
    use crate::xml::{parse, Limits};

    const NOW: i64 = 1_796_299_200; // 2026-12-03 12:00:00 UTC

    fn lists() -> BTreeMap<String, Vec<String>> {
        let mut l = BTreeMap::new();
        l.insert(
            "modules".to_string(),
            vec!["Network".to_string(), "Email".to_string()],
        );
        l.insert(
            "denied_assignment_groups".to_string(),
            vec!["*admin*".to_string(), "root".to_string()],
        );
        l
    }

    fn check_with(xml: &str, l: &BTreeMap<String, Vec<String>>) -> Vec<(String, String, String)> {
        let root = parse(xml.as_bytes(), &Limits::default()).expect("well-formed");
        let cat = if root.name.ends_with("Push") {
            Catalogue::push().unwrap()
        } else {
            Catalogue::outbound().unwrap()
        };
        let (_, msg) = cat.by_root(&root.name).expect("known root");
        let ctx = Context {
            lists: Some(l),
            max_attachment_bytes: 16,
            reject_unknown: true,
            now: Some(NOW),
            future_tolerance_seconds: 300,
        };
        validate(msg, &root, &ctx)
            .into_iter()
            .map(|v| (v.code, v.field, v.message))
            .collect()
    }

    fn check(xml: &str) -> Vec<(String, String, String)> {
        check_with(xml, &lists())
    }

    fn first(xml: &str) -> (String, String, String) {
        check(xml).into_iter().next().unwrap_or_default()
    }

    fn create(extra: &str, without: &[&str]) -> String {
        let base = [
            ("CustomerReferenceNumber", "CRN-1.a_b"),
            ("AffectedEndUser", "Jane Doe"),
            ("ShortDescription", "Printer down"),
            ("Description", "The printer at gate 4 is down."),
            ("Module", "Network"),
        ];
        let mut s = String::from("<CreateIncidentRequest>");
        for (k, v) in base {
            if !without.contains(&k) {
                s.push_str(&format!("<{k}>{v}</{k}>"));
            }
        }
        s.push_str(extra);
        s.push_str("</CreateIncidentRequest>");
        s
    }

    fn list(q: &str) -> Vec<(String, String)> {
        let cat = Catalogue::outbound().unwrap();
        let msg = cat.messages.get("list_incidents").unwrap();
        let ctx = Context {
            now: Some(NOW),
            future_tolerance_seconds: 300,
            ..Context::default()
        };
        validate(msg, &crate::gateway::query_element(q), &ctx)
            .into_iter()
            .map(|v| (v.code, v.field))
            .collect()
    }

    fn e(code: &str, field: &str, msg: &str) -> (String, String, String) {
        (code.to_string(), field.to_string(), msg.to_string())
    }

    #[test]
    fn a_valid_create_passes() {
        let extra = "<Email>jane@example.com</Email><Priority> 3 </Priority>\
            <AssignmentGroup>Service Desk</AssignmentGroup><Location>LHR T5</Location>\
            <DowntimeStartTime>2026-01-01 10:00:00</DowntimeStartTime>\
            <DowntimeEndTime>2026-01-02</DowntimeEndTime>\
            <Attachments><Attachment><FileName>a.txt</FileName><FileData>aGVsbG8=\n</FileData></Attachment></Attachments>";
        assert_eq!(check(&create(extra, &[])), vec![]);
    }

    #[test]
    fn create_required_elements() {
        assert_eq!(first(&create("", &["CustomerReferenceNumber"])).0, "E010");
        for name in [
            "AffectedEndUser",
            "ShortDescription",
            "Description",
            "Module",
        ] {
            assert_eq!(
                first(&create("", &[name])),
                e("E004", name, &format!("Missing Element Is {name}"))
            );
        }
        let empty = create("", &["ShortDescription"]).replace(
            "<Description>",
            "<ShortDescription>  </ShortDescription><Description>",
        );
        assert_eq!(
            first(&empty),
            e("E005", "ShortDescription", "Missing Mandatory fields")
        );
    }

    #[test]
    fn create_field_rules_and_codes() {
        let crn = create("", &["CustomerReferenceNumber"]);
        let bad_crn = crn.replace(
            "<AffectedEndUser>",
            "<CustomerReferenceNumber>a b</CustomerReferenceNumber><AffectedEndUser>",
        );
        assert_eq!(first(&bad_crn).0, "E006");
        assert_eq!(
            first(&create("<Email>not-mail</Email>", &[])),
            e("E006", "Email", "Invalid Mandatory fields")
        );
        assert_eq!(
            first(&create("<Priority>6</Priority>", &[])),
            e("E004", "Priority", "Valid Priority Value Is 1 to 5")
        );
        assert_eq!(first(&create("<Priority>x</Priority>", &[])).0, "E004");
        assert_eq!(
            first(
                &create("", &["Module"])
                    .replace("</Description>", "</Description><Module>Payroll</Module>")
            )
            .0,
            "E019"
        );
        assert_eq!(
            first(&create(
                "<AssignmentGroup>Domain ADMINS</AssignmentGroup>",
                &[]
            ))
            .0,
            "E045"
        );
        assert_eq!(
            first(&create("<AssignmentGroup>root</AssignmentGroup>", &[])).0,
            "E045"
        );
        assert_eq!(
            check(&create("<AssignmentGroup>rooted</AssignmentGroup>", &[])),
            vec![]
        );
        assert_eq!(
            first(&create(
                &format!("<Location>{}</Location>", "x".repeat(101)),
                &[]
            ))
            .0,
            "E006"
        );
        assert_eq!(
            first(&create(
                "<DowntimeStartTime>2026-02-30</DowntimeStartTime>",
                &[]
            ))
            .0,
            "E006"
        );
        assert_eq!(
            first(&create(
                "<DowntimeEndTime>2026-13-01</DowntimeEndTime>",
                &[]
            ))
            .0,
            "E035"
        );
        assert_eq!(
            first(&create(
                "<DowntimeStartTime>2026-01-02</DowntimeStartTime><DowntimeEndTime>2026-01-01 23:59:59</DowntimeEndTime>",
                &[]
            ))
            .0,
            "E035"
        );
    }

    #[test]
    fn create_cross_field_email() {
        let doc = create("<Email>john@example.com</Email>", &["AffectedEndUser"]).replace(
            "<ShortDescription>",
            "<AffectedEndUser>jane@example.com</AffectedEndUser><ShortDescription>",
        );
        assert_eq!(first(&doc).0, "E043");
        let same = doc.replace("john@example.com", "JANE@example.com");
        assert_eq!(check(&same), vec![]);
    }

    #[test]
    fn attachments() {
        let one =
            "<Attachment><FileName>a.txt</FileName><FileData>aGVsbG8=</FileData></Attachment>";
        let four = format!("<Attachments>{}</Attachments>", one.repeat(4));
        assert_eq!(
            first(&create(&four, &[])),
            e(
                "E004",
                "Attachments",
                "More than 3 attachments are not allowed"
            )
        );
        let cases = [
            (
                "<Attachment><FileData>aGVsbG8=</FileData></Attachment>",
                "Mandatory field Is FileName",
            ),
            (
                "<Attachment><FileName>a</FileName></Attachment>",
                "Mandatory field Is FileData",
            ),
            (
                "<Attachment></Attachment>",
                "Mandatory field Is FileName and FileData",
            ),
        ];
        for (att, msg) in cases {
            let got = first(&create(&format!("<Attachments>{att}</Attachments>"), &[]));
            assert_eq!((got.0.as_str(), got.2.as_str()), ("E004", msg));
        }
        for bad in [
            "<FileName>a/b</FileName><FileData>aGVsbG8=</FileData>",
            "<FileName>a</FileName><FileData>aGVsbG8</FileData>",
            "<FileName>a</FileName><FileData>a*VsbG8=</FileData>",
            // 17 bytes, over this test's max_attachment_bytes of 16
            "<FileName>a</FileName><FileData>MDEyMzQ1Njc4OWFiY2RlZmc=</FileData>",
        ] {
            let got = first(&create(
                &format!("<Attachments><Attachment>{bad}</Attachment></Attachments>"),
                &[],
            ));
            assert_eq!(got.0, "E006", "{bad}");
        }
    }

    #[test]
    fn duplicates_and_unexpected_elements() {
        let dup = create("<Priority>1</Priority><Priority>2</Priority>", &[]);
        assert_eq!(
            first(&dup),
            e("E004", "Priority", "Duplicate Element Is Priority")
        );
        let unknown = create("<Colour>red</Colour>", &[]);
        assert_eq!(
            first(&unknown),
            e("E004", "Colour", "Unexpected Element Is Colour")
        );
    }

    #[test]
    fn every_violation_is_listed_in_catalogue_order() {
        let doc = create(
            "<Email>x</Email><Priority>9</Priority>",
            &["ShortDescription"],
        );
        let codes: Vec<String> = check(&doc).into_iter().map(|v| v.1).collect();
        assert_eq!(codes, vec!["Email", "ShortDescription", "Priority"]);
    }

    #[test]
    fn update_rules() {
        let base = "<UpdateIncidentRequest><IncidentNumber>INC1</IncidentNumber>\
            <CustomerReferenceNumber>C1</CustomerReferenceNumber>";
        let doc = |x: &str| format!("{base}{x}</UpdateIncidentRequest>");
        assert_eq!(check(&doc("<State>work in progress</State>")), vec![]);
        assert_eq!(
            first(&doc("<State>Open</State>")),
            e("E004", "State", "Invalid State")
        );
        let resolved = first(&doc(
            "<State>Resolved</State><ResolutionNotes>n</ResolutionNotes>",
        ));
        assert_eq!(
            (resolved.0.as_str(), resolved.1.as_str()),
            ("E005", "ResolutionCode")
        );
        assert_eq!(
            check(&doc("<State>Resolved</State><ResolutionCode>Fixed</ResolutionCode><ResolutionNotes>n</ResolutionNotes>")),
            vec![]
        );
        assert_eq!(
            first(&doc("<DowntimeEndTime>yesterday</DowntimeEndTime>")).0,
            "E046"
        );
        assert_eq!(
            first(&doc(&format!(
                "<WorkNotes>{}</WorkNotes>",
                "w".repeat(4001)
            )))
            .0,
            "E006"
        );
        let missing = "<UpdateIncidentRequest><CustomerReferenceNumber>C1</CustomerReferenceNumber></UpdateIncidentRequest>";
        assert_eq!(
            first(missing),
            e(
                "E004",
                "IncidentNumber",
                "Missing Element Is IncidentNumber"
            )
        );
    }

    #[test]
    fn list_parameters() {
        assert_eq!(list("ActiveStatus=true"), vec![]);
        assert_eq!(list("ActiveStatus=true&other=1"), vec![]);
        assert_eq!(list(""), vec![("E012".into(), "ActiveStatus".into())]);
        assert_eq!(list("ActiveStatus=yes")[0].0, "E004");
        assert_eq!(
            list("ActiveStatus=true&FromTimeStamp=2026-01-01+10:00:00"),
            vec![]
        );
        assert_eq!(
            list("ActiveStatus=true&FromTimeStamp=2026-01-01%2010:00:00"),
            vec![]
        );
        assert_eq!(
            list("ActiveStatus=true&FromTimeStamp=2026-01-01")[0].0,
            "E036"
        );
        assert_eq!(
            list("ActiveStatus=true&ToTimeStamp=01/01/2026")[0].0,
            "E037"
        );
        assert_eq!(
            list("ActiveStatus=true&FromTimeStamp=x&ToTimeStamp=y"),
            vec![("E038".into(), "FromTimeStamp".into())]
        );
        // 2026-12-03 12:04:59 is within the 300 s tolerance; 12:05:01 is not.
        assert_eq!(
            list("ActiveStatus=true&FromTimeStamp=2026-12-03+12:04:59"),
            vec![]
        );
        assert_eq!(
            list("ActiveStatus=true&FromTimeStamp=2026-12-03+12:05:01")[0].0,
            "E013"
        );
        assert_eq!(
            list("ActiveStatus=true&ToTimeStamp=2027-01-01+00:00:00")[0].0,
            "E014"
        );
    }

    #[test]
    fn push_messages() {
        let create = "<CreateIncidentPush><IncidentNumber>INC1</IncidentNumber>\
            <ShortDescription>s</ShortDescription><Description>d</Description>\
            <State>New</State><Priority>2</Priority><OpenedAt>2026-01-01 00:00:00</OpenedAt></CreateIncidentPush>";
        assert_eq!(check(create), vec![]);
        assert_eq!(first(&create.replace("<State>New</State>", "")).0, "E005");
        assert_eq!(
            first(&create.replace("2026-01-01 00:00:00", "2026-01-01")).0,
            "E006"
        );
        let update = "<UpdateIncidentPush><IncidentNumber>INC1</IncidentNumber><UpdatedAt>2026-01-01 00:00:00</UpdatedAt>\
            <WorkNotes><WorkNote><Text>t</Text><CreatedBy>me</CreatedBy></WorkNote><WorkNote><CreatedAt>2026-01-01 00:00:00</CreatedAt></WorkNote></WorkNotes></UpdateIncidentPush>";
        assert_eq!(first(update), e("E004", "Text", "Missing Element Is Text"));
        let attach = "<UpdateIncidentAttachmentPush><IncidentNumber>INC1</IncidentNumber><UpdatedAt>2026-01-01 00:00:00</UpdatedAt>\
            <Attachments><Attachment><AttachmentId>1</AttachmentId></Attachment></Attachments></UpdateIncidentAttachmentPush>";
        assert_eq!(first(attach).2, "Missing File Name and File Data");
        let none = attach.replace(
            "<Attachment><AttachmentId>1</AttachmentId></Attachment>",
            "",
        );
        assert_eq!(first(&none).2, "Missing Element Is Attachment");
        let no_list = "<UpdateIncidentAttachmentPush><IncidentNumber>INC1</IncidentNumber><UpdatedAt>2026-01-01 00:00:00</UpdatedAt></UpdateIncidentAttachmentPush>";
        assert_eq!(first(no_list).2, "Missing Element Is Attachments");
    }

    #[test]
    fn long_names_are_cut_in_messages() {
        let name = format!("X{}", "y".repeat(120));
        let got = first(&create(&format!("<{name}/>"), &[]));
        assert_eq!(got.1.chars().count(), 100);
        assert!(got.2.chars().count() <= "Unexpected Element Is ".len() + 100);
    }

    #[test]
    fn helpers() {
        assert!(glob_matches("*admin*", "Domain ADMINS"));
        assert!(glob_matches("a*b*c", "aXXbYYc"));
        assert!(!glob_matches("a*b", "ab c"));
        assert!(glob_matches("*", ""));
        assert!(is_email("a.b+c@ex-ample.co.uk"));
        for bad in ["a@b", "@b.c", "a b@c.d", "a@@b.c", "a@-b.c", "a..b@c.d"] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_mime_type("application/pdf"));
        assert!(is_mime_type("text/plain; charset=utf-8"));
        assert!(!is_mime_type("pdf"));
        assert_eq!(decode_base64("aGVs\r\nbG8=", 10), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("aGVsbG8", 10), None);
        assert_eq!(decode_base64("aGVsbG8=", 4), None);
    }
}
