use dsr_core::kb::ApiRole;
use dsr_core::{declare_rule, Confidence, Finding, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::models::messaging::{AckTiming, AutoAckSite, FailurePath, Handler, Relation};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::KbMatch;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

declare_rule! {
    /// ## What it finds
    /// A message acknowledged, or its offset committed, before the handler has processed it: the ack (Go
    /// `msg.Ack()`, kafka-go `reader.CommitMessages`, confluent-kafka-go `consumer.CommitMessage`, sarama
    /// `session.MarkMessage`; Rust rdkafka `commit_message`, lapin `basic_ack`/`delivery.ack`, async-nats
    /// `message.ack()`; TypeScript amqplib `channel.ack`, kafkajs `commitOffsets`, nats.js `m.ack()`) runs before
    /// a call that processes the message, runs even when that call failed (its error dropped, checked without
    /// leaving, or the ack deferred / in `finally`), or does not wait for processing started in a goroutine, a
    /// spawned task or an un-awaited async function. Also consumption set up with acknowledgements off: amqp091
    /// `Consume(…, autoAck=true, …)`, amqplib `{ noAck: true }`, lapin `no_ack: true`, NATS JetStream
    /// `AckNone`, and kafka-go's `ReadMessage` on a reader with a `GroupID` (it commits on return).
    ///
    /// "Processing" is a call that takes the message or data derived from it (its payload, a value decoded
    /// from it) — not logging, decoding or the ack itself — and, between the receive and the ack, any remote
    /// call and any call of a function of the same file. When the ack runs in a callback whose timing the file
    /// does not show, or auto-ack comes from a value set elsewhere, the rule asks (an open question).
    ///
    /// An ack may go through a helper: a function of the same file, or (with the workspace index) of another
    /// file, that acknowledges the message it is given (`ack(msg)` with `func ack(m *nats.Msg) { m.Ack() }`
    /// elsewhere in the package); the finding's evidence then points at the ack inside the helper.
    ///
    /// ## Why it fails under partial failure
    /// The ack tells the broker the message is done. If the process crashes, is redeployed or loses its
    /// database between the ack and the end of processing, the broker will never redeliver: the order, payment
    /// or event is gone, silently. Acking after a failed processing call is the same loss without even a crash.
    /// Acking after processing and only on success turns these into redeliveries — at-least-once — which an
    /// idempotent handler absorbs.
    ///
    /// ## Known false positives
    /// Handlers that are at-most-once on purpose (metrics, cache invalidations) may ack first; suppress with the
    /// reason. A failure branch that dead-letters the message itself (publishes it elsewhere) before acking is
    /// recognised; one that parks it in a database table is not.
    ///
    /// ## Example
    /// ```go
    /// import "github.com/segmentio/kafka-go"
    ///
    /// func (c *Consumer) Run(ctx context.Context) error {
    ///     for {
    ///         m, err := c.reader.FetchMessage(ctx)
    ///         if err != nil {
    ///             return err
    ///         }
    ///         if err := c.reader.CommitMessages(ctx, m); err != nil {
    ///             return err
    ///         }
    ///         if err := c.store.Save(ctx, m.Value); err != nil {
    ///             log.Printf("save: %v", err)
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// import "github.com/segmentio/kafka-go"
    ///
    /// func (c *Consumer) Run(ctx context.Context) error {
    ///     for {
    ///         m, err := c.reader.FetchMessage(ctx)
    ///         if err != nil {
    ///             return err
    ///         }
    ///         if err := c.store.Save(ctx, m.Value); err != nil {
    ///             return err // not committed: redelivered after restart
    ///         }
    ///         if err := c.reader.CommitMessages(ctx, m); err != nil {
    ///             return err
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: moving the ack changes delivery from at-most-once to at-least-once, so the handler must
    /// tolerate redelivery (an idempotency key, an upsert) and decide what a failure does (nack and requeue,
    /// dead-letter, or stop).
    ///
    /// ## Configuration
    /// Wrappers of your own that ack or commit can be declared in `[[effects]]` with `role = "ack"` or
    /// `role = "commit-offset"` (and `message_arg` when the message is an argument).
    ///
    /// ## References
    /// - RabbitMQ, "Consumer Acknowledgements and Publisher Confirms": automatic acknowledgement mode is
    ///   "fire-and-forget" and unsafe.
    /// - kafka-go `Reader.ReadMessage`: "If consumer groups are used, ReadMessage will automatically commit the
    ///   offset when called."
    /// - Martin Kleppmann, *Designing Data-Intensive Applications*, ch. 11 (acknowledgements and redelivery).
    pub struct AckBeforeProcess {
        code: "DEL002",
        slug: "ack-before-process",
        family: Delivery,
        languages: [Go, Rust, TypeScript],
        severity: Critical,
        impact: DataLoss,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Messaging],
    }
}

