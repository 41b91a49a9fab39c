//! The one-pass reader behind [`super::parse`].
//!
//! quick-xml splits the document into events (tags, text, references, comments, ...);
//! everything it leaves to its caller is checked here, on the raw text of each event:
//! names, attributes (quoting, `<`, whitespace, uniqueness), references, comments, PIs,
//! the XML declaration, the document structure, and namespace well-formedness.
//! Every limit is checked before the thing it bounds is stored.

use quick_xml::errors::{Error as QxError, IllFormedError};
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::chars::{all_space, is_name, is_ncname, is_space, is_xml_char};
use super::{Attribute, Element, Limits, XmlError};

const BOM: &[u8] = b"\xEF\xBB\xBF";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The longest piece of the document ever echoed in an error text.
const ECHO_MAX: usize = 40;

pub(super) fn parse(input: &[u8], limits: &Limits) -> Result<Element, XmlError> {
    if input.len() > limits.max_body_bytes {
        return Err(limit("max_body_bytes", limits.max_body_bytes));
    }
    let (body, base) = match input.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len()),
        None => (input, 0),
    };
    if body.iter().all(|&b| is_space(b)) {
        return Err(XmlError::Empty);
    }
    let src = check_chars(body, base)?;
    // quick-xml silently drops a BOM at the start of what it is given; a second BOM is
    // character data before the root element, which is not allowed.
    if src.starts_with('\u{FEFF}') {
        return Err(malformed("text before the root element", base));
    }
    Doc {
        base,
        limits,
        stack: Vec::new(),
        bindings: Vec::new(),
        root: None,
        elements: 0,
    }
    .run(src)
}

/// Checks that the body is UTF-8 and holds only XML `Char`s (every production of the
/// XML 1.0 grammar is made of `Char`s, so this holds for text, attribute values,
/// comments, PIs and CDATA alike).
fn check_chars(body: &[u8], base: usize) -> Result<&str, XmlError> {
    let src = match std::str::from_utf8(body) {
        Ok(s) => s,
        Err(e) => {
            if body.starts_with(b"\xFE\xFF") || body.starts_with(b"\xFF\xFE") {
                return Err(XmlError::Encoding(
                    "UTF-16 is not supported, only UTF-8".to_string(),
                ));
            }
            return Err(XmlError::Encoding(format!(
                "invalid UTF-8 at byte {}",
                base + e.valid_up_to()
            )));
        }
    };
    if let Some((at, c)) = src.char_indices().find(|&(_, c)| !is_xml_char(c)) {
        return Err(malformed(
            &format!("character U+{:04X} is not allowed in XML", u32::from(c)),
            base + at,
        ));
    }
    Ok(src)
}

fn limit(name: &'static str, value: usize) -> XmlError {
    XmlError::Limit { name, value }
}

fn malformed(what: &str, at: usize) -> XmlError {
    XmlError::Malformed(format!("{what} at byte {at}"))
}

