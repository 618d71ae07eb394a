//! End-to-end tests of `distsys-review lsp`: the real binary over stdio, driven by a small LSP client.

mod lsp_client;

use std::time::Duration;

use lsp_client::{apply_text_edits, workspace_edits, LspClient, TempDir};
use serde_json::{json, Value};

fn utf16_capabilities() -> Value {
    json!({
        "general": {"positionEncodings": ["utf-16"]},
        "textDocument": {
            "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "source"]}}},
            "publishDiagnostics": {"relatedInformation": true, "tagSupport": {"valueSet": [1, 2]}}
        },
        "workspace": {"workspaceEdit": {"documentChanges": true}}
    })
}

fn init_params(dir: &TempDir, capabilities: Value, options: Value) -> Value {
    json!({
        "processId": null,
        "clientInfo": {"name": "dsr-test-client"},
        "capabilities": capabilities,
        "workspaceFolders": [{"uri": dir.uri(""), "name": "ws"}],
        "initializationOptions": options,
    })
}

/// The UTF-16 column of the first `needle` on `line`.
fn col16(line: &str, needle: &str) -> u64 {
    line[..line.find(needle).expect("needle on line")]
        .encode_utf16()
        .count() as u64
}

fn code(diagnostic: &Value) -> &str {
    diagnostic["code"].as_str().unwrap_or_default()
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics.iter().map(code).collect()
}

fn action<'a>(actions: &'a Value, title_start: &str) -> &'a Value {
    actions
        .as_array()
        .expect("code actions")
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.starts_with(title_start))
        })
        .unwrap_or_else(|| panic!("no action starting `{title_start}` in {actions:#}"))
}

const CHANNEL_LINE: &str =
    "    let greeting = \"😀 hi\"; let (tx, rx) = mpsc::unbounded_channel::<u8>();";
const STALE_LINE: &str =
    "    let label = \"😀\"; // distsys-review: ignore[BKP001] the channel moved elsewhere";

fn channel_source() -> String {
    format!("use tokio::sync::mpsc;\n\nfn start() {{\n{CHANNEL_LINE}\n{STALE_LINE}\n}}\n")
}

