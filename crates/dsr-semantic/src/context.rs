//! The context a detector runs in: one file's text, tree, facts and knowledge base, and the shared models,
//! each computed on first use and then reused by every rule of the file.

use std::path::Path;

use dsr_core::finding::{Confidence, Evidence, Finding, FindingKind, Fix, Severity};
use dsr_core::kb::KnowledgeBase;
use dsr_core::role::CodeRole;
use dsr_core::rule::{Registered, Rule, RuleMeta};
use dsr_syntax::{Language, TextRange};
use tree_sitter::{Node, Tree};

use crate::facts::{Call, FileFacts};
use crate::index::IndexView;
use crate::kb::KbMatch;
use crate::models::clients::{ClientTimeout, Clients};
use crate::models::messaging::transaction::{transactions, Transaction};
use crate::models::messaging::writes::{write_sites, WriteSite};
use crate::models::messaging::MessagingModel;
use crate::models::{Models, RemoteCalls, Retries};
use crate::roles::CodeRoles;
use crate::store_commands::StoreCommands;

/// A rule over the semantic context: what the engine runs and the rules implement.
pub type DynRule = dyn for<'a> Rule<RuleContext<'a>>;

/// A row of the codes table: a rule with its status.
pub type RegisteredRule = Registered<DynRule>;

/// Everything a detector may read about one file.
pub struct RuleContext<'a> {
    pub path: &'a Path,
    pub language: Language,
    pub source: &'a str,
    /// `None` for SQL files.
    pub tree: Option<&'a Tree>,
    pub facts: &'a FileFacts<'a>,
    pub kb: &'a KnowledgeBase,
    /// The configuration's `[sql]`, when the caller has one (see [`RuleContext::with_sql_settings`]).
    pub sql_settings: Option<&'a dsr_core::config::SqlSettings>,
    /// The workspace index as this file sees it, when the front end built one (`None` with `--no-index`).
    pub index: Option<&'a IndexView>,
    /// Shared models, computed on first use and then reused by every rule of the file.
    models: Models<'a>,
}

/// A question about what a call does, asked of the knowledge base first and the workspace index second
/// ([`RuleContext::ask`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Question {
    /// Does the call reach a remote system (itself, through a helper of this file, or through another file)?
    Remote,
    /// Is it a write a repeat would duplicate (a POST without an idempotency key, an INSERT without an
    /// upsert, a publish without a dedup id)?
    NonIdempotentWrite,
    /// Does the callee close (or hand on to code that closes) the response body given as argument `arg`?
    ClosesBody { arg: usize },
    /// Does the call build or configure a client with a timeout (a factory, a constructor, an exported
    /// instance)?
    SetsTimeout,
    /// Does the call acknowledge a message (or commit its offset) — with `arg`, the message given as argument
    /// `arg`?
    Acks { arg: Option<usize> },
    /// Does the callee pass the context or signal given as argument `arg` on to the calls it makes?
    PropagatesCtx { arg: usize },
    /// Does the callee start calls on a fresh context of its own (`context.Background()`), dropping its
    /// caller's deadline and trace?
    DropsCtx,
}

/// The answer to a [`Question`]: whether it holds, where the code shows it (in another file when the index
/// answered), and how sure the resolution on the way is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub holds: bool,
    pub evidence: Option<Evidence>,
    pub confidence: Confidence,
    /// How many calls below the callee the answer was found (0: in the callee itself, or in this file).
    pub depth: u8,
}

impl Answer {
    fn here(holds: bool) -> Self {
        Answer {
            holds,
            evidence: None,
            confidence: Confidence::High,
            depth: 0,
        }
    }
}

impl<'a> RuleContext<'a> {
    pub fn new(
        path: &'a Path,
        language: Language,
        source: &'a str,
        tree: Option<&'a Tree>,
        facts: &'a FileFacts<'a>,
        kb: &'a KnowledgeBase,
    ) -> Self {
        Self {
            path,
            language,
            source,
            tree,
            facts,
            kb,
            sql_settings: None,
            index: None,
            models: Models::default(),
        }
    }

