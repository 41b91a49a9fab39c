#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;

fn ok(doc: &str) -> Element {
    match parse(doc.as_bytes(), &Limits::default()) {
        Ok(el) => el,
        Err(e) => panic!("{doc:?} refused: {}", e.detail()),
    }
}

fn err(doc: &str) -> XmlError {
    err_with(doc.as_bytes(), &Limits::default())
}

fn err_with(doc: &[u8], limits: &Limits) -> XmlError {
    match parse(doc, limits) {
        Ok(el) => panic!("{:?} accepted as {el:?}", String::from_utf8_lossy(doc)),
        Err(e) => e,
    }
}

/// Refused as Malformed, with a detail containing `needle`.
fn malformed(doc: &str, needle: &str) {
    match err(doc) {
        XmlError::Malformed(d) => assert!(d.contains(needle), "{doc:?}: {d:?} lacks {needle:?}"),
        other => panic!("{doc:?}: expected Malformed({needle}), got {other:?}"),
    }
}

fn limited(doc: &str, limits: &Limits, key: &str) {
    match err_with(doc.as_bytes(), limits) {
        e @ XmlError::Limit { name, .. } => {
            assert_eq!(name, key, "{doc:?}");
            assert!(e.detail().contains(key));
        }
        other => panic!("{doc:?}: expected Limit({key}), got {other:?}"),
    }
}

