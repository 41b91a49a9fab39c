//! Character classes of XML 1.0 (Fifth Edition): `Char`, `S`, `NameStartChar`, `NameChar`.

/// `Char` (XML 1.0 §2.2): any Unicode scalar value except the C0 controls other than
/// tab, LF and CR, and U+FFFE / U+FFFF. (Surrogates cannot occur in a Rust `char`.)
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\u{9}' | '\u{A}' | '\u{D}'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// `S` (XML 1.0 §2.3), as a byte.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// True when the whole string is `S*`.
pub(crate) fn all_space(s: &str) -> bool {
    s.bytes().all(is_space)
}

/// `NameStartChar` (XML 1.0 Fifth Edition, production [4]).
pub(crate) fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}'
        | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}'
        | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}'
        | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// `NameChar` (XML 1.0 Fifth Edition, production [4a]).
pub(crate) fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c,
            '-' | '.' | '0'..='9'
            | '\u{B7}'
            | '\u{300}'..='\u{36F}'
            | '\u{203F}'..='\u{2040}')
}

/// `Name` (production [5]).
pub(crate) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start_char(c) => chars.all(is_name_char),
        _ => false,
    }
}

/// `NCName` (Namespaces in XML 1.0, production [4]): a `Name` without any colon.
pub(crate) fn is_ncname(s: &str) -> bool {
    is_name(s) && !s.contains(':')
}
