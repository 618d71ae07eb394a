//! The metadata every rule declares ([`RuleMeta`], through [`declare_rule!`](crate::declare_rule)), and a row of
//! the codes table ([`Registered`]). Kept apart from the [`Rule`](crate::rule::Rule) trait so that a finding can
//! point at its rule's metadata without a cycle between the modules.

use dsr_syntax::Language;

use crate::classification::{FindingKind, Impact, Severity};
use crate::role::CodeRole;

/// The review checklist's families; the code prefix names the family.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Resilience,
    Delivery,
    Consistency,
    Ordering,
    State,
    Coordination,
    Backpressure,
    Observability,
    Api,
    Operations,
    /// About the tool's own comments (unused suppressions).
    Meta,
}

impl Family {
    pub const fn prefix(self) -> &'static str {
        match self {
            Family::Resilience => "RES",
            Family::Delivery => "DEL",
            Family::Consistency => "CON",
            Family::Ordering => "ORD",
            Family::State => "STA",
            Family::Coordination => "LCK",
            Family::Backpressure => "BKP",
            Family::Observability => "OBS",
            Family::Api => "API",
            Family::Operations => "OPS",
            Family::Meta => "DSR",
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            Family::Resilience => "failure handling and resilience",
            Family::Delivery => "idempotency and delivery semantics",
            Family::Consistency => "consistency and correctness",
            Family::Ordering => "ordering, causality and time",
            Family::State => "state ownership",
            Family::Coordination => "coordination and locking",
            Family::Backpressure => "backpressure and load",
            Family::Observability => "observability",
            Family::Api => "API and protocol design",
            Family::Operations => "operations and deployment",
            Family::Meta => "suppressions",
        }
    }
}

/// Whether a rule can offer edits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FixAvailability {
    /// Every finding carries edits.
    Always,
    /// Some findings carry edits, others advice.
    Sometimes,
    /// Advice only.
    Never,
}

/// A rule's life cycle; codes are never reused, removed rules keep their row. Said once per rule, in the
/// codes table (dsr-rules' `codes.rs`), never in the rule's own file.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RuleStatus {
    /// Runs when selected.
    Stable,
    /// New, its precision not yet judged on real code: runs only when selected *and* `preview = true`.
    Preview,
    /// Kept so that its code is not reused and configurations naming it still load: runs only when selected by
    /// its full code, never through a family prefix or `ALL`.
    Deprecated,
}

impl RuleStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Stable => "stable",
            RuleStatus::Preview => "preview",
            RuleStatus::Deprecated => "deprecated",
        }
    }
}

/// How much of a file a rule's findings depend on; incremental analysis (docs/incremental.md) relies on it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RuleScope {
    /// A finding depends on the function (or top-level item) it is in, the file's imports and declarations, and
    /// what the shared models the rule reads link to that function ([`Model`]). Incremental analysis is exact.
    Function,
    /// A finding may depend on any part of the file (is there a health route anywhere? does any other function
    /// still use this import?). Incremental results are provisional; the whole-file pass settles them.
    File,
}

/// A shared model of dsr-semantic that rules read (`RuleContext::remote_calls()`, …), named for what it lets a
/// finding depend on outside the function it is in. The incremental engine derives which chunks of a file a slice
/// holds from the models the enabled rules read, instead of assuming every rule reads every model.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Model {
    /// Which calls reach a remote system, directly or through functions of the file (`remote_calls`): a
    /// function's callees.
    RemoteCalls,
    /// Retry loops and retry-library calls (`retries`): built on remote effects; a function passed to a retry
    /// library is retried where it is passed.
    Retries,
    /// Loops over collections and what they start per element (`loops`): built on remote effects and retries.
    Loops,
    /// Distributed and in-process locks (`locks`): built on remote calls.
    Locks,
    /// Message handlers, transactions and the writes of a function (`messaging`, `transactions`,
    /// `write_sites`): a handler is what a subscription registers.
    Messaging,
    /// Reads and writes of shared stores (`store_accesses`).
    Store,
    /// Request handlers, routes and server entry points (`handlers`): a handler is what a router registers, and a
    /// server "runs in main" through the functions main calls.
    Handlers,
    /// Wall-clock readings and where their values go (`time`): built on remote calls.
    Time,
    /// Values kept in package-level variables and struct fields (the facts' def-use): a client configured in
    /// `init`, a slice field appended to in one method and drained in another.
    StoredValues,
}

/// The kinds of code ([`CodeRole`]) a rule's advice is for, within the run's `[scope]`: declared by the rule
/// (`roles:` in [`declare_rule!`](crate::declare_rule), [`RuleRoles::Everywhere`] when absent) and applied by the
/// engine, never by the rule's own detector.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RuleRoles {
    /// Wherever the scope reaches, at the rule's severity: correctness hazards (races, lost writes, locks).
    Everywhere,
    /// Code that serves traffic (server timeouts, health endpoints, graceful shutdown, per-process state): not
    /// reported in tool, frontend or build code, which serves nobody, nor in tests even when `[scope]` includes
    /// them: a server a test starts is a fixture.
    Servers,
    /// Advice for a service calling others (fan-out, retries in step, leaked bodies): in tool, frontend and build
    /// code, where a person is watching and can retry, it is reported at [`Severity::Low`] at most.
    Clients,
    /// Advice that only matters for a long-running service calling others (a client timeout, backoff between
    /// retries, a cap on retries or on a response body, the caller's cancellation): not reported in tool,
    /// frontend or build code, where one invocation has a person or a job waiting on it who stops it, and the
    /// only memory or time at stake is that run's (docs/precision.md, issue 13).
    ServiceClients,
}

