//! Which code is for what ([`CodeRole`]): a file's role from its path, its imports and (Go) its package name,
//! and inside a Rust file the test items (`#[test]`, `#[tokio::test]`, a `#[cfg(…)]` that requires `test`). The
//! conventions are data (`kb/roles.toml`, [`RoleConventions`]); the engine uses the role of a finding's location
//! to decide whether it is in the run's scope.
//!
//! The path is the one the front end hands the engine: relative to the scanned root (CLI) or to the workspace
//! folder (LSP), so the folders above the project never decide a role.

use std::ops::Range;
use std::path::Path;

use dsr_core::role::{CodeRole, RoleConventions};
use dsr_syntax::{node, Language, TextRange};
use tree_sitter::Node;

use crate::facts::FileFacts;

/// The roles of one file: the file's own, and the byte ranges of items that are test or tool code inside it.
#[derive(Clone, Debug, Default)]
pub struct CodeRoles {
    file: CodeRole,
    /// Rust items that only exist in test builds, outermost only, in document order.
    test_items: Vec<Range<usize>>,
    /// Go command bodies (a cobra command's `RunE`, a urfave/cli `Action`) and Rust subcommand arms (clap) in a
    /// production file, in document order, none inside another.
    tool_items: Vec<Range<usize>>,
}

impl CodeRoles {
    pub fn compute(path: &Path, facts: &FileFacts<'_>, source: &str) -> CodeRoles {
        let conventions = RoleConventions::builtin();
        let file = path_role(path, conventions)
            .or_else(|| content_role(facts, source, conventions))
            .unwrap_or(match facts.language {
                Language::Sql => CodeRole::Migration,
                _ => CodeRole::Production,
            });
        let test_items = if facts.language == Language::Rust {
            rust_test_items(facts, source, conventions)
        } else {
            Vec::new()
        };
        let tool_items = match facts.language {
            _ if file != CodeRole::Production => Vec::new(),
            Language::Go => go_command_bodies(facts, source, conventions),
            Language::Rust => rust_subcommand_arms(facts, source, conventions),
            _ => Vec::new(),
        };
        CodeRoles {
            file,
            test_items,
            tool_items,
        }
    }

    /// The role of the file as a whole.
    pub fn file(&self) -> CodeRole {
        self.file
    }

    /// The role of the code at a byte offset: a test item's or a command body's role inside a production file.
    pub fn at(&self, offset: usize) -> CodeRole {
        if self.file == CodeRole::Test || self.in_test_item(offset) {
            CodeRole::Test
        } else if in_ranges(&self.tool_items, offset) {
            CodeRole::Tool
        } else {
            self.file
        }
    }

    /// Every role [`CodeRoles::at`] gives somewhere in the file: the file's own, and a test item's or a command
    /// body's where the file has them. The engine skips a rule none of whose findings could be reported in any
    /// of them.
    pub fn possible(&self) -> Vec<CodeRole> {
        if self.file == CodeRole::Test {
            return vec![CodeRole::Test];
        }
        let mut roles = vec![self.file];
        if !self.test_items.is_empty() {
            roles.push(CodeRole::Test);
        }
        if !self.tool_items.is_empty() {
            roles.push(CodeRole::Tool);
        }
        roles
    }

    /// Whether the range lies inside a Rust test item, strictly (an item is not inside itself).
    pub fn in_test_item_range(&self, range: Range<usize>) -> bool {
        self.test_items
            .iter()
            .any(|item| item.start <= range.start && range.end <= item.end && *item != range)
    }

    fn in_test_item(&self, offset: usize) -> bool {
        in_ranges(&self.test_items, offset)
    }
}

/// Whether `offset` lies in one of `ranges` (sorted, none inside another).
fn in_ranges(ranges: &[Range<usize>], offset: usize) -> bool {
    let at = ranges.partition_point(|item| item.end <= offset);
    ranges.get(at).is_some_and(|item| item.start <= offset)
}

