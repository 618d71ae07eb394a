//! Hardening of `distsys-review lsp`, the real binary over stdio.
//!
//! Protocol fuzzing: malformed frames, wrong params, misplaced and unknown messages, out-of-range positions and
//! unknown documents each get the answer LSP and JSON-RPC specify (or are ignored with a log line), and after
//! each the server still answers a hover over a finding. A property test sends random sequences of such
//! messages and checks every answer. Bursts: 10,000 changes in one write coalesce into far fewer analyses and
//! end with the diagnostics of the final version.

mod lsp_client;

use std::time::{Duration, Instant};

use lsp_client::{LspClient, TempDir, TIMEOUT};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

const MAIN: &str = "use tokio::sync::mpsc;\n\nfn start() {\n    let (tx, rx) = mpsc::unbounded_channel::<u8>();\n}\n";
/// Inside `unbounded_channel` on line 3.
const FINDING_AT: (u64, u64) = (3, 26);

fn init_params(dir: &TempDir) -> Value {
    json!({
        "processId": null,
        "capabilities": {"general": {"positionEncodings": ["utf-16"]}},
        "workspaceFolders": [{"uri": dir.uri(""), "name": "ws"}],
    })
}

fn hover_params(uri: &str, line: u64, character: u64) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

/// A server with `main.rs` open and analysed.
fn serving(dir: &TempDir) -> (LspClient, String) {
    let mut client = LspClient::spawn(dir.path());
    client.initialize(init_params(dir));
    let uri = dir.uri("main.rs");
    client.open(&uri, "rust", 1, MAIN);
    let diagnostics = client.diagnostics(&uri, Some(1));
    assert!(
        diagnostics.iter().any(|d| d["code"] == "BKP001"),
        "{diagnostics:?}"
    );
    (client, uri)
}

/// The server still works: a hover over the finding is answered with the finding.
fn assert_serving(client: &mut LspClient, uri: &str, after: &str) {
    let (line, character) = FINDING_AT;
    let response = client.request("textDocument/hover", hover_params(uri, line, character));
    let value = response["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        value.contains("BKP001"),
        "no hover after {after}: {response}\nstderr:\n{}",
        client.stderr()
    );
}

fn wait_stderr(client: &LspClient, needle: &str) {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        if client.stderr().contains(needle) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no log line with `{needle}`; stderr:\n{}", client.stderr());
}