impl RuleRoles {
    /// Where the rule reports, for its documentation page.
    pub const fn describe(self) -> &'static str {
        match self {
            RuleRoles::Everywhere => "every role in `[scope]`",
            RuleRoles::Servers => "production and example code in `[scope]`; not tools, frontends, build scripts or tests",
            RuleRoles::Clients => "every role in `[scope]`; Low severity in tools, frontends and build scripts",
            RuleRoles::ServiceClients => "production, example and test code in `[scope]`; not tools, frontends or build scripts",
        }
    }

    /// The severity a finding of `severity` has in code of `role`, or `None` when the rule does not apply there.
    pub fn severity_in(self, role: CodeRole, severity: Severity) -> Option<Severity> {
        let serves_nobody = matches!(role, CodeRole::Tool | CodeRole::Frontend | CodeRole::Build);
        match self {
            RuleRoles::Everywhere => Some(severity),
            RuleRoles::Servers if serves_nobody || role == CodeRole::Test => None,
            RuleRoles::Servers => Some(severity),
            RuleRoles::Clients if serves_nobody => Some(severity.min(Severity::Low)),
            RuleRoles::Clients => Some(severity),
            RuleRoles::ServiceClients if serves_nobody => None,
            RuleRoles::ServiceClients => Some(severity),
        }
    }
}

/// Something a file must hold for a rule to fire, declared on the rule (`requires:` in
/// [`declare_rule!`](crate::declare_rule)) and tested by the engine against the counts and indexes the facts
/// pass keeps anyway, before the rule runs (ast-grep's per-rule prescan; the role prescan is the other half).
/// A rule declares evidence only when every finding it can make starts from it: a wrong declaration loses
/// findings, so each is checked against the rule's detector and the corpora (docs/performance.md).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// A node of this grammar kind (in the file's language: a kind its grammar lacks is never there).
    Kind(&'static str),
    /// A call whose callee, as written, ends in this segment (`append`, `s.append`, `pkg::append`).
    Callee(&'static str),
    /// A call the knowledge base lists as a wall-clock reading (`[[clock]]`), by its callee's last segment.
    KbClock,
    /// A call the knowledge base lists as an unbounded channel (`[[unbounded_channel]]`), by its callee's last
    /// segment.
    KbUnboundedChannel,
}

/// A row of the codes table: a rule and its status, and the status of its open questions.
pub struct Registered<R: ?Sized + 'static> {
    pub rule: &'static R,
    pub status: RuleStatus,
    /// [`RuleStatus::Preview`]: the rule's open questions are reported only with `preview = true`, its findings
    /// as its `status` says. For a rule whose findings are judged precise on real code but whose questions are
    /// not yet worth asking often enough (DESIGN §8: 80 %).
    pub questions: RuleStatus,
}

impl<R: ?Sized + 'static> Registered<R> {
    pub const fn stable(rule: &'static R) -> Self {
        Self::with_status(rule, RuleStatus::Stable)
    }

    pub const fn preview(rule: &'static R) -> Self {
        Self::with_status(rule, RuleStatus::Preview)
    }

    pub const fn deprecated(rule: &'static R) -> Self {
        Self::with_status(rule, RuleStatus::Deprecated)
    }

    const fn with_status(rule: &'static R, status: RuleStatus) -> Self {
        Self {
            rule,
            status,
            questions: status,
        }
    }

    /// The same row with the rule's open questions in preview.
    pub const fn questions_in_preview(self) -> Self {
        Self {
            questions: RuleStatus::Preview,
            ..self
        }
    }
}

/// What a rule declares about itself (see [`declare_rule!`](crate::declare_rule)). A rule is identified by its
/// code: two metas are equal when their codes are, and debug output shows the code.
pub struct RuleMeta {
    pub code: &'static str,
    pub slug: &'static str,
    pub family: Family,
    /// `TypeScript` covers TSX and JavaScript too.
    pub languages: &'static [Language],
    pub severity: Severity,
    pub impact: Impact,
    /// `OpenQuestion` for rules that only ever ask.
    pub kind: FindingKind,
    pub fix: FixAvailability,
    pub scope: RuleScope,
    /// The shared models the detector reads.
    pub reads: &'static [Model],
    /// The kinds of code the rule's advice is for.
    pub roles: RuleRoles,
    /// What a file must hold for the rule to find anything in it: any one of these (empty: no prescan). The
    /// engine skips the rule, and so the models only it would start, on a file whose facts hold none of them.
    pub requires: &'static [Evidence],
    /// The doc comment, one entry per line, each still with the space that follows `///`.
    pub doc_lines: &'static [&'static str],
}

