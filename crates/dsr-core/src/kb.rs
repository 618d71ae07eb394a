//! The knowledge base: which library calls do network I/O, which mutate, which carry timeouts — data files in
//! `kb/*.toml` (one per language), extended by the user's `[[effects]]` in `distsys-review.toml`.
//!
//! The client libraries (`[[library]]` entries in `kb/*-libraries.toml`) say which modules make up each, what
//! its remote calls talk to, and its documented defaults — timeout, retry, acknowledgement, commit — each with
//! the address of the page that documents it, and the options that change them; the calls themselves are the
//! `[[api]]` and `[[method]]` entries whose module or path belongs to the library. The loader ([`validate`])
//! rejects a library without a documented default, a default without a source, and a remote entry, retry
//! library or distributed lock that no library claims: every piece of library knowledge says where its
//! defaults come from. `docs/libraries.md` is rendered from these tables (dsr-rules' `docs::libraries_page`).

use std::sync::OnceLock;

use dsr_syntax::Language;
use serde::Deserialize;

use crate::meta::Evidence;

/// What kind of remote system a call talks to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiKind {
    Http,
    Rpc,
    Db,
    Cache,
    Queue,
    ObjectStore,
    Lock,
    /// A raw connection: a TCP or TLS dial, a socket the caller speaks its own protocol over.
    Socket,
    /// In-process: channels, timers, constructors that matter to a rule but do no I/O.
    Local,
}

/// How an API is bounded in time when nothing else bounds it. Written in the data files as `none`, `set`,
/// `connect`, `client`, or a duration in words (`"30 s"`) for a library default.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum ApiTimeout {
    /// `none`: waits as long as the peer takes.
    None,
    /// `set`: a wrapper, option or builder method that sets a timeout bounding the whole response.
    Set,
    /// `connect`: a builder method that bounds only connecting.
    Connect,
    /// `client`: taken from the client the call is made on.
    Client,
    /// A library default, as the data file words it (`30 s`).
    LibraryDefault(String),
}

impl ApiTimeout {
    /// Whether the API is bounded without the caller doing anything: it sets a timeout or has a default one.
    pub fn bounds_by_default(&self) -> bool {
        !matches!(self, ApiTimeout::None)
    }
}

impl From<String> for ApiTimeout {
    fn from(written: String) -> Self {
        match written.as_str() {
            "none" => ApiTimeout::None,
            "set" => ApiTimeout::Set,
            "connect" => ApiTimeout::Connect,
            "client" => ApiTimeout::Client,
            _ => ApiTimeout::LibraryDefault(written),
        }
    }
}

/// One API the knowledge base knows, by canonical path (see [`crate::facts`]) or by method name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Canonical path (`net/http.Get`), or for `[[method]]` entries the method name (`ExecContext`).
    pub path: String,
    pub kind: ApiKind,
    /// Does network I/O.
    #[serde(default)]
    pub remote: bool,
    /// Changes state on the remote side; `None` when it depends on the arguments (SQL text, HTTP method).
    #[serde(default)]
    pub mutation: Option<bool>,
    /// Whether repeating the call has the effect of making it once, when neither `mutation = false` nor the HTTP
    /// method says (an S3 `PutObject` is, an SQS `SendMessage` is not); see dsr-rules' `docs::idempotent`.
    /// In user `[[effects]]`, `false` means a retry must not repeat it without an idempotency key and `true`
    /// that it is safe to repeat whatever its method.
    #[serde(default)]
    pub idempotent: Option<bool>,
    /// The HTTP method when the API fixes it.
    #[serde(default)]
    pub http_method: Option<String>,
    /// The timeout behaviour of the API when nothing else bounds it.
    #[serde(default)]
    pub timeout: Option<ApiTimeout>,
    /// For `[[method]]` entries: the module that must be imported for a method of this name to count.
    #[serde(default)]
    pub module: Option<String>,
    /// A sentence rules may quote (a library's real default).
    #[serde(default)]
    pub note: Option<String>,
    /// The entry matches only calls with exactly this many arguments: amqp091's `Delivery.Ack(multiple)` and
    /// `Channel.Ack(tag, multiple)` share a name.
    #[serde(default)]
    pub arity: Option<usize>,
    /// For ack, nack and offset-commit entries: the argument that names the message (`channel.ack(msg)` → 0,
    /// `CommitMessages(ctx, m)` → 1); the receiver when absent (`msg.Ack()`).
    #[serde(default)]
    pub message_arg: Option<usize>,
    /// For `consume` and `receive` entries: how acknowledgement on delivery is switched on.
    #[serde(default)]
    pub auto_ack: Option<AutoAck>,
    /// For `tx-begin` entries: the transaction ends by itself — rolled back when its handle is dropped (sqlx,
    /// sea-orm, tokio-postgres) or when its closure fails (diesel's `transaction(|conn| …)`, knex's
    /// `transaction(async trx => …)`).
    #[serde(default)]
    pub rolls_back_itself: bool,
    /// For `tx-begin` entries: how the handle's rollback is spelled, `{0}` standing for the begin call's first
    /// argument (`Rollback()` for database/sql, `Rollback({0})` for pgx).
    #[serde(default)]
    pub rollback: Option<String>,
    /// For key-value store APIs, the command the call sends, upper case (`SET`, `SETNX`, `DEL`).
    #[serde(default)]
    pub command: Option<String>,
    /// What each positional argument is, so rules can find "the key" or "the expiry" without knowing the
    /// library. Roles: `ctx` (a Go `context.Context`), `key`, `value`, `expiration` (a typed expiry: a Go
    /// duration, a Rust `Option<Expiration>`), `options` (an options object or struct), `init` (a fetch
    /// `RequestInit`), `url`, `method` (an HTTP method), `body` (a request body), `field` (a hash field), `limit` (a size limit in bytes;
    /// one of `calls.toml`'s `[limits] unbounded` values means none), `tokens...` (every remaining argument is a raw command token: `"NX"`, `"PX"`,
    /// `30000`), `options...` (every remaining argument is an option: etcd's `clientv3.WithLease(id)`),
    /// `command...` (every remaining argument is a raw command, its name first), `command` (one
    /// argument holding a raw command: an array of tokens, or a command name whose tokens follow in
    /// `builder` calls). Arguments past the list have no role.
    #[serde(default)]
    pub params: Vec<String>,
    /// For command builders (`redis::cmd("SET")`): the chained method that appends one token (`arg`).
    #[serde(default)]
    pub builder: Option<String>,
    /// What the call is for, beyond talking to a remote system: a sleep, a request builder, a publish, and the
    /// parts of consuming messages and of transactions the delivery models read (see [`ApiRole`]).
    #[serde(default)]
    pub role: Option<ApiRole>,
    /// For an HTTP library's entry points: what the call makes, which says where its timeout is set.
    #[serde(default)]
    pub constructs: Option<Construct>,
    /// For `role = "sleep"` and timers (`callback_arg`): the argument (0-based) holding the duration.
    #[serde(default)]
    pub delay_arg: Option<usize>,
    /// For timers: the argument (0-based) holding a function the call runs later, on its own, after `delay_arg`
    /// (`setTimeout(fn, ms)` → 0, Go's `time.AfterFunc(d, fn)` → 1). `models::retry` reads a timer whose
    /// callback calls the function arming it again as that function rescheduling itself.
    #[serde(default)]
    pub callback_arg: Option<usize>,
    /// The argument (0-based) holding the HTTP method (`http.NewRequest("POST", …)`, `client.request(Method::POST, …)`).
    #[serde(default)]
    pub method_arg: Option<usize>,
    /// The field of an options-object argument holding the HTTP method (`fetch(url, { method: "POST" })`).
    #[serde(default)]
    pub method_field: Option<String>,
    /// The HTTP method used when `method_arg`/`method_field` is not given (`fetch` → `GET`).
    #[serde(default)]
    pub default_method: Option<String>,
    /// For object-store APIs: the field of the input (Go struct, TS object) or the builder method (Rust) that
    /// names the object's key (`Key`, `key`).
    #[serde(default)]
    pub key_field: Option<String>,
    /// For object-store writes: the fields or builder methods that make the write conditional on the object's
    /// current state (`IfMatch`, `IfNoneMatch`, `if_match`).
    #[serde(default)]
    pub conditions: Vec<String>,
}

/// What an HTTP library's entry point makes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Construct {
    /// A request on a default client (`reqwest::get`, `ureq::get`): bounded only by its own chain.
    Request,
    /// A client with defaults (`reqwest::Client::new()`, `ureq::agent()`): bounded only per request.
    Client,
    /// A client builder to configure (`reqwest::Client::builder()`, `ureq::AgentBuilder::new()`).
    Builder,
}

/// What a call does that some rule needs to know, beside being remote.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiRole {
    /// Waits for its `delay_arg` (`time.Sleep`, `tokio::time::sleep`, `setTimeout`).
    Sleep,
    /// Sends a message to a queue, topic or subject (a retry re-sends it unless it carries a dedup id).
    Publish,
    /// Builds an HTTP request whose method `method_arg`/`method_field` gives; does no I/O itself.
    Request,
    // The parts of consuming messages and of transactions, read by `crate::models::messaging`.
    /// Returns the next message: kafka-go `FetchMessage`, rdkafka `recv`, sarama `claim.Messages()`.
    Receive,
    /// Starts consuming: a channel or stream of deliveries (amqp091 `Consume`, lapin `basic_consume`) or a
    /// handler callback (amqplib `consume`, nats `Subscribe`).
    Consume,
    /// Acknowledges one message: `msg.Ack()`, `channel.ack(msg)`, lapin `basic_ack`.
    Ack,
    /// Commits a consumer offset, acknowledging the message and everything before it: kafka-go
    /// `CommitMessages`, sarama `MarkMessage`, rdkafka `commit_message`, kafkajs `commitOffsets`.
    CommitOffset,
    /// Hands a message back for redelivery or dead-lettering: `Nack`, `Nak`, `Reject`, `nack`.
    Nack,
    /// Starts a transaction (returning its handle, or taking a closure run inside it).
    TxBegin,
    /// Commits the transaction it is called on.
    TxCommit,
    /// Rolls back the transaction it is called on.
    TxRollback,
    /// Gives a pooled connection back (pg `client.release()`).
    Release,
    // Store access, read by `crate::models::store`.
    /// Runs store commands atomically: Redis WATCH/MULTI (`Watch`, `TxPipelined`, `multi()`,
    /// `redis::transaction`), Lua scripts (`Eval`, `NewScript`, `defineCommand`).
    Atomic,
    /// Adds a compare to a store transaction, whose operations then apply only if it holds: etcd `Txn().If(…)`,
    /// etcd-client `Txn::when`, etcd3 `if(…)`.
    Compare,
    /// Skips rows of a query result (an ORM's or query builder's `Offset(n)`, `.offset(n)`, `.skip(n)`).
    Offset,
    /// A retry library's delay, grown and randomized by the library: a call that returns the next delay
    /// (cenkalti's `NextBackOff()`, backon's `next()`) or waits it out (dskit's `Wait()`). A hand-written retry
    /// loop that waits on one backs off with the library's jitter.
    Backoff,
    /// An option that makes the write it is passed to expire: etcd's `clientv3.WithLease(id)` among an
    /// `OpPut`'s `options...` (a key put without one never expires). Read by `models::locks`.
    Expiry,
}