/// The bodies of the file's Go commands (`kb/roles.toml` `[[tool.go_command]]`): the function literal a body
/// field holds, or the function of the file it names, unless the body runs the service
/// (calls one of `go_command_service_calls`: a server's root command is the service, not a tool).
fn go_command_bodies(
    facts: &FileFacts<'_>,
    source: &str,
    conventions: &RoleConventions,
) -> Vec<Range<usize>> {
    let tool = &conventions.tool;
    let mut bodies: Vec<Range<usize>> = Vec::new();
    for literal in &facts.literals {
        let Some(command) = literal
            .type_path
            .as_deref()
            .and_then(|path| tool.go_command.iter().find(|c| c.matches(path)))
        else {
            continue;
        };
        for field in &literal.fields {
            if !command.body_fields.contains(&field.name) {
                continue;
            }
            let Some(value) = field.value_expression() else {
                continue;
            };
            match value.kind() {
                "func_literal" => bodies.push(value.byte_range()),
                // A function of the file named there (`RunE: runStatus`): its declaration is the body. The
                // incremental slices hold the chunk that names it (`Graph::role_referrers` in dsr-engine), so
                // the role is the same in a keystroke's analysis as in the file's.
                "identifier" => {
                    let name = node::text(value, source);
                    bodies.extend(
                        facts
                            .functions
                            .iter()
                            .filter(|f| f.node.kind() == "function_declaration" && f.name == name)
                            .map(|f| f.node.byte_range()),
                    );
                }
                _ => {}
            }
        }
    }
    let serves = |body: &Range<usize>| {
        facts
            .calls_within(TextRange::new(body.start, body.end))
            .any(|call| {
                call.callee_text
                    .rsplit('.')
                    .next()
                    .is_some_and(|last| tool.go_command_service_calls.iter().any(|s| s == last))
            })
    };
    bodies.retain(|body| !serves(body));
    outermost(bodies)
}

/// The arms of a Rust `match` or `if let` that match a variant of one of the file's subcommand enums (`kb/roles.toml`
/// `rust_subcommand_derives`: clap's `Subcommand`), unless the arm runs the service (calls one of
/// `rust_command_service_calls`). The enum's declaration is in every incremental slice of the function that
/// names it (a declaration mentioned), so the role is the same in a keystroke's analysis as in the file's.
fn rust_subcommand_arms(
    facts: &FileFacts<'_>,
    source: &str,
    conventions: &RoleConventions,
) -> Vec<Range<usize>> {
    let tool = &conventions.tool;
    let enums: Vec<&str> = facts
        .nodes_of_kind(&["enum_item"])
        .filter(|item| derives_any(facts, *item, source, &tool.rust_subcommand_derives))
        .filter_map(|item| item.child_by_field_name("name"))
        .map(|name| node::text(name, source))
        .collect();
    if enums.is_empty() {
        return Vec::new();
    }
    let names_variant = |pattern: Node<'_>| {
        std::iter::once(pattern)
            .chain(node::descendants(pattern))
            .filter(|n| matches!(n.kind(), "scoped_identifier" | "scoped_type_identifier"))
            .filter_map(|n| n.child_by_field_name("path"))
            .any(|path| {
                let path = node::text(path, source);
                let last = path.rsplit("::").next().unwrap_or(path);
                enums.contains(&last)
            })
    };
    let mut arms: Vec<Range<usize>> = Vec::new();
    for arm in facts.nodes_of_kind(&["match_arm"]) {
        if arm
            .child_by_field_name("pattern")
            .is_some_and(names_variant)
        {
            if let Some(value) = arm.child_by_field_name("value") {
                arms.push(value.byte_range());
            }
        }
    }
    for condition in facts.nodes_of_kind(&["let_condition"]) {
        let consequence = facts
            .parent(condition)
            .filter(|p| p.kind() == "if_expression")
            .and_then(|p| p.child_by_field_name("consequence"));
        if let (Some(consequence), true) = (
            consequence,
            condition
                .child_by_field_name("pattern")
                .is_some_and(names_variant),
        ) {
            arms.push(consequence.byte_range());
        }
    }
    let serves = |arm: &Range<usize>| {
        facts
            .calls_within(TextRange::new(arm.start, arm.end))
            .any(|call| {
                let last = dsr_core::kb::last_segment(&call.callee_text);
                tool.rust_command_service_calls.iter().any(|s| s == last)
            })
    };
    arms.retain(|arm| !serves(arm));
    outermost(arms)
}

/// Whether one of the attributes right before `item` derives one of `derives` (`#[derive(Debug, Subcommand)]`,
/// `#[derive(clap::Subcommand)]`).
fn derives_any(facts: &FileFacts<'_>, item: Node<'_>, source: &str, derives: &[String]) -> bool {
    let mut sibling = facts.prev_named_sibling(item);
    while let Some(attribute_item) = sibling.filter(|s| s.kind() == "attribute_item") {
        let derived = attribute_item
            .named_child(0)
            .filter(|attribute| {
                attribute
                    .named_child(0)
                    .is_some_and(|name| node::text(name, source) == "derive")
            })
            .and_then(|attribute| attribute.child_by_field_name("arguments"))
            .is_some_and(|arguments| {
                node::descendants(arguments)
                    .filter(|n| n.kind() == "identifier")
                    .any(|n| derives.iter().any(|d| d == node::text(n, source)))
            });
        if derived {
            return true;
        }
        sibling = facts.prev_named_sibling(attribute_item);
    }
    false
}