impl PartialEq for RuleMeta {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for RuleMeta {}

impl std::fmt::Debug for RuleMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
}

impl RuleMeta {
    pub fn applies_to(&self, language: Language) -> bool {
        self.languages.iter().any(|declared| {
            *declared == language || (declared.is_typescript() && language.is_typescript())
        })
    }

    /// The rule's documentation page, in Markdown.
    pub fn doc(&self) -> String {
        let mut doc = String::new();
        for line in self.doc_lines {
            doc.push_str(line.strip_prefix(' ').unwrap_or(line));
            doc.push('\n');
        }
        doc
    }

    /// One section of the doc (`## Why it fails under partial failure` → its body), trimmed.
    pub fn doc_section(&self, heading: &str) -> Option<String> {
        let doc = self.doc();
        let marker = format!("## {heading}");
        let start = doc.find(&marker)? + marker.len();
        let body = &doc[start..];
        let end = body.find("\n## ").unwrap_or(body.len());
        Some(body[..end].trim().to_string())
    }

    /// The first sentence of "What it finds", for tables and SARIF short descriptions.
    pub fn summary(&self) -> String {
        let what = self.doc_section("What it finds").unwrap_or_default();
        let paragraph = what
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .replace('\n', " ");
        match paragraph.find(". ") {
            Some(end) => paragraph[..=end].trim().to_string(),
            None => paragraph.trim().to_string(),
        }
    }
}

/// Declares a rule: a unit struct whose doc comment is the rule's documentation page, and its [`RuleMeta`] as
/// `Self::META`. The doc comment must have the sections STYLE.md names; a test in dsr-rules checks that.
///
/// ```ignore
/// declare_rule! {
///     /// ## What it finds
///     /// ...
///     pub struct HttpClientWithoutTimeout {
///         code: "RES001",
///         slug: "http-client-without-timeout",
///         family: Resilience,
///         languages: [Go, Rust, TypeScript],
///         severity: High,
///         impact: Availability,
///         kind: Finding,
///         fix: Sometimes,
///         scope: Function,
///         reads: [RemoteCalls, StoredValues],
///         roles: Clients, // optional: `Everywhere` when absent
///         requires: [Callee("Client"), KbClock], // optional: a prescan, any one of these (none when absent)
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            code: $code:literal,
            slug: $slug:literal,
            family: $family:ident,
            languages: [$($language:ident),* $(,)?],
            severity: $severity:ident,
            impact: $impact:ident,
            kind: $kind:ident,
            fix: $fix:ident,
            scope: $scope:ident,
            reads: [$($model:ident),* $(,)?]
            $(, roles: $roles:ident)?
            $(, requires: [$($evidence:ident $(($argument:literal))?),* $(,)?])? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Default, Clone, Copy)]
        $vis struct $name;

        impl $name {
            pub const META: $crate::meta::RuleMeta = $crate::meta::RuleMeta {
                code: $code,
                slug: $slug,
                family: $crate::meta::Family::$family,
                languages: &[$($crate::Language::$language),*],
                severity: $crate::classification::Severity::$severity,
                impact: $crate::classification::Impact::$impact,
                kind: $crate::classification::FindingKind::$kind,
                fix: $crate::meta::FixAvailability::$fix,
                scope: $crate::meta::RuleScope::$scope,
                reads: &[$($crate::meta::Model::$model),*],
                roles: {
                    let roles = $crate::meta::RuleRoles::Everywhere;
                    $(let roles = $crate::meta::RuleRoles::$roles;)?
                    roles
                },
                requires: &[$($($crate::meta::Evidence::$evidence $(($argument))?),*)?],
                doc_lines: &[$($doc),*],
            };
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_rules_skip_code_that_serves_nobody_and_client_advice_is_low_there() {
        use CodeRole::*;
        for role in [Tool, Frontend, Build, Test] {
            assert_eq!(
                RuleRoles::Servers.severity_in(role, Severity::High),
                None,
                "{role}"
            );
        }
        for role in [Production, Example] {
            assert_eq!(
                RuleRoles::Servers.severity_in(role, Severity::High),
                Some(Severity::High)
            );
        }
        for role in [Tool, Frontend, Build] {
            assert_eq!(
                RuleRoles::Clients.severity_in(role, Severity::High),
                Some(Severity::Low)
            );
        }
        assert_eq!(
            RuleRoles::Clients.severity_in(Production, Severity::High),
            Some(Severity::High)
        );
        assert_eq!(
            RuleRoles::Clients.severity_in(Test, Severity::Medium),
            Some(Severity::Medium)
        );
        for role in [Tool, Frontend, Build] {
            assert_eq!(
                RuleRoles::ServiceClients.severity_in(role, Severity::High),
                None,
                "{role}"
            );
        }
        for role in [Production, Example, Test] {
            assert_eq!(
                RuleRoles::ServiceClients.severity_in(role, Severity::High),
                Some(Severity::High)
            );
        }
        for role in CodeRole::ALL {
            assert_eq!(
                RuleRoles::Everywhere.severity_in(role, Severity::Critical),
                Some(Severity::Critical)
            );
        }
    }
}
