use dsr_syntax::{Document, Language};

use super::transaction::{transactions, TxStyle};
use super::writes::{sql_statement, write_sites as writes, SqlKind, Target};
use super::*;
use crate::facts::FileFacts;
use dsr_core::kb::KnowledgeBase;

fn with_model(
    language: Language,
    source: &str,
    check: impl FnOnce(&FileFacts<'_>, &MessagingModel<'_>),
) {
    let document = Document::new(language, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(language, document.tree(), source);
    let model = MessagingModel::build(&facts, KnowledgeBase::builtin(), source);
    check(&facts, &model);
}

/// For each ack of each handler, the relation to each processing call: (ack callee, processing callee, relation).
fn relations(language: Language, source: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    with_model(language, source, |facts, model| {
        for handler in &model.handlers {
            for ack in &handler.acks {
                for processing in &handler.processing {
                    let relation = handler.relation(facts, ack, processing, source);
                    let name = match relation {
                        Relation::AckFirst => "ack-first",
                        Relation::NotAwaited(_) => "not-awaited",
                        Relation::AckOnFailure(FailurePath::Discarded(_)) => "on-failure:discarded",
                        Relation::AckOnFailure(FailurePath::FallsThrough(_)) => {
                            "on-failure:falls-through"
                        }
                        Relation::AckOnFailure(FailurePath::InFailureBranch(_)) => {
                            "on-failure:in-branch"
                        }
                        Relation::AckOnFailure(FailurePath::OnExit(_)) => "on-failure:on-exit",
                        Relation::AfterSuccess => "after-success",
                        Relation::Unrelated => "unrelated",
                        Relation::Undecided { .. } => "undecided",
                    };
                    out.push((
                        facts.calls[ack.call].callee_text.clone(),
                        facts.calls[processing.call].callee_text.clone(),
                        name.to_string(),
                    ));
                }
            }
        }
    });
    out
}

fn rel(a: &str, p: &str, r: &str) -> (String, String, String) {
    (a.to_string(), p.to_string(), r.to_string())
}

#[test]
fn go_kafka_commit_before_processing() {
    let source = r#"package c
import "github.com/segmentio/kafka-go"
func run(ctx context.Context, r *kafka.Reader) error {
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return err
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			return err
		}
		log.Printf("got %s", m.Key)
		var order Order
		_ = json.Unmarshal(m.Value, &order)
		store(ctx, order)
	}
}
"#;
    assert_eq!(
        relations(Language::Go, source),
        [rel("r.CommitMessages", "store", "ack-first")]
    );
    with_model(Language::Go, source, |facts, model| {
        let handler = &model.handlers[0];
        assert_eq!(handler.message, ["m"]);
        assert!(handler.derived.contains(&"order".to_string()));
        let receive = handler.receive.call.expect("receive call");
        assert_eq!(facts.calls[receive].callee_text, "r.FetchMessage");
        assert_eq!(handler.acks[0].role, ApiRole::CommitOffset);
    });
}

#[test]
fn go_error_checks_before_the_ack() {
    let source = r#"package c
import "github.com/nats-io/nats.go"
func checked(m *nats.Msg) {
	if err := handle(m); err != nil {
		m.Nak()
		return
	}
	m.Ack()
}
func logged(m *nats.Msg) {
	err := handle(m)
	if err != nil {
		log.Println(err)
	}
	m.Ack()
}
func dropped(m *nats.Msg) {
	_ = handle(m)
	m.Ack()
}
func deferred(m *nats.Msg) error {
	defer m.Ack()
	if err := handle(m); err != nil {
		return err
	}
	return nil
}
func skipped(m *nats.Msg) {
	if m.Header.Get("kind") != "order" {
		m.Ack()
		return
	}
	record(m)
	m.Ack()
}
func handle(m *nats.Msg) error { return nil }
"#;
    assert_eq!(
        relations(Language::Go, source),
        [
            rel("m.Nak", "handle", "on-failure:in-branch"),
            rel("m.Ack", "handle", "after-success"),
            rel("m.Ack", "handle", "on-failure:falls-through"),
            rel("m.Ack", "handle", "on-failure:discarded"),
            rel("m.Ack", "handle", "on-failure:on-exit"),
            rel("m.Ack", "record", "unrelated"),
            rel("m.Ack", "record", "after-success"),
        ]
    );
}

