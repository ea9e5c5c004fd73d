//! Interoperability: CoAP implementations nobody here wrote talk to the in-process bridge.
//! libcoap's `coap-client-notls` (Debian package libcoap3-bin) and Python's aiocoap
//! (`pip install aiocoap==0.4.17`, driven by tests/interop/aiocoap_client.py).
//!
//! A missing tool skips its tests loudly, except under `CI=true`, where it fails them.

#![allow(clippy::unwrap_used)]

mod common;

use common::{in_ci, Env};
use domain::{Occupancy, Outcome, PileState};
use std::{io::Write, path::PathBuf, process::Stdio, time::Duration};
use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    process::{ChildStdout, Command},
};

const LIBCOAP: &str = "coap-client-notls";

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// True when the tool is there; otherwise a loud skip, or a failure under `CI=true`.
fn available(tool: &str, present: bool, install: &str) -> bool {
    if present {
        return true;
    }
    assert!(
        !in_ci(),
        "CI=true and {tool} is missing: interop tests must run in CI ({install})"
    );
    // Written to the real stderr, past libtest's capture, so a skip shows in a passing run.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** {tool} not found: CoAP interop test SKIPPED (install it: {install}) ***\n"
    );
    false
}

fn libcoap() -> bool {
    available(LIBCOAP, on_path(LIBCOAP), "apt-get install libcoap3-bin")
}

async fn aiocoap() -> bool {
    let present = Command::new("python3")
        .args(["-c", "import aiocoap"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success());
    available(
        "python3 with aiocoap",
        present,
        "pip install aiocoap==0.4.17",
    )
}

fn aiocoap_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/aiocoap_client.py")
}

fn url(env: &Env, path: &str, key: &str) -> String {
    format!("coap://{}/{path}?k={key}", env.addr)
}

/// What a one-shot tool run printed.
struct Run {
    stdout: String,
    stderr: String,
}

async fn run(program: &str, args: &[&str]) -> Run {
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{program} {args:?} did not finish in 20 s"))
    .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let run = Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        out.status.success(),
        "{program} {args:?} failed with {}: stdout {:?} stderr {:?}",
        out.status,
        run.stdout,
        run.stderr
    );
    run
}

/// libcoap's client: a `-m post` of `payload` with content-format `format`.
async fn coap_post(env: &Env, key: &str, format: &str, payload: &str) -> Run {
    let url = url(env, &env.report_path(), key);
    run(
        LIBCOAP,
        &["-m", "post", "-t", format, "-e", payload, "-B", "10", &url],
    )
    .await
}

/// The next non-empty line within `wait`.
async fn next_line(
    lines: &mut Lines<BufReader<ChildStdout>>,
    wait: Duration,
    what: &str,
) -> String {
    loop {
        let line = tokio::time::timeout(wait, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{what}: nothing within {wait:?}"))
            .expect("read tool output")
            .unwrap_or_else(|| panic!("{what}: the tool exited"));
        if !line.trim().is_empty() {
            return line;
        }
    }
}

async fn assert_untouched(env: &Env) {
    assert!(env.report_events().await.is_empty(), "no report recorded");
    assert_eq!(env.view().await.telemetry.last_seq, None);
}

// ---------------------------------------------------------------------------------------
// libcoap

async fn libcoap_json_report(env: &Env) {
    if !libcoap() {
        return;
    }
    let out = coap_post(
        env,
        &env.key,
        "json",
        r#"{"seq":1,"bay":"occupied","pile":"charging","bat":64}"#,
    )
    .await;
    // libcoap prints 4.xx/5.xx codes with their diagnostic on stderr, and 2.xx payloads on stdout.
    assert_eq!(out.stderr, "", "no error");
    assert_eq!(out.stdout, "", "2.04 without diagnostic");
    // The client exits after the ACK, and the ACK follows the commit.
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(1));
    assert_eq!(v.telemetry.occupancy, Occupancy::Occupied);
    assert_eq!(v.telemetry.pile_state, Some(PileState::Charging));
    assert_eq!(v.telemetry.battery, Some(64));

    // Out of order: 2.04 with its diagnostic, printed as the response payload.
    let out = coap_post(
        env,
        &env.key,
        "50",
        r#"{"seq":0,"bay":"free","pile":"available"}"#,
    )
    .await;
    assert_eq!(out.stdout.trim(), "ignored: seq not above the last one");
    assert_eq!(env.view().await.telemetry.occupancy, Occupancy::Occupied);

    // Non-confirmable (-N): answered with a NON 2.04.
    let url = url(env, &env.report_path(), &env.key);
    let out = run(
        LIBCOAP,
        &[
            "-N",
            "-m",
            "post",
            "-t",
            "json",
            "-e",
            r#"{"seq":2,"bay":"free","pile":"available"}"#,
            "-B",
            "10",
            &url,
        ],
    )
    .await;
    assert_eq!(out.stderr, "");
    assert_eq!(env.view().await.telemetry.last_seq, Some(2));
    assert_eq!(env.view().await.telemetry.occupancy, Occupancy::Free);
}