/// A retry library: the calls that run an operation under retries, its defaults, and the settings that change
/// them. Settings are matched by name against option calls (`retry.Attempts(0)`), builder methods
/// (`.with_jitter()`), struct/object fields (`RandomizationFactor: 0`, `{ retries: 5 }`), assignments
/// (`b.MaxElapsedTime = 0`) and constructed types (`backoff.ConstantBackOff{}`) around the retry call.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryLibrary {
    /// The name messages use (`cenkalti/backoff`).
    pub library: String,
    /// The module that must be imported (`github.com/cenkalti/backoff`, `backon`, `p-retry`).
    pub module: String,
    /// Functions that retry, relative to the module (`Retry`, `future::retry`); `""` is the module's default
    /// export called directly (`pRetry(fn)`).
    #[serde(default)]
    pub calls: Vec<String>,
    /// Methods that retry their receiver (backon's `fetch.retry(builder)`).
    #[serde(default)]
    pub methods: Vec<String>,
    /// For libraries that build a policy object: the method that runs an operation under it (cockatiel's
    /// `policy.execute(fn)`).
    #[serde(default)]
    pub executes: Option<String>,
    /// Whether the default delays are randomized.
    pub jitter: bool,
    /// Whether the default delays grow with the attempt.
    pub grows: bool,
    /// Whether the default gives up by itself (an attempt cap or an elapsed-time limit).
    pub bounded: bool,
    /// The library's defaults, as a sentence naming the library ("p-retry makes 10 retries, …"). for messages.
    pub defaults: String,
    #[serde(default)]
    pub setting: Vec<RetrySetting>,
}

/// One setting of a retry library and what it does.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySetting {
    /// The option, method, field or type name (`RandomizationFactor`, `with_jitter`, `ConstantBackOff`).
    pub name: String,
    /// The value for which the effects hold (`0`, `None`, `Infinity`, `true`, `jitter`); absent: any value.
    #[serde(default)]
    pub when: Option<String>,
    pub effects: Vec<RetryEffect>,
    /// What the setting means, for messages.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryEffect {
    JitterOn,
    JitterOff,
    Grows,
    Constant,
    /// An attempt cap or elapsed-time limit.
    Bounded,
    /// Retries until success.
    Unbounded,
    /// Retries stop when a context/signal is cancelled.
    Cancellation,
}

/// A remote API that answers many keys or takes many records in one round trip (`[[batch]]` entries): what a
/// loop that calls it once per element should call instead.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchForm {
    /// The name messages use (`database/sql`, `go-redis`, `kafkajs`).
    pub library: String,
    /// The module the calls belong to: a `[[method]]` entry's `module`, or a prefix of an `[[api]]` path.
    pub module: String,
    /// The per-item calls, by method name or last path segment.
    pub calls: Vec<String>,
    /// The batch form, in words, with its API names.
    pub batch: String,
}

/// Names that make a retried write safe to repeat: idempotency-key headers and message dedup ids.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Idempotency {
    /// HTTP headers or request fields carrying an idempotency key (`Idempotency-Key`).
    #[serde(default)]
    pub keys: Vec<String>,
    /// Message fields, headers or options carrying a deduplication id (`MessageDeduplicationId`, `Nats-Msg-Id`).
    #[serde(default)]
    pub dedup: Vec<String>,
}

impl Api {
    /// The index of the argument with `role` (`key`, `expiration`), or where a rest role (`tokens...`) starts.
    pub fn param(&self, role: &str) -> Option<usize> {
        self.params.iter().position(|p| p == role)
    }
}

/// How a consume/receive call is told to treat messages as acknowledged as soon as they are delivered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoAck {
    /// A positional boolean argument (0-based): amqp091 `Consume(queue, consumer, autoAck, …)`.
    #[serde(default)]
    pub arg: Option<usize>,
    /// A field of an options literal among the arguments (or of a literal of the entry's type) set to `true`, or
    /// to a value ending in `value`: amqplib `{ noAck: true }`, lapin `BasicConsumeOptions { no_ack: true, .. }`,
    /// nats `ConsumerConfig{AckPolicy: jetstream.AckNonePolicy}`.
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    /// An option built by a call of this name among the arguments: nats.go `nats.AckNone()`.
    #[serde(default)]
    pub option: Option<String>,
    /// The receive call commits by itself when the client was configured with a literal of this type that sets
    /// `field`: kafka-go's `ReadMessage` with `ReaderConfig{GroupID: …}`.
    #[serde(default)]
    pub config: Option<String>,
}

/// Where a lock lives.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockScope {
    /// A key in a shared store (Redis, etcd): other processes contend for it, and it can expire under its
    /// holder.
    Distributed,
    /// Memory of this process (`sync.Mutex`, `std::sync::Mutex`, async-mutex).
    Process,
}

/// A lock library or lock type (`[[lock]]` entries): how a lock is made, taken and released. Two shapes: a lock
/// object made for one key (`rs.NewMutex(key)`, `concurrency.NewMutex(s, key)`, `sync.Mutex`) whose `acquire`
/// methods take no key, or a manager (`rslock::LockManager`, `new Redlock(…)`) whose `acquire` methods take the
/// key (`acquire_key`) and return a handle that `release` methods are called on or with.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockLibrary {
    /// The name messages use (`redsync`, `sync.Mutex`, `tokio::sync::Mutex`).
    pub library: String,
    pub scope: LockScope,
    /// Canonical paths of the types whose values are locks (`sync.Mutex`, `std::sync::Mutex`), for receivers
    /// whose declared type the file shows.
    #[serde(default)]
    pub types: Vec<String>,
    /// Canonical paths of the calls that make one (`std::sync::Mutex::new`, `async-mutex.Mutex` with `new`).
    #[serde(default)]
    pub constructors: Vec<String>,
    /// Methods that make one on a value of `module` (redsync's `rs.NewMutex(key)`).
    #[serde(default)]
    pub constructor_methods: Vec<String>,
    /// The module `constructor_methods` belong to.
    #[serde(default)]
    pub module: Option<String>,
    /// Calls that wrap a lock given as their first argument and return it, still a lock (async-mutex
    /// `withTimeout(new Mutex(), ms)`).
    #[serde(default)]
    pub wrappers: Vec<String>,
    /// Methods on the lock (or manager) that take it.
    pub acquire: Vec<String>,
    /// Methods that give it back: on the lock, on the handle `acquire` returned, or on the manager with the
    /// handle as an argument.
    #[serde(default)]
    pub release: Vec<String>,
    /// Methods that run a callback while holding the lock (`runExclusive`, redlock's `using`).
    #[serde(default)]
    pub scoped: Vec<String>,
    /// The constructor argument (0-based) naming the locked key.
    #[serde(default)]
    pub constructor_key: Option<usize>,
    /// The `acquire` argument (0-based) naming the locked key, for managers.
    #[serde(default)]
    pub acquire_key: Option<usize>,
    /// The `acquire` argument (0-based) holding the expiry.
    #[serde(default)]
    pub acquire_expiry: Option<usize>,
    /// `acquire` returns a guard that releases the lock when it goes out of scope (Rust).
    #[serde(default)]
    pub guard: bool,
    /// `acquire` returns a future: the lock is taken at its `.await`.
    #[serde(default)]
    pub awaited: bool,
    /// Methods on the lock that yield a fencing token or an ownership condition for writes (etcd's
    /// `Header().Revision`, `IsOwner()`).
    #[serde(default)]
    pub fencing: Vec<String>,
    /// The expiry when the code sets none, in words (`8 s`); absent for process locks.
    #[serde(default)]
    pub default_expiry: Option<String>,
}

/// A constructor of a channel that queues without limit (`[[unbounded_channel]]` entries), with its bounded form.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnboundedChannel {
    /// Canonical path of the constructor (`tokio::sync::mpsc::unbounded_channel`).
    pub path: String,
    /// The bounded form to use instead, as code (`tokio::sync::mpsc::channel(capacity)`).
    pub bounded: String,
}

/// How a Redis client runs the compare-and-delete script that releases a lock safely (`[[unlock_script]]`
/// entries), quoted by the unsafe-release rule's fix. The entries of a language are tried in order: the first
/// whose `module` the file imports, else the one with no `module` (the language's usual client).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlockScript {
    /// The client's module (`github.com/gomodule/redigo`); absent for the language's default.
    #[serde(default)]
    pub module: Option<String>,
    /// The call as code, with `{script}`, `{client}`, `{key}` and `{token}` filled in by the rule.
    pub form: String,
    /// The client's name in `form` when the release's receiver is not a plain name (`conn`, `rdb`).
    pub client: String,
}

/// A request-body parser middleware with a size limit (`[[body_parser]]` entries): the option that sets the
/// limit and the library's default, which a rule quotes when the limit is raised.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyParser {
    /// Canonical paths of the calls that make the parser (`express.json`, `fastify`).
    pub paths: Vec<String>,
    /// The field of the options object (first argument) that sets the limit (`limit`, `bodyLimit`).
    pub option: String,
    /// The library's limit when the option is absent, as written in its docs (`100kb`).
    pub default: String,
}

/// Calls that look at data without doing work with it, for every language (`kb/calls.toml`): logging,
/// metrics and derivations, matched by `models::messaging`; task spawns; the names that stand for a client
/// or for a failure worth nothing when no type says (`[clients]`, `[errors]`); and how code bounds what it
/// reads (`[limits]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallKinds {
    pub logging: LoggingCalls,
    pub metrics: MetricCalls,
    pub derivation: DerivationCalls,
    #[serde(default)]
    pub clients: ClientNames,
    #[serde(default)]
    pub errors: ErrorCalls,
    #[serde(default)]
    pub operations: OperationNames,
    #[serde(default)]
    pub collections: CollectionCalls,
    #[serde(default)]
    pub limits: LimitCalls,
}

/// How code bounds what it reads (`[limits]`), for BKP004: the methods that check or cap a body's size, and
/// the values that stand for no limit when given as one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitCalls {
    /// Methods (by last segment) that check a body's size (`content_length`, `size_hint`), read it chunk by
    /// chunk (`chunk`) or through a capped reader (`take`): a whole-body read in the same function is bounded.
    pub size_checks: Vec<String>,
    /// A size limit written as its type's largest value is no limit (`usize::MAX`, `Infinity`): as written,
    /// whitespace removed.
    pub unbounded: Vec<String>,
}