#[test]
fn diagnostics_hover_code_actions_and_close() {
    let dir = TempDir::new("e2e");
    let mut client = LspClient::spawn(dir.path());
    let result = client.initialize(init_params(&dir, utf16_capabilities(), Value::Null));
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(result["capabilities"]["textDocumentSync"]["change"], 2);
    let uri = dir.uri("src/main.rs");
    let mut text = channel_source();
    client.open(&uri, "rust", 1, &text);

    let diagnostics = client.diagnostics(&uri, Some(1));
    assert_eq!(
        codes(&diagnostics),
        ["BKP001", "DSR001"],
        "{diagnostics:#?}"
    );
    let channel = &diagnostics[0];
    let start = col16(CHANNEL_LINE, "mpsc::unbounded");
    assert_eq!(
        channel["range"],
        json!({"start": {"line": 3, "character": start},
               "end": {"line": 3, "character": start + "mpsc::unbounded_channel::<u8>".len() as u64}})
    );
    assert_eq!(channel["severity"], 2);
    assert_eq!(channel["source"], "distsys-review");
    assert!(channel["codeDescription"]["href"]
        .as_str()
        .unwrap()
        .ends_with("/docs/rules/BKP001.md"));
    let message = channel["message"].as_str().unwrap();
    assert!(
        message
            .starts_with("`tokio::sync::mpsc::unbounded_channel` queues without limit\ntrigger: "),
        "{message}"
    );
    assert_eq!(
        channel["relatedInformation"][0]["message"],
        "unbounded channel created here"
    );
    let stale = &diagnostics[1];
    let directive = col16(STALE_LINE, "distsys-review:");
    assert_eq!(
        stale["range"]["start"],
        json!({"line": 4, "character": directive})
    );
    assert_eq!(stale["severity"], 4, "unused suppressions are hints");
    assert_eq!(stale["tags"], json!([1]), "with the Unnecessary tag");

    // Hover inside the finding's range: the review template and the rule's reasoning; elsewhere nothing.
    let hover = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": start + 4}}),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    for part in [
        "BKP001",
        "**Severity:** Medium",
        "**Impact:** availability",
        "**Trigger:**",
        "**Expected:**",
        "**Actual:**",
        "**Evidence:**",
        "**Fix** (advice)",
        "**Confidence:** high",
        "**Why it matters:**",
    ] {
        assert!(markdown.contains(part), "hover lacks {part}:\n{markdown}");
    }
    assert_eq!(hover["contents"]["kind"], "markdown");
    assert_eq!(hover["range"], channel["range"]);
    let nothing = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 2}}),
    );
    assert_eq!(nothing, Value::Null);

    // The unused suppression's fix, from the diagnostic's data, applied as the client would.
    let actions = client.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": stale["range"], "context": {"diagnostics": [stale]}}),
    );
    let remove = action(&actions, "Remove the unused suppression");
    assert_eq!(remove["kind"], "quickfix");
    assert_eq!(remove["isPreferred"], true);
    assert_eq!(
        remove["edit"]["documentChanges"][0]["textDocument"]["version"],
        1
    );
    let (fixed, changes) = apply_text_edits(&text, &workspace_edits(&remove["edit"], &uri), true);
    assert!(fixed.contains("    let label = \"😀\";\n}"), "{fixed}");
    text = fixed;
    client.change(&uri, 2, changes);
    let diagnostics = client.diagnostics(&uri, Some(2));
    assert_eq!(codes(&diagnostics), ["BKP001"]);
    assert_eq!(client.document_state(&uri)["text"], text.as_str());

    // Suppressing the remaining finding on its line.
    let actions = client.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": diagnostics[0]["range"], "context": {"diagnostics": [diagnostics[0]]}}),
    );
    action(&actions, "Suppress BKP001 in this file");
    let suppress = action(&actions, "Suppress BKP001 on this line (reason: …)");
    let (suppressed, changes) =
        apply_text_edits(&text, &workspace_edits(&suppress["edit"], &uri), true);
    assert!(
        suppressed.contains(&format!(
            "    // distsys-review: ignore[BKP001] <reason>\n{CHANNEL_LINE}"
        )),
        "{suppressed}"
    );
    client.change(&uri, 3, changes);
    assert_eq!(client.diagnostics(&uri, Some(3)), Vec::<Value>::new());

    // Closing clears the document's diagnostics.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(client.diagnostics(&uri, None), Vec::<Value>::new());
    assert_eq!(client.document_state(&uri), Value::Null);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn utf8_is_used_when_the_client_offers_it() {
    let dir = TempDir::new("utf8");
    let mut client = LspClient::spawn(dir.path());
    let capabilities = json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}});
    let result = client.initialize(init_params(&dir, capabilities, Value::Null));
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    let uri = dir.uri("a.rs");
    let text = channel_source();
    client.open(&uri, "rust", 1, &text);
    let diagnostics = client.diagnostics(&uri, Some(1));
    let byte_column = CHANNEL_LINE.find("mpsc::unbounded").unwrap() as u64;
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({"line": 3, "character": byte_column})
    );
    // An edit in UTF-8 columns: insert right after the emoji (4 bytes).
    let after_emoji = CHANNEL_LINE.find("😀").unwrap() as u64 + 4;
    client.change(
        &uri,
        2,
        json!([{"range": {"start": {"line": 3, "character": after_emoji}, "end": {"line": 3, "character": after_emoji}}, "text": "!"}]),
    );
    let state = client.document_state(&uri);
    assert!(
        state["text"].as_str().unwrap().contains("\"😀! hi\""),
        "{state}"
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn incremental_and_full_text_changes() {
    let dir = TempDir::new("changes");
    let mut client = LspClient::spawn(dir.path());
    client.initialize(init_params(&dir, utf16_capabilities(), Value::Null));
    let uri = dir.uri("lib.rs");
    client.open(&uri, "rust", 1, "fn a() {}\n");
    // Several changes in one notification, each relative to the text the previous one left.
    client.change(
        &uri,
        2,
        json!([
            {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// x\n"},
            {"range": {"start": {"line": 1, "character": 3}, "end": {"line": 1, "character": 4}}, "text": "b"},
            {"range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}}, "text": "😀"},
            {"range": {"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 3}}, "text": ""}
        ]),
    );
    let state = client.document_state(&uri);
    assert_eq!(state["text"], "// x\n😀n b() {}\n");
    assert_eq!(state["version"], 2);
    // A full-text change, then an incremental one in the same notification.
    client.change(
        &uri,
        3,
        json!([
            {"text": "use tokio::sync::mpsc;\nfn f() { mpsc::unbounded_channel::<u8>(); }\n"},
            {"range": {"start": {"line": 1, "character": 3}, "end": {"line": 1, "character": 4}}, "text": "g"}
        ]),
    );
    let state = client.document_state(&uri);
    assert_eq!(
        state["text"],
        "use tokio::sync::mpsc;\nfn g() { mpsc::unbounded_channel::<u8>(); }\n"
    );
    let diagnostics = client.diagnostics(&uri, Some(3));
    assert_eq!(codes(&diagnostics), ["BKP001"]);
    // Deleting the call removes the finding.
    client.change(
        &uri,
        4,
        json!([{"range": {"start": {"line": 1, "character": 9}, "end": {"line": 1, "character": 41}}, "text": ""}]),
    );
    assert_eq!(
        client.document_state(&uri)["text"],
        "use tokio::sync::mpsc;\nfn g() {  }\n"
    );
    assert_eq!(client.diagnostics(&uri, Some(4)), Vec::<Value>::new());
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// DESIGN §9: the framework runs handlers concurrently; edits must still apply in the order sent. Thousands of
/// pipelined one-character changes with requests interleaved in the same stream: each request must see exactly
/// the text and version of the changes sent before it.
#[test]
fn pipelined_changes_apply_in_order() {
    const EDITS: usize = 5_000;
    const CHECK_EVERY: usize = 250;
    let dir = TempDir::new("order");
    let mut client = LspClient::spawn(dir.path());
    client.initialize(init_params(&dir, utf16_capabilities(), Value::Null));
    let uri = dir.uri("main.rs");
    let initial = "fn main() {}\n";
    client.open(&uri, "rust", 1, initial);
    let mut expected = String::new();
    let mut batch = Vec::new();
    let mut checks = Vec::new();
    for i in 0..EDITS {
        // Alternate appending and inserting at the front of the growing line, so any reordering shows.
        let ch = char::from(b'a' + (i % 26) as u8);
        let column = if i % 3 == 0 {
            0
        } else {
            expected.encode_utf16().count()
        };
        let position = json!({"line": 1, "character": column});
        if column == 0 {
            expected.insert(0, ch);
        } else {
            expected.push(ch);
        }
        let message = json!({
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": uri, "version": i + 2},
                "contentChanges": [{"range": {"start": position, "end": position}, "text": ch.to_string()}]
            }
        });
        batch.extend(lsp_client::frame(message.to_string().as_bytes()));
        if (i + 1) % CHECK_EVERY == 0 {
            let id = 100_000 + i as i64;
            let request = json!({"jsonrpc": "2.0", "id": id, "method": "distsys-review/documentState",
                                 "params": {"textDocument": {"uri": uri}}});
            batch.extend(lsp_client::frame(request.to_string().as_bytes()));
            checks.push((id, i as i64 + 2, format!("{initial}{expected}")));
        }
    }
    client.send_raw(&batch);
    let hover_id = client.send_request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    for (id, version, text) in checks {
        let state = client.response(&json!(id))["result"].clone();
        assert_eq!(
            state["version"], version,
            "request {id} saw the wrong version"
        );
        assert_eq!(
            state["text"].as_str().unwrap(),
            text,
            "request {id} saw the wrong text"
        );
        assert_eq!(state["desynced"], false);
    }
    assert_eq!(client.response(&json!(hover_id))["result"], Value::Null);
    let state = client.document_state(&uri);
    assert_eq!(state["version"], EDITS as i64 + 1);
    // The last diagnostics published are for the last version.
    client.diagnostics(&uri, Some(EDITS as i64 + 1));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

fn error_with(client: &mut LspClient, code: i64, id: Value) -> String {
    let message = client.wait_for(&format!("an error {code} for id {id}"), |m| {
        m["error"]["code"] == code && m["id"] == id
    });
    message["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn bad_input_is_answered_and_the_server_stays_up() {
    let dir = TempDir::new("bad");
    let mut client = LspClient::spawn(dir.path());
    // Before initialize: "server not initialized".
    let early = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///x.rs"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(early["error"]["code"], -32002, "{early}");
    client.initialize(init_params(&dir, utf16_capabilities(), Value::Null));

    // Each bad frame is followed by a good request, which must still be answered: after a header block with no
    // usable length the server skips to the next `Content-Length`.
    let cases: [(&[u8], i64, Value, &str); 5] = [
        (
            b"Content-Length: abc\r\n\r\n{\"jsonrpc\":\"2.0\"}",
            -32700,
            Value::Null,
            "invalid Content-Length",
        ),
        (
            b"Content-Type: text/plain\r\n\r\n{}",
            -32700,
            Value::Null,
            "missing Content-Length",
        ),
        (
            &lsp_client::frame(b"{\"jsonrpc\": \"2.0\", \"method\": "),
            -32700,
            Value::Null,
            "not valid JSON",
        ),
        (
            &lsp_client::frame(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\xff\"}"),
            -32700,
            Value::Null,
            "not valid UTF-8",
        ),
        (
            &lsp_client::frame(br#"{"jsonrpc":"1.0","id":41,"method":"initialize"}"#),
            -32600,
            json!(41),
            "not a JSON-RPC 2.0",
        ),
    ];
    for (bytes, code, id, text) in cases {
        client.send_raw(bytes);
        let ping = client.send_request(
            "distsys-review/documentState",
            json!({"textDocument": {"uri": "file:///none.rs"}}),
        );
        let message = error_with(&mut client, code, id);
        assert!(message.contains(text), "{message}");
        assert_eq!(client.response(&json!(ping))["result"], Value::Null);
    }
    let unknown = client.request("distsys-review/noSuchMethod", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    client.notify("custom/unknownNotification", json!({"x": 1}));

    // An edit past the end: the last good text is kept, the user is told, nothing panics.
    let uri = dir.uri("a.go");
    client.open(&uri, "go", 1, "package main\n");
    client.change(
        &uri,
        2,
        json!([{"range": {"start": {"line": 9, "character": 0}, "end": {"line": 9, "character": 1}}, "text": "x"}]),
    );
    let shown = client.notification("window/showMessage");
    assert_eq!(shown["type"], 2);
    let text = shown["message"].as_str().unwrap();
    assert!(
        text.contains("could not be applied") && text.contains("reopen"),
        "{text}"
    );
    let state = client.document_state(&uri);
    assert_eq!(
        (
            state["text"].as_str(),
            state["version"].as_i64(),
            state["desynced"].as_bool()
        ),
        (Some("package main\n"), Some(1), Some(true))
    );
    // A full-text change brings the document back in sync.
    client.change(
        &uri,
        3,
        json!([{"text": "package main\n\nfunc main() {}\n"}]),
    );
    let state = client.document_state(&uri);
    assert_eq!(
        (state["version"].as_i64(), state["desynced"].as_bool()),
        (Some(3), Some(false))
    );
    client.diagnostics(&uri, Some(3));
    // A version that goes backwards is not applied.
    client.change(
        &uri,
        2,
        json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// old\n"}]),
    );
    let shown = client.notification("window/showMessage");
    assert!(
        shown["message"]
            .as_str()
            .unwrap()
            .contains("does not follow version 3"),
        "{shown}"
    );
    let state = client.document_state(&uri);
    assert_eq!(state["text"], "package main\n\nfunc main() {}\n");
    // Invalid params for a known method.
    let bad_params = client.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(bad_params["error"]["code"], -32602, "{bad_params}");
    // Still answering.
    assert_eq!(client.document_state(&uri)["version"], 3);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn workspace_scope_checks_closed_files_with_progress() {
    let dir = TempDir::new("workspace");
    dir.write(
        "src/queue.rs",
        "fn f() { let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<u8>(); }\n",
    );
    dir.write("src/broken.rs", b"fn main() { let s = \"\xff\xfe\"; }\n");
    dir.write(".gitignore", "generated/\n");
    dir.write(
        "generated/gen.rs",
        "fn g() { let (a, b) = std::sync::mpsc::channel::<u8>(); }\n",
    );
    dir.write("go/clean.go", "package main\n\nfunc main() {}\n");
    let mut client = LspClient::spawn(dir.path());
    let capabilities = json!({"window": {"workDoneProgress": true}});
    client.initialize(init_params(
        &dir,
        capabilities,
        json!({"diagnostics": {"scope": "workspace"}}),
    ));

    // The walk that checks closed files (the workspace index has a progress of its own).
    let begin = client.wait_for("progress begin", |m| {
        m["method"] == "$/progress"
            && m["params"]["value"]["kind"] == "begin"
            && m["params"]["value"]["title"]
                .as_str()
                .is_some_and(|t| t.contains("checking"))
    });
    let token = begin["params"]["token"].clone();
    assert!(client
        .server_requests
        .lock()
        .unwrap()
        .iter()
        .any(|r| r["method"] == "window/workDoneProgress/create" && r["params"]["token"] == token));
    // A second walk (the settings pulled after `initialized` start one) may begin and end in between: wait for
    // the end of the progress that began, whatever other tokens come and go.
    client.wait_for("the end of that progress", |m| {
        m["method"] == "$/progress"
            && m["params"]["value"]["kind"] == "end"
            && m["params"]["token"] == token
    });

    let queue = dir.uri("src/queue.rs");
    let diagnostics = client.diagnostics(&queue, None);
    assert_eq!(codes(&diagnostics), ["BKP001"]);
    let logged = client.wait_for("a log about the invalid file", |m| {
        m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|t| t.contains("broken.rs"))
    });
    assert!(
        logged["params"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid UTF-8"),
        "{logged}"
    );
    let generated = dir.uri("generated/gen.rs");
    assert!(
        client
            .try_wait_for(Duration::from_millis(500), &|m| m["params"]["uri"]
                == generated.as_str())
            .is_none(),
        ".gitignore'd files are not checked"
    );

    // Opened, the file gets versioned diagnostics; closed again, those from disk come back.
    let text = std::fs::read_to_string(dir.path().join("src/queue.rs")).unwrap();
    client.open(&queue, "rust", 1, &text);
    assert_eq!(codes(&client.diagnostics(&queue, Some(1))), ["BKP001"]);
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": queue}}),
    );
    assert_eq!(codes(&client.diagnostics(&queue, None)), ["BKP001"]);

    // Back to open files only: closed files' diagnostics are withdrawn.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"distsys-review": {"diagnostics": {"scope": "openFiles"}}}}),
    );
    // A publish from before the change may still be on its way; times out if they are never withdrawn.
    client.diagnostics_settled(&queue, None, <[Value]>::is_empty);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn configuration_reloads_and_a_broken_file_keeps_the_last_good_one() {
    let dir = TempDir::new("config");
    let config = dir.write("distsys-review.toml", "ignore = [\"BKP001\"]\n");
    let source = "use std::sync::mpsc;\nfn f() { let (a, b) = mpsc::channel::<u8>(); }\n";
    dir.write("src/a.rs", source);
    let mut client = LspClient::spawn(dir.path());
    let capabilities =
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    client.initialize(init_params(&dir, capabilities, Value::Null));
    let uri = dir.uri("src/a.rs");
    client.open(&uri, "rust", 1, source);
    assert!(
        client.diagnostics(&uri, Some(1)).is_empty(),
        "BKP001 is ignored by the file"
    );
    let registration = client.wait_for("the watcher registration", |m| {
        m["method"] == "client/registerCapability"
    });
    let watchers = &registration["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert_eq!(watchers[0]["globPattern"], "**/distsys-review.toml");

    let config_uri = dir.uri("distsys-review.toml");
    std::fs::write(&config, "ignore = [\"BKP001\"]\nbogus = 1\n").unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config_uri, "type": 2}]}),
    );
    let shown = client.notification("window/showMessage");
    assert_eq!(shown["type"], 1);
    let message = shown["message"].as_str().unwrap();
    assert!(
        message.contains("distsys-review.toml:2:1")
            && message.contains("bogus")
            && message.contains("keeping"),
        "{message}"
    );
    client.change(&uri, 2, json!([{"text": format!("{source}\n")}]));
    assert!(
        client.diagnostics(&uri, Some(2)).is_empty(),
        "the last good configuration still applies"
    );

    std::fs::write(&config, "select = [\"BKP\"]\n").unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config_uri, "type": 2}]}),
    );
    let diagnostics = client.diagnostics(&uri, Some(2));
    assert_eq!(codes(&diagnostics), ["BKP001"]);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_broken_configuration_at_start_is_reported_and_defaults_apply() {
    let dir = TempDir::new("broken-config");
    dir.write("distsys-review.toml", "[severity]\nBKP001 = \"urgent\"\n");
    let source = "fn f() { let (a, b) = std::sync::mpsc::channel::<u8>(); }\n";
    let mut client = LspClient::spawn(dir.path());
    client.initialize(init_params(&dir, json!({}), Value::Null));
    let uri = dir.uri("a.rs");
    client.open(&uri, "rust", 1, source);
    let shown = client.notification("window/showMessage");
    assert!(
        shown["message"]
            .as_str()
            .unwrap()
            .contains("distsys-review.toml:2:10: invalid severity `urgent`"),
        "{shown}"
    );
    assert_eq!(codes(&client.diagnostics(&uri, Some(1))), ["BKP001"]);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn client_settings_and_the_explain_command() {
    let dir = TempDir::new("settings");
    let mut client = LspClient::spawn(dir.path());
    let options =
        json!({"severity": {"medium": "error"}, "docsUrl": "https://docs.example/rules/{code}"});
    client.initialize(init_params(&dir, json!({}), options));
    let uri = dir.uri("a.rs");
    client.open(
        &uri,
        "rust",
        1,
        "fn f() { let (a, b) = std::sync::mpsc::channel::<u8>(); }\n",
    );
    let diagnostics = client.diagnostics(&uri, Some(1));
    assert_eq!(diagnostics[0]["severity"], 1);
    assert_eq!(
        diagnostics[0]["codeDescription"]["href"],
        "https://docs.example/rules/BKP001"
    );

    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"distsys-review": {"select": ["DSR"], "colour": 1}}}),
    );
    let shown = client.notification("window/showMessage");
    assert!(
        shown["message"]
            .as_str()
            .unwrap()
            .contains("unknown setting `colour`"),
        "{shown}"
    );
    // A publish from before the change may still arrive (the background index republishes open files when it
    // is built), so wait for the one that reflects the new selection.
    client.wait_for("BKP001 deselected", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri.as_str()
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(Vec::is_empty)
    });

    let page = client.call(
        "workspace/executeCommand",
        json!({"command": "distsys-review.explain", "arguments": ["bkp001"]}),
    );
    let page = page.as_str().unwrap();
    assert!(
        page.starts_with("# BKP001 unbounded-channel")
            && page.contains("## Why it fails under partial failure"),
        "{page}"
    );
    let missing = client.request(
        "workspace/executeCommand",
        json!({"command": "distsys-review.explain", "arguments": ["NOPE999"]}),
    );
    assert_eq!(missing["error"]["code"], -32602);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn fix_all_is_resolved_lazily_and_applies_every_safe_fix() {
    let dir = TempDir::new("fixall");
    let mut client = LspClient::spawn(dir.path());
    let capabilities = json!({
        "textDocument": {"codeAction": {
            "codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "source"]}},
            "dataSupport": true,
            "resolveSupport": {"properties": ["edit"]}
        }}
    });
    client.initialize(init_params(&dir, capabilities, Value::Null));
    let uri = dir.uri("main.go");
    let text = "package main\n\n// distsys-review: ignore[BKP001] old\nfunc a() {}\n\nfunc b() {} // distsys-review: ignore[BKP001] old too\n";
    client.open(&uri, "go", 1, text);
    assert_eq!(
        codes(&client.diagnostics(&uri, Some(1))),
        ["DSR001", "DSR001"]
    );
    let actions = client.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
               "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
    );
    assert_eq!(actions.as_array().unwrap().len(), 1, "{actions:#}");
    let fix_all = &actions[0];
    assert_eq!(fix_all["kind"], "source.fixAll.distsys-review");
    assert!(
        fix_all.get("edit").is_none() && fix_all.get("data").is_some(),
        "{fix_all}"
    );
    let resolved = client.call("codeAction/resolve", fix_all.clone());
    let (fixed, changes) = apply_text_edits(text, &workspace_edits(&resolved["edit"], &uri), true);
    assert_eq!(fixed, "package main\n\nfunc a() {}\n\nfunc b() {}\n");
    client.change(&uri, 2, changes);
    assert!(client.diagnostics(&uri, Some(2)).is_empty());
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn exit_codes_follow_the_specification() {
    let dir = TempDir::new("exit");
    // `exit` without `shutdown`: 1.
    let mut client = LspClient::spawn(dir.path());
    client.initialize(init_params(&dir, json!({}), Value::Null));
    client.notify("exit", Value::Null);
    assert_eq!(
        client.wait_exit(lsp_client::TIMEOUT).and_then(|s| s.code()),
        Some(1)
    );
    // Requests after `shutdown` are refused; `exit` then gives 0.
    let mut client = LspClient::spawn(dir.path());
    client.initialize(init_params(&dir, json!({}), Value::Null));
    assert_eq!(client.call("shutdown", Value::Null), Value::Null);
    let late = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///a.rs"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(late["error"]["code"], -32600, "{late}");
    client.notify("exit", Value::Null);
    assert_eq!(
        client.wait_exit(lsp_client::TIMEOUT).and_then(|s| s.code()),
        Some(0)
    );
    // The client closes stdin without a word: 1.
    let mut client = LspClient::spawn(dir.path());
    client.initialize(init_params(&dir, json!({}), Value::Null));
    client.close_stdin();
    assert_eq!(
        client.wait_exit(lsp_client::TIMEOUT).and_then(|s| s.code()),
        Some(1)
    );
}