fn error_for(client: &mut LspClient, id: Value) -> (i64, String) {
    let message = client.wait_for(&format!("an error for id {id}"), |m| {
        m.get("error").is_some() && m.get("method").is_none() && m["id"] == id
    });
    (
        message["error"]["code"].as_i64().unwrap(),
        message["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn request_frame(id: i64, method: &str, params: Value) -> Vec<u8> {
    lsp_client::frame(
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
            .to_string()
            .as_bytes(),
    )
}

fn notification_frame(method: &str, params: Value) -> Vec<u8> {
    lsp_client::frame(
        json!({"jsonrpc": "2.0", "method": method, "params": params})
            .to_string()
            .as_bytes(),
    )
}

#[test]
fn misplaced_messages_before_initialize_and_after_shutdown() {
    let dir = TempDir::new("fuzz-order");
    let mut client = LspClient::spawn(dir.path());
    let uri = dir.uri("main.rs");
    // Before initialize: requests get -32002, notifications are dropped (with a log line).
    let early = client.request("textDocument/hover", hover_params(&uri, 0, 0));
    assert_eq!(early["error"]["code"], -32002, "{early}");
    let early = client.request("shutdown", Value::Null);
    assert_eq!(early["error"]["code"], -32002, "{early}");
    client.open(&uri, "rust", 1, MAIN);
    wait_stderr(
        &client,
        "`textDocument/didOpen` notification before `initialize`",
    );
    client.initialize(init_params(&dir));
    assert_eq!(client.document_state(&uri), Value::Null);
    // A second initialize is an invalid request.
    let again = client.request("initialize", init_params(&dir));
    assert_eq!(again["error"]["code"], -32600, "{again}");
    client.open(&uri, "rust", 1, MAIN);
    client.diagnostics(&uri, Some(1));
    assert_serving(&mut client, &uri, "a second initialize");
    // After shutdown: every request is an invalid request; `exit` still ends the server with 0.
    assert_eq!(client.call("shutdown", Value::Null), Value::Null);
    let late = client.request("textDocument/hover", hover_params(&uri, 3, 26));
    assert_eq!(late["error"]["code"], -32600, "{late}");
    let late = client.request("shutdown", Value::Null);
    assert_eq!(late["error"]["code"], -32600, "{late}");
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit(TIMEOUT).and_then(|s| s.code()), Some(0));
}

#[test]
fn each_bad_message_gets_its_answer_and_the_server_keeps_serving() {
    let dir = TempDir::new("fuzz-cases");
    let (mut client, uri) = serving(&dir);

    // Frames that cannot be read as a message: a JSON-RPC error with `id: null` (or the id, when readable).
    let frames: Vec<(&str, Vec<u8>, i64, Value)> = vec![
        (
            "a non-numeric Content-Length",
            b"Content-Length: twelve\r\n\r\n{}".to_vec(),
            -32700,
            Value::Null,
        ),
        (
            "a negative Content-Length",
            b"Content-Length: -5\r\n\r\n{}".to_vec(),
            -32700,
            Value::Null,
        ),
        (
            "a missing Content-Length",
            b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}".to_vec(),
            -32700,
            Value::Null,
        ),
        (
            "an absurd Content-Length",
            b"Content-Length: 99999999999999\r\n\r\n{}".to_vec(),
            -32700,
            Value::Null,
        ),
        (
            "a header line without a colon",
            b"garbage\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
            -32700,
            Value::Null,
        ),
        (
            "invalid JSON",
            lsp_client::frame(br#"{"jsonrpc": "2.0", "id": 5, "method": "#),
            -32700,
            Value::Null,
        ),
        (
            "invalid UTF-8",
            lsp_client::frame(b"{\"jsonrpc\":\"2.0\",\"method\":\"\xc3\x28\"}"),
            -32700,
            Value::Null,
        ),
        (
            "a JSON scalar",
            lsp_client::frame(b"42"),
            -32600,
            Value::Null,
        ),
        (
            "a batch",
            lsp_client::frame(br#"[{"jsonrpc":"2.0","id":1,"method":"shutdown"}]"#),
            -32600,
            Value::Null,
        ),
        (
            "a missing jsonrpc version",
            lsp_client::frame(br#"{"id":77,"method":"textDocument/hover","params":{}}"#),
            -32600,
            json!(77),
        ),
        (
            "a method that is not a string",
            lsp_client::frame(br#"{"jsonrpc":"2.0","id":78,"method":5}"#),
            -32600,
            json!(78),
        ),
    ];
    for (what, bytes, code, id) in frames {
        client.send_raw(&bytes);
        let (got, message) = error_for(&mut client, id);
        assert_eq!(got, code, "{what}: {message}");
        assert_serving(&mut client, &uri, what);
    }

    // A body shorter than its Content-Length swallows the start of the next frame: one parse error, and the
    // frame after that is read again.
    let mut bytes = b"Content-Length: 60\r\n\r\n{\"jsonrpc\":\"2.0\"".to_vec();
    bytes.extend(request_frame(
        901,
        "distsys-review/documentState",
        json!({"textDocument": {"uri": uri}}),
    ));
    bytes.extend(request_frame(
        902,
        "distsys-review/documentState",
        json!({"textDocument": {"uri": uri}}),
    ));
    client.send_raw(&bytes);
    assert_eq!(error_for(&mut client, Value::Null).0, -32700);
    let state = client.response(&json!(902));
    assert_eq!(state["result"]["version"], 1, "{state}");
    assert_serving(&mut client, &uri, "a truncated body");

    // Requests with params of the wrong shape: -32602; unknown methods: -32601.
    let bad_requests = [
        (
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": "x", "character": 0}}),
        ),
        ("textDocument/hover", json!([1, 2, 3])),
        (
            "textDocument/codeAction",
            json!({"textDocument": {"uri": 7}}),
        ),
        ("codeAction/resolve", json!("not an action")),
        ("workspace/executeCommand", json!({"command": ["x"]})),
    ];
    for (method, params) in bad_requests {
        let response = client.request(method, params.clone());
        assert_eq!(
            response["error"]["code"], -32602,
            "{method} {params}: {response}"
        );
        assert_serving(&mut client, &uri, method);
    }
    let unknown = client.request("textDocument/noSuchThing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let unknown = client.request("$/noSuchThing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    // Notifications with params of the wrong shape, or that nobody handles: ignored with a log line.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": "two"}, "contentChanges": []}),
    );
    wait_stderr(
        &client,
        "`textDocument/didChange` notification with invalid params ignored",
    );
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri}}),
    );
    wait_stderr(
        &client,
        "`textDocument/didOpen` notification with invalid params ignored",
    );
    client.notify("custom/whatever", json!({"x": 1}));
    wait_stderr(&client, "`custom/whatever` notification is not handled");
    assert_eq!(client.document_state(&uri)["version"], 1);
    assert_serving(&mut client, &uri, "bad notifications");

    // Positions outside the document: an empty answer, never an error or a crash.
    for (line, character) in [
        (0, 999),
        (4, 0),
        (5, 0),
        (99, 0),
        (u32::MAX as u64, u32::MAX as u64),
    ] {
        let hover = client.request("textDocument/hover", hover_params(&uri, line, character));
        assert!(hover.get("error").is_none(), "{line}:{character}: {hover}");
        let position = json!({"line": line, "character": character});
        let range = json!({"start": position, "end": position});
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": []}}),
        );
        assert!(
            actions.get("error").is_none(),
            "{line}:{character}: {actions}"
        );
    }
    // Half of a surrogate pair.
    let emoji = dir.uri("emoji.rs");
    client.open(&emoji, "rust", 1, "fn f() { let s = \"😀\"; }\n");
    let split = client.request("textDocument/hover", hover_params(&emoji, 0, 19));
    assert_eq!(split["result"], Value::Null, "{split}");
    assert_serving(&mut client, &uri, "out-of-range positions");

    // Unknown documents.
    let nowhere = dir.uri("nowhere.rs");
    assert_eq!(
        client.call("textDocument/hover", hover_params(&nowhere, 0, 0)),
        Value::Null
    );
    let actions = client.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": nowhere}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": []}}),
    );
    assert_eq!(actions, Value::Null);
    let odd = client.request(
        "textDocument/hover",
        hover_params("untitled:Untitled-1", 0, 0),
    );
    assert!(odd.get("error").is_none(), "{odd}");
    client.change(&nowhere, 2, json!([{"text": "fn f() {}"}]));
    wait_stderr(&client, "which is not open: ignored");
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": nowhere}}),
    );
    wait_stderr(&client, "close of");
    assert_eq!(client.document_state(&nowhere), Value::Null);
    assert_serving(&mut client, &uri, "unknown documents");

    // A duplicate didOpen replaces the document (logged); a change after didClose is ignored (logged).
    let other = dir.uri("other.rs");
    client.open(&other, "rust", 1, "fn a() {}\n");
    client.open(&other, "rust", 5, MAIN);
    wait_stderr(&client, "opened again without a close");
    assert!(client
        .diagnostics(&other, Some(5))
        .iter()
        .any(|d| d["code"] == "BKP001"));
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": other}}),
    );
    client.diagnostics(&other, None);
    client.change(&other, 6, json!([{"text": "fn b() {}"}]));
    assert_eq!(client.document_state(&other), Value::Null);
    assert_serving(&mut client, &uri, "didChange after didClose");

    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// One message of a random sequence, and what it must be answered with.
