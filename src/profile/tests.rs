#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{json, Value};

use super::*;
use crate::xml::Attribute;

// ---- a tiny test-only builder for element trees ------------------------------------------------

fn leaf(name: &str, text: &str) -> Element {
    Element {
        name: name.to_string(),
        text: text.to_string(),
        ..Element::default()
    }
}

fn node(name: &str, children: Vec<Element>) -> Element {
    Element {
        name: name.to_string(),
        children,
        ..Element::default()
    }
}

fn attr(mut e: Element, name: &str, value: &str) -> Element {
    e.attributes.push(Attribute {
        name: name.to_string(),
        value: value.to_string(),
    });
    e
}

fn note(text: &str, by: Option<&str>, at: Option<&str>) -> Element {
    let mut c = Vec::new();
    if let Some(at) = at {
        c.push(leaf("CreatedAt", at));
    }
    if let Some(by) = by {
        c.push(leaf("CreatedBy", by));
    }
    c.push(leaf("Text", text));
    node("WorkNote", c)
}

fn servicenow() -> Profile {
    Profile::resolve("servicenow", &BTreeMap::new(), &GenericOptions::default()).unwrap()
}

fn generic(always_array: &[&str]) -> Profile {
    let opts = GenericOptions {
        path: Some("/sita/push".to_string()),
        always_array: always_array.iter().map(|s| s.to_string()).collect(),
    };
    Profile::resolve("generic", &BTreeMap::new(), &opts).unwrap()
}

fn body_json(r: &ItsmRequest) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn customs(pairs: &[(&str, &str)]) -> BTreeMap<String, ProfileDef> {
    pairs
        .iter()
        .map(|(n, j)| (n.to_string(), serde_json::from_str(j).unwrap()))
        .collect()
}

fn create_push() -> Element {
    node(
        "CreateIncidentPush",
        vec![
            leaf("IncidentNumber", " INC0012345 "),
            leaf("ShortDescription", "Check-in kiosk down"),
            leaf("Description", "Kiosk 12 <gate B> & more"),
            leaf("State", "New"),
            leaf("Priority", "2"),
            leaf("OpenedAt", "2026-01-02 03:04:05"),
            leaf("AffectedEndUser", "Jane Doe"),
            leaf("Email", "jane@example.com"),
            leaf("AssignmentGroup", "Airport IT"),
            leaf("Module", "CUTE"),
            leaf("Location", "LHR T5"),
            leaf("ConfigurationItem", "KIOSK-12"),
            leaf("DowntimeStartTime", "2026-01-02"),
            leaf("Comments", "Customer called"),
        ],
    )
}

