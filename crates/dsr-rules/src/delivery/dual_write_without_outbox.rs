use dsr_core::{declare_rule, Confidence, Finding, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::models::messaging::transaction::Transaction;
use dsr_semantic::models::messaging::writes::{Target, WriteSite};
use dsr_semantic::RuleContext;

declare_rule! {
    /// ## What it finds
    /// One function that writes to a database and also publishes to a queue or topic (or calls another service
    /// with a state-changing request), with no outbox: the two writes are independent, and nothing makes them
    /// both happen or both not happen. Reported at the second write, with the first as evidence. Database writes
    /// are `INSERT`/`UPDATE`/`DELETE`/`MERGE` statements sent through database/sql, pgx, sqlx, diesel, sea-orm,
    /// tokio-postgres, pg, mysql2, knex or prisma; publishes are the knowledge base's `publish` calls (kafka-go,
    /// sarama, confluent-kafka-go, NATS, RabbitMQ, rdkafka, lapin, async-nats, kafkajs, amqplib, nats.js,
    /// BullMQ) and HTTP `POST`/`PUT`/`PATCH`/`DELETE` calls.
    ///
    /// A function that writes an outbox table (a table whose name contains `outbox`) uses the outbox pattern and
    /// is not reported for its publishes; but an outbox insert that is not in the same transaction as the data it
    /// announces is reported, since it is a dual write of its own.
    ///
    /// ## Why it fails under partial failure
    /// The process can stop between the two writes — a crash, a deploy, a timeout on the second call — and
    /// either write can fail on its own. Commit first and the event may never be published: downstream services
    /// never learn about the order. Publish first (or inside the transaction) and the commit may still fail:
    /// consumers act on an order that does not exist. Retrying does not help, because the first write already
    /// happened. The transactional outbox makes the event part of the same database transaction; a relay
    /// publishes it afterwards, at least once.
    ///
    /// ## Known false positives
    /// Writes whose SQL text or ORM call is not visible (built elsewhere, passed in) are not counted, so some
    /// dual writes are missed rather than guessed. A publish that is only a notification, where losing it is
    /// acceptable, is a dual write by design: suppress it with the reason. Confidence is medium: the function
    /// may be one step of a saga that reconciles later.
    ///
    /// ## Example
    /// ```go
    /// import (
    ///     "database/sql"
    ///
    ///     "github.com/segmentio/kafka-go"
    /// )
    ///
    /// func (s *Service) PlaceOrder(ctx context.Context, o Order) error {
    ///     if _, err := s.db.ExecContext(ctx, "INSERT INTO orders (id, total) VALUES ($1, $2)", o.ID, o.Total); err != nil {
    ///         return err
    ///     }
    ///     return s.writer.WriteMessages(ctx, kafka.Message{Key: []byte(o.ID), Value: o.JSON()})
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// import (
    ///     "database/sql"
    ///
    ///     "github.com/segmentio/kafka-go"
    /// )
    ///
    /// func (s *Service) PlaceOrder(ctx context.Context, o Order) error {
    ///     tx, err := s.db.BeginTx(ctx, nil)
    ///     if err != nil {
    ///         return err
    ///     }
    ///     defer tx.Rollback()
    ///     if _, err := tx.ExecContext(ctx, "INSERT INTO orders (id, total) VALUES ($1, $2)", o.ID, o.Total); err != nil {
    ///         return err
    ///     }
    ///     // A relay publishes outbox rows to Kafka after the commit.
    ///     if _, err := tx.ExecContext(ctx, "INSERT INTO outbox (topic, key, payload) VALUES ('orders', $1, $2)", o.ID, o.JSON()); err != nil {
    ///         return err
    ///     }
    ///     return tx.Commit()
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: the outbox needs a table, a relay (polling or change data capture) and consumers that
    /// tolerate the relay's at-least-once delivery.
    ///
    /// ## Configuration
    /// Your own repository or producer wrappers can be declared in `[[effects]]` (`kind = "db"` with
    /// `mutation = true`, or `role = "publish"`).
    ///
    /// ## References
    /// - Chris Richardson, "Pattern: Transactional outbox", microservices.io.
    /// - Martin Kleppmann, *Designing Data-Intensive Applications*, ch. 11 ("Keeping Systems in Sync").
    pub struct DualWriteWithoutOutbox {
        code: "DEL003",
        slug: "dual-write-without-outbox",
        family: Delivery,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Consistency,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Messaging],
    }
}

impl Rule<RuleContext<'_>> for DualWriteWithoutOutbox {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let facts = ctx.facts;
        let all = ctx.write_sites();
        if all.is_empty() {
            return;
        }
        let txs = ctx.transactions();
        let mut groups: Vec<(usize, Vec<&WriteSite<'_>>)> = Vec::new();
        for write in all {
            let Some(function) = write.function.map(|f| facts.outermost_function(f)) else {
                continue;
            };
            match groups.iter_mut().find(|(f, _)| *f == function) {
                Some((_, group)) => group.push(write),
                None => groups.push((function, vec![write])),
            }
        }
        for (_, group) in groups {
            check_function(ctx, &group, txs, sink);
        }
    }
}