impl LimitCalls {
    /// Whether a limit as written (whitespace removed) is one of the values that stand for none.
    pub fn is_unbounded(&self, written: &str) -> bool {
        self.unbounded.iter().any(|u| u == written)
    }
}

/// The standard libraries' map and option methods (`[collections]`), by which `models::time` follows a value
/// stored in a map and read back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionCalls {
    /// Methods that insert a value under a key; the value is the last argument (`set`, `insert`, `Store`).
    pub map_inserts: Vec<String>,
    /// Methods that read a value out of a map or an option without changing what it is (`get`, `copied`).
    pub value_reads: Vec<String>,
}

/// What a function's name says about the operation it performs (DEL001 through `models::remote`): a POST
/// made by a function named for a read, a renewal or a move to a named state is repeated without duplicating
/// anything (RPC over HTTP uses POST for every operation).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationNames {
    /// Leading words (lowercase, words joined: `timetolive`) of a name whose operation a repeat does not
    /// duplicate.
    pub repeat_safe: Vec<String>,
    /// Words that, anywhere in the name, make a new thing each time (`getOrCreate`, `refreshAndSend`): the
    /// name is not taken as repeat-safe.
    pub creating: Vec<String>,
}

impl OperationNames {
    /// Whether `name` (a function or method name; the part after the last `.`/`::` counts) starts with a
    /// repeat-safe word and has no creating word: `RenewHTTP`, `time_to_live`, `promoteMember`, not
    /// `getOrCreateCustomer`.
    pub fn repeat_safe(&self, name: &str) -> bool {
        let words = name_words(last_segment(name));
        if words.iter().any(|w| self.creating.iter().any(|c| c == w)) {
            return false;
        }
        self.repeat_safe.iter().any(|phrase| {
            let mut joined = String::new();
            words.iter().any(|word| {
                joined.push_str(word);
                joined == *phrase
            })
        })
    }
}

/// The last segment of a path or a callee as written, after its last `.` or `:` (`time.Now` → `Now`,
/// `tokio::sync::mpsc::unbounded_channel` → `unbounded_channel`, `Client.connect` → `connect`).
pub fn last_segment(path: &str) -> &str {
    path.rsplit(['.', ':']).next().unwrap_or(path)
}

/// The lowercase words of a camelCase, PascalCase or snake_case name (`RenewHTTP` → `renew`, `http`).
fn name_words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        // A new word at a lower→upper step, or before the last capital of an acronym (`HTTPServer`).
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        let boundary = c.is_uppercase()
            && previous.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
            });
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Guesses about a value that holds a client of a remote system when no type says (OBS002).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientNames {
    /// Parts of a local's or field's name that mark a client (`db`, `redis`, `client`), lowercase, matched
    /// inside the lowercased name.
    pub names: Vec<String>,
    /// Methods whose failure is harmless (closing a body or a connection, releasing, shutting down).
    pub closing_methods: Vec<String>,
    /// Methods that make a pipeline or transaction, which queues commands: their errors surface at `exec`.
    pub queueing_methods: Vec<String>,
}

/// Errors that are dropped by design.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorCalls {
    /// Transaction methods whose deferred call is a safety net: after a commit it fails with "transaction
    /// already done" by design (`sql.ErrTxDone`, pgx's `ErrTxClosed`), so its error says nothing.
    pub deferred_safety_nets: Vec<String>,
}

/// Log calls: whole logging packages, path and callee prefixes, and log methods on a receiver named like a
/// logger.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingCalls {
    pub modules: Vec<String>,
    pub path_prefixes: Vec<String>,
    pub callee_prefixes: Vec<String>,
    pub methods: Vec<String>,
    pub receiver_words: Vec<String>,
}

/// Metric and tracing calls: label lookups, and metric methods on a receiver named like a metric.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricCalls {
    pub label_methods: Vec<String>,
    pub methods: Vec<String>,
    pub receiver_words: Vec<String>,
}

/// Calls that derive data (decode, convert, format), modules that do no I/O, and task spawns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivationCalls {
    pub methods: Vec<String>,
    pub pure_prefixes: Vec<String>,
    /// Functions and methods that start a task or thread, by their last segment (`spawn`, `spawn_local`).
    pub task_spawns: Vec<String>,
    /// The modules a free spawn function is written through when its path is not resolved (`task::spawn`,
    /// `thread::spawn`).
    #[serde(default)]
    pub task_spawn_qualifiers: Vec<String>,
    /// TypeScript functions that run their callback later, on its own (`setTimeout`): the code that arms them
    /// does not wait for what the callback does.
    #[serde(default)]
    pub timer_callbacks: Vec<String>,
}

impl CallKinds {
    /// The bundled `kb/calls.toml`.
    pub fn builtin() -> &'static CallKinds {
        static KINDS: OnceLock<CallKinds> = OnceLock::new();
        KINDS.get_or_init(|| bundled("kb/calls.toml", include_str!("../kb/calls.toml")))
    }
}

/// A bundled data file parsed, or (logged) the empty table when it does not parse: analysis goes on without
/// that knowledge rather than failing.
fn bundled<T: serde::de::DeserializeOwned + Default>(file: &str, text: &str) -> T {
    toml::from_str(text).unwrap_or_else(|err| {
        tracing::error!("bundled {file} is invalid: {err}");
        T::default()
    })
}

/// What OPS001 does with each schema change on each database (`kb/migrations.toml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationKnowledge {
    pub operation: Vec<MigrationEntry>,
    /// Driver modules and the database they talk to, by which the SQL strings of a file get their dialect.
    #[serde(default)]
    pub driver: Vec<SqlDriver>,
}

/// A database driver (`[[driver]]` in `kb/migrations.toml`): a Go import path, Rust path or npm package, and
/// the database it talks to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlDriver {
    /// Matches a module exactly, or as a prefix followed by `::` or `/`.
    pub module: String,
    /// As `[sql]` names databases (`mysql`, `sqlite`, `clickhouse`).
    pub database: String,
}

impl SqlDriver {
    pub fn database(&self) -> Option<crate::sql::SqlDatabase> {
        crate::sql::SqlDatabase::parse(&self.database)
    }
}

/// One schema change and the verdict for each database.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationEntry {
    pub operation: MigrationOperation,
    pub postgresql: MigrationVerdict,
    pub mysql: MigrationVerdict,
    pub sqlite: MigrationVerdict,
    pub clickhouse: MigrationVerdict,
    pub other: MigrationVerdict,
}

/// A schema change OPS001 knows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationOperation {
    DropColumn,
    RenameColumn,
    RenameTable,
    DropTable,
    AddRequiredColumn,
    ChangeType,
    SetNotNull,
    Redefine,
    RedefineEnum,
    CreateIndex,
}

/// What OPS001 does with an operation on a database.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationVerdict {
    /// The operation breaks the running version or locks the table on this database.
    Report,
    /// It breaks any running version that still uses what it removes, but how this database is deployed is not
    /// known: an open question.
    Ask,
    /// Safe, or not this database's syntax, or nothing known about it.
    Silent,
}

impl MigrationKnowledge {
    /// The bundled `kb/migrations.toml`.
    pub fn builtin() -> &'static MigrationKnowledge {
        static KNOWLEDGE: OnceLock<MigrationKnowledge> = OnceLock::new();
        KNOWLEDGE
            .get_or_init(|| bundled("kb/migrations.toml", include_str!("../kb/migrations.toml")))
    }

    /// The verdict for `operation` on `database`; `Silent` for an operation the data does not list.
    pub fn verdict(
        &self,
        operation: MigrationOperation,
        database: crate::sql::SqlDatabase,
    ) -> MigrationVerdict {
        use crate::sql::SqlDatabase;
        self.operation
            .iter()
            .find(|entry| entry.operation == operation)
            .map_or(MigrationVerdict::Silent, |entry| match database {
                SqlDatabase::PostgreSql => entry.postgresql,
                SqlDatabase::MySql => entry.mysql,
                SqlDatabase::Sqlite => entry.sqlite,
                SqlDatabase::ClickHouse => entry.clickhouse,
                SqlDatabase::Other => entry.other,
            })
    }
}

/// A call that reads the calendar (wall-clock) time (`[[clock]]` entries, read by `models::time`): ORD001 and
/// ORD002 follow its value.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockReading {
    /// Canonical path of the call (`time.Now`, `std::time::SystemTime::now`), or for `new_without_arguments`
    /// the constructor as written (`Date`).
    pub path: String,
    /// How the reading is usually written, for messages (`time.Now()`, `new Date()`).
    pub written: String,
    /// Rust's `std::time::SystemTime::now`: `Instant::now` replaces it one for one (ORD002's fix).
    #[serde(default)]
    pub system_time: bool,
    /// A constructor call with no arguments reads the clock (`new Date()`); with arguments it does not.
    #[serde(default)]
    pub new_without_arguments: bool,
}

/// An HTTP client library as `models::clients` reads it (`[[http_client]]`): which of its calls make requests,
/// clients and instances, and what bounds each request, so that the timeout question (RES001) is asked of data.
/// Its entry points are the `[[api]]` entries under `modules`; their `timeout` and `constructs` say what each
/// one makes and how it is bounded when nothing else says.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClient {
    /// The modules whose APIs belong to the library (`net/http`, `reqwest`, `axios`, Node's `http` and `https`).
    pub modules: Vec<String>,
    /// Where a request's own bound is written.
    pub shape: ClientShape,
    /// Methods of a client, agent or instance that send a request (`Do`, `Get`, `get`, `post`).
    #[serde(default)]
    pub request_methods: Vec<String>,
    /// Of the request methods, those that send a request built beforehand, bounded by its context (Go `Do`).
    #[serde(default)]
    pub prepared_request_methods: Vec<String>,
    /// Methods of a request that give it another context (Go `req.WithContext(ctx)`, `req.Clone(ctx)`).
    #[serde(default)]
    pub context_methods: Vec<String>,
    /// Of the request methods, those whose config follows a body (axios `post(url, data, config)`).
    #[serde(default)]
    pub body_methods: Vec<String>,
    /// Of the request methods, those that take only a config (axios `request(config)`).
    #[serde(default)]
    pub config_methods: Vec<String>,
    /// Fields of a request's options or config that bound it (`signal`, `timeout`).
    #[serde(default)]
    pub request_options: Vec<String>,
    /// Methods of a request that bound it once called (Node's `req.setTimeout(ms)`).
    #[serde(default)]
    pub request_timeout_methods: Vec<String>,
    /// The call that makes an instance with a config of its own (`axios.create`), and the fields of that
    /// config that bound every request made through it.
    #[serde(default)]
    pub instance: Option<String>,
    #[serde(default)]
    pub instance_options: Vec<String>,
    /// The field, of the module and of an instance, that sets every request's default bound
    /// (`axios.defaults.timeout`).
    #[serde(default)]
    pub defaults_option: Option<String>,
    /// Go: the client type whose literal takes the timeout field (`net/http.Client`), that field (`Timeout`),
    /// and the shared client every package-level call goes through (`net/http.DefaultClient`).
    #[serde(default)]
    pub client_type: Option<String>,
    #[serde(default)]
    pub timeout_field: Option<String>,
    #[serde(default)]
    pub default_client: Option<String>,
    /// Go: the request and response types (`net/http.Request`, `net/http.Response`), by which a body is told
    /// to be an incoming request's or a response's.
    #[serde(default)]
    pub request_type: Option<String>,
    #[serde(default)]
    pub response_type: Option<String>,
    /// Go: methods a client's transport implements (`RoundTrip` of an `http.RoundTripper`): the request they
    /// receive is the client's own on its way out, not one a server received.
    #[serde(default)]
    pub transport_methods: Vec<String>,
    /// Rust: methods of a response that read its whole body into memory, awaited with no arguments
    /// (reqwest's `bytes`, `text`, `json`): BKP004 asks whether the server is trusted with the size.
    #[serde(default)]
    pub body_read_methods: Vec<String>,
    /// How a client (Rust) or a request (TypeScript) of the library is given an overall timeout (RES001's fix
    /// and advice).
    #[serde(default)]
    pub timeout_fix: Option<ClientTimeoutFix>,
}