fn update_push(crn: &str) -> Element {
    node(
        "UpdateIncidentPush",
        vec![
            leaf("IncidentNumber", "INC0012345"),
            leaf("CustomerReferenceNumber", crn),
            leaf("UpdatedAt", "2026-01-03 10:00:00"),
            leaf("State", "resolved"),
            leaf("Priority", "5"),
            leaf("ResolutionCode", "Solved (Permanently)"),
            leaf("ResolutionNotes", "Replaced the printer"),
            leaf("ResolvedAt", "2026-01-03 09:59:00"),
            node(
                "WorkNotes",
                vec![
                    note("First", Some("alice"), Some("2026-01-03 09:00:00")),
                    note("Second", None, None),
                ],
            ),
        ],
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn attachment(id: &str, name: &str, data: &str, content_type: Option<&str>) -> Element {
    let mut c = vec![
        leaf("AttachmentId", id),
        leaf("FileName", name),
        leaf("FileData", data),
    ];
    if let Some(ct) = content_type {
        c.push(leaf("ContentType", ct));
    }
    node("Attachment", c)
}

fn attachment_push(attachments: Vec<Element>) -> Element {
    node(
        "UpdateIncidentAttachmentPush",
        vec![
            leaf("IncidentNumber", "INC0012345"),
            leaf("CustomerReferenceNumber", "46d44a5fdb"),
            leaf("UpdatedAt", "2026-01-03 10:00:00"),
            node("Attachments", attachments),
        ],
    )
}

fn ctx(root: &str, crn: Option<&str>) -> AckContext {
    AckContext {
        root: root.to_string(),
        incident_number: "INC0012345".to_string(),
        customer_reference: crn.map(str::to_string),
        batch_size: 0,
    }
}

const QUERY: &str = "?sysparm_input_display_value=true&sysparm_exclude_reference_link=true";

// ---- servicenow ---------------------------------------------------------------------------------

#[test]
fn builtins_parse_and_resolve() {
    for name in builtin_names() {
        assert!(builtin(name).unwrap().is_ok(), "{name}");
    }
    let p = servicenow();
    assert_eq!(p.name(), "servicenow");
    assert!(p.required_elements("CreateIncidentPush").is_empty());
    let crn = vec![("CustomerReferenceNumber".to_string(), "E010".to_string())];
    assert_eq!(p.required_elements("UpdateIncidentPush"), crn);
    assert_eq!(p.required_elements("UpdateIncidentAttachmentPush"), crn);
    assert!(p.required_elements("Nope").is_empty());
}

#[test]
fn servicenow_create_field_by_field() {
    let r = servicenow().render(&create_push()).unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("/api/now/table/incident{QUERY}"));
    assert!(r.headers.is_empty());
    let b = body_json(&r);
    let expected = json!({
        "correlation_id": "INC0012345",
        "correlation_display": "SITA",
        "short_description": "Check-in kiosk down",
        "description": "Kiosk 12 <gate B> & more",
        "impact": "1",
        "urgency": "2",
        "state": "1",
        "caller_id": "Jane Doe",
        "assignment_group": "Airport IT",
        "location": "LHR T5",
        "cmdb_ci": "KIOSK-12",
        "comments": "Customer called",
        "opened_at": "2026-01-02 03:04:05"
    });
    assert_eq!(b, expected);
    // Order follows the template.
    assert_eq!(keys(&b), keys(&expected));
    // Email, Module, DowntimeStartTime are not mapped.
    let text = String::from_utf8(r.body).unwrap();
    assert!(!text.contains("jane@example.com") && !text.contains("CUTE"));
}

#[test]
fn servicenow_update_field_by_field() {
    let r = servicenow().render(&update_push("46d44a5fdb")).unwrap();
    assert_eq!(r.method, "PATCH");
    assert_eq!(r.path, format!("/api/now/table/incident/46d44a5fdb{QUERY}"));
    let b = body_json(&r);
    assert_eq!(
        b,
        json!({
            "correlation_id": "INC0012345",
            "correlation_display": "SITA",
            "impact": "3",
            "urgency": "3",
            "state": "6",
            "work_notes": "[2026-01-03 09:00:00 alice] First\n\nSecond",
            "close_code": "Solved (Permanently)",
            "close_notes": "Replaced the printer",
            "resolved_at": "2026-01-03 09:59:00"
        })
    );
}

#[test]
fn servicenow_priority_map() {
    let p = servicenow();
    for (prio, impact, urgency) in [
        ("1", "1", "1"),
        ("2", "1", "2"),
        ("3", "2", "2"),
        ("4", "2", "3"),
        (" 5 ", "3", "3"),
    ] {
        let mut m = create_push();
        m.children.retain(|c| c.name != "Priority");
        m.children.push(leaf("Priority", prio));
        let b = body_json(&p.render(&m).unwrap());
        assert_eq!(b["impact"], impact, "priority {prio}");
        assert_eq!(b["urgency"], urgency, "priority {prio}");
    }
}

#[test]
fn servicenow_state_map_is_case_insensitive() {
    let p = servicenow();
    for (state, sn) in [
        ("New", "1"),
        ("work in progress", "2"),
        ("WORK IN PROGRESS", "2"),
        ("On Hold", "3"),
        ("on hold", "3"),
        ("Resolved", "6"),
        ("closed", "7"),
        ("CANCELLED", "8"),
    ] {
        let m = node(
            "UpdateIncidentPush",
            vec![
                leaf("IncidentNumber", "INC1"),
                leaf("CustomerReferenceNumber", "abc"),
                leaf("State", state),
            ],
        );
        let b = body_json(&p.render(&m).unwrap());
        assert_eq!(b["state"], sn, "state {state}");
    }
    // An unmapped value (cannot pass validation, but still) is left out.
    let m = node(
        "UpdateIncidentPush",
        vec![
            leaf("CustomerReferenceNumber", "abc"),
            leaf("State", "Sleeping"),
        ],
    );
    let b = body_json(&p.render(&m).unwrap());
    assert!(b.get("state").is_none());
}

#[test]
fn servicenow_work_notes_join() {
    let notes = node(
        "WorkNotes",
        vec![
            note("Both", Some("alice"), Some("2026-01-03 09:00:00")),
            note("Only at", None, Some("2026-01-03 09:01:00")),
            note("Only by", Some("bob"), None),
            note("Neither", None, None),
            note(" Empty by ", Some("  "), Some("2026-01-03 09:02:00")),
            note("", Some("carol"), Some("2026-01-03 09:03:00")),
        ],
    );
    let m = node(
        "UpdateIncidentPush",
        vec![leaf("CustomerReferenceNumber", "abc"), notes],
    );
    let b = body_json(&servicenow().render(&m).unwrap());
    assert_eq!(
        b["work_notes"],
        "[2026-01-03 09:00:00 alice] Both\n\n[2026-01-03 09:01:00] Only at\n\n[bob] Only by\n\nNeither\n\n[2026-01-03 09:02:00] Empty by"
    );
    // No notes (or an empty WorkNotes): no field.
    let m = node(
        "UpdateIncidentPush",
        vec![
            leaf("CustomerReferenceNumber", "abc"),
            node("WorkNotes", vec![]),
        ],
    );
    assert!(body_json(&servicenow().render(&m).unwrap())
        .get("work_notes")
        .is_none());
}

#[test]
fn servicenow_path_is_percent_encoded() {
    let r = servicenow().render(&update_push(" a b/c?d#ü ")).unwrap();
    assert_eq!(
        r.path,
        format!("/api/now/table/incident/a%20b%2Fc%3Fd%23%C3%BC{QUERY}")
    );
}

#[test]
fn servicenow_update_without_reference_is_an_error() {
    let mut m = update_push("x");
    m.children.retain(|c| c.name != "CustomerReferenceNumber");
    let e = servicenow().render(&m).unwrap_err();
    assert!(e.contains("CustomerReferenceNumber"), "{e}");
    assert!(e.contains("servicenow"), "{e}");
    let mut m = update_push("   ");
    m.children.retain(|c| c.name != "Priority");
    assert!(servicenow().render(&m).is_err());
}

#[test]
fn render_refuses_unknown_root() {
    let e = servicenow().render(&node("Other", vec![])).unwrap_err();
    assert!(e.contains("Other"), "{e}");
}

#[test]
fn servicenow_attachment_batch() {
    let first: Vec<u8> = (0u8..=255).collect();
    let second = b"hello, world\n".to_vec();
    // Wrapped at 76 columns with CRLF and indentation, as mailers and SOAP stacks do.
    let wrapped: String = b64(&first)
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n    ");
    let m = attachment_push(vec![
        attachment(
            "A1",
            "my report (1).pdf",
            &format!("\n  {wrapped}\n"),
            Some("application/pdf"),
        ),
        attachment("A2", "notes&x=1.txt", &b64(&second), None),
    ]);
    let p = servicenow();
    let r = p.render(&m).unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/now/v1/batch");
    assert!(r.headers.is_empty());
    let b = body_json(&r);
    assert_eq!(keys(&b), vec!["batch_request_id", "rest_requests"]);
    assert_eq!(b["batch_request_id"], "INC0012345");
    let reqs = b["rest_requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0],
        json!({
            "id": "1",
            "method": "POST",
            "url": "/api/now/attachment/file?table_name=incident&table_sys_id=46d44a5fdb&file_name=my%20report%20%281%29.pdf",
            "headers": [
                {"name": "Content-Type", "value": "application/pdf"},
                {"name": "Accept", "value": "application/json"}
            ],
            "body": b64(&first)
        })
    );
    assert_eq!(
        keys(&reqs[0]),
        vec!["id", "method", "url", "headers", "body"]
    );
    assert_eq!(reqs[1]["id"], "2");
    assert_eq!(
        reqs[1]["url"],
        "/api/now/attachment/file?table_name=incident&table_sys_id=46d44a5fdb&file_name=notes%26x%3D1.txt"
    );
    assert_eq!(reqs[1]["headers"][0]["value"], "application/octet-stream");
    // The bytes round-trip.
    for (req, bytes) in reqs.iter().zip([&first, &second]) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(req["body"].as_str().unwrap())
            .unwrap();
        assert_eq!(&decoded, bytes);
    }
    // Deterministic.
    assert_eq!(p.render(&m).unwrap(), r);
    // The context for the answer knows the number of sub-requests.
    let c = p.ack_context(&m);
    assert_eq!(c.batch_size, 2);
    assert_eq!(c.customer_reference.as_deref(), Some("46d44a5fdb"));
    assert_eq!(c.incident_number, "INC0012345");
}

