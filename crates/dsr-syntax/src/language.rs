use std::path::Path;

/// A language distsys-review reads. JavaScript (`.js`, `.jsx`, `.mjs`, `.cjs`) is read with the TSX grammar,
/// which accepts it; SQL has no tree-sitter grammar here and is parsed by the SQL rules themselves.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Language {
    Rust,
    Go,
    TypeScript,
    Tsx,
    Sql,
}

impl Language {
    pub const ALL: [Language; 5] = [
        Language::Rust,
        Language::Go,
        Language::TypeScript,
        Language::Tsx,
        Language::Sql,
    ];

    /// The language of a file, by extension. `None` for files we do not read.
    pub fn from_path(path: &Path) -> Option<Language> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        Self::from_extension(&extension)
    }

    pub fn from_extension(extension: &str) -> Option<Language> {
        Some(match extension {
            "rs" => Language::Rust,
            "go" => Language::Go,
            "ts" | "mts" | "cts" => Language::TypeScript,
            "tsx" | "js" | "jsx" | "mjs" | "cjs" => Language::Tsx,
            "sql" => Language::Sql,
            _ => return None,
        })
    }

    /// The language of an LSP `languageId`.
    pub fn from_language_id(id: &str) -> Option<Language> {
        Some(match id {
            "rust" => Language::Rust,
            "go" => Language::Go,
            "typescript" => Language::TypeScript,
            "typescriptreact" | "javascript" | "javascriptreact" => Language::Tsx,
            "sql" | "pgsql" | "postgres" | "mysql" => Language::Sql,
            _ => return None,
        })
    }

    /// The tree-sitter grammar, or `None` for SQL.
    pub fn grammar(self) -> Option<tree_sitter::Language> {
        Some(match self {
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Go => tree_sitter_go::LANGUAGE.into(),
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::Sql => return None,
        })
    }

    /// The name used in the knowledge base and in configuration: TypeScript and TSX are one language there.
    pub const fn family_name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Go => "go",
            Language::TypeScript | Language::Tsx => "typescript",
            Language::Sql => "sql",
        }
    }

    pub const fn display_name(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::Go => "Go",
            Language::TypeScript => "TypeScript",
            Language::Tsx => "TSX/JavaScript",
            Language::Sql => "SQL",
        }
    }

    pub const fn is_typescript(self) -> bool {
        matches!(self, Language::TypeScript | Language::Tsx)
    }

    /// The comment leader for suppression comments and fixture markers.
    pub const fn line_comment(self) -> &'static str {
        match self {
            Language::Sql => "--",
            _ => "//",
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.display_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ABI mismatches between tree-sitter and a grammar only show when the grammar is loaded.
    #[test]
    fn every_grammar_loads_into_a_parser() {
        for language in Language::ALL {
            let Some(grammar) = language.grammar() else {
                continue;
            };
            let mut parser = tree_sitter::Parser::new();
            parser
                .set_language(&grammar)
                .unwrap_or_else(|err| panic!("{language}: {err}"));
            assert!(parser.parse("", None).is_some());
        }
    }

    #[test]
    fn javascript_goes_through_tsx() {
        for ext in ["js", "jsx", "mjs", "cjs", "tsx"] {
            assert_eq!(Language::from_extension(ext), Some(Language::Tsx));
        }
        assert_eq!(
            Language::from_path(Path::new("a/b.TS")),
            Some(Language::TypeScript)
        );
        assert_eq!(Language::from_path(Path::new("Makefile")), None);
    }
}