/// How a client library's client (Rust) or request (TypeScript) gets an overall timeout
/// (`[http_client.timeout_fix]`): the builder method RES001 inserts, how a default client is rewritten into a
/// builder, the entry added to a request's options, and the advice given when no edit is made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTimeoutFix {
    /// The builder method that bounds every request, given a `std::time::Duration` (reqwest's `timeout`).
    #[serde(default)]
    pub builder_method: Option<String>,
    /// Constructors that make a client with the default configuration (`new`, `default`), rewritten into
    /// `builder_constructor` with the timeout and `finish` appended.
    #[serde(default)]
    pub default_constructors: Vec<String>,
    #[serde(default)]
    pub builder_constructor: Option<String>,
    /// What turns the builder into a client, as appended (`.build().expect("HTTP client")`).
    #[serde(default)]
    pub finish: Option<String>,
    /// What to do when no edit is offered, in the library's own API (ureq's timeout API differs by version).
    pub advice: String,
    /// TypeScript: the entry RES001 adds to a request's options or config literal (`signal:
    /// AbortSignal.timeout(10_000)`, axios `timeout: 10_000`); its name is the option the messages ask for.
    #[serde(default)]
    pub entry: Option<String>,
    /// TypeScript: the entry when the function receives a `signal` from its caller, which the fix must keep,
    /// `{signal}` standing for it (`signal: AbortSignal.any([{signal}, AbortSignal.timeout(10_000)])`).
    #[serde(default)]
    pub entry_with_signal: Option<String>,
    /// TypeScript: the title of the fix that adds the entry, `{value}` standing for the value it sets (`abort
    /// after 10 s with `{value}``); absent, the fix is titled by the option it sets (`set a 10 s `timeout``).
    #[serde(default)]
    pub title: Option<String>,
}

impl ClientTimeoutFix {
    /// The option `entry` sets (`signal` of `signal: AbortSignal.timeout(10_000)`).
    pub fn option(&self) -> Option<&str> {
        self.entry
            .as_deref()
            .and_then(|entry| entry.split(':').next())
            .map(str::trim)
    }
}

impl HttpClient {
    /// Whether a canonical path (`net/http.Get`, `net/http.Client`) belongs to one of the library's modules.
    pub fn owns(&self, path: &str) -> bool {
        self.modules.iter().any(|m| module_matches(path, m))
    }
}

/// Where an [`HttpClient`]'s requests get their own bound.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientShape {
    /// Go `net/http`: a client value with a timeout field; a prepared request is bounded by its context.
    ClientField,
    /// Rust (`reqwest`, `ureq`): builder chains, whose methods' kb `timeout` entries set a bound, turn it off or
    /// bound only connecting; each request through a client can carry its own.
    Builder,
    /// `fetch`: an init argument (kb `params` role `init`, or a `new Request(url, init)`).
    Init,
    /// axios: a config argument (after the URL, after a body, or alone) and instances with a config of their own.
    Config,
    /// Node's `http(s).request/get(url?, options?, callback?)`: a URL or options first.
    UrlOrOptions,
}

/// A web framework or server library as `models::handlers` knows it (`[[web_framework]]`): by which imports a
/// file's route-shaped calls register routes, and (Go) by which types a function is a handler and by which
/// calls a server starts. Entries are tried in table order.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebFramework {
    /// The framework as `models::handlers` names it (`net/http`, `gin`, `axum`, `actix-web`, `express`,
    /// `NestJS`, `node:http`).
    pub framework: String,
    /// Modules whose import makes the file's route-shaped calls route registrations (Go: import-path prefixes;
    /// Rust and TypeScript: modules as imported).
    #[serde(default)]
    pub imports: Vec<String>,
    /// Go: prefixes of the canonical paths of the framework's calls and types (`github.com/labstack/echo` also
    /// covers `/v4`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Go: the parameter types of a handler the framework calls with two (`net/http.ResponseWriter`,
    /// `net/http.Request`).
    #[serde(default)]
    pub handler_params: Vec<String>,
    /// Go: the last segment of the type of a handler's single parameter (`Context`, `Ctx`).
    #[serde(default)]
    pub handler_context: Option<String>,
    /// Go: methods that serve until the process stops whatever their receiver (`ListenAndServe`), and those
    /// that do on a value built by a call or literal under `server` (`Run` on `gin.Default()`).
    #[serde(default)]
    pub serve_any: Vec<String>,
    #[serde(default)]
    pub serve_methods: Vec<String>,
    #[serde(default)]
    pub server: Option<String>,
    /// Rust: the attribute on a trait impl whose methods are the framework's handlers (`tonic::async_trait`).
    #[serde(default)]
    pub trait_attribute: Option<String>,
    /// The methods (Rust: the method-router functions, `get(handler)`) that register a route or mount a group
    /// of them (`r.GET("/orders", h)`, `app.get(…)`, `r.Route("/api", …)`). In a file that imports a framework
    /// of its language, a call of any of them counts (files mix a router library with the server's).
    #[serde(default)]
    pub route_methods: Vec<String>,
    /// Go: methods that drain a server gracefully (`Shutdown`, gRPC's `GracefulStop`): one anywhere in the file
    /// wires the shutdown.
    #[serde(default)]
    pub shutdown_methods: Vec<String>,
    /// Rust: the method chains that start a server (`[[web_framework.server_chain]]`), in the order they are tried.
    #[serde(default)]
    pub server_chain: Vec<ServerChain>,
}

/// How a Rust server's start chain looks (`axum::serve(listener, app).with_graceful_shutdown(signal)`): the call
/// it hangs from, what must follow on the chain for it to serve, and what drains it. Method names ending in `*`
/// match by prefix (`serve*`: `serve`, `serve_with_shutdown`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerChain {
    /// The crate the chain's first call comes from (`axum`): its path starts with `axum::`.
    pub module: String,
    /// The end of that call's path (`serve`, `Server::bind`, `HttpServer::new`).
    pub call: String,
    /// Chain methods of which one must be there for the chain to serve (none: the call itself serves).
    #[serde(default)]
    pub serves_with: Vec<String>,
    /// Chain methods that wire a graceful shutdown.
    #[serde(default)]
    pub shutdown: Vec<String>,
    /// What the library does on SIGTERM by itself, when it drains without being asked (actix-web).
    #[serde(default)]
    pub default_shutdown: Option<String>,
    /// Chain methods that turn that default off (`disable_signals`).
    #[serde(default)]
    pub default_off: Vec<String>,
    /// Serves RPCs rather than HTTP routes (tonic).
    #[serde(default)]
    pub rpc: bool,
}

impl ServerChain {
    /// Whether a call's canonical path is the chain's first call.
    pub fn starts_at(&self, path: &str) -> bool {
        path.strip_prefix(self.module.as_str())
            .and_then(|rest| rest.strip_prefix("::"))
            .is_some_and(|rest| rest == self.call || rest.ends_with(&format!("::{}", self.call)))
    }

    /// Whether `method` is one of `names` (a name ending in `*` matches by prefix).
    pub fn names(names: &[String], method: &str) -> bool {
        names.iter().any(|name| match name.strip_suffix('*') {
            Some(prefix) => method.starts_with(prefix),
            None => name == method,
        })
    }
}

/// Library calls and types a rule or model treats alike (`[[group]]` entries), by canonical path: knowledge
/// about things that are not remote APIs, kept as data like the rest.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathGroup {
    pub kind: PathGroupKind,
    /// Canonical paths (`io.ReadAll`, `std::sync::mpsc::Receiver`).
    pub paths: Vec<String>,
}