#[test]
fn servicenow_attachment_bad_data_is_an_error_not_a_panic() {
    let p = servicenow();
    for bad in ["not base64!", "QUJD=", "QUI", "QUJDRA=x"] {
        let m = attachment_push(vec![attachment("A1", "a.txt", bad, None)]);
        let e = p.render(&m).unwrap_err();
        assert!(e.contains("FileData"), "{e}");
    }
    let m = attachment_push(vec![]);
    assert!(p.render(&m).is_err());
    let mut m = attachment_push(vec![attachment("A1", "a.txt", "QUJD", None)]);
    m.children.retain(|c| c.name != "CustomerReferenceNumber");
    assert!(p.render(&m).is_err());
}

// ---- generic ------------------------------------------------------------------------------------

#[test]
fn generic_conversion() {
    let m = attr(
        node(
            "UpdateIncidentPush",
            vec![
                leaf("IncidentNumber", "  0007  "),
                leaf("Priority", "01"),
                leaf("Flag", "true"),
                leaf("Empty", ""),
                leaf("Blank", "  \n "),
                attr(leaf("Tagged", " x y "), "lang", "en"),
                node("WorkNotes", vec![note("only one", Some("bob"), None)]),
                node(
                    "Attachments",
                    vec![
                        attachment("1", "a", "QQ==", None),
                        attachment("2", "b", "Qg==", None),
                    ],
                ),
                Element {
                    name: "Mixed".to_string(),
                    text: "\n  before  \n".to_string(),
                    children: vec![leaf("Inner", "i")],
                    ..Element::default()
                },
                Element {
                    name: "Spaces".to_string(),
                    text: "\n   \n".to_string(),
                    children: vec![leaf("Inner", "i")],
                    ..Element::default()
                },
                leaf("Z", "z"),
            ],
        ),
        "version",
        "2",
    );
    let p = generic(&["UpdateIncidentPush/WorkNotes/WorkNote"]);
    let r = p.render(&m).unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/sita/push");
    assert!(r.headers.is_empty());
    let expected = json!({"UpdateIncidentPush": {
        "@version": "2",
        "IncidentNumber": "0007",
        "Priority": "01",
        "Flag": "true",
        "Empty": "",
        "Blank": "",
        "Tagged": {"@lang": "en", "#text": "x y"},
        "WorkNotes": {"WorkNote": [{"CreatedBy": "bob", "Text": "only one"}]},
        "Attachments": {"Attachment": [
            {"AttachmentId": "1", "FileName": "a", "FileData": "QQ=="},
            {"AttachmentId": "2", "FileName": "b", "FileData": "Qg=="}
        ]},
        "Mixed": {"Inner": "i", "#text": "before"},
        "Spaces": {"Inner": "i"},
        "Z": "z"
    }});
    let b = body_json(&r);
    assert_eq!(b, expected);
    // Key order follows the document (serde_json's Map keeps insertion order).
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
    // Without always_array a single WorkNote is an object.
    let b = body_json(&generic(&[]).render(&m).unwrap());
    assert!(b["UpdateIncidentPush"]["WorkNotes"]["WorkNote"].is_object());
}

#[test]
fn generic_interleaved_repeats_and_empty_root() {
    let m = node(
        "CreateIncidentPush",
        vec![leaf("A", "1"), leaf("B", "2"), leaf("A", "3")],
    );
    let r = generic(&[]).render(&m).unwrap();
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        r#"{"CreateIncidentPush":{"A":["1","3"],"B":"2"}}"#
    );
    let r = generic(&[])
        .render(&node("CreateIncidentPush", vec![]))
        .unwrap();
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        r#"{"CreateIncidentPush":""}"#
    );
}

#[test]
fn generic_converts_attachments_like_other_messages() {
    let m = attachment_push(vec![attachment("A1", "a.txt", "QUJD", None)]);
    let p = generic(&[]);
    let r = p.render(&m).unwrap();
    let b = body_json(&r);
    assert_eq!(
        b["UpdateIncidentAttachmentPush"]["Attachments"]["Attachment"]["FileData"],
        "QUJD"
    );
    assert_eq!(p.ack_context(&m).batch_size, 0);
}

#[test]
fn generic_needs_its_path() {
    let e = Profile::resolve("generic", &BTreeMap::new(), &GenericOptions::default()).unwrap_err();
    assert!(e.contains("itsm.generic.path"), "{e}");
    assert!(e.contains("generic"), "{e}");
    // A bad always_array entry is refused.
    let opts = GenericOptions {
        path: Some("/p".to_string()),
        always_array: vec!["A//B".to_string()],
    };
    let e = Profile::resolve("generic", &BTreeMap::new(), &opts).unwrap_err();
    assert!(e.contains("always_array"), "{e}");
    // servicenow does not need itsm.generic at all.
    assert!(Profile::resolve("servicenow", &BTreeMap::new(), &opts).is_ok());
}

// ---- custom profiles ----------------------------------------------------------------------------

/// The BMC Helix profile of docs/profiles.md, verbatim.
const BMC_HELIX: &str = include_str!("bmc_helix_example.json");

