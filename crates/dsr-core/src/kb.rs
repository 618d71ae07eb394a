//! The knowledge base: which library calls do network I/O, which mutate, which carry timeouts — data files in
//! `kb/*.toml` (one per language), extended by the user's `[[effects]]` in `distsys-review.toml`.

use std::sync::OnceLock;

use dsr_syntax::Language;
use serde::Deserialize;

use crate::facts::{Call, FileFacts};

/// What kind of remote system a call talks to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiKind {
    Http,
    Rpc,
    Db,
    Cache,
    Queue,
    ObjectStore,
    Lock,
    /// In-process: channels, timers, constructors that matter to a rule but do no I/O.
    Local,
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
    /// The HTTP method when the API fixes it.
    #[serde(default)]
    pub http_method: Option<String>,
    /// The timeout behaviour of the API when nothing else bounds it: `none` (waits forever), `set` (a wrapper
    /// that sets one), `client` (taken from the client it is called on), or a duration in words.
    #[serde(default)]
    pub timeout: Option<String>,
    /// For `[[method]]` entries: the module that must be imported for a method of this name to count.
    #[serde(default)]
    pub module: Option<String>,
    /// A sentence rules may quote (a library's real default).
    #[serde(default)]
    pub note: Option<String>,
    /// For key-value store APIs, the command the call sends, upper case (`SET`, `SETNX`, `DEL`).
    #[serde(default)]
    pub command: Option<String>,
    /// What each positional argument is, so rules can find "the key" or "the expiry" without knowing the
    /// library. Roles: `ctx` (a Go `context.Context`), `key`, `value`, `expiration` (a typed expiry: a Go
    /// duration, a Rust `Option<Expiration>`), `options` (an options object or struct), `init` (a fetch
    /// `RequestInit`), `url`, `tokens...` (every remaining argument is a raw command token: `"NX"`, `"PX"`,
    /// `30000`), `options...` (every remaining argument is an option: etcd's `clientv3.WithLease(id)`),
    /// `command...` (every remaining argument is a raw command, its name first), `command` (one
    /// argument holding a raw command: an array of tokens, or a command name whose tokens follow in
    /// `builder` calls). Arguments past the list have no role.
    #[serde(default)]
    pub params: Vec<String>,
    /// For command builders (`redis::cmd("SET")`): the chained method that appends one token (`arg`).
    #[serde(default)]
    pub builder: Option<String>,
}

impl Api {
    /// The index of the argument with `role` (`key`, `expiration`), or where a rest role (`tokens...`) starts.
    pub fn param(&self, role: &str) -> Option<usize> {
        self.params.iter().position(|p| p == role)
    }
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KbFile {
    #[serde(default)]
    api: Vec<Api>,
    #[serde(default)]
    method: Vec<Api>,
    #[serde(default)]
    lock: Vec<LockLibrary>,
}

/// The APIs known for each language family (`go`, `rust`, `typescript`).
#[derive(Debug, Default, Clone)]
pub struct KnowledgeBase {
    entries: Vec<(Language, Api)>,
    methods: Vec<(Language, Api)>,
    locks: Vec<(Language, LockLibrary)>,
}

const BUILTIN: [(Language, &str, &str); 3] = [
    (Language::Go, "go.toml", include_str!("../kb/go.toml")),
    (Language::Rust, "rust.toml", include_str!("../kb/rust.toml")),
    (
        Language::TypeScript,
        "typescript.toml",
        include_str!("../kb/typescript.toml"),
    ),
];

impl KnowledgeBase {
    /// The bundled knowledge base. Its data files are checked by a unit test, so parsing cannot fail here.
    pub fn builtin() -> &'static KnowledgeBase {
        static KB: OnceLock<KnowledgeBase> = OnceLock::new();
        KB.get_or_init(|| {
            let mut kb = KnowledgeBase::default();
            for (language, name, text) in BUILTIN {
                match toml::from_str::<KbFile>(text) {
                    Ok(file) => kb.add(language, file),
                    Err(err) => {
                        tracing::error!("bundled knowledge base kb/{name} is invalid: {err}")
                    }
                }
            }
            kb
        })
    }

    fn add(&mut self, language: Language, file: KbFile) {
        self.entries
            .extend(file.api.into_iter().map(|api| (language, api)));
        self.methods
            .extend(file.method.into_iter().map(|api| (language, api)));
        self.locks
            .extend(file.lock.into_iter().map(|lock| (language, lock)));
    }

