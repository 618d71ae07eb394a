//! Matching the knowledge base's entries (data types in [`dsr_core::kb`]) against a file's calls: by a call's
//! resolved path, else by its method name in a file that imports the method's module, with the receiver's
//! declared type breaking ties between libraries that share a method name.

use dsr_core::kb::{
    module_matches, Api, ApiRole, BatchForm, CallKinds, KnowledgeBase, LockLibrary, PathGroupKind,
    RetryLibrary,
};
use dsr_syntax::Language;

use crate::facts::{Call, FileFacts, ReceiverType};

/// What the knowledge base says about the calls of a file.
pub trait KbMatch {
    /// What the knowledge base says about a call: by its resolved path, else by its method name when the file
    /// imports the method's module.
    fn call(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<&Api>;

    /// The first entry for a call that plays one of `roles`. A file may import two libraries that share a method
    /// name (`Commit` in database/sql and another client), so entries without the role are skipped, not taken.
    fn role_of(&self, facts: &FileFacts<'_>, call: &Call<'_>, roles: &[ApiRole]) -> Option<&Api>;

    /// The first entry for a call that satisfies `wanted` (a role, and for ack entries the argument that names
    /// the message being present).
    fn find_for_call(
        &self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
        wanted: impl Fn(&Api) -> bool,
    ) -> Option<&Api>;

    /// Every entry that may describe a call, most specific first: its resolved path's entry, then each
    /// `[[method]]` entry of that name whose module the file imports. Method names are shared between
    /// libraries (`Do` is `net/http` and go-redis), so a rule that needs one library's meaning picks from these.
    fn candidates<'k>(
        &'k self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
    ) -> impl Iterator<Item = &'k Api>;