impl Rule<RuleContext<'_>> for AckBeforeProcess {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let model = ctx.messaging();
        for handler in &model.handlers {
            check_handler(ctx, handler, sink);
        }
        for site in &model.auto_acks {
            report_auto_ack(ctx, site, sink);
        }
    }
}

fn check_handler(ctx: &RuleContext<'_>, handler: &Handler<'_>, sink: &mut Vec<Finding>) {
    let facts = ctx.facts;
    for ack in handler.acks.iter().filter(|a| a.role != ApiRole::Nack) {
        let mut worst: Option<(u8, Relation<'_>, usize)> = None;
        for (index, processing) in handler.processing.iter().enumerate() {
            let relation = handler.relation(facts, ack, processing, ctx.source);
            let rank = match relation {
                Relation::AckFirst if processing.uses_message => 4,
                Relation::NotAwaited(_) if processing.uses_message => 3,
                Relation::AckOnFailure(FailurePath::OnExit(_)) if processing.uses_message => 2,
                Relation::AckOnFailure(FailurePath::InFailureBranch(branch)) => {
                    if dead_letters(ctx, branch) {
                        continue;
                    }
                    2
                }
                Relation::AckOnFailure(
                    FailurePath::Discarded(_) | FailurePath::FallsThrough(_),
                ) => 2,
                Relation::Undecided { .. } if processing.uses_message => 1,
                _ => continue,
            };
            if worst.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                worst = Some((rank, relation, index));
            }
        }
        let Some((_, relation, index)) = worst else {
            continue;
        };
        report(ctx, handler, ack, relation, index, sink);
    }
}

/// The failure branch publishes the message somewhere (a dead-letter or retry topic) before acking it.
fn dead_letters(ctx: &RuleContext<'_>, branch: Node<'_>) -> bool {
    ctx.facts
        .calls_within(TextRange::of(branch))
        .any(|c| ctx.kb.role_of(ctx.facts, c, &[ApiRole::Publish]).is_some())
}

fn report(
    ctx: &RuleContext<'_>,
    handler: &Handler<'_>,
    ack: &dsr_semantic::models::messaging::Ack<'_>,
    relation: Relation<'_>,
    processing: usize,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let ack_call = &facts.calls[ack.call];
    let work = &facts.calls[handler.processing[processing].call];
    let message = handler.message.first().cloned().unwrap_or_default();
    let work_name = format!("`{}`", short(&work.callee_text));
    let ack_text = format!("`{}`", short(&ack_call.callee_text));
    let (acked, acking) = match ack.role {
        ApiRole::CommitOffset => (
            format!("the offset of `{message}` is committed"),
            format!("{ack_text} commits the offset"),
        ),
        _ => (
            format!("`{message}` is acknowledged"),
            format!("{ack_text} acknowledges it"),
        ),
    };
    let mut builder = ctx
        .finding(&AckBeforeProcess::META, TextRange::of(ack_call.node))
        .trigger("the process crashes, is redeployed or loses a dependency after the ack and before processing finishes")
        .expected("the ack (or offset commit) runs after the message was processed, and only when that succeeded; a failure nacks, requeues or stops");
    let fix_verb = if ack.role == ApiRole::CommitOffset {
        "commit the offset"
    } else {
        "acknowledge"
    };
    builder = match relation {
        Relation::AckFirst => builder
            .title(format!("{acked} before {work_name} processes it"))
            .actual(format!("{acking} first; if {work_name} then fails or never runs, the broker will not redeliver and the message is lost"))
            .evidence(TextRange::of(work.node), "processed here, after the ack")
            .fix(Fix::advice(format!("{fix_verb} after {work_name} succeeds; on failure nack/requeue or return without acknowledging"))),
        Relation::NotAwaited(started) => builder
            .title(format!("{acked} without waiting for {work_name}, which runs concurrently"))
            .confidence(Confidence::Medium)
            .actual(format!("{work_name} is started without being waited for, so {acking} while processing may still fail or be cut short"))
            .evidence(TextRange::of(started), "processing started here and not waited for")
            .fix(Fix::advice(format!("{fix_verb} inside the concurrent work, after {work_name} succeeds, or wait for it before acknowledging"))),
        Relation::AckOnFailure(path) => {
            let (how, at, note) = match path {
                FailurePath::Discarded(at) => ("its error is dropped", at, "the error is dropped here"),
                FailurePath::FallsThrough(at) => (
                    "the error check does not stop before the ack",
                    at,
                    "the failure branch falls through to the ack",
                ),
                FailurePath::InFailureBranch(at) => (
                    "the ack is in the failure branch",
                    at,
                    "failure branch that acknowledges",
                ),
                FailurePath::OnExit(at) => (
                    if matches!(ack.timing, AckTiming::OnExit(h) if h.kind() == "defer_statement") {
                        "the ack is deferred and runs on the failure path too"
                    } else {
                        "the ack is in `finally` and runs on the failure path too"
                    },
                    at,
                    "runs whether or not processing succeeded",
                ),
            };
            builder
                .title(format!("{acked} even when {work_name} fails: {how}"))
                .actual(format!("when {work_name} fails, {acking} anyway, so the broker never redelivers the message"))
                .evidence(TextRange::of(work.node), "processing whose failure still reaches the ack")
                .evidence(TextRange::of(at), note)
                .fix(Fix::advice(format!("{fix_verb} only after {work_name} succeeded; on failure nack/requeue, dead-letter, or return the error")))
        }
        Relation::Undecided { call } => builder
            .title(if call == work.node {
                format!("{acked} in a callback given to {work_name}; whether it runs only after {work_name} has processed the message is not visible here")
            } else {
                format!("{acked} in a callback given to `{}`; whether that runs after {work_name} is not visible here", short(&callee_text(ctx, call)))
            })
            .open_question()
            .actual(format!("the ack runs whenever `{}` calls the callback", short(&callee_text(ctx, call))))
            .evidence(TextRange::of(work.node), "processing")
            .fix(Fix::advice(format!("make sure the callback runs only after {work_name} succeeded"))),
        Relation::AfterSuccess | Relation::Unrelated => return,
    };
    if let Some(receive) = handler.receive.call {
        builder = builder.evidence(facts.calls[receive].range(), "message received here");
    } else if !handler.receive.is_parameter {
        builder = builder.evidence(TextRange::of(handler.receive.node), "message bound here");
    }
    if let Some(via) = ack.via {
        builder = builder.evidence(
            TextRange::of(facts.functions[via].node),
            "this function acknowledges its argument",
        );
    }
    if let Some(elsewhere) = &ack.elsewhere {
        builder = builder.evidence_at(elsewhere.clone());
    }
    builder.emit(sink);
}