/// What the calls or types of a [`PathGroup`] are.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathGroupKind {
    /// Reads a whole stream into memory (`io.ReadAll`): a request body read so is as large as the client says.
    ReadAll,
    /// Caps how much of a stream a reader returns (`http.MaxBytesReader`, `io.LimitReader`).
    ReadLimit,
    /// Makes a channel whose receiver's `recv()` blocks the thread (`std::sync::mpsc::channel`, crossbeam, flume).
    BlockingChannel,
    /// The receiver type of such a channel (`std::sync::mpsc::Receiver`).
    BlockingReceiver,
    /// Makes a channel whose receiver is awaited (`tokio::sync::mpsc::channel`): a file that imports one may be
    /// receiving from it, so an untyped `recv()` there is not taken for a blocking one.
    AsyncChannel,
    /// Starts an OS thread whose handle's `join()` blocks (`std::thread::spawn`).
    ThreadSpawn,
    /// The handle type of such a thread (`std::thread::JoinHandle`).
    ThreadHandle,
    /// Serves HTTP until the process stops, with timeouts only if the server or router was given some
    /// (`http.ListenAndServe`, `axum::serve`).
    Serve,
    /// Measures the time passed since, or left until, an instant (`time.Since`, `time.Until`): a loop that
    /// compares it stops at a deadline.
    DeadlineCheck,
    /// Returns an event emitter, not a promise (Node's `http.request`, `net.connect`): its failure arrives as an
    /// `error` event, so a call of one used as a statement leaves no promise floating.
    EventEmitter,
    /// Ends the function, goroutine or process without returning (`panic`, `os.Exit`, `log.Fatal`,
    /// `std::process::exit`, `process.exit`), matched on the callee as written: code after it does not run.
    ProcessExit,
    /// Puts a key as one operation of a store transaction (etcd's `clientv3.OpPut` inside `Txn(ctx).Then(…)`):
    /// with a compare of [`PathGroupKind::AbsenceCompare`] in the `If(…)`, the put claims the key only when no
    /// one holds it — a lock (read by `models::locks`).
    TxnPut,
    /// A transaction compare target that is zero exactly when the key does not exist (etcd's
    /// `clientv3.CreateRevision(k)`, `clientv3.Version(k)`): `If(Compare(CreateRevision(k), "=", 0))` asks that
    /// the key be absent.
    AbsenceCompare,
    /// Rust macros that end the function the same way (`panic!`, `unreachable!`, `todo!`, `anyhow::bail!`),
    /// matched on the macro's last path segment.
    ExitMacro,
    /// Starts a task or thread by a free function (`tokio::spawn`, `std::thread::spawn`): what is handed to it
    /// runs on its own.
    TaskSpawn,
    /// Removes a framework's default request body limit (axum's `DefaultBodyLimit::disable`): extractors then
    /// buffer as much as the client sends. The entry's `[[api]]` note says what the default was.
    BodyLimitOff,
    /// Makes a Go context with a deadline (`context.WithTimeout`, `context.WithDeadline`).
    ContextWithDeadline,
    /// Makes a Go context that keeps its first argument's deadline (`context.WithCancel`, `context.WithValue`).
    ContextDerived,
    /// Makes a Go context with no deadline (`context.Background`, `context.TODO`, `context.WithoutCancel`).
    ContextWithoutDeadline,
    /// Reads only the trace identity out of a context (`trace.SpanContextFromContext`, `trace.LinkFromContext`):
    /// a function that carries its caller's trace over to a fresh context detaches it on purpose.
    TraceFromContext,
    /// Returns a URL (or its text) built on its first argument, keeping that argument's scheme and host
    /// (`strings.TrimRight(base, "/")`, `url.Parse(base)`, `url.JoinPath(base, …)`): the server of the result is
    /// the first argument's.
    UrlFromFirstArg,
    /// Formats its arguments into the format string it takes first (`fmt.Sprintf`): a URL formatted so starts
    /// with what the format starts with (`"%s/repos/%s"` → the first argument, `"https://…"` → that host).
    StringFormat,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KbFile {
    #[serde(default)]
    api: Vec<Api>,
    #[serde(default)]
    method: Vec<Api>,
    #[serde(default)]
    retry: Vec<RetryLibrary>,
    #[serde(default)]
    idempotency: Option<Idempotency>,
    #[serde(default)]
    lock: Vec<LockLibrary>,
    #[serde(default)]
    batch: Vec<BatchForm>,
    #[serde(default)]
    unbounded_channel: Vec<UnboundedChannel>,
    #[serde(default)]
    unlock_script: Vec<UnlockScript>,
    #[serde(default)]
    body_parser: Vec<BodyParser>,
    #[serde(default)]
    group: Vec<PathGroup>,
    #[serde(default)]
    clock: Vec<ClockReading>,
    #[serde(default)]
    http_client: Vec<HttpClient>,
    #[serde(default)]
    web_framework: Vec<WebFramework>,
    #[serde(default)]
    receivers: Option<ReceiverNames>,
    #[serde(default)]
    local_failures: Option<LocalFailures>,
    #[serde(default)]
    library: Vec<Library>,
}

/// Errors a client reports before anything leaves the process (`[local_failures]`): confluent-kafka-go's
/// `ErrQueueFull`, rdkafka's `QueueFull` (librdkafka's local producer queue is full). A loop that goes round
/// again on one retries a local enqueue, not a remote write, so a repeat duplicates nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalFailures {
    /// The error names as the code mentions them (the last segment of a path).
    pub names: Vec<String>,
}

/// What a `[[method]]` entry needs to know about a call's receiver before a method name may stand for a
/// library's method (`[receivers]`): names every library and every language's standard containers share.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverNames {
    /// Method names too common to mean a library's method by themselves (`get`, `set`, `send`, `Do`): a call of
    /// one counts only when its receiver is bound to the library's type.
    #[serde(default)]
    pub generic_methods: Vec<String>,
    /// Local types whose methods never do network I/O (`Map`, `HashMap`, `URLSearchParams`, `sync.Map`): a
    /// receiver bound to one is not any library's client, whatever the method's name.
    #[serde(default)]
    pub local_types: Vec<String>,
}

/// A user-declared API (`[[effects]]` in the configuration): "our `httpx.New` sets timeouts", "`billing.Charge`
/// is a remote non-idempotent call". Added in front of the builtin entries by [`KnowledgeBase::with_effects`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    pub language: Language,
    pub api: Api,
}