#[test]
fn go_goroutines_and_callbacks() {
    let source = r#"package c
import "github.com/nats-io/nats.go"
func async(m *nats.Msg) {
	go process(m)
	m.Ack()
}
func waited(m *nats.Msg) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); process(m) }()
	wg.Wait()
	m.Ack()
}
func later(m *nats.Msg) {
	process(m, func() { m.Ack() })
}
"#;
    assert_eq!(
        relations(Language::Go, source),
        [
            rel("m.Ack", "process", "not-awaited"),
            rel("m.Ack", "process", "after-success"),
            rel("m.Ack", "process", "undecided"),
        ]
    );
}

#[test]
fn go_amqp_auto_ack_and_channel_acks() {
    let source = r#"package c
import amqp "github.com/rabbitmq/amqp091-go"
const manual = false
func consume(ch *amqp.Channel, cfg Config) {
	a, _ := ch.Consume("orders", "", true, false, false, false, nil)
	b, _ := ch.Consume("orders", "", manual, false, false, false, nil)
	c, _ := ch.Consume("orders", "", cfg.AutoAck, false, false, false, nil)
	for d := range b {
		ch.Ack(d.DeliveryTag, false)
		save(d.Body)
	}
}
"#;
    with_model(Language::Go, source, |facts, model| {
        let sites: Vec<_> = model
            .auto_acks
            .iter()
            .map(|s| (dsr_syntax::node::text(s.node, source), s.decided))
            .collect();
        assert_eq!(sites, [("true", true), ("cfg.AutoAck", false)]);
        let handler = &model.handlers[0];
        assert_eq!(handler.message, ["d"]);
        let receive = handler.receive.call.expect("consume call");
        assert_eq!(facts.calls[receive].args.len(), 7);
    });
    assert_eq!(
        relations(Language::Go, source),
        [rel("ch.Ack", "save", "ack-first")]
    );
}

#[test]
fn go_kafka_read_message_commits_with_a_group() {
    let with_group = r#"package c
import "github.com/segmentio/kafka-go"
func run(ctx context.Context) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: "billing", Topic: "orders"})
	m, _ := r.ReadMessage(ctx)
	handle(m)
}
"#;
    with_model(Language::Go, with_group, |_, model| {
        assert_eq!(model.auto_acks.len(), 1);
        assert!(model.auto_acks[0].decided);
        assert_eq!(model.auto_acks[0].setting, "GroupID");
    });
    let without = with_group.replace("GroupID: \"billing\", ", "");
    with_model(Language::Go, &without, |_, model| {
        assert!(model.auto_acks.is_empty())
    });
    let unseen = r#"package c
import "github.com/segmentio/kafka-go"
func run(ctx context.Context, r *kafka.Reader) { m, _ := r.ReadMessage(ctx); handle(m) }
"#;
    with_model(Language::Go, unseen, |_, model| {
        assert_eq!(model.auto_acks.len(), 1);
        assert!(!model.auto_acks[0].decided);
    });
}

