//! Other linters' suppression comments that say the same thing as one of our rules. A line that already carries
//! `#nosec G114 -- <reason>` (a server without timeouts, justified) should not be reported again by RES002: the
//! team has made and written down the decision. Only a comment with a reason counts; a bare `//nolint:bodyclose`
//! says nothing about why, so our finding stays (and, not being our directive, it is never reported as DSR001 or
//! DSR002). docs/configuration.md lists this table.

/// A linter whose suppression comments we read.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Linter {
    /// gosec, `#nosec G114 G112 -- reason`, and its rule IDs.
    Gosec,
    /// golangci-lint, `//nolint:bodyclose,noctx // reason`, and its linter names.
    Golangci,
    /// ESLint, `// eslint-disable-next-line rule-a, rule-b -- reason` (and `eslint-disable-line`).
    Eslint,
}

impl Linter {
    pub const fn name(self) -> &'static str {
        match self {
            Linter::Gosec => "gosec",
            Linter::Golangci => "golangci-lint",
            Linter::Eslint => "ESLint",
        }
    }
}

/// One foreign code and the rules of ours that report the same concern.
pub struct Mapping {
    pub linter: Linter,
    /// The other linter's code as written in its comment (gosec rule ID, golangci linter name, ESLint rule).
    pub code: &'static str,
    pub rules: &'static [&'static str],
    /// What the other linter's code is about, for the documentation.
    pub concern: &'static str,
}

/// The mapping. A foreign code not listed here suppresses nothing of ours.
pub const MAPPINGS: &[Mapping] = &[
    Mapping {
        linter: Linter::Gosec,
        code: "G114",
        rules: &["RES002"],
        concern: "net/http serve function without timeouts",
    },
    Mapping {
        linter: Linter::Gosec,
        code: "G112",
        rules: &["RES002"],
        concern: "server without ReadHeaderTimeout (Slowloris)",
    },
    Mapping {
        linter: Linter::Gosec,
        code: "G104",
        rules: &["OBS002"],
        concern: "error not checked",
    },
    Mapping {
        linter: Linter::Golangci,
        code: "gosec",
        rules: &["RES002", "OBS002"],
        concern: "every gosec rule mapped above",
    },
    Mapping {
        linter: Linter::Golangci,
        code: "errcheck",
        rules: &["OBS002"],
        concern: "error not checked",
    },
    Mapping {
        linter: Linter::Golangci,
        code: "contextcheck",
        rules: &["OBS001"],
        concern: "a function called with a context not derived from the caller's",
    },
    Mapping {
        linter: Linter::Golangci,
        code: "noctx",
        rules: &["OBS001"],
        concern: "an HTTP request or SQL call without a context",
    },
    Mapping {
        linter: Linter::Golangci,
        code: "bodyclose",
        rules: &["RES007"],
        concern: "an HTTP response body not closed",
    },
    Mapping {
        linter: Linter::Eslint,
        code: "@typescript-eslint/no-floating-promises",
        rules: &["OBS002"],
        concern: "a promise neither awaited nor handled",
    },
    Mapping {
        linter: Linter::Eslint,
        code: "no-empty",
        rules: &["OBS002"],
        concern: "an empty block (an empty `catch`)",
    },
    Mapping {
        linter: Linter::Eslint,
        code: "@typescript-eslint/no-empty-function",
        rules: &["OBS002"],
        concern: "an empty function (`.catch(() => {})`)",
    },
    Mapping {
        linter: Linter::Eslint,
        code: "promise/catch-or-return",
        rules: &["OBS002"],
        concern: "a promise neither returned nor given a `catch`",
    },
    Mapping {
        linter: Linter::Eslint,
        code: "no-await-in-loop",
        rules: &["BKP003"],
        concern: "an `await` inside a loop",
    },
];

/// A foreign suppression comment: the rules of ours it covers and its reason, if it gives one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Justification {
    pub linter: Linter,
    pub rules: Vec<&'static str>,
    pub reason: Option<String>,
}

