//! Suppression comments: `// distsys-review: ignore[RES001] reason` on the line or the line above,
//! `// distsys-review: ignore-file[RES001] reason` anywhere (by convention at the top), `-- …` in SQL.
//! A suppression that suppresses nothing, or that gives no reason, is itself reported. Another linter's
//! suppression with a reason for the same concern (`#nosec G114 -- …`, `//nolint:bodyclose // …`, see
//! [`crate::justification`]) suppresses the mapped rules too, and is never reported itself.

use dsr_syntax::{Language, TextRange};

use crate::declare_rule;
use crate::finding::{Applicability, Confidence, Edit, Finding, FindingKind, Fix};
use crate::justification::{self, Linter};
use crate::role::CodeRole;
use crate::rule::{Rule, RuleMeta};

const MARKER: &str = "distsys-review:";

/// Whether a comment can hold a suppression directive: the others need not be kept for [`parse`].
pub fn may_be_directive(source: &str, comment: TextRange) -> bool {
    source
        .get(comment.start..comment.end)
        .is_some_and(may_hold_directive)
}

/// Whether a text holds anything a directive is made of ([`may_be_directive`] on every comment it could
/// have, and on its strings too): `false` says no comment of it is a directive, without its comments.
pub fn may_hold_directive(text: &str) -> bool {
    text.contains(MARKER) || justification::MARKERS.iter().any(|m| text.contains(m))
}

declare_rule! {
    /// ## What it finds
    /// A `distsys-review: ignore[...]` comment that suppresses nothing: the finding it was written for is gone,
    /// the code it names does not exist, or it sits on a line no finding starts on.
    ///
    /// ## Why it fails under partial failure
    /// A stale suppression is a blind spot waiting for the next edit: when a defect of that rule appears on that
    /// line again, nobody hears about it. Removing stale suppressions keeps the remaining ones meaningful.
    ///
    /// ## Known false positives
    /// A suppression written for a rule that is disabled in this run (`--select`, `ignore`) is not reported.
    ///
    /// ## Example
    /// ```go
    /// // distsys-review: ignore[RES001] the client below has a timeout now
    /// client := &http.Client{Timeout: 5 * time.Second}
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// client := &http.Client{Timeout: 5 * time.Second}
    /// ```
    ///
    /// ## Fix safety
    /// Removing the comment is safe: it changes nothing but what is reported.
    ///
    /// ## Configuration
    /// Select or ignore `DSR001` like any rule.
    ///
    /// ## References
    /// - ruff's RUF100 (unused `noqa`), which this follows.
    pub struct UnusedSuppression {
        code: "DSR001",
        slug: "unused-suppression",
        family: Meta,
        languages: [Go, Rust, TypeScript, Sql],
        severity: Low,
        impact: Operability,
        kind: Finding,
        fix: Always,
        scope: Function,
        reads: [],
    }
}

declare_rule! {
    /// ## What it finds
    /// A `distsys-review: ignore[...]` comment that gives no reason after the rule codes.
    ///
    /// ## Why it fails under partial failure
    /// The reason is what lets the next reader judge whether the suppression still holds when the code around
    /// it changes: "the caller sets a deadline on ctx" can be checked, a bare ignore cannot.
    ///
    /// ## Known false positives
    /// None; turn it off with `[suppressions] require-reason = false`.
    ///
    /// ## Example
    /// ```go
    /// resp, err := http.Get(url) // distsys-review: ignore[RES001]
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// resp, err := http.Get(url) // distsys-review: ignore[RES001] test helper against a local httptest server
    /// ```
    ///
    /// ## Fix safety
    /// No fix: only the author knows the reason.
    ///
    /// ## Configuration
    /// `[suppressions] require-reason = false` turns the requirement off.
    ///
    /// ## References
    /// - biome's and oxc's suppression comments, which require an explanation.
    pub struct SuppressionWithoutReason {
        code: "DSR002",
        slug: "suppression-without-reason",
        family: Meta,
        languages: [Go, Rust, TypeScript, Sql],
        severity: Low,
        impact: Operability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [],
    }
}