#[test]
fn rust_rdkafka_and_lapin() {
    let source = r#"
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use lapin::{options::*, types::FieldTable};
async fn kafka(consumer: StreamConsumer) -> anyhow::Result<()> {
    loop {
        let m = consumer.recv().await?;
        consumer.commit_message(&m, CommitMode::Async)?;
        let order: Order = serde_json::from_slice(m.payload().unwrap_or_default())?;
        store(&order).await?;
    }
}
async fn rabbit(channel: lapin::Channel, mut consumer: lapin::Consumer) -> anyhow::Result<()> {
    let opts = BasicConsumeOptions { no_ack: true, ..Default::default() };
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        if let Err(e) = store(&delivery.data).await {
            tracing::error!("store failed: {e}");
        }
        delivery.ack(BasicAckOptions::default()).await?;
    }
    Ok(())
}
async fn careful(mut consumer: lapin::Consumer) -> anyhow::Result<()> {
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        match store(&delivery.data).await {
            Ok(()) => delivery.ack(BasicAckOptions::default()).await?,
            Err(_) => delivery.nack(BasicNackOptions { requeue: true, ..Default::default() }).await?,
        }
    }
    Ok(())
}
"#;
    assert_eq!(
        relations(Language::Rust, source),
        [
            rel("consumer.commit_message", "store", "ack-first"),
            rel("delivery.ack", "store", "on-failure:falls-through"),
            rel("delivery.ack", "store", "after-success"),
            rel("delivery.nack", "store", "on-failure:in-branch"),
        ]
    );
    with_model(Language::Rust, source, |_, model| {
        assert_eq!(model.auto_acks.len(), 1);
        assert_eq!(model.auto_acks[0].setting, "no_ack");
        assert!(model.auto_acks[0].decided);
    });
}

#[test]
fn typescript_amqplib_and_kafkajs() {
    let source = r#"
import amqp from "amqplib";
import { Kafka } from "kafkajs";
const consumer = new Kafka({ brokers }).consumer({ groupId: "billing" });
async function start(channel) {
  await channel.consume("orders", async (msg) => {
    channel.ack(msg);
    await handle(JSON.parse(msg.content.toString()));
  });
  await channel.consume("orders", async (msg) => {
    try {
      await handle(msg);
      channel.ack(msg);
    } catch (err) {
      channel.nack(msg, false, true);
    }
  }, { noAck: false });
  await channel.consume("orders", async (msg) => {
    try {
      await handle(msg);
    } finally {
      channel.ack(msg);
    }
  });
  await channel.consume("audit", (msg) => audit(msg), { noAck: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      await consumer.commitOffsets([{ topic, partition, offset: (Number(message.offset) + 1).toString() }]);
      await handle(message);
    },
  });
  await channel.consume("orders", async (msg) => {
    await handle(msg, () => channel.ack(msg));
  });
}
"#;
    assert_eq!(
        relations(Language::TypeScript, source),
        [
            rel("channel.ack", "handle", "ack-first"),
            rel("channel.ack", "handle", "after-success"),
            rel("channel.nack", "handle", "on-failure:in-branch"),
            rel("channel.ack", "handle", "on-failure:on-exit"),
            rel("consumer.commitOffsets", "handle", "ack-first"),
            rel("channel.ack", "handle", "undecided"),
        ]
    );
    with_model(Language::TypeScript, source, |facts, model| {
        let kafka = model
            .handlers
            .iter()
            .find(|h| h.message.contains(&"message".to_string()))
            .expect("kafkajs handler");
        assert_eq!(kafka.message, ["message", "topic", "partition"]);
        let receive = kafka.receive.call.expect("run call");
        assert_eq!(facts.calls[receive].callee_text, "consumer.run");
        let sites: Vec<_> = model
            .auto_acks
            .iter()
            .map(|s| (dsr_syntax::node::text(s.node, source), s.decided))
            .collect();
        assert_eq!(sites, [("noAck: true", true)]);
    });
}

#[test]
fn typescript_unawaited_async_processing() {
    let source = r#"
import amqp from "amqplib";
async function handle(msg) { await db.insert(msg); }
function start(channel) {
  channel.consume("orders", (msg) => {
    handle(msg);
    channel.ack(msg);
  });
  channel.consume("orders", (msg) => {
    handle(msg).then(() => channel.ack(msg));
  });
}
"#;
    assert_eq!(
        relations(Language::Tsx, source),
        [
            rel("channel.ack", "handle", "not-awaited"),
            rel("channel.ack", "handle", "after-success"),
        ]
    );
}

