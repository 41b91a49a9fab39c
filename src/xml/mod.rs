//! The guarded XML reader (SPEC §2): one pass over the body, every limit enforced while
//! reading, DTDs refused, and the well-formedness checks quick-xml leaves to its caller.
//!
//! It produces a compact element tree with local names; namespaces are checked for
//! well-formedness (every prefix declared) and then dropped, because validation matches
//! elements by local name.

mod chars;
mod reader;

/// The reader's limits (SPEC §2, configuration key `limits`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_attributes: usize,
    pub max_name_length: usize,
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 10 * 1024 * 1024,
            max_depth: 32,
            max_elements: 10_000,
            max_attributes: 16,
            max_name_length: 128,
            max_text_bytes: 8 * 1024 * 1024,
        }
    }
}

/// One attribute, by local name. Namespace declarations (`xmlns`, `xmlns:p`) are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

/// One element, by local name, with its attributes, its direct text (text and CDATA
/// sections concatenated, untrimmed, entities decoded) and its child elements in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<Attribute>,
    pub text: String,
    pub children: Vec<Element>,
}

/// Why a document was refused. Every variant renders as the E004 detail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// The body is empty (or only whitespace / a BOM).
    Empty,
    /// A DOCTYPE of any kind.
    DtdNotAllowed,
    /// An `encoding` other than UTF-8, or bytes that are not UTF-8.
    Encoding(String),
    /// A limit of [`Limits`] was passed; names the configuration key and its value.
    Limit { name: &'static str, value: usize },
    /// Not well-formed (or not namespace-well-formed); says what and where (byte offset).
    Malformed(String),
}

impl XmlError {
    /// The E004 detail text (the `Comments` of the ErrorResponse).
    pub fn detail(&self) -> String {
        match self {
            XmlError::Empty => "Missing Request Body".to_string(),
            XmlError::DtdNotAllowed => "DTD is not allowed".to_string(),
            XmlError::Encoding(what) => format!("Encoding Error: {what}"),
            XmlError::Limit { name, value } => format!("Limit Exceeded: {name} ({value})"),
            XmlError::Malformed(what) => format!("Malformed XML: {what}"),
        }
    }
}

/// Reads a whole document. `input` is the complete body; the verdict depends only on its bytes.
///
/// Refuses, in this order of discovery: a body over `max_body_bytes`; an empty body; bytes
/// that are not UTF-8 or characters that are not XML `Char`s; then, while reading, the first
/// DOCTYPE, well-formedness or namespace error, or passed limit.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Element, XmlError> {
    reader::parse(input, limits)
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this local name, in document order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The direct text with leading and trailing whitespace removed (SPEC §2).
    pub fn trimmed_text(&self) -> &str {
        self.text
            .trim_matches(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n'))
    }

    /// Follows a `/`-separated path of local names below this element (first match at each step).
    pub fn at_path(&self, path: &str) -> Option<&Element> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .try_fold(self, |el, step| el.child(step))
    }
}

#[cfg(test)]
mod tests;