/// The APIs known for each language family (`go`, `rust`, `typescript`).
#[derive(Debug, Default, Clone)]
pub struct KnowledgeBase {
    entries: Vec<(Language, Api)>,
    methods: Vec<(Language, Api)>,
    /// `entries` and `methods` by `path`, each list in ascending order: every call of a file is looked up in
    /// several models, and a scan of the whole table per call was the largest cost after the tree walks.
    entries_by_path: rustc_hash::FxHashMap<String, Vec<usize>>,
    methods_by_name: rustc_hash::FxHashMap<String, Vec<usize>>,
    /// The user's `[[effects]]`, also matched by the end of a call's qualified name (`billing.Client.Charge`
    /// matches `example.com/shop/billing.Client.Charge`).
    user: Vec<(Language, Api)>,
    retry: Vec<(Language, RetryLibrary)>,
    idempotency: Vec<(Language, Idempotency)>,
    locks: Vec<(Language, LockLibrary)>,
    batches: Vec<(Language, BatchForm)>,
    /// Unbounded channel constructors by path.
    unbounded_channels: rustc_hash::FxHashMap<String, Vec<(Language, UnboundedChannel)>>,
    unlock_scripts: Vec<(Language, UnlockScript)>,
    /// Body parsers by each of their paths.
    body_parsers: rustc_hash::FxHashMap<String, Vec<(Language, BodyParser)>>,
    /// The groups each path belongs to.
    path_groups: rustc_hash::FxHashMap<String, Vec<(Language, PathGroupKind)>>,
    /// HTTP client libraries, in table order.
    http_clients: Vec<(Language, HttpClient)>,
    /// Web frameworks, in table order.
    web_frameworks: Vec<(Language, WebFramework)>,
    /// Wall-clock readings by path.
    clocks: rustc_hash::FxHashMap<String, Vec<(Language, ClockReading)>>,
    /// Per language family, the last segments of `clocks`' and `unbounded_channels`' paths
    /// ([`KnowledgeBase::evidence_callees`]).
    clock_callees: Vec<(&'static str, Vec<String>)>,
    unbounded_channel_callees: Vec<(&'static str, Vec<String>)>,
    /// `[receivers]` generic method names and local types, each with the languages that list it.
    generic_methods: rustc_hash::FxHashMap<String, Vec<Language>>,
    local_types: rustc_hash::FxHashMap<String, Vec<Language>>,
    /// `[local_failures]` names, with their language.
    local_failures: Vec<(Language, String)>,
    /// `[[library]]` entries: the libraries the tables above describe, with their documented defaults.
    libraries: Vec<(Language, Library)>,
}

pub(crate) const BUILTIN: [(Language, &str, &str); 18] = [
    (Language::Go, "go.toml", include_str!("../kb/go.toml")),
    (Language::Rust, "rust.toml", include_str!("../kb/rust.toml")),
    (
        Language::TypeScript,
        "typescript.toml",
        include_str!("../kb/typescript.toml"),
    ),
    (
        Language::Go,
        "go-retry.toml",
        include_str!("../kb/go-retry.toml"),
    ),
    (
        Language::Rust,
        "rust-retry.toml",
        include_str!("../kb/rust-retry.toml"),
    ),
    (
        Language::TypeScript,
        "typescript-retry.toml",
        include_str!("../kb/typescript-retry.toml"),
    ),
    // Message brokers and transactions (DEL002–DEL004), kept apart so each family's data stays readable.
    (
        Language::Go,
        "go-delivery.toml",
        include_str!("../kb/go-delivery.toml"),
    ),
    (
        Language::Rust,
        "rust-delivery.toml",
        include_str!("../kb/rust-delivery.toml"),
    ),
    (
        Language::TypeScript,
        "typescript-delivery.toml",
        include_str!("../kb/typescript-delivery.toml"),
    ),
    // Shared stores' reads, writes and atomic forms (CON001) and row-skipping query builders (API001).
    (
        Language::Go,
        "go-store.toml",
        include_str!("../kb/go-store.toml"),
    ),
    (
        Language::Rust,
        "rust-store.toml",
        include_str!("../kb/rust-store.toml"),
    ),
    (
        Language::TypeScript,
        "typescript-store.toml",
        include_str!("../kb/typescript-store.toml"),
    ),
    // Batch forms of per-item calls and APIs that load and backpressure rules need (BKP003, BKP004).
    (
        Language::Go,
        "go-load.toml",
        include_str!("../kb/go-load.toml"),
    ),
    (
        Language::Rust,
        "rust-load.toml",
        include_str!("../kb/rust-load.toml"),
    ),
    (
        Language::TypeScript,
        "typescript-load.toml",
        include_str!("../kb/typescript-load.toml"),
    ),
    // The libraries all of the above belong to, with their documented defaults and sources, and the calls of
    // libraries no other file needs (raw dials, cloud SDKs, coordination stores, more data stores and clients).
    (
        Language::Go,
        "go-libraries.toml",
        include_str!("../kb/go-libraries.toml"),
    ),
    (
        Language::Rust,
        "rust-libraries.toml",
        include_str!("../kb/rust-libraries.toml"),
    ),
    (
        Language::TypeScript,
        "typescript-libraries.toml",
        include_str!("../kb/typescript-libraries.toml"),
    ),
];

impl KnowledgeBase {
    /// The bundled knowledge base. Its data files are checked by unit tests (they parse, and every library
    /// documents its defaults with a source), so loading cannot fail here; if it did, the error is logged and the
    /// entries that parsed are used.
    pub fn builtin() -> &'static KnowledgeBase {
        static KB: OnceLock<KnowledgeBase> = OnceLock::new();
        KB.get_or_init(|| {
            let (kb, errors) = Self::load_unchecked(&BUILTIN);
            for err in errors {
                tracing::error!("bundled knowledge base is invalid: {err}");
            }
            kb
        })
    }

    /// A knowledge base from data files (language, name, TOML text), refused when a file does not parse or
    /// when [`validate`] finds library knowledge without a documented default and source.
    pub fn load(files: &[(Language, &str, &str)]) -> Result<KnowledgeBase, Vec<KbError>> {
        let (kb, errors) = Self::load_unchecked(files);
        if errors.is_empty() {
            Ok(kb)
        } else {
            Err(errors)
        }
    }

    fn load_unchecked(files: &[(Language, &str, &str)]) -> (KnowledgeBase, Vec<KbError>) {
        let mut kb = KnowledgeBase::default();
        let mut errors = Vec::new();
        for (language, name, text) in files {
            match toml::from_str::<KbFile>(text) {
                Ok(file) => kb.add(*language, file),
                Err(err) => errors.push(KbError::Parse {
                    file: name.to_string(),
                    message: err.to_string(),
                }),
            }
        }
        kb.reindex();
        errors.extend(validate(&kb));
        (kb, errors)
    }

    /// Every `[[library]]` entry, with its language.
    pub fn libraries(&self) -> impl Iterator<Item = &(Language, Library)> {
        self.libraries.iter()
    }

    /// Every `[[api]]` entry, with its language, in table order.
    pub fn api_entries(&self) -> impl Iterator<Item = &(Language, Api)> {
        self.entries.iter()
    }

    /// Every `[[method]]` entry, with its language, in table order.
    pub fn method_entries(&self) -> impl Iterator<Item = &(Language, Api)> {
        self.methods.iter()
    }

    /// Every `[[retry]]` entry, with its language.
    pub fn retry_entries(&self) -> impl Iterator<Item = &(Language, RetryLibrary)> {
        self.retry.iter()
    }

    /// Every `[[lock]]` entry, with its language.
    pub fn lock_entries(&self) -> impl Iterator<Item = &(Language, LockLibrary)> {
        self.locks.iter()
    }

    fn reindex(&mut self) {
        fn index(table: &[(Language, Api)]) -> rustc_hash::FxHashMap<String, Vec<usize>> {
            let mut map = rustc_hash::FxHashMap::<String, Vec<usize>>::default();
            for (i, (_, api)) in table.iter().enumerate() {
                map.entry(api.path.clone()).or_default().push(i);
            }
            map
        }
        /// Per family, the sorted last segments of the paths a table lists for it.
        fn last_segments<T>(
            table: &rustc_hash::FxHashMap<String, Vec<(Language, T)>>,
        ) -> Vec<(&'static str, Vec<String>)> {
            let mut by_family: Vec<(&'static str, Vec<String>)> = Vec::new();
            for (path, entries) in table {
                for (language, _) in entries {
                    let family = language.family_name();
                    let at = match by_family.iter().position(|(f, _)| *f == family) {
                        Some(at) => at,
                        None => {
                            by_family.push((family, Vec::new()));
                            by_family.len() - 1
                        }
                    };
                    by_family[at].1.push(last_segment(path).to_string());
                }
            }
            for (_, segments) in &mut by_family {
                segments.sort_unstable();
                segments.dedup();
            }
            by_family
        }
        self.entries_by_path = index(&self.entries);
        self.methods_by_name = index(&self.methods);
        self.clock_callees = last_segments(&self.clocks);
        self.unbounded_channel_callees = last_segments(&self.unbounded_channels);
    }

    fn add(&mut self, language: Language, file: KbFile) {
        self.entries
            .extend(file.api.into_iter().map(|api| (language, api)));
        self.methods
            .extend(file.method.into_iter().map(|api| (language, api)));
        self.retry
            .extend(file.retry.into_iter().map(|library| (language, library)));
        if let Some(idempotency) = file.idempotency {
            self.idempotency.push((language, idempotency));
        }
        self.locks
            .extend(file.lock.into_iter().map(|lock| (language, lock)));
        self.batches
            .extend(file.batch.into_iter().map(|batch| (language, batch)));
        self.unlock_scripts.extend(
            file.unlock_script
                .into_iter()
                .map(|script| (language, script)),
        );
        for channel in file.unbounded_channel {
            self.unbounded_channels
                .entry(channel.path.clone())
                .or_default()
                .push((language, channel));
        }
        for parser in file.body_parser {
            for path in &parser.paths {
                self.body_parsers
                    .entry(path.clone())
                    .or_default()
                    .push((language, parser.clone()));
            }
        }
        if let Some(receivers) = file.receivers {
            for name in receivers.generic_methods {
                self.generic_methods.entry(name).or_default().push(language);
            }
            for name in receivers.local_types {
                self.local_types.entry(name).or_default().push(language);
            }
        }
        if let Some(failures) = file.local_failures {
            self.local_failures
                .extend(failures.names.into_iter().map(|name| (language, name)));
        }
        self.http_clients.extend(
            file.http_client
                .into_iter()
                .map(|client| (language, client)),
        );
        self.web_frameworks.extend(
            file.web_framework
                .into_iter()
                .map(|framework| (language, framework)),
        );
        for clock in file.clock {
            self.clocks
                .entry(clock.path.clone())
                .or_default()
                .push((language, clock));
        }
        self.libraries
            .extend(file.library.into_iter().map(|library| (language, library)));
        for group in file.group {
            for path in group.paths {
                self.path_groups
                    .entry(path)
                    .or_default()
                    .push((language, group.kind));
            }
        }
    }

    /// The builtin knowledge base plus the user's own wrappers; user entries win over builtin ones.
    pub fn with_effects(effects: &[Effect]) -> KnowledgeBase {
        let mut kb = Self::builtin().clone();
        for effect in effects {
            let entry = (effect.language, effect.api.clone());
            if effect.api.module.is_none() {
                kb.user.push(entry.clone());
            }
            if effect.api.module.is_some() {
                kb.methods.insert(0, entry);
            } else {
                kb.entries.insert(0, entry);
            }
        }
        kb.reindex();
        kb
    }

    /// A user `[[effects]]` entry for a call whose qualified name (a canonical path, or the receiver's type
    /// and the method) is `qualified` or ends with the entry's path at a name boundary.
    pub fn user_effect(&self, language: Language, qualified: &str) -> Option<&Api> {
        self.user
            .iter()
            .filter(|(l, _)| Self::same_family(*l, language))
            .map(|(_, api)| api)
            .find(|api| {
                qualified == api.path
                    || qualified
                        .strip_suffix(api.path.as_str())
                        .is_some_and(|head| head.ends_with(['.', '/', ':']))
            })
    }

    /// Whether the user declared any `[[effects]]`.
    pub fn has_user_effects(&self) -> bool {
        !self.user.is_empty()
    }

    /// The API at a canonical path.
    pub fn api(&self, language: Language, path: &str) -> Option<&Api> {
        self.entries_at(path)
            .find(|(l, api)| Self::same_family(*l, language) && api.path == path)
            .map(|(_, api)| api)
    }

    /// Entries for types (`[[api]]` paths naming a struct) that switch auto-ack on through a field: a literal of
    /// the type resolved to `path`, or — when the type came in through a glob import — written with its last
    /// segment in a file importing `module`.
    pub fn auto_ack_types(&self, language: Language) -> impl Iterator<Item = &Api> + '_ {
        self.entries
            .iter()
            .filter(move |(l, api)| {
                Self::same_family(*l, language)
                    && api.role.is_none()
                    && api.auto_ack.as_ref().is_some_and(|a| a.field.is_some())
            })
            .map(|(_, api)| api)
    }

    /// The `[[method]]` entry named `name` of `module`, when the caller knows the module the receiver comes
    /// from (the root of a method chain: `reqwest::Client::builder().timeout(..)`) rather than from imports.
    pub fn method_of(&self, language: Language, module: &str, name: &str) -> Option<&Api> {
        self.methods_named(name)
            .filter(|(l, api)| Self::same_family(*l, language) && api.path == name)
            .find(|(_, api)| {
                api.module.as_deref().is_some_and(|m| {
                    module == m
                        || module.starts_with(m)
                            && matches!(module.as_bytes().get(m.len()), Some(b'.' | b':' | b'/'))
                })
            })
            .map(|(_, api)| api)
    }

    /// Idempotency-key names (headers, request fields) known for a language, as written in the data files.
    pub fn idempotency_keys(&self, language: Language) -> impl Iterator<Item = &str> {
        self.idempotency
            .iter()
            .filter(move |(l, _)| Self::same_family(*l, language))
            .flat_map(|(_, i)| i.keys.iter().map(String::as_str))
    }

    /// Message deduplication names (SQS `MessageDeduplicationId`, NATS `Nats-Msg-Id`) known for a language.
    pub fn dedup_names(&self, language: Language) -> impl Iterator<Item = &str> {
        self.idempotency
            .iter()
            .filter(move |(l, _)| Self::same_family(*l, language))
            .flat_map(|(_, i)| i.dedup.iter().map(String::as_str))
    }

    /// The lock library of a type, by its canonical path (`sync.Mutex`, `tokio::sync::RwLock`).
    pub fn lock_type(&self, language: Language, type_path: &str) -> Option<&LockLibrary> {
        self.locks
            .iter()
            .filter(|(l, _)| Self::same_family(*l, language))
            .map(|(_, lock)| lock)
            .find(|lock| lock.types.iter().any(|t| t == type_path))
    }

    /// Every lock library known for a language.
    pub fn lock_libraries(&self, language: Language) -> impl Iterator<Item = &LockLibrary> {
        self.locks
            .iter()
            .filter(move |(l, _)| Self::same_family(*l, language))
            .map(|(_, lock)| lock)
    }

    /// Whether two languages share a knowledge-base table (TSX and JavaScript read TypeScript's).
    pub fn same_family(a: Language, b: Language) -> bool {
        a.family_name() == b.family_name()
    }

    /// Whether a method name is too common to stand for a library's method without a receiver bound to it.
    pub fn is_generic_method(&self, language: Language, name: &str) -> bool {
        self.generic_methods
            .get(name)
            .is_some_and(|ls| ls.iter().any(|l| Self::same_family(*l, language)))
    }

    /// Whether a type (as written, or a canonical path) is a local container whose methods do no network I/O.
    pub fn is_local_type(&self, language: Language, type_name: &str) -> bool {
        self.local_types
            .get(type_name)
            .is_some_and(|ls| ls.iter().any(|l| Self::same_family(*l, language)))
    }

    /// The names of errors a client reports before anything leaves the process (a full local producer queue).
    pub fn local_failures(&self, language: Language) -> impl Iterator<Item = &str> {
        self.local_failures
            .iter()
            .filter(move |(l, _)| Self::same_family(*l, language))
            .map(|(_, name)| name.as_str())
    }

    /// The `[[api]]` entries whose path is `path`, in table order, of every language.
    pub fn entries_at<'k>(
        &'k self,
        path: &str,
    ) -> impl Iterator<Item = &'k (Language, Api)> + Clone {
        let indices = self
            .entries_by_path
            .get(path)
            .map_or(&[][..], Vec::as_slice);
        indices.iter().filter_map(|&i| self.entries.get(i))
    }

    /// The `[[method]]` entries named `name`, in table order, of every language.
    pub fn methods_named<'k>(
        &'k self,
        name: &str,
    ) -> impl Iterator<Item = &'k (Language, Api)> + Clone {
        let indices = self
            .methods_by_name
            .get(name)
            .map_or(&[][..], Vec::as_slice);
        indices.iter().filter_map(|&i| self.methods.get(i))
    }

    /// Every retry library known for a language.
    pub fn retry_libraries(&self, language: Language) -> impl Iterator<Item = &RetryLibrary> {
        self.retry
            .iter()
            .filter(move |(l, _)| Self::same_family(*l, language))
            .map(|(_, library)| library)
    }

    /// The unbounded channel constructor at a canonical path.
    pub fn unbounded_channel(&self, language: Language, path: &str) -> Option<&UnboundedChannel> {
        Self::first_of_family(&self.unbounded_channels, language, path)
    }

    /// The body parser a call at a canonical path makes.
    pub fn body_parser(&self, language: Language, path: &str) -> Option<&BodyParser> {
        Self::first_of_family(&self.body_parsers, language, path)
    }

    /// The first entry indexed under `path` for `language`'s family.
    fn first_of_family<'k, T>(
        index: &'k rustc_hash::FxHashMap<String, Vec<(Language, T)>>,
        language: Language,
        path: &str,
    ) -> Option<&'k T> {
        index
            .get(path)?
            .iter()
            .find(|(l, _)| Self::same_family(*l, language))
            .map(|(_, entry)| entry)
    }

    /// The last segments of the callees a table's entries for `language` are called by (`time.Now` → `Now`,
    /// `tokio::sync::mpsc::unbounded_channel` → `unbounded_channel`), sorted: what a file must call for a rule
    /// declaring [`Evidence::KbClock`] or [`Evidence::KbUnboundedChannel`] to fire. Built once with the
    /// knowledge base (the engine asks it of every file); `None` for evidence that names no table.
    pub fn evidence_callees(&self, evidence: Evidence, language: Language) -> Option<&[String]> {
        let lists = match evidence {
            Evidence::KbClock => &self.clock_callees,
            Evidence::KbUnboundedChannel => &self.unbounded_channel_callees,
            Evidence::Kind(_) | Evidence::Callee(_) => return None,
        };
        Some(
            lists
                .iter()
                .find(|(family, _)| *family == language.family_name())
                .map_or(&[][..], |(_, callees)| callees.as_slice()),
        )
    }

    /// The wall-clock reading at a canonical path (or, for `new_without_arguments` entries, a constructor name).
    pub fn clock_reading(&self, language: Language, path: &str) -> Option<&ClockReading> {
        Self::first_of_family(&self.clocks, language, path)
    }

    /// Whether the call or type at a canonical path is one of `group`.
    pub fn is_in_group(&self, language: Language, path: &str, group: PathGroupKind) -> bool {
        self.path_groups.get(path).is_some_and(|groups| {
            groups
                .iter()
                .any(|(l, g)| *g == group && Self::same_family(*l, language))
        })
    }

    /// The unlock script form for a file of `language`: the first entry whose module `imports` says the file
    /// uses, else the language's default entry.
    pub fn unlock_script(
        &self,
        language: Language,
        imports: impl Fn(&str) -> bool,
    ) -> Option<&UnlockScript> {
        let entries = || {
            self.unlock_scripts
                .iter()
                .filter(move |(l, _)| Self::same_family(*l, language))
                .map(|(_, script)| script)
        };
        entries()
            .find(|script| script.module.as_deref().is_some_and(&imports))
            .or_else(|| entries().find(|script| script.module.is_none()))
    }

    /// The canonical paths of `group` for a language, in no particular order.
    pub fn group_paths(
        &self,
        language: Language,
        group: PathGroupKind,
    ) -> impl Iterator<Item = &str> {
        self.path_groups
            .iter()
            .filter(move |(_, groups)| {
                groups
                    .iter()
                    .any(|(l, g)| *g == group && Self::same_family(*l, language))
            })
            .map(|(path, _)| path.as_str())
    }

    /// Every web framework known for a language, in table order.
    pub fn web_frameworks(&self, language: Language) -> impl Iterator<Item = &WebFramework> {
        self.web_frameworks
            .iter()
            .filter(move |(l, _)| Self::same_family(*l, language))
            .map(|(_, framework)| framework)
    }

    /// Every HTTP client library known for a language.
    pub fn http_clients(&self, language: Language) -> impl Iterator<Item = &HttpClient> {
        self.http_clients
            .iter()
            .filter(move |(l, _)| Self::same_family(*l, language))
            .map(|(_, client)| client)
    }

    /// The HTTP client library of a language whose requests get their bound in the given way (Go's `net/http`:
    /// [`ClientShape::ClientField`]).
    pub fn http_client_shaped(
        &self,
        language: Language,
        shape: ClientShape,
    ) -> Option<&HttpClient> {
        self.http_clients(language)
            .find(|client| client.shape == shape)
    }

    /// The HTTP client library a canonical path belongs to (`net/http.Get`, `reqwest::blocking::get`,
    /// `axios.create`), or a module (`reqwest`).
    pub fn http_client(&self, language: Language, path: &str) -> Option<&HttpClient> {
        self.http_clients(language).find(|client| client.owns(path))
    }

    /// Every batch form known for a language.
    pub fn batch_forms(&self, language: Language) -> impl Iterator<Item = &BatchForm> {
        self.batches
            .iter()
            .filter(move |(l, _)| Self::same_family(*l, language))
            .map(|(_, batch)| batch)
    }
}

