//! The bridge end to end over real UDP sockets on 127.0.0.1: every scenario runs against a
//! fresh SQLite database, and against a fresh PostgreSQL database when one is reachable.

#![allow(clippy::unwrap_used)]

mod common;

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use common::{code, content_format, json_report, text, Client, Env, ANSWER};
use domain::{Occupancy, Outcome, PileState};
use std::time::Duration;

const JSON: Option<u16> = Some(50);
const CBOR: Option<u16> = Some(60);

/// `{"seq":2,"bay":"free","pile":"available"}` in CBOR, written out by hand (the example in
/// docs/device-protocol.md).
const CBOR_EXAMPLE: &str = "a363736571026362617964667265656470696c6569617661696c61626c65";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Asserts `r` is the piggy-backed ACK of confirmable request `req` with `expected` code.
fn assert_piggybacked(req: &Packet, r: &Packet, expected: ResponseType) {
    assert_eq!(
        r.header.get_type(),
        MessageType::Acknowledgement,
        "piggy-backed ACK"
    );
    assert_eq!(
        r.header.message_id, req.header.message_id,
        "ACK echoes the message id"
    );
    assert_eq!(r.get_token(), req.get_token(), "response echoes the token");
    assert_eq!(code(r), expected, "diagnostic: {:?}", text(r));
}

/// Asserts nothing was recorded for the pile: no report event and no telemetry.
async fn assert_untouched(env: &Env) {
    assert!(env.report_events().await.is_empty(), "no report recorded");
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, None);
    assert_eq!(v.telemetry.occupancy, Occupancy::Unknown);
}

async fn con_json_report_is_acked_after_commit(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let req = c.post(
        &env.report_path(),
        &[&env.key_query()],
        JSON,
        &json_report(1, "occupied", "available"),
    );
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Changed);
    assert!(r.payload.is_empty(), "success carries no diagnostic");
    // The ACK promises durability: the store shows the report the moment the ACK is in.
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(1));
    assert_eq!(v.telemetry.occupancy, Occupancy::Occupied);
    assert_eq!(v.telemetry.pile_state, Some(PileState::Available));
    assert_eq!(v.telemetry.battery, Some(88));
    assert_eq!(v.telemetry.quality, Some(97));
    let me = c.socket.local_addr().unwrap().to_string();
    assert_eq!(v.last_addr.as_deref(), Some(me.as_str()));

    // No Content-Format at all means JSON.
    let req = c.post(
        &env.report_path(),
        &[&env.key_query()],
        None,
        br#"{"seq":2,"bay":"free","pile":"charging"}"#,
    );
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Changed);
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(2));
    assert_eq!(v.telemetry.occupancy, Occupancy::Free);
    assert_eq!(v.telemetry.pile_state, Some(PileState::Charging));
    assert_eq!(env.report_events().await.len(), 2);
}

async fn cbor_report_is_accepted(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let mut payload = Vec::new();
    ciborium::into_writer(
        &serde_json::json!({"seq": 1, "bay": "occupied", "pile": "faulted", "bat": 5}),
        &mut payload,
    )
    .unwrap();
    let req = c.post(&env.report_path(), &[&env.key_query()], CBOR, &payload);
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Changed);
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(1));
    assert_eq!(v.telemetry.occupancy, Occupancy::Occupied);
    assert_eq!(v.telemetry.pile_state, Some(PileState::Faulted));
    assert_eq!(v.telemetry.battery, Some(5));

    // The hand-written example of the protocol document.
    let req = c.post(
        &env.report_path(),
        &[&env.key_query()],
        CBOR,
        &unhex(CBOR_EXAMPLE),
    );
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Changed);
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(2));
    assert_eq!(v.telemetry.occupancy, Occupancy::Free);
    assert_eq!(v.telemetry.pile_state, Some(PileState::Available));
}