#[test]
fn bmc_helix_from_configuration_alone() {
    let custom = customs(&[("bmc", BMC_HELIX)]);
    let p = Profile::resolve("bmc", &custom, &GenericOptions::default()).unwrap();

    let r = p.render(&create_push()).unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path,
        "/api/arsys/v1/entry/HPD:IncidentInterface_Create?fields=values%28Incident%20Number%29"
    );
    assert_eq!(
        r.headers,
        vec![("x-requested-by".to_string(), "SITA".to_string())]
    );
    let b = body_json(&r);
    assert_eq!(
        b,
        json!({"values": {
            "z1D_Action": "CREATE",
            "First_Name": "Jane Doe",
            "Internet E-mail": "jane@example.com",
            "Description": "Check-in kiosk down",
            "Detailed_Decription": "Kiosk 12 <gate B> & more",
            "Impact": "1-Extensive/Widespread",
            "Urgency": "2-High",
            "Status": "New",
            "Reported Source": "Other",
            "Service_Type": "User Service Restoration",
            "Assigned Group": "Airport IT",
            "Vendor Ticket Number": "INC0012345",
            "Vendor Name": "SITA"
        }})
    );
    assert!(p.required_elements("CreateIncidentPush").is_empty());
    assert_eq!(
        p.required_elements("UpdateIncidentPush"),
        vec![("CustomerReferenceNumber".to_string(), "E010".to_string())]
    );

    let r = p.render(&update_push("INC000000000123")).unwrap();
    assert_eq!(r.method, "PUT");
    assert_eq!(
        r.path,
        "/api/arsys/v1/entry/HPD:IncidentInterface/INC000000000123%7CINC000000000123"
    );
    let b = body_json(&r);
    assert_eq!(b["values"]["Status"], "Resolved");
    assert_eq!(b["values"]["Urgency"], "4-Low");
    assert_eq!(b["values"]["Resolution"], "Replaced the printer");
    assert_eq!(
        b["values"]["z1D_Details"],
        "2026-01-03 09:00:00 alice: First\nSecond"
    );

    let m = attachment_push(vec![
        attachment("A1", "a.txt", "QUJD", None),
        attachment("A2", "b.png", "QUJD", Some("image/png")),
    ]);
    let r = p.render(&m).unwrap();
    assert_eq!(r.path, "/api/arsys/v1/entry/HPD:WorkLog");
    let b = body_json(&r);
    assert_eq!(
        b,
        json!({"values": {
            "Incident Number": "46d44a5fdb",
            "Work Log Type": "General Information",
            "Description": "Attachments from SITA INC0012345",
            "Detailed Description": "a.txt, b.png"
        }})
    );

    // Acknowledgements: the create answer carries the incident number; the update answer
    // is a 204 with no body.
    let a = p.acknowledge(
        &ctx("CreateIncidentPush", None),
        201,
        br#"{"values": {"Incident Number": "INC000000000123"}}"#,
    );
    assert_eq!(a.status, 200);
    assert!(a
        .body
        .contains("<CustomerReferenceNumber>INC000000000123</CustomerReferenceNumber>"));
    let a = p.acknowledge(&ctx("UpdateIncidentPush", Some("INC9")), 204, b"");
    assert_eq!(a.status, 200);
    assert!(a
        .body
        .contains("<CustomerReferenceNumber>INC9</CustomerReferenceNumber>"));
    let a = p.acknowledge(
        &ctx("UpdateIncidentPush", Some("INC9")),
        400,
        br#"[{"messageType": "ERROR", "messageText": "Required field missing", "messageNumber": 9424}]"#,
    );
    assert_eq!(a.status, 502);
    assert!(a
        .body
        .contains("<Comments>ITSM answered HTTP 400: Required field missing</Comments>"));
}

#[test]
fn extends_inherits_missing_messages() {
    let custom = customs(&[(
        "snx",
        r#"{"extends": "servicenow", "messages": {"CreateIncidentPush": {
            "method": "POST", "path": "/api/now/table/u_sita_incident",
            "body": {"json": {"short_description": {"$path": "ShortDescription"},
                              "u_module": {"$path": "Module"},
                              "literal": {"$$path": "kept", "n": 1, "b": true, "z": null}}}}}}"#,
    )]);
    let p = Profile::resolve("snx", &custom, &GenericOptions::default()).unwrap();
    let r = p.render(&create_push()).unwrap();
    assert_eq!(r.path, "/api/now/table/u_sita_incident");
    assert_eq!(
        body_json(&r),
        json!({"short_description": "Check-in kiosk down", "u_module": "CUTE",
               "literal": {"$path": "kept", "n": 1, "b": true, "z": null}})
    );
    // Inherited: update and attachments, with servicenow's acknowledgement.
    let r = p.render(&update_push("abc")).unwrap();
    assert!(r.path.starts_with("/api/now/table/incident/abc?"));
    let a = p.acknowledge(
        &ctx("CreateIncidentPush", None),
        201,
        br#"{"result": {"sys_id": "deadbeef"}}"#,
    );
    assert!(a
        .body
        .contains("<CustomerReferenceNumber>deadbeef</CustomerReferenceNumber>"));
    assert_eq!(p.required_elements("UpdateIncidentPush").len(), 1);
}

#[test]
fn custom_with_a_builtin_name_replaces_or_extends_it() {
    // Replaces: a custom "servicenow" that maps everything generically.
    let custom = customs(&[(
        "servicenow",
        r#"{"messages": {
            "CreateIncidentPush": {"method": "POST", "path": "/c", "body": {"generic": {}}},
            "UpdateIncidentPush": {"method": "POST", "path": "/u", "body": {"generic": {}}},
            "UpdateIncidentAttachmentPush": {"method": "POST", "path": "/a", "body": {"generic": {}}}}}"#,
    )]);
    let p = Profile::resolve("servicenow", &custom, &GenericOptions::default()).unwrap();
    assert_eq!(p.render(&create_push()).unwrap().path, "/c");
    assert!(p.required_elements("UpdateIncidentPush").is_empty());
    // Extends the built-in of the same name.
    let custom = customs(&[(
        "servicenow",
        r#"{"extends": "servicenow", "messages": {
            "CreateIncidentPush": {"method": "POST", "path": "/c", "body": {"generic": {}}}}}"#,
    )]);
    let p = Profile::resolve("servicenow", &custom, &GenericOptions::default()).unwrap();
    assert_eq!(p.render(&create_push()).unwrap().path, "/c");
    assert!(p
        .render(&update_push("x"))
        .unwrap()
        .path
        .starts_with("/api/now/table/incident/x"));
}