/// Whether an import path (`github.com/cenkalti/backoff/v4`, `backoff::future`) is `module` or inside it.
pub fn module_matches(path: &str, module: &str) -> bool {
    path == module
        || path.starts_with(module)
            && matches!(path.as_bytes().get(module.len()), Some(b'.' | b':' | b'/'))
}

/// A client library (`[[library]]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    /// The name users know it by (`grpc-go`, `aws-sdk-go-v2`, `@grpc/grpc-js`).
    pub name: String,
    /// The import paths, crate paths or package names that belong to it; an entry whose module or path is one
    /// of these, or inside one, is the library's.
    pub modules: Vec<String>,
    /// What its remote calls talk to.
    pub kind: ApiKind,
    /// What the library does when the caller sets nothing, each with its source.
    #[serde(default, rename = "default")]
    pub defaults: Vec<LibraryDefault>,
    /// The options that change those defaults.
    #[serde(default, rename = "option")]
    pub options: Vec<LibraryOption>,
}

/// One documented default of a library.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryDefault {
    pub aspect: DefaultAspect,
    /// The default in words (`none`, `30 s`, `3 attempts, exponential with jitter`).
    pub value: String,
    /// The address of the page that documents it (`https://…`).
    #[serde(default)]
    pub source: String,
}

/// What a default is about.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DefaultAspect {
    /// How long a call or request may take as a whole.
    Timeout,
    /// How long connecting (or dialing, or selecting a server) may take.
    ConnectTimeout,
    /// How long a single read or write on the connection may take.
    IoTimeout,
    /// Whether and how failed calls are retried by the library.
    Retry,
    /// How a consumer acknowledges messages (manual, automatic, on delivery).
    Ack,
    /// How a consumer's offsets are committed.
    Commit,
    /// How many broker acknowledgements a producer waits for.
    ProducerAcks,
    /// Whether a producer deduplicates its own retries.
    Idempotence,
    /// What happens when a local send queue is full.
    QueueFull,
    /// How long a lock, lease or session lives without renewal.
    Expiry,
    /// What a reconnecting client does between attempts.
    Reconnect,
}

impl DefaultAspect {
    pub fn title(self) -> &'static str {
        match self {
            DefaultAspect::Timeout => "timeout",
            DefaultAspect::ConnectTimeout => "connect timeout",
            DefaultAspect::IoTimeout => "read/write timeout",
            DefaultAspect::Retry => "retry",
            DefaultAspect::Ack => "ack",
            DefaultAspect::Commit => "commit",
            DefaultAspect::ProducerAcks => "producer acks",
            DefaultAspect::Idempotence => "idempotent producer",
            DefaultAspect::QueueFull => "local queue full",
            DefaultAspect::Expiry => "expiry",
            DefaultAspect::Reconnect => "reconnect",
        }
    }
}

/// An option that changes a default.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryOption {
    /// As the code spells it (`grpc.WithTimeout`, `.timeout(d)`, `{ requestTimeout }`).
    pub name: String,
    /// What it does.
    pub effect: String,
}

/// Why the loader refused the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KbError {
    #[error("kb/{file}: {message}")]
    Parse { file: String, message: String },
    #[error("library `{library}` ({language}) documents no default")]
    NoDefault { library: String, language: String },
    #[error(
        "library `{library}` ({language}): its {aspect} default `{value}` has no source address"
    )]
    NoSource {
        library: String,
        language: String,
        aspect: &'static str,
        value: String,
    },
    #[error("{what} `{name}` ({language}) belongs to no `[[library]]` with documented defaults")]
    Unclaimed {
        what: &'static str,
        name: String,
        language: String,
    },
}

/// How specifically a library claims a module or canonical path: the length of its longest module that is the
/// path or contains it (`net/http` claims `net/http.Get` more specifically than `net` does).
fn claim(library: &Library, module_or_path: &str) -> Option<usize> {
    library
        .modules
        .iter()
        .filter(|m| module_matches(module_or_path, m))
        .map(String::len)
        .max()
}

fn claims(library: &Library, module_or_path: &str) -> bool {
    claim(library, module_or_path).is_some()
}

impl KnowledgeBase {
    /// Whether `library` is the one an entry at `module_or_path` belongs to: the library of `language`'s family
    /// that claims it most specifically.
    pub fn owns(&self, language: Language, library: &Library, module_or_path: &str) -> bool {
        let Some(own) = claim(library, module_or_path) else {
            return false;
        };
        !self.libraries().any(|(l, other)| {
            KnowledgeBase::same_family(*l, language)
                && claim(other, module_or_path).is_some_and(|c| c > own)
        })
    }
}

impl Api {
    /// Whether the entry is library knowledge that must say where its defaults come from: it talks to a remote
    /// system, or it makes or configures a client of one. Sleeps, request builders and in-process helpers are
    /// not.
    pub fn needs_library(&self) -> bool {
        self.remote || (self.kind != ApiKind::Local && self.role.is_none())
    }
}

