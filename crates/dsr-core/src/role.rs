//! Code roles: what a piece of code is for. A finding in a test or an example is not a defect of the service,
//! and a 10 s client timeout is advice for a service, not for a one-shot admin tool or a browser page. The
//! conventions that tell the roles apart are data (`kb/roles.toml`); dsr-semantic matches them against a file.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// What a file, or an item inside it, is for.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum CodeRole {
    /// The service itself: everything not recognised as one of the others.
    #[default]
    Production,
    /// Tests, test helpers and test doubles.
    Test,
    /// Examples, demos, samples and tutorials.
    Example,
    /// Developer tools, one-shot command-line programs and data scripts.
    Tool,
    /// Browser and desktop user interfaces.
    Frontend,
    /// Build scripts and bundler configuration.
    Build,
    /// Database migrations (SQL files).
    Migration,
}

impl CodeRole {
    pub const ALL: [CodeRole; 7] = [
        CodeRole::Production,
        CodeRole::Test,
        CodeRole::Example,
        CodeRole::Tool,
        CodeRole::Frontend,
        CodeRole::Build,
        CodeRole::Migration,
    ];

    /// The roles whose findings are reported when the configuration says nothing: not tests, not examples.
    pub const DEFAULT_SCOPE: [CodeRole; 5] = [
        CodeRole::Production,
        CodeRole::Tool,
        CodeRole::Frontend,
        CodeRole::Build,
        CodeRole::Migration,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CodeRole::Production => "production",
            CodeRole::Test => "test",
            CodeRole::Example => "example",
            CodeRole::Tool => "tool",
            CodeRole::Frontend => "frontend",
            CodeRole::Build => "build",
            CodeRole::Migration => "migration",
        }
    }

    pub fn parse(text: &str) -> Option<CodeRole> {
        CodeRole::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

impl std::fmt::Display for CodeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The conventions of `kb/roles.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConventions {
    pub test: TestConventions,
    pub example: FolderConventions,
    pub tool: ToolConventions,
    pub frontend: FrontendConventions,
    pub build: BuildConventions,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestConventions {
    pub folder_words: Vec<String>,
    pub file_words: Vec<String>,
    pub file_name_parts: Vec<String>,
    pub go_package_suffixes: Vec<String>,
    pub go_package_words: Vec<String>,
    pub go_imports: Vec<String>,
    pub typescript_imports: Vec<String>,
    pub rust_test_feature_words: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderConventions {
    pub folder_words: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolConventions {
    pub folder_words: Vec<String>,
    pub file_words: Vec<String>,
    /// Calls (by the callee's last name) that make a command's body the service itself, not a tool.
    #[serde(default)]
    pub go_command_service_calls: Vec<String>,
    /// Go command-line frameworks whose commands' bodies are tool code.
    #[serde(default)]
    pub go_command: Vec<GoCommand>,
    /// Rust: derives that make an enum a command-line subcommand (clap `Subcommand`); an arm that matches one
    /// of its variants runs that command.
    #[serde(default)]
    pub rust_subcommand_derives: Vec<String>,
    /// Calls (by the callee's last name) that make a Rust subcommand's arm the service itself.
    #[serde(default)]
    pub rust_command_service_calls: Vec<String>,
}

/// A Go command type (`cobra.Command`) and the fields that hold the function the command runs (`RunE`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoCommand {
    /// The command's type, resolved through the imports (`github.com/spf13/cobra.Command`).
    #[serde(default)]
    pub types: Vec<String>,
    /// Ends of resolved types (`/cli.Command`): a project's own command package of a conventional name.
    #[serde(default)]
    pub type_suffixes: Vec<String>,
    pub body_fields: Vec<String>,
}

impl GoCommand {
    /// Whether a composite literal of the resolved type `path` is one of these commands.
    pub fn matches(&self, path: &str) -> bool {
        self.types.iter().any(|t| t == path)
            || self
                .type_suffixes
                .iter()
                .any(|s| path.ends_with(s.as_str()))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontendConventions {
    pub folder_words: Vec<String>,
    pub typescript_imports: Vec<String>,
    pub typescript_directives: Vec<String>,
    /// Text that only code bundled for a browser uses (`import.meta.env.VITE_`, `window.`).
    #[serde(default)]
    pub typescript_markers: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildConventions {
    pub file_names: Vec<String>,
    pub file_stem_suffixes: Vec<String>,
}

impl RoleConventions {
    /// The bundled conventions. The data file is checked by a unit test, so parsing cannot fail here; if it
    /// did, every file would be production code (nothing hidden), and the error is logged.
    pub fn builtin() -> &'static RoleConventions {
        static CONVENTIONS: OnceLock<RoleConventions> = OnceLock::new();
        CONVENTIONS.get_or_init(|| {
            toml::from_str(include_str!("../kb/roles.toml")).unwrap_or_else(|err| {
                tracing::error!("bundled kb/roles.toml is invalid: {err}");
                RoleConventions::default()
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_conventions_parse() {
        let conventions: RoleConventions =
            toml::from_str(include_str!("../kb/roles.toml")).expect("kb/roles.toml parses");
        assert!(conventions
            .test
            .file_name_parts
            .iter()
            .any(|p| p == "_test.go"));
        assert!(!conventions.example.folder_words.is_empty());
        assert!(conventions
            .tool
            .go_command
            .iter()
            .any(|c| c.body_fields.iter().any(|f| f == "RunE")));
        assert!(conventions
            .tool
            .rust_subcommand_derives
            .iter()
            .any(|d| d == "Subcommand"));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in CodeRole::ALL {
            assert_eq!(CodeRole::parse(role.as_str()), Some(role));
        }
        assert!(!CodeRole::DEFAULT_SCOPE.contains(&CodeRole::Test));
        assert!(!CodeRole::DEFAULT_SCOPE.contains(&CodeRole::Example));
    }
}