/// DSR001 and DSR002 are rules like any other to the registry, selection and docs, but their findings are made
/// by [`apply`] (the engine calls it after the rules ran), so their `check` reports nothing, over any context.
macro_rules! reported_by_apply {
    ($($rule:ident),*) => {
        $(impl<Context: ?Sized> Rule<Context> for $rule {
            fn meta(&self) -> &'static RuleMeta {
                &Self::META
            }

            fn check(&self, _: &Context, _: &mut Vec<Finding>) {}
        })*
    };
}

reported_by_apply!(UnusedSuppression, SuppressionWithoutReason);

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The comment's own line, and the next line when the comment stands on a line of its own.
    Lines {
        first: usize,
        last: usize,
    },
    File,
}

/// One code named in a suppression comment.
#[derive(Clone, Debug)]
pub struct SuppressedCode {
    pub code: String,
    pub used: bool,
}

#[derive(Clone, Debug)]
pub struct Suppression {
    /// The whole comment.
    pub comment: TextRange,
    /// The `distsys-review: …` directive inside it.
    pub directive: TextRange,
    /// Whether the comment is the only thing on its line(s), so that removing it removes the line.
    pub standalone: bool,
    pub scope: Scope,
    pub codes: Vec<SuppressedCode>,
    pub reason: Option<String>,
    /// Another linter's comment read through the justification mapping: it serves that linter too, so it is
    /// never reported as unused or reasonless.
    pub foreign: Option<Linter>,
}

/// Line starts of a text, for mapping offsets to line numbers (0-based, `\n`, `\r\n` and `\r` end lines).
pub struct LineStarts(Vec<usize>);

impl LineStarts {
    pub fn new(source: &str) -> Self {
        let bytes = source.as_bytes();
        let mut starts = vec![0];
        // Runs on every keystroke over the whole file: memchr skips the bytes between line breaks.
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n') {
                starts.push(i + 1);
            }
        }
        Self(starts)
    }

    pub fn line_of(&self, offset: usize) -> usize {
        self.0
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.0.get(line).copied().unwrap_or(usize::MAX)
    }
}

/// Parses the suppression comments among `comments` (ranges of comment nodes).
pub fn parse(source: &str, comments: &[TextRange], lines: &LineStarts) -> Vec<Suppression> {
    comments
        .iter()
        .filter_map(|&comment| parse_comment(source, comment, lines))
        .collect()
}

fn parse_comment(source: &str, comment: TextRange, lines: &LineStarts) -> Option<Suppression> {
    let text = source.get(comment.start..comment.end)?;
    let Some(at) = text.find(MARKER) else {
        return parse_foreign(source, comment, text, lines);
    };
    let rest = &text[at + MARKER.len()..];
    let trimmed = rest.trim_start();
    let (scope_file, after_keyword) = if let Some(r) = trimmed.strip_prefix("ignore-file") {
        (true, r)
    } else if let Some(r) = trimmed.strip_prefix("ignore") {
        (false, r)
    } else {
        return None;
    };
    let inner = after_keyword.strip_prefix('[')?;
    let close = inner.find(']')?;
    let codes: Vec<SuppressedCode> = inner[..close]
        .split(',')
        .map(|code| code.trim().to_ascii_uppercase())
        .filter(|code| !code.is_empty())
        .map(|code| SuppressedCode { code, used: false })
        .collect();
    let reason_text = inner[close + 1..]
        .trim()
        .trim_end_matches("*/")
        .trim()
        .trim_start_matches(['-', ':', '—'])
        .trim();
    let reason = (!reason_text.is_empty()).then(|| reason_text.to_string());
    let (standalone, lines_scope) = placement(source, comment, lines);
    let scope = if scope_file { Scope::File } else { lines_scope };
    let directive_end = comment.start
        + at
        + MARKER.len()
        + (rest.len() - trimmed.len())
        + (trimmed.len() - after_keyword.len())
        + 1
        + close
        + 1;
    Some(Suppression {
        comment,
        directive: TextRange::new(comment.start + at, directive_end.min(comment.end)),
        standalone,
        scope,
        codes,
        reason,
        foreign: None,
    })
}