/// Every reason to refuse a knowledge base: libraries without a documented, sourced default, and library
/// knowledge (a remote or client entry, a retry library, a distributed lock) that no library claims.
pub fn validate(kb: &KnowledgeBase) -> Vec<KbError> {
    let mut errors = Vec::new();
    for (language, library) in kb.libraries() {
        let language_name = language.family_name().to_string();
        if library.defaults.is_empty() {
            errors.push(KbError::NoDefault {
                library: library.name.clone(),
                language: language_name.clone(),
            });
        }
        for default in &library.defaults {
            if !default.source.starts_with("https://") {
                errors.push(KbError::NoSource {
                    library: library.name.clone(),
                    language: language_name.clone(),
                    aspect: default.aspect.title(),
                    value: default.value.clone(),
                });
            }
        }
    }
    let claimed = |language: Language, name: &str| {
        kb.libraries()
            .any(|(l, library)| KnowledgeBase::same_family(*l, language) && claims(library, name))
    };
    // `module` is what a library must claim; `name` is how the error names the entry.
    let mut unclaimed = |what: &'static str, language: Language, module: &str, name: String| {
        if !claimed(language, module) {
            errors.push(KbError::Unclaimed {
                what,
                name,
                language: language.family_name().to_string(),
            });
        }
    };
    for (language, api) in kb.api_entries() {
        if api.needs_library() {
            unclaimed("API", *language, &api.path, api.path.clone());
        }
    }
    for (language, api) in kb.method_entries() {
        if let Some(module) = api.module.as_deref().filter(|_| api.needs_library()) {
            unclaimed(
                "method",
                *language,
                module,
                format!("{module} {}", api.path),
            );
        }
    }
    for (language, retry) in kb.retry_entries() {
        unclaimed(
            "retry library",
            *language,
            &retry.module,
            retry.module.clone(),
        );
    }
    for (language, lock) in kb.lock_entries() {
        if lock.scope == LockScope::Distributed {
            let name = lock
                .module
                .as_deref()
                .or(lock.types.first().map(String::as_str))
                .unwrap_or(&lock.library);
            unclaimed("distributed lock", *language, name, name.to_string());
        }
    }
    errors
}

impl KbError {
    /// For tests and messages: the library or entry the error is about.
    pub fn subject(&self) -> &str {
        match self {
            KbError::Parse { file, .. } => file,
            KbError::NoDefault { library, .. } | KbError::NoSource { library, .. } => library,
            KbError::Unclaimed { name, .. } => name,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn operation_names_say_whether_a_repeat_duplicates() {
        let operations = &CallKinds::builtin().operations;
        for safe in [
            "RenewHTTP",
            "TimeToLiveHTTP",
            "promoteMemberHTTP",
            "Lease.keepAlive",
            "get_status",
            "Client::refresh_token",
        ] {
            assert!(operations.repeat_safe(safe), "{safe}");
        }
        for unsafe_ in [
            "Capture",
            "getOrCreateCustomer",
            "createOrder",
            "renewAndSend",
            "Timeout",
            "getaway",
        ] {
            assert!(!operations.repeat_safe(unsafe_), "{unsafe_}");
        }
        assert_eq!(
            name_words("HTTPServerGet2FA"),
            ["http", "server", "get2", "fa"]
        );
    }

    use super::*;

    #[test]
    fn the_bundled_migration_knowledge_parses() {
        let knowledge: MigrationKnowledge = toml::from_str(include_str!("../kb/migrations.toml"))
            .expect("kb/migrations.toml parses");
        assert_eq!(
            knowledge.verdict(
                MigrationOperation::CreateIndex,
                crate::sql::SqlDatabase::PostgreSql
            ),
            MigrationVerdict::Report
        );
        for driver in &knowledge.driver {
            assert!(
                driver.database().is_some(),
                "kb/migrations.toml: driver {} names an unknown database",
                driver.module
            );
        }
    }

    #[test]
    fn the_bundled_call_kinds_parse() {
        let kinds: CallKinds =
            toml::from_str(include_str!("../kb/calls.toml")).expect("kb/calls.toml parses");
        assert!(kinds.logging.methods.iter().any(|m| m == "Infof"));
        assert!(kinds.derivation.task_spawns.iter().any(|m| m == "spawn"));
    }

    #[test]
    fn bundled_files_parse() {
        for (_, name, text) in BUILTIN {
            let file: KbFile =
                toml::from_str(text).unwrap_or_else(|err| panic!("kb/{name}: {err}"));
            assert!(
                !file.api.is_empty()
                    || !file.method.is_empty()
                    || !file.batch.is_empty()
                    || !file.unbounded_channel.is_empty(),
                "kb/{name} has no entries"
            );
            for entry in file.method {
                assert!(
                    entry.module.is_some(),
                    "kb/{name}: method {} names no module",
                    entry.path
                );
            }
        }
    }

    #[test]
    fn finds_entries_by_path() {
        let kb = KnowledgeBase::builtin();
        assert_eq!(
            kb.api(Language::Go, "net/http.Get").map(|a| a.remote),
            Some(true)
        );
        assert!(kb.api(Language::Tsx, "fetch").is_some());
        assert!(kb.api(Language::Rust, "reqwest::get").is_some());
        assert!(kb.api(Language::Go, "reqwest::get").is_none());
    }

    #[test]
    fn finds_methods_by_module() {
        let kb = KnowledgeBase::builtin();
        let timeout = |module: &str, name: &str| {
            kb.method_of(Language::Rust, module, name)
                .and_then(|a| a.timeout.clone())
        };
        assert_eq!(timeout("reqwest", "timeout"), Some(ApiTimeout::Set));
        assert_eq!(
            timeout("reqwest::blocking", "timeout"),
            Some(ApiTimeout::Set)
        );
        assert_eq!(
            timeout("reqwest", "connect_timeout"),
            Some(ApiTimeout::Connect)
        );
        assert_eq!(timeout("reqwesty", "timeout"), None);
        assert_eq!(timeout("ureq", "timeout_global"), Some(ApiTimeout::Set));
        assert_eq!(
            kb.api(Language::Rust, "reqwest::blocking::get")
                .and_then(|a| a.timeout.clone()),
            Some(ApiTimeout::LibraryDefault("30 s".to_string()))
        );
    }

    #[test]
    fn finds_channels_body_parsers_and_path_groups_by_path() {
        let kb = KnowledgeBase::builtin();
        assert_eq!(
            kb.unbounded_channel(Language::Rust, "flume::unbounded")
                .map(|c| c.bounded.as_str()),
            Some("flume::bounded(capacity)")
        );
        assert!(kb
            .unbounded_channel(Language::Go, "flume::unbounded")
            .is_none());
        let parser = kb.body_parser(Language::Tsx, "body-parser.json");
        assert_eq!(
            parser.map(|p| (p.option.as_str(), p.default.as_str())),
            Some(("limit", "100kb"))
        );
        assert!(kb.is_in_group(Language::Go, "io/ioutil.ReadAll", PathGroupKind::ReadAll));
        assert!(kb.is_in_group(Language::Go, "io.LimitReader", PathGroupKind::ReadLimit));
        assert!(!kb.is_in_group(Language::Go, "io.LimitReader", PathGroupKind::ReadAll));
        let async_channels: Vec<&str> = kb
            .group_paths(Language::Rust, PathGroupKind::AsyncChannel)
            .collect();
        assert!(async_channels.contains(&"tokio::sync::mpsc::channel"));
        assert!(kb
            .group_paths(Language::Go, PathGroupKind::AsyncChannel)
            .next()
            .is_none());
        assert!(!kb.is_in_group(Language::Rust, "io.ReadAll", PathGroupKind::ReadAll));
        assert!(kb.is_in_group(
            Language::Rust,
            "flume::Receiver",
            PathGroupKind::BlockingReceiver
        ));
    }

    #[test]
    fn param_roles_name_argument_positions() {
        let kb = KnowledgeBase::builtin();
        let api = kb
            .methods
            .iter()
            .find(|(l, a)| {
                *l == Language::Go
                    && a.path == "SetNX"
                    && a.module.as_deref() == Some("github.com/redis/go-redis")
            })
            .map(|(_, a)| a)
            .expect("go-redis SetNX is known");
        assert_eq!(api.command.as_deref(), Some("SETNX"));
        assert_eq!(api.param("key"), Some(1));
        assert_eq!(api.param("expiration"), Some(3));
        assert_eq!(api.param("tokens..."), None);
    }
}

#[cfg(test)]
mod library_tests {
    use super::*;

    const LIBRARY_WITHOUT_SOURCE: &str = r#"
[[library]]
name = "example-client"
modules = ["example.com/client"]
kind = "rpc"

[[library.default]]
aspect = "timeout"
value = "none"
"#;

    /// A source that names a document but gives no address to check it at.
    const LIBRARY_WITH_A_SOURCE_THAT_IS_NO_ADDRESS: &str = r#"
[[library]]
name = "example-client"
modules = ["example.com/client"]
kind = "rpc"

[[library.default]]
aspect = "retry"
value = "3 attempts"
source = "the client's README"
"#;

    const LIBRARY_WITHOUT_DEFAULT: &str = r#"
[[library]]
name = "example-client"
modules = ["example.com/client"]
kind = "rpc"
"#;

    const METHOD_WITHOUT_LIBRARY: &str = r#"
[[method]]
path = "Call"
module = "example.com/other"
kind = "rpc"
remote = true
"#;

    const DOCUMENTED: &str = r#"
[[library]]
name = "example-client"
modules = ["example.com/client"]
kind = "rpc"

[[library.default]]
aspect = "timeout"
value = "none"
source = "https://example.com/docs#timeout"

[[method]]
path = "Call"
module = "example.com/client"
kind = "rpc"
remote = true
"#;

    fn load(text: &str) -> Result<KnowledgeBase, Vec<KbError>> {
        KnowledgeBase::load(&[(Language::Go, "test.toml", text)])
    }

    #[test]
    fn rejects_a_default_without_a_source() {
        let errors = load(LIBRARY_WITHOUT_SOURCE).expect_err("no source");
        assert!(
            matches!(&errors[..], [KbError::NoSource { library, .. }] if library == "example-client"),
            "{errors:?}"
        );
    }

    #[test]
    fn rejects_a_source_that_is_no_address() {
        let errors = load(LIBRARY_WITH_A_SOURCE_THAT_IS_NO_ADDRESS).expect_err("no address");
        assert!(
            matches!(&errors[..], [KbError::NoSource { library, value, .. }] if library == "example-client" && value == "3 attempts"),
            "{errors:?}"
        );
    }

    #[test]
    fn rejects_a_library_without_a_default() {
        let errors = load(LIBRARY_WITHOUT_DEFAULT).expect_err("no default");
        assert!(
            matches!(&errors[..], [KbError::NoDefault { .. }]),
            "{errors:?}"
        );
    }

    #[test]
    fn rejects_a_remote_entry_no_library_claims() {
        let errors = load(METHOD_WITHOUT_LIBRARY).expect_err("unclaimed");
        assert!(
            matches!(&errors[..], [KbError::Unclaimed { name, .. }] if name == "example.com/other Call"),
            "{errors:?}"
        );
    }

    #[test]
    fn accepts_a_documented_library_and_its_calls() {
        let kb = load(DOCUMENTED).expect("documented");
        assert_eq!(kb.libraries().count(), 1);
    }

    #[test]
    fn the_bundled_knowledge_base_is_fully_documented() {
        let errors = KnowledgeBase::load(&BUILTIN).err().unwrap_or_default();
        let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(listed.is_empty(), "{}", listed.join("\n"));
    }
}
