use dsr_syntax::{Document, Language};

use super::*;

/// One line per acquisition: `callee mechanism key=… expiry=… purpose handle=… releases=[…]`.
fn describe(language: Language, source: &str) -> Vec<String> {
    let document = Document::new(language, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(language, document.tree(), source);
    let kb = KnowledgeBase::builtin();
    let commands = StoreCommands::decode(&facts, kb, source);
    let locks = Locks::compute(&facts, source, kb, &commands);
    locks
        .acquisitions
        .iter()
        .map(|a| {
            let mechanism = match a.mechanism {
                Mechanism::Redis => "redis".to_string(),
                Mechanism::EtcdTxn => "etcd-txn".to_string(),
                Mechanism::Library(l) => l.library.clone(),
            };
            let expiry = match a.expiry {
                Expiry::None => "none".to_string(),
                Expiry::At(n) => compact(node::text(n, source)),
                Expiry::Default => "default".to_string(),
                Expiry::Unknown => "unknown".to_string(),
            };
            let releases: Vec<String> = a
                .releases
                .iter()
                .map(|r| {
                    let kind = match r.kind {
                        ReleaseKind::Delete => "del",
                        ReleaseKind::DeleteAfterGet(_) => "get-del",
                        ReleaseKind::DeleteInTransaction => "tx-del",
                        ReleaseKind::Library => "release",
                    };
                    format!(
                        "{kind}{}@{}",
                        if r.deferred { "(deferred)" } else { "" },
                        facts.calls[r.call].callee_text
                    )
                })
                .collect();
            format!(
                "{} {mechanism} key={} expiry={expiry} {:?} handle={} releases=[{}]",
                facts.calls[a.call].callee_text,
                a.key
                    .map(|k| key_text(source, language, k))
                    .unwrap_or_default(),
                a.purpose,
                a.handle.as_deref().unwrap_or("-"),
                releases.join(", ")
            )
        })
        .collect()
}

#[test]
fn go_redis_locks_and_their_releases() {
    let source = r#"package p
import (
    "github.com/redis/go-redis/v9"
)
func run(ctx context.Context, rdb *redis.Client, job, token string) error {
    ok, err := rdb.SetNX(ctx, "lock:"+job, token, 30*time.Second).Result()
    if err != nil || !ok {
        return err
    }
    defer rdb.Del(ctx, "lock:"+job)
    return nil
}
func checked(ctx context.Context, rdb *redis.Client, key, token string) {
    rdb.SetArgs(ctx, key, token, redis.SetArgs{Mode: "NX", TTL: ttl})
    if rdb.Get(ctx, key).Val() == token {
        rdb.Del(ctx, key)
    }
}
func watched(ctx context.Context, rdb *redis.Client, key, token string) {
    rdb.Do(ctx, "SET", key, token, "NX", "PX", 30000)
    rdb.Watch(ctx, func(tx *redis.Tx) error {
        _, err := tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
            pipe.Del(ctx, key)
            return nil
        })
        return err
    }, key)
}
func mark(ctx context.Context, rdb *redis.Client, id string) {
    rdb.SetNX(ctx, "processed:"+id, 1, 0)
    rdb.Del(ctx, "processed:"+id)
}
"#;
    assert_eq!(
        describe(Language::Go, source),
        [
            "rdb.SetNX redis key=\"lock:\"+job expiry=30*time.Second Lock handle=- releases=[del(deferred)@rdb.Del]",
            "rdb.SetArgs redis key=key expiry=ttl Lock handle=- releases=[get-del@rdb.Del]",
            "rdb.Do redis key=key expiry=\"PX\" Lock handle=- releases=[tx-del@pipe.Del]",
            "rdb.SetNX redis key=\"processed:\"+id expiry=none Dedup handle=- releases=[del@rdb.Del]",
        ]
    );
}