fn with(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

// ---- detail texts and the interface -------------------------------------------------

#[test]
fn detail_texts() {
    assert_eq!(XmlError::Empty.detail(), "Missing Request Body");
    assert_eq!(XmlError::DtdNotAllowed.detail(), "DTD is not allowed");
    let e = XmlError::Limit {
        name: "max_depth",
        value: 32,
    };
    assert!(e.detail().contains("max_depth"));
}

#[test]
fn default_limits() {
    let l = Limits::default();
    assert_eq!(l.max_body_bytes, 10 * 1024 * 1024);
    assert_eq!(l.max_depth, 32);
    assert_eq!(l.max_elements, 10_000);
    assert_eq!(l.max_attributes, 16);
    assert_eq!(l.max_name_length, 128);
    assert_eq!(l.max_text_bytes, 8 * 1024 * 1024);
}

#[test]
fn accessors() {
    let el = ok("<r><a><b> x\t</b></a><a><b>y</b></a></r>");
    assert_eq!(el.at_path("a/b").map(Element::trimmed_text), Some("x"));
    assert_eq!(el.children_named("a").count(), 2);
    assert!(el.child("b").is_none());
}

// ---- empty bodies, BOM, encoding ----------------------------------------------------

#[test]
fn empty_bodies() {
    for doc in [&b""[..], b"   \r\n\t", b"\xEF\xBB\xBF", b"\xEF\xBB\xBF \n"] {
        assert_eq!(err_with(doc, &Limits::default()), XmlError::Empty);
    }
}

#[test]
fn bom_is_allowed_once() {
    let el = parse(b"\xEF\xBB\xBF<a>x</a>", &Limits::default()).unwrap();
    assert_eq!(el.text, "x");
    parse(
        b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>",
        &Limits::default(),
    )
    .unwrap();
    let e = err_with(b"\xEF\xBB\xBF\xEF\xBB\xBF<a/>", &Limits::default());
    assert!(matches!(e, XmlError::Malformed(_)), "{e:?}");
}

#[test]
fn invalid_utf8_is_an_encoding_error() {
    let e = err_with(b"<a>\xC3\x28</a>", &Limits::default());
    match e {
        XmlError::Encoding(d) => assert!(d.contains("byte 3"), "{d}"),
        other => panic!("{other:?}"),
    }
    let e = err_with(b"<a\xFF/>", &Limits::default());
    assert!(matches!(e, XmlError::Encoding(_)));
    // UTF-16 with BOM.
    let e = err_with(b"\xFF\xFE<\x00a\x00/\x00>\x00", &Limits::default());
    assert!(matches!(e, XmlError::Encoding(_)));
}

#[test]
fn declared_encoding_must_be_utf8() {
    ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>");
    ok("<?xml version=\"1.0\" encoding=\"utf-8\"?><a/>");
    ok("<?xml version='1.0' encoding='Utf-8' standalone='yes'?><a/>");
    for enc in ["UTF8", "ISO-8859-1", "US-ASCII", "UTF-16", "windows-1252"] {
        let doc = format!("<?xml version=\"1.0\" encoding=\"{enc}\"?><a/>");
        assert!(
            matches!(err(&doc), XmlError::Encoding(_)),
            "{enc} not refused as Encoding"
        );
    }
    malformed("<?xml version=\"1.0\" encoding=\"\"?><a/>", "encoding");
    malformed("<?xml version=\"1.0\" encoding=\"-x\"?><a/>", "encoding");
}

// ---- the XML declaration ------------------------------------------------------------

#[test]
fn declaration_syntax() {
    ok("<?xml version=\"1.0\"?><a/>");
    ok("<?xml version = '1.0' ?>\n<a/>");
    ok("<?xml version=\"1.0\" standalone=\"no\"?><a/>");
    malformed("<?xml?><a/>", "version");
    malformed("<?xml encoding=\"UTF-8\"?><a/>", "version");
    malformed("<?xml version=\"1.1\"?><a/>", "1.1 is not supported");
    malformed("<?xml version=\"2.0\"?><a/>", "version");
    malformed("<?xml version=1.0?><a/>", "version");
    malformed(
        "<?xml version=\"1.0\" standalone=\"yes\" encoding=\"UTF-8\"?><a/>",
        "declaration",
    );
    malformed(
        "<?xml version=\"1.0\"encoding=\"UTF-8\"?><a/>",
        "declaration",
    );
    malformed(
        "<?xml version=\"1.0\" standalone=\"maybe\"?><a/>",
        "standalone",
    );
    malformed("<?xml version=\"1.0\" foo=\"bar\"?><a/>", "declaration");
}

#[test]
fn declaration_only_at_the_very_start() {
    malformed(" <?xml version=\"1.0\"?><a/>", "very start");
    malformed("<!-- c --><?xml version=\"1.0\"?><a/>", "very start");
    malformed("<a><?xml version=\"1.0\"?></a>", "very start");
    malformed("<a/><?xml version=\"1.0\"?>", "very start");
    malformed("<?XML version=\"1.0\"?><a/>", "reserved");
    malformed("<a><?xMl x?></a>", "reserved");
}

// ---- DOCTYPE, entities, character references -----------------------------------------

#[test]
fn any_doctype_is_refused() {
    for doc in [
        "<!DOCTYPE a><a/>",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE a SYSTEM \"http://example.com/a.dtd\"><a/>",
        "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
        "<!DOCTYPE a [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><a>&lol2;</a>",
        "<!doctype a><a/>",
        "<!DOCTYPE a [",
    ] {
        assert_eq!(err(doc), XmlError::DtdNotAllowed, "{doc:?}");
    }
}

#[test]
fn predefined_entities_and_character_references() {
    let el = ok("<a>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x10FFFF;&#0000067;</a>");
    assert_eq!(el.text, "<>&'\"AB\u{10FFFF}C");
    let el = ok("<a v='&lt;&#x9;&amp;'/>");
    assert_eq!(el.attributes[0].value, "<\t&");
}

#[test]
fn undefined_entities_and_bad_references() {
    malformed("<a>&nbsp;</a>", "undefined entity");
    malformed("<a>&Lt;</a>", "undefined entity");
    malformed("<a v='&foo;'/>", "undefined entity");
    for r in [
        "&#0;",
        "&#x0;",
        "&#1;",
        "&#xD800;",
        "&#xDFFF;",
        "&#xFFFE;",
        "&#xFFFF;",
        "&#x110000;",
        "&#99999999999999999999;",
        "&#X41;",
        "&#;",
        "&#x;",
        "&#x-1;",
        "&#1a;",
        "&# 65;",
    ] {
        let doc = format!("<a>{r}</a>");
        assert!(matches!(err(&doc), XmlError::Malformed(_)), "{r} accepted");
        let doc = format!("<a v='{r}'/>");
        assert!(
            matches!(err(&doc), XmlError::Malformed(_)),
            "{r} accepted in attribute"
        );
    }
    malformed("<a>a & b</a>", "");
    malformed("<a>&amp</a>", "");
    malformed("<a v='a & b'/>", "");
    malformed("<a v='&amp'/>", "reference");
    malformed("&amp;<a/>", "outside the root");
}

// ---- characters ---------------------------------------------------------------------

#[test]
fn only_xml_characters() {
    for c in [
        '\u{0}', '\u{1}', '\u{8}', '\u{B}', '\u{C}', '\u{1F}', '\u{FFFE}', '\u{FFFF}',
    ] {
        for doc in [
            format!("<a>{c}</a>"),
            format!("<a v='{c}'/>"),
            format!("<a><!-- {c} --></a>"),
            format!("<a><?pi {c}?></a>"),
            format!("<a><![CDATA[{c}]]></a>"),
            format!("<a/><!-- {c} -->"),
        ] {
            match err(&doc) {
                XmlError::Malformed(d) => assert!(d.contains("not allowed"), "{d}"),
                other => panic!("{doc:?}: {other:?}"),
            }
        }
    }
    // Allowed: tab, LF, CR, the BMP up to U+FFFD, astral planes, U+0085, U+2028.
    ok("<a>\t\n\r \u{7F}\u{85}\u{D7FF}\u{E000}\u{FFFD}\u{10000}\u{2028}</a>");
}

#[test]
fn text_must_not_contain_cdata_end() {
    malformed("<a>x]]>y</a>", "]]>");
    assert_eq!(ok("<a>x]]&gt;y]>]</a>").text, "x]]>y]>]");
    assert_eq!(ok("<a>a>b</a>").text, "a>b");
}

// ---- names --------------------------------------------------------------------------

#[test]
fn element_and_attribute_names() {
    ok("<a-b.c_d9 x.y-z='1' _u=''/>");
    ok("<\u{E9}l\u{E9}ment \u{3042}='1'/>");
    ok("<a\u{B7}\u{300}\u{203F}/>");
    ok("<\u{10000}/>");
    for name in [
        "1a", "-a", ".a", "\u{B7}a", "\u{300}a", "a\u{D7}", "a$", "\u{37E}",
    ] {
        let doc = format!("<{name}/>");
        malformed(&doc, "element name");
        let doc = format!("<a {name}='1'/>");
        malformed(&doc, "attribute name");
    }
    malformed("< a/>", "element name");
    malformed("<></>", "element name");
}

// ---- attributes ---------------------------------------------------------------------

#[test]
fn attribute_syntax() {
    let el = ok("<a x=\"1\" y='2' z = \"3\"\n\tw='q\"q'/>");
    let names: Vec<_> = el.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["x", "y", "z", "w"]);
    assert_eq!(el.attributes[3].value, "q\"q");
    malformed("<a x='1' x='2'/>", "twice");
    malformed("<a x=1/>", "quoted");
    malformed("<a x/>", "quoted");
    malformed("<a x='1'y='2'/>", "whitespace");
    malformed("<a x='<'/>", "'<'");
    malformed("<a x='1' / >", "");
    malformed("<a x='1' <b/>", "");
    malformed("<a x='1'", "");
    malformed("<a x='1></a>", "");
}

