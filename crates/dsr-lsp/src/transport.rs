//! A guard in front of tower-lsp-server's stdio framing.
//!
//! tower-lsp-server 0.23 decodes stdin with a `tokio_util` `FramedRead`, which ends the stream after the first
//! decoding error: one malformed header, a body that is not UTF-8 or not JSON, or JSON that is not a JSON-RPC
//! message makes it answer a parse error and then stop reading, so the server exits. This module reads the
//! client's frames itself, answers each bad one with a JSON-RPC error (`id: null` unless the id could be read),
//! resynchronises on the next `Content-Length` header when a header block is unusable, and passes only
//! well-formed messages on. Its own answers and the server's go out through one writer, whole frames at a time.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// Longest header line accepted.
const MAX_HEADER_LINE: usize = 8 * 1024;
/// Largest message body accepted (a didOpen of a very large file still fits).
const MAX_BODY: usize = 512 * 1024 * 1024;

/// The most room made ahead of a body's bytes.
const RESERVE_AHEAD: usize = 16 * 1024 * 1024;

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;

/// A buffered reader with the few operations framing needs, including a search that can look past one read.
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
            eof: false,
        }
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Reads more bytes; `false` at end of input.
    async fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        // Into the spare capacity: zeroing 64 KiB before every read cost more than reading a keystroke's message.
        self.buf.reserve(64 * 1024);
        let n = self.inner.read_buf(&mut self.buf).await?;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
    }

    /// One line without its `\n` (and `\r`); `None` at end of input. A line longer than `max` is an error, with the
    /// line consumed.
    async fn line(&mut self, max: usize) -> io::Result<Option<Result<Vec<u8>, ()>>> {
        let mut searched = 0;
        loop {
            if let Some(i) = self.available()[searched..]
                .iter()
                .position(|&b| b == b'\n')
            {
                let end = searched + i;
                let mut line = self.available()[..end].to_vec();
                self.consume(end + 1);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(if end > max { Err(()) } else { Ok(line) }));
            }
            searched = self.available().len();
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// Exactly `n` bytes, or `None` if the input ends first.
    async fn bytes(&mut self, n: usize) -> io::Result<Option<Vec<u8>>> {
        // A large body (a didOpen) is read into room made for it at once rather than grown 64 KiB at a time; up to
        // a bound, since the length is the client's word until the bytes arrive.
        self.buf
            .reserve(n.saturating_sub(self.available().len()).min(RESERVE_AHEAD));
        while self.available().len() < n {
            if !self.fill().await? {
                return Ok(None);
            }
        }
        let out = self.available()[..n].to_vec();
        self.consume(n);
        Ok(Some(out))
    }

    /// Drops bytes up to the next `Content-Length` (any case); `false` if there is none.
    async fn skip_to_header(&mut self) -> io::Result<bool> {
        const NAME: &[u8] = b"content-length";
        loop {
            let available = self.available();
            if let Some(i) = find_ignore_case(available, NAME) {
                self.consume(i);
                return Ok(true);
            }
            // Keep a tail that may be the start of the name.
            let keep = NAME.len() - 1;
            let drop = available.len().saturating_sub(keep);
            self.consume(drop);
            if !self.fill().await? {
                return Ok(false);
            }
        }
    }
}

/// Whether more of the client's edits are already on their way when one is applied: document changes read and not
/// yet applied, or more bytes read past the last message than a keystroke and the requests an editor sends with it
/// take ([`BURST_BYTES`]). It tells the scheduler a burst from a keystroke (DESIGN §9).
#[derive(Debug)]
pub struct Backlog {
    read: AtomicU64,
    applied: AtomicU64,
    buffered: AtomicBool,
    epoch: Instant,
    /// When the last change was read, in milliseconds since `epoch`.
    last_read: AtomicU64,
}

/// Bytes read ahead of the message being decoded that mean many more messages are waiting (in a debug build the
/// decoding, not the handling, is what falls behind in a burst).
const BURST_BYTES: usize = 4 * 1024;

/// A change read this long ago and still not applied was dropped by the framework unseen (one pipelined before the
/// `initialize` response, one after `shutdown`): the count is not trusted after that, so that it cannot make every
/// later keystroke wait as if a burst were going on.
const UNAPPLIED_TRUSTED_FOR: Duration = Duration::from_secs(1);

impl Default for Backlog {
    fn default() -> Self {
        Self {
            read: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            buffered: AtomicBool::new(false),
            epoch: Instant::now(),
            last_read: AtomicU64::new(0),
        }
    }
}

