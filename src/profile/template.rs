//! Element references (`WorkNotes/WorkNote`, `/CustomerReferenceNumber`, `Attachment/@id`) and
//! text templates (`"[{CreatedAt} {CreatedBy}] {Text}"`) of the profile language.

use crate::xml::Element;

/// A reference to an element (or one of its attributes) below a context element.
///
/// Steps are local names joined by `/`; a leading `/` starts from the message root instead of
/// the context element (they differ only inside `$join` / `$each`); a last step `@name` reads an
/// attribute. At each step the first child with that name is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ElemRef {
    pub absolute: bool,
    pub steps: Vec<String>,
    pub attribute: Option<String>,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || !c.is_ascii() && !c.is_whitespace() && !c.is_control()
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == '-' || c == '.'
}

/// Whether `s` is usable as an XML local name in a reference.
pub(crate) fn is_local_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start(c) => chars.all(is_name_char),
        _ => false,
    }
}

impl ElemRef {
    pub(crate) fn parse(s: &str) -> Result<ElemRef, String> {
        let (absolute, rest) = match s.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if rest.is_empty() {
            return Err(format!("element path \"{s}\" is empty"));
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let mut steps = Vec::new();
        let mut attribute = None;
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.iter().enumerate() {
            if let Some(attr) = part.strip_prefix('@') {
                if i != last || !is_local_name(attr) {
                    return Err(format!(
                        "element path \"{s}\": \"{part}\" is not allowed there (an attribute `@name` may only be the last step)"
                    ));
                }
                attribute = Some(attr.to_string());
            } else if is_local_name(part) {
                steps.push((*part).to_string());
            } else {
                return Err(format!(
                    "element path \"{s}\": \"{part}\" is not a local element name (write local names joined by `/`)"
                ));
            }
        }
        Ok(ElemRef {
            absolute,
            steps,
            attribute,
        })
    }

    fn start<'a>(&self, ctx: &'a Element, root: &'a Element) -> &'a Element {
        if self.absolute {
            root
        } else {
            ctx
        }
    }

    /// The element the steps lead to (the attribute part is ignored).
    pub(crate) fn element<'a>(&self, ctx: &'a Element, root: &'a Element) -> Option<&'a Element> {
        self.steps
            .iter()
            .try_fold(self.start(ctx, root), |el, step| el.child(step))
    }

    /// The value: the element's trimmed text (or the attribute's trimmed value). Absent and
    /// empty (after trimming) are both `None`.
    pub(crate) fn value<'a>(&self, ctx: &'a Element, root: &'a Element) -> Option<&'a str> {
        let el = self.element(ctx, root)?;
        let v = match &self.attribute {
            Some(name) => el
                .attributes
                .iter()
                .find(|a| &a.name == name)
                .map(|a| trim_xml(&a.value))?,
            None => el.trimmed_text(),
        };
        if v.is_empty() {
            None
        } else {
            Some(v)
        }
    }

    /// Every element the path names: all children named like the last step, below the first
    /// match of the steps before it.
    pub(crate) fn elements<'a>(&self, ctx: &'a Element, root: &'a Element) -> Vec<&'a Element> {
        let Some((last, parents)) = self.steps.split_last() else {
            return Vec::new();
        };
        let parent = parents
            .iter()
            .try_fold(self.start(ctx, root), |el, step| el.child(step));
        match parent {
            Some(p) => p.children.iter().filter(|c| &c.name == last).collect(),
            None => Vec::new(),
        }
    }

    /// A single plain local name (what `required_elements` can report).
    pub(crate) fn simple_name(&self) -> Option<&str> {
        match (self.steps.as_slice(), &self.attribute) {
            ([only], None) => Some(only.as_str()),
            _ => None,
        }
    }
}

fn trim_xml(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Literal(String),
    Ref(ElemRef),
}

/// Literal text with `{path}` placeholders; `{{` and `}}` are literal braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pub pieces: Vec<Piece>,
}

impl Template {
    pub(crate) fn parse(s: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    for d in chars.by_ref() {
                        match d {
                            '}' => {
                                closed = true;
                                break;
                            }
                            '{' => {
                                return Err(format!(
                                    "template \"{s}\": `{{` inside a placeholder (write `{{{{` for a literal brace)"
                                ))
                            }
                            _ => inner.push(d),
                        }
                    }
                    if !closed {
                        return Err(format!(
                            "template \"{s}\": placeholder `{{{inner}` is not closed (write `{{{{` for a literal brace)"
                        ));
                    }
                    let r = ElemRef::parse(&inner).map_err(|e| {
                        format!("template \"{s}\": unknown placeholder syntax `{{{inner}}}`: {e}")
                    })?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Ref(r));
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(format!(
                        "template \"{s}\": lone `}}` (write `}}}}` for a literal brace)"
                    ))
                }
                _ => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Template { pieces })
    }

    pub(crate) fn refs(&self) -> impl Iterator<Item = &ElemRef> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Ref(r) => Some(r),
            Piece::Literal(_) => None,
        })
    }

    pub(crate) fn literals(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Literal(l) => Some(l.as_str()),
            Piece::Ref(_) => None,
        })
    }

    /// Renders with every placeholder passed through `encode`; `None` when a placeholder has
    /// no value (absent or empty element).
    pub(crate) fn render_with(
        &self,
        ctx: &Element,
        root: &Element,
        encode: &dyn Fn(&str) -> String,
    ) -> Result<String, &ElemRef> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Literal(l) => out.push_str(l),
                Piece::Ref(r) => match r.value(ctx, root) {
                    Some(v) => out.push_str(&encode(v)),
                    None => return Err(r),
                },
            }
        }
        Ok(out)
    }

    pub(crate) fn render(&self, ctx: &Element, root: &Element) -> Option<String> {
        self.render_with(ctx, root, &|v| v.to_string()).ok()
    }
}

impl std::fmt::Display for ElemRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.absolute {
            f.write_str("/")?;
        }
        f.write_str(&self.steps.join("/"))?;
        if let Some(a) = &self.attribute {
            if !self.steps.is_empty() {
                f.write_str("/")?;
            }
            write!(f, "@{a}")?;
        }
        Ok(())
    }
}

/// One or more templates: the first whose placeholders all have values is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Alternatives(pub Vec<Template>);

impl Alternatives {
    pub(crate) fn render(&self, ctx: &Element, root: &Element) -> Option<String> {
        self.0.iter().find_map(|t| t.render(ctx, root))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn parses_literals_and_placeholders() {
        let t = Template::parse("[{CreatedAt} {CreatedBy}] {{x}} {/Root/@id}").unwrap();
        assert_eq!(t.refs().count(), 3);
        assert_eq!(t.literals().collect::<Vec<_>>(), vec!["[", " ", "] {x} "]);
        let r: Vec<String> = t.refs().map(|r| r.to_string()).collect();
        assert_eq!(r, vec!["CreatedAt", "CreatedBy", "/Root/@id"]);
    }

    #[test]
    fn refuses_bad_syntax() {
        for bad in [
            "{",
            "{A",
            "}",
            "a}b",
            "{}",
            "{A|upper}",
            "{A B}",
            "{A{B}}",
            "{@a/B}",
            "{A//B}",
            "{1A}",
            "{/}",
            "{A/}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn attribute_only_reference() {
        let r = ElemRef::parse("@id").unwrap();
        assert!(r.steps.is_empty());
        assert_eq!(r.to_string(), "@id");
    }
}