#[test]
fn wrappers_that_ack_their_parameter_are_acks() {
    let source = r#"package c
import "github.com/nats-io/nats.go"
func ackQuietly(m *nats.Msg) { _ = m.Ack() }
func handle(m *nats.Msg) {
	ackQuietly(m)
	store(m.Data)
}
"#;
    assert_eq!(
        relations(Language::Go, source),
        [rel("ackQuietly", "store", "ack-first")]
    );
}

#[test]
fn classifies_sql() {
    let cases = [
        (
            "INSERT INTO orders (id) VALUES ($1)",
            SqlKind::Insert,
            Some("orders"),
        ),
        (
            "insert into public.outbox_events values (?)",
            SqlKind::Insert,
            Some("outbox_events"),
        ),
        (
            "UPDATE ONLY accounts SET x = 1",
            SqlKind::Update,
            Some("accounts"),
        ),
        (
            "-- remove\nDELETE FROM carts WHERE id = $1",
            SqlKind::Delete,
            Some("carts"),
        ),
        (
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
            SqlKind::Insert,
            Some("t"),
        ),
        ("SELECT * FROM orders FOR UPDATE", SqlKind::Select, None),
        ("BEGIN", SqlKind::Begin, None),
        ("start transaction", SqlKind::Begin, None),
        ("COMMIT", SqlKind::Commit, None),
        ("ROLLBACK", SqlKind::Rollback, None),
        ("ROLLBACK TO SAVEPOINT a", SqlKind::Savepoint, None),
    ];
    for (text, kind, table) in cases {
        let statement = sql_statement(text);
        assert_eq!(statement.kind, kind, "{text}");
        assert_eq!(statement.table.as_deref(), table, "{text}");
    }
}

#[test]
fn go_transactions_and_writes() {
    let source = r#"package c
import (
	"database/sql"
	"github.com/segmentio/kafka-go"
)
func place(ctx context.Context, db *sql.DB, w *kafka.Writer) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO orders (id) VALUES ($1)", id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, insertOutbox, id); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return w.WriteMessages(ctx, kafka.Message{Value: body})
}
const insertOutbox = `INSERT INTO outbox (aggregate_id) VALUES ($1)`
"#;
    with_model(Language::Go, source, |facts, _| {
        let kb = KnowledgeBase::builtin();
        let txs = transactions(facts, kb, source);
        assert_eq!(txs.len(), 1);
        let tx = &txs[0];
        assert_eq!(tx.style, TxStyle::Handle);
        assert_eq!(tx.handle.as_deref(), Some("tx"));
        assert_eq!(tx.commits.len(), 1);
        assert_eq!(tx.rollbacks.len(), 1);
        assert!(tx.deferred_rollback.is_some());
        assert_eq!(tx.rollback_spelling.as_deref(), Some("Rollback()"));
        assert!(!tx.escapes);
        let found = writes(facts, kb, source);
        let summary: Vec<_> = found
            .iter()
            .map(|w| {
                (
                    w.target,
                    w.table.clone(),
                    w.is_outbox(),
                    tx.covers(facts, &facts.calls[w.call], source),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Target::Database, Some("orders".to_string()), false, true),
                (Target::Database, Some("outbox".to_string()), true, true),
                (Target::Queue, None, false, false),
            ]
        );
    });
}