    /// The `[sql]` settings migration rules infer a file's database with.
    pub fn with_sql_settings(mut self, settings: &'a dsr_core::config::SqlSettings) -> Self {
        self.sql_settings = Some(settings);
        self
    }

    /// Analyses the file with the workspace index: calls into other files are resolved through it. The facts
    /// should have been computed with the same view ([`FileFacts::compute_in_workspace`]) so that receivers
    /// bind to types other files declare.
    pub fn with_index(mut self, index: Option<&'a IndexView>) -> Self {
        self.index = index;
        self
    }

    /// Which calls of the file reach a remote system, directly, through a helper of the same file or (with the
    /// workspace index) through a function of another file, which of them change remote state and which are
    /// non-idempotent writes.
    pub fn remote_calls(&self) -> &RemoteCalls {
        self.models.remote_calls.get_or_init(|| {
            RemoteCalls::compute_with_index(self.facts, self.source, self.kb, self.index)
        })
    }

    /// What a call does, as the knowledge base says (and this file's own helpers show) first, and the workspace
    /// index second. `None`: neither knows the callee. The one place rules ask "is this remote", "does it
    /// close the body", "does it set a timeout", "does it ack", "does it pass the context on".
    pub fn ask(&self, call: &Call<'_>, question: Question) -> Option<Answer> {
        use crate::index::Effect;
        let remote = self.remote_calls();
        let index_of_call = remote.call_index(call.node);
        match question {
            Question::Remote | Question::NonIdempotentWrite => {
                let reached = index_of_call.and_then(|i| remote.remote(i))?;
                let holds = question == Question::Remote || reached.write.is_some();
                return Some(match &reached.external {
                    Some(external) => Answer {
                        holds,
                        evidence: Some(Evidence {
                            path: Some(external.path.clone()),
                            range: external.range,
                            note: match (&reached.write, &reached.http_method) {
                                (Some(write), _) if holds => {
                                    format!("the {} is made here", write.kind.describe())
                                }
                                (_, Some(method)) => format!("the HTTP {method} is sent here"),
                                _ => "the remote call is made here".to_string(),
                            },
                        }),
                        confidence: external.confidence,
                        depth: external.depth,
                    },
                    None => Answer::here(holds),
                });
            }
            Question::SetsTimeout
                if self
                    .kb
                    .candidates(self.facts, call)
                    .any(|api| api.timeout == Some(dsr_core::kb::ApiTimeout::Set)) =>
            {
                return Some(Answer::here(true));
            }
            Question::Acks { arg } => {
                let acking = self.kb.role_of(
                    self.facts,
                    call,
                    &[
                        dsr_core::kb::ApiRole::Ack,
                        dsr_core::kb::ApiRole::CommitOffset,
                    ],
                );
                if let Some(api) = acking {
                    return Some(Answer::here(arg.is_none() || api.message_arg == arg));
                }
            }
            _ => {}
        }
        // Calls the knowledge base describes are not the workspace's.
        if self.kb.call(self.facts, call).is_some() {
            return None;
        }
        let effects = self.index?.call_effects(self.facts, call)?;
        let wanted = |effect: &Effect| match (question, effect) {
            (Question::ClosesBody { arg }, Effect::ClosesBody { param }) => *param == arg,
            (Question::PropagatesCtx { arg }, Effect::PropagatesCtx { param }) => *param == arg,
            (Question::SetsTimeout, Effect::SetsTimeout) => true,
            (Question::Acks { arg }, Effect::Ack { param }) => arg.is_none() || *param == arg,
            (Question::DropsCtx, Effect::DropsCtx) => true,
            _ => false,
        };
        let note = |question: Question| match question {
            Question::ClosesBody { .. } => "the body is closed here",
            Question::PropagatesCtx { .. } => "the context is passed on here",
            Question::SetsTimeout => "the timeout is set here",
            Question::Acks { .. } => "the message is acknowledged here",
            Question::DropsCtx => "a fresh context is started here",
            Question::Remote | Question::NonIdempotentWrite => "the remote call is made here",
        };
        // A timeout set inside the function that builds what the call returns counts only for that function
        // itself (the index does not carry it to callers).
        let found = match question {
            Question::SetsTimeout => effects
                .effects
                .iter()
                .find(|e| wanted(&e.effect) && e.depth == 0),
            _ => effects.find(wanted),
        };
        Some(match found {
            Some(effect) => Answer {
                holds: true,
                evidence: Some(Evidence {
                    path: Some(effects.path(effect).to_path_buf()),
                    range: effect.range,
                    note: note(question).to_string(),
                }),
                confidence: effect.confidence,
                depth: effect.depth,
            },
            None => Answer {
                holds: false,
                evidence: effects.targets.functions.first().map(|&target| Evidence {
                    path: Some(effects.linked.path(target.0).to_path_buf()),
                    range: effects.linked.function(target).range,
                    note: "the function called, as the workspace index sees it".to_string(),
                }),
                confidence: effects.targets.confidence,
                depth: 0,
            },
        })
    }