async fn libcoap_bad_credential(env: &Env) {
    if !libcoap() {
        return;
    }
    let payload = r#"{"seq":1,"bay":"occupied","pile":"available"}"#;
    let out = coap_post(env, &"f".repeat(32), "json", payload).await;
    assert_eq!(out.stderr.trim(), "4.01 unknown pile or wrong key");
    let no_key = format!("coap://{}/{}", env.addr, env.report_path());
    let out = run(
        LIBCOAP,
        &[
            "-m", "post", "-t", "json", "-e", payload, "-B", "10", &no_key,
        ],
    )
    .await;
    assert_eq!(out.stderr.trim(), "4.01 credential required: add ?k=<key>");
    assert_untouched(env).await;
}

async fn libcoap_malformed_payload(env: &Env) {
    if !libcoap() {
        return;
    }
    let out = coap_post(env, &env.key, "json", "{not json").await;
    assert!(
        out.stderr.starts_with("4.00 invalid report: "),
        "{:?}",
        out.stderr
    );
    let out = coap_post(
        env,
        &env.key,
        "json",
        r#"{"seq":1,"bay":"maybe","pile":"available"}"#,
    )
    .await;
    assert_eq!(
        out.stderr.trim(),
        r#"4.00 invalid report: bay must be "free" or "occupied""#
    );
    let out = coap_post(
        env,
        &env.key,
        "text",
        r#"{"seq":1,"bay":"free","pile":"available"}"#,
    )
    .await;
    assert_eq!(
        out.stderr.trim(),
        "4.15 unsupported content-format 0: use 50 (JSON) or 60 (CBOR)"
    );
    assert_untouched(env).await;
}

async fn libcoap_cbor_report(env: &Env) {
    if !libcoap() {
        return;
    }
    let mut payload = Vec::new();
    ciborium::into_writer(
        &serde_json::json!({"seq": 1_795_000_000_000_i64, "bay": "occupied", "pile": "faulted", "q": 40}),
        &mut payload,
    )
    .unwrap();
    let file = std::env::temp_dir().join(format!(
        "chargebay-interop-{}-{:08x}.cbor",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&file, &payload).unwrap();
    let url = url(env, &env.report_path(), &env.key);
    let path = file.to_string_lossy().into_owned();
    let out = run(
        LIBCOAP,
        &["-m", "post", "-t", "cbor", "-f", &path, "-B", "10", &url],
    )
    .await;
    let _ = std::fs::remove_file(&file);
    assert_eq!(out.stderr, "");
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(1_795_000_000_000));
    assert_eq!(v.telemetry.occupancy, Occupancy::Occupied);
    assert_eq!(v.telemetry.pile_state, Some(PileState::Faulted));
    assert_eq!(v.telemetry.quality, Some(40));
}

async fn libcoap_discovery(env: &Env) {
    if !libcoap() {
        return;
    }
    let out = run(
        LIBCOAP,
        &["-B", "10", &format!("coap://{}/.well-known/core", env.addr)],
    )
    .await;
    assert!(
        out.stdout.starts_with("</r>;") && out.stdout.contains(",</h>;"),
        "{:?}",
        out.stdout
    );
}

