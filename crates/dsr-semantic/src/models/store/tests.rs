use std::path::Path;

use dsr_syntax::{Document, Language};

use super::*;
use crate::RuleContext;
use dsr_core::KnowledgeBase;

/// Each access as `STORE ACCESS OPERATION target [atomic] [flags]`, and the atomic scopes' count.
fn model(language: Language, source: &str) -> (Vec<String>, usize) {
    let document = Document::new(language, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(language, document.tree(), source);
    let ctx = RuleContext::new(
        Path::new("a"),
        language,
        source,
        document.tree(),
        &facts,
        KnowledgeBase::builtin(),
    );
    let model = ctx.store_accesses();
    let accesses = model
        .accesses
        .iter()
        .map(|a| {
            let mut line = format!(
                "{} {:?} {} {}",
                a.store.name(),
                a.access,
                a.operation,
                match &a.target {
                    Target::Key(k) => k.clone(),
                    Target::Rows { table, columns } => format!("{table}({})", columns.join(",")),
                }
            );
            if let Some(atomic) = a.atomic {
                line.push_str(&format!(" {atomic:?}"));
            }
            if a.expires {
                line.push_str(" expires");
            }
            if a.locks_rows {
                line.push_str(" for-update");
            }
            if a.transaction.is_some() {
                line.push_str(" tx");
            }
            if a.serializable {
                line.push_str(" serializable");
            }
            line
        })
        .collect();
    (accesses, model.atomic_scopes.len())
}

#[test]
fn go_redis_keys_are_normalised_and_atomic_commands_known() {
    let source = r#"package p
import "github.com/redis/go-redis/v9"
func f(rdb *redis.Client, id string) {
	key := "stock:" + id
	n, _ := rdb.Get(ctx, key).Int()
	rdb.Set(ctx, "stock:" + id, n-1, 0)
	rdb.Set(ctx, key, n, time.Minute)
	rdb.DecrBy(ctx, key, 1)
	rdb.SetNX(ctx, key, 1, 0)
	rdb.Do(ctx, "SET", key, 1, "NX")
	rdb.HGet(ctx, "cart:"+id, "qty")
	rdb.Exists(ctx, key)
	rdb.Watch(ctx, fn, key)
}
"#;
    let (accesses, scopes) = model(Language::Go, source);
    assert_eq!(
        accesses,
        [
            "Redis Read GET \"stock:\"+id",
            "Redis Write SET \"stock:\"+id",
            "Redis Write SET \"stock:\"+id expires",
            "Redis Write DECRBY \"stock:\"+id Command",
            "Redis Write SETNX \"stock:\"+id Command",
            "Redis Write SET \"stock:\"+id Command",
            "Redis Read HGET \"cart:\"+id#qty",
            "Redis Exists EXISTS \"stock:\"+id",
        ]
    );
    assert_eq!(scopes, 1);
}

#[test]
fn sql_statements_give_table_where_columns_and_atomicity() {
    let source = r#"package p
import (
	"database/sql"
	"fmt"
)
const byID = "SELECT stock FROM products WHERE id = $1"
func f(db *sql.DB, id int, table string) {
	db.QueryRowContext(ctx, byID, id).Scan(&stock)
	db.ExecContext(ctx, "UPDATE products SET stock = $1 WHERE id = $2", stock-1, id)
	db.ExecContext(ctx, "UPDATE products SET stock = stock - 1, updated_at = now() WHERE id = $1", id)
	db.ExecContext(ctx, "UPDATE products SET stock = $1, version = version + 1 WHERE id = $2 AND version = $3", s, id, v)
	db.QueryRowContext(ctx, "SELECT stock FROM public.Products WHERE id = $1 FOR UPDATE", id)
	db.ExecContext(ctx, fmt.Sprintf("DELETE FROM carts WHERE id = %d", id)); db.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE id = 1", table))
	db.ExecContext(ctx, "INSERT INTO products (id) VALUES ($1) ON CONFLICT DO NOTHING", id)
}
"#;
    let (accesses, _) = model(Language::Go, source);
    assert_eq!(
        accesses,
        [
            "SQL Read SELECT products(id)",
            "SQL Write UPDATE products(id)",
            "SQL Write UPDATE products(id) Command",
            "SQL Write UPDATE products(id,version) Conditional",
            "SQL Read SELECT products(id) for-update",
            "SQL Delete DELETE carts(id)",
            "SQL Write INSERT products() Command",
        ]
    );
}

#[test]
fn sql_in_a_serializable_transaction() {
    let source = r#"package p
import "database/sql"
func f(db *sql.DB) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	defer tx.Rollback()
	tx.QueryRowContext(ctx, "SELECT n FROM c WHERE id = $1", id).Scan(&n)
	tx.ExecContext(ctx, "UPDATE c SET n = $1 WHERE id = $2", n+1, id)
	return tx.Commit()
}
"#;
    let (accesses, _) = model(Language::Go, source);
    assert_eq!(
        accesses,
        [
            "SQL Read SELECT c(id) tx serializable",
            "SQL Write UPDATE c(id) tx serializable",
        ]
    );
}