    /// Whether the value `value` names — a parameter of the function it is in — is given a bound in time by
    /// every caller in the workspace (a context with a deadline, an abort signal that times out, options or a
    /// client with a timeout): a fact that flows into the function from its callers. The answer's evidence is
    /// one such call. `None`: not a parameter, no index, no known caller, or a caller that passes no bound.
    pub fn bounded_by_callers(&self, value: Node<'_>) -> Option<Answer> {
        let index = self.index?;
        let value = dsr_syntax::node::strip_wrappers(value, dsr_syntax::node::Wrappers::ALL);
        if value.kind() != "identifier" {
            return None;
        }
        let name = self.node_text(value);
        let scope = self.facts.function_at(value.start_byte());
        let crate::facts::Origin::Parameter {
            function,
            index: param,
        } = self.facts.origin_of(scope, name, value.start_byte())
        else {
            return None;
        };
        let function = &self.facts.functions[function];
        if function.name == crate::facts::ANONYMOUS {
            return None;
        }
        let (path, range) = index.bounded_by_callers(&function.name, param)?;
        Some(Answer {
            holds: true,
            evidence: Some(Evidence {
                path: Some(path.to_path_buf()),
                range,
                note: format!("every caller passes `{name}` with a bound in time, as here"),
            }),
            confidence: Confidence::Medium,
            depth: 1,
        })
    }

