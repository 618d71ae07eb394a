//! The steps between a client's change and its first diagnostics, timestamped in the server's log: with
//! `DISTSYS_REVIEW_LOG=dsr_lsp::timeline=trace` (or `dsr_lsp=trace`) every step of every version writes one
//! line `step v<version> t=<microseconds since the server started>`, so that a version's path can be read
//! step by step (`scripts/timeline.py` sums them per step). Off (the default), a mark costs one check of the
//! log filter.

use std::sync::OnceLock;
use std::time::Instant;

/// When the server started, the origin of the marks' times.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Starts the clock (called once at start-up, so the first mark does not define its own origin).
pub fn start() {
    epoch();
}

/// Whether marks are written.
pub fn enabled() -> bool {
    tracing::enabled!(target: "dsr_lsp::timeline", tracing::Level::TRACE)
}

/// Logs `step` of `version` with the time since the server started.
pub fn mark(step: &str, version: i32) {
    if enabled() {
        let micros = epoch().elapsed().as_micros();
        tracing::trace!(target: "dsr_lsp::timeline", "{step} v{version} t={micros}");
    }
}

/// The version a message's JSON names last (`"version":N`): a change's document version, a publication's
/// version (the last field of `publishDiagnostics`'s parameters). Only read when marks are written.
pub fn last_version(body: &[u8]) -> Option<i32> {
    const KEY: &[u8] = b"\"version\":";
    let at = body.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let digits: Vec<u8> = body[at..]
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| b.is_ascii_digit() || *b == b'-')
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// What a frame is, by the method near its start (`didChange`, `publishDiagnostics`), for the marks of the
/// transport; `None` for any other message.
pub fn frame_kind(body: &[u8]) -> Option<&'static str> {
    let head = &body[..body.len().min(160)];
    let has = |name: &[u8]| head.windows(name.len()).any(|w| w == name);
    if has(b"textDocument/didChange") {
        Some("change")
    } else if has(b"textDocument/publishDiagnostics") {
        Some("diagnostics")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_version_of_a_message_is_read() {
        let change = br#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"contentChanges":[],"textDocument":{"uri":"file:///a.go","version":17}}}"#;
        assert_eq!(last_version(change), Some(17));
        assert_eq!(frame_kind(change), Some("change"));
        let publish = br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"file:///a.go","diagnostics":[{"data":{"version":3}}],"version":4}}"#;
        assert_eq!(last_version(publish), Some(4));
        assert_eq!(frame_kind(publish), Some("diagnostics"));
        assert_eq!(last_version(b"{}"), None);
        assert_eq!(frame_kind(b"{}"), None);
    }
}