#[test]
fn attribute_value_normalisation() {
    let el = ok("<a v='a\tb\nc\r\nd\re' w='&#9;&#10;&#13;'/>");
    assert_eq!(el.attributes[0].value, "a b c d e");
    assert_eq!(el.attributes[1].value, "\t\n\r");
}

// ---- comments and PIs ---------------------------------------------------------------

#[test]
fn comments() {
    let el = ok("<!-- before --><a>x<!-- in - side -->y<!---->z</a><!-- after -->");
    assert_eq!(el.text, "xyz");
    assert!(el.children.is_empty());
    malformed("<a><!-- a -- b --></a>", "--");
    malformed("<a><!-- a ---></a>", "--->");
    malformed("<!-- a --><a/><!-- -- -->", "--");
    malformed("<a><!--></a>", "");
    malformed("<a><!--x</a>", "");
    malformed("<a><! x></a>", "");
}

#[test]
fn processing_instructions() {
    let el = ok("<?xml-stylesheet href='s.xsl'?><a>x<?pi data?>y<?pi?></a><?end?>");
    assert_eq!(el.text, "xy");
    malformed("<a><?p:i?></a>", "':'");
    malformed("<a><??></a>", "target");
    malformed("<a><?1pi?></a>", "target");
    malformed("<a><?pi x</a>", "");
}

