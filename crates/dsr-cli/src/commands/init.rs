//! `distsys-review init`: writes a commented `distsys-review.toml` for the repository at hand — the languages
//! and SQL dialect found, the `[review]` boundaries that could be inferred (components, datastores, queues) with
//! TODOs for what only the team knows (invariants, SLOs), and nothing that was not found. It refuses to replace
//! an existing file unless `--force` says so. What it looks at: [`crate::survey`].

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use dsr_core::config::CONFIG_FILE_NAME;

use super::Run;
use crate::survey::{survey, DatabaseName, Survey};
use crate::ExitStatus;

/// Where the configuration's schema is published (docs/configuration.md).
const SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/distsys-review/distsys-review/main/schemas/distsys-review.schema.json";

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The repository to describe; the file is written there [default: the current directory].
    path: Option<PathBuf>,

    /// Replace an existing distsys-review.toml.
    #[arg(long)]
    force: bool,

    /// Print the configuration instead of writing it.
    #[arg(long)]
    stdout: bool,
}

impl Run for InitArgs {
    fn run(self) -> anyhow::Result<ExitStatus> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let root =
            crate::scan::normalize(&cwd.join(self.path.as_deref().unwrap_or(Path::new("."))));
        if !root.is_dir() {
            bail!("{}: not a directory", root.display());
        }
        let target = root.join(CONFIG_FILE_NAME);
        if !self.stdout && !self.force && target.exists() {
            bail!(
                "{} already exists; `distsys-review init --force` replaces it (or --stdout prints the new one)",
                target.display()
            );
        }
        let survey = survey(&root);
        let text = render(&survey);
        if self.stdout {
            print!("{text}");
            return Ok(ExitStatus::Success);
        }
        // `create_new` unless --force: a file that appeared since the check above is not replaced either.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(!self.force)
            .create(self.force)
            .truncate(self.force)
            .open(&target)
            .with_context(|| format!("cannot write {}", target.display()))?;
        file.write_all(text.as_bytes())
            .with_context(|| format!("cannot write {}", target.display()))?;
        eprintln!("wrote {}: {}", target.display(), summary(&survey));
        Ok(ExitStatus::Success)
    }
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// At most three paths, then how many more.
fn some_files(paths: &[&str]) -> String {
    let mut text = paths.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    if paths.len() > 3 {
        let _ = write!(text, " and {} more", paths.len() - 3);
    }
    text
}

/// What was found, in one line.
fn summary(survey: &Survey) -> String {
    let files: usize = survey.languages.values().sum();
    format!(
        "{}, {}, {}",
        plural(files, "source file", "source files"),
        plural(survey.components.len(), "component", "components"),
        plural(
            survey.stores.len(),
            "datastore or queue",
            "datastores and queues"
        )
    )
}

/// The configuration, commented. Parses with `Config::parse` (tested).
pub fn render(survey: &Survey) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "#:schema {SCHEMA_URL}");
    out.push_str(
        "# distsys-review configuration, written by `distsys-review init` from what it found in this repository.\n\
         # Every key: https://github.com/distsys-review/distsys-review/blob/main/docs/configuration.md\n",
    );
    if survey.languages.is_empty() {
        out.push_str("#\n# No Go, Rust, TypeScript/JavaScript or SQL files found.\n");
    } else {
        let languages: Vec<String> = survey
            .languages
            .iter()
            .map(|(name, count)| format!("{name} ({})", plural(*count, "file", "files")))
            .collect();
        let _ = writeln!(out, "#\n# Languages found: {}.", languages.join(", "));
    }
    if survey.skipped > 0 {
        let _ = writeln!(
            out,
            "# {} not analysed (`distsys-review check` says why).",
            plural(survey.skipped, "file was", "files were")
        );
    }
    out.push_str(
        "\n# Rules to run (default: every stable rule) and to skip: codes (RES001), families (RES) or ALL.\n\
         # select = [\"ALL\"]\n\
         # ignore = []\n",
    );
    render_sql(&mut out, survey);
    render_review(&mut out, survey);
    out
}