/// Words that start a foreign directive, for skipping the comments that cannot hold one.
pub const MARKERS: &[&str] = &["nolint", "#nosec", "eslint-disable"];

/// Reads one comment's text (leaders included) as another linter's suppression of codes we map.
pub fn parse(comment: &str) -> Option<Justification> {
    let body = strip_leader(comment);
    if let Some(rest) = body.strip_prefix("nolint:") {
        // `nolint:a,b // reason`: the names end at the first blank.
        let (names, reason) = split_at_blank(rest);
        let reason = reason.trim_start().strip_prefix("//").map(str::trim);
        return justification(Linter::Golangci, names.split(','), reason);
    }
    if let Some(at) = body.find("#nosec") {
        // `#nosec G114 G112 -- reason` (gosec also accepts the directive after other text).
        let rest = &body[at + "#nosec".len()..];
        let (codes, reason) = split_reason(rest, "--");
        return justification(Linter::Gosec, codes.split_whitespace(), reason);
    }
    for directive in ["eslint-disable-next-line", "eslint-disable-line"] {
        if let Some(rest) = body.strip_prefix(directive) {
            let (rules, reason) = split_reason(rest, "--");
            return justification(Linter::Eslint, rules.split(','), reason);
        }
    }
    None
}

fn strip_leader(comment: &str) -> &str {
    let text = comment.trim();
    let text = text
        .strip_prefix("//")
        .or_else(|| text.strip_prefix("/*"))
        .unwrap_or(text);
    text.trim_end_matches("*/").trim()
}

fn split_at_blank(text: &str) -> (&str, &str) {
    match text.find(char::is_whitespace) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, ""),
    }
}

fn split_reason<'a>(text: &'a str, separator: &str) -> (&'a str, Option<&'a str>) {
    match text.find(separator) {
        Some(at) => (&text[..at], Some(text[at + separator.len()..].trim())),
        None => (text, None),
    }
}

fn justification<'a>(
    linter: Linter,
    codes: impl Iterator<Item = &'a str>,
    reason: Option<&str>,
) -> Option<Justification> {
    let mut rules: Vec<&'static str> = Vec::new();
    for code in codes.map(str::trim).filter(|c| !c.is_empty()) {
        let mapped = MAPPINGS
            .iter()
            .filter(|m| m.linter == linter && m.code.eq_ignore_ascii_case(code));
        for rule in mapped.flat_map(|m| m.rules.iter()) {
            if !rules.contains(rule) {
                rules.push(rule);
            }
        }
    }
    if rules.is_empty() {
        return None;
    }
    Some(Justification {
        linter,
        rules,
        reason: reason
            .map(|r| r.trim_end_matches("*/").trim())
            .filter(|r| !r.is_empty())
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nolint_with_and_without_reason() {
        let found = parse("//nolint:contextcheck // outlives ctx; Stop() ends it").expect("mapped");
        assert_eq!(found.linter, Linter::Golangci);
        assert_eq!(found.rules, ["OBS001"]);
        assert_eq!(
            found.reason.as_deref(),
            Some("outlives ctx; Stop() ends it")
        );
        let bare = parse("//nolint:bodyclose,noctx").expect("mapped");
        assert_eq!(bare.rules, ["RES007", "OBS001"]);
        assert_eq!(bare.reason, None);
        assert!(parse("//nolint:lll // long line").is_none());
    }

    #[test]
    fn reads_nosec_and_eslint() {
        let nosec = parse("// #nosec G114 -- dev adapter on localhost").expect("mapped");
        assert_eq!(nosec.rules, ["RES002"]);
        assert_eq!(nosec.reason.as_deref(), Some("dev adapter on localhost"));
        assert_eq!(parse("// #nosec G114").map(|j| j.reason), Some(None));
        let eslint = parse(
            "// eslint-disable-next-line @typescript-eslint/no-floating-promises -- fire and forget",
        )
        .expect("mapped");
        assert_eq!(eslint.rules, ["OBS002"]);
        assert_eq!(eslint.reason.as_deref(), Some("fire and forget"));
        assert!(parse("// eslint-disable-next-line no-console -- debugging").is_none());
    }
}
