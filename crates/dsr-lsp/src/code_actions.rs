//! Code actions: a finding's fix (from `Diagnostic.data`, no re-analysis), suppressions on the line and in the
//! file, and `source.fixAll.distsys-review`, whose edit is computed on `codeAction/resolve` when the client can.

use std::collections::HashMap;

use dsr_core::suppression::Scope as SuppressionScope;
use dsr_core::{Applicability, TextRange};
use dsr_engine::FixMode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Diagnostic, DocumentChanges,
    NumberOrString, OneOf, OptionalVersionedTextDocumentIdentifier, Range, TextDocumentEdit,
    TextEdit, Uri, WorkspaceEdit,
};

use crate::convert::{self, DiagnosticData, FixData, SOURCE};
use crate::state::{Analyzed, ClientCaps};

pub const FIX_ALL_KIND: &str = "source.fixAll.distsys-review";

/// What `codeAction/resolve` gets back in `CodeAction.data`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveData {
    pub uri: Uri,
    pub version: i32,
    pub action: ResolveAction,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ResolveAction {
    FixAll,
}

/// One finding the user can act on: its rule, diagnostic and fix.
struct Target {
    rule: String,
    diagnostic: Diagnostic,
    fix: Option<FixData>,
}

pub fn code_actions(
    analyzed: &Analyzed,
    params: &CodeActionParams,
    caps: &ClientCaps,
) -> Vec<CodeActionOrCommand> {
    let only = params.context.only.as_deref();
    let mut actions = Vec::new();
    if wants(only, &CodeActionKind::QUICKFIX) {
        for target in targets(analyzed, params) {
            quick_fixes(analyzed, &target, caps, &mut actions);
        }
    }
    if wants(only, &CodeActionKind::new(FIX_ALL_KIND)) && has_safe_fix(analyzed) {
        let mut action = CodeAction {
            title: "Fix all safely fixable distsys-review findings".into(),
            kind: Some(CodeActionKind::new(FIX_ALL_KIND)),
            ..CodeAction::default()
        };
        if caps.code_action_resolve {
            action.data = serde_json::to_value(ResolveData {
                uri: analyzed.uri.clone(),
                version: analyzed.version,
                action: ResolveAction::FixAll,
            })
            .ok();
        } else {
            action.edit =
                fix_all_edit(analyzed).map(|edit| workspace_edit(analyzed, vec![edit], caps));
        }
        actions.push(CodeActionOrCommand::CodeAction(action));
    }
    // One action per title: two findings of a rule on a line share their suppression.
    let mut seen = std::collections::HashSet::new();
    actions.retain(|action| match action {
        CodeActionOrCommand::CodeAction(a) => seen.insert(a.title.clone()),
        CodeActionOrCommand::Command(_) => true,
    });
    actions
}

/// Fills in the edit of an action returned without one.
pub fn resolve(analyzed: &Analyzed, mut action: CodeAction, caps: &ClientCaps) -> CodeAction {
    let data = action
        .data
        .clone()
        .and_then(|data| serde_json::from_value::<ResolveData>(data).ok());
    if let Some(ResolveData {
        action: ResolveAction::FixAll,
        ..
    }) = data
    {
        action.edit = Some(
            fix_all_edit(analyzed)
                .map(|edit| workspace_edit(analyzed, vec![edit], caps))
                .unwrap_or_default(),
        );
    }
    action
}

/// Whether an action of `kind` was asked for (`only` names kinds or their parents: `source` covers
/// `source.fixAll.distsys-review`).
fn wants(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    let Some(only) = only else { return true };
    only.iter().any(|wanted| {
        let wanted = wanted.as_str();
        let kind = kind.as_str();
        kind == wanted
            || kind.starts_with(wanted) && kind.as_bytes().get(wanted.len()) == Some(&b'.')
    })
}

/// The findings the request is about: the client's diagnostics when their data was computed for the current
/// version (no re-analysis), else the current analysis's findings that touch the range.
fn targets(analyzed: &Analyzed, params: &CodeActionParams) -> Vec<Target> {
    let ours: Vec<&Diagnostic> = params
        .context
        .diagnostics
        .iter()
        .filter(|d| d.source.as_deref() == Some(SOURCE))
        .collect();
    let from_client: Option<Vec<Target>> = ours
        .iter()
        .map(|diagnostic| {
            let data: DiagnosticData = serde_json::from_value(diagnostic.data.clone()?).ok()?;
            if data.version != analyzed.version {
                return None;
            }
            let Some(NumberOrString::String(rule)) = &diagnostic.code else {
                return None;
            };
            Some(Target {
                rule: rule.clone(),
                diagnostic: (*diagnostic).clone(),
                fix: data.fix,
            })
        })
        .collect();
    match from_client {
        Some(targets) if !targets.is_empty() => targets,
        _ => {
            let wanted =
                convert::byte_range_lenient(&analyzed.rope, params.range, analyzed.encoding);
            analyzed
                .findings
                .iter()
                .zip(&analyzed.diagnostics)
                .filter(|(f, _)| f.range.start <= wanted.end && wanted.start <= f.range.end)
                .map(|(f, d)| Target {
                    rule: f.code().to_string(),
                    diagnostic: d.clone(),
                    fix: convert::fix_data(f, &analyzed.rope, analyzed.encoding),
                })
                .collect()
        }
    }
}

