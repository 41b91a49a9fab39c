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