/// At most [`ECHO_MAX`] characters of a piece of the document, for error texts.
fn short(s: &str) -> String {
    let mut out: String = s.chars().take(ECHO_MAX).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

/// Appends `s` to `out`, refusing to let `out` grow beyond `max` bytes (`max_text_bytes`).
fn push_limited(out: &mut String, s: &str, max: usize) -> Result<(), XmlError> {
    if out.len().saturating_add(s.len()) > max {
        return Err(limit("max_text_bytes", max));
    }
    out.push_str(s);
    Ok(())
}

fn push_char_limited(out: &mut String, c: char, max: usize) -> Result<(), XmlError> {
    let mut buf = [0u8; 4];
    push_limited(out, c.encode_utf8(&mut buf), max)
}

/// Appends character data with line endings normalised (XML §2.11: `\r\n` and a lone
/// `\r` become `\n`). A `\r` at the end of a chunk is always followed by markup, so it is
/// a lone one.
fn push_normalised(out: &mut String, raw: &str, max: usize) -> Result<(), XmlError> {
    let mut parts = raw.split('\r');
    if let Some(first) = parts.next() {
        push_limited(out, first, max)?;
    }
    for part in parts {
        push_char_limited(out, '\n', max)?;
        push_limited(out, part.strip_prefix('\n').unwrap_or(part), max)?;
    }
    Ok(())
}

/// The character an entity or character reference stands for (`name` is what lies
/// between `&` and `;`). Only the five predefined entities exist: there is no DTD.
fn resolve_reference(name: &str) -> Result<char, String> {
    match name {
        "lt" => return Ok('<'),
        "gt" => return Ok('>'),
        "amp" => return Ok('&'),
        "apos" => return Ok('\''),
        "quot" => return Ok('"'),
        _ => {}
    }
    let (digits, radix) = if let Some(hex) = name.strip_prefix("#x") {
        (hex, 16)
    } else if let Some(dec) = name.strip_prefix('#') {
        (dec, 10)
    } else {
        return Err(format!("undefined entity &{};", short(name)));
    };
    let valid_digit = |b: u8| {
        if radix == 16 {
            b.is_ascii_hexdigit()
        } else {
            b.is_ascii_digit()
        }
    };
    if digits.is_empty() || !digits.bytes().all(valid_digit) {
        return Err(format!("invalid character reference &{};", short(name)));
    }
    let mut value: u32 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix).unwrap_or(0);
        value = match value
            .checked_mul(radix)
            .and_then(|v| v.checked_add(d))
            .filter(|&v| v <= 0x10_FFFF)
        {
            Some(v) => v,
            None => {
                return Err(format!(
                    "character reference &{}; out of range",
                    short(name)
                ))
            }
        };
    }
    match char::from_u32(value) {
        Some(c) if is_xml_char(c) => Ok(c),
        _ => Err(format!(
            "character reference &{}; is not an XML character",
            short(name)
        )),
    }
}

/// Decodes an attribute value (XML §3.3.3): references resolved, literal tab / LF / CR
/// (and CR LF) become a space; a raw `<` is not allowed.
fn decode_attribute(raw: &str, max: usize, at: usize) -> Result<String, XmlError> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '<', '\t', '\n', '\r']) {
        let (plain, tail) = rest.split_at_checked(i).unwrap_or((rest, ""));
        push_limited(&mut out, plain, max)?;
        let mut tail_chars = tail.chars();
        match tail_chars.next() {
            Some('<') => return Err(malformed("'<' in an attribute value", at)),
            Some('&') => {
                let after = tail_chars.as_str();
                let Some((name, next)) = after.split_once(';') else {
                    return Err(malformed(
                        "unterminated reference in an attribute value",
                        at,
                    ));
                };
                let c = resolve_reference(name).map_err(|what| malformed(&what, at))?;
                push_char_limited(&mut out, c, max)?;
                rest = next;
            }
            Some('\r') => {
                push_char_limited(&mut out, ' ', max)?;
                let after = tail_chars.as_str();
                rest = after.strip_prefix('\n').unwrap_or(after);
            }
            Some(_) => {
                push_char_limited(&mut out, ' ', max)?;
                rest = tail_chars.as_str();
            }
            None => {
                rest = "";
            }
        }
    }
    push_limited(&mut out, rest, max)?;
    Ok(out)
}

/// A byte cursor over a piece of markup. It only ever stops on ASCII bytes, so every
/// slice it hands out lies on character boundaries.
struct Cursor<'s> {
    s: &'s str,
    pos: usize,
}

impl<'s> Cursor<'s> {
    fn new(s: &'s str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, word: &str) -> bool {
        if self.s.get(self.pos..).is_some_and(|r| r.starts_with(word)) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Consumes bytes while `keep` holds; `keep` must be false for every non-ASCII byte
    /// or true for all of them.
    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'s str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    fn skip_space(&mut self) -> usize {
        self.take_while(is_space).len()
    }