#[test]
fn field_spec_features() {
    let custom = customs(&[(
        "t",
        r#"{"acknowledge": {"mode": "status"}, "messages": {
            "CreateIncidentPush": {"method": "post", "path": "/x/{IncidentNumber}/{{literal}}",
               "query": {"ref": "{CustomerReferenceNumber}", "a b": "c&d", "n": "{IncidentNumber}"},
               "headers": {"X-Incident": "SITA {IncidentNumber}", "X-Ref": "{CustomerReferenceNumber}"},
               "body": {"json": {
                 "template": "{ShortDescription} ({Priority})",
                 "alternatives": {"$template": ["{Missing}", "fallback {{{Priority}}}"]},
                 "absent": "{Missing}",
                 "attr": {"$path": "Tagged/@lang"},
                 "keep": {"$path": "State", "$map": {"x": 1}, "$unmapped": "keep"},
                 "number": {"$path": "Priority", "$map": {"2": 2}},
                 "const": {"$const": {"nested": [1, 2]}},
                 "list": ["{Priority}", "{Missing}", 3],
                 "root_abs": {"$each": "Items/Item", "$item": {"v": "{.}", "r": "{/IncidentNumber}", "t": "{@t}"}}
               }}},
            "UpdateIncidentPush": {"method": "PUT", "path": "/u", "body": {"json": []}},
            "UpdateIncidentAttachmentPush": {"method": "PATCH", "path": "/a", "body": {"json": {}}}}}"#,
    )]);
    // `{.}` is not a valid placeholder: refused, naming the key.
    let e = Profile::resolve("t", &custom, &GenericOptions::default()).unwrap_err();
    assert!(e.contains("profile 't'"), "{e}");
    assert!(
        e.contains("messages.CreateIncidentPush.body.json.root_abs.$item.v"),
        "{e}"
    );
    assert!(e.contains("{.}"), "{e}");

    let text = r#"{"acknowledge": {"mode": "status"}, "messages": {
            "CreateIncidentPush": {"method": "post", "path": "/x/{IncidentNumber}/{{literal}}",
               "query": {"ref": "{CustomerReferenceNumber}", "a b": "c&d", "n": "{IncidentNumber}"},
               "headers": {"X-Incident": "SITA {IncidentNumber}", "X-Ref": "{CustomerReferenceNumber}"},
               "body": {"json": {
                 "template": "{ShortDescription} ({Priority})",
                 "alternatives": {"$template": ["{Missing}", "fallback {{{Priority}}}"]},
                 "absent": "{Missing}",
                 "attr": {"$path": "Tagged/@lang"},
                 "keep": {"$path": "State", "$map": {"x": 1}, "$unmapped": "keep"},
                 "number": {"$path": "Priority", "$map": {"2": 2}},
                 "const": {"$const": {"nested": [1, 2]}},
                 "list": ["{Priority}", "{Missing}", 3],
                 "each": {"$each": "Items/Item", "$item": {"v": "{Value}", "r": "{/IncidentNumber}", "t": "{@t}"}},
                 "none": {"$each": "Nothing/Item", "$item": {"v": "{Value}"}}
               }}},
            "UpdateIncidentPush": {"method": "PUT", "path": "/u", "body": {"json": []}},
            "UpdateIncidentAttachmentPush": {"method": "PATCH", "path": "/a", "body": {"json": {}}}}}"#;
    let custom = customs(&[("t", text)]);
    let p = Profile::resolve("t", &custom, &GenericOptions::default()).unwrap();
    assert_eq!(
        p.required_elements("CreateIncidentPush"),
        vec![("IncidentNumber".to_string(), "E005".to_string())]
    );
    let mut m = create_push();
    m.children.push(attr(leaf("Tagged", "t"), "lang", " en "));
    m.children.push(node(
        "Items",
        vec![
            attr(node("Item", vec![leaf("Value", "v1")]), "t", "a"),
            node("Item", vec![leaf("Value", "v2")]),
        ],
    ));
    let r = p.render(&m).unwrap();
    assert_eq!(r.method, "POST");
    // No CustomerReferenceNumber: the `ref` parameter and the X-Ref header are left out.
    assert_eq!(r.path, "/x/INC0012345/{literal}?a%20b=c%26d&n=INC0012345");
    assert_eq!(
        r.headers,
        vec![("x-incident".to_string(), "SITA INC0012345".to_string())]
    );
    assert_eq!(
        body_json(&r),
        json!({
            "template": "Check-in kiosk down (2)",
            "alternatives": "fallback {2}",
            "attr": "en",
            "keep": "New",
            "number": 2,
            "const": {"nested": [1, 2]},
            "list": ["2", 3],
            "each": [{"v": "v1", "r": "INC0012345", "t": "a"}, {"v": "v2", "r": "INC0012345"}]
        })
    );
    assert_eq!(p.render(&update_push("x")).unwrap().body, b"[]");
    // status mode: any 2xx is success with the push's own reference.
    let a = p.acknowledge(&ctx("UpdateIncidentPush", Some("R1")), 202, b"<html>");
    assert_eq!(a.status, 200);
    assert!(a
        .body
        .contains("<CustomerReferenceNumber>R1</CustomerReferenceNumber>"));
    let a = p.acknowledge(&ctx("UpdateIncidentPush", None), 200, b"");
    assert!(!a.body.contains("CustomerReferenceNumber"));
}

#[test]
fn unmapped_error_mode_fails_the_render() {
    let custom = customs(&[(
        "t",
        r#"{"extends": "servicenow", "messages": {"CreateIncidentPush": {"method": "POST", "path": "/x",
            "body": {"json": {"values": {"s": {"$path": "State", "$map": {"open": 1}, "$unmapped": "error"}}}}}}}"#,
    )]);
    let p = Profile::resolve("t", &custom, &GenericOptions::default()).unwrap();
    let e = p.render(&create_push()).unwrap_err();
    assert!(e.contains("values: s:"), "{e}");
    assert!(!e.contains("New"), "the value is not echoed: {e}");
}