async fn libcoap_observe(env: &Env) {
    if !libcoap() {
        return;
    }
    let user = env.driver().await;
    let out = coap_post(
        env,
        &env.key,
        "json",
        r#"{"seq":1,"bay":"free","pile":"available"}"#,
    )
    .await;
    assert_eq!(out.stderr, "");
    let url = url(env, &env.hold_path(), &env.key);
    let mut child = Command::new(LIBCOAP)
        .args(["-s", "20", "-w", "-B", "25", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn coap-client-notls");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = next_line(&mut lines, Duration::from_secs(5), "registration").await;
    assert_eq!(first, r#"{"state":"free"}"#);

    let res = env.service.reserve(user, env.pile).await.expect("reserve");
    let held = next_line(&mut lines, Duration::from_secs(2), "held notification").await;
    let held: serde_json::Value = serde_json::from_str(&held).unwrap();
    assert_eq!(held["state"], "held");
    assert_eq!(held["id"], res.id.0);

    env.service
        .end_hold(res.id, Some(user), Outcome::Cancelled, "user")
        .await
        .expect("cancel");
    let free = next_line(&mut lines, Duration::from_secs(2), "free notification").await;
    assert_eq!(free, r#"{"state":"free"}"#);
    child.start_kill().unwrap();
    let _ = child.wait().await;
}

// ---------------------------------------------------------------------------------------
// aiocoap

async fn aiocoap_reports(env: &Env) {
    if !aiocoap().await {
        return;
    }
    let script = aiocoap_script();
    let script = script.to_string_lossy();
    let url = url(env, &env.report_path(), &env.key);
    let out = run(
        "python3",
        &[
            &script,
            "report",
            &url,
            "cbor",
            "5",
            "occupied",
            "available",
        ],
    )
    .await;
    assert_eq!(out.stdout.trim(), "2.04");
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(5));
    assert_eq!(v.telemetry.occupancy, Occupancy::Occupied);

    let out = run(
        "python3",
        &[&script, "report", &url, "json", "6", "free", "available"],
    )
    .await;
    assert_eq!(out.stdout.trim(), "2.04");
    assert_eq!(env.view().await.telemetry.occupancy, Occupancy::Free);

    let out = run(
        "python3",
        &[
            &script,
            "report",
            &url,
            "json",
            "4",
            "occupied",
            "available",
        ],
    )
    .await;
    assert_eq!(
        out.stdout.trim(),
        "2.04 ignored: seq not above the last one"
    );

    let bad = self::url(env, &env.report_path(), "nope");
    let out = run(
        "python3",
        &[
            &script,
            "report",
            &bad,
            "json",
            "7",
            "occupied",
            "available",
        ],
    )
    .await;
    assert_eq!(out.stdout.trim(), "4.01 unknown pile or wrong key");
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(6));
    assert_eq!(v.telemetry.occupancy, Occupancy::Free);
}

async fn aiocoap_observe(env: &Env) {
    if !aiocoap().await {
        return;
    }
    let user = env.driver().await;
    let script = aiocoap_script();
    let report = url(env, &env.report_path(), &env.key);
    let out = run(
        "python3",
        &[
            &script.to_string_lossy(),
            "report",
            &report,
            "json",
            "1",
            "free",
            "available",
        ],
    )
    .await;
    assert_eq!(out.stdout.trim(), "2.04");

    let hold = url(env, &env.hold_path(), &env.key);
    let mut child = Command::new("python3")
        .arg(&script)
        .args(["observe", &hold, "3", "20"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn python3");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = next_line(&mut lines, Duration::from_secs(10), "registration").await;
    assert_eq!(first, r#"2.05 1 {"state":"free"}"#);

    let res = env.service.reserve(user, env.pile).await.expect("reserve");
    let held = next_line(&mut lines, Duration::from_secs(2), "held notification").await;
    let (head, body) = held.split_at(held.find('{').expect("JSON payload"));
    let observe: u32 = head.trim().strip_prefix("2.05 ").unwrap().parse().unwrap();
    assert!(observe > 1, "{held}");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["state"], "held");
    assert_eq!(body["id"], res.id.0);

    env.service
        .end_hold(res.id, Some(user), Outcome::Cancelled, "user")
        .await
        .expect("cancel");
    let free = next_line(&mut lines, Duration::from_secs(2), "free notification").await;
    assert!(
        free.starts_with("2.05 ") && free.ends_with(r#" {"state":"free"}"#),
        "{free}"
    );
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the script ends after three lines")
        .unwrap();
    assert!(status.success(), "{status}");
}

scenarios! {
    libcoap_json => libcoap_json_report;
    libcoap_credential => libcoap_bad_credential;
    libcoap_malformed => libcoap_malformed_payload;
    libcoap_cbor => libcoap_cbor_report;
    libcoap_well_known => libcoap_discovery;
    libcoap_observe_hold => libcoap_observe;
    aiocoap_report => aiocoap_reports;
    aiocoap_observe_hold => aiocoap_observe;
}