/// Whether a comment stands alone on its line(s), and the lines it covers: its own, and the next one when
/// nothing but the comment is on its line.
fn placement(source: &str, comment: TextRange, lines: &LineStarts) -> (bool, Scope) {
    let line = lines.line_of(comment.start);
    let line_start = lines.line_start(line);
    let code_before = source
        .get(line_start..comment.start)
        .is_some_and(|before| !before.trim().is_empty());
    let end_line = lines.line_of(comment.end);
    let next_start = lines.line_start(end_line + 1).min(source.len());
    let code_after = source
        .get(comment.end..next_start)
        .is_some_and(|after| !after.trim().is_empty());
    let scope = if code_before {
        Scope::Lines {
            first: line,
            last: line,
        }
    } else {
        Scope::Lines {
            first: line,
            last: end_line + 1,
        }
    };
    (!code_before && !code_after, scope)
}

/// Another linter's suppression with a reason, for the rules the justification mapping gives its codes. Without
/// a reason it suppresses nothing of ours.
fn parse_foreign(
    source: &str,
    comment: TextRange,
    text: &str,
    lines: &LineStarts,
) -> Option<Suppression> {
    let found = justification::parse(text)?;
    let reason = found.reason?;
    let (standalone, scope) = placement(source, comment, lines);
    Some(Suppression {
        comment,
        directive: comment,
        standalone,
        scope,
        codes: found
            .rules
            .iter()
            .map(|code| SuppressedCode {
                code: (*code).to_string(),
                used: false,
            })
            .collect(),
        reason: Some(reason),
        foreign: Some(found.linter),
    })
}

/// Removes suppressed findings, marks the suppressions used, and returns the findings about the suppressions
/// themselves (DSR001, DSR002) for the caller to filter by configuration.
pub fn apply(
    findings: &mut Vec<Finding>,
    suppressions: &mut [Suppression],
    lines: &LineStarts,
    source: &str,
    is_enabled: impl Fn(&str) -> bool,
    known_code: impl Fn(&str) -> bool,
    require_reason: bool,
) -> Vec<Finding> {
    findings.retain(|finding| {
        let line = lines.line_of(finding.range.start);
        let mut suppressed = false;
        for suppression in suppressions.iter_mut() {
            let covers = match suppression.scope {
                Scope::File => true,
                Scope::Lines { first, last } => (first..=last).contains(&line),
            };
            if !covers {
                continue;
            }
            for code in &mut suppression.codes {
                if code.code == finding.code() {
                    code.used = true;
                    suppressed = true;
                }
            }
        }
        !suppressed
    });
    let mut meta = Vec::new();
    for suppression in suppressions.iter().filter(|s| s.foreign.is_none()) {
        let unused: Vec<&SuppressedCode> = suppression
            .codes
            .iter()
            .filter(|c| !c.used && (!known_code(&c.code) || is_enabled(&c.code)))
            .collect();
        if !unused.is_empty() {
            let all_unused = unused.len() == suppression.codes.len();
            let names: Vec<&str> = unused.iter().map(|c| c.code.as_str()).collect();
            let unknown: Vec<&str> = names.iter().copied().filter(|c| !known_code(c)).collect();
            let title = if unknown.is_empty() {
                format!("suppression of {} suppresses nothing", names.join(", "))
            } else {
                format!("suppression names unknown rule {}", unknown.join(", "))
            };
            let fix = all_unused.then(|| removal_fix(suppression, source, lines));
            meta.push(Finding {
                rule: &UnusedSuppression::META,
                title,
                severity: UnusedSuppression::META.severity,
                impact: UnusedSuppression::META.impact,
                kind: FindingKind::Finding,
                confidence: Confidence::High,
                range: suppression.directive,
                component: String::new(),
                trigger: "a later defect of this rule on this line is never reported".into(),
                expected: "every suppression hides a finding that is there".into(),
                actual: "no finding of these rules is reported where this comment applies".into(),
                evidence: Vec::new(),
                fix,
                role: CodeRole::default(),
            });
        }
        if require_reason && suppression.reason.is_none() {
            meta.push(Finding {
                rule: &SuppressionWithoutReason::META,
                title: "suppression gives no reason".into(),
                severity: SuppressionWithoutReason::META.severity,
                impact: SuppressionWithoutReason::META.impact,
                kind: FindingKind::Finding,
                confidence: Confidence::High,
                range: suppression.directive,
                component: String::new(),
                trigger: "the next reader cannot tell whether the suppression still holds".into(),
                expected: "`distsys-review: ignore[CODE] <why this is safe here>`".into(),
                actual: "no reason after the rule codes".into(),
                evidence: Vec::new(),
                fix: Some(Fix::advice(
                    "say why the finding does not apply here, after the codes",
                )),
                role: CodeRole::default(),
            });
        }
    }
    meta
}