#[test]
fn rust_transactions_and_writes() {
    let source = r#"
use sqlx::PgPool;
async fn safe(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO orders (id) VALUES ($1)").bind(1).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
async fn manual(pool: &PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("BEGIN").execute(&mut *conn).await?;
    sqlx::query!("UPDATE accounts SET balance = balance - $1", 5).execute(&mut *conn).await?;
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    Ok(())
}
"#;
    with_model(Language::Rust, source, |facts, _| {
        let kb = KnowledgeBase::builtin();
        let txs = transactions(facts, kb, source);
        let summary: Vec<_> = txs
            .iter()
            .map(|t| {
                (
                    t.style,
                    t.handle.clone(),
                    t.rolls_back_itself,
                    t.commits.len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (TxStyle::Handle, Some("tx".to_string()), true, 1),
                (TxStyle::SqlText, Some("conn".to_string()), false, 1),
            ]
        );
        let found = writes(facts, kb, source);
        let tables: Vec<_> = found.iter().map(|w| w.table.clone()).collect();
        assert_eq!(
            tables,
            [Some("orders".to_string()), Some("accounts".to_string())]
        );
        assert!(txs[0].covers(facts, &facts.calls[found[0].call], source));
        assert!(txs[1].covers(facts, &facts.calls[found[1].call], source));
    });
}

#[test]
fn typescript_transactions_and_writes() {
    let source = r#"
import { Pool } from "pg";
import { PrismaClient } from "@prisma/client";
import { Queue } from "bullmq";
async function pgTx(pool: Pool) {
  const client = await pool.connect();
  await client.query("BEGIN");
  await client.query("INSERT INTO orders (id) VALUES ($1)", [1]);
  await client.query("COMMIT");
  client.release();
}
async function prismaTx(prisma: PrismaClient, queue: Queue) {
  await prisma.$transaction(async (tx) => {
    await tx.order.create({ data });
    await tx.outboxEvent.create({ data: event });
  });
  await queue.add("order-placed", event);
}
"#;
    with_model(Language::TypeScript, source, |facts, _| {
        let kb = KnowledgeBase::builtin();
        let txs = transactions(facts, kb, source);
        let summary: Vec<_> = txs
            .iter()
            .map(|t| (t.style, t.handle.clone(), t.commits.len(), t.releases.len()))
            .collect();
        assert_eq!(
            summary,
            [
                (TxStyle::SqlText, Some("client".to_string()), 1, 1),
                (TxStyle::Scoped, Some("tx".to_string()), 0, 0),
            ]
        );
        let found = writes(facts, kb, source);
        let summary: Vec<_> = found
            .iter()
            .map(|w| (w.target, w.table.clone(), w.is_outbox()))
            .collect();
        assert_eq!(
            summary,
            [
                (Target::Database, Some("orders".to_string()), false),
                (Target::Database, Some("order".to_string()), false),
                (Target::Database, Some("outboxEvent".to_string()), true),
                (Target::Queue, None, false),
            ]
        );
    });
}

#[test]
fn tolerates_broken_code() {
    for (language, source) in [
        (
            Language::Go,
            "package c\nfunc f(m *nats.Msg) {\n m.Ack(\n if err := handle(m",
        ),
        (
            Language::Rust,
            "async fn f(d: Delivery) { d.ack(BasicAckOptions::default()).await?; handle(&d",
        ),
        (
            Language::TypeScript,
            "channel.consume(q, async (msg) => { channel.ack(msg); await handle(msg",
        ),
    ] {
        let _ = relations(language, source);
        with_model(language, source, |facts, _| {
            let _ = transactions(facts, KnowledgeBase::builtin(), source);
            let _ = writes(facts, KnowledgeBase::builtin(), source);
        });
    }
}

#[test]
fn user_effects_declare_acks() {
    let config = dsr_core::Config::parse(
        std::path::Path::new("distsys-review.toml"),
        r#"
[[effects]]
language = "go"
path = "Done"
module = "example.com/platform/queue"
kind = "queue"
role = "ack"
message_arg = 0
"#,
        &[],
    )
    .expect("valid config");
    let kb = KnowledgeBase::with_effects(&config.effects);
    let source = r#"package c
import "example.com/platform/queue"
func handle(q *queue.Client, m queue.Message) {
	q.Done(m)
	store(m.Body)
}
"#;
    let document = Document::new(Language::Go, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(Language::Go, document.tree(), source);
    let model = MessagingModel::build(&facts, &kb, source);
    let handler = &model.handlers[0];
    let relation = handler.relation(&facts, &handler.acks[0], &handler.processing[0], source);
    assert_eq!(relation, Relation::AckFirst);
}