async fn retransmission_gets_identical_answer_and_applies_once(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let req = c.post(
        &env.report_path(),
        &[&env.key_query()],
        JSON,
        &json_report(7, "occupied", "available"),
    );
    // Two copies back to back: the second arrives while the first is being committed (or
    // just after), so it is either ignored or answered with the same bytes.
    c.send(&req).await;
    let (first, r) = c.exchange_raw(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Changed);
    if let Some((again, _)) = c.recv(Duration::from_millis(300)).await {
        assert_eq!(
            again, first,
            "an answer to a retransmission is byte-identical"
        );
    }
    // A retransmission long after the answer: the remembered answer, byte for byte.
    let (later, _) = c.exchange_raw(&req).await;
    assert_eq!(later, first, "retransmission answered byte-identically");
    c.assert_silent(Duration::from_millis(300), "one answer per copy at most")
        .await;
    let events = env.report_events().await;
    assert_eq!(events.len(), 1, "applied once: {events:?}");
    assert_eq!(env.view().await.telemetry.last_seq, Some(7));

    // A pile that restarted and reuses the message id with a new token is a new exchange.
    let mut fresh = req.clone();
    fresh.set_token(vec![0xfe, 0xed]);
    fresh.payload = json_report(8, "free", "available");
    let r = c.exchange(&fresh).await;
    assert_piggybacked(&fresh, &r, ResponseType::Changed);
    assert_eq!(env.view().await.telemetry.last_seq, Some(8));
    assert_eq!(env.report_events().await.len(), 2);
}

async fn older_seq_never_overwrites_newer_state(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let req = c.post(
        &env.report_path(),
        &[&env.key_query()],
        JSON,
        &json_report(10, "occupied", "charging"),
    );
    assert_eq!(code(&c.exchange(&req).await), ResponseType::Changed);

    let req = c.post(
        &env.report_path(),
        &[&env.key_query()],
        JSON,
        &json_report(5, "free", "available"),
    );
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Changed);
    assert_eq!(text(&r), "ignored: seq not above the last one");

    // An equal seq in a new message is a duplicate report: acknowledged, nothing changes.
    let req = c.post(
        &env.report_path(),
        &[&env.key_query()],
        JSON,
        &json_report(10, "free", "available"),
    );
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Changed);

    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(10));
    assert_eq!(v.telemetry.occupancy, Occupancy::Occupied);
    assert_eq!(v.telemetry.pile_state, Some(PileState::Charging));
    let events = env.report_events().await;
    assert_eq!(
        events.len(),
        2,
        "the late report is logged, the duplicate is not: {events:?}"
    );
    assert_eq!(events[0].data["applied"], serde_json::json!(false));
    assert_eq!(events[1].data["applied"], serde_json::json!(true));
}

async fn non_confirmable_report_is_accepted(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let req = c.request(
        MessageType::NonConfirmable,
        RequestType::Post,
        &env.report_path(),
        &[&env.key_query()],
        JSON,
        &json_report(3, "free", "available"),
    );
    let r = c.exchange(&req).await;
    assert_eq!(
        r.header.get_type(),
        MessageType::NonConfirmable,
        "a NON request gets a NON response"
    );
    assert_eq!(r.get_token(), req.get_token());
    assert_eq!(code(&r), ResponseType::Changed);
    let v = env.view().await;
    assert_eq!(v.telemetry.last_seq, Some(3));
    assert_eq!(v.telemetry.occupancy, Occupancy::Free);
}

async fn credentials_are_required(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let body = json_report(1, "occupied", "available");
    let wrong = format!("k={}", "0".repeat(32));
    let cases: Vec<(String, Vec<String>, &str)> = vec![
        (
            env.report_path(),
            vec![wrong.clone()],
            "unknown pile or wrong key",
        ),
        (
            env.report_path(),
            vec![],
            "credential required: add ?k=<key>",
        ),
        (
            env.report_path(),
            vec!["x=1".into()],
            "credential required: add ?k=<key>",
        ),
        (
            env.report_path(),
            vec!["k=".into()],
            "unknown pile or wrong key",
        ),
        (
            "r/999999".into(),
            vec![env.key_query()],
            "unknown pile or wrong key",
        ),
        (env.hold_path(), vec![wrong], "unknown pile or wrong key"),
        (env.hold_path(), vec![], "credential required: add ?k=<key>"),
    ];
    for (path, query, diag) in cases {
        let query: Vec<&str> = query.iter().map(String::as_str).collect();
        let method = if path.starts_with('h') {
            RequestType::Get
        } else {
            RequestType::Post
        };
        let req = c.request(MessageType::Confirmable, method, &path, &query, JSON, &body);
        let r = c.exchange(&req).await;
        assert_piggybacked(&req, &r, ResponseType::Unauthorized);
        assert_eq!(text(&r), diag, "{path} {query:?}");
    }
    assert_untouched(env).await;
}