fn report_auto_ack(ctx: &RuleContext<'_>, site: &AutoAckSite<'_>, sink: &mut Vec<Finding>) {
    let facts = ctx.facts;
    let call = site.call.map(|c| &facts.calls[c]);
    // The consumer call, as a code span; a setting found without its call (an options object built apart) has
    // none, and an empty span would read "``".
    let consumer = call.map_or_else(
        || "the consumer".to_string(),
        |c| format!("`{}`", short(&c.callee_text)),
    );
    let note = site.api.note.clone().unwrap_or_else(|| {
        "the broker treats each message as acknowledged once it is delivered".to_string()
    });
    let setting_text = compact(ctx.node_text(site.node));
    let commits_on_read = site
        .api
        .auto_ack
        .as_ref()
        .is_some_and(|a| a.config.is_some());
    let (range, title, evidence) = if commits_on_read {
        let range = call.map_or(TextRange::of(site.node), |c| TextRange::of(c.callee));
        let title = if site.decided {
            format!("{consumer} commits each offset as soon as it returns the message, before it is processed (the reader has a `{}`)", site.setting)
        } else {
            format!("{consumer} commits each offset on return when its reader has a `{}`; the reader's configuration is not in this file", site.setting)
        };
        (
            range,
            title,
            site.decided
                .then(|| (TextRange::of(site.node), "consumer group set here")),
        )
    } else if site.decided {
        let what = match call {
            Some(_) if site.setting == "autoAck" => format!("{consumer} with autoAck `true`"),
            _ => format!("`{setting_text}`"),
        };
        (
            TextRange::of(site.node),
            format!("{what} turns acknowledgements off: {note}"),
            None,
        )
    } else {
        (
            TextRange::of(site.node),
            format!("acknowledgement mode of {consumer} comes from `{setting_text}`; if it is on, {note}"),
            None,
        )
    };
    let mut builder = ctx
        .finding(&AckBeforeProcess::META, range)
        .title(title)
        .trigger("the consumer crashes or is redeployed while messages it already received are still being processed")
        .expected("manual acknowledgement (or offset commit) after each message is processed")
        .actual(format!("{note}, so whatever was delivered but not yet processed is lost on a crash"))
        .fix(Fix::advice(if commits_on_read {
            "read with `FetchMessage` and call `CommitMessages` after the message is processed".to_string()
        } else {
            "turn automatic acknowledgement off and acknowledge each message after it is processed".to_string()
        }));
    if let Some((range, note)) = evidence {
        builder = builder.evidence(range, note);
    }
    if !site.decided {
        builder = builder.open_question().confidence(Confidence::Low);
    }
    builder.emit(sink);
}

fn callee_text(ctx: &RuleContext<'_>, call: Node<'_>) -> String {
    call.child_by_field_name("function")
        .or_else(|| call.child_by_field_name("constructor"))
        .or_else(|| call.child_by_field_name("macro"))
        .map(|f| compact(node::text(f, ctx.source)))
        .unwrap_or_default()
}

fn compact(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A callee short enough for a title: `c.store.Save` stays, a long chain keeps its last member.
fn short(callee: &str) -> String {
    if callee.len() <= 40 {
        return callee.to_string();
    }
    dsr_core::kb::last_segment(callee).to_string()
}
