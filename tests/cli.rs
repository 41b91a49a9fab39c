//! The offline CLI: a configuration is checked with the same code Envoy runs.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::expect_used)]

use std::process::Command;

fn sita_sm(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sita-sm"))
        .args(args)
        .env("CLI_TEST_KEY", "k")
        .output()
        .expect("run sita-sm");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn write(name: &str, content: &str) -> String {
    let path = std::env::temp_dir().join(format!("sita-sm-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("write temp file");
    path.to_string_lossy().into_owned()
}

#[test]
fn check_config_names_the_wrong_key() {
    let good = write(
        "good.json",
        r#"{"direction": "outbound", "apikey": {"env": "CLI_TEST_KEY"}}"#,
    );
    let (ok, text) = sita_sm(&["check-config", &good]);
    assert!(ok, "{text}");
    assert!(text.contains("configuration OK: direction outbound"));

    let bad = write(
        "bad.json",
        r#"{"direction": "outbound", "apikey": {"env": "CLI_TEST_KEY"}, "limits": {"max_depht": 3}}"#,
    );
    let (ok, text) = sita_sm(&["check-config", &bad]);
    assert!(!ok);
    assert!(text.contains("limits.max_depht"), "{text}");
}

#[test]
fn judge_shows_the_verdict() {
    let config = write(
        "judge.json",
        r#"{"direction": "outbound", "apikey": {"env": "CLI_TEST_KEY"}}"#,
    );
    let body = write("body.xml", "<CreateIncidentRequest><CustomerReferenceNumber>C1</CustomerReferenceNumber></CreateIncidentRequest>");
    let (ok, text) = sita_sm(&["judge", &config, "POST", "/incident", &body]);
    assert!(ok, "{text}");
    assert!(text.contains("answer HTTP 400 (E004)"), "{text}");
    assert!(
        text.contains("Missing Element Is AffectedEndUser"),
        "{text}"
    );
    let (_, text) = sita_sm(&["judge", &config, "GET", "/incidents?ActiveStatus=true"]);
    assert!(text.contains("forward (LIST INCIDENTS)"), "{text}");
}