    /// `Eq` then a quoted value (`S? '=' S? ('"' [^"]* '"' | "'" [^']* "'")`).
    fn eq_quoted(&mut self) -> Option<&'s str> {
        self.skip_space();
        if !self.eat(b'=') {
            return None;
        }
        self.skip_space();
        let quote = self.peek().filter(|&q| q == b'"' || q == b'\'')?;
        self.pos += 1;
        let value = self.take_while(|b| b != quote);
        if !self.eat(quote) {
            return None;
        }
        Some(value)
    }
}

/// Checks the XML declaration (`content` is what lies between `<?` and `?>`).
fn check_declaration(content: &str, at: usize) -> Result<(), XmlError> {
    let mut cur = Cursor::new(content);
    let bad = |what: &str| malformed(&format!("XML declaration: {what}"), at);
    if !cur.eat_str("xml") {
        return Err(bad("not a declaration"));
    }
    if cur.skip_space() == 0 || !cur.eat_str("version") {
        return Err(bad("version must come first"));
    }
    let version = cur.eq_quoted().ok_or_else(|| bad("malformed version"))?;
    if version != "1.0" {
        let is_1x = version
            .strip_prefix("1.")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        return Err(if is_1x {
            bad(&format!("XML version {version} is not supported, only 1.0"))
        } else {
            bad("invalid version")
        });
    }
    let mut space = cur.skip_space();
    if space > 0 && cur.eat_str("encoding") {
        let enc = cur.eq_quoted().ok_or_else(|| bad("malformed encoding"))?;
        let mut bytes = enc.bytes();
        let well_formed = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !well_formed {
            return Err(bad("malformed encoding name"));
        }
        if !enc.eq_ignore_ascii_case("UTF-8") {
            return Err(XmlError::Encoding(format!(
                "encoding \"{}\" is not supported, only UTF-8",
                short(enc)
            )));
        }
        space = cur.skip_space();
    }
    if space > 0 && cur.eat_str("standalone") {
        let sd = cur.eq_quoted().ok_or_else(|| bad("malformed standalone"))?;
        if sd != "yes" && sd != "no" {
            return Err(bad("standalone must be yes or no"));
        }
        cur.skip_space();
    }
    if !cur.at_end() {
        return Err(bad("unexpected content"));
    }
    Ok(())
}

/// Checks a processing instruction (`content` is what lies between `<?` and `?>`).
fn check_pi(content: &str, at: usize) -> Result<(), XmlError> {
    let target = content.split([' ', '\t', '\r', '\n']).next().unwrap_or("");
    if !is_name(target) {
        return Err(malformed("invalid processing instruction target", at));
    }
    if target.eq_ignore_ascii_case("xml") {
        return Err(malformed(
            "processing instruction target 'xml' is reserved (an XML declaration is only allowed at the very start)",
            at,
        ));
    }
    if target.contains(':') {
        return Err(malformed(
            "a processing instruction target must not contain ':'",
            at,
        ));
    }
    Ok(())
}

/// Checks a comment (`content` is what lies between `<!--` and `-->`).
fn check_comment(content: &str, at: usize) -> Result<(), XmlError> {
    if content.contains("--") {
        return Err(malformed("'--' inside a comment", at));
    }
    if content.ends_with('-') {
        return Err(malformed("a comment must not end with '--->'", at));
    }
    Ok(())
}

/// Splits a qualified name into prefix and local part (Namespaces in XML 1.0 §4).
fn split_qname(qname: &str, at: usize) -> Result<(Option<&str>, &str), XmlError> {
    match qname.split_once(':') {
        None => Ok((None, qname)),
        Some((prefix, local)) if is_ncname(prefix) && is_ncname(local) => Ok((Some(prefix), local)),
        Some(_) => Err(malformed(
            &format!("'{}' is not a valid qualified name", short(qname)),
            at,
        )),
    }
}

/// One namespace declaration in scope. The default namespace has the empty prefix; an
/// empty URI undeclares it.
struct Binding {
    prefix: String,
    uri: String,
}

