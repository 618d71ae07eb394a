//! A small LSP client for driving the real `distsys-review lsp` binary over stdio: Content-Length framing,
//! request/response matching, capture of notifications and server requests, with timeouts everywhere.
//!
//! Server requests (`client/registerCapability`, `window/workDoneProgress/create`, `workspace/configuration`)
//! are answered by the reader thread at once, like an editor does, and recorded for the test to inspect.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Generous: the debug binary on a loaded 2-core machine.
pub const TIMEOUT: Duration = Duration::from_secs(60);

pub struct LspClient {
    child: Child,
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    incoming: Receiver<Value>,
    /// Messages received and not yet taken by a `wait_*`.
    backlog: Vec<Value>,
    next_id: i64,
    /// Requests the server sent us (already answered).
    pub server_requests: Arc<Mutex<Vec<Value>>>,
    /// What `workspace/configuration` answers with.
    pub configuration: Arc<Mutex<Value>>,
    pub stderr: Arc<Mutex<String>>,
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .expect("server header is `Name: value`");
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .expect("numeric Content-Length"),
            );
        }
    }
    let mut body = vec![0; length.expect("server frame has Content-Length")];
    reader.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).expect("server sends JSON"))
}

impl LspClient {
    pub fn spawn(workdir: &Path) -> Self {
        Self::spawn_with(workdir, &[])
    }

    pub fn spawn_with(workdir: &Path, extra_args: &[&str]) -> Self {
        Self::spawn_binary(
            Path::new(env!("CARGO_BIN_EXE_distsys-review")),
            workdir,
            extra_args,
            &[],
        )
    }

