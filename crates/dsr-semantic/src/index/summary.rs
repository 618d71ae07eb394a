//! Per-file summaries: what each function of a file does that a caller in another file needs to know, small
//! enough to keep for every closed file of a workspace instead of its tree. Serializable, so that a cache can
//! store them between runs. The data only: [`summarize`](super::summarize) computes them from a file's facts and
//! the shared models, which themselves read the linked index — so the data sits below both.

use dsr_core::kb::ApiKind;
use dsr_syntax::{Language, TextRange};
use serde::{Deserialize, Serialize};

/// What one file declares and does, as far as other files are concerned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    pub language: Option<Language>,
    /// Go: the package clause's name. Rust and TS: empty (the module comes from the path).
    pub package: String,
    /// The file's imports, `local → canonical path`, for resolving its calls into other files.
    pub imports: Vec<(String, String)>,
    pub functions: Vec<FunctionSummary>,
    pub types: Vec<TypeSummary>,
    /// Names the file re-exports from elsewhere (`pub use crate::x::Y;`, `export { Y } from "./x"`,
    /// `export type Redis = IORedis`): local name → what it stands for.
    pub reexports: Vec<(String, TypeRef)>,
    /// Top-level values (`var DefaultClient = &http.Client{…}`, `export const api = axios.create(…)`) with the
    /// type of their value.
    pub values: Vec<(String, TypeRef)>,
}

/// A type as written, and resolved through the file's imports when it can be (`net/http.Client`,
/// `reqwest::Client`, `ioredis`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TypeRef {
    pub written: String,
    pub resolved: Option<String>,
    /// For a value built by a call: whether the construction sets a timeout (`&http.Client{Timeout: …}`,
    /// `axios.create({ timeout })`, `.timeout(…)` in a builder chain). `None`: not a client, or not visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<bool>,
}

/// A struct, class or interface with its fields, or a type alias.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeSummary {
    pub name: String,
    pub fields: Vec<(String, TypeRef)>,
    /// `type Redis = IORedis`, `type Client = reqwest::Client;`, Go `type Client = http.Client`.
    pub alias_of: Option<TypeRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionSummary {
    /// As the facts name it: `Type.method` (Go, TS), `Type::method` (Rust), or the function's name.
    pub name: String,
    /// The declaration's name, for evidence.
    pub range: TextRange,
    pub params: Vec<ParamSummary>,
    pub returns: Option<TypeRef>,
    /// What the function does itself (or through helpers of its own file).
    pub effects: Vec<EffectSite>,
    /// The calls it makes that the knowledge base does not know: into other files, or to functions of its own
    /// file (so effects found in other files travel through those too).
    pub calls: Vec<CallSite>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSummary {
    pub name: String,
    pub ty: TypeRef,
}

/// An effect and where it happens (a range of the file the summary is of).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectSite {
    pub effect: Effect,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "kebab-case")]
pub enum Effect {
    /// Network I/O: what kind of system, the HTTP method when shown, whether it changes remote state, whether
    /// a repeat would duplicate its effect (a POST without an idempotency key, an INSERT without an upsert, a
    /// publish without a dedup id), and whether the function bounds it in time itself.
    Remote {
        kind: ApiKind,
        method: Option<String>,
        mutation: bool,
        /// The write a repeat would duplicate; `None` when the call is idempotent or not a write.
        duplicate: Option<WriteKind>,
        timeout_inside: bool,
    },
    /// Takes (`acquire`) or releases a distributed lock on a key (as written); `expires` when the lock has a
    /// TTL (set with the claim or by a later `EXPIRE`, or the library's default).
    Lock {
        acquire: bool,
        key: Option<String>,
        #[serde(default)]
        expires: bool,
    },
    /// Acknowledges a message (or commits its offset); `param` when the message is a parameter.
    Ack { param: Option<usize> },
    /// Starts work it does not wait for (a goroutine, a spawned task).
    Spawn,
    /// Reads or writes a shared store (what: the key or table, as written).
    Store { write: bool, target: String },
    /// Closes (or drains) the response body it is given as parameter `param`.
    ClosesBody { param: usize },
    /// Passes the context or abort signal it receives as parameter `param` on to the calls it makes.
    PropagatesCtx { param: usize },
    /// Builds or configures a client with a timeout (`&http.Client{Timeout: …}`, `.timeout(…)`).
    SetsTimeout,
    /// Has no context of its caller's and starts calls on a fresh one (`context.Background()`): a caller's
    /// deadline and trace stop here.
    DropsCtx,
}

/// A call the knowledge base does not describe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSite {
    /// The callee as written, for a call that is not a method call (`helper`, `billing::charge`); empty for
    /// a method call, which resolves by `method` and `receiver`.
    pub callee: String,
    /// Resolved through the imports (`example.com/shop/billing.Charge`, `crate::billing::charge`,
    /// `./billing.charge`).
    pub path: Option<String>,
    pub method: Option<String>,
    /// The receiver's type, when the file shows it.
    pub receiver: Option<TypeRef>,
    /// A function of the same file it calls (index into [`FileSummary::functions`]).
    pub local: Option<usize>,
    pub range: TextRange,
    /// What each argument is, as far as a callee's parameters care; arguments past the end are
    /// [`Arg::Other`].
    pub args: Vec<Arg>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arg {
    /// The caller's own parameter `index`.
    Param(usize),
    /// A fresh context with no deadline (`context.Background()`, `context.TODO()`).
    FreshContext,
    /// A value that bounds how long the callee waits: a context with a deadline (`context.WithTimeout`), an
    /// abort signal with a timeout (`AbortSignal.timeout(…)`), request options with a `timeout`, a client
    /// built with a timeout (`&http.Client{Timeout: …}`, `.timeout(…)` on a builder, `axios.create({ timeout
    /// })`). What the callee uses it for is the callee's rule's business.
    Bounded,
    Other,
}

impl Effect {
    pub fn is_remote(&self) -> bool {
        matches!(self, Effect::Remote { .. })
    }
}

/// A write a repeat would duplicate.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteKind {
    /// An HTTP request with this method (POST, PATCH) and no idempotency-key header.
    Http(String),
    /// An SQL `INSERT` with no `ON CONFLICT` / `ON DUPLICATE KEY` / `IGNORE`.
    SqlInsert,
    /// A queue publish with no deduplication id.
    Publish,
}

impl WriteKind {
    /// How messages name the write: "HTTP POST", "SQL INSERT", "queue publish".
    pub fn describe(&self) -> String {
        match self {
            WriteKind::Http(method) => format!("HTTP {method}"),
            WriteKind::SqlInsert => "SQL INSERT".to_string(),
            WriteKind::Publish => "queue publish".to_string(),
        }
    }
}