/// An element whose end tag has not been read yet.
struct Open {
    qname: String,
    element: Element,
    /// `bindings.len()` before this element's declarations.
    ns_mark: usize,
}

struct Doc<'l> {
    base: usize,
    limits: &'l Limits,
    stack: Vec<Open>,
    bindings: Vec<Binding>,
    root: Option<Element>,
    elements: usize,
}

impl Doc<'_> {
    fn run(mut self, src: &str) -> Result<Element, XmlError> {
        let mut reader = quick_xml::Reader::from_str(src);
        {
            let config = reader.config_mut();
            config.trim_text(false);
            config.expand_empty_elements = false;
            config.check_end_names = true;
            config.allow_unmatched_ends = false;
            config.allow_dangling_amp = false;
            config.trim_markup_names_in_closing_tags = true;
        }
        let mut first = true;
        loop {
            let at = self.offset(reader.buffer_position());
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => return Err(self.quick_xml_error(src, &e, reader.error_position())),
            };
            let was_first = first;
            first = false;
            match event {
                Event::Decl(decl) => {
                    if !was_first || at != self.base {
                        return Err(malformed(
                            "an XML declaration is only allowed at the very start",
                            at,
                        ));
                    }
                    check_declaration(&decl, at)?;
                }
                Event::DocType(_) => return Err(XmlError::DtdNotAllowed),
                Event::PI(pi) => check_pi(&pi, at)?,
                Event::Comment(comment) => check_comment(&comment, at)?,
                Event::Start(start) => self.start(&start, at, false)?,
                Event::Empty(start) => self.start(&start, at, true)?,
                Event::End(end) => self.end(&end, at)?,
                Event::Text(text) => self.text(&text, at)?,
                Event::CData(cdata) => self.cdata(&cdata, at)?,
                Event::GeneralRef(reference) => self.reference(&reference, at)?,
                Event::Eof => break,
            }
        }
        if let Some(open) = self.stack.last() {
            return Err(malformed(
                &format!("element <{}> is not closed", short(&open.qname)),
                self.offset(reader.buffer_position()),
            ));
        }
        self.root
            .ok_or_else(|| malformed("no root element", self.base + src.len()))
    }

    fn offset(&self, position: u64) -> usize {
        usize::try_from(position)
            .unwrap_or(usize::MAX)
            .saturating_add(self.base)
    }

    fn quick_xml_error(&self, src: &str, e: &QxError, position: u64) -> XmlError {
        let at = usize::try_from(position).unwrap_or(usize::MAX);
        let markup = src.as_bytes().get(at..).unwrap_or(&[]);
        if markup
            .get(..9)
            .is_some_and(|m| m.eq_ignore_ascii_case(b"<!DOCTYPE"))
        {
            return XmlError::DtdNotAllowed;
        }
        let what = match e {
            QxError::Syntax(s) => s.to_string(),
            QxError::IllFormed(IllFormedError::MismatchedEndTag { .. }) => {
                "end tag does not match the start tag".to_string()
            }
            QxError::IllFormed(IllFormedError::UnmatchedEndTag(_)) => {
                "end tag without a start tag".to_string()
            }
            QxError::IllFormed(IllFormedError::MissingEndTag(_)) => {
                "element is not closed".to_string()
            }
            QxError::IllFormed(i) => i.to_string(),
            other => short(&other.to_string()),
        };
        malformed(&what, self.offset(position))
    }

    fn start(&mut self, tag: &BytesStart<'_>, at: usize, empty: bool) -> Result<(), XmlError> {
        let limits = self.limits;
        if self.root.is_some() {
            return Err(malformed("only one root element is allowed", at));
        }
        if self.stack.len() >= limits.max_depth {
            return Err(limit("max_depth", limits.max_depth));
        }
        if self.elements >= limits.max_elements {
            return Err(limit("max_elements", limits.max_elements));
        }
        self.elements += 1;

        let raw: &str = tag;
        let name_end = raw.find([' ', '\t', '\r', '\n']).unwrap_or(raw.len());
        let (qname, rest) = raw.split_at_checked(name_end).unwrap_or((raw, ""));
        if qname.len() > limits.max_name_length {
            return Err(limit("max_name_length", limits.max_name_length));
        }
        if !is_name(qname) {
            return Err(malformed(
                &format!("'{}' is not a valid element name", short(qname)),
                at,
            ));
        }
        let attributes = parse_attributes(rest, limits, at)?;

        // Namespace declarations of this element.
        let ns_mark = self.bindings.len();
        for (name, value) in &attributes {
            if *name == "xmlns" {
                if value == XML_NS || value == XMLNS_NS {
                    return Err(malformed(
                        "a reserved namespace cannot be the default namespace",
                        at,
                    ));
                }
                self.bindings.push(Binding {
                    prefix: String::new(),
                    uri: value.clone(),
                });
            } else if let Some(prefix) = name.strip_prefix("xmlns:") {
                declare_prefix(prefix, value, at)?;
                if prefix != "xml" {
                    self.bindings.push(Binding {
                        prefix: prefix.to_string(),
                        uri: value.clone(),
                    });
                }
            }
        }

        let (prefix, local) = split_qname(qname, at)?;
        match prefix {
            Some("xmlns") => {
                return Err(malformed(
                    "an element name must not have the prefix xmlns",
                    at,
                ))
            }
            Some(p) => {
                self.namespace_of(p, at)?;
            }
            None => {}
        }

        // Ordinary attributes: prefixes declared, unique by (namespace, local name).
        let mut kept: Vec<Attribute> = Vec::new();
        let mut expanded = std::collections::BTreeSet::new();
        for (name, value) in attributes {
            if name == "xmlns" || name.starts_with("xmlns:") {
                continue;
            }
            let (prefix, local) = split_qname(name, at)?;
            // XML §2.10 (erratum E57): xml:space is "default" or "preserve".
            if prefix == Some("xml")
                && local == "space"
                && value != "default"
                && value != "preserve"
            {
                return Err(malformed("xml:space must be 'default' or 'preserve'", at));
            }
            if let Some(p) = prefix {
                let uri = self.namespace_of(p, at)?;
                if !expanded.insert((uri, local)) {
                    return Err(malformed(
                        &format!(
                            "attribute '{}' appears twice (after namespace resolution)",
                            short(name)
                        ),
                        at,
                    ));
                }
            }
            kept.push(Attribute {
                name: local.to_string(),
                value,
            });
        }

        let element = Element {
            name: local.to_string(),
            attributes: kept,
            text: String::new(),
            children: Vec::new(),
        };
        if empty {
            self.bindings.truncate(ns_mark);
            self.attach(element);
        } else {
            self.stack.push(Open {
                qname: qname.to_string(),
                element,
                ns_mark,
            });
        }
        Ok(())
    }

    /// The namespace URI bound to `prefix` (never empty), or an error when undeclared.
    fn namespace_of(&self, prefix: &str, at: usize) -> Result<&str, XmlError> {
        if prefix == "xml" {
            return Ok(XML_NS);
        }
        self.bindings
            .iter()
            .rev()
            .find(|b| b.prefix == prefix)
            .map(|b| b.uri.as_str())
            .ok_or_else(|| {
                malformed(
                    &format!("namespace prefix '{}' is not declared", short(prefix)),
                    at,
                )
            })
    }

    fn end(&mut self, name: &str, at: usize) -> Result<(), XmlError> {
        let Some(open) = self.stack.pop() else {
            return Err(malformed("end tag without a start tag", at));
        };
        if open.qname != name {
            return Err(malformed(
                &format!(
                    "end tag </{}> does not match <{}>",
                    short(name),
                    short(&open.qname)
                ),
                at,
            ));
        }
        self.bindings.truncate(open.ns_mark);
        self.attach(open.element);
        Ok(())
    }

    fn attach(&mut self, element: Element) {
        match self.stack.last_mut() {
            Some(parent) => parent.element.children.push(element),
            None => self.root = Some(element),
        }
    }

    fn text(&mut self, raw: &str, at: usize) -> Result<(), XmlError> {
        let max = self.limits.max_text_bytes;
        match self.stack.last_mut() {
            None if all_space(raw) => Ok(()),
            None => Err(malformed("text outside the root element", at)),
            Some(_) if raw.contains("]]>") => Err(malformed("']]>' in text", at)),
            Some(open) => push_normalised(&mut open.element.text, raw, max),
        }
    }

    fn cdata(&mut self, raw: &str, at: usize) -> Result<(), XmlError> {
        let max = self.limits.max_text_bytes;
        match self.stack.last_mut() {
            None => Err(malformed("CDATA section outside the root element", at)),
            Some(open) => push_normalised(&mut open.element.text, raw, max),
        }
    }

    fn reference(&mut self, reference: &BytesRef<'_>, at: usize) -> Result<(), XmlError> {
        let max = self.limits.max_text_bytes;
        let name: &str = reference;
        let Some(open) = self.stack.last_mut() else {
            return Err(malformed("reference outside the root element", at));
        };
        let c = resolve_reference(name).map_err(|what| malformed(&what, at))?;
        push_char_limited(&mut open.element.text, c, max)
    }
}