/// The ranges not inside another, in document order.
fn outermost(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|range| (range.start, std::cmp::Reverse(range.end)));
    let mut kept: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        if kept.last().is_none_or(|last| range.start >= last.end) {
            kept.push(range);
        }
    }
    kept
}

/// The role a path gives by the conventions: test, example, build script, tool or frontend folders and names.
pub fn path_role(path: &Path, conventions: &RoleConventions) -> Option<CodeRole> {
    let parts: Vec<&str> = path
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect();
    let (name, folders) = parts.split_last()?;
    let stem = name.split_once('.').map_or(*name, |(stem, _)| stem);
    let folder_has = |words: &[String]| {
        folders.iter().any(|folder| {
            words.iter().any(|w| w == folder)
                || words_of(folder).any(|part| words.iter().any(|w| w == part))
        })
    };
    let stem_has = |words: &[String]| words_of(stem).any(|part| words.iter().any(|w| w == part));
    let test = &conventions.test;
    if test
        .file_name_parts
        .iter()
        .any(|p| name.contains(p.as_str()))
        || stem_has(&test.file_words)
        || folder_has(&test.folder_words)
    {
        return Some(CodeRole::Test);
    }
    if folder_has(&conventions.example.folder_words) {
        return Some(CodeRole::Example);
    }
    let build = &conventions.build;
    let full_stem = name.rsplit_once('.').map_or(*name, |(stem, _)| stem);
    if build.file_names.iter().any(|n| n == name)
        || build
            .file_stem_suffixes
            .iter()
            .any(|s| full_stem.ends_with(s.as_str()))
    {
        return Some(CodeRole::Build);
    }
    if folder_has(&conventions.tool.folder_words) || stem_has(&conventions.tool.file_words) {
        return Some(CodeRole::Tool);
    }
    if folder_has(&conventions.frontend.folder_words) {
        return Some(CodeRole::Frontend);
    }
    None
}

/// The parts of a folder or file name split at `-`, `_` and `.`.
fn words_of(name: &str) -> impl Iterator<Item = &str> {
    name.split(['-', '_', '.']).filter(|w| !w.is_empty())
}