fn quick_fixes(
    analyzed: &Analyzed,
    target: &Target,
    caps: &ClientCaps,
    actions: &mut Vec<CodeActionOrCommand>,
) {
    if let Some(fix) = &target.fix {
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("{} ({})", capitalize(&fix.title), target.rule),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![target.diagnostic.clone()]),
            edit: Some(workspace_edit(analyzed, fix.edits.clone(), caps)),
            is_preferred: Some(fix.applicability == Applicability::Always),
            ..CodeAction::default()
        }));
    }
    // Suppressing the suppression rules themselves would only stack comments. The code comes from the client
    // (a diagnostic it sends back), so its family is read from the prefix.
    if target.rule.starts_with(dsr_core::Family::Meta.prefix()) {
        return;
    }
    let line = target.diagnostic.range.start.line;
    actions.push(CodeActionOrCommand::CodeAction(CodeAction {
        title: format!("Suppress {} on this line (reason: …)", target.rule),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![target.diagnostic.clone()]),
        edit: Some(workspace_edit(
            analyzed,
            vec![suppress_line_edit(analyzed, line, &target.rule)],
            caps,
        )),
        ..CodeAction::default()
    }));
    actions.push(CodeActionOrCommand::CodeAction(CodeAction {
        title: format!("Suppress {} in this file", target.rule),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![target.diagnostic.clone()]),
        edit: Some(workspace_edit(
            analyzed,
            vec![suppress_file_edit(analyzed, &target.rule)],
            caps,
        )),
        ..CodeAction::default()
    }));
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const REASON_PLACEHOLDER: &str = "<reason>";

/// `// distsys-review: ignore[CODE] <reason>` on its own line above `line`, indented like it; or `CODE` added
/// to a suppression that already stands there.
pub fn suppress_line_edit(analyzed: &Analyzed, line: u32, code: &str) -> TextEdit {
    let rope = &analyzed.rope;
    let line_index = (line as usize).min(rope.len_lines().saturating_sub(1));
    let existing = analyzed.suppressions.iter().find(|s| {
        s.standalone
            && matches!(s.scope, SuppressionScope::Lines { first, last } if first + 1 == line_index && last == line_index)
    });
    if let Some(existing) = existing {
        return add_code(analyzed, existing.directive, code);
    }
    let text: String = rope.line(line_index).chars().collect();
    let indent: String = text
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let start = rope.line_to_byte(line_index);
    let comment = format!(
        "{indent}{} distsys-review: ignore[{code}] {REASON_PLACEHOLDER}{}",
        analyzed.language.line_comment(),
        line_ending(rope, line_index)
    );
    let at = convert::position(rope, start, analyzed.encoding);
    TextEdit::new(Range::new(at, at), comment)
}

/// `// distsys-review: ignore-file[CODE] <reason>` at the top (after a `#!` line), or `CODE` added to the file's
/// first `ignore-file` suppression.
pub fn suppress_file_edit(analyzed: &Analyzed, code: &str) -> TextEdit {
    if let Some(existing) = analyzed
        .suppressions
        .iter()
        .find(|s| s.scope == SuppressionScope::File)
    {
        return add_code(analyzed, existing.directive, code);
    }
    let rope = &analyzed.rope;
    let first_line: String = rope.line(0).chars().collect();
    let line = usize::from(first_line.starts_with("#!") && rope.len_lines() > 1);
    let at = convert::position(rope, rope.line_to_byte(line), analyzed.encoding);
    TextEdit::new(
        Range::new(at, at),
        format!(
            "{} distsys-review: ignore-file[{code}] {REASON_PLACEHOLDER}{}",
            analyzed.language.line_comment(),
            line_ending(rope, line)
        ),
    )
}

/// Inserts `, CODE` before the `]` that ends a directive (`distsys-review: ignore[A]`).
fn add_code(analyzed: &Analyzed, directive: TextRange, code: &str) -> TextEdit {
    let at = convert::position(
        &analyzed.rope,
        directive.end.saturating_sub(1),
        analyzed.encoding,
    );
    TextEdit::new(Range::new(at, at), format!(", {code}"))
}