    /// The retry loops and retry-library calls of the file.
    pub fn retries(&self) -> &Retries<'a> {
        self.models.retry.get_or_init(|| {
            Retries::compute_with(self.facts, self.source, self.kb, self.remote_calls())
        })
    }

    /// The loops of the file that iterate collections, what they start per element and what bounds it.
    pub fn loops(&self) -> &crate::models::loops::Loops<'a> {
        self.models.loops.get_or_init(|| {
            crate::models::loops::Loops::compute(
                self.facts,
                self.source,
                self.remote_calls(),
                self.retries(),
            )
        })
    }

    /// The HTTP clients and requests of the file, each with whether it is bounded in time.
    pub fn clients(&self) -> &Clients<'a> {
        self.models
            .clients
            .get_or_init(|| Clients::compute(self.facts, self.kb, self.source))
    }

    /// Whether the client or request made at `node` (a call, a Go client literal, `http.DefaultClient` used as
    /// a value) is bounded in time; `None` when it makes no client or request the knowledge base knows.
    pub fn timeout_of(&self, node: Node<'_>) -> Option<ClientTimeout<'a>> {
        self.clients().timeout_of(node)
    }

    /// The key-value store commands the calls of the file send, decoded once.
    pub fn store_commands(&self) -> &StoreCommands<'a> {
        self.models
            .store_commands
            .get_or_init(|| StoreCommands::decode(self.facts, self.kb, self.source))
    }

    /// The distributed and in-process locks of the file, shared by the LCK rules.
    pub fn locks(&self) -> &crate::models::locks::Locks<'a, 'a> {
        self.models.locks.get_or_init(|| {
            crate::models::locks::Locks::compute(
                self.facts,
                self.source,
                self.kb,
                self.store_commands(),
            )
        })
    }

    /// What the file, and each Rust item in it, is for: production code, a test, an example, a tool…
    pub fn roles(&self) -> &CodeRoles {
        self.models
            .roles
            .get_or_init(|| CodeRoles::compute(self.path, self.facts, self.source))
    }

    /// Rust: whether `node` is inside a test item (`#[test]`, `#[tokio::test]`, a `#[cfg(…)]` that requires
    /// `test`), found once per file by [`CodeRoles`].
    pub fn in_rust_test(&self, node: tree_sitter::Node<'_>) -> bool {
        self.roles().in_test_item_range(node.byte_range())
    }

    /// The HTTP/RPC request handlers, route registrations and server starts of the file.
    pub fn handlers(&self) -> &crate::models::handlers::Handlers<'a> {
        self.models.handlers.get_or_init(|| {
            crate::models::handlers::Handlers::compute(self.facts, self.source, self.path)
        })
    }

    /// The wall-clock readings of the file and where their values go (ordering keys, comparisons with stored
    /// times, elapsed-time arithmetic).
    pub fn time(&self) -> &crate::models::time::TimeModel<'a> {
        self.models.time.get_or_init(|| {
            crate::models::time::TimeModel::compute(self.facts, self.source, self.remote_calls())
        })
    }

    /// The message handlers and auto-ack settings of the file.
    pub fn messaging(&self) -> &MessagingModel<'a> {
        self.models.messaging.get_or_init(|| {
            // A call into another file that acknowledges the message it is given (with the index only).
            let acks_elsewhere = |call: &Call<'_>| {
                self.index?;
                if call.args.is_empty() || !self.ask(call, Question::Acks { arg: None })?.holds {
                    return None;
                }
                (0..call.args.len()).find_map(|arg| {
                    let answer = self.ask(call, Question::Acks { arg: Some(arg) })?;
                    Some((arg, answer.evidence?)).filter(|_| answer.holds)
                })
            };
            MessagingModel::build_with(self.facts, self.kb, self.source, &acks_elsewhere)
        })
    }

    /// The transactions begun in the file.
    pub fn transactions(&self) -> &[Transaction<'a>] {
        self.models
            .transactions
            .get_or_init(|| transactions(self.facts, self.kb, self.source))
    }

    /// The database writes, publishes and state-changing service calls of the file.
    pub fn write_sites(&self) -> &[WriteSite<'a>] {
        self.models
            .write_sites
            .get_or_init(|| write_sites(self.facts, self.kb, self.source))
    }

    /// The reads and writes of shared stores (Redis, SQL, etcd, object stores) and their atomicity.
    pub fn store_accesses(&self) -> &crate::models::store::StoreAccesses<'a> {
        self.models.store.get_or_init(|| {
            crate::models::store::StoreAccesses::compute(
                self.facts,
                self.source,
                self.kb,
                self.transactions(),
                self.store_commands(),
            )
        })
    }

    pub fn text(&self, range: TextRange) -> &'a str {
        self.source.get(range.start..range.end).unwrap_or("")
    }

    pub fn node_text(&self, node: tree_sitter::Node<'_>) -> &'a str {
        self.text(TextRange::of(node))
    }

    /// Starts a finding of `meta`'s rule at `range`, with the rule's defaults and the enclosing component.
    pub fn finding(&self, meta: &'static RuleMeta, range: TextRange) -> FindingBuilder {
        FindingBuilder {
            finding: Finding {
                rule: meta,
                title: String::new(),
                severity: meta.severity,
                impact: meta.impact,
                kind: meta.kind,
                confidence: Confidence::High,
                range,
                component: self.facts.component_at(range.start),
                trigger: String::new(),
                expected: String::new(),
                actual: String::new(),
                evidence: Vec::new(),
                fix: None,
                role: CodeRole::default(),
            },
        }
    }
}