    /// Another build of the server (a benchmark comparing two in one run), with extra environment variables.
    /// Provisional results (`DISTSYS_REVIEW_EDIT_BUDGET_MS`, crates/dsr-lsp/src/budget.rs) are off unless `envs`
    /// turns them on: the tests check each version's final diagnostics.
    pub fn spawn_binary(
        binary: &Path,
        workdir: &Path,
        extra_args: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let mut child = Command::new(binary)
            .env("DISTSYS_REVIEW_EDIT_BUDGET_MS", "0")
            .env("DISTSYS_REVIEW_LOG", "info")
            .envs(envs.iter().copied())
            .arg("lsp")
            .args(extra_args)
            .current_dir(workdir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the distsys-review binary starts");
        let stdin = Arc::new(Mutex::new(child.stdin.take()));
        let stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let (tx, incoming) = mpsc::channel();
        let server_requests = Arc::new(Mutex::new(Vec::new()));
        let configuration = Arc::new(Mutex::new(Value::Null));
        {
            let stdin = stdin.clone();
            let server_requests = server_requests.clone();
            let configuration = configuration.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stdout);
                while let Some(message) = read_message(&mut reader) {
                    let is_server_request =
                        message.get("method").is_some() && message.get("id").is_some();
                    if is_server_request {
                        let result = match message["method"].as_str() {
                            Some("workspace/configuration") => {
                                let items =
                                    message["params"]["items"].as_array().map_or(0, Vec::len);
                                Value::Array(vec![configuration.lock().unwrap().clone(); items])
                            }
                            _ => Value::Null,
                        };
                        let reply =
                            json!({"jsonrpc": "2.0", "id": message["id"], "result": result});
                        if let Some(stdin) = stdin.lock().unwrap().as_mut() {
                            let _ = stdin.write_all(&frame(reply.to_string().as_bytes()));
                            let _ = stdin.flush();
                        }
                        server_requests.lock().unwrap().push(message.clone());
                    }
                    if tx.send(message).is_err() {
                        break;
                    }
                }
            });
        }
        Self {
            child,
            stdin,
            incoming,
            backlog: Vec::new(),
            next_id: 1,
            server_requests,
            configuration,
            stderr,
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let mut stdin = self.stdin.lock().unwrap();
        let stdin = stdin.as_mut().expect("stdin not closed");
        stdin.write_all(bytes).expect("server stdin open");
        stdin.flush().unwrap();
    }

    pub fn send(&mut self, message: &Value) {
        self.send_raw(&frame(message.to_string().as_bytes()));
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its id without waiting.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Sends a request and waits for its whole response message (`result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(&json!(id))
    }

    /// The `result` of a request, panicking on an error response.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    pub fn response(&mut self, id: &Value) -> Value {
        self.wait_for(&format!("the response to request {id}"), |m| {
            m.get("method").is_none() && &m["id"] == id
        })
    }

    /// Waits for a message matching `predicate` (also looking at messages received earlier and not taken).
    pub fn wait_for(&mut self, what: &str, predicate: impl Fn(&Value) -> bool) -> Value {
        self.try_wait_for(TIMEOUT, &predicate)
            .unwrap_or_else(|| panic!("timed out waiting for {what}; stderr:\n{}", self.stderr()))
    }

    pub fn try_wait_for(
        &mut self,
        timeout: Duration,
        predicate: &dyn Fn(&Value) -> bool,
    ) -> Option<Value> {
        if let Some(i) = self.backlog.iter().position(predicate) {
            return Some(self.backlog.remove(i));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(message) if predicate(&message) => return Some(message),
                Ok(message) => self.backlog.push(message),
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its output; stderr:\n{}", self.stderr())
                }
            }
        }
    }

    pub fn notification(&mut self, method: &str) -> Value {
        let m = method.to_string();
        self.wait_for(method, move |msg| {
            msg["method"] == m.as_str() && msg.get("id").is_none()
        })["params"]
            .clone()
    }

    /// The next `publishDiagnostics` for `uri` whose version is `version` (`None`: unversioned).
    pub fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Vec<Value> {
        self.diagnostics_settled(uri, version, |_| true)
    }

    /// The first `publishDiagnostics` for `uri` at `version` whose diagnostics `settled` accepts, passing over
    /// earlier ones: after a configuration change, a publish of the old state (an open document is re-published
    /// when the workspace index moves on) may still be on its way.
    pub fn diagnostics_settled(
        &mut self,
        uri: &str,
        version: Option<i64>,
        settled: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let (uri_owned, want) = (
            uri.to_string(),
            version.map(Value::from).unwrap_or(Value::Null),
        );
        let message = self.wait_for(
            &format!("settled diagnostics for {uri} version {version:?}"),
            move |m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == uri_owned.as_str()
                    && m["params"].get("version").unwrap_or(&Value::Null) == &want
                    && settled(
                        m["params"]["diagnostics"]
                            .as_array()
                            .map_or(&[][..], Vec::as_slice),
                    )
            },
        );
        message["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Drops everything received so far.
    pub fn drain(&mut self) {
        self.backlog.clear();
        while self.incoming.try_recv().is_ok() {}
    }

    pub fn initialize(&mut self, params: Value) -> Value {
        let result = self.call("initialize", params);
        self.notify("initialized", json!({}));
        result
    }

    pub fn open(&mut self, uri: &str, language: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": version, "text": text}}),
        );
    }

    pub fn change(&mut self, uri: &str, version: i64, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        );
    }

    pub fn document_state(&mut self, uri: &str) -> Value {
        self.call(
            "distsys-review/documentState",
            json!({"textDocument": {"uri": uri}}),
        )
    }

    /// `documentState` without the text (`"text": false`): what a client polling after each edit asks.
    pub fn document_status(&mut self, uri: &str) -> Value {
        self.call(
            "distsys-review/documentState",
            json!({"textDocument": {"uri": uri}, "text": false}),
        )
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn close_stdin(&mut self) {
        self.stdin.lock().unwrap().take();
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn shutdown_and_exit(&mut self) -> ExitStatus {
        let response = self.request("shutdown", Value::Null);
        assert_eq!(response["result"], Value::Null, "{response}");
        self.notify("exit", Value::Null);
        self.wait_exit(TIMEOUT)
            .expect("the server exits after `exit`")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// LSP position → byte offset in `text` (lines end at `\n`; test texts have no `\r`).
pub fn offset(text: &str, line: u64, character: u64, utf16: bool) -> usize {
    let mut start = 0;
    for _ in 0..line {
        start += text[start..].find('\n').expect("line exists") + 1;
    }
    let line_text = &text[start..text[start..].find('\n').map_or(text.len(), |e| start + e)];
    let mut units = 0;
    for (i, c) in line_text.char_indices() {
        if units >= character as usize {
            return start + i;
        }
        units += if utf16 { c.len_utf16() } else { c.len_utf8() };
    }
    start + line_text.len()
}

/// Applies a list of LSP `TextEdit`s (all relative to `text`) and returns the result together with the same
/// edits as `didChange` content changes, in an order where each range is still valid when it is applied.
pub fn apply_text_edits(text: &str, edits: &[Value], utf16: bool) -> (String, Value) {
    let mut resolved: Vec<(usize, usize, String, Value)> = edits
        .iter()
        .map(|e| {
            let r = &e["range"];
            let start = offset(
                text,
                r["start"]["line"].as_u64().unwrap(),
                r["start"]["character"].as_u64().unwrap(),
                utf16,
            );
            let end = offset(
                text,
                r["end"]["line"].as_u64().unwrap(),
                r["end"]["character"].as_u64().unwrap(),
                utf16,
            );
            (
                start,
                end,
                e["newText"].as_str().unwrap().to_string(),
                r.clone(),
            )
        })
        .collect();
    resolved.sort_by_key(|(start, end, ..)| std::cmp::Reverse((*start, *end)));
    let mut out = text.to_string();
    let mut changes = Vec::new();
    for (start, end, new_text, range) in resolved {
        out.replace_range(start..end, &new_text);
        changes.push(json!({"range": range, "text": new_text}));
    }
    (out, Value::Array(changes))
}

/// The edits of a code action's `WorkspaceEdit` for `uri` (`changes` or `documentChanges`).
pub fn workspace_edits(edit: &Value, uri: &str) -> Vec<Value> {
    if let Some(edits) = edit["changes"][uri].as_array() {
        return edits.clone();
    }
    edit["documentChanges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|change| change["textDocument"]["uri"] == uri)
        .flat_map(|change| change["edits"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// A temporary folder removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("dsr-lsp-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Canonical, so that file URIs the server builds match the ones the test builds.
        Self(dir.canonicalize().unwrap())
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> std::path::PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn uri(&self, relative: &str) -> String {
        format!("file://{}", self.0.join(relative).display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