/// The line break the file uses at `line` (the one before it when `line` is the last).
fn line_ending(rope: &dsr_syntax::Rope, line: usize) -> &'static str {
    let ending = |index: usize| -> Option<&'static str> {
        let line = rope.line(index);
        let len = line.len_chars();
        let last = (len >= 1).then(|| line.char(len - 1));
        let before = (len >= 2).then(|| line.char(len - 2));
        match (before, last) {
            (Some('\r'), Some('\n')) => Some("\r\n"),
            (_, Some('\n')) => Some("\n"),
            (_, Some('\r')) => Some("\r"),
            _ => None,
        }
    };
    ending(line)
        .or_else(|| line.checked_sub(1).and_then(ending))
        .unwrap_or("\n")
}

fn has_safe_fix(analyzed: &Analyzed) -> bool {
    analyzed.findings.iter().any(|f| {
        f.fix
            .as_ref()
            .is_some_and(|fix| fix.applicability == Applicability::Always && !fix.edits.is_empty())
    })
}

/// Every safe fix, through the engine's fix-all (round after round, refusing a fix that would break the parse),
/// as one edit of the region that changed.
pub fn fix_all_edit(analyzed: &Analyzed) -> Option<TextEdit> {
    let original = analyzed.rope.to_string();
    let fixed = match dsr_engine::fix_all(
        &analyzed.engine,
        &analyzed.analysed_as,
        analyzed.language,
        &original,
        FixMode::Safe,
    ) {
        Ok(fixed) => fixed,
        Err(skip) => {
            tracing::warn!("{}: fix-all not computed: {skip}", analyzed.path.display());
            return None;
        }
    };
    for problem in &fixed.problems {
        tracing::warn!("{}: fix-all: {problem}", analyzed.path.display());
    }
    if fixed.text == original {
        return None;
    }
    let text = fixed.text;
    let (start, old_end, new_end) = changed_region(&original, &text);
    Some(TextEdit::new(
        convert::range(
            &analyzed.rope,
            TextRange::new(start, old_end),
            analyzed.encoding,
        ),
        text[start..new_end].to_string(),
    ))
}

/// The smallest `old[start..old_end]` → `new[start..new_end]` replacement, with both ends on character
/// boundaries and never between the `\r` and `\n` of a line break (a place LSP positions cannot name).
fn changed_region(old: &str, new: &str) -> (usize, usize, usize) {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let mut start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    while start > 0
        && (!old.is_char_boundary(start) || (a[start - 1] == b'\r' && a.get(start) == Some(&b'\n')))
    {
        start -= 1;
    }
    let max_suffix = a.len().min(b.len()) - start;
    let mut suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    loop {
        let old_end = a.len() - suffix;
        let new_end = b.len() - suffix;
        let splits_line_break =
            old_end > 0 && a[old_end - 1] == b'\r' && a.get(old_end) == Some(&b'\n');
        if suffix == 0
            || (old.is_char_boundary(old_end)
                && new.is_char_boundary(new_end)
                && !splits_line_break)
        {
            return (start, old_end, new_end);
        }
        suffix -= 1;
    }
}

pub fn workspace_edit(
    analyzed: &Analyzed,
    edits: Vec<TextEdit>,
    caps: &ClientCaps,
) -> WorkspaceEdit {
    if caps.document_changes {
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier {
                    uri: analyzed.uri.clone(),
                    version: Some(analyzed.version),
                },
                edits: edits.into_iter().map(OneOf::Left).collect(),
            }])),
            ..WorkspaceEdit::default()
        }
    } else {
        WorkspaceEdit {
            changes: Some(HashMap::from([(analyzed.uri.clone(), edits)])),
            ..WorkspaceEdit::default()
        }
    }
}