fn render_sql(out: &mut String, survey: &Survey) {
    if survey.dialects.is_empty() {
        if survey.sql_files > 0 {
            let _ = writeln!(
                out,
                "\n# {} found, none naming its database (path, syntax or driver): OPS001 assumes PostgreSQL.\n\
                 # If they are written for another one, say so:\n\
                 # [sql]\n\
                 # dialect = \"mysql\"  # postgres | mysql | sqlite | clickhouse | other",
                plural(survey.sql_files, "SQL file", "SQL files")
            );
        }
        return;
    }
    let databases: std::collections::BTreeSet<DatabaseName> =
        survey.dialects.iter().map(|c| c.database).collect();
    out.push_str("\n# The database SQL is written for (OPS001), from what the files show:\n");
    let mut grouped: std::collections::BTreeMap<(DatabaseName, &str), Vec<&str>> =
        std::collections::BTreeMap::new();
    for clue in &survey.dialects {
        grouped
            .entry((clue.database, clue.evidence.as_str()))
            .or_default()
            .push(clue.path.as_str());
    }
    for ((database, evidence), paths) in grouped {
        let _ = writeln!(
            out,
            "#   {}: {evidence} in {}",
            database.title(),
            some_files(&paths)
        );
    }
    if databases.len() == 1 {
        if let Some(database) = databases.first() {
            let _ = writeln!(out, "[sql]\ndialect = {}", quoted(database.key()));
        }
        return;
    }
    // Several databases: each folder whose files agree gets its own pattern; the rest keep their own evidence.
    let mut folders: std::collections::BTreeMap<String, std::collections::BTreeSet<DatabaseName>> =
        std::collections::BTreeMap::new();
    for clue in &survey.dialects {
        let folder = clue
            .path
            .rsplit_once('/')
            .map_or(String::new(), |(folder, _)| folder.to_string());
        folders.entry(folder).or_default().insert(clue.database);
    }
    out.push_str(
        "# Several databases: each folder whose files agree gets its own pattern (the first that matches wins).\n\
         [sql.paths]\n",
    );
    for (folder, found) in folders {
        if found.len() != 1 {
            let _ = writeln!(
                out,
                "# {folder}/: files disagree; each keeps its own evidence"
            );
            continue;
        }
        if let Some(database) = found.first() {
            let pattern = if folder.is_empty() {
                "*.sql".to_string()
            } else {
                format!("{folder}/**")
            };
            let _ = writeln!(out, "{} = {}", quoted(&pattern), quoted(database.key()));
        }
    }
}

fn render_review(out: &mut String, survey: &Survey) {
    out.push_str(
        "\n# The review's boundaries, printed at the top of `check --format markdown`.\n[review]\n",
    );
    if survey.components.is_empty() {
        out.push_str("# No component found (a folder with its own go.mod, Cargo.toml with [package], or package.json).\n");
    } else {
        out.push_str("# Components: folders with their own go.mod, Cargo.toml ([package]) or package.json.\nscope = [\n");
        for component in &survey.components {
            let folder = if component.folder.is_empty() {
                "./"
            } else {
                &component.folder
            };
            let languages: Vec<&str> = component.languages.iter().copied().collect();
            let _ = writeln!(
                out,
                "  {},  # {}; {}",
                quoted(folder),
                component.manifests.join(", "),
                languages.join(", ")
            );
        }
        out.push_str("]\n");
    }
    if survey.stores.is_empty() {
        out.push_str(
            "# No datastore or queue calls found among the libraries distsys-review knows.\n",
        );
    } else {
        out.push_str(
            "# Datastores and queues the code calls, through the libraries distsys-review knows:\n",
        );
        for store in &survey.stores {
            let files: Vec<&str> = store.files.iter().map(String::as_str).collect();
            let _ = writeln!(
                out,
                "#   {} `{}`: {}",
                store.kind.label(),
                store.library,
                some_files(&files)
            );
        }
    }
    out.push_str("invariants = [\n");
    if survey.stores.is_empty() {
        out.push_str(
            "  # TODO: what must always hold, e.g. \"an order is charged at most once\"\n",
        );
    } else {
        for store in &survey.stores {
            let _ = writeln!(
                out,
                "  # TODO: what must always hold for what goes through {} `{}`?",
                store.kind.label(),
                store.library
            );
        }
    }
    out.push_str("]\nslos = [\n");
    if survey.components.is_empty() {
        out.push_str(
            "  # TODO: latency and availability objectives, e.g. \"POST /orders p99 < 800 ms\"\n",
        );
    } else {
        for component in &survey.components {
            let folder = if component.folder.is_empty() {
                "./"
            } else {
                &component.folder
            };
            let _ = writeln!(
                out,
                "  # TODO: the latency and availability objectives of {folder}, e.g. \"p99 < 800 ms\""
            );
        }
    }
    out.push_str("]\n");
}