#[test]
fn typescript_redis_sql_templates_and_s3() {
    let source = r#"
import Redis from "ioredis";
import { Pool } from "pg";
import { S3Client, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
async function f(redis: Redis, pool: Pool, s3: S3Client, id: string) {
  const n = await redis.get(`stock:${id}`);
  await redis.set(`stock:${id}`, Number(n) - 1, "EX", 60);
  await redis.multi().incr("x").exec();
  await pool.query(`SELECT * FROM orders WHERE id = ${id}`);
  const Key = `carts/${id}.json`;
  await s3.send(new GetObjectCommand({ Bucket: "b", Key }));
  await s3.send(new PutObjectCommand({ Bucket: "b", Key, Body: "x", IfMatch: etag }));
}
"#;
    let (accesses, scopes) = model(Language::TypeScript, source);
    assert_eq!(
        accesses,
        [
            "Redis Read GET `stock:${id}`",
            "Redis Write SET `stock:${id}` expires",
            "Redis Write INCR x Command",
            "SQL Read SELECT orders(id)",
            "object store Read GetObject `carts/${id}.json`",
            "object store Write PutObject `carts/${id}.json` Conditional",
        ]
    );
    assert_eq!(scopes, 1);
}

#[test]
fn etcd_puts_under_a_compare_are_atomic() {
    let source = r#"package p
import clientv3 "go.etcd.io/etcd/client/v3"
func f(cli *clientv3.Client, key string) {
	resp, _ := cli.Get(ctx, key)
	cli.Put(ctx, key, "v")
	cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).Then(clientv3.OpPut(key, "v")).Commit()
	cli.Txn(ctx).If().Then(clientv3.OpPut(key, "v")).Commit()
}
"#;
    let (accesses, _) = model(Language::Go, source);
    assert_eq!(
        accesses,
        [
            "etcd Read GET key",
            "etcd Write PUT key",
            "etcd Write PUT key Conditional",
            "etcd Write PUT key",
        ]
    );
}

#[test]
fn rust_redis_sqlx_and_s3_builders() {
    let source = r#"
use redis::AsyncCommands;
use aws_sdk_s3::Client;
async fn f(con: &mut redis::aio::MultiplexedConnection, s3: &Client, key: String) {
    let n: i64 = con.get(&key).await?;
    con.set(key.clone(), n + 1).await?;
    let row = sqlx::query("SELECT balance FROM accounts WHERE id = $1").bind(id).fetch_one(&pool).await?;
    sqlx::query(&format!("UPDATE accounts SET balance = {} WHERE id = $1", b)).bind(id).execute(&pool).await?;
    s3.put_object().bucket("b").key(&key).if_none_match("*").send().await?;
    s3.head_object().bucket("b").key(&key).send().await?;
}
"#;
    let (accesses, _) = model(Language::Rust, source);
    assert_eq!(
        accesses,
        [
            "Redis Read GET key",
            "Redis Write SET key",
            "SQL Read SELECT accounts(id)",
            "SQL Write UPDATE accounts(id)",
            "object store Write PutObject key Conditional",
            "object store Exists HeadObject key",
        ]
    );
}

#[test]
fn computed_offsets_are_told_from_literal_ones() {
    let offset = |sql: &str| parse_sql(sql).and_then(|s| computed_offset(&s));
    assert_eq!(
        offset("SELECT * FROM t LIMIT 10 OFFSET $1").as_deref(),
        Some("$1")
    );
    assert_eq!(
        offset(&fill_printf("SELECT * FROM t LIMIT %d OFFSET %d")).as_deref(),
        Some(SQL_HOLE)
    );
    assert_eq!(offset("SELECT * FROM t LIMIT 10 OFFSET 0"), None);
    assert_eq!(
        offset("SELECT * FROM t WHERE id > $1 ORDER BY id LIMIT 10"),
        None
    );
    assert_eq!(offset("SELECT * FROM t LIMIT ?, 10").as_deref(), Some("?"));
}

#[test]
fn never_panics_on_broken_code() {
    for (language, source) in [
        (
            Language::Go,
            "package p\nfunc f() { rdb.Get(ctx, ) ; db.Exec(\"UPDATE\" + ) }",
        ),
        (
            Language::TypeScript,
            "redis.get(`${`); pool.query(`SELECT ${",
        ),
        (
            Language::Rust,
            "fn f() { sqlx::query(&format!(\"{\")).execute(&p); con.get( }",
        ),
    ] {
        let _ = model(language, source);
    }
}