/// The role a file's content gives: a Go package named as a test helper, an import of a test framework or of a
/// user-interface library, a `"use client"` directive.
fn content_role(
    facts: &FileFacts<'_>,
    source: &str,
    conventions: &RoleConventions,
) -> Option<CodeRole> {
    let test = &conventions.test;
    let imports_any = |modules: &[String]| modules.iter().any(|m| facts.imports_module(m));
    match facts.language {
        Language::Go => {
            let package = facts
                .nodes_of_kind(&["package_clause"])
                .next()
                .and_then(|clause| clause.named_child(0))
                .map(|name| node::text(name, source))
                .unwrap_or_default();
            let test_package = package.ends_with("_test")
                || !test.go_package_words.iter().any(|word| word == package)
                    && test
                        .go_package_suffixes
                        .iter()
                        .any(|suffix| package.ends_with(suffix.as_str()));
            (test_package || imports_any(&test.go_imports)).then_some(CodeRole::Test)
        }
        language if language.is_typescript() => {
            if imports_any(&test.typescript_imports) {
                return Some(CodeRole::Test);
            }
            let frontend = &conventions.frontend;
            // The first statement: a license or header comment may come before a directive.
            let directive = facts
                .nodes()
                .first()
                .and_then(|root| {
                    let mut cursor = root.walk();
                    let first = root
                        .named_children(&mut cursor)
                        .find(|child| child.kind() != "comment");
                    first
                })
                .filter(|first| first.kind() == "expression_statement")
                .map(|first| node::text(first, source).trim_end_matches(';').trim())
                .is_some_and(|text| {
                    frontend
                        .typescript_directives
                        .iter()
                        .any(|d| text.len() == d.len() + 2 && text[1..text.len() - 1] == **d)
                });
            // In code: not in a comment or a string, and not the tail of a longer name (`slidingWindow.`).
            let in_code = |at: usize| {
                let inside = |r: &TextRange| r.start <= at && at < r.end;
                !facts.comments.iter().any(inside)
                    && !facts.strings.iter().any(|s| inside(&s.range))
                    && !source[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.')
            };
            let marked = || {
                frontend.typescript_markers.iter().any(|marker| {
                    source
                        .match_indices(marker.as_str())
                        .any(|(at, _)| in_code(at))
                })
            };
            (directive || imports_any(&frontend.typescript_imports) || marked())
                .then_some(CodeRole::Frontend)
        }
        _ => None,
    }
}

/// The Rust items (functions, modules, impls) that only exist in test builds, outermost only.
fn rust_test_items(
    facts: &FileFacts<'_>,
    source: &str,
    conventions: &RoleConventions,
) -> Vec<Range<usize>> {
    outermost(
        facts
            .nodes_of_kind(&["function_item", "mod_item", "impl_item"])
            .filter(|item| is_test_item(facts, *item, source, conventions))
            .map(|item| item.byte_range())
            .collect(),
    )
}

/// Whether one of the attributes right before `item` makes it test code.
fn is_test_item(
    facts: &FileFacts<'_>,
    item: Node<'_>,
    source: &str,
    conventions: &RoleConventions,
) -> bool {
    let mut sibling = facts.prev_named_sibling(item);
    while let Some(attribute_item) = sibling.filter(|s| s.kind() == "attribute_item") {
        if attribute_item
            .named_child(0)
            .is_some_and(|attribute| attribute_requires_test(attribute, source, conventions))
        {
            return true;
        }
        sibling = facts.prev_named_sibling(attribute_item);
    }
    false
}

/// `#[test]`, `#[<path>::test]` (tokio, rstest, …), or `#[cfg(P)]` where `P` holds only in test builds.
fn attribute_requires_test(
    attribute: Node<'_>,
    source: &str,
    conventions: &RoleConventions,
) -> bool {
    let Some(name) = attribute.named_child(0) else {
        return false;
    };
    let name_text = node::text(name, source);
    if name_text == "test" || name_text.ends_with("::test") {
        return true;
    }
    if name_text != "cfg" {
        return false;
    }
    attribute
        .child_by_field_name("arguments")
        .is_some_and(|arguments| {
            predicates(arguments)
                .first()
                .is_some_and(|p| requires_test(p, source, conventions))
        })
}

/// The predicates of a `token_tree`, split at commas, each as its tokens.
fn predicates<'t>(token_tree: Node<'t>) -> Vec<Vec<Node<'t>>> {
    let mut out = vec![Vec::new()];
    let mut cursor = token_tree.walk();
    for token in token_tree.children(&mut cursor) {
        match token.kind() {
            "(" | ")" => {}
            "," => out.push(Vec::new()),
            _ => {
                if let Some(last) = out.last_mut() {
                    last.push(token);
                }
            }
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Whether a cfg predicate holds only when `test` does: `test`, `all(…)` with one such part, `any(…)` whose parts
/// all are, or a test-only feature (`feature = "test-utils"`). `not(…)` never is.
fn requires_test(predicate: &[Node<'_>], source: &str, conventions: &RoleConventions) -> bool {
    let text = |n: &Node<'_>| node::text(*n, source);
    match predicate {
        [single] => text(single) == "test",
        [combinator, arguments] if arguments.kind() == "token_tree" => {
            let parts = predicates(*arguments);
            match text(combinator) {
                "all" => parts.iter().any(|p| requires_test(p, source, conventions)),
                "any" => {
                    !parts.is_empty() && parts.iter().all(|p| requires_test(p, source, conventions))
                }
                _ => false,
            }
        }
        [key, equals, value] if text(key) == "feature" && text(equals) == "=" => {
            let feature = text(value).trim_matches('"');
            let words = &conventions.test.rust_test_feature_words;
            words.iter().any(|w| w == feature)
                || words_of(feature).any(|part| words.iter().any(|w| w == part))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use dsr_syntax::Document;

    use super::*;

    fn roles(path: &str, language: Language, source: &str) -> CodeRoles {
        let document = Document::new(language, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(language, document.tree(), source);
        CodeRoles::compute(Path::new(path), &facts, source)
    }

    fn file_role(path: &str) -> Option<CodeRole> {
        path_role(Path::new(path), RoleConventions::builtin())
    }

    #[test]
    fn paths_name_their_roles() {
        let cases = [
            ("server/server.go", None),
            ("server/server_test.go", Some(CodeRole::Test)),
            ("integration/ping.go", Some(CodeRole::Test)),
            ("pkg/medusa-test-utils/db.ts", Some(CodeRole::Test)),
            ("src/api.spec.ts", Some(CodeRole::Test)),
            ("src/__tests__/api.ts", Some(CodeRole::Test)),
            ("internal/testutil/server.go", Some(CodeRole::Test)),
            ("tests/it.rs", Some(CodeRole::Test)),
            ("benches/scan.rs", Some(CodeRole::Test)),
            ("src/mock_server.go", Some(CodeRole::Test)),
            ("src/attest.go", None),
            ("src/latest.go", None),
            ("examples/hotrod/server.go", Some(CodeRole::Example)),
            ("demo_api/main.go", Some(CodeRole::Example)),
            ("xtask/src/main.rs", Some(CodeRole::Tool)),
            ("cmd/dev/github/setup.go", Some(CodeRole::Tool)),
            ("packages/prisma/seed/documents.ts", Some(CodeRole::Tool)),
            ("packages/app-cli/src/auth.ts", Some(CodeRole::Tool)),
            ("build.rs", Some(CodeRole::Build)),
            ("vite.config.ts", Some(CodeRole::Build)),
            (
                "packages/desktop/src-tauri/src/server.rs",
                Some(CodeRole::Frontend),
            ),
            ("cmd/server/main.go", None),
        ];
        for (path, role) in cases {
            assert_eq!(file_role(path), role, "{path}");
        }
    }

    #[test]
    fn go_test_helpers_are_found_by_package_and_imports() {
        let helper = "package fakedbtest\n\nfunc Serve() {}\n";
        assert_eq!(
            roles("store/server.go", Language::Go, helper).file(),
            CodeRole::Test
        );
        let imports_testing =
            "package store\n\nimport \"testing\"\n\nfunc Helper(t *testing.T) {}\n";
        assert_eq!(
            roles("store/helpers.go", Language::Go, imports_testing).file(),
            CodeRole::Test
        );
        let production =
            "package latest\n\nimport \"net/http\"\n\nfunc Get() { http.Get(\"x\") }\n";
        assert_eq!(
            roles("latest/get.go", Language::Go, production).file(),
            CodeRole::Production
        );
    }

    #[test]
    fn typescript_test_frameworks_and_ui_libraries_set_the_role() {
        let vitest = "import { describe, it } from 'vitest';\ndescribe('x', () => {});\n";
        assert_eq!(
            roles("src/check.ts", Language::TypeScript, vitest).file(),
            CodeRole::Test
        );
        let react = "import { useState } from 'react';\nexport function App() { return null; }\n";
        assert_eq!(
            roles("src/app.tsx", Language::Tsx, react).file(),
            CodeRole::Frontend
        );
        let client = "'use client';\nexport async function load() { return fetch('/api'); }\n";
        assert_eq!(
            roles("app/load.ts", Language::TypeScript, client).file(),
            CodeRole::Frontend
        );
        let vite = "import axios from 'axios';\nexport const api = axios.create({ baseURL: import.meta.env.VITE_API_URL });\n";
        assert_eq!(
            roles("src/helpers/api.ts", Language::TypeScript, vite).file(),
            CodeRole::Frontend
        );
        let window = "export function last() { return window.LOADED; }\n";
        assert_eq!(
            roles("resources/data.js", Language::TypeScript, window).file(),
            CodeRole::Frontend
        );
        let mentions = "// a sliding window. per key\nconst w = 'window.x';\nexport const slidingWindow = { size: 1 };\nslidingWindow.size = 2;\n";
        assert_eq!(
            roles("src/limiter.ts", Language::TypeScript, mentions).file(),
            CodeRole::Production
        );
        let server = "import express from 'express';\nconst app = express();\n";
        assert_eq!(
            roles("src/server.ts", Language::TypeScript, server).file(),
            CodeRole::Production
        );
    }

    #[test]
    fn go_command_bodies_are_tool_code_unless_they_run_the_service() {
        let source = r#"package cmd

import (
	"net/http"

	"github.com/spf13/cobra"
	cli "github.com/urfave/cli/v2"
	own "example.com/tools/pkg/cli"
)

func Status() *cobra.Command {
	return &cobra.Command{
		Use: "status",
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := http.Get("http://localhost:8080/status")
			return err
		},
	}
}

func Sync() *cli.Command {
	return &cli.Command{Name: "sync", Action: func(c *cli.Context) error {
		_, err := http.Get("http://localhost:8080/sync")
		return err
	}}
}

func Serve() *cobra.Command {
	return &cobra.Command{
		Use: "serve",
		RunE: func(cmd *cobra.Command, args []string) error {
			_, _ = http.Get("http://config.invalid/")
			return http.ListenAndServe(":8080", nil)
		},
	}
}

var Probe = &own.Command{Name: "probe", Action: func() error {
	_, err := http.Get("http://localhost:8080/probe")
	return err
}}

func helper() { _, _ = http.Get("http://localhost:8080/other") }

func Validate() *cobra.Command {
	return &cobra.Command{Use: "validate", RunE: runValidate}
}

func runValidate(cmd *cobra.Command, args []string) error {
	_, err := http.Get("http://localhost:8080/validate")
	return err
}

var Root = &cobra.Command{Use: "server", Run: runServer}

func runServer(cmd *cobra.Command, args []string) {
	_, _ = http.Get("http://config.invalid/server")
	_ = http.ListenAndServe(":8080", nil)
}
"#;
        let roles = roles("cmd/commands.go", Language::Go, source);
        let role_of = |needle: &str| roles.at(source.find(needle).expect("call in source"));
        assert_eq!(roles.file(), CodeRole::Production);
        assert_eq!(role_of("localhost:8080/status"), CodeRole::Tool);
        assert_eq!(role_of("localhost:8080/sync"), CodeRole::Tool);
        assert_eq!(role_of("localhost:8080/probe"), CodeRole::Tool);
        assert_eq!(role_of("config.invalid"), CodeRole::Production);
        assert_eq!(role_of("localhost:8080/other"), CodeRole::Production);
        assert_eq!(role_of("localhost:8080/validate"), CodeRole::Tool);
        assert_eq!(role_of("config.invalid/server"), CodeRole::Production);
    }

    #[test]
    fn rust_subcommand_arms_are_tool_code_unless_they_run_the_service() {
        let source = r#"use clap::{Parser, Subcommand};

#[derive(Subcommand)]
enum Commands {
    Probe { url: String },
    Serve,
    Export,
}

#[derive(Debug)]
enum Mode { Fast }

async fn main() {
    let args = Args::parse();
    if let Some(Commands::Probe { url }) = args.command {
        reqwest::get("probe");
    }
    match args.command {
        Some(Commands::Export) => { reqwest::get("export"); }
        Some(Commands::Serve) => { reqwest::get("config"); serve().await; }
        None => { reqwest::get("default"); }
        _ => {}
    }
    match mode { Mode::Fast => { reqwest::get("fast"); } }
}
"#;
        let roles = roles("src/main.rs", Language::Rust, source);
        let role_of = |needle: &str| roles.at(source.find(needle).expect("call in source"));
        assert_eq!(role_of("\"probe\""), CodeRole::Tool);
        assert_eq!(role_of("\"export\""), CodeRole::Tool);
        assert_eq!(role_of("\"config\""), CodeRole::Production);
        assert_eq!(role_of("\"default\""), CodeRole::Production);
        assert_eq!(role_of("\"fast\""), CodeRole::Production);
    }

    #[test]
    fn rust_test_items_follow_cfg_predicates() {
        let source = "fn live() { a(); }\n\
            #[test]\nfn unit() { b(); }\n\
            #[tokio::test]\n#[ignore]\nasync fn io() { c(); }\n\
            #[cfg(test)]\nmod tests { fn helper() { d(); } }\n\
            #[cfg(all(test, feature = \"x\"))]\nmod more { fn g() { e(); } }\n\
            #[cfg(not(test))]\nfn real() { f(); }\n\
            #[cfg(any(test, feature = \"test-utils\"))]\npub mod harness { fn h() { g(); } }\n\
            #[cfg(any(test, feature = \"tls\"))]\nfn either() { h(); }\n\
            #[derive(Debug)]\nstruct S;\nfn next() { i(); }\n";
        let roles = roles("src/lib.rs", Language::Rust, source);
        let role_of = |needle: &str| roles.at(source.find(needle).expect("call in source"));
        for (call, role) in [
            ("a();", CodeRole::Production),
            ("b();", CodeRole::Test),
            ("c();", CodeRole::Test),
            ("d();", CodeRole::Test),
            ("e();", CodeRole::Test),
            ("f();", CodeRole::Production),
            ("g();", CodeRole::Test),
            ("h();", CodeRole::Production),
            ("i();", CodeRole::Production),
        ] {
            assert_eq!(role_of(call), role, "{call}");
        }
    }
}