#[test]
fn go_lock_libraries_and_process_mutexes() {
    let source = r#"package p
import (
    "sync"
    "github.com/go-redsync/redsync/v4"
    "go.etcd.io/etcd/client/v3/concurrency"
)
type Cache struct {
    mu sync.RWMutex
    items map[string]string
}
type Counter struct {
    sync.Mutex
    n int
}
var global sync.Mutex
func (c *Cache) get(k string) string {
    c.mu.RLock()
    defer c.mu.RUnlock()
    return c.items[k]
}
func (c *Counter) inc() {
    c.Lock()
    c.n++
    c.Unlock()
}
func withGlobal() {
    global.Lock()
    global.Unlock()
}
func dist(rs *redsync.Redsync, s *concurrency.Session, ctx context.Context) {
    mutex := rs.NewMutex("lock:report")
    mutex.Lock()
    defer mutex.Unlock()
    m := concurrency.NewMutex(s, "/locks/report")
    m.Lock(ctx)
    m.Unlock(ctx)
}
"#;
    assert_eq!(
        describe(Language::Go, source),
        [
            "c.mu.RLock sync.RWMutex key= expiry=none Lock handle=- releases=[release(deferred)@c.mu.RUnlock]",
            "c.Lock sync.Mutex key= expiry=none Lock handle=- releases=[release@c.Unlock]",
            "global.Lock sync.Mutex key= expiry=none Lock handle=- releases=[release@global.Unlock]",
            "mutex.Lock redsync key=lock:report expiry=default Lock handle=- releases=[release(deferred)@mutex.Unlock]",
            "m.Lock etcd concurrency.Mutex key=/locks/report expiry=default Lock handle=- releases=[release@m.Unlock]",
        ]
    );
}

#[test]
fn rust_guards_managers_and_commands() {
    let source = r#"
use std::sync::{Arc, Mutex};
use tokio::sync::RwLock;
use redis::AsyncCommands;
struct State { inner: Arc<Mutex<Vec<u8>>>, cache: RwLock<u8> }
impl State {
    async fn run(&self, con: &mut redis::aio::Connection, key: &str, token: &str) {
        let guard = self.inner.lock().unwrap();
        drop(guard);
        let c = self.cache.read().await;
        let _: () = redis::cmd("SET").arg(key).arg(token).arg("NX").arg("PX").arg(30_000).query_async(con).await?;
        con.del(key).await?;
        let rl = rslock::LockManager::new(vec!["redis://127.0.0.1/"]);
        let lock = rl.lock(b"jobs", Duration::from_secs(10)).await?;
        rl.unlock(&lock).await;
    }
}
"#;
    assert_eq!(
        describe(Language::Rust, source),
        [
            "self.inner.lock std::sync::Mutex key= expiry=none Lock handle=guard releases=[release@drop]",
            "self.cache.read tokio::sync::RwLock key= expiry=none Lock handle=c releases=[]",
            "redis::cmd redis key=key expiry=\"PX\" Lock handle=- releases=[del@con.del]",
            "rl.lock rslock key=jobs expiry=Duration::from_secs(10) Lock handle=lock releases=[release@rl.unlock]",
        ]
    );
}

#[test]
fn typescript_redlock_async_mutex_and_clients() {
    let source = r#"
import Redis from "ioredis";
import Redlock from "redlock";
import { Mutex, Semaphore, withTimeout } from "async-mutex";
class Worker {
  private mutex = withTimeout(new Mutex(), 1000);
  private slots = new Semaphore(4);
  async run(redis: Redis, key: string, token: string) {
    await redis.set(key, token, "PX", 30000, "NX");
    await redis.del(key);
    const release = await this.mutex.acquire();
    try { await work(); } finally { release(); }
    await this.slots.runExclusive(async () => work());
    const redlock = new Redlock([redis]);
    const lock = await redlock.acquire(["a"], 5000);
    await lock.release();
    await redlock.using(["b"], 5000, async (signal) => { await work(); });
  }
}
"#;
    assert_eq!(
        describe(Language::TypeScript, source),
        [
            "redis.set redis key=key expiry=\"PX\" Lock handle=- releases=[del@redis.del]",
            "this.mutex.acquire async-mutex key= expiry=none Lock handle=release releases=[release(deferred)@release]",
            "redlock.acquire redlock key=a expiry=5000 Lock handle=lock releases=[release@lock.release]",
            "redlock.using redlock key=b expiry=5000 Lock handle=- releases=[]",
        ]
    );
}

#[test]
fn words_split_identifiers_and_keys() {
    assert_eq!(
        words("acquireLock(\"lock:job:\"+jobID)"),
        ["acquire", "lock", "lock", "job", "job", "id"]
    );
    assert!(has_word(&words("orderLocks"), LOCK_WORDS));
    assert!(!has_word(&words("blocklist:user"), LOCK_WORDS));
    assert!(!has_word(&words("releaseOrder"), LOCK_FUNCTION_WORDS));
    assert!(has_word(&words("processed:msg"), DEDUP_WORDS));
}
