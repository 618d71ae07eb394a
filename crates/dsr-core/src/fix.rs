//! Applying fix edits to a text: used by `check --fix`, by the LSP's fix-all, and by the rule tests.

use crate::finding::{Applicability, Edit, Finding};

/// Applies non-overlapping edits (sorted here) to `source`. Overlapping edits after the first are skipped and
/// counted in the second return value.
pub fn apply_edits(source: &str, edits: &[Edit]) -> (String, usize) {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(source.len());
    let mut cursor = 0;
    let mut skipped = 0;
    for edit in sorted {
        let valid = edit.range.start >= cursor
            && edit.range.end <= source.len()
            && source.is_char_boundary(edit.range.start)
            && source.is_char_boundary(edit.range.end);
        if !valid {
            skipped += 1;
            continue;
        }
        out.push_str(&source[cursor..edit.range.start]);
        out.push_str(&edit.replacement);
        cursor = edit.range.end;
    }
    out.push_str(&source[cursor..]);
    (out, skipped)
}

/// The edits of every fix of at least `minimum` applicability, whole fixes only: a fix whose edits overlap an
/// earlier fix's is left for the next round (callers re-analyse and loop to a fixed point with a cap). An edit
/// identical to one already taken (the same import added by two fixes) is shared, not a conflict.
pub fn collect_fix_edits<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    allow_maybe: bool,
) -> Vec<Edit> {
    let mut taken: Vec<Edit> = Vec::new();
    for finding in findings {
        let Some(fix) = &finding.fix else { continue };
        let applicable = match fix.applicability {
            Applicability::Always => true,
            Applicability::Maybe => allow_maybe,
            Applicability::DisplayOnly => false,
        };
        if !applicable || fix.edits.is_empty() {
            continue;
        }
        let new_edits: Vec<&Edit> = fix.edits.iter().filter(|e| !taken.contains(e)).collect();
        let overlaps = new_edits.iter().any(|edit| {
            taken.iter().any(|t| {
                edit.range.intersects(t.range)
                    || (edit.range.start == t.range.start
                        && (edit.range.is_empty() || t.range.is_empty()))
            })
        });
        if !overlaps {
            taken.extend(new_edits.into_iter().cloned());
        }
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_syntax::TextRange;

    #[test]
    fn applies_edits_in_order_and_skips_overlaps() {
        let edits = vec![
            Edit::replace(TextRange::new(4, 5), "X"),
            Edit::insert(0, ">"),
            Edit::replace(TextRange::new(3, 5), "no"),
        ];
        assert_eq!(apply_edits("abcdef", &edits), (">abcnof".to_string(), 1));
    }

    fn finding_with(edits: Vec<Edit>) -> Finding {
        use crate::finding::{Confidence, FindingKind, Fix, Impact, Severity};
        Finding {
            rule: &crate::suppression::UnusedSuppression::META,
            title: String::new(),
            severity: Severity::High,
            impact: Impact::Availability,
            kind: FindingKind::Finding,
            confidence: Confidence::High,
            range: TextRange::new(0, 0),
            component: String::new(),
            trigger: String::new(),
            expected: String::new(),
            actual: String::new(),
            evidence: Vec::new(),
            fix: Some(Fix::edits("f", Applicability::Always, edits)),
            role: crate::role::CodeRole::Production,
        }
    }

    #[test]
    fn identical_edits_are_shared_between_fixes() {
        let import = Edit::insert(0, "use x;\n");
        let findings = [
            finding_with(vec![Edit::insert(10, "a"), import.clone()]),
            finding_with(vec![Edit::insert(20, "b"), import.clone()]),
            // A different edit at the same place still conflicts.
            finding_with(vec![Edit::insert(30, "c"), Edit::insert(0, "use y;\n")]),
        ];
        let edits = collect_fix_edits(&findings, false);
        assert_eq!(
            edits,
            [Edit::insert(10, "a"), import, Edit::insert(20, "b")]
        );
    }
}
