//! Where a file sits in its language's module system, read from the manifests above it: a Go file's package
//! import path (the module path in the nearest `go.mod` plus the directory below it), a Rust file's crate
//! (the nearest `Cargo.toml` with a `[package]`) and module path (from its place under `src/`), a
//! TypeScript file's module (its path without the extension) and the `paths` aliases of the nearest
//! `tsconfig.json`. Manifests are read once per directory.

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use dsr_syntax::Language;
use rustc_hash::FxHashMap;

/// Where a file sits: what its names are qualified with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A Go package: its import path (or, with no `go.mod` above it, its directory).
    Go { package: String },
    /// A Rust module: the crate's name (`-` as `_`) and the module path inside it.
    Rust { krate: String, module: Vec<String> },
    /// A TypeScript/JavaScript module: the file's path without its extension, and the tsconfig aliases in
    /// force for it.
    Ts { module: PathBuf, aliases: TsAliases },
}

/// A tsconfig's `baseUrl` and `paths`, resolved to directories.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TsAliases {
    pub base: Option<PathBuf>,
    /// (`@app/` prefix without its `*`, directories it maps to, without their `*`).
    pub paths: Vec<(String, Vec<PathBuf>)>,
}

/// The manifests a file's place is read from.
const GO_MODULE: &str = "go.mod";
const CARGO_MANIFEST: &str = "Cargo.toml";
const TSCONFIG: &str = "tsconfig.json";
/// Their file names (a client's file watcher is registered for them).
pub const MANIFESTS: [&str; 3] = [GO_MODULE, CARGO_MANIFEST, TSCONFIG];

/// Whether `path` is a manifest a [`Layout`] reads: when one changes, the places read before it may be wrong,
/// and so may every summary made through declarations named by them (a new layout and index are needed).
pub fn is_manifest(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| MANIFESTS.contains(&name))
}

#[derive(Default, Debug)]
pub struct Layout {
    /// What relative paths are relative to (the CLI analyses files under their path relative to the root).
    root: Option<PathBuf>,
    go_modules: Mutex<FxHashMap<PathBuf, Option<(PathBuf, String)>>>,
    crates: Mutex<FxHashMap<PathBuf, Option<(PathBuf, String)>>>,
    tsconfigs: Mutex<FxHashMap<PathBuf, Option<TsAliases>>>,
}

impl Layout {
    /// A layout for paths relative to `root` (absolute paths are taken as they are).
    pub fn with_root(root: PathBuf) -> Self {
        Layout {
            root: Some(root),
            ..Layout::default()
        }
    }

    pub fn place(&self, path: &Path, language: Language) -> Option<Place> {
        let absolute = match &self.root {
            Some(root) if path.is_relative() => normalize(&root.join(path)),
            _ => path.to_path_buf(),
        };
        let path = absolute.as_path();
        let dir = path.parent()?;
        match language {
            Language::Go => {
                let package = match self.nearest(&self.go_modules, dir, GO_MODULE, go_module) {
                    Some((root, module)) => {
                        let below = dir.strip_prefix(&root).ok()?;
                        let below = slash_path(below);
                        if below.is_empty() {
                            module
                        } else {
                            format!("{module}/{below}")
                        }
                    }
                    None => format!("dir:{}", dir.display()),
                };
                Some(Place::Go { package })
            }
            Language::Rust => {
                let (root, krate) =
                    self.nearest(&self.crates, dir, CARGO_MANIFEST, cargo_package)?;
                let below = path.strip_prefix(root.join("src")).ok();
                let module = match below {
                    Some(below) => rust_module(below),
                    // tests/, benches/, examples/: each file is a crate root of its own.
                    None => Vec::new(),
                };
                Some(Place::Rust { krate, module })
            }
            Language::TypeScript | Language::Tsx => Some(Place::Ts {
                module: without_extension(path),
                aliases: self
                    .nearest(&self.tsconfigs, dir, TSCONFIG, tsconfig_aliases)
                    .unwrap_or_default(),
            }),
            Language::Sql => None,
        }
    }

    /// The manifest named `file` in `dir` or the nearest directory above it, parsed by `read`; remembered per
    /// directory.
    fn nearest<T: Clone>(
        &self,
        cache: &Mutex<FxHashMap<PathBuf, Option<T>>>,
        dir: &Path,
        file: &str,
        read: fn(&Path, &str) -> Option<T>,
    ) -> Option<T> {
        let mut visited = Vec::new();
        let mut current = Some(dir);
        let found = loop {
            let Some(d) = current else { break None };
            if let Some(known) = cache.lock().ok().and_then(|c| c.get(d).cloned()) {
                break known;
            }
            visited.push(d.to_path_buf());
            let candidate = d.join(file);
            if let Ok(text) = std::fs::read_to_string(&candidate) {
                if let Some(parsed) = read(d, &text) {
                    break Some(parsed);
                }
            }
            current = d.parent();
        };
        if let Ok(mut cache) = cache.lock() {
            for d in visited {
                cache.insert(d, found.clone());
            }
        }
        found
    }
}