fn check_function(
    ctx: &RuleContext<'_>,
    group: &[&WriteSite<'_>],
    txs: &[Transaction<'_>],
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let data: Vec<&WriteSite<'_>> = group
        .iter()
        .copied()
        .filter(|w| w.target == Target::Database && !w.is_outbox())
        .collect();
    let outbox: Vec<&WriteSite<'_>> = group.iter().copied().filter(|w| w.is_outbox()).collect();
    if data.is_empty() {
        // Only outbox rows (a relay marking what it published) or no database write at all.
        return;
    }
    let transaction_of = |w: &WriteSite<'_>| {
        txs.iter()
            .position(|t| t.covers(facts, &facts.calls[w.call], ctx.source))
    };
    if !outbox.is_empty() {
        // The outbox pattern is in use; the event row must commit with the data it describes.
        for event in &outbox {
            let event_tx = transaction_of(event);
            let Some(other) = data
                .iter()
                .find(|d| event_tx.is_none() || transaction_of(d) != event_tx)
            else {
                continue;
            };
            let (first, second) = ordered(other, event);
            ctx.finding(&DualWriteWithoutOutbox::META, TextRange::of(second.node))
                .title(format!(
                    "outbox write {} is not in the same transaction as {}",
                    event.label, other.label
                ))
                .confidence(Confidence::Medium)
                .trigger("the process stops, or the second statement fails, between the two writes")
                .expected("the outbox row is inserted in the same database transaction as the data it announces")
                .actual(format!(
                    "{} and {} commit separately, so one can persist without the other",
                    first.label, second.label
                ))
                .evidence(TextRange::of(first.node), "first write, committed on its own")
                .fix(Fix::advice("run both statements in one transaction (begin, both inserts, commit)"))
                .emit(sink);
            return;
        }
        return;
    }
    let mut sorted: Vec<&WriteSite<'_>> = group.to_vec();
    sorted.sort_by_key(|w| w.node.start_byte());
    for (i, second) in sorted.iter().enumerate() {
        let second_is_data = second.target == Target::Database;
        let Some(first) = sorted[..i]
            .iter()
            .find(|w| (w.target == Target::Database) != second_is_data)
        else {
            continue;
        };
        let (db, send) = if second_is_data {
            (second, first)
        } else {
            (first, second)
        };
        let service = send.target == Target::Service;
        let in_tx = transaction_of(db).is_some_and(|t| runs_before_commit(ctx, &txs[t], send));
        let (db_label, send_label) = (&db.label, &send.label);
        let title = match (second_is_data, in_tx, service) {
            (true, _, false) => format!("{db_label} runs after {send_label} published, with no outbox: if it fails, consumers act on a change that never happened"),
            (true, _, true) => format!("{db_label} runs after {send_label} called another service, with no outbox: if it fails, that service keeps a change this one never recorded"),
            (false, true, false) => format!("{send_label} publishes inside the transaction of {db_label}, with no outbox: if the commit fails, consumers see a change that was rolled back"),
            (false, true, true) => format!("{send_label} calls another service inside the transaction of {db_label}: if the commit fails, that service keeps a change that was rolled back"),
            (false, false, false) => format!("{send_label} publishes after {db_label}, with no outbox: a crash between them loses the event"),
            (false, false, true) => format!("{send_label} calls another service after {db_label}, with no outbox: a crash between them leaves that service without the change"),
        };
        ctx.finding(&DualWriteWithoutOutbox::META, TextRange::of(second.node))
            .title(title)
            .confidence(Confidence::Medium)
            .trigger("the process stops, or the second write fails, after the first write succeeded")
            .expected("the event is written to an outbox table in the same transaction as the data, and published by a relay")
            .actual(format!(
                "{} and {} are independent writes: either can happen without the other",
                db.label, send.label
            ))
            .evidence(TextRange::of(first.node), "first write")
            .fix(Fix::advice("insert the event into an outbox table in the same transaction as the data, and publish it from a relay (transactional outbox)"))
            .emit(sink);
        return;
    }
}

/// Whether a write runs while the transaction is open: in its closure, or after its begin and before its commit.
fn runs_before_commit(ctx: &RuleContext<'_>, tx: &Transaction<'_>, write: &WriteSite<'_>) -> bool {
    if let Some(body) = tx.body {
        return dsr_semantic::models::control_flow::contains(body, write.node);
    }
    let facts = ctx.facts;
    let begin = &facts.calls[tx.begin];
    begin.function.map(|f| facts.outermost_function(f))
        == write.function.map(|f| facts.outermost_function(f))
        && write.node.start_byte() > begin.node.end_byte()
        && tx
            .commits
            .iter()
            .all(|c| facts.calls[*c].node.start_byte() > write.node.start_byte())
}

fn ordered<'a, 't>(
    a: &'a WriteSite<'t>,
    b: &'a WriteSite<'t>,
) -> (&'a WriteSite<'t>, &'a WriteSite<'t>) {
    if a.node.start_byte() <= b.node.start_byte() {
        (a, b)
    } else {
        (b, a)
    }
}