async fn rotation_and_revocation_take_effect_within_refresh(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let mut seq = 0;
    let mut post = |c: &mut Client, key: &str| {
        seq += 1;
        c.post(
            &env.report_path(),
            &[&format!("k={key}")],
            JSON,
            &json_report(seq, "free", "available"),
        )
    };
    let req = post(&mut c, &env.key);
    assert_eq!(code(&c.exchange(&req).await), ResponseType::Changed);

    let rotated = env.store.issue_credential(env.pile).await.unwrap().secret;
    // Within the 5 s refresh (plus the 1 s maintenance tick) the new key works, the old not.
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    loop {
        let req = post(&mut c, &rotated);
        if code(&c.exchange(&req).await) == ResponseType::Changed {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rotated key not accepted in time"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let req = post(&mut c, &env.key);
    assert_eq!(
        code(&c.exchange(&req).await),
        ResponseType::Unauthorized,
        "old key refused after rotation"
    );

    env.store.revoke_credential(env.pile).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    loop {
        let req = post(&mut c, &rotated);
        if code(&c.exchange(&req).await) == ResponseType::Unauthorized {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "revoked key still accepted"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn routing_errors(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let key = env.key_query();
    let cases: [(RequestType, &str, ResponseType, &str); 7] = [
        (
            RequestType::Post,
            "x/1",
            ResponseType::NotFound,
            "no such resource; see /.well-known/core",
        ),
        (
            RequestType::Get,
            "",
            ResponseType::NotFound,
            "no such resource; see /.well-known/core",
        ),
        (
            RequestType::Post,
            "r/abc",
            ResponseType::NotFound,
            "no such resource; see /.well-known/core",
        ),
        (
            RequestType::Post,
            "r/1/2",
            ResponseType::NotFound,
            "no such resource; see /.well-known/core",
        ),
        (
            RequestType::Get,
            "r/1",
            ResponseType::MethodNotAllowed,
            "method not allowed; use POST",
        ),
        (
            RequestType::Delete,
            "h/1",
            ResponseType::MethodNotAllowed,
            "method not allowed; use GET",
        ),
        (
            RequestType::Post,
            ".well-known/core",
            ResponseType::MethodNotAllowed,
            "method not allowed; use GET",
        ),
    ];
    for (method, path, expected, diag) in cases {
        let req = c.request(MessageType::Confirmable, method, path, &[&key], None, b"");
        let r = c.exchange(&req).await;
        assert_piggybacked(&req, &r, expected);
        assert_eq!(text(&r), diag, "{method:?} /{path}");
    }
    // The real pile's path with GET is refused the same way.
    let req = c.request(
        MessageType::Confirmable,
        RequestType::Get,
        &env.report_path(),
        &[&key],
        None,
        b"",
    );
    assert_eq!(
        code(&c.exchange(&req).await),
        ResponseType::MethodNotAllowed
    );
    assert_untouched(env).await;
}

async fn payload_errors(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let key = env.key_query();
    let big = format!(
        r#"{{"seq":1,"bay":"free","pile":"available","x":"{}"}}"#,
        "a".repeat(260)
    );
    assert!(big.len() > 256);
    let cases: Vec<(Option<u16>, Vec<u8>, ResponseType, String)> = vec![
        (
            Some(0),
            json_report(1, "free", "available"),
            ResponseType::UnsupportedContentFormat,
            "unsupported content-format 0: use 50 (JSON) or 60 (CBOR)".into(),
        ),
        (
            JSON,
            big.clone().into_bytes(),
            ResponseType::RequestEntityTooLarge,
            format!("payload too large: {} bytes, limit 256", big.len()),
        ),
        (
            JSON,
            Vec::new(),
            ResponseType::BadRequest,
            "empty payload: a report needs seq, bay and pile".into(),
        ),
        (
            JSON,
            br#"{"seq":1,"bay":"maybe","pile":"available"}"#.to_vec(),
            ResponseType::BadRequest,
            r#"invalid report: bay must be "free" or "occupied""#.into(),
        ),
        (
            JSON,
            br#"{"seq":1,"bay":"free","pile":"idle"}"#.to_vec(),
            ResponseType::BadRequest,
            r#"invalid report: pile must be "available", "charging" or "faulted""#.into(),
        ),
        (
            JSON,
            br#"{"seq":-1,"bay":"free","pile":"available"}"#.to_vec(),
            ResponseType::BadRequest,
            "invalid report: seq must be between 0 and 2^53".into(),
        ),
        (
            JSON,
            br#"{"seq":1,"bay":"free","pile":"available","bat":101}"#.to_vec(),
            ResponseType::BadRequest,
            "invalid report: bat must be between 0 and 100".into(),
        ),
    ];
    for (format, payload, expected, diag) in cases {
        let req = c.post(&env.report_path(), &[&key], format, &payload);
        let r = c.exchange(&req).await;
        assert_piggybacked(&req, &r, expected);
        assert_eq!(text(&r), diag);
    }
    // serde's own wording is not part of the protocol; the prefix and the field name are.
    let prefixed: [(Option<u16>, &[u8], &str); 5] = [
        (JSON, b"not json", ""),
        (JSON, br#"{"seq":1,"bay":"free"}"#, "pile"),
        (
            JSON,
            br#"{"seq":1,"bay":"free","pile":"available","extra":1}"#,
            "extra",
        ),
        (JSON, br#"{"seq":"1","bay":"free","pile":"available"}"#, ""),
        (CBOR, b"\xff\x00garbage", ""),
    ];
    for (format, payload, mentions) in prefixed {
        let req = c.post(&env.report_path(), &[&key], format, payload);
        let r = c.exchange(&req).await;
        assert_piggybacked(&req, &r, ResponseType::BadRequest);
        let diag = text(&r);
        assert!(
            diag.starts_with("invalid report: ") && diag.contains(mentions),
            "{diag:?}"
        );
    }
    // A Content-Format option longer than two bytes is a bad option.
    let mut req = c.post(
        &env.report_path(),
        &[&key],
        None,
        &json_report(1, "free", "available"),
    );
    req.add_option(CoapOption::ContentFormat, vec![0, 0, 50]);
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::BadOption);
    assert_eq!(text(&r), "bad Content-Format option");
    assert_untouched(env).await;
}

async fn malformed_datagram_gets_bad_request(env: &Env) {
    let c = Client::new(env.addr).await;
    // CON POST, token ab cd, mid 0x1234, then an option byte with the reserved delta 15.
    c.send_bytes(&[0x42, 0x02, 0x12, 0x34, 0xab, 0xcd, 0xf1])
        .await;
    let (_, r) = c
        .recv(ANSWER)
        .await
        .expect("an answer to a malformed request");
    assert_eq!(r.header.get_type(), MessageType::Acknowledgement);
    assert_eq!(r.header.message_id, 0x1234);
    assert_eq!(r.get_token(), &[0xab, 0xcd]);
    assert_eq!(code(&r), ResponseType::BadRequest);
    assert_eq!(
        text(&r),
        "malformed CoAP message: CoAP error: invalid option delta"
    );

    // Uri-Path option (delta 11) claiming 10 bytes with 2 present: a NON gets a NON 4.00.
    c.send_bytes(&[0x51, 0x02, 0x00, 0x07, 0x99, 0xba, b'r', b'/'])
        .await;
    let (_, r) = c
        .recv(ANSWER)
        .await
        .expect("an answer to a malformed NON request");
    assert_eq!(r.header.get_type(), MessageType::NonConfirmable);
    assert_eq!(r.get_token(), &[0x99]);
    assert_eq!(code(&r), ResponseType::BadRequest);
    assert!(
        text(&r).starts_with("malformed CoAP message: "),
        "{:?}",
        text(&r)
    );

    // Not even a header, a wrong version, or a malformed response: silently dropped.
    c.send_bytes(&[0x40]).await;
    c.send_bytes(&[0x82, 0x02, 0, 1, 1, 2]).await;
    c.send_bytes(&[0x60, 0x45, 0, 2, 0xf1]).await;
    c.assert_silent(Duration::from_millis(300), "garbage is not answered")
        .await;
    assert_untouched(env).await;

    // And the bridge is still serving.
    let mut c = c;
    let req = c.post(
        &env.report_path(),
        &[&env.key_query()],
        JSON,
        &json_report(1, "free", "available"),
    );
    assert_eq!(code(&c.exchange(&req).await), ResponseType::Changed);
}

async fn ping_gets_reset(env: &Env) {
    let c = Client::new(env.addr).await;
    // Empty CON (code 0.00), mid 0x4242: a CoAP ping.
    c.send_bytes(&[0x40, 0x00, 0x42, 0x42]).await;
    let (bytes, r) = c.recv(ANSWER).await.expect("RST");
    assert_eq!(r.header.get_type(), MessageType::Reset);
    assert_eq!(r.header.message_id, 0x4242);
    assert_eq!(r.header.code, MessageClass::Empty);
    assert_eq!(bytes, vec![0x70, 0x00, 0x42, 0x42], "a bare 4-byte RST");
}

async fn well_known_core_lists_resources(env: &Env) {
    let mut c = Client::new(env.addr).await;
    let req = c.request(
        MessageType::Confirmable,
        RequestType::Get,
        ".well-known/core",
        &[],
        None,
        b"",
    );
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Content);
    assert_eq!(content_format(&r), Some(40), "application/link-format");
    let links = text(&r);
    let parsed: Vec<&str> = links.split(',').collect();
    assert_eq!(parsed.len(), 2, "{links}");
    assert!(
        parsed[0].starts_with("</r>;") && parsed[0].contains("rt=\"chargebay.report\""),
        "{links}"
    );
    assert!(
        parsed[1].starts_with("</h>;") && parsed[1].contains(";obs"),
        "{links}"
    );
}

/// Registers an observation of the pile's hold; returns the registration's token.
async fn observe(env: &Env, c: &mut Client) -> Vec<u8> {
    let mut req = c.request(
        MessageType::Confirmable,
        RequestType::Get,
        &env.hold_path(),
        &[&env.key_query()],
        None,
        b"",
    );
    req.set_observe_value(0);
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Content);
    assert_eq!(
        r.get_observe_value().and_then(Result::ok),
        Some(1),
        "registered: Observe option present"
    );
    assert_eq!(content_format(&r), Some(50));
    assert_eq!(text(&r), r#"{"state":"free"}"#);
    req.get_token().to_vec()
}

/// Makes the pile idle with a fresh `free`/`available` report.
async fn make_idle(env: &Env, c: &mut Client, seq: i64) {
    let req = c.post(
        &env.report_path(),
        &[&env.key_query()],
        JSON,
        &json_report(seq, "free", "available"),
    );
    assert_eq!(code(&c.exchange(&req).await), ResponseType::Changed);
}

/// The next notification for `token`, within `wait`.
async fn notification(c: &Client, token: &[u8], wait: Duration) -> (Vec<u8>, Packet) {
    let (bytes, n) = c
        .recv(wait)
        .await
        .unwrap_or_else(|| panic!("no notification within {wait:?}"));
    assert_eq!(
        n.header.get_type(),
        MessageType::Confirmable,
        "notifications are confirmable"
    );
    assert_eq!(code(&n), ResponseType::Content);
    assert_eq!(
        n.get_token(),
        token,
        "notification carries the registration's token"
    );
    assert_eq!(content_format(&n), Some(50));
    assert!(
        n.get_observe_value().and_then(Result::ok).is_some(),
        "notification has Observe"
    );
    (bytes, n)
}

async fn ack(c: &Client, n: &Packet) {
    let mut a = Packet::new();
    a.header.set_type(MessageType::Acknowledgement);
    a.header.code = MessageClass::Empty;
    a.header.message_id = n.header.message_id;
    c.send(&a).await;
}

fn hold_json(n: &Packet) -> serde_json::Value {
    serde_json::from_slice(&n.payload).expect("JSON hold")
}

async fn observe_hold_notifications(env: &Env) {
    let user = env.driver().await;
    let mut c = Client::new(env.addr).await;
    make_idle(env, &mut c, 1).await;

    // A plain GET: the hold, without registering.
    let req = c.request(
        MessageType::Confirmable,
        RequestType::Get,
        &env.hold_path(),
        &[&env.key_query()],
        None,
        b"",
    );
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Content);
    assert!(r.get_observe_value().is_none());
    assert_eq!(text(&r), r#"{"state":"free"}"#);

    let token = observe(env, &mut c).await;
    let res = env.service.reserve(user, env.pile).await.expect("reserve");
    let (_, n1) = notification(&c, &token, Duration::from_secs(1)).await;
    let held = hold_json(&n1);
    assert_eq!(held["state"], "held");
    assert_eq!(held["id"], res.id.0);
    assert_eq!(held["until"], res.deadline.0);
    ack(&c, &n1).await;

    env.service
        .end_hold(res.id, Some(user), Outcome::Cancelled, "user")
        .await
        .expect("cancel");
    let (_, n2) = notification(&c, &token, Duration::from_secs(1)).await;
    assert_eq!(text(&n2), r#"{"state":"free"}"#);
    let seq = |p: &Packet| p.get_observe_value().and_then(Result::ok).unwrap();
    assert!(seq(&n2) > seq(&n1), "Observe values increase");
    assert_ne!(n2.header.message_id, n1.header.message_id);
    ack(&c, &n2).await;
    // Acknowledged notifications are not retransmitted (the first retransmission would
    // come after ACK_TIMEOUT, 2 s).
    c.assert_silent(
        Duration::from_millis(2600),
        "ACKed notifications are not resent",
    )
    .await;

    // Deregistration with Observe=1 and the same token: no more notifications.
    let mut req = c.request(
        MessageType::Confirmable,
        RequestType::Get,
        &env.hold_path(),
        &[&env.key_query()],
        None,
        b"",
    );
    req.set_token(token);
    req.set_observe_value(1);
    let r = c.exchange(&req).await;
    assert_piggybacked(&req, &r, ResponseType::Content);
    assert!(
        r.get_observe_value().is_none(),
        "deregistered: no Observe option"
    );
    env.service
        .reserve(user, env.pile)
        .await
        .expect("reserve again");
    c.assert_silent(Duration::from_secs(1), "deregistered")
        .await;
}

async fn observer_answering_reset_is_dropped(env: &Env) {
    let user = env.driver().await;
    let mut c = Client::new(env.addr).await;
    make_idle(env, &mut c, 1).await;
    let token = observe(env, &mut c).await;
    let res = env.service.reserve(user, env.pile).await.expect("reserve");
    let (first, n) = notification(&c, &token, Duration::from_secs(1)).await;
    assert_eq!(hold_json(&n)["state"], "held");
    // Not acknowledged: resent after ACK_TIMEOUT (2 s), byte for byte.
    let (again, _) = notification(&c, &token, Duration::from_secs(3)).await;
    assert_eq!(again, first, "retransmitted notification is identical");
    // Reject it: the bridge forgets the observer.
    let mut rst = Packet::new();
    rst.header.set_type(MessageType::Reset);
    rst.header.code = MessageClass::Empty;
    rst.header.message_id = n.header.message_id;
    c.send(&rst).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    env.service
        .end_hold(res.id, Some(user), Outcome::Cancelled, "user")
        .await
        .expect("cancel");
    c.assert_silent(
        Duration::from_millis(1500),
        "an observer that sent RST gets nothing",
    )
    .await;
}

scenarios! {
    con_json_report => con_json_report_is_acked_after_commit;
    cbor_report => cbor_report_is_accepted;
    retransmission => retransmission_gets_identical_answer_and_applies_once;
    out_of_order => older_seq_never_overwrites_newer_state;
    non_confirmable => non_confirmable_report_is_accepted;
    credentials => credentials_are_required;
    credential_refresh => rotation_and_revocation_take_effect_within_refresh;
    routing => routing_errors;
    payload => payload_errors;
    malformed => malformed_datagram_gets_bad_request;
    ping => ping_gets_reset;
    well_known_core => well_known_core_lists_resources;
    observe_notifications => observe_hold_notifications;
    observe_reset => observer_answering_reset_is_dropped;
}