/// Fills in a [`Finding`]; `emit` pushes it.
#[must_use]
pub struct FindingBuilder {
    finding: Finding,
}

impl FindingBuilder {
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.finding.title = title.into();
        self
    }

    pub fn trigger(mut self, trigger: impl Into<String>) -> Self {
        self.finding.trigger = trigger.into();
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.finding.expected = expected.into();
        self
    }

    pub fn actual(mut self, actual: impl Into<String>) -> Self {
        self.finding.actual = actual.into();
        self
    }

    pub fn evidence(mut self, range: TextRange, note: impl Into<String>) -> Self {
        self.finding.evidence.push(Evidence {
            path: None,
            range,
            note: note.into(),
        });
        self
    }

    /// Evidence that may be in another file (what [`RuleContext::ask`] answers with).
    pub fn evidence_at(mut self, evidence: Evidence) -> Self {
        self.finding.evidence.push(evidence);
        self
    }

    pub fn fix(mut self, fix: Fix) -> Self {
        self.finding.fix = Some(fix);
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.finding.severity = severity;
        self
    }

    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.finding.confidence = confidence;
        self
    }

    /// Marks the finding as an open question: the code does not show enough to decide.
    pub fn open_question(mut self) -> Self {
        self.finding.kind = FindingKind::OpenQuestion;
        self
    }

    pub fn build(self) -> Finding {
        self.finding
    }

    pub fn emit(self, sink: &mut Vec<Finding>) {
        sink.push(self.finding);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use dsr_syntax::{Document, Language};

    use dsr_core::kb::KnowledgeBase;

    use crate::{FileFacts, RuleContext};

    #[test]
    fn rust_tests_are_items_after_an_attribute_run_that_requires_test() {
        let source = "fn live() { a(); }\n\
            #[test]\nfn unit() { b(); }\n\
            #[tokio::test]\n#[ignore]\nasync fn io() { c(); }\n\
            #[cfg(test)]\nmod tests { fn helper() { d(); } }\n\
            #[test]\n// a comment ends the run\nfn after_comment() { e(); }\n\
            #[derive(Debug)]\nstruct S;\nfn next() { f(); }\n";
        let document = Document::new(Language::Rust, source, 0).expect("grammar loads");
        let tree = document.tree().expect("rust has a tree");
        let facts = FileFacts::compute(Language::Rust, Some(tree), source);
        let ctx = RuleContext::new(
            Path::new("a.rs"),
            Language::Rust,
            source,
            Some(tree),
            &facts,
            KnowledgeBase::builtin(),
        );
        let in_test: Vec<(String, bool)> = dsr_syntax::node::descendants(tree.root_node())
            .filter(|node| node.kind() == "call_expression")
            .map(|call| (ctx.node_text(call).to_string(), ctx.in_rust_test(call)))
            .collect();
        let expected = [
            ("a()", false),
            ("b()", true),
            ("c()", true),
            ("d()", true),
            ("e()", false),
            ("f()", false),
        ];
        let expected: Vec<(String, bool)> = expected
            .iter()
            .map(|(call, test)| (call.to_string(), *test))
            .collect();
        assert_eq!(in_test, expected);
        let unit = dsr_syntax::node::descendants(tree.root_node())
            .find(|node| node.kind() == "function_item" && ctx.node_text(*node).contains("unit"))
            .expect("the test function");
        assert!(!ctx.in_rust_test(unit), "an item is not inside itself");
    }
}
