//! Rendering of the generated pages: rule pages (`docs/rules/<CODE>.md`, the same text `explain`, hovers and
//! `codeDescription` use) and the knowledge base's libraries (`docs/libraries.md`).

use dsr_core::http::Method;
use dsr_core::kb::{Api, ApiKind, ApiTimeout, KnowledgeBase, Library};
use dsr_core::{FixAvailability, Language, RuleMeta, RuleStatus};
use dsr_semantic::RegisteredRule;

/// The sections every rule's doc comment has, in order (STYLE.md §1).
pub const SECTIONS: [&str; 8] = [
    "What it finds",
    "Why it fails under partial failure",
    "Known false positives",
    "Example",
    "Use instead",
    "Fix safety",
    "Configuration",
    "References",
];

/// The full page of a rule, in Markdown.
pub fn rule_page(meta: &RuleMeta) -> String {
    let languages: Vec<&str> = meta.languages.iter().map(|l| l.display_name()).collect();
    let kind = match meta.kind {
        dsr_core::FindingKind::Finding => "finding",
        dsr_core::FindingKind::OpenQuestion => "open question",
    };
    let fix = match meta.fix {
        FixAvailability::Always => "edits",
        FixAvailability::Sometimes => "edits where safe, advice otherwise",
        FixAvailability::Never => "advice",
    };
    format!(
        "# {code} {slug}\n\n| | |\n|---|---|\n| Family | {family} ({prefix}) |\n| Default severity | {severity} |\n| Impact | {impact} |\n| Reported as | {kind} |\n| Languages | {languages} |\n| Fix | {fix} |\n| Code roles | {roles} |\n\n{doc}",
        code = meta.code,
        slug = meta.slug,
        family = meta.family.title(),
        prefix = meta.family.prefix(),
        severity = meta.severity.title(),
        impact = meta.impact.as_str(),
        languages = languages.join(", "),
        roles = meta.roles.describe(),
        doc = meta.doc(),
    )
}

/// A rule's name in a listing: its slug, with its status after it unless it is stable
/// (`retry-storm (preview)`), or its questions' when only they are not (`unbounded-body-read (questions:
/// preview)`).
pub fn listed_name(registered: &RegisteredRule) -> String {
    let slug = registered.rule.meta().slug;
    match (registered.status, registered.questions) {
        (RuleStatus::Stable, RuleStatus::Stable) => slug.to_string(),
        (RuleStatus::Stable, questions) => format!("{slug} (questions: {})", questions.as_str()),
        (status, _) => format!("{slug} ({})", status.as_str()),
    }
}

/// The index page: one row per rule.
pub fn index_page(rules: &[RegisteredRule]) -> String {
    let mut page = String::from(
        "# Rules\n\nGenerated from the rules' doc comments by `cargo test -p dsr-rules --test docs` \
         (run with `UPDATE_DOCS=1` to rewrite). Each page is also printed by `distsys-review explain CODE`.\n\n\
         | Code | Name | Severity | Impact | Languages | Summary |\n|---|---|---|---|---|---|\n",
    );
    for registered in rules {
        let meta = registered.rule.meta();
        let languages: Vec<&str> = meta.languages.iter().map(|l| l.display_name()).collect();
        page.push_str(&format!(
            "| [{code}]({code}.md) | {slug} | {severity} | {impact} | {languages} | {summary} |\n",
            code = meta.code,
            slug = listed_name(registered),
            severity = if meta.kind == dsr_core::FindingKind::OpenQuestion {
                "Open question".to_string()
            } else {
                meta.severity.title().to_string()
            },
            impact = meta.impact.as_str(),
            languages = languages.join(", "),
            summary = meta.summary().replace('|', "\\|"),
        ));
    }
    page
}

/// `docs/libraries.md`: every library of the knowledge base with its defaults and their sources, the options
/// that change them, and the calls the knowledge base knows, per language.
pub fn libraries_page(kb: &KnowledgeBase) -> String {
    let mut out = String::from(
        "# Libraries the knowledge base covers\n\n\
         Generated from `crates/dsr-core/kb/*.toml` by `cargo test -p dsr-rules --test libraries_doc` (run with \
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
        .filter(|(l, api)| same(l) && api.needs_library() && kb.owns(language, library, &api.path))
        .map(|(_, api)| describe_call(&api.path, api))
        .chain(
            kb.method_entries()
                .filter(|(l, api)| {
                    same(l)
                        && api.needs_library()
                        && api
                            .module
                            .as_deref()
                            .is_some_and(|m| kb.owns(language, library, m))
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
        .filter(|(l, r)| same(l) && kb.owns(language, library, &r.module))
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
fn idempotent(api: &Api) -> Option<bool> {
    if api.idempotent.is_some() {
        return api.idempotent;
    }
    if api.mutation == Some(false) {
        return Some(true);
    }
    api.http_method
        .as_deref()
        .and_then(Method::from_name)
        .map(Method::is_idempotent)
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