#[derive(Clone, Debug)]
enum Message {
    /// Header bytes without a Content-Length.
    Junk(String),
    BadLength(&'static str),
    InvalidJson(String),
    InvalidUtf8,
    NotJsonRpc {
        with_id: bool,
    },
    UnknownRequest,
    /// A request whose method starts with `$/` (LSP: MethodNotFound).
    DollarRequest,
    UnknownNotification,
    HoverWrongTypes,
    /// A hover anywhere in (or outside) the main document.
    Hover(u32, u32),
    HoverUnknownUri,
    CodeAction(u32, u32, u32, u32),
    ScratchOpen(i32, String),
    /// A ranged change of the scratch document (possibly out of range, possibly a stale version).
    ScratchChange(i32, u32, u32, u32, u32, String),
    ScratchFull(i32, String),
    ScratchClose,
    ScratchState,
    ChangeWrongTypes,
    Cancel(i64),
}

/// What the sequence expects back for a request id.
enum Expect {
    Error(i64),
    NoError,
}

fn message() -> impl Strategy<Value = Message> {
    let text = prop::collection::vec(
        prop::sample::select(vec![
            "a",
            "\n",
            "\r\n",
            "😀",
            "{",
            "}",
            "fn f() ",
            "let x = 1;",
            "\"",
        ]),
        0..8,
    )
    .prop_map(|parts| parts.concat());
    let small = 0u32..8;
    prop_oneof![
        "[a-z:{} \"\r\n]{0,40}".prop_map(|junk| Message::Junk(format!("X{junk}"))),
        prop::sample::select(vec!["-1", "abc", "", "1.5", "0x10", "99999999999999999999"])
            .prop_map(Message::BadLength),
        "[a-z:{} \"]{0,20}".prop_map(Message::InvalidJson),
        Just(Message::InvalidUtf8),
        any::<bool>().prop_map(|with_id| Message::NotJsonRpc { with_id }),
        Just(Message::UnknownRequest),
        Just(Message::DollarRequest),
        Just(Message::UnknownNotification),
        Just(Message::HoverWrongTypes),
        (small.clone(), 0u32..40).prop_map(|(l, c)| Message::Hover(l, c)),
        Just(Message::HoverUnknownUri),
        (small.clone(), 0u32..40, small.clone(), 0u32..40)
            .prop_map(|(a, b, c, d)| Message::CodeAction(a, b, c, d)),
        (0i32..20, text.clone()).prop_map(|(v, t)| Message::ScratchOpen(v, t)),
        (
            0i32..20,
            small.clone(),
            0u32..12,
            small,
            0u32..12,
            text.clone()
        )
            .prop_map(|(v, a, b, c, d, t)| Message::ScratchChange(v, a, b, c, d, t)),
        (0i32..20, text).prop_map(|(v, t)| Message::ScratchFull(v, t)),
        Just(Message::ScratchClose),
        Just(Message::ScratchState),
        Just(Message::ChangeWrongTypes),
        (1i64..5000).prop_map(Message::Cancel),
    ]
}

/// The bytes of a sequence, the answers it expects for each request id, and how many `id: null` errors.
fn encode(
    messages: &[Message],
    main: &str,
    scratch: &str,
    next_id: &mut i64,
) -> (Vec<u8>, Vec<(i64, Expect)>, usize) {
    let mut bytes = Vec::new();
    let mut expects = Vec::new();
    let mut null_errors = 0;
    // After a header block without a usable length the server skips to the next `Content-Length`, so junk
    // right after it is swallowed without an answer of its own.
    let mut resyncing = false;
    fn request(
        bytes: &mut Vec<u8>,
        next_id: &mut i64,
        method: &str,
        params: Value,
        expect: Expect,
    ) -> (i64, Expect) {
        let id = *next_id;
        *next_id += 1;
        bytes.extend(request_frame(id, method, params));
        (id, expect)
    }
    for message in messages {
        let junk = matches!(message, Message::Junk(_));
        if !junk {
            resyncing = false;
        }
        match message {
            Message::Junk(junk) => {
                bytes.extend(junk.as_bytes());
                bytes.extend(b"\r\n\r\n");
                if !resyncing {
                    null_errors += 1;
                }
                resyncing = true;
            }
            Message::BadLength(length) => {
                bytes.extend(format!("Content-Length: {length}\r\n\r\n{{}}").as_bytes());
                null_errors += 1;
                resyncing = true;
            }
            Message::InvalidJson(body) => {
                bytes.extend(lsp_client::frame(format!("{{\"jsonrpc\":{body},,}}").as_bytes()));
                null_errors += 1;
            }
            Message::InvalidUtf8 => {
                bytes.extend(lsp_client::frame(b"{\"method\":\"\xff\xfe\"}"));
                null_errors += 1;
            }
            Message::NotJsonRpc { with_id } => {
                if *with_id {
                    let id = *next_id;
                    *next_id += 1;
                    bytes.extend(lsp_client::frame(
                        json!({"jsonrpc": "1.0", "id": id, "method": "textDocument/hover"})
                            .to_string()
                            .as_bytes(),
                    ));
                    expects.push((id, Expect::Error(-32600)));
                } else {
                    bytes.extend(lsp_client::frame(br#"{"jsonrpc":"2.0"}"#));
                    null_errors += 1;
                }
            }
            Message::UnknownRequest => expects.push(request(
                &mut bytes,
                next_id,
                "custom/unknown",
                json!({}),
                Expect::Error(-32601),
            )),
            Message::DollarRequest => expects.push(request(
                &mut bytes,
                next_id,
                "$/unknownRequest",
                json!({}),
                Expect::Error(-32601),
            )),
            Message::UnknownNotification => {
                bytes.extend(notification_frame("custom/unknown", json!([1])))
            }
            Message::HoverWrongTypes => expects.push(request(
                &mut bytes,
                next_id,
                "textDocument/hover",
                json!({"textDocument": {"uri": main}, "position": {"line": -1, "character": "x"}}),
                Expect::Error(-32602),
            )),
            Message::Hover(line, character) => expects.push(request(
                &mut bytes,
                next_id,
                "textDocument/hover",
                hover_params(main, u64::from(*line), u64::from(*character)),
                Expect::NoError,
            )),
            Message::HoverUnknownUri => expects.push(request(
                &mut bytes,
                next_id,
                "textDocument/hover",
                hover_params("file:///nowhere/at/all.go", 0, 0),
                Expect::NoError,
            )),
            Message::CodeAction(a, b, c, d) => expects.push(request(
                &mut bytes,
                next_id,
                "textDocument/codeAction",
                json!({"textDocument": {"uri": main},
                       "range": {"start": {"line": a, "character": b}, "end": {"line": c, "character": d}},
                       "context": {"diagnostics": []}}),
                Expect::NoError,
            )),
            Message::ScratchOpen(version, text) => bytes.extend(notification_frame(
                "textDocument/didOpen",
                json!({"textDocument": {"uri": scratch, "languageId": "rust", "version": version, "text": text}}),
            )),
            Message::ScratchChange(version, a, b, c, d, text) => bytes.extend(notification_frame(
                "textDocument/didChange",
                json!({"textDocument": {"uri": scratch, "version": version},
                       "contentChanges": [{"range": {"start": {"line": a, "character": b},
                                                     "end": {"line": c, "character": d}}, "text": text}]}),
            )),
            Message::ScratchFull(version, text) => bytes.extend(notification_frame(
                "textDocument/didChange",
                json!({"textDocument": {"uri": scratch, "version": version}, "contentChanges": [{"text": text}]}),
            )),
            Message::ScratchClose => bytes.extend(notification_frame(
                "textDocument/didClose",
                json!({"textDocument": {"uri": scratch}}),
            )),
            Message::ScratchState => expects.push(request(
                &mut bytes,
                next_id,
                "distsys-review/documentState",
                json!({"textDocument": {"uri": scratch}}),
                Expect::NoError,
            )),
            Message::ChangeWrongTypes => bytes.extend(notification_frame(
                "textDocument/didChange",
                json!({"textDocument": {"uri": scratch}, "contentChanges": "all of it"}),
            )),
            Message::Cancel(id) => {
                bytes.extend(notification_frame("$/cancelRequest", json!({"id": id})))
            }
        }
    }
    (bytes, expects, null_errors)
}

/// Random sequences of good and bad messages, sent in one write: every request gets its answer, every
/// unreadable frame one `id: null` error, and a hover at the end is answered with the finding.
#[test]
fn random_message_sequences_end_with_an_answered_hover() {
    let cases = std::env::var("DSR_PROTOCOL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let dir = TempDir::new("fuzz-random");
    let (client, uri) = serving(&dir);
    let client = std::cell::RefCell::new(client);
    let scratch = dir.uri("scratch.rs");
    let next_id = std::cell::Cell::new(10_000);
    let sent = std::cell::Cell::new(0usize);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        // Each case talks to one long-lived server: shrinking would replay into a changed state.
        max_shrink_iters: 0,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(message(), 1..40), |messages| {
        let mut id = next_id.get();
        let (bytes, expects, null_errors) = encode(&messages, &uri, &scratch, &mut id);
        next_id.set(id);
        sent.set(sent.get() + messages.len());
        let mut client = client.borrow_mut();
        client.send_raw(&bytes);
        for (id, expect) in expects {
            let response = client.response(&json!(id));
            match expect {
                // A `$/cancelRequest` may hit any request: -32800 is a correct answer too.
                Expect::Error(code) => prop_assert!(
                    [Some(code), Some(-32800)].contains(&response["error"]["code"].as_i64()),
                    "{:?}: {}",
                    messages,
                    response
                ),
                Expect::NoError => prop_assert!(
                    response.get("error").is_none() || response["error"]["code"] == -32800,
                    "{:?}: {}",
                    messages,
                    response
                ),
            }
        }
        for _ in 0..null_errors {
            client.wait_for("an id: null error", |m| {
                m["id"].is_null() && m.get("error").is_some()
            });
        }
        assert_serving(&mut client, &uri, &format!("{messages:?}"));
        client.drain();
        Ok(())
    });
    let mut client = client.into_inner();
    if let Err(err) = result {
        panic!("{err}\nstderr:\n{}", client.stderr());
    }
    let sent = sent.get();
    eprintln!("protocol fuzz: {cases} sequences, {sent} messages");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A burst of 10,000 `didChange` notifications in one write: analyses coalesce (far fewer than one per change),
/// diagnostics are never published for a version older than one already published, and the last ones published
/// are those of the final version, equal to a fresh analysis of the final text.
#[test]
fn a_burst_of_ten_thousand_changes_coalesces_and_ends_on_the_final_version() {
    const CHANGES: i64 = 10_000;
    let dir = TempDir::new("burst");
    let (mut client, uri) = serving(&dir);
    let before = client.document_state(&uri)["analyses"].as_u64().unwrap();
    // Line 3 alternates between a bounded and an unbounded channel, renamed each time.
    let line_end = json!({"line": 3, "character": 200});
    let mut bytes = Vec::new();
    let mut last_line = String::new();
    for i in 0..CHANGES {
        last_line = if i % 2 == 0 {
            format!("    let (tx{i}, rx) = mpsc::channel::<u8>(16);")
        } else {
            format!("    let (tx{i}, rx) = mpsc::unbounded_channel::<u8>();")
        };
        bytes.extend(notification_frame(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": i + 2},
                   "contentChanges": [{"range": {"start": {"line": 3, "character": 0}, "end": line_end},
                                       "text": last_line}]}),
        ));
    }
    let final_version = CHANGES + 1;
    let started = Instant::now();
    client.send_raw(&bytes);
    let written = started.elapsed();
    let published = client.diagnostics(&uri, Some(final_version));
    let recovered = started.elapsed() - written;
    let state = client.document_state(&uri);
    assert_eq!(state["version"], final_version);
    let final_text = MAIN.replace(
        "    let (tx, rx) = mpsc::unbounded_channel::<u8>();",
        &last_line,
    );
    assert_eq!(state["text"], final_text.as_str());
    let analyses = state["analyses"].as_u64().unwrap() - before;
    eprintln!(
        "burst: {CHANGES} changes written in {written:.1?}, final diagnostics {recovered:.1?} after the last \
         byte, {analyses} analyses"
    );
    assert!(
        analyses < CHANGES as u64 / 10,
        "{analyses} analyses for {CHANGES} changes"
    );
    // Every publication for the document, in arrival order: versions never go back. A version may come
    // twice: a new workspace index generation republishes the open document's current version.
    let mut versions = Vec::new();
    while let Some(message) = client.try_wait_for(Duration::from_millis(0), &|m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str()
    }) {
        versions.push(message["params"]["version"].as_i64().unwrap_or(-1));
    }
    assert!(
        versions.windows(2).all(|w| w[0] <= w[1]) && versions.last() <= Some(&final_version),
        "{versions:?}"
    );
    // Nothing for an older version comes after the final one.
    std::thread::sleep(Duration::from_millis(300));
    let late = client.try_wait_for(Duration::from_millis(200), &|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri.as_str()
            && m["params"]["version"].as_i64() != Some(final_version)
    });
    assert!(
        late.is_none(),
        "published after the final version: {late:?}"
    );
    // The same text opened fresh gives the same diagnostics.
    let fresh = dir.uri("fresh.rs");
    client.open(&fresh, "rust", 1, &final_text);
    let expected = client.diagnostics(&fresh, Some(1));
    let strip = |d: &[Value]| -> Vec<Value> {
        d.iter()
            .map(|d| json!({"code": d["code"], "range": d["range"], "message": d["message"]}))
            .collect()
    };
    assert_eq!(strip(&published), strip(&expected));
    assert!(published.iter().any(|d| d["code"] == "BKP001"));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A server whose reparses of changed texts below `hold_below` wait for the change to that version
/// (`DISTSYS_REVIEW_HOLD_REPARSES`, a test hook: a slow reparse without timing), with `main.rs` open and its
/// diagnostics (version 1) read. No workspace folder: no index build, whose refresh would analyse too.
fn serving_with_slow_reparses(
    dir: &TempDir,
    hold_below: &str,
    envs: &[(&str, &str)],
) -> (LspClient, String) {
    let mut envs = envs.to_vec();
    envs.push(("DISTSYS_REVIEW_HOLD_REPARSES", hold_below));
    let mut client = LspClient::spawn_binary(
        std::path::Path::new(env!("CARGO_BIN_EXE_distsys-review")),
        dir.path(),
        &[],
        &envs,
    );
    client.initialize(json!({
        "processId": null,
        "capabilities": {"general": {"positionEncodings": ["utf-16"]}},
    }));
    let uri = dir.uri("main.rs");
    client.open(&uri, "rust", 1, MAIN);
    let opened = client.diagnostics(&uri, Some(1));
    assert!(opened.iter().any(|d| d["code"] == "BKP001"), "{opened:?}");
    (client, uri)
}

/// Every `publishDiagnostics` for `uri` received and not taken yet, in arrival order: (version, diagnostics).
fn publications(client: &mut LspClient, uri: &str) -> Vec<(i64, Vec<Value>)> {
    let mut all = Vec::new();
    while let Some(message) = client.try_wait_for(Duration::from_millis(0), &|m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
    }) {
        all.push((
            message["params"]["version"].as_i64().unwrap_or(-1),
            message["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        ));
    }
    all
}

/// Codes and ranges of diagnostics, to compare publications.
fn code_ranges(diagnostics: &[Value]) -> Vec<Value> {
    diagnostics
        .iter()
        .map(|d| json!({"code": d["code"], "range": d["range"]}))
        .collect()
}

/// Line 3 alternates between a bounded channel (no finding) and an unbounded one (BKP001).
fn channel_change(unbounded: bool) -> Value {
    let line = if unbounded {
        "    let (tx, rx) = mpsc::unbounded_channel::<u8>();"
    } else {
        "    let (tx, rx) = mpsc::channel::<u8>(16);"
    };
    json!([{"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 200}}, "text": line}])
}

/// The reparse runs off the message loop, and changes that come in while it runs fold into one parse of the
/// latest text: the parse of version 2 is held until the change to version 5 is applied, so versions 3 and 4
/// are never parsed (at most two parses after the open's, not four), and the document ends on version 5's own
/// diagnostics, with no publication of an older version after a newer one.
#[test]
fn changes_during_a_slow_reparse_fold_into_one_parse_of_the_latest_text() {
    let dir = TempDir::new("fold");
    let (mut client, uri) = serving_with_slow_reparses(&dir, "5", &[]);
    let opened = client.document_status(&uri)["reparses"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(opened, 1, "the open's parse");
    for version in 2..=5 {
        client.change(&uri, version, channel_change(version % 2 == 1));
    }
    let last = client.diagnostics(&uri, Some(5));
    assert!(last.iter().any(|d| d["code"] == "BKP001"), "{last:?}");
    let state = client.document_status(&uri);
    assert_eq!(state["analyzedVersion"], 5, "{state}");
    // Two when version 2's parse started before the next changes came (it is held, they fold into one parse of
    // version 5's text); one when the reparse task started only after all of them (the machine busy), and
    // parsed version 5's text directly. Three or four would mean versions 3 and 4 were parsed.
    let parses = state["reparses"].as_u64().unwrap_or(0) - opened;
    assert!(
        (1..=2).contains(&parses),
        "at most version 2's held parse, then one of version 5's text: {parses} parses, {state}"
    );
    let earlier = publications(&mut client, &uri);
    assert!(
        earlier.iter().all(|(version, _)| *version < 5),
        "{earlier:?}"
    );
    std::thread::sleep(Duration::from_millis(400));
    let late = publications(&mut client, &uri);
    assert!(late.iter().all(|(version, _)| *version == 5), "{late:?}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// Version 2: a comment line put above the channel of version 1; its first diagnostics hold BKP001 moved down
/// a line (to line 4), whichever analysis published them; returned.
fn comment_line_above_moves_the_finding(client: &mut LspClient, uri: &str) -> Vec<Value> {
    client.change(
        uri,
        2,
        json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// note\n"}]),
    );
    let moved = client.diagnostics(uri, Some(2));
    assert!(
        moved
            .iter()
            .any(|d| d["code"] == "BKP001" && d["range"]["start"]["line"] == 4),
        "the previous finding moved down a line: {moved:?}"
    );
    moved
}

/// While a change's reparse is slow, the edit budget publishes the previous analysis moved to the new text
/// (provisional, never waiting for the parse); the next change supersedes it, and the versions published never
/// go back: the document ends on the last version's own diagnostics, the same as a fresh open of its text.
#[test]
fn a_slow_reparse_publishes_the_moved_analysis_and_versions_never_go_back() {
    let dir = TempDir::new("slow-reparse");
    let (mut client, uri) =
        serving_with_slow_reparses(&dir, "3", &[("DISTSYS_REVIEW_EDIT_BUDGET_MS", "1")]);
    // A comment line above: the finding moves down a line; version 2's parse waits for version 3.
    comment_line_above_moves_the_finding(&mut client, &uri);
    let state = client.document_status(&uri);
    assert_eq!(state["analyzedVersion"], 2, "{state}");
    assert_eq!(state["analyzedProvisional"], true, "{state}");
    // Line 4 (the channel, moved) becomes bounded: no finding.
    client.change(
        &uri,
        3,
        json!([{"range": {"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 200}}, "text": "    let (tx, rx) = mpsc::channel::<u8>(16);"}]),
    );
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let state = client.document_status(&uri);
        if state["analyzedVersion"] == 3 && state["analyzedProvisional"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "{state}\n{}", client.stderr());
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(400));
    let published = publications(&mut client, &uri);
    let versions: Vec<i64> = published.iter().map(|(version, _)| *version).collect();
    assert!(
        versions.windows(2).all(|w| w[0] <= w[1]) && versions.last() == Some(&3),
        "{versions:?}"
    );
    let text = client.document_state(&uri)["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let fresh = dir.uri("fresh.rs");
    client.open(&fresh, "rust", 1, &text);
    let expected = client.diagnostics(&fresh, Some(1));
    let last = &published.last().expect("a publication").1;
    assert_eq!(code_ranges(last), code_ranges(&expected));
    assert!(!last.iter().any(|d| d["code"] == "BKP001"), "{last:?}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// After a pause longer than the confirming pass' wait (300 ms) an edit's analysis is predicted late (cold
/// caches, a relink may make it read the whole file): the change's handler publishes the previous analysis
/// moved to the new version at once (`provisionals` counts it), and the version's own analysis follows and
/// replaces it; no publication of an older version comes after a newer one, and the last equals a fresh open
/// of the same text. No timed assertion: the pause only triggers the prediction.
#[test]
fn an_edit_after_a_pause_is_moved_at_once_and_its_own_analysis_replaces_it() {
    let dir = TempDir::new("pause");
    // A hold below version 0 holds nothing.
    let (mut client, uri) =
        serving_with_slow_reparses(&dir, "0", &[("DISTSYS_REVIEW_EDIT_BUDGET_MS", "3")]);
    let before = client.document_status(&uri)["provisionals"]
        .as_u64()
        .unwrap_or(0);
    std::thread::sleep(Duration::from_millis(400));
    // A comment line above: the finding moves down a line.
    let first = comment_line_above_moves_the_finding(&mut client, &uri);
    let state = client.document_status(&uri);
    assert!(
        state["provisionals"].as_u64().unwrap_or(0) > before,
        "the moved analysis was published at once: {state}"
    );
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let state = client.document_status(&uri);
        if state["analyzedVersion"] == 2 && state["analyzedProvisional"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "{state}\n{}", client.stderr());
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(400));
    let published = publications(&mut client, &uri);
    let versions: Vec<i64> = published.iter().map(|(version, _)| *version).collect();
    assert!(
        versions.windows(2).all(|w| w[0] <= w[1]) && versions.last().is_none_or(|v| *v == 2),
        "{versions:?}"
    );
    let text = client.document_state(&uri)["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let fresh = dir.uri("fresh.rs");
    client.open(&fresh, "rust", 1, &text);
    let expected = client.diagnostics(&fresh, Some(1));
    let last = published
        .last()
        .map_or(&first, |(_, diagnostics)| diagnostics);
    assert_eq!(code_ranges(last), code_ranges(&expected));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A pause after a function was renamed lets the server take the document's text into the workspace index,
/// which is then linked anew (the file's declarations changed) — but nothing the document's own analysis reads
/// of the index changed (its view leaves its own entries out), so its incremental cache is kept: the next
/// keystroke analyses its own function's slice, not the whole file again (`documentState`'s
/// `analyzedBytes`). No timed assertion: the pause only lets the reindex run.
#[test]
fn a_pause_whose_relink_changed_nothing_the_document_reads_keeps_its_slices() {
    let dir = TempDir::new("relink");
    // Many small functions after MAIN's: a slice is a small part of the file. On disk, as an editor's files
    // are: the workspace index holds it from the start (a file added to the index moves every view of it).
    let helpers: String = (0..40)
        .map(|i| format!("\nfn helper{i}(n: u32) -> u32 {{\n    let doubled = n * 2;\n    doubled + {i}\n}}\n"))
        .collect();
    let text = format!("{MAIN}{helpers}");
    dir.write("main.rs", &text);
    let mut client = LspClient::spawn(dir.path());
    client.initialize(init_params(&dir));
    let uri = dir.uri("main.rs");
    client.open(&uri, "rust", 2, &text);
    client.diagnostics(&uri, Some(2));
    let wait_final = |client: &mut LspClient, version: i64| {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let state = client.document_status(&uri);
            if state["analyzedVersion"] == version && state["analyzedProvisional"] == false {
                return state;
            }
            assert!(Instant::now() < deadline, "{state}\n{}", client.stderr());
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    wait_final(&mut client, 2);
    // The workspace index is built in the background: let it arrive (its first generation is a new view).
    std::thread::sleep(Duration::from_millis(500));
    // Rename `helper0` (nothing calls it), on line 6: `fn helper0(` becomes `fn helper0x(`.
    client.change(
        &uri,
        3,
        json!([{"range": {"start": {"line": 6, "character": 10}, "end": {"line": 6, "character": 10}}, "text": "x"}]),
    );
    wait_final(&mut client, 3);
    // The reindex (300 ms after the last edit) and the confirming pass run in this pause.
    std::thread::sleep(Duration::from_millis(900));
    // A letter in the last helper's body.
    let lines = text.lines().count() as u64;
    client.change(
        &uri,
        4,
        json!([{"range": {"start": {"line": lines - 2, "character": 4}, "end": {"line": lines - 2, "character": 4}}, "text": "1 + "}]),
    );
    let state = wait_final(&mut client, 4);
    let analysed = state["analyzedBytes"].as_u64().unwrap_or(u64::MAX);
    assert!(
        state["analyzedWholeFile"] == false && analysed < text.len() as u64 / 4,
        "the edit after the relink analysed {analysed} of {} bytes: {state}\n{}",
        text.len(),
        client.stderr()
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// Edits that supersede a running analysis stop it (cooperative cancellation): it is counted, never stored or
/// published, and the document ends on the final version's own diagnostics. Deterministic: the server holds
/// its first four analyses (versions 1 to 4) (`DISTSYS_REVIEW_HOLD_ANALYSES`, a test hook) until the next change supersedes
/// each, and the client sends that change only once the server says the analysis has started.
#[test]
fn superseded_analyses_are_cancelled_and_the_last_version_is_published() {
    let dir = TempDir::new("cancel");
    let mut client = LspClient::spawn_binary(
        std::path::Path::new(env!("CARGO_BIN_EXE_distsys-review")),
        dir.path(),
        &[],
        &[("DISTSYS_REVIEW_HOLD_ANALYSES", "4")],
    );
    // No workspace folder: no index build, whose refresh of the open documents would be analysed (and held or
    // cancelled) too.
    client.initialize(json!({
        "processId": null,
        "capabilities": {"general": {"positionEncodings": ["utf-16"]}},
    }));
    let uri = dir.uri("main.rs");
    let status = |client: &mut LspClient, what: &str, until: &dyn Fn(u64, u64) -> bool| {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let state = client.document_status(&uri);
            let (analyses, cancelled) = (
                state["analyses"].as_u64().unwrap_or(0),
                state["cancelled"].as_u64().unwrap_or(0),
            );
            if until(analyses, cancelled) {
                return (analyses, cancelled);
            }
            assert!(
                Instant::now() < deadline,
                "{what}: {state}\nstderr:\n{}",
                client.stderr()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    client.open(&uri, "rust", 1, MAIN);
    status(&mut client, "the open's analysis started", &|a, _| a >= 1);
    // Line 3 alternates between a bounded channel (no finding) and an unbounded one (BKP001).
    let line_end = json!({"line": 3, "character": 200});
    let bounded = "    let (tx, rx) = mpsc::channel::<u8>(16);";
    let unbounded = "    let (tx, rx) = mpsc::unbounded_channel::<u8>();";
    for (version, line) in [(2, bounded), (3, unbounded), (4, bounded), (5, unbounded)] {
        client.change(
            &uri,
            version,
            json!([{"range": {"start": {"line": 3, "character": 0}, "end": line_end}, "text": line}]),
        );
        if version < 5 {
            // The held analysis of the version before is cancelled, and this version's has started.
            let cancelled = (version - 1) as u64;
            status(&mut client, &format!("version {version}"), &|a, c| {
                c >= cancelled && a > cancelled
            });
        }
    }
    // The first publication for the document is the final version's: no cancelled analysis was published.
    let first = client.wait_for("the first diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str()
    });
    assert_eq!(first["params"]["version"], 5, "{first}");
    let diagnostics = first["params"]["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        diagnostics.iter().any(|d| d["code"] == "BKP001"),
        "{diagnostics:?}"
    );
    let (analyses, cancelled) = status(&mut client, "final", &|_, _| true);
    assert_eq!(cancelled, 4, "only the held analyses were cancelled");
    assert!(analyses >= 5, "{analyses}");
    let state = client.document_status(&uri);
    assert_eq!(state["analyzedVersion"], 5, "{state}");
    assert!(!state["analyzedProvisional"].as_bool().unwrap_or(true));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