#[test]
fn exits_when_the_client_process_dies() {
    let dir = TempDir::new("orphan");
    let mut editor = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .expect("sleep runs");
    let mut client = LspClient::spawn(dir.path());
    let mut params = init_params(&dir, json!({}), Value::Null);
    params["processId"] = json!(editor.id());
    client.initialize(params);
    assert!(
        client.wait_exit(Duration::from_millis(1500)).is_none(),
        "alive while the editor is"
    );
    editor.kill().unwrap();
    editor.wait().unwrap();
    let status = client
        .wait_exit(Duration::from_secs(30))
        .expect("the server notices the editor is gone");
    assert_eq!(status.code(), Some(1));
}

/// An edit is analysed incrementally, and where that differs from the whole file the confirming whole-file pass
/// publishes the whole-file result once edits pause. The difference used here is one the exactness test lists
/// as expected (crates/dsr-rules/tests/incremental.rs, `KNOWN`): an axios instance without a timeout is clean
/// when every request through it sets one, which only the whole file shows.
#[test]
fn a_pause_publishes_the_whole_file_result_where_slices_differ() {
    let dir = TempDir::new("confirm");
    let mut client = LspClient::spawn(dir.path());
    // Without the workspace index: once the opened text goes into it (after a pause), the open file is analysed
    // again as a whole, and on a loaded machine that publication can come first for the edited version.
    client.initialize(init_params(
        &dir,
        utf16_capabilities(),
        json!({"index": false}),
    ));
    let uri = dir.uri("client.ts");
    let mut text = "import axios from \"axios\";\n\n// Every request through it sets its own timeout.\nconst slow = axios.create({ baseURL: \"https://slow.internal\" });\n\nexport function viaSlow() {\n  return slow.get(\"/reports\", { timeout: 60_000 });\n}\n".to_string();
    // Functions unrelated to the instance, so that its slice costs less than the whole file (otherwise the edit
    // is analysed as the whole file, see docs/incremental.md, and there is no difference to confirm).
    for i in 0..60 {
        text.push_str(&format!(
            "\nexport function unrelated{i}(n: number) {{\n  return n + {i};\n}}\n"
        ));
    }
    client.open(&uri, "typescript", 1, &text);
    // A newly opened document is analysed as a whole file.
    assert_eq!(
        codes(&client.diagnostics(&uri, Some(1))),
        Vec::<&str>::new()
    );
    // An edit inside the instance's declaration re-analyses its slice, which does not hold `viaSlow`.
    let at = json!({"line": 3, "character": col16("const slow = axios.create({ baseURL: \"https://slow.internal\" });", "slow.internal") + 4});
    client.change(
        &uri,
        2,
        json!([{"range": {"start": at, "end": at}, "text": "x"}]),
    );
    assert_eq!(codes(&client.diagnostics(&uri, Some(2))), ["RES001"]);
    // Once edits pause, the whole-file result replaces it.
    assert_eq!(
        codes(&client.diagnostics(&uri, Some(2))),
        Vec::<&str>::new()
    );
    client.shutdown_and_exit();
}