// ---- CDATA, text and line endings -----------------------------------------------------

#[test]
fn cdata_counts_as_text() {
    let el = ok("<a> x <![CDATA[<b>&amp;]]]]> y <![CDATA[]]></a>");
    assert_eq!(el.text, " x <b>&amp;]] y ");
    malformed("<![CDATA[x]]><a/>", "outside the root");
    malformed("<a/><![CDATA[x]]>", "outside the root");
    malformed("<a><![cdata[x]]></a>", "");
    malformed("<a><![CDATA[x</a>", "");
}

#[test]
fn text_is_untrimmed_and_line_endings_normalised() {
    let el = ok("<a>\r\n  one\r\ntwo\rthree\n\r</a>");
    assert_eq!(el.text, "\n  one\ntwo\nthree\n\n");
    let el = ok("<a>x\r<![CDATA[\r\ny\r]]>&#13;\r&amp;\r</a>");
    assert_eq!(el.text, "x\n\ny\n\r\n&\n");
}

#[test]
fn direct_text_and_children_in_order() {
    let el = ok("<r>a<x>1</x>b<y/>c<x>2</x></r>");
    assert_eq!(el.text, "abc");
    let names: Vec<_> = el.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["x", "y", "x"]);
    assert_eq!(el.children[2].text, "2");
}

// ---- structure ----------------------------------------------------------------------

#[test]
fn document_structure() {
    ok("\n<!-- c -->\n<?pi?>\n<a/>\n<!-- c -->\n<?pi?>\n");
    malformed("<a/><b/>", "only one root");
    malformed("<a></a><a></a>", "only one root");
    malformed("x<a/>", "outside the root");
    malformed("<a/>x", "outside the root");
    malformed("<a/>\u{A0}", "outside the root");
    malformed("<!-- only a comment -->", "no root");
    malformed("<?xml version=\"1.0\"?>", "no root");
    malformed("<a>", "not closed");
    malformed("<a><b></a>", "");
    malformed("<a></b>", "");
    malformed("<a></a></a>", "");
    malformed("</a>", "");
    malformed("<a></a >x", "outside the root");
    ok("<a></a >");
    ok("<a></a\n>");
    malformed("<a></ a>", "");
    malformed("<a></a b>", "");
    malformed("<a/ >", "");
}

#[test]
fn error_carries_a_byte_offset() {
    match err("<a><b></c></a>") {
        XmlError::Malformed(d) => assert!(d.contains("at byte 6"), "{d}"),
        other => panic!("{other:?}"),
    }
    match err("<a>\u{1}</a>") {
        XmlError::Malformed(d) => assert!(d.contains("at byte 3"), "{d}"),
        other => panic!("{other:?}"),
    }
}

// ---- namespaces ---------------------------------------------------------------------

#[test]
fn prefixes_and_default_namespace_are_dropped() {
    let el = ok(concat!(
        "<sm:CreateIncidentRequest xmlns:sm='urn:sita:sm' xmlns='urn:default' a='1' sm:b='2'>",
        "<sm:ShortDescription>x</sm:ShortDescription><Priority xmlns=''>3</Priority>",
        "</sm:CreateIncidentRequest>"
    ));
    assert_eq!(el.name, "CreateIncidentRequest");
    let attrs: Vec<_> = el
        .attributes
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(attrs, [("a", "1"), ("b", "2")]);
    assert_eq!(
        el.child("ShortDescription").map(|c| c.text.as_str()),
        Some("x")
    );
    assert_eq!(el.child("Priority").map(|c| c.text.as_str()), Some("3"));
    let el = ok("<a xml:lang='en' xml:space='preserve'/>");
    assert_eq!(el.attributes[0].name, "lang");
}