impl Backlog {
    fn millis(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn read_change(&self) {
        self.last_read.store(self.millis(), Ordering::SeqCst);
        self.read.fetch_add(1, Ordering::SeqCst);
    }

    pub fn applied_change(&self) {
        self.applied.fetch_add(1, Ordering::SeqCst);
    }

    pub fn changes_pending(&self) -> bool {
        if self.buffered.load(Ordering::SeqCst) {
            return true;
        }
        self.read.load(Ordering::SeqCst) > self.applied.load(Ordering::SeqCst)
            && self
                .millis()
                .saturating_sub(self.last_read.load(Ordering::SeqCst))
                < UNAPPLIED_TRUSTED_FOR.as_millis() as u64
    }
}

/// What the client sent, frame by frame.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A well-formed JSON-RPC message body.
    Message(Vec<u8>),
    /// A frame that cannot be passed on, and the error to answer it with.
    Invalid {
        code: i64,
        message: String,
        id: Value,
    },
}

impl Frame {
    fn invalid(code: i64, message: impl Into<String>) -> Self {
        Frame::Invalid {
            code,
            message: message.into(),
            id: Value::Null,
        }
    }
}

/// Reads client frames, validating each.
pub struct FrameReader<R> {
    reader: Reader<R>,
    /// The last header block was unusable: skip to the next `Content-Length` before reading headers.
    resync: bool,
    /// An `initialize` request has gone through (notifications before it are dropped by the framework).
    initialize_seen: bool,
    backlog: Arc<Backlog>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(inner: R, backlog: Arc<Backlog>) -> Self {
        Self {
            reader: Reader::new(inner),
            resync: false,
            initialize_seen: false,
            backlog,
        }
    }

    /// The next frame, `None` at end of input.
    pub async fn next(&mut self) -> io::Result<Option<Frame>> {
        let frame = self.read_frame().await;
        self.backlog.buffered.store(
            self.reader.available().len() >= BURST_BYTES,
            Ordering::SeqCst,
        );
        frame
    }

    async fn read_frame(&mut self) -> io::Result<Option<Frame>> {
        if std::mem::take(&mut self.resync) && !self.reader.skip_to_header().await? {
            return Ok(None);
        }
        let mut content_length: Option<Result<usize, String>> = None;
        let mut problem: Option<String> = None;
        let mut seen_header = false;
        loop {
            let Some(line) = self.reader.line(MAX_HEADER_LINE).await? else {
                return Ok(None);
            };
            let Ok(line) = line else {
                problem.get_or_insert_with(|| {
                    format!("header line longer than {MAX_HEADER_LINE} bytes")
                });
                seen_header = true;
                continue;
            };
            if line.is_empty() {
                if seen_header {
                    break;
                }
                // Stray blank lines between messages are harmless.
                continue;
            }
            seen_header = true;
            let line = String::from_utf8_lossy(&line);
            // After a body shorter than its Content-Length, the next frame's first header line arrives glued
            // to the rest of that frame's body: pick the header out so only one message is lost.
            let line = match find_ignore_case(line.as_bytes(), b"content-length:") {
                Some(start) if start > 0 => {
                    tracing::warn!("dropped {start} bytes before a Content-Length header");
                    std::borrow::Cow::Owned(line[start..].to_string())
                }
                _ => line,
            };
            let Some((name, value)) = line.split_once(':') else {
                problem
                    .get_or_insert_with(|| format!("malformed header line `{}`", truncate(&line)));
                continue;
            };
            let value = value.trim();
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| format!("invalid Content-Length `{}`", truncate(value))),
                );
            } else if name.trim().eq_ignore_ascii_case("content-type") {
                let charset = value
                    .split(';')
                    .skip(1)
                    .filter_map(|p| p.trim().strip_prefix("charset="))
                    .next();
                if let Some(charset) = charset {
                    if !matches!(
                        charset.trim_matches('"').to_ascii_lowercase().as_str(),
                        "utf-8" | "utf8"
                    ) {
                        problem.get_or_insert_with(|| {
                            format!("unsupported charset `{charset}`: only utf-8")
                        });
                    }
                }
            }
        }
        let length = match content_length {
            Some(Ok(length)) => length,
            Some(Err(message)) => {
                self.resync = true;
                return Ok(Some(Frame::invalid(PARSE_ERROR, message)));
            }
            None => {
                self.resync = true;
                return Ok(Some(Frame::invalid(
                    PARSE_ERROR,
                    "missing Content-Length header",
                )));
            }
        };
        if length > MAX_BODY {
            // Waiting for that many bytes would leave the client without an answer for as long as it takes to send
            // them (forever, if the length is a mistake): answer now and look for the next header instead.
            self.resync = true;
            return Ok(Some(Frame::invalid(
                PARSE_ERROR,
                format!("message of {length} bytes is larger than the {MAX_BODY} bytes accepted"),
            )));
        }
        let Some(body) = self.reader.bytes(length).await? else {
            return Ok(None);
        };
        if let Some(problem) = problem {
            return Ok(Some(Frame::invalid(PARSE_ERROR, problem)));
        }
        let frame = validate(body);
        if let Frame::Message(body) = &frame {
            if let Some(answer) = self.inspect(body) {
                return Ok(Some(answer));
            }
        }
        Ok(Some(frame))
    }

    /// Fills two gaps in tower-lsp-server: it never answers a request whose method starts with `$/` and is
    /// unknown (LSP asks for MethodNotFound; the client would wait forever), so that answer is made here; and it
    /// drops some notifications without a word (before `initialize`, params of the wrong shape, a method nobody
    /// handles), so those are logged here and still passed on.
    fn inspect(&mut self, body: &[u8]) -> Option<Frame> {
        let value = serde_json::from_slice::<Value>(body).ok()?;
        let method = value.get("method").and_then(Value::as_str)?;
        if let Some(id) = value.get("id") {
            self.initialize_seen |= method == "initialize";
            // The server handles no `$/` request (the protocol's `$/` messages are notifications).
            return method.starts_with("$/").then(|| Frame::Invalid {
                code: METHOD_NOT_FOUND,
                message: format!("method not found: {method}"),
                id: id.clone(),
            });
        }
        if !self.initialize_seen && method != "exit" {
            tracing::warn!("`{method}` notification before `initialize`: ignored");
            return None;
        }
        let params = value.get("params").unwrap_or(&Value::Null);
        match notification_params(method, params) {
            Some(Ok(())) => {
                if method == "textDocument/didChange" {
                    self.backlog.read_change();
                }
            }
            Some(Err(err)) => {
                tracing::warn!("`{method}` notification with invalid params ignored: {err}")
            }
            None if method.starts_with("$/") => {}
            None => tracing::info!("`{method}` notification is not handled: ignored"),
        }
        None
    }
}