/// The `uri` a resolve request's action is about.
pub fn resolve_target(action: &CodeAction) -> Option<Uri> {
    let data: Value = action.data.clone()?;
    serde_json::from_value::<ResolveData>(data)
        .ok()
        .map(|d| d.uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::str::FromStr;
    use std::sync::Arc;

    use dsr_core::{Config, Language};
    use dsr_engine::Engine;
    use dsr_syntax::{PositionEncoding, Rope};

    fn analyzed(language: Language, text: &str) -> Analyzed {
        let engine = Arc::new(Engine::new(dsr_rules::registry(), Config::default()));
        let analysis = engine.analyze_source(Path::new("x"), language, text);
        Analyzed {
            seq: 1,
            version: 1,
            language,
            uri: Uri::from_str("file:///x").unwrap(),
            path: PathBuf::from("x"),
            analysed_as: PathBuf::from("x"),
            rope: Rope::from_str(text),
            findings: analysis.findings,
            suppressions: analysis.suppressions,
            diagnostics: Vec::new(),
            encoding: PositionEncoding::Utf16,
            engine,
            failures: analysis.failures,
            whole_file: true,
            provisional: false,
            index_generation: 0,
        }
    }

    fn apply(text: &str, edit: &TextEdit) -> String {
        let rope = Rope::from_str(text);
        let range = convert::byte_range_lenient(&rope, edit.range, PositionEncoding::Utf16);
        let mut out = text.to_string();
        out.replace_range(range.start..range.end, &edit.new_text);
        out
    }

    #[test]
    fn suppress_on_the_line_keeps_indentation_and_line_endings() {
        let text = "fn f() {\r\n\t\tlet (a, b) = std::sync::mpsc::channel::<u8>();\r\n}\r\n";
        let a = analyzed(Language::Rust, text);
        let edit = suppress_line_edit(&a, 1, "BKP001");
        assert_eq!(
            apply(text, &edit),
            "fn f() {\r\n\t\t// distsys-review: ignore[BKP001] <reason>\r\n\t\tlet (a, b) = std::sync::mpsc::channel::<u8>();\r\n}\r\n"
        );
    }

    #[test]
    fn sql_suppressions_use_double_dashes() {
        let text = "  DROP TABLE users;\n";
        let a = analyzed(Language::Sql, text);
        assert_eq!(
            apply(text, &suppress_line_edit(&a, 0, "OPS001")),
            "  -- distsys-review: ignore[OPS001] <reason>\n  DROP TABLE users;\n"
        );
        assert_eq!(
            apply(text, &suppress_file_edit(&a, "OPS001")),
            "-- distsys-review: ignore-file[OPS001] <reason>\n  DROP TABLE users;\n"
        );
    }

    #[test]
    fn an_existing_suppression_gets_the_code_added() {
        let text = "fn f() {\n    // distsys-review: ignore[RES001] caller sets a deadline\n    let (a, b) = std::sync::mpsc::channel::<u8>();\n}\n";
        let a = analyzed(Language::Rust, text);
        assert_eq!(
            apply(text, &suppress_line_edit(&a, 2, "BKP001")),
            text.replace("ignore[RES001]", "ignore[RES001, BKP001]")
        );
        let text = "#!/usr/bin/env run-cargo-script\nfn f() {}\n";
        let a = analyzed(Language::Rust, text);
        assert_eq!(
            apply(text, &suppress_file_edit(&a, "BKP001")),
            "#!/usr/bin/env run-cargo-script\n// distsys-review: ignore-file[BKP001] <reason>\nfn f() {}\n"
        );
        let text = "// distsys-review: ignore-file[RES001] generated\nfn f() {}\n";
        let a = analyzed(Language::Rust, text);
        assert_eq!(
            apply(text, &suppress_file_edit(&a, "BKP001")),
            text.replace("ignore-file[RES001]", "ignore-file[RES001, BKP001]")
        );
    }

    #[test]
    fn fix_all_removes_every_unused_suppression() {
        let text = "// distsys-review: ignore[BKP001] gone\nfn a() {}\nfn b() {} // distsys-review: ignore[BKP001] gone too\n";
        let a = analyzed(Language::Rust, text);
        let edit = fix_all_edit(&a).expect("there are safe fixes");
        assert_eq!(apply(text, &edit), "fn a() {}\nfn b() {}\n");
    }

    #[test]
    fn changed_region_is_minimal_and_respects_boundaries() {
        assert_eq!(changed_region("abcdef", "abXdef"), (2, 3, 3));
        assert_eq!(changed_region("a\r\nb", "a\r\n\r\nb"), (3, 3, 5));
        assert_eq!(changed_region("a\r\nb", "a\rX\nb"), (1, 3, 4));
        assert_eq!(changed_region("x😀y", "x😃y"), (1, 5, 5));
        assert_eq!(changed_region("same", "same"), (4, 4, 4));
        assert_eq!(changed_region("aa", "a"), (1, 2, 1));
    }

    #[test]
    fn kinds_match_by_prefix() {
        let kind = CodeActionKind::new(FIX_ALL_KIND);
        assert!(wants(None, &kind));
        assert!(wants(Some(&[CodeActionKind::SOURCE_FIX_ALL]), &kind));
        assert!(wants(Some(&[CodeActionKind::SOURCE]), &kind));
        assert!(!wants(Some(&[CodeActionKind::QUICKFIX]), &kind));
        assert!(!wants(Some(&[CodeActionKind::new("source.fix")]), &kind));
    }
}