#[test]
fn namespace_well_formedness() {
    malformed("<p:a/>", "not declared");
    malformed("<a p:x='1'/>", "not declared");
    malformed("<a><p:b xmlns:p='u'/><p:c/></a>", "not declared");
    malformed("<a xmlns:p=''/>", "undeclared");
    malformed("<a xmlns:xmlns='u'/>", "xmlns");
    malformed("<xmlns:a/>", "xmlns");
    malformed("<a xmlns:xml='urn:other'/>", "xml");
    ok("<a xmlns:xml='http://www.w3.org/XML/1998/namespace'/>");
    malformed(
        "<a xmlns:p='http://www.w3.org/XML/1998/namespace'/>",
        "reserved",
    );
    malformed("<a xmlns:p='http://www.w3.org/2000/xmlns/'/>", "reserved");
    malformed(
        "<a xmlns='http://www.w3.org/XML/1998/namespace'/>",
        "reserved",
    );
    malformed("<a xmlns='http://www.w3.org/2000/xmlns/'/>", "reserved");
    malformed("<a:b:c xmlns:a='u'/>", "qualified name");
    malformed("<a xmlns:p='u' p:x:y='1'/>", "qualified name");
    malformed("<:a/>", "qualified name");
    malformed("<a:/>", "qualified name");
    malformed("<a xmlns:='u'/>", "");
    malformed("<a xmlns:p:q='u'/>", "prefix");
    malformed("<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>", "twice");
    malformed("<a xmlns:p='u' xmlns:p='v'/>", "twice");
    ok("<a xmlns:p='u' xmlns:q='v' p:x='1' q:x='2' x='3'/>");
    ok("<a xmlns:p='u' p:x='1' x='2'/>");
    ok("<p:a xmlns:p='u'><p:b/></p:a>");
    malformed("<p:a xmlns:p='u' xmlns:q='u'></q:a>", "");
    malformed("<xml:a/><b/>", "");
    ok("<xml:a/>");
    malformed("<a xml:space='default-ish'/>", "xml:space");
}

// ---- limits -------------------------------------------------------------------------

#[test]
fn limit_body_bytes() {
    let l = with(|l| l.max_body_bytes = 8);
    parse(b"<a>1</a>", &l).unwrap();
    limited("<a>12</a>", &l, "max_body_bytes");
}

#[test]
fn limit_depth() {
    let l = with(|l| l.max_depth = 3);
    ok("<a><b><c/></b></a>");
    parse(b"<a><b><c/></b></a>", &l).unwrap();
    parse(b"<a><b><c></c></b><b/></a>", &l).unwrap();
    limited("<a><b><c><d/></c></b></a>", &l, "max_depth");
    limited("<a><b><c><d>", &l, "max_depth");
    let l = with(|l| l.max_depth = 1);
    parse(b"<a/>", &l).unwrap();
    limited("<a><b/></a>", &l, "max_depth");
    let deep = "<a>".repeat(33) + &"</a>".repeat(33);
    limited(&deep, &Limits::default(), "max_depth");
}

#[test]
fn limit_elements() {
    let l = with(|l| l.max_elements = 3);
    parse(b"<a><b/><c/></a>", &l).unwrap();
    limited("<a><b/><c/><d/></a>", &l, "max_elements");
    limited("<a><b/><c/><d></d></a>", &l, "max_elements");
}

#[test]
fn limit_attributes() {
    // Namespace declarations count too.
    let l = with(|l| l.max_attributes = 2);
    parse(b"<a x='1' y='2'><b x='1' y='2'/></a>", &l).unwrap();
    limited("<a x='1' y='2' z='3'/>", &l, "max_attributes");
    limited("<a xmlns='u' xmlns:p='v' p:x='1'/>", &l, "max_attributes");
    let l = with(|l| l.max_attributes = 0);
    parse(b"<a/>", &l).unwrap();
    limited("<a x=''/>", &l, "max_attributes");
}