fn check_params<N: tower_lsp_server::ls_types::notification::Notification>(
    params: &Value,
) -> Result<(), String> {
    N::Params::deserialize(params)
        .map(drop)
        .map_err(|err| err.to_string())
}

/// Whether `params` fit a notification the server handles; `None` for other methods.
fn notification_params(method: &str, params: &Value) -> Option<Result<(), String>> {
    use tower_lsp_server::ls_types::notification::*;
    Some(match method {
        Initialized::METHOD => check_params::<Initialized>(params),
        Exit::METHOD => Ok(()),
        DidOpenTextDocument::METHOD => check_params::<DidOpenTextDocument>(params),
        DidChangeTextDocument::METHOD => check_params::<DidChangeTextDocument>(params),
        DidCloseTextDocument::METHOD => check_params::<DidCloseTextDocument>(params),
        DidSaveTextDocument::METHOD => check_params::<DidSaveTextDocument>(params),
        DidChangeConfiguration::METHOD => check_params::<DidChangeConfiguration>(params),
        DidChangeWatchedFiles::METHOD => check_params::<DidChangeWatchedFiles>(params),
        DidChangeWorkspaceFolders::METHOD => check_params::<DidChangeWorkspaceFolders>(params),
        Cancel::METHOD => check_params::<Cancel>(params),
        SetTrace::METHOD => check_params::<SetTrace>(params),
        _ => return None,
    })
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn truncate(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Whether a body is a message tower-lsp-server will accept (the same types it decodes into).
fn validate(body: Vec<u8>) -> Frame {
    let text = match std::str::from_utf8(&body) {
        Ok(text) => text,
        Err(err) => {
            return Frame::invalid(
                PARSE_ERROR,
                format!(
                    "message body is not valid UTF-8 (invalid byte at offset {})",
                    err.valid_up_to()
                ),
            )
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(err) => {
            return Frame::invalid(
                PARSE_ERROR,
                format!("message body is not valid JSON: {err}"),
            )
        }
    };
    // tower-lsp-server's types accept `{"jsonrpc": "2.0"}` (as a request with an empty method, which it then
    // drops without a word), and a response without `result`: JSON-RPC calls both invalid.
    let is_request =
        value.get("method").is_some_and(Value::is_string) && Request::deserialize(&value).is_ok();
    let is_response = value.get("id").is_some()
        && (value.get("result").is_some() || value.get("error").is_some())
        && Response::deserialize(&value).is_ok();
    if is_request || is_response {
        return Frame::Message(body);
    }
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_i64())
        .cloned()
        .unwrap_or(Value::Null);
    let message = if value.is_array() {
        "JSON-RPC batches are not part of LSP".to_string()
    } else {
        "not a JSON-RPC 2.0 request, notification or response (check `jsonrpc: \"2.0\"`, `method`, `id`)".to_string()
    };
    Frame::Invalid {
        code: INVALID_REQUEST,
        message,
        id,
    }
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

pub fn error_frame(code: i64, message: &str, id: Value) -> Vec<u8> {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    frame(body.to_string().as_bytes())
}

/// Client → server: passes well-formed messages to `server`, answers the rest through `out`.
pub async fn pump_input<R, W>(
    input: R,
    mut server: W,
    out: mpsc::Sender<Vec<u8>>,
    backlog: Arc<Backlog>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = FrameReader::new(input, backlog);
    while let Some(next) = frames.next().await? {
        match next {
            Frame::Message(body) => {
                if crate::timeline::enabled()
                    && crate::timeline::frame_kind(&body) == Some("change")
                {
                    crate::timeline::mark("in", crate::timeline::last_version(&body).unwrap_or(-1));
                }
                server.write_all(&frame(&body)).await?;
                server.flush().await?;
            }
            Frame::Invalid { code, message, id } => {
                tracing::error!("bad message from the client: {message}");
                if out.send(error_frame(code, &message, id)).await.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!("the client closed the input stream");
    server.shutdown().await
}

/// Server → client: splits what the server writes into whole frames for the shared writer.
pub async fn pump_output<R: AsyncRead + Unpin>(
    server: R,
    out: mpsc::Sender<Vec<u8>>,
) -> io::Result<()> {
    let mut reader = Reader::new(server);
    loop {
        let mut length = None;
        loop {
            let Some(line) = reader.line(MAX_HEADER_LINE).await? else {
                return Ok(());
            };
            let line = line.map_err(|()| io::Error::other("server wrote an overlong header"))?;
            if line.is_empty() {
                break;
            }
            if let Some(value) = String::from_utf8_lossy(&line).strip_prefix("Content-Length:") {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length =
            length.ok_or_else(|| io::Error::other("server frame without Content-Length"))?;
        let Some(body) = reader.bytes(length).await? else {
            return Ok(());
        };
        if out.send(frame(&body)).await.is_err() {
            return Ok(());
        }
    }
}

/// Writes whole frames to the client, in the order they were queued.
/// The version of a `publishDiagnostics` frame, for the timeline's mark once it is written.
fn note_published(frame: &[u8], written: &mut Vec<i32>) {
    if crate::timeline::enabled() && crate::timeline::frame_kind(frame) == Some("diagnostics") {
        written.push(crate::timeline::last_version(frame).unwrap_or(-1));
    }
}

pub async fn write_frames<W: AsyncWrite + Unpin>(
    mut output: W,
    mut frames: mpsc::Receiver<Vec<u8>>,
) -> io::Result<()> {
    let mut written = Vec::new();
    while let Some(frame) = frames.recv().await {
        note_published(&frame, &mut written);
        output.write_all(&frame).await?;
        // Write everything queued before flushing once.
        while let Ok(frame) = frames.try_recv() {
            note_published(&frame, &mut written);
            output.write_all(&frame).await?;
        }
        output.flush().await?;
        for version in written.drain(..) {
            crate::timeline::mark("out", version);
        }
    }
    output.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<Frame> {
        let mut reader = FrameReader::new(input, Arc::default());
        let mut out = Vec::new();
        while let Some(frame) = reader.next().await.unwrap() {
            out.push(frame);
        }
        out
    }

    const GOOD: &str = r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;

    fn good() -> Vec<u8> {
        frame(GOOD.as_bytes())
    }

    fn code(frame: &Frame) -> i64 {
        match frame {
            Frame::Invalid { code, .. } => *code,
            Frame::Message(_) => 0,
        }
    }

    #[tokio::test]
    async fn passes_good_frames_and_survives_bad_ones() {
        let mut input = Vec::new();
        input.extend(b"Content-Length: abc\r\n\r\n{\"jsonrpc\":\"2.0\"}");
        input.extend(good());
        input.extend(frame(b"{not json"));
        input.extend(frame(&[0xff, 0xfe]));
        input.extend(frame(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#));
        input.extend(frame(b"[1,2]"));
        input.extend(b"Content-Type: application/vscode-jsonrpc; charset=latin1\r\nContent-Length: 2\r\n\r\n{}");
        input.extend(b"X-Nothing\r\n\r\n");
        input.extend(good());
        let frames = frames(&input).await;
        let codes: Vec<i64> = frames.iter().map(code).collect();
        assert_eq!(
            codes,
            [-32700, 0, -32700, -32700, -32600, -32600, -32700, -32700, 0],
            "{frames:#?}"
        );
        match &frames[4] {
            Frame::Invalid { id, .. } => assert_eq!(id, &json!(7)),
            other => panic!("{other:?}"),
        }
        assert_eq!(frames[8], Frame::Message(GOOD.as_bytes().to_vec()));
    }

    #[tokio::test]
    async fn accepts_lowercase_headers_content_type_and_bare_newlines() {
        let mut input =
            b"content-length: 44\nContent-Type: application/vscode-jsonrpc; charset=utf-8\n\n"
                .to_vec();
        input.extend(GOOD.as_bytes());
        assert_eq!(
            frames(&input).await,
            [Frame::Message(GOOD.as_bytes().to_vec())]
        );
    }

    #[tokio::test]
    async fn dollar_requests_are_answered_and_empty_responses_refused() {
        let mut input = frame(br#"{"jsonrpc":"2.0","id":3,"method":"$/nothing"}"#);
        input.extend(frame(br#"{"jsonrpc":"2.0"}"#));
        input.extend(frame(
            br#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#,
        ));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":4,"result":null}"#));
        let frames = frames(&input).await;
        let codes: Vec<i64> = frames.iter().map(code).collect();
        assert_eq!(codes, [-32601, -32600, 0, 0], "{frames:?}");
    }

    #[tokio::test]
    async fn an_absurd_length_is_answered_at_once() {
        let mut input = b"Content-Length: 99999999999\r\n\r\n{}".to_vec();
        input.extend(good());
        let codes: Vec<i64> = frames(&input).await.iter().map(code).collect();
        assert_eq!(codes, [-32700, 0]);
    }

    #[tokio::test]
    async fn a_short_body_costs_one_message() {
        // 34 bytes announced, 4 sent: the next frame's header and the start of its body are read as this body,
        // and the rest of that body runs into the third frame's header line, which is picked out of it.
        let mut input = b"Content-Length: 34\r\n\r\n{\"x\"".to_vec();
        input.extend(good());
        input.extend(good());
        let frames = frames(&input).await;
        let codes: Vec<i64> = frames.iter().map(code).collect();
        assert_eq!(codes, [-32700, 0], "{frames:?}");
        assert_eq!(frames[1], Frame::Message(GOOD.as_bytes().to_vec()));
    }

    #[tokio::test]
    async fn the_backlog_counts_changes_read_and_not_applied() {
        let change = |version: i64, text: &str| {
            frame(
                json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": "file:///a.go", "version": version},
                    "contentChanges": [{"text": text}]}})
                .to_string()
                .as_bytes(),
            )
        };
        let mut input = change(
            1,
            "before initialize: dropped by the framework, not counted",
        );
        input.extend(frame(
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#,
        ));
        input.extend(change(2, "a"));
        input.extend(frame(
            br#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"wrong":1}}"#,
        ));
        input.extend(change(3, "b"));
        let backlog = Arc::new(Backlog::default());
        let mut reader = FrameReader::new(input.as_slice(), backlog.clone());
        for _ in 0..3 {
            reader.next().await.unwrap();
        }
        assert!(backlog.changes_pending(), "the change of version 2 is read");
        backlog.applied_change();
        assert!(!backlog.changes_pending(), "applied");
        reader.next().await.unwrap();
        assert!(!backlog.changes_pending(), "invalid params: not counted");
        reader.next().await.unwrap();
        assert!(backlog.changes_pending());
        backlog.applied_change();
        assert!(!backlog.changes_pending());
        assert!(reader.next().await.unwrap().is_none());

        // Bytes enough for a burst read past the message being applied.
        let mut input = change(5, "d");
        input.extend(change(6, &"e".repeat(BURST_BYTES)));
        let backlog = Arc::new(Backlog::default());
        let mut reader = FrameReader::new(input.as_slice(), backlog.clone());
        reader.initialize_seen = true;
        reader.next().await.unwrap();
        backlog.applied_change();
        assert!(backlog.changes_pending());
        reader.next().await.unwrap();
        backlog.applied_change();
        assert!(!backlog.changes_pending());
    }

    #[tokio::test]
    async fn truncated_input_ends_cleanly() {
        assert!(frames(b"Content-Length: 100\r\n\r\n{\"a\"")
            .await
            .is_empty());
        assert!(frames(b"Content-Len").await.is_empty());
    }
}
