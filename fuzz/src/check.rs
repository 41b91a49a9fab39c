//! Oracles shared by the fuzz targets and `tests/properties.rs` (which includes this file
//! with `#[path]`): an independent well-formedness check of what the filter writes, the
//! reader's invariants, and a serialiser for element trees.
//!
//! It only uses quick-xml and the filter's public types, so it compiles in both crates.

use quick_xml::events::Event;
use quick_xml::XmlVersion;
use sita_sm_filter::xml::{Element, Limits};

/// Whether `body` is one well-formed XML document as far as quick-xml's checks and ours go:
/// one root, matching end tags, only the predefined entities and valid character references,
/// well-formed attributes, nothing but whitespace, comments and PIs outside the root, no DTD.
pub fn well_formed(body: &str) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_str(body);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_dangling_amp = false;
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut first = true;
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("quick-xml: {e} at byte {at}"))?;
        let outside = depth == 0;
        match &event {
            Event::Eof => break,
            Event::Decl(_) if !first => return Err(format!("XML declaration at byte {at}")),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(_) => return Err("DOCTYPE in the filter's own output".to_string()),
            Event::Start(e) | Event::Empty(e) => {
                if outside {
                    roots += 1;
                    if roots > 1 {
                        return Err(format!("second root element at byte {at}"));
                    }
                }
                for attr in e.attributes().with_checks(true) {
                    let attr = attr.map_err(|e| format!("attribute: {e} at byte {at}"))?;
                    attr.normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| format!("attribute value: {e} at byte {at}"))?;
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unmatched end tag at byte {at}"))?;
            }
            Event::Text(t) => {
                let raw = t.xml_content(XmlVersion::Implicit1_0);
                if outside && !raw.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) {
                    return Err(format!("text outside the root at byte {at}"));
                }
                if let Some(c) = raw.chars().find(|c| !is_xml_char(*c)) {
                    return Err(format!("character U+{:04X} at byte {at}", u32::from(c)));
                }
            }
            Event::CData(_) => {
                if outside {
                    return Err(format!("CDATA outside the root at byte {at}"));
                }
            }
            Event::GeneralRef(r) => {
                if outside {
                    return Err(format!("reference outside the root at byte {at}"));
                }
                if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => {}
                        _ => return Err(format!("bad character reference at byte {at}")),
                    }
                } else {
                    let name: &str = &r[..];
                    if !matches!(name, "lt" | "gt" | "amp" | "apos" | "quot") {
                        return Err(format!("undeclared entity &{name}; at byte {at}"));
                    }
                }
            }
        }
        first = false;
    }
    if depth != 0 {
        return Err("unclosed element".to_string());
    }
    if roots != 1 {
        return Err("no root element".to_string());
    }
    Ok(())
}

/// XML 1.0 `Char`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The reader's promises about a tree it accepted: every limit held, local names only,
/// no namespace declarations kept as attributes.
pub fn check_tree(input: &[u8], root: &Element, limits: &Limits) -> Result<(), String> {
    if input.len() > limits.max_body_bytes {
        return Err(format!(
            "accepted {} bytes over max_body_bytes {}",
            input.len(),
            limits.max_body_bytes
        ));
    }
    let mut elements = 0usize;
    let mut stack: Vec<(&Element, usize)> = vec![(root, 1)];
    while let Some((el, depth)) = stack.pop() {
        elements += 1;
        if depth > limits.max_depth {
            return Err(format!("depth {depth} over max_depth {}", limits.max_depth));
        }
        check_name(&el.name, limits)?;
        if el.attributes.len() > limits.max_attributes {
            return Err(format!(
                "{} attributes on <{}> over max_attributes {}",
                el.attributes.len(),
                el.name,
                limits.max_attributes
            ));
        }
        for a in &el.attributes {
            check_name(&a.name, limits)?;
            if a.name == "xmlns" {
                return Err("a namespace declaration kept as an attribute".to_string());
            }
            if let Some(c) = a.value.chars().find(|c| !is_xml_char(*c)) {
                return Err(format!("attribute value holds U+{:04X}", u32::from(c)));
            }
        }
        if el.text.len() > limits.max_text_bytes {
            return Err(format!(
                "text of {} bytes over max_text_bytes {}",
                el.text.len(),
                limits.max_text_bytes
            ));
        }
        if let Some(c) = el.text.chars().find(|c| !is_xml_char(*c)) {
            return Err(format!("text holds U+{:04X}", u32::from(c)));
        }
        stack.extend(el.children.iter().map(|c| (c, depth + 1)));
    }
    if elements > limits.max_elements {
        return Err(format!(
            "{elements} elements over max_elements {}",
            limits.max_elements
        ));
    }
    Ok(())
}

fn check_name(name: &str, limits: &Limits) -> Result<(), String> {
    if name.is_empty() {
        return Err("an empty name".to_string());
    }
    if name.contains(':') {
        return Err(format!("name {name:?} is not a local name"));
    }
    if name.chars().count() > limits.max_name_length {
        return Err(format!(
            "name of {} chars over max_name_length {}",
            name.chars().count(),
            limits.max_name_length
        ));
    }
    Ok(())
}

/// Escapes character data (text content).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // A literal CR would be normalised to LF by any reader.
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value in double quotes (whitespace as references, so that
/// attribute-value normalisation leaves it as it is).
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes a tree back as XML: attributes, then the text, then the children. Reading the
/// result gives the same tree (the reader keeps an element's direct text concatenated).
pub fn serialize(el: &Element) -> String {
    let mut out = String::new();
    write_element(el, &mut out);
    out
}

fn write_element(el: &Element, out: &mut String) {
    out.push('<');
    out.push_str(&el.name);
    for a in &el.attributes {
        out.push(' ');
        out.push_str(&a.name);
        out.push_str("=\"");
        out.push_str(&escape_attr(&a.value));
        out.push('"');
    }
    out.push('>');
    out.push_str(&escape_text(&el.text));
    for c in &el.children {
        write_element(c, out);
    }
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
}

/// Whether some element carries two attributes with the same local name (legal when their
/// prefixes name different namespaces, but then the tree cannot be written back unprefixed).
pub fn has_duplicate_attribute(el: &Element) -> bool {
    let mut stack = vec![el];
    while let Some(e) = stack.pop() {
        for (i, a) in e.attributes.iter().enumerate() {
            if e.attributes.iter().skip(i + 1).any(|b| b.name == a.name) {
                return true;
            }
        }
        stack.extend(e.children.iter());
    }
    false
}

/// Limits large enough for anything a fuzz input can hold.
pub fn unlimited() -> Limits {
    Limits {
        max_body_bytes: usize::MAX,
        max_depth: usize::MAX,
        max_elements: usize::MAX,
        max_attributes: usize::MAX,
        max_name_length: usize::MAX,
        max_text_bytes: usize::MAX,
    }
}

/// Tiny limits, so that every limit is reached by small inputs.
pub fn tiny() -> Limits {
    Limits {
        max_body_bytes: 512,
        max_depth: 3,
        max_elements: 8,
        max_attributes: 2,
        max_name_length: 8,
        max_text_bytes: 16,
    }
}
