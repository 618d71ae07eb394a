//! The client libraries the knowledge base covers (`[[library]]` entries in `kb/*-libraries.toml`): the modules
//! that make up each, what its remote calls talk to, its documented defaults — timeout, retry, acknowledgement,
//! commit — each with the address of the page that documents it, and the options that change them. The calls
//! themselves are the `[[api]]` and `[[method]]` entries whose module or path belongs to the library.
//!
//! The loader ([`validate`]) rejects a library without a documented default, a default without a source, and a
//! remote entry, retry library or distributed lock that no library claims: every piece of library knowledge
//! says where its defaults come from. `docs/libraries.md` is rendered from these tables by [`page`].

use serde::Deserialize;

use crate::kb::{module_matches, Api, ApiKind, ApiTimeout, KnowledgeBase, LockScope};
use dsr_syntax::Language;

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

/// Whether `library` is the one an entry at `module_or_path` belongs to: the library of `language`'s family
/// that claims it most specifically.
fn owns(kb: &KnowledgeBase, language: Language, library: &Library, module_or_path: &str) -> bool {
    let Some(own) = claim(library, module_or_path) else {
        return false;
    };
    !kb.libraries().any(|(l, other)| {
        KnowledgeBase::same_family(*l, language)
            && claim(other, module_or_path).is_some_and(|c| c > own)
    })
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
        if needs_library(api) {
            unclaimed("API", *language, &api.path, api.path.clone());
        }
    }
    for (language, api) in kb.method_entries() {
        if let Some(module) = api.module.as_deref().filter(|_| needs_library(api)) {
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

/// Whether an entry is library knowledge that must say where its defaults come from: it talks to a remote
/// system, or it makes or configures a client of one. Sleeps, request builders and in-process helpers are not.
fn needs_library(api: &Api) -> bool {
    api.remote || (api.kind != ApiKind::Local && api.role.is_none())
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

/// `docs/libraries.md`: every library of the knowledge base with its defaults and their sources, the options
/// that change them, and the calls the knowledge base knows, per language.
pub fn page(kb: &KnowledgeBase) -> String {
    let mut out = String::from(
        "# Libraries the knowledge base covers\n\n\
         Generated from `crates/dsr-core/kb/*.toml` by `cargo test -p dsr-core --test libraries_doc` (run with \
         `UPDATE_DOCS=1` to rewrite); the test fails when this page is stale. Each library lists its documented \
         defaults, each with the page that documents it, the options that change them, and the calls the rules \
         recognise (matched through imports and, for common method names, only on a receiver bound to the \
         library's type). Add your own wrappers with `[[effects]]` (see configuration.md).\n\n",
    );
    let families = [
        ("go", "Go"),
        ("rust", "Rust"),
        ("typescript", "TypeScript / JavaScript"),
    ];
    let count = |family: &str| {
        kb.libraries()
            .filter(|(l, _)| l.family_name() == family)
            .count()
    };
    out.push_str("| language | libraries |\n|---|---|\n");
    for (family, title) in families {
        out.push_str(&format!("| {title} | {} |\n", count(family)));
    }
    out.push_str(&format!("| **total** | {} |\n", kb.libraries().count()));
    for (family, title) in families {
        out.push_str(&format!("\n## {title}\n"));
        let mut libraries: Vec<&(Language, Library)> = kb
            .libraries()
            .filter(|(l, _)| l.family_name() == family)
            .collect();
        libraries.sort_by_key(|(_, l)| l.name.to_lowercase());
        for (language, library) in libraries {
            render_library(&mut out, kb, *language, library);
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn render_library(out: &mut String, kb: &KnowledgeBase, language: Language, library: &Library) {
    let modules: Vec<String> = library.modules.iter().map(|m| format!("`{m}`")).collect();
    out.push_str(&format!(
        "\n### {}\n\n{} · {}\n\n| default | value | source |\n|---|---|---|\n",
        library.name,
        kind_title(library.kind),
        modules.join(", ")
    ));
    for default in &library.defaults {
        out.push_str(&format!(
            "| {} | {} | <{}> |\n",
            default.aspect.title(),
            cell(&default.value),
            default.source
        ));
    }
    if !library.options.is_empty() {
        out.push_str("\nOptions: ");
        let options: Vec<String> = library
            .options
            .iter()
            .map(|o| format!("`{}` — {}", o.name, o.effect))
            .collect();
        out.push_str(&options.join("; "));
        out.push('\n');
    }
    let same = |l: &Language| KnowledgeBase::same_family(*l, language);
    let calls: Vec<String> = kb
        .api_entries()
        .filter(|(l, api)| same(l) && needs_library(api) && owns(kb, language, library, &api.path))
        .map(|(_, api)| describe_call(&api.path, api))
        .chain(
            kb.method_entries()
                .filter(|(l, api)| {
                    same(l)
                        && needs_library(api)
                        && api
                            .module
                            .as_deref()
                            .is_some_and(|m| owns(kb, language, library, m))
                })
                .map(|(_, api)| describe_call(&format!(".{}", api.path), api)),
        )
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let calls: Vec<String> = calls
        .into_iter()
        .filter(|c| seen.insert(c.clone()))
        .collect();
    if !calls.is_empty() {
        out.push_str(&format!("\nCalls: {}\n", calls.join(", ")));
    }
    for retry in kb
        .retry_entries()
        .filter(|(l, r)| same(l) && owns(kb, language, library, &r.module))
        .map(|(_, r)| r)
    {
        out.push_str(&format!(
            "\nRetry defaults as the rules read them: {}.",
            retry.defaults
        ));
        let settings: Vec<String> = retry
            .setting
            .iter()
            .map(|s| match &s.when {
                Some(when) => format!("`{} = {when}`", s.name),
                None => format!("`{}`", s.name),
            })
            .collect();
        if !settings.is_empty() {
            out.push_str(&format!(" Settings read: {}.", settings.join(", ")));
        }
        out.push('\n');
    }
}

/// A call as the page lists it: `` `path` `` with what it does (the remote system's kind, or `setup` for a
/// constructor or configuration that does no I/O itself; idempotent or not; its timeout).
fn describe_call(name: &str, api: &Api) -> String {
    let mut facts = Vec::new();
    if api.remote {
        facts.push(kind_title(api.kind).to_string());
    } else {
        facts.push("setup".to_string());
    }
    match idempotent(api) {
        Some(true) => facts.push("idempotent".to_string()),
        Some(false) => facts.push("not idempotent".to_string()),
        None => {}
    }
    match &api.timeout {
        Some(ApiTimeout::None) => facts.push("no timeout".to_string()),
        Some(ApiTimeout::LibraryDefault(words)) => facts.push(format!("timeout {words}")),
        Some(ApiTimeout::Set) => facts.push("sets a timeout".to_string()),
        Some(ApiTimeout::Connect) => facts.push("connect timeout only".to_string()),
        Some(ApiTimeout::Client) | None => {}
    }
    format!("`{name}` ({})", facts.join(", "))
}

/// Whether repeating a call has the effect of making it once: declared, or a read, or fixed by the HTTP method.
pub fn idempotent(api: &Api) -> Option<bool> {
    if api.idempotent.is_some() {
        return api.idempotent;
    }
    if api.mutation == Some(false) {
        return Some(true);
    }
    match api.http_method.as_deref() {
        Some("GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS") => Some(true),
        Some("POST" | "PATCH") => Some(false),
        _ => None,
    }
}

fn kind_title(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::Http => "HTTP",
        ApiKind::Rpc => "RPC",
        ApiKind::Db => "database",
        ApiKind::Cache => "cache",
        ApiKind::Queue => "queue",
        ApiKind::ObjectStore => "object store",
        ApiKind::Lock => "lock",
        ApiKind::Local => "in-process",
        ApiKind::Socket => "socket",
    }
}

#[cfg(test)]
mod tests {
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
        let errors = KnowledgeBase::load(&crate::kb::BUILTIN)
            .err()
            .unwrap_or_default();
        let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(listed.is_empty(), "{}", listed.join("\n"));
    }
}