/// A helper of package `example.com/shop/billing` that POSTs with no idempotency key.
const SHOP_HELPER_GO: &str = "package billing\n\nimport \"net/http\"\n\nfunc Capture(url string) error {\n\treq, _ := http.NewRequest(http.MethodPost, url, nil)\n\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn resp.Body.Close()\n}\n";
/// A retry loop around [`SHOP_HELPER_GO`]'s `Capture`, imported by its path in module `example.com/shop`.
const SHOP_CALLER_GO: &str = "package orders\n\nimport (\n\t\"time\"\n\n\t\"example.com/shop/billing\"\n)\n\nfunc Checkout(url string) error {\n\tfor attempt := 0; attempt < 3; attempt++ {\n\t\tif err := billing.Capture(url); err == nil {\n\t\t\treturn nil\n\t\t}\n\t\ttime.Sleep(time.Duration(1<<attempt) * time.Second)\n\t}\n\treturn nil\n}\n";

/// Whether `message` ends the work-done progress of the workspace index's build.
fn index_built(message: &Value) -> bool {
    message["method"] == "$/progress"
        && message["params"]["value"]["kind"] == "end"
        && message["params"]["value"]["message"]
            .as_str()
            .is_some_and(|t| t.contains("indexed"))
}

/// Whether `message` publishes diagnostics for `uri` that hold `DEL001` (`held`) or not.
fn publishes_del001(message: &Value, uri: &str, held: bool) -> bool {
    message["method"] == "textDocument/publishDiagnostics"
        && message["params"]["uri"] == uri
        && message["params"]["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| code(d) == "DEL001") == held)
}

/// A `go.mod` changed on disk (the client's file watcher tells): the module path names the caller's import,
/// so renaming the module alone (no source file touched) clears the open caller's finding that rested on the
/// helper, and renaming it back brings the finding back; no file is summarized again for it.
#[test]
fn a_changed_module_path_moves_the_index_names() {
    let dir = TempDir::new("manifest");
    let manifest = dir.write("go.mod", "module example.com/shop\n");
    dir.write("billing/gateway.go", SHOP_HELPER_GO);
    dir.write("orders/checkout.go", SHOP_CALLER_GO);
    let mut client = LspClient::spawn(dir.path());
    let capabilities = json!({
        "window": {"workDoneProgress": true},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
    });
    client.initialize(init_params(
        &dir,
        capabilities,
        json!({"select": ["DEL001"]}),
    ));
    let registration = client.wait_for("the watcher registration", |m| {
        m["method"] == "client/registerCapability"
    });
    let watchers = &registration["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert!(
        watchers
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["globPattern"] == "**/{go.mod,Cargo.toml,tsconfig.json}"),
        "{watchers}"
    );
    client.wait_for("the index built", index_built);
    let caller_uri = dir.uri("orders/checkout.go");
    client.open(&caller_uri, "go", 1, SHOP_CALLER_GO);
    client.wait_for("DEL001 in the caller", |m| {
        publishes_del001(m, caller_uri.as_str(), true)
    });
    client.drain();

    let manifest_uri = dir.uri("go.mod");
    std::fs::write(&manifest, "module example.com/store\n").unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": manifest_uri, "type": 2}]}),
    );
    client.wait_for("the caller's finding cleared", |m| {
        publishes_del001(m, caller_uri.as_str(), false)
    });
    std::fs::write(&manifest, "module example.com/shop\n").unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": manifest_uri, "type": 2}]}),
    );
    client.wait_for("the caller's finding back", |m| {
        publishes_del001(m, caller_uri.as_str(), true)
    });
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// The workspace index in the server: a retry loop in an open file around a helper in another (open) file that
/// POSTs is reported, with related information in the helper; editing the helper to send an idempotency key
/// clears the caller's finding without the caller being touched.
#[test]
fn editing_a_callee_republishes_its_open_callers() {
    let dir = TempDir::new("index");
    dir.write("go.mod", "module example.com/shop\n");
    let (helper, caller) = (SHOP_HELPER_GO, SHOP_CALLER_GO);
    dir.write("billing/gateway.go", helper);
    dir.write("orders/checkout.go", caller);
    let mut client = LspClient::spawn(dir.path());
    let capabilities = json!({"window": {"workDoneProgress": true}});
    client.initialize(init_params(
        &dir,
        capabilities,
        json!({"select": ["DEL001"]}),
    ));
    client.wait_for("the index built", index_built);
    let caller_uri = dir.uri("orders/checkout.go");
    let helper_uri = dir.uri("billing/gateway.go");
    client.open(&caller_uri, "go", 1, caller);
    let found = client.wait_for("DEL001 in the caller", |m| {
        publishes_del001(m, caller_uri.as_str(), true)
    });
    let diagnostic = found["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| code(d) == "DEL001")
        .unwrap()
        .clone();
    assert!(
        diagnostic["relatedInformation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["location"]["uri"] == helper_uri.as_str()),
        "{diagnostic}"
    );

    client.open(&helper_uri, "go", 1, helper);
    client.diagnostics(&helper_uri, Some(1));
    // Only what comes after the edit counts.
    client.drain();
    let keyed = helper.replace(
        "\tresp, err := http.DefaultClient.Do(req)",
        "\treq.Header.Set(\"Idempotency-Key\", url)\n\tresp, err := http.DefaultClient.Do(req)",
    );
    client.change(&helper_uri, 2, json!([{"text": keyed}]));
    client.wait_for("the caller's finding cleared", |m| {
        publishes_del001(m, caller_uri.as_str(), false)
    });
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
