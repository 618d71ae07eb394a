//! The only place a [`Finding`] becomes LSP: byte ranges to positions in the negotiated encoding, severities,
//! rule links, evidence, and the fix edits that travel in `Diagnostic.data`.

use std::str::FromStr;

use dsr_core::suppression::UnusedSuppression;
use dsr_core::{Applicability, Finding, FindingKind, Severity, TextRange};
use dsr_syntax::position::{offset_to_position, position_to_offset};
use dsr_syntax::{PositionEncoding, PositionError, Rope};
use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag,
    Location, NumberOrString, Position, PositionEncodingKind, Range, TextEdit, Uri,
};

use crate::settings::Settings;

pub const SOURCE: &str = "distsys-review";

pub fn encoding_kind(encoding: PositionEncoding) -> PositionEncodingKind {
    match encoding {
        PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        PositionEncoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

/// The position of a byte offset. Offsets come from our own analysis of this very rope, so an error is a bug;
/// it is logged and the offset clamped rather than failing a whole response.
pub fn position(rope: &Rope, offset: usize, encoding: PositionEncoding) -> Position {
    let mut offset = offset.min(rope.len_bytes());
    loop {
        match offset_to_position(rope, offset, encoding) {
            Ok(p) => return Position::new(p.line, p.character),
            Err(PositionError::NotACharBoundary { .. }) if offset > 0 => offset -= 1,
            Err(err) => {
                tracing::error!("cannot place offset {offset}: {err}");
                return Position::new(0, 0);
            }
        }
    }
}

pub fn range(rope: &Rope, range: TextRange, encoding: PositionEncoding) -> Range {
    Range::new(
        position(rope, range.start, encoding),
        position(rope, range.end.max(range.start), encoding),
    )
}

pub fn offset(
    rope: &Rope,
    position: Position,
    encoding: PositionEncoding,
) -> Result<usize, PositionError> {
    position_to_offset(rope, to_syntax(position), encoding)
}

pub fn to_syntax(position: Position) -> dsr_syntax::Position {
    dsr_syntax::Position::new(position.line, position.character)
}

/// A byte range for an LSP range, with positions past the end of the text clamped to it (requests such as code
/// actions may name a range a little past the end; edits never get this leniency).
pub fn byte_range_lenient(rope: &Rope, range: Range, encoding: PositionEncoding) -> TextRange {
    let clamp = |p: Position| {
        offset(rope, p, encoding).unwrap_or_else(|err| match err {
            PositionError::LineOutOfRange { .. } => rope.len_bytes(),
            _ => {
                let line = (p.line as usize).min(rope.len_lines().saturating_sub(1));
                rope.line_to_byte(line)
            }
        })
    };
    let start = clamp(range.start);
    let end = clamp(range.end).max(start);
    TextRange::new(start, end)
}

/// What a code action needs from a diagnostic, so that it can be built without analysing again (ruff's way).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DiagnosticData {
    /// The document version the edits were computed against.
    pub version: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixData>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FixData {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<TextEdit>,
}

pub fn fix_data(finding: &Finding, rope: &Rope, encoding: PositionEncoding) -> Option<FixData> {
    let fix = finding.fix.as_ref()?;
    if fix.edits.is_empty() || fix.applicability == Applicability::DisplayOnly {
        return None;
    }
    Some(FixData {
        title: fix.title.clone(),
        applicability: fix.applicability,
        edits: fix
            .edits
            .iter()
            .map(|edit| TextEdit::new(range(rope, edit.range, encoding), edit.replacement.clone()))
            .collect(),
    })
}

/// Unused suppressions are shown as faded hints.
fn is_unused_suppression(finding: &Finding) -> bool {
    *finding.rule == UnusedSuppression::META
}

pub fn severity(finding: &Finding, settings: &Settings) -> DiagnosticSeverity {
    if is_unused_suppression(finding) {
        return DiagnosticSeverity::HINT;
    }
    if finding.kind == FindingKind::OpenQuestion {
        return settings.severity.open_question;
    }
    match finding.severity {
        Severity::Critical => settings.severity.critical,
        Severity::High => settings.severity.high,
        Severity::Medium => settings.severity.medium,
        Severity::Low => settings.severity.low,
    }
}

/// The diagnostic's message: the finding's title and the failure that makes it matter.
pub fn message(finding: &Finding) -> String {
    if finding.trigger.is_empty() {
        finding.title.clone()
    } else {
        format!("{}\ntrigger: {}", finding.title, finding.trigger)
    }
}

pub struct DiagnosticContext<'a> {
    pub uri: &'a Uri,
    pub rope: &'a Rope,
    pub version: i32,
    pub encoding: PositionEncoding,
    pub settings: &'a Settings,
}

pub fn diagnostic(finding: &Finding, cx: &DiagnosticContext<'_>) -> Diagnostic {
    let href = Uri::from_str(&cx.settings.docs_href(finding.code())).ok();
    let related: Vec<DiagnosticRelatedInformation> = finding
        .evidence
        .iter()
        .filter_map(|evidence| {
            let location = match &evidence.path {
                None => Location::new(cx.uri.clone(), range(cx.rope, evidence.range, cx.encoding)),
                Some(path) => {
                    // Evidence in another file: its positions need that file's text.
                    let text = std::fs::read_to_string(path).ok()?;
                    let rope = Rope::from_str(&text);
                    Location::new(
                        Uri::from_file_path(path)?,
                        range(&rope, evidence.range, cx.encoding),
                    )
                }
            };
            Some(DiagnosticRelatedInformation {
                location,
                message: evidence.note.clone(),
            })
        })
        .collect();
    let data = DiagnosticData {
        version: cx.version,
        fix: fix_data(finding, cx.rope, cx.encoding),
    };
    Diagnostic {
        range: range(cx.rope, finding.range, cx.encoding),
        severity: Some(severity(finding, cx.settings)),
        code: Some(NumberOrString::String(finding.code().to_string())),
        code_description: href.map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message: message(finding),
        related_information: (!related.is_empty()).then_some(related),
        tags: is_unused_suppression(finding).then(|| vec![DiagnosticTag::UNNECESSARY]),
        data: serde_json::to_value(data).ok(),
    }
}

/// The diagnostic of `moved` (a finding whose ranges in this file an edit moved, see budget.rs), made from
/// `previous`, the diagnostic of the same finding before the edit: only positions and the version change, so
/// the rest is kept (the message, the rule link, and the evidence in other files, which [`diagnostic`] reads
/// from disk). Equal to `diagnostic(moved, cx)`.
pub fn moved_diagnostic(
    previous: &Diagnostic,
    moved: &Finding,
    cx: &DiagnosticContext<'_>,
) -> Diagnostic {
    let mut diagnostic = previous.clone();
    diagnostic.range = range(cx.rope, moved.range, cx.encoding);
    if let Some(related) = &mut diagnostic.related_information {
        // In evidence order, this file's evidence is the entries with its uri.
        let here: Vec<&mut DiagnosticRelatedInformation> = related
            .iter_mut()
            .filter(|entry| entry.location.uri == *cx.uri)
            .collect();
        let evidence: Vec<TextRange> = moved
            .evidence
            .iter()
            .filter(|evidence| evidence.path.is_none())
            .map(|evidence| evidence.range)
            .collect();
        if here.len() != evidence.len() {
            // Evidence in another file that is this one after all: convert afresh.
            return self::diagnostic(moved, cx);
        }
        for (entry, evidence) in here.into_iter().zip(evidence) {
            entry.location.range = range(cx.rope, evidence, cx.encoding);
        }
    }
    let data = DiagnosticData {
        version: cx.version,
        fix: fix_data(moved, cx.rope, cx.encoding),
    };
    diagnostic.data = serde_json::to_value(data).ok();
    diagnostic
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_core::{Confidence, Edit, Evidence, Fix, Impact};

    fn finding(code: &str, range: TextRange) -> Finding {
        Finding {
            rule: dsr_rules::find(code).unwrap().rule.meta(),
            title: "`x` queues without limit".into(),
            severity: Severity::Medium,
            impact: Impact::Availability,
            kind: FindingKind::Finding,
            confidence: Confidence::High,
            range,
            component: "start".into(),
            trigger: "the consumer slows down".into(),
            expected: "a bound".into(),
            actual: "none".into(),
            evidence: vec![Evidence {
                path: None,
                range: TextRange::new(0, 1),
                note: "here".into(),
            }],
            fix: Some(Fix::edits(
                "remove it",
                Applicability::Always,
                vec![Edit::replace(range, "")],
            )),
            role: dsr_core::CodeRole::Production,
        }
    }

    #[test]
    fn ranges_count_utf16_units_after_astral_characters() {
        let text = "let s = \"😀\"; x()\n";
        let rope = Rope::from_str(text);
        let start = text.find("x()").unwrap();
        let uri = Uri::from_str("file:///a.rs").unwrap();
        let settings = Settings::default();
        let cx = DiagnosticContext {
            uri: &uri,
            rope: &rope,
            version: 7,
            encoding: PositionEncoding::Utf16,
            settings: &settings,
        };
        let diagnostic = diagnostic(&finding("BKP001", TextRange::new(start, start + 3)), &cx);
        assert_eq!(
            diagnostic.range,
            Range::new(Position::new(0, 14), Position::new(0, 17))
        );
        assert_eq!(diagnostic.severity, Some(DiagnosticSeverity::WARNING));
        assert_eq!(diagnostic.source.as_deref(), Some("distsys-review"));
        assert_eq!(
            diagnostic.message,
            "`x` queues without limit\ntrigger: the consumer slows down"
        );
        assert!(diagnostic
            .code_description
            .unwrap()
            .href
            .as_str()
            .ends_with("docs/rules/BKP001.md"));
        let data: DiagnosticData = serde_json::from_value(diagnostic.data.unwrap()).unwrap();
        assert_eq!(data.version, 7);
        assert_eq!(data.fix.unwrap().edits[0].range.start, Position::new(0, 14));
        let utf8 = DiagnosticContext {
            encoding: PositionEncoding::Utf8,
            ..cx
        };
        let d = super::diagnostic(&finding("DSR001", TextRange::new(start, start + 3)), &utf8);
        assert_eq!(d.range.start, Position::new(0, start as u32));
        assert_eq!(d.severity, Some(DiagnosticSeverity::HINT));
        assert_eq!(d.tags, Some(vec![DiagnosticTag::UNNECESSARY]));
    }

    #[test]
    fn a_moved_diagnostic_is_the_diagnostic_of_the_moved_finding() {
        let before = "fn a() {}\nfn b() { x() }\n";
        let after = "fn a() { y }\n\nfn b() { x() }\n";
        let (old, new) = (Rope::from_str(before), Rope::from_str(after));
        let uri = Uri::from_str("file:///a.rs").unwrap();
        let settings = Settings::default();
        let cx = |rope, version| DiagnosticContext {
            uri: &uri,
            rope,
            version,
            encoding: PositionEncoding::Utf16,
            settings: &settings,
        };
        let at = |text: &str| text.find("x()").unwrap();
        let mut old_finding = finding("BKP001", TextRange::new(at(before), at(before) + 3));
        old_finding.evidence[0].range = TextRange::new(at(before), at(before) + 1);
        let mut moved = finding("BKP001", TextRange::new(at(after), at(after) + 3));
        moved.evidence[0].range = TextRange::new(at(after), at(after) + 1);
        let previous = diagnostic(&old_finding, &cx(&old, 1));
        assert_eq!(
            moved_diagnostic(&previous, &moved, &cx(&new, 2)),
            diagnostic(&moved, &cx(&new, 2))
        );
    }

    #[test]
    fn lenient_ranges_clamp_past_the_end() {
        let rope = Rope::from_str("ab\ncd");
        let r = byte_range_lenient(
            &rope,
            Range::new(Position::new(1, 1), Position::new(9, 0)),
            PositionEncoding::Utf16,
        );
        assert_eq!(r, TextRange::new(4, 5));
    }
}