fn removal_fix(suppression: &Suppression, source: &str, lines: &LineStarts) -> Fix {
    let range = if suppression.standalone {
        let line = lines.line_of(suppression.comment.start);
        let end_line = lines.line_of(suppression.comment.end);
        TextRange::new(
            lines.line_start(line),
            lines.line_start(end_line + 1).min(source.len()),
        )
    } else {
        // Trailing comment: remove it and the whitespace before it.
        let before = &source[..suppression.comment.start];
        let start = before.trim_end_matches([' ', '\t']).len();
        TextRange::new(start, suppression.comment.end)
    };
    Fix::edits(
        "remove the unused suppression",
        Applicability::Always,
        vec![Edit::replace(range, "")],
    )
}

/// The comment leader for a new suppression in `language`.
pub fn comment_prefix(language: Language) -> &'static str {
    language.line_comment()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suppressions(source: &str) -> Vec<Suppression> {
        let lines = LineStarts::new(source);
        let comments: Vec<TextRange> = source
            .match_indices("//")
            .map(|(start, _)| {
                TextRange::new(
                    start,
                    source[start..]
                        .find('\n')
                        .map_or(source.len(), |e| start + e),
                )
            })
            .collect();
        parse(source, &comments, &lines)
    }

    #[test]
    fn parses_codes_reason_and_scope() {
        let source = "a()\n// distsys-review: ignore[RES001, obs001] caller sets the deadline\nb()\nc() // distsys-review: ignore[LCK001]\n";
        let found = suppressions(source);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0]
                .codes
                .iter()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>(),
            ["RES001", "OBS001"]
        );
        assert_eq!(found[0].reason.as_deref(), Some("caller sets the deadline"));
        assert_eq!(found[0].scope, Scope::Lines { first: 1, last: 2 });
        assert!(found[0].standalone);
        assert_eq!(found[1].scope, Scope::Lines { first: 3, last: 3 });
        assert_eq!(found[1].reason, None);
        assert!(!found[1].standalone);
    }

    #[test]
    fn another_linters_justification_suppresses_the_mapped_rules() {
        let source = "srv.ListenAndServe() // #nosec G114 -- local dev adapter only\n//nolint:contextcheck\nc.Start(context.Background())\n";
        let found = suppressions(source);
        assert_eq!(
            found.len(),
            1,
            "a bare nolint gives no reason and suppresses nothing"
        );
        assert_eq!(found[0].codes[0].code, "RES002");
        assert_eq!(found[0].reason.as_deref(), Some("local dev adapter only"));
        assert_eq!(found[0].foreign, Some(Linter::Gosec));
        assert_eq!(found[0].scope, Scope::Lines { first: 0, last: 0 });
        assert!(may_be_directive(source, TextRange::new(21, 61)));
    }

    #[test]
    fn ignores_comments_that_are_not_directives() {
        assert!(
            suppressions("// distsys-review is great\n// distsys-review: ignores[X]\n").is_empty()
        );
        let file = suppressions("// distsys-review: ignore-file[RES001] generated client\n");
        assert_eq!(file[0].scope, Scope::File);
    }
}