fn slash_path(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `module example.com/shop` in a go.mod.
fn go_module(dir: &Path, text: &str) -> Option<(PathBuf, String)> {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("module "))
        .map(|m| (dir.to_path_buf(), m.trim().trim_matches('"').to_string()))
}

/// The `[package] name` of a Cargo.toml (a virtual workspace manifest has none: keep looking up).
fn cargo_package(dir: &Path, text: &str) -> Option<(PathBuf, String)> {
    let manifest: toml::Table = toml::from_str(text).ok()?;
    let name = manifest.get("package")?.get("name")?.as_str()?;
    Some((dir.to_path_buf(), name.replace('-', "_")))
}

/// `lib.rs`, `main.rs` → the crate root; `a/mod.rs`, `a.rs` → `a`; `a/b.rs` → `a::b`.
fn rust_module(below_src: &Path) -> Vec<String> {
    let mut parts: Vec<String> = below_src
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str().map(str::to_string),
            _ => None,
        })
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.strip_suffix(".rs").unwrap_or(&last);
        let is_root = parts.is_empty() && matches!(stem, "lib" | "main");
        if !is_root && stem != "mod" {
            parts.push(stem.to_string());
        }
    }
    if parts.first().is_some_and(|p| p == "bin") {
        return Vec::new();
    }
    parts
}

pub(crate) fn without_extension(path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    for ext in [
        ".d.ts", ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs",
    ] {
        if let Some(stem) = text.strip_suffix(ext) {
            return PathBuf::from(stem);
        }
    }
    path.to_path_buf()
}

/// `compilerOptions.baseUrl` and `compilerOptions.paths` of a tsconfig.json (comments and trailing commas
/// allowed, as TypeScript allows them).
fn tsconfig_aliases(dir: &Path, text: &str) -> Option<TsAliases> {
    let json: serde_json::Value = serde_json::from_str(&strip_json_comments(text)).ok()?;
    let options = json.get("compilerOptions");
    let base = options
        .and_then(|o| o.get("baseUrl"))
        .and_then(|b| b.as_str())
        .map(|b| normalize(&dir.join(b)));
    let root = base.clone().unwrap_or_else(|| dir.to_path_buf());
    let mut paths = Vec::new();
    if let Some(map) = options
        .and_then(|o| o.get("paths"))
        .and_then(|p| p.as_object())
    {
        for (alias, targets) in map {
            let prefix = alias.trim_end_matches('*').to_string();
            let dirs = targets
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str())
                .map(|t| normalize(&root.join(t.trim_end_matches('*'))))
                .collect();
            paths.push((prefix, dirs));
        }
    }
    // Longest prefix first, as TypeScript matches.
    paths.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
    Some(TsAliases { base, paths })
}

fn strip_json_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for n in chars.by_ref() {
                    if last == '*' && n == '/' {
                        break;
                    }
                    last = n;
                }
            }
            _ => out.push(c),
        }
    }
    // Trailing commas: `,}` and `,]`.
    let mut cleaned = String::with_capacity(out.len());
    let bytes: Vec<char> = out.chars().collect();
    for (i, c) in bytes.iter().enumerate() {
        if *c == ',' {
            let next = bytes[i + 1..].iter().find(|n| !n.is_whitespace());
            if matches!(next, Some('}' | ']')) {
                continue;
            }
        }
        cleaned.push(*c);
    }
    cleaned
}

/// `a/./b/../c` → `a/c`, without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_modules_follow_the_file_layout() {
        assert!(rust_module(Path::new("lib.rs")).is_empty());
        assert!(rust_module(Path::new("main.rs")).is_empty());
        assert_eq!(rust_module(Path::new("billing.rs")), ["billing"]);
        assert_eq!(rust_module(Path::new("billing/mod.rs")), ["billing"]);
        assert_eq!(
            rust_module(Path::new("billing/gateway.rs")),
            ["billing", "gateway"]
        );
    }

    #[test]
    fn manifests_are_known_by_name() {
        assert!(is_manifest(Path::new("/w/go.mod")));
        assert!(is_manifest(Path::new("crates/a/Cargo.toml")));
        assert!(is_manifest(Path::new("web/tsconfig.json")));
        assert!(!is_manifest(Path::new("go.sum")));
        assert!(!is_manifest(Path::new("tsconfig.base.json")));
    }

    #[test]
    fn tsconfig_paths_allow_comments_and_trailing_commas() {
        let text = "{ // comment\n \"compilerOptions\": { \"baseUrl\": \".\", /* x */ \"paths\": { \"@/*\": [\"src/*\",], }, }, }";
        let aliases = tsconfig_aliases(Path::new("/w"), text).expect("parses");
        assert_eq!(aliases.base, Some(PathBuf::from("/w")));
        assert_eq!(
            aliases.paths,
            [("@/".to_string(), vec![PathBuf::from("/w/src")])]
        );
    }
}