#[test]
fn limit_name_length() {
    let l = with(|l| l.max_name_length = 5);
    parse(b"<abcde abcde='1'/>", &l).unwrap();
    limited("<abcdef/>", &l, "max_name_length");
    limited("<a abcdef='1'/>", &l, "max_name_length");
    // Qualified names, prefix included (and namespace declarations are attributes).
    let q = with(|l| l.max_name_length = 7);
    parse("<p:abcde xmlns:p='u'/>".as_bytes(), &q).unwrap();
    limited("<p:abcdef xmlns:p='u'/>", &q, "max_name_length");
    limited("<p:a xmlns:pq='u'/>", &q, "max_name_length");
    // Bytes, not characters: "éé" is four bytes, "ééé" six.
    parse("<\u{E9}\u{E9}/>".as_bytes(), &l).unwrap();
    limited("<\u{E9}\u{E9}\u{E9}/>", &l, "max_name_length");
}

#[test]
fn limit_text_bytes() {
    let l = with(|l| l.max_text_bytes = 5);
    parse(b"<a>abcde<b>abcde</b></a>", &l).unwrap();
    limited("<a>abcdef</a>", &l, "max_text_bytes");
    // Accumulated over the element's direct text, CDATA and references.
    limited("<a>abc<b/>def</a>", &l, "max_text_bytes");
    limited("<a>abc<![CDATA[def]]></a>", &l, "max_text_bytes");
    limited("<a>abcde&amp;</a>", &l, "max_text_bytes");
    // Decoded bytes count: five &amp; are five bytes.
    parse(b"<a>&amp;&amp;&amp;&amp;&amp;</a>", &l).unwrap();
    // Line endings are normalised before counting.
    parse(b"<a>ab\r\ncd</a>", &l).unwrap();
    // One attribute value.
    parse(b"<a x='abcde' y='abcde'/>", &l).unwrap();
    limited("<a x='abcdef'/>", &l, "max_text_bytes");
    // Whitespace outside the root is not text.
    parse(b"\n\n\n\n\n\n<a/>\n\n\n\n\n\n", &l).unwrap();
}

// ---- never panic (native only: proptest) ----------------------------------------------

#[cfg(not(target_arch = "wasm32"))]
mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const SEED: &str = concat!(
        "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- c --><?pi x?>",
        "<p:a xmlns:p='urn:x' xmlns='urn:y' x='1&amp;&#65;' p:y=\"2\">t&lt;<![CDATA[c]]>",
        "<b/><c>\r\n</c></p:a>"
    );

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&bytes, &Limits::default());
        }

        #[test]
        fn markup_soup(parts in proptest::collection::vec(
            prop::sample::select(vec![
                "<", ">", "/", "?", "!", "-", "[", "]", "&", ";", "#", "x", "'", "\"", "=",
                " ", "\r", "\n", "a", ":", "xmlns", "xml", "<!--", "-->", "<![CDATA[", "]]>",
                "<?", "?>", "</", "/>", "&#", "&amp;", "\u{E9}", "\u{FEFF}", "<!DOCTYPE",
            ]),
            0..60,
        )) {
            let doc: String = parts.concat();
            let _ = parse(doc.as_bytes(), &Limits::default());
        }

        #[test]
        fn mutated_seed(at in 0usize..200, len in 0usize..8, byte in any::<u8>()) {
            let mut doc = SEED.as_bytes().to_vec();
            let at = at.min(doc.len());
            let end = (at + len).min(doc.len());
            doc.splice(at..end, [byte]);
            let _ = parse(&doc, &Limits::default());
            let tight = Limits {
                max_body_bytes: 150, max_depth: 2, max_elements: 3,
                max_attributes: 2, max_name_length: 3, max_text_bytes: 3,
            };
            let _ = parse(&doc, &tight);
        }
    }

    #[test]
    fn seed_is_accepted() {
        let el = parse(SEED.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(el.name, "a");
        assert_eq!(el.text, "t<c");
    }
}