    /// The builtin knowledge base plus the user's own wrappers; user entries win over builtin ones.
    pub fn with_effects(effects: &[crate::config::Effect]) -> KnowledgeBase {
        let mut kb = Self::builtin().clone();
        for effect in effects {
            let entry = (effect.language, effect.api.clone());
            if effect.api.module.is_some() {
                kb.methods.insert(0, entry);
            } else {
                kb.entries.insert(0, entry);
            }
        }
        kb
    }

    fn same_family(a: Language, b: Language) -> bool {
        a.family_name() == b.family_name()
    }

    /// The API at a canonical path.
    pub fn api(&self, language: Language, path: &str) -> Option<&Api> {
        self.entries
            .iter()
            .find(|(l, api)| Self::same_family(*l, language) && api.path == path)
            .map(|(_, api)| api)
    }

    /// What the knowledge base says about a call: by its resolved path, else by its method name when the file
    /// imports the method's module.
    pub fn call(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<&Api> {
        if let Some(api) = call
            .path
            .as_deref()
            .and_then(|p| self.api(facts.language, p))
        {
            return Some(api);
        }
        let method = call.method.as_deref()?;
        self.methods
            .iter()
            .filter(|(l, api)| Self::same_family(*l, facts.language) && api.path == method)
            .find(|(_, api)| {
                api.module
                    .as_deref()
                    .is_none_or(|m| facts.imports_module(m))
            })
            .map(|(_, api)| api)
    }

    /// Every entry that may describe a call, most specific first: its resolved path's entry, then each
    /// `[[method]]` entry of that name whose module the file imports. Method names are shared between
    /// libraries (`Do` is `net/http` and go-redis), so a rule that needs one library's meaning picks from these.
    pub fn candidates<'k>(
        &'k self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
    ) -> impl Iterator<Item = &'k Api> {
        let by_path = call
            .path
            .as_deref()
            .and_then(|p| self.api(facts.language, p));
        let method = call.method.as_deref();
        let language = facts.language;
        let by_method = self
            .methods
            .iter()
            .filter(move |(l, api)| {
                Self::same_family(*l, language) && Some(api.path.as_str()) == method
            })
            .filter(|(_, api)| {
                api.module
                    .as_deref()
                    .is_none_or(|m| facts.imports_module(m))
            })
            .map(|(_, api)| api)
            .collect::<Vec<_>>();
        by_path.into_iter().chain(by_method)
    }

    /// Whether a call does network I/O according to the knowledge base.
    pub fn is_remote(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> bool {
        self.call(facts, call).is_some_and(|api| api.remote)
    }

    /// The lock library whose constructor (or wrapper, the second value `true`) a call is: by its resolved
    /// path, or by a constructor method of a module the file imports.
    pub fn lock_constructor(
        &self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
    ) -> Option<(&LockLibrary, bool)> {
        let mut locks = self
            .locks
            .iter()
            .filter(|(l, _)| Self::same_family(*l, facts.language))
            .map(|(_, lock)| lock);
        if let Some(path) = call.path.as_deref() {
            // A package-level function (`concurrency.NewMutex`) is never another library's method.
            return locks.find_map(|lock| {
                if lock.constructors.iter().any(|c| c == path) {
                    Some((lock, false))
                } else if lock.wrappers.iter().any(|c| c == path) {
                    Some((lock, true))
                } else {
                    None
                }
            });
        }
        let method = call.method.as_deref()?;
        locks
            .find(|lock| {
                lock.constructor_methods.iter().any(|c| c == method)
                    && lock
                        .module
                        .as_deref()
                        .is_some_and(|m| facts.imports_module(m))
            })
            .map(|lock| (lock, false))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_files_parse() {
        for (_, name, text) in BUILTIN {
            let file: KbFile =
                toml::from_str(text).unwrap_or_else(|err| panic!("kb/{name}: {err}"));
            assert!(!file.api.is_empty(), "kb/{name} has no [[api]] entries");
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

    #[test]
    fn candidates_list_every_library_a_method_name_may_belong_to() {
        let source = "package p\nimport (\n\t\"net/http\"\n\t\"github.com/redis/go-redis/v9\"\n)\nfunc f() { rdb.Do(ctx, \"SET\", k, v) }\n";
        let document = dsr_syntax::Document::new(Language::Go, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(Language::Go, document.tree(), source);
        let call = facts.calls.first().expect("one call");
        let modules: Vec<_> = KnowledgeBase::builtin()
            .candidates(&facts, call)
            .filter_map(|api| api.module.as_deref())
            .collect();
        assert_eq!(modules, ["net/http", "github.com/redis/go-redis"]);
    }
}