/// Checks a prefix declaration `xmlns:prefix="uri"` (Namespaces in XML 1.0 §3, §4).
fn declare_prefix(prefix: &str, uri: &str, at: usize) -> Result<(), XmlError> {
    if !is_ncname(prefix) {
        return Err(malformed(
            &format!("'{}' is not a valid namespace prefix", short(prefix)),
            at,
        ));
    }
    if prefix == "xmlns" {
        return Err(malformed("the prefix xmlns must not be declared", at));
    }
    if uri.is_empty() {
        return Err(malformed(
            "a namespace prefix cannot be undeclared (xmlns:p=\"\") in XML 1.0",
            at,
        ));
    }
    if prefix == "xml" {
        if uri != XML_NS {
            return Err(malformed(
                "the prefix xml can only be bound to its own namespace",
                at,
            ));
        }
    } else if uri == XML_NS || uri == XMLNS_NS {
        return Err(malformed(
            "a reserved namespace cannot be bound to another prefix",
            at,
        ));
    }
    Ok(())
}

/// Reads the attributes of a start tag (`rest` follows the element name):
/// `(S Attribute)* S?`, each `Name Eq AttValue`, names unique.
///
/// `max_attributes` counts every attribute written in the tag, namespace declarations
/// included: they are kept in memory too (as bindings), so counting them keeps the
/// bound a real one.
fn parse_attributes<'s>(
    rest: &'s str,
    limits: &Limits,
    at: usize,
) -> Result<Vec<(&'s str, String)>, XmlError> {
    let mut cur = Cursor::new(rest);
    let mut out: Vec<(&'s str, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let space = cur.skip_space();
        if cur.at_end() {
            break;
        }
        if space == 0 {
            return Err(malformed("whitespace is required between attributes", at));
        }
        let name = cur.take_while(|b| !is_space(b) && b != b'=');
        if name.len() > limits.max_name_length {
            return Err(limit("max_name_length", limits.max_name_length));
        }
        if !is_name(name) {
            return Err(malformed(
                &format!("'{}' is not a valid attribute name", short(name)),
                at,
            ));
        }
        if out.len() >= limits.max_attributes {
            return Err(limit("max_attributes", limits.max_attributes));
        }
        let Some(raw) = cur.eq_quoted() else {
            return Err(malformed(
                &format!("attribute '{}' needs '=' and a quoted value", short(name)),
                at,
            ));
        };
        if !seen.insert(name) {
            return Err(malformed(
                &format!("attribute '{}' appears twice", short(name)),
                at,
            ));
        }
        let value = decode_attribute(raw, limits.max_text_bytes, at)?;
        out.push((name, value));
    }
    Ok(out)
}