#[test]
fn header_values_cannot_inject() {
    let custom = customs(&[(
        "t",
        r#"{"extends": "servicenow", "messages": {"CreateIncidentPush": {"method": "POST", "path": "/x",
            "headers": {"x-d": "{Description}"}, "body": {"json": {}}}}}"#,
    )]);
    let p = Profile::resolve("t", &custom, &GenericOptions::default()).unwrap();
    let mut m = create_push();
    m.children.push(leaf("Description", "a\r\nx-evil: 1"));
    m.children
        .retain(|c| c.name != "Description" || c.text.contains('\n'));
    assert!(p.render(&m).is_err());
}

#[test]
fn bad_definitions_are_refused() {
    let none = GenericOptions::default();
    let resolve =
        |json: &str| Profile::resolve("bad", &customs(&[("bad", json)]), &none).unwrap_err();
    let base = |msg: &str| {
        format!(r#"{{"extends": "servicenow", "messages": {{"CreateIncidentPush": {msg}}}}}"#)
    };
    let cases: Vec<(String, &str)> = vec![
        (
            r#"{"messages": {}}"#.to_string(),
            "lacks message CreateIncidentPush",
        ),
        (
            r#"{"extends": "nowhere"}"#.to_string(),
            "unknown profile 'nowhere'",
        ),
        (
            base(r#"{"method": "GET", "path": "/x", "body": {"json": {}}}"#),
            "method",
        ),
        (
            base(r#"{"method": "POST", "body": {"json": {}}}"#),
            "path: missing",
        ),
        (
            base(r#"{"method": "POST", "path": "x", "body": {"json": {}}}"#),
            "must start with `/`",
        ),
        (
            base(r#"{"method": "POST", "path": "/x?a=b", "body": {"json": {}}}"#),
            "query",
        ),
        (
            base(r#"{"method": "POST", "path": "/x/{A", "body": {"json": {}}}"#),
            "not closed",
        ),
        (
            base(r#"{"method": "POST", "path": "/x/%zz", "body": {"json": {}}}"#),
            "percent",
        ),
        (
            base(r#"{"method": "POST", "path": "/x/{A|lower}", "body": {"json": {}}}"#),
            "unknown placeholder syntax",
        ),
        (
            base(r#"{"method": "POST", "path": "/x", "query": {"q": "{}"}, "body": {"json": {}}}"#),
            "query.q",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "headers": {"Content-Type": "a"}, "body": {"json": {}}}"#,
            ),
            "headers.Content-Type",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "headers": {"bad header": "a"}, "body": {"json": {}}}"#,
            ),
            "header name",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "require": {"A": "not a code"}, "body": {"json": {}}}"#,
            ),
            "require.A",
        ),
        (
            base(r#"{"method": "POST", "path": "/x", "body": {"json": "{A}"}}"#),
            "body.json",
        ),
        (
            base(r#"{"method": "POST", "path": "/x", "body": {"json": {"a": {"$pat": "A"}}}}"#),
            "body.json.a: unknown key \"$pat\"",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "body": {"json": {"a": {"$path": "A", "$const": 1}}}}"#,
            ),
            "only one of",
        ),
        (
            base(r#"{"method": "POST", "path": "/x", "body": {"json": {"a": {"$map": {}}}}}"#),
            "needs one of",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "body": {"json": {"a": {"$path": "A", "$unmapped": "keep"}}}}"#,
            ),
            "$unmapped",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "body": {"json": {"a": {"$path": "A", "$map": {"x": 1, "X": 2}}}}}"#,
            ),
            "twice",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "body": {"json": {"a": {"$path": "A", "$map": {"x": 1}, "$unmapped": "drop"}}}}"#,
            ),
            "$unmapped",
        ),
        (
            base(r#"{"method": "POST", "path": "/x", "body": {"json": {"a": {"$join": "A/B"}}}}"#),
            "$join needs $item",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "body": {"json": {"a": {"$path": "A", "$item": "x"}}}}"#,
            ),
            "$item: not allowed",
        ),
        (
            base(r#"{"method": "POST", "path": "/x", "body": {"json": {"a": {"$template": []}}}}"#),
            "$template",
        ),
        (
            base(r#"{"method": "POST", "path": "/x", "body": {"json": {"a": ["ok", "{B C}"]}}}"#),
            "body.json.a[1]",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "body": {"servicenow_batch": {"table": "a b"}}}"#,
            ),
            "table",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "body": {"json": {}}, "acknowledge": {"mode": "id"}}"#,
            ),
            "id_pointer",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "body": {"json": {}}, "acknowledge": {"mode": "batch", "id_pointer": "/a"}}"#,
            ),
            "only allowed with mode",
        ),
        (
            base(
                r#"{"method": "POST", "path": "/x", "body": {"json": {}}, "acknowledge": {"mode": "id", "id_pointer": "result"}}"#,
            ),
            "JSON pointer",
        ),
    ];
    for (json, needle) in cases {
        let e = resolve(&json);
        assert!(e.contains(needle), "{json}\n=> {e}\n(expected {needle:?})");
        assert!(e.contains("profile 'bad'"), "{e}");
    }
    // Unknown profile.
    let e = Profile::resolve("jira", &BTreeMap::new(), &none).unwrap_err();
    assert!(
        e.contains("unknown profile 'jira'") && e.contains("servicenow"),
        "{e}"
    );
    // Cycles.
    let custom = customs(&[("a", r#"{"extends": "b"}"#), ("b", r#"{"extends": "a"}"#)]);
    let e = Profile::resolve("a", &custom, &none).unwrap_err();
    assert!(e.contains("cycle"), "{e}");
    // A message inherited from a broken base names the base.
    let custom = customs(&[
        ("a", r#"{"extends": "b"}"#),
        (
            "b",
            &base(r#"{"method": "DELETE", "path": "/x", "body": {"json": {}}}"#),
        ),
    ]);
    let e = Profile::resolve("a", &custom, &none).unwrap_err();
    assert!(
        e.contains("profile 'b'") && e.contains("messages.CreateIncidentPush.method"),
        "{e}"
    );
}

#[test]
fn serde_refuses_typos_with_their_path() {
    for (json, needle) in [
        (r#"{"extend": "servicenow"}"#, "extend"),
        (
            r#"{"messages": {"CreateIncidentPsuh": {}}}"#,
            "CreateIncidentPsuh",
        ),
        (
            r#"{"messages": {"CreateIncidentPush": {"method": "POST", "body": {"json": {}}, "paht": "/x"}}}"#,
            "paht",
        ),
        (
            r#"{"messages": {"CreateIncidentPush": {"method": "POST", "body": {"xml": {}}}}}"#,
            "xml",
        ),
        (
            r#"{"messages": {"CreateIncidentPush": {"method": "POST", "body": {"generic": {"always": []}}}}}"#,
            "always",
        ),
        (r#"{"acknowledge": {"mode": "sometimes"}}"#, "sometimes"),
        (
            r#"{"messages": {"CreateIncidentPush": {"method": "POST", "body": {"json": {}}, "query": {"a": 1}}}}"#,
            "string",
        ),
        (
            r#"{"messages": {"CreateIncidentPush": {"method": "POST", "body": {"json": {}}, "query": {"a": "1", "a": "2"}}}}"#,
            "duplicate",
        ),
    ] {
        let e = serde_json::from_str::<ProfileDef>(json)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{json} => {e}");
    }
}

// ---- acknowledgements ---------------------------------------------------------------------------

const NOT_FOUND: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PushResponse><Status>Failure</Status><IncidentNumber>INC0012345</IncidentNumber><ErrorCode>E011</ErrorCode><ErrorDescription>Ticket Not Found — Customer Reference number not exists</ErrorDescription><Comments>Customer Reference number not exists</Comments></PushResponse>";

/// The expected failure document; the ITSM's status (in `ErrorDescription`) is read from the
/// comments, which always start `ITSM answered HTTP <status>`.
fn server_error(comments: &str) -> String {
    let status: String = comments
        .trim_start_matches("ITSM answered HTTP ")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PushResponse><Status>Failure</Status><IncidentNumber>INC0012345</IncidentNumber><ErrorCode>500</ErrorCode><ErrorDescription>Server error: ITSM answered HTTP {status}</ErrorDescription><Comments>{comments}</Comments></PushResponse>")
}

#[test]
fn ack_servicenow_success() {
    let p = servicenow();
    for status in [200, 201] {
        let a = p.acknowledge(
            &ctx("CreateIncidentPush", None),
            status,
            br#"{"result": {"sys_id": "46d44a5fdb", "number": "INC0010001"}}"#,
        );
        assert_eq!(a.status, 200);
        assert_eq!(a.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PushResponse><Status>Success</Status><IncidentNumber>INC0012345</IncidentNumber><CustomerReferenceNumber>46d44a5fdb</CustomerReferenceNumber></PushResponse>");
    }
    // The id is escaped.
    let a = p.acknowledge(
        &ctx("UpdateIncidentPush", Some("x")),
        200,
        br#"{"result": {"sys_id": "a<b&c"}}"#,
    );
    assert!(a
        .body
        .contains("<CustomerReferenceNumber>a&lt;b&amp;c</CustomerReferenceNumber>"));
}

#[test]
fn ack_not_found() {
    let p = servicenow();
    let a = p.acknowledge(
        &ctx("UpdateIncidentPush", Some("x")),
        404,
        br#"{"error": {"message": "No Record found"}}"#,
    );
    assert_eq!(a.status, 404);
    assert_eq!(a.body, NOT_FOUND);
}

#[test]
fn ack_server_errors() {
    let p = servicenow();
    let c = ctx("CreateIncidentPush", None);
    let a = p.acknowledge(
        &c,
        500,
        br#"{"error": {"message": "Operation <failed>", "detail": "x"}, "status": "failure"}"#,
    );
    assert_eq!(a.status, 502);
    assert_eq!(
        a.body,
        server_error("ITSM answered HTTP 500: Operation &lt;failed&gt;")
    );
    // Not JSON: the raw text.
    let a = p.acknowledge(&c, 503, b"upstream connect error\r\n");
    assert_eq!(
        a.body,
        server_error("ITSM answered HTTP 503: upstream connect error")
    );
    // Nothing at all.
    let a = p.acknowledge(&c, 401, b"");
    assert_eq!(a.body, server_error("ITSM answered HTTP 401"));
    // 2xx without the expected JSON.
    let a = p.acknowledge(&c, 200, b"\xff\xfe garbage \x01");
    assert_eq!(a.status, 502);
    assert_eq!(
        a.body,
        server_error(
            "ITSM answered HTTP 200 without a string at /result/sys_id: \u{FFFD}\u{FFFD} garbage"
        )
    );
    let a = p.acknowledge(&c, 201, b"");
    assert_eq!(a.status, 502);
    assert_eq!(
        a.body,
        server_error("ITSM answered HTTP 201 without a string at /result/sys_id")
    );
    for body in [
        &br#"{"result": {"sys_id": 5}}"#[..],
        br#"{"result": {"sys_id": ""}}"#,
        br#"{"result": []}"#,
        br#"[]"#,
    ] {
        let a = p.acknowledge(&c, 200, body);
        assert_eq!(a.status, 502, "{}", String::from_utf8_lossy(body));
    }
    // 3xx and 1xx are not success either.
    assert_eq!(p.acknowledge(&c, 302, b"").status, 502);
    assert_eq!(p.acknowledge(&c, 100, b"").status, 502);
}

#[test]
fn ack_error_text_is_cut_at_200_chars() {
    let p = servicenow();
    let c = ctx("CreateIncidentPush", None);
    let long = "é€😀x".repeat(400);
    let body = json!({"error": {"message": long}}).to_string();
    let a = p.acknowledge(&c, 500, body.as_bytes());
    let expected: String = long.chars().take(200).collect();
    assert_eq!(
        a.body,
        server_error(&format!("ITSM answered HTTP 500: {expected}"))
    );
    // Raw body cut in the middle of a character.
    let raw = "😀".repeat(1000);
    let a = p.acknowledge(&c, 500, raw.as_bytes());
    let expected: String = raw.chars().take(200).collect();
    assert_eq!(
        a.body,
        server_error(&format!("ITSM answered HTTP 500: {expected}"))
    );
    let raw = format!("a{}", "😀".repeat(1000));
    let a = p.acknowledge(&c, 500, raw.as_bytes());
    let expected: String = raw.chars().take(200).collect();
    assert_eq!(
        a.body,
        server_error(&format!("ITSM answered HTTP 500: {expected}"))
    );
    // Escaping does not count against the limit, and never splits an entity.
    let a = p.acknowledge(&c, 500, "<".repeat(1000).as_bytes());
    assert_eq!(
        a.body,
        server_error(&format!("ITSM answered HTTP 500: {}", "&lt;".repeat(200)))
    );
}

fn served(entries: &[(&str, u64, Option<&str>)]) -> Vec<u8> {
    let list: Vec<Value> = entries
        .iter()
        .map(|(id, code, body)| {
            let mut v = json!({"id": id, "status_code": code, "status_text": "x", "headers": [], "execution_time": 5});
            if let Some(b) = body {
                v["body"] = Value::String(b64(b.as_bytes()));
            }
            v
        })
        .collect();
    json!({"batch_request_id": "INC0012345", "serviced_requests": list, "unserviced_requests": []})
        .to_string()
        .into_bytes()
}

#[test]
fn ack_batch() {
    let p = servicenow();
    let mut c = ctx("UpdateIncidentAttachmentPush", Some("46d44a5fdb"));
    c.batch_size = 2;
    let ok = served(&[
        ("1", 201, Some(r#"{"result": {"sys_id": "att1"}}"#)),
        ("2", 201, None),
    ]);
    let a = p.acknowledge(&c, 200, &ok);
    assert_eq!(a.status, 200);
    assert_eq!(a.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PushResponse><Status>Success</Status><IncidentNumber>INC0012345</IncidentNumber><CustomerReferenceNumber>46d44a5fdb</CustomerReferenceNumber></PushResponse>");
    // Mixed: one failed.
    let mixed = served(&[
        ("1", 201, None),
        (
            "2",
            500,
            Some(r#"{"error": {"message": "Attachment too large"}}"#),
        ),
    ]);
    let a = p.acknowledge(&c, 200, &mixed);
    assert_eq!(a.status, 502);
    assert_eq!(
        a.body,
        server_error(
            "ITSM answered HTTP 200; sub-request 2 answered HTTP 500: Attachment too large"
        )
    );
    // Mixed with a 404: the record does not exist.
    let a = p.acknowledge(&c, 200, &served(&[("1", 500, None), ("2", 404, None)]));
    assert_eq!(a.status, 404);
    assert_eq!(a.body, NOT_FOUND);
    // Fewer answers than sub-requests.
    let a = p.acknowledge(&c, 200, &served(&[("1", 201, None)]));
    assert_eq!(a.status, 502);
    assert!(a.body.contains("sub-requests served: 1 of 2"), "{}", a.body);
    // Unknown count: unserviced requests still fail.
    c.batch_size = 0;
    let body = json!({"serviced_requests": [{"id": "1", "status_code": 201}], "unserviced_requests": ["2"]});
    let a = p.acknowledge(&c, 200, body.to_string().as_bytes());
    assert_eq!(a.status, 502);
    assert!(a.body.contains("1 (and 1 not served)"), "{}", a.body);
    let a = p.acknowledge(&c, 200, &served(&[("1", 201, None)]));
    assert_eq!(a.status, 200);
    // Not a batch answer.
    let a = p.acknowledge(&c, 200, br#"{"result": {"sys_id": "x"}}"#);
    assert_eq!(a.status, 502);
    assert!(a
        .body
        .contains("ITSM answered HTTP 200 without serviced_requests"));
    let a = p.acknowledge(&c, 200, br#"{"serviced_requests": []}"#);
    assert_eq!(a.status, 502);
    let a = p.acknowledge(&c, 200, br#"{"serviced_requests": [{"id": "1"}]}"#);
    assert!(
        a.body.contains("sub-request 1 answered no status"),
        "{}",
        a.body
    );
    // Outer failures as usual; no CRN then.
    let a = p.acknowledge(&c, 404, b"");
    assert_eq!(a.status, 404);
    let a = p.acknowledge(&c, 400, br#"{"error": {"message": "Bad batch"}}"#);
    assert_eq!(a.body, server_error("ITSM answered HTTP 400: Bad batch"));
}

#[test]
fn ack_unknown_root_falls_back_to_status_rules() {
    let a = servicenow().acknowledge(&ctx("Other", Some("R")), 200, b"");
    assert_eq!(a.status, 200);
    assert!(a
        .body
        .contains("<CustomerReferenceNumber>R</CustomerReferenceNumber>"));
}

#[cfg(not(target_arch = "wasm32"))]
mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn acknowledge_never_panics(status in 0u16..1000, body in proptest::collection::vec(any::<u8>(), 0..600)) {
            let p = servicenow();
            for root in ROOTS {
                let mut c = ctx(root, Some("r"));
                c.batch_size = 1;
                let a = p.acknowledge(&c, status, &body);
                prop_assert!(a.status == 200 || a.status == 404 || a.status == 502);
                prop_assert!(a.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
                prop_assert!(!a.body.chars().any(|ch| ch.is_control() && ch != '\n'));
            }
        }

        #[test]
        fn render_never_panics(texts in proptest::collection::vec(".{0,40}", 6)) {
            let m = node("UpdateIncidentAttachmentPush", vec![
                leaf("IncidentNumber", &texts[0]),
                leaf("CustomerReferenceNumber", &texts[1]),
                leaf("State", &texts[2]),
                node("WorkNotes", vec![note(&texts[3], Some(&texts[4]), None)]),
                node("Attachments", vec![attachment("1", &texts[4], &texts[5], None)]),
            ]);
            for name in ["servicenow", "generic"] {
                let opts = GenericOptions { path: Some("/p".into()), always_array: vec![] };
                let p = Profile::resolve(name, &BTreeMap::new(), &opts).unwrap();
                let _ = p.render(&m);
                let mut u = m.clone();
                u.name = "UpdateIncidentPush".into();
                let _ = p.render(&u);
            }
        }
    }
}

#[test]
fn a_dot_segment_value_is_never_rendered_into_a_path() {
    let p = servicenow();
    for crn in [".", ".."] {
        let msg = node(
            "UpdateIncidentPush",
            vec![
                leaf("IncidentNumber", "INC1"),
                leaf("CustomerReferenceNumber", crn),
                leaf("UpdatedAt", "2026-01-01 00:00:00"),
            ],
        );
        assert!(p.render(&msg).is_err(), "{crn}");
    }
}