    /// Whether a call does network I/O according to the knowledge base.
    fn is_remote(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> bool;

    /// A method of a module the file imports that fixes or carries an HTTP method (reqwest's `.post(url)`,
    /// `.request(Method::PUT, url)`), looked up among such methods only so that a same-named cache or queue
    /// method (redis `get`) does not hide it.
    fn http_builder_method(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<&Api>;

    /// The retry library a call runs an operation under (`backoff.Retry(op, b)`, `fetch.retry(builder)`,
    /// `pRetry(fn)`), or that builds a retrying client/policy (`retryablehttp.NewClient()`, cockatiel `retry(…)`).
    fn retry_library(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<&RetryLibrary>;

    /// The batch form of a remote per-item call: matched on the entries the call may be (its path's entry, or
    /// a `[[method]]` entry of a module the file imports) and the call's method name or last path segment.
    fn batch_form(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<&BatchForm>;

    /// The lock library whose constructor (or wrapper, the second value `true`) a call is: by its resolved
    /// path, or by a constructor method of a module the file imports.
    fn lock_constructor(
        &self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
    ) -> Option<(&LockLibrary, bool)>;
}

impl KbMatch for KnowledgeBase {
    /// What the knowledge base says about a call: by its resolved path, else by its method name when the file
    /// imports the method's module.
    fn call(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<&Api> {
        self.find_for_call(facts, call, |_| true)
    }

    /// The first entry for a call that plays one of `roles`. A file may import two libraries that share a method
    /// name (`Commit` in database/sql and another client), so entries without the role are skipped, not taken.
    fn role_of(&self, facts: &FileFacts<'_>, call: &Call<'_>, roles: &[ApiRole]) -> Option<&Api> {
        self.find_for_call(facts, call, |api| {
            api.role.is_some_and(|role| roles.contains(&role))
        })
    }

    /// The first entry for a call that satisfies `wanted` (a role, and for ack entries the argument that names
    /// the message being present).
    fn find_for_call(
        &self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
        wanted: impl Fn(&Api) -> bool,
    ) -> Option<&Api> {
        let language = facts.language;
        let fits = |api: &Api| api.arity.is_none_or(|n| n == call.args.len()) && wanted(api);
        if let Some(path) = call.path.as_deref() {
            let by_path = self
                .entries_at(path)
                .find(|(l, api)| Self::same_family(*l, language) && api.path == path && fits(api));
            if let Some((_, api)) = by_path {
                return Some(api);
            }
        }
        if let Some(api) = method_entries(self, facts, call)
            .into_iter()
            .find(|api| fits(api))
        {
            return Some(api);
        }
        user_effect(self, facts, call).filter(|api| fits(api))
    }

    /// Every entry that may describe a call, most specific first: its resolved path's entry, then each
    /// `[[method]]` entry of that name whose module the file imports. Method names are shared between
    /// libraries (`Do` is `net/http` and go-redis), so a rule that needs one library's meaning picks from these.
    fn candidates<'k>(
        &'k self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
    ) -> impl Iterator<Item = &'k Api> {
        let by_path = call
            .path
            .as_deref()
            .and_then(|p| self.api(facts.language, p));
        let by_method = method_entries(self, facts, call);
        by_path.into_iter().chain(by_method)
    }

    /// Whether a call does network I/O according to the knowledge base.
    fn is_remote(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> bool {
        self.call(facts, call).is_some_and(|api| api.remote)
    }

    /// A method of a module the file imports that fixes or carries an HTTP method (reqwest's `.post(url)`,
    /// `.request(Method::PUT, url)`), looked up among such methods only so that a same-named cache or queue
    /// method (redis `get`) does not hide it.
    fn http_builder_method(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<&Api> {
        let method = call.method.as_deref()?;
        self.methods_named(method)
            .filter(|(l, api)| Self::same_family(*l, facts.language) && api.path == method)
            .filter(|(_, api)| api.http_method.is_some() || api.method_arg.is_some())
            .find(|(_, api)| {
                api.module.as_deref().is_none_or(|m| {
                    facts.imports_module(m) && !bound_elsewhere(self, facts, call, m)
                        || matches!(facts.receiver_type(call), ReceiverType::Resolved(path) if module_matches(&path, m))
                })
            })
            .map(|(_, api)| api)
    }

    /// The retry library a call runs an operation under (`backoff.Retry(op, b)`, `fetch.retry(builder)`,
    /// `pRetry(fn)`), or that builds a retrying client/policy (`retryablehttp.NewClient()`, cockatiel `retry(…)`).
    fn retry_library(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<&RetryLibrary> {
        let separator = if facts.language == Language::Rust {
            "::"
        } else {
            "."
        };
        self.retry_libraries(facts.language).find(|library| {
            let by_path = call.path.as_deref().is_some_and(|path| {
                library.calls.iter().any(|name| {
                    if name.is_empty() {
                        return path == library.module;
                    }
                    path.strip_suffix(name.as_str())
                        .and_then(|m| m.strip_suffix(separator))
                        .is_some_and(|m| module_matches(m, &library.module))
                })
            });
            by_path
                || call.method.as_deref().is_some_and(|method| {
                    library.methods.iter().any(|m| m == method)
                        && facts.imports_module(&library.module)
                        && !bound_elsewhere(self, facts, call, &library.module)
                        && !generic_and_unbound(self, facts, call, &library.module)
                })
        })
    }

    /// The batch form of a remote per-item call: matched on the entries the call may be (its path's entry, or
    /// a `[[method]]` entry of a module the file imports) and the call's method name or last path segment.
    fn batch_form(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<&BatchForm> {
        let language = facts.language;
        let name = call.method.as_deref().or_else(|| {
            call.path
                .as_deref()
                .and_then(|p| p.rsplit(['.', ':', '/']).next())
        })?;
        let apis: Vec<&Api> = self.candidates(facts, call).filter(|a| a.remote).collect();
        self.batch_forms(language)
            .filter(|b| b.calls.iter().any(|c| c == name))
            .find(|b| {
                apis.iter().any(|api| {
                    api.module
                        .as_deref()
                        .is_some_and(|m| module_matches(m, &b.module))
                        || module_matches(&api.path, &b.module)
                })
            })
    }

    /// The lock library whose constructor (or wrapper, the second value `true`) a call is: by its resolved
    /// path, or by a constructor method of a module the file imports.
    fn lock_constructor(
        &self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
    ) -> Option<(&LockLibrary, bool)> {
        let mut locks = self.lock_libraries(facts.language);
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
                    && lock.module.as_deref().is_some_and(|m| {
                        facts.imports_module(m)
                            && !bound_elsewhere(self, facts, call, m)
                            && !generic_and_unbound(self, facts, call, m)
                    })
            })
            .map(|lock| (lock, false))
    }
}

/// JavaScript's names for its global object: `globalThis.fetch`, `window.setTimeout` and a worker's
/// `self.fetch` call the global function of that name.
const JS_GLOBAL_OBJECTS: [&str; 3] = ["globalThis", "window", "self"];

/// A call's canonical path, also when a TypeScript/JavaScript call goes through the global object
/// (`window.setTimeout(…)` is `setTimeout`, which the knowledge base lists by that name).
pub fn path_through_globals<'c>(language: Language, call: &'c Call<'_>) -> Option<&'c str> {
    if let Some(path) = call.path.as_deref() {
        return Some(path);
    }
    if !language.is_typescript() {
        return None;
    }
    let (object, name) = call.callee_text.split_once('.')?;
    (JS_GLOBAL_OBJECTS.contains(&object) && !name.contains('.')).then_some(name)
}

/// A timer: a call that runs one of its arguments later, on its own (kb `callback_arg`: `setTimeout(fn, ms)`,
/// `time.AfterFunc(d, fn)`), with the argument holding the callback and the one holding the delay.
pub fn timer(kb: &KnowledgeBase, language: Language, call: &Call<'_>) -> Option<(usize, usize)> {
    let api = kb.api(language, path_through_globals(language, call)?)?;
    Some((api.callback_arg?, api.delay_arg?))
}

/// A free Rust function that starts a task or thread: the `task-spawn` group by path (`tokio::spawn`,
/// `std::thread::spawn`), or one of `calls.toml`'s `task_spawns` written through one of its
/// `task_spawn_qualifiers` that the facts do not resolve (`task::spawn`). Method spawns (`set.spawn(…)`) are not
/// free functions.
pub fn is_free_task_spawn(kb: &KnowledgeBase, call: &Call<'_>) -> bool {
    let path = call.path.as_deref().unwrap_or(&call.callee_text);
    if kb.is_in_group(Language::Rust, path, PathGroupKind::TaskSpawn) {
        return true;
    }
    let spawns = &CallKinds::builtin().derivation;
    call.callee_text
        .rsplit_once("::")
        .is_some_and(|(head, name)| {
            spawns.task_spawns.iter().any(|s| s == name)
                && spawns
                    .task_spawn_qualifiers
                    .iter()
                    .any(|q| head.ends_with(q.as_str()))
        })
}

/// Whether a method call's receiver is bound to something other than `module`: a type or constructor the
/// imports resolve to another module, or a local container (`Map`, `HashMap`). Such a call is not `module`'s
/// method, whatever its name, even when the file imports `module`.
fn bound_elsewhere(
    kb: &KnowledgeBase,
    facts: &FileFacts<'_>,
    call: &Call<'_>,
    module: &str,
) -> bool {
    if call.receiver.is_none() {
        return false;
    }
    match facts.receiver_type(call) {
        ReceiverType::Resolved(path) => {
            !module_matches(&path, module) || is_local_container(kb, facts.language, Some(&path))
        }
        // A type the imports do not resolve may still be the library's (a glob import, a re-export): only a
        // local container rules it out.
        ReceiverType::Written(name) => is_local_container(kb, facts.language, Some(&name)),
        ReceiverType::Unknown => false,
    }
}

/// A generic method name (`get`, `Do`, `new`, listed in `[receivers]`) on a receiver nothing binds: not
/// `module`'s by its name alone.
fn generic_and_unbound(
    kb: &KnowledgeBase,
    facts: &FileFacts<'_>,
    call: &Call<'_>,
    module: &str,
) -> bool {
    let Some(method) = call.method.as_deref() else {
        return false;
    };
    kb.is_generic_method(facts.language, method)
        && !matches!(facts.receiver_type(call), ReceiverType::Resolved(path) if module_matches(&path, module))
}

/// The `[[method]]` entries a method call may be. A method name counts for a library only when the file
/// imports the library's module and the receiver is not bound to something else: a receiver whose declared type
/// or constructor belongs to a module picks that module's entries (`pool *pgxpool.Pool` in a file that imports
/// database/sql too); one bound to a local container (`Map`, `HashMap`, `url.Values`) is no library's client;
/// and a generic name (`get`, `Do`, `send`, listed in `[receivers]`) counts only with a bound receiver, never
/// by name alone.
fn method_entries<'k>(
    kb: &'k KnowledgeBase,
    facts: &FileFacts<'_>,
    call: &Call<'_>,
) -> Vec<&'k Api> {
    let Some(method) = call.method.as_deref() else {
        return Vec::new();
    };
    let language = facts.language;
    let same_named = || {
        kb.methods_named(method)
            .filter(|(l, api)| KnowledgeBase::same_family(*l, language) && api.path == method)
    };
    // First, as the cheapest test: most methods called are no library's.
    if same_named().next().is_none() {
        return Vec::new();
    }
    // `sync.Once.Do(func() {…})` and other callback runners share method names with clients (`Do`); no client
    // method of the knowledge base takes a lone function literal, so such a call is not matched by name.
    if language == Language::Go
        && matches!(call.args.as_slice(), [only] if only.kind() == "func_literal")
    {
        return Vec::new();
    }
    // A Go package-level function (`os.Create`, `sort.Search`) is never a client's method, whatever its name.
    if language == Language::Go && is_package_function(facts, call) {
        return Vec::new();
    }
    let receiver = facts.receiver_type(call);
    // A module counts as in scope when the file imports it, or when the receiver is bound to one of its types
    // without an import (a field typed in another file, an alias another file exports).
    let in_scope = |module: &str| {
        facts.imports_module(module)
            || matches!(&receiver, ReceiverType::Resolved(path) if module_matches(path, module))
    };
    let named: Vec<&Api> = same_named()
        .filter(|(_, api)| api.module.as_deref().is_none_or(in_scope))
        .map(|(_, api)| api)
        .collect();
    if named.is_empty() {
        return named;
    }
    let (resolved, written) = match &receiver {
        ReceiverType::Resolved(path) => (Some(path.as_str()), None),
        ReceiverType::Written(name) => (None, Some(name.as_str())),
        ReceiverType::Unknown => (None, None),
    };
    if is_local_container(kb, language, resolved.or(written)) {
        return Vec::new();
    }
    // A declared type no import names comes from a glob import when there is one (`client: &Client` with
    // `use fred::prelude::*`): the glob's module binds it.
    let from_glob = |module: &str| {
        written.is_some()
            && facts
                .glob_imports()
                .any(|i| module_matches(&i.path, module))
    };
    let bound: Vec<&Api> = named
        .iter()
        .copied()
        .filter(|api| {
            api.module.as_deref().is_some_and(|m| {
                resolved.is_some_and(|path| module_matches(path, m)) || from_glob(m)
            })
        })
        .collect();
    if !bound.is_empty() {
        return bound;
    }
    if kb.is_generic_method(language, method) {
        return Vec::new();
    }
    named
}

/// A user `[[effects]]` entry matched by the end of the call's qualified name: its canonical path
/// (`example.com/shop/billing.Charge`), or its receiver's type and the method (`example.com/shop/billing.Client`
/// + `Charge`), so that `call = "billing.Client.Charge"` names a method of a generated client.
fn user_effect<'k>(
    kb: &'k KnowledgeBase,
    facts: &FileFacts<'_>,
    call: &Call<'_>,
) -> Option<&'k Api> {
    if !kb.has_user_effects() {
        return None;
    }
    if let Some(api) = call
        .path
        .as_deref()
        .and_then(|path| kb.user_effect(facts.language, path))
    {
        return Some(api);
    }
    let method = call.method.as_deref()?;
    let ReceiverType::Resolved(owner) = facts.receiver_type(call) else {
        return None;
    };
    let separator = if facts.language == Language::Rust {
        "::"
    } else {
        "."
    };
    kb.user_effect(facts.language, &format!("{owner}{separator}{method}"))
}

/// Whether a Go call is `pkg.Func(…)` on an imported package's name.
fn is_package_function(facts: &FileFacts<'_>, call: &Call<'_>) -> bool {
    call.receiver.is_some_and(|r| r.kind() == "identifier")
        && call
            .callee_text
            .rsplit_once('.')
            .is_some_and(|(head, _)| facts.import(head).is_some())
}

/// Whether a receiver's type (a canonical path such as `std::collections::HashMap::new`, or a name as written)
/// is a local container: the type itself, or the type a constructor path names.
fn is_local_container(kb: &KnowledgeBase, language: Language, type_name: Option<&str>) -> bool {
    let Some(type_name) = type_name else {
        return false;
    };
    let without_constructor = type_name
        .rsplit_once("::")
        .or_else(|| type_name.rsplit_once('.'))
        .map(|(head, _)| head);
    kb.is_local_type(language, type_name)
        || without_constructor.is_some_and(|t| kb.is_local_type(language, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_of_a_generic_method_are_its_receivers_library_only() {
        let modules = |body: &str| {
            let source = format!("package p\nimport (\n\t\"net/http\"\n\t\"github.com/redis/go-redis/v9\"\n)\n{body}\n");
            let document =
                dsr_syntax::Document::new(Language::Go, &source, 0).expect("grammar loads");
            let facts = FileFacts::compute(Language::Go, document.tree(), &source);
            let call = facts
                .calls
                .iter()
                .find(|c| c.method.as_deref() == Some("Do"))
                .expect("a Do call");
            KnowledgeBase::builtin()
                .candidates(&facts, call)
                .filter_map(|api| api.module.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            modules("func f(rdb *redis.Client) { rdb.Do(ctx, \"SET\", k, v) }"),
            ["github.com/redis/go-redis"]
        );
        assert_eq!(
            modules("func f() { rdb := redis.NewClient(opts); rdb.Do(ctx, \"SET\", k, v) }"),
            ["github.com/redis/go-redis"]
        );
        assert_eq!(
            modules("func f(c *http.Client) { c.Do(req) }"),
            ["net/http"]
        );
        // `Do` is too common a name to be either library's by itself.
        assert!(modules("func f() { rdb.Do(ctx, \"SET\", k, v) }").is_empty());
    }

    #[test]
    fn a_retry_method_counts_only_on_a_receiver_not_bound_elsewhere() {
        let source = "use backon::{ExponentialBuilder, Retryable};\nuse tower::ServiceBuilder;\n\
            fn stack() { let builder = ServiceBuilder::new(); builder.retry(Attempts(3)); }\n\
            async fn ping() { (|| async { call().await }).retry(ExponentialBuilder::default()).await; }\n";
        let document = dsr_syntax::Document::new(Language::Rust, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(Language::Rust, document.tree(), source);
        let kb = KnowledgeBase::builtin();
        let libraries: Vec<Option<String>> = facts
            .calls
            .iter()
            .filter(|c| c.method.as_deref() == Some("retry"))
            .map(|c| kb.retry_library(&facts, c).map(|l| l.library.clone()))
            .collect();
        assert_eq!(libraries.len(), 2);
        // tower's `ServiceBuilder::retry` is not backon's, though the file imports backon.
        assert_eq!(libraries[0], None);
        assert!(libraries[1].is_some());
    }
}
